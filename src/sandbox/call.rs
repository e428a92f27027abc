//! What every REST method shares: the call it gets ([`Cx`]: the portal, the caller, where it came in) and
//! what it gives back ([`Success`] or a [`RestError`]). The front door (`rest`), the CRM methods, the app
//! methods and `batch` all speak these types, so they live here, apart from all of them.

use serde_json::{Map, Value, json};

use super::Info;
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
