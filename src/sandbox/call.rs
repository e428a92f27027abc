//! What every REST method shares: the call it gets ([`Cx`]: the portal, the caller, where it came in) and
//! what it gives back ([`Success`] or a [`RestError`]). The front door (`rest`), the CRM methods, the app
//! methods and `batch` all speak these types, so they live here, apart from all of them.

use serde_json::{Map, Value, json};

use super::Info;
use super::config::{FaultKind, Quirks, SystemErrors};
use super::limits::Operating;
use super::model::format_iso;
use super::params::PArr;
use super::state::State;

/// A method's answer before it is wrapped: `result`, and `total`/`next` for list methods.
#[derive(Debug)]
pub struct Success {
    pub result: Value,
    pub total: Option<i64>,
    pub next: Option<i64>,
}

impl Success {
    pub fn of(result: Value) -> Self {
        Success { result, total: None, next: None }
    }
}

/// An error envelope and its HTTP status; `php` marks the generic failure of an uncaught PHP error.
#[derive(Debug, Clone)]
pub struct RestError {
    pub status: u16,
    pub code: String,
    pub description: String,
    /// Additional keys of the error envelope (e.g. `argument`); boxed, as most errors have none.
    pub extra: Box<Map<String, Value>>,
    pub php: bool,
}

impl RestError {
    pub fn new(status: u16, code: &str, description: impl Into<String>) -> Self {
        RestError { status, code: code.into(), description: description.into(), extra: Box::default(), php: false }
    }

    /// A PHP `Error` the REST server does not catch (reference 1.1 pitfalls).
    pub fn php() -> Self {
        RestError { php: true, ..RestError::new(500, "INTERNAL_SERVER_ERROR", "Internal server error") }
    }

    /// The error an injected fault answers (reference 5.3): the status and description of the official
    /// page's table, or of the source where `quirks.system_errors` says so and they differ.
    pub fn fault(kind: FaultKind, quirks: &Quirks) -> Self {
        let documented = quirks.system_errors == SystemErrors::Documented;
        let pick = |doc: (u16, &'static str), src: (u16, &'static str)| if documented { doc } else { src };
        let scope = quirks.insufficient_scope_status;
        let scope_text = "The request requires higher privileges than provided by the access token";
        let (status, code, text) = match kind {
            FaultKind::QueryLimit => (503, "QUERY_LIMIT_EXCEEDED", "Too many requests"),
            FaultKind::OperationLimit => {
                (429, "OPERATION_TIME_LIMIT", "Method is blocked due to operation time limit.")
            }
            FaultKind::ServerError => (500, "INTERNAL_SERVER_ERROR", "Internal server error"),
            FaultKind::ExpiredToken => (401, "expired_token", "The access token provided has expired"),
            FaultKind::Drop => (0, "CONNECTION_DROPPED", "The connection was closed"),
            FaultKind::AuthorizationError => (401, "authorization_error", "Unable to authorize user"),
            FaultKind::UserAccessError => {
                let (s, t) = pick(
                    (403, "The user does not have access to the application"),
                    (401, "The user does not have access to the application."),
                );
                (s, "user_access_error", t)
            }
            FaultKind::ApplicationNotFound => (401, "APPLICATION_NOT_FOUND", "Application not found"),
            FaultKind::PortalDeleted => {
                let (s, t) = pick((500, "Portal was deleted"), (403, "Portal was deleted"));
                (s, "PORTAL_DELETED", t)
            }
            FaultKind::OverloadLimit => {
                let (s, t) =
                    pick((503, "REST API is blocked due to overload"), (401, "REST API is blocked due to overload."));
                (s, "OVERLOAD_LIMIT", t)
            }
            FaultKind::InsufficientScope => (scope, "insufficient_scope", scope_text),
            FaultKind::InvalidScope => (scope, "invalid_scope", scope_text),
            FaultKind::PaymentRequired => (401, "PAYMENT_REQUIRED", "Payment required"),
            FaultKind::WrongClient => (401, "wrong_client", "Wrong client"),
            FaultKind::MethodConfirmWaiting => (401, "METHOD_CONFIRM_WAITING", "Waiting for confirmation"),
            FaultKind::MethodConfirmDenied => (403, "METHOD_CONFIRM_DENIED", "Method call denied"),
            FaultKind::AccessDenied => {
                let (s, t) = pick(
                    (403, "REST API is available only on commercial plans"),
                    (401, "REST is available only on commercial plans."),
                );
                (s, "ACCESS_DENIED", t)
            }
            FaultKind::InvalidCredentials => {
                let (s, t) = pick((403, "Invalid request credentials"), (401, "Invalid request credentials"));
                (s, "INVALID_CREDENTIALS", t)
            }
        };
        RestError::new(status, code, text)
    }

    pub fn with(mut self, key: &str, value: Value) -> Self {
        self.extra.insert(key.into(), value);
        self
    }

    pub fn body(&self) -> Value {
        let mut m = Map::new();
        m.insert("error".into(), Value::String(self.code.clone()));
        m.insert("error_description".into(), Value::String(self.description.clone()));
        for (k, v) in self.extra.iter() {
            m.insert(k.clone(), v.clone());
        }
        Value::Object(m)
    }
}

pub type MethodResult = Result<Success, RestError>;

/// Who is calling: the token's user and scopes.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: u64,
    pub scope: Vec<String>,
    pub token: String,
}

/// Which server a call came to: the portal, or the OAuth server's own `/rest/`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Host {
    Portal,
    OAuth,
}

/// Runs one method as the front door does after authentication (method table, scope, budget), giving its
/// outcome and the method's budget. `batch` runs each of its commands through it.
pub type RunMethod = fn(&mut Cx<'_>, &str, PArr) -> (MethodResult, Operating);

/// What a method handler gets.
pub struct Cx<'a> {
    pub st: &'a mut State,
    pub info: &'a Info,
    pub caller: &'a Caller,
    pub host: Host,
    /// The `seq` of the call in the call log, which the commands of a `batch` point at.
    pub batch_seq: Option<u64>,
    /// The front door's method runner (see [`RunMethod`]).
    pub run: RunMethod,
}

/// Normalises `/rest/<method>[.json]`: lower-cased, extension removed.
pub fn method_name(raw: &str) -> String {
    let m = raw.trim_matches('/').to_ascii_lowercase();
    m.strip_suffix(".json").or_else(|| m.strip_suffix(".xml")).unwrap_or(&m).to_owned()
}

/// The `time` block of a success envelope (reference 5.2).
pub fn time_block(start: f64, finish: f64, processing: f64, operating: Option<Operating>) -> Value {
    let mut t = json!({
        "start": start,
        "finish": finish,
        "duration": finish - start,
        "processing": processing,
        "date_start": format_iso(start),
        "date_finish": format_iso(finish),
    });
    if let (Some(op), Value::Object(m)) = (operating, &mut t) {
        m.insert("operating_reset_at".into(), json!(op.reset_at));
        m.insert("operating".into(), json!(op.used));
    }
    t
}
