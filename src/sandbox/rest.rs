//! The REST front door (reference 5.1–5.3): the method name, the token and its checks, the limits and faults,
//! the method table, and the success and error envelopes. HTTP-free, so the same code serves the portal,
//! the OAuth server's `/rest/` and the commands inside a `batch`.

use std::time::Instant;

use serde_json::{Map, Value, json};

use super::call::{Caller, Cx, Host, MethodResult, RestError, method_name, time_block};
use super::config::{FaultKind, PhpErrorMode};
use super::limits::Operating;
use super::model::CallRecord;
use super::params::{PArr, PValue, parse_query};
use super::state::State;
use super::{Info, batch, crm, misc, placements, users};

/// A finished HTTP answer.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
    pub location: Option<String>,
    /// Close the connection without answering.
    pub drop: bool,
}

impl Reply {
    pub fn json(status: u16, v: &Value) -> Self {
        Reply {
            status,
            content_type: "application/json; charset=utf-8",
            body: serde_json::to_vec(v).unwrap_or_default(),
            location: None,
            drop: false,
        }
    }

    fn error(e: &RestError, mode: PhpErrorMode) -> Self {
        if e.php && mode == PhpErrorMode::Html500 {
            return Reply {
                status: 500,
                content_type: "text/html; charset=utf-8",
                body: Vec::new(),
                location: None,
                drop: false,
            };
        }
        Reply::json(e.status, &e.body())
    }
}

/// The pieces of an HTTP REST request, its body already read into parameters (reading a multipart body
/// is asynchronous, so the server does it).
pub struct RawRequest<'a> {
    /// The path after `/rest/`.
    pub method: &'a str,
    pub query: &'a str,
    /// The parameters of the body (form, multipart form or JSON).
    pub body: PArr,
    pub authorization: Option<&'a str>,
}

/// The scope a method needs; `None` for methods any app token may call.
fn method_scope(method: &str) -> Option<&'static [&'static str]> {
    if method.starts_with("crm.") {
        Some(&["crm"])
    } else if method == "user.current" || method == "user.get" {
        Some(&["user", "user_brief", "user_basic"])
    } else if method.starts_with("placement.") {
        Some(&["placement"])
    } else {
        None
    }
}

fn known_method(method: &str, host: Host) -> bool {
    match host {
        Host::OAuth => method == "app.info",
        Host::Portal => matches!(
            method,
            "crm.calllist.update"
                | "crm.calllist.add"
                | "crm.calllist.get"
                | "crm.calllist.items.get"
                | "crm.calllist.list"
                | "crm.calllist.statuslist"
                | "crm.item.list"
                | "crm.webform.list"
                | "crm.duplicate.findbycomm"
                | "crm.status.list"
                | "batch"
                | "user.current"
                | "user.get"
                | "profile"
                | "app.info"
                | "event.bind"
                | "placement.bind"
                | "placement.unbind"
                | "placement.get"
        ),
    }
}

/// Removes the auth parameters and returns the token: `Authorization: Bearer` first, then `auth` (or
/// `auth[access_token]`), then `access_token` when it is not an array.
pub fn take_token(params: &mut PArr, authorization: Option<&str>) -> Option<String> {
    let header = authorization.and_then(|h| {
        let (scheme, rest) = h.trim().split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim().to_owned()).filter(|t| !t.is_empty())
    });
    let auth = params.remove("auth");
    let access = params.remove("access_token");
    if header.is_some() {
        return header;
    }
    let from_auth = match &auth {
        Some(PValue::Arr(a)) => a.get("access_token").and_then(PValue::php_string),
        Some(v) => v.php_string(),
        None => None,
    };
    if let Some(t) = from_auth.filter(|t| !t.is_empty()) {
        return Some(t);
    }
    match access {
        Some(PValue::Arr(_)) | None => None,
        Some(v) => v.php_string().filter(|t| !t.is_empty()),
    }
}

/// Checks a token: the caller, or the 401 the portal gives.
pub fn authenticate(st: &State, info: &Info, token: Option<&str>) -> Result<Caller, RestError> {
    let Some(token) = token else {
        return Err(RestError::new(401, "NO_AUTH_FOUND", "Wrong authorization data"));
    };
    let Some(t) = st.access.get(token) else {
        return Err(RestError::new(401, "invalid_token", info.config.quirks.invalid_token_description.clone()));
    };
    if t.expires_at <= st.now() {
        return Err(RestError::new(401, "expired_token", "The access token provided has expired"));
    }
    Ok(Caller { user_id: t.user_id, scope: t.scope.clone(), token: token.to_owned() })
}

fn scope_error(info: &Info) -> RestError {
    RestError::new(
        info.config.quirks.insufficient_scope_status,
        "insufficient_scope",
        "The request requires higher privileges than provided by the access token",
    )
}

/// A REST request read from its raw pieces: method, parameters and token. Reading needs nothing from the
/// portal's state, so it is done before the lock is taken (a large body takes a while to parse).
pub struct Parsed<'a> {
    raw_method: &'a str,
    query: &'a str,
    method: String,
    params: PArr,
    token: Option<String>,
    /// The parameters as the call log keeps them.
    logged_params: Value,
}

impl Parsed<'_> {
    /// The access token the request carries.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }
}

pub fn parse(raw: RawRequest<'_>) -> Parsed<'_> {
    let mut params = parse_query(raw.query);
    params.merge_over(raw.body);
    let token = take_token(&mut params, raw.authorization);
    let logged_params = PValue::Arr(params.clone()).to_json();
    Parsed { raw_method: raw.method, query: raw.query, method: method_name(raw.method), params, token, logged_params }
}

/// The answer to a REST request. A success envelope is kept as JSON until the lock is released, since
/// writing a big one out takes a while.
#[derive(Debug)]
pub enum Answer {
    Reply(Reply),
    Json(u16, Value),
}

impl Answer {
    pub fn into_reply(self) -> Reply {
        match self {
            Answer::Reply(r) => r,
            Answer::Json(status, v) => Reply::json(status, &v),
        }
    }
}

/// The answer to a REST request with what its headers tell (reference 5.1): whether it was made with a token
/// of the app, and how long the method ran.
#[derive(Debug)]
pub struct Answered {
    pub answer: Answer,
    /// The call came with a live access token of the app (the portal then names the app in
    /// `X-Bitrix-Rest-Application`).
    pub by_app: bool,
    /// Seconds the method itself ran (none for a call refused before it ran).
    pub method_secs: f64,
}

/// One whole REST request, from its parsed pieces to the answer. The caller holds the lock throughout: the
/// portal is one consistent state, and no handler waits on anything. `wall` is when parsing began.
pub fn handle(st: &mut State, info: &Info, host: Host, req: Parsed<'_>, wall: Instant) -> Answered {
    let start = st.now();
    let Parsed { raw_method, query, method, params, token, logged_params } = req;
    // Every sandbox token is an application token; the app is named when the token is one the portal
    // would accept, as the portal learns the app from the token it checked.
    let by_app = token.as_deref().and_then(|t| st.access.get(t)).is_some_and(|t| t.expires_at > start);
    let refused = |answer: Answer, by_app: bool| Answered { answer, by_app, method_secs: 0.0 };

    if host == Host::Portal
        && let Some(to) = &st.moved_to
    {
        let mut target = to.join(&format!("rest/{raw_method}")).map(|u| u.to_string()).unwrap_or_default();
        if !query.is_empty() {
            target = format!("{target}?{query}");
        }
        let moved =
            Reply { status: 302, content_type: "text/html", body: Vec::new(), location: Some(target), drop: false };
        return refused(Answer::Reply(moved), by_app);
    }

    // Each way through logs the call once, so the logged parameters are moved, not copied.
    let mut logged_params = Some(logged_params);
    let mut record = |st: &mut State, caller: Option<&Caller>, status: u16, error: Option<&str>| {
        let rec = CallRecord {
            seq: 0,
            time: start,
            method: method.clone(),
            params: logged_params.take().unwrap_or(Value::Null),
            user_id: caller
                .map(|c| c.user_id)
                .or_else(|| token.as_ref().and_then(|t| st.access.get(t)).map(|t| t.user_id)),
            token: token.clone(),
            status,
            error: error.map(str::to_owned),
            via: match host {
                Host::Portal => "portal".into(),
                Host::OAuth => "oauth".into(),
            },
            batch_seq: None,
        };
        st.record_call(rec, info.config.call_log_capacity)
    };

    if host == Host::Portal {
        let now = st.now();
        if !st.rt.bucket_admit(now) {
            let e = RestError::fault(FaultKind::QueryLimit, &info.config.quirks);
            record(st, None, e.status, Some(&e.code));
            return refused(Answer::Reply(Reply::error(&e, info.config.quirks.php_error)), by_app);
        }
        let commands = if method == "batch" { batch::command_methods(&params) } else { Vec::new() };
        if let Some(kind) = st.rt.pick_fault(&method, &commands) {
            let e = RestError::fault(kind, &info.config.quirks);
            record(st, None, e.status, Some(&e.code));
            if kind == FaultKind::Drop {
                let dropped = Reply { status: 200, content_type: "", body: Vec::new(), location: None, drop: true };
                return refused(Answer::Reply(dropped), by_app);
            }
            // A refusal while checking the token (an expired one, an app or portal the check rejects) is a
            // token the portal did not accept: it names no app. Limits and scope refusals name it.
            let accepted = matches!(
                kind,
                FaultKind::QueryLimit
                    | FaultKind::OperationLimit
                    | FaultKind::ServerError
                    | FaultKind::InsufficientScope
                    | FaultKind::InvalidScope
                    | FaultKind::MethodConfirmWaiting
                    | FaultKind::MethodConfirmDenied
            );
            let by_app = by_app && accepted;
            return refused(Answer::Reply(Reply::error(&e, info.config.quirks.php_error)), by_app);
        }
    }

    let caller = match authenticate(st, info, token.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            record(st, None, e.status, Some(&e.code));
            return refused(Answer::Reply(Reply::error(&e, info.config.quirks.php_error)), false);
        }
    };

    // The outer call is logged before it runs, so a batch's commands can point at it.
    let seq = record(st, Some(&caller), 200, None);
    let ran = Instant::now();
    let (outcome, operating) = {
        let mut cx = Cx { st, info, caller: &caller, host, batch_seq: Some(seq), run: run_method };
        run_method(&mut cx, &method, params)
    };
    let method_secs = ran.elapsed().as_secs_f64();
    let finish = st.now();
    let processing = wall.elapsed().as_secs_f64();
    let answer = match outcome {
        Ok(s) => {
            let mut env = Map::new();
            env.insert("result".into(), s.result);
            if let Some(t) = s.total {
                env.insert("total".into(), json!(t));
            }
            if let Some(n) = s.next {
                env.insert("next".into(), json!(n));
            }
            env.insert("time".into(), time_block(start, finish, processing, Some(operating)));
            Answer::Json(200, Value::Object(env))
        }
        Err(e) => {
            if let Some(rec) = st.calls.iter_mut().rev().find(|r| r.seq == seq) {
                rec.status = e.status;
                rec.error = Some(e.code.clone());
            }
            Answer::Reply(Reply::error(&e, info.config.quirks.php_error))
        }
    };
    Answered { answer, by_app: true, method_secs }
}

/// Looks the method up, checks its scope and budget, runs it and charges the budget. Used for top-level calls
/// and, through [`Cx::run`], for each command of a `batch`.
pub fn run_method(cx: &mut Cx<'_>, method: &str, params: PArr) -> (MethodResult, Operating) {
    let now = cx.st.now();
    let idle = cx.st.rt.operating(method, now);
    if !known_method(method, cx.host) {
        return (Err(RestError::new(404, "ERROR_METHOD_NOT_FOUND", "Method not found!")), idle);
    }
    if let Some(needed) = method_scope(method)
        && !needed.iter().any(|s| cx.caller.scope.iter().any(|c| c == s))
    {
        return (Err(scope_error(cx.info)), idle);
    }
    if let Some(op) = cx.st.rt.operating_blocked(method, now) {
        return (
            Err(RestError::new(429, "OPERATION_TIME_LIMIT", "Method is blocked due to operation time limit.")),
            op,
        );
    }
    let started = Instant::now();
    let result = dispatch(cx, method, params);
    let op = cx.st.rt.charge(method, cx.st.now(), started.elapsed().as_secs_f64());
    (result, op)
}

fn dispatch(cx: &mut Cx<'_>, method: &str, params: PArr) -> MethodResult {
    match method {
        "crm.calllist.update" => crm::calllist_update(cx, &params),
        "crm.calllist.add" => crm::calllist_add(cx, &params),
        "crm.calllist.get" => crm::calllist_get(cx, &params),
        "crm.calllist.items.get" => crm::calllist_items_get(cx, &params),
        "crm.calllist.list" => crm::calllist_list(cx, &params),
        "crm.calllist.statuslist" => crm::calllist_statuslist(cx),
        "crm.item.list" => crm::item_list(cx, &params),
        "crm.webform.list" => crm::webform_list(cx, &params),
        "crm.duplicate.findbycomm" => crm::find_by_comm(cx, &params),
        "crm.status.list" => crm::status_list(cx, &params),
        "batch" => batch::batch(cx, &params),
        "user.current" => users::user_current(cx),
        "user.get" => users::user_get(cx, &params),
        "profile" => misc::profile(cx),
        "app.info" => misc::app_info(cx),
        "event.bind" => misc::event_bind(cx, &params),
        "placement.bind" => placements::bind(cx, &params),
        "placement.unbind" => placements::unbind(cx, &params),
        "placement.get" => placements::get(cx),
        _ => Err(RestError::new(404, "ERROR_METHOD_NOT_FOUND", "Method not found!")),
    }
}
