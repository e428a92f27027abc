//! REST calls: one exchange with the portal ([`RestClient`]), and the policy around it ([`Caller`]):
//! pacing, refresh on `expired_token`, backoff on limits and faults within a time budget, and the rule that
//! a call which is not safe to repeat is never repeated after an ambiguous failure.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use backon::{BackoffBuilder, ExponentialBuilder};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use url::Url;

use super::endpoint::rest_base;
use super::error::{ApiError, BitrixError, ErrorCode, GaveUp};
use super::log::{CallObserver, RestCall, RestLog, summarise};
use super::pacing::{Pacer, RateLimit};
use super::tokens::{TokenManager, TokenOwner, TokenStore};
use crate::domain::{MemberId, StoredTokens, UserId};

/// The client's settings.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Longest wait for one answer. Bitrix24 cloud stops a request at 60 s.
    pub request_timeout: Duration,
    /// How long a call may keep retrying limits and faults, unless the caller says otherwise.
    pub default_budget: Duration,
    pub rate: RateLimit,
    pub allow_insecure: bool,
    /// Answers larger than this are refused.
    pub max_response_bytes: usize,
    /// The first and the longest pause between retries (exponential, with jitter, in between).
    pub retry_min_delay: Duration,
    pub retry_max_delay: Duration,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            request_timeout: Duration::from_secs(65),
            default_budget: Duration::from_secs(60),
            rate: RateLimit::STANDARD,
            allow_insecure: false,
            max_response_bytes: 64 * 1024 * 1024,
            retry_min_delay: Duration::from_millis(300),
            retry_max_delay: Duration::from_secs(8),
        }
    }
}

/// A successful answer: `result` and, for list methods, `total` and `next` (reference 5.2).
#[derive(Debug, Clone)]
pub struct Envelope {
    pub result: Value,
    pub total: Option<u64>,
    pub next: Option<u64>,
    pub operating: Option<f64>,
    pub operating_reset_at: Option<i64>,
}

/// A successful answer with its `result` read as `R`: by default still the portal's text, to become a
/// `Value`; a batch reads its result straight into its per-command parts, each left as text until taken
/// (into typed rows where their shape is known), so no tree of the whole answer is built.
#[derive(Debug)]
pub(crate) struct RawEnvelope<R = Box<RawValue>> {
    pub result: R,
    pub total: Option<u64>,
    pub next: Option<u64>,
    pub operating: Option<f64>,
    pub operating_reset_at: Option<i64>,
}

impl RawEnvelope {
    fn into_envelope(self, method: &str) -> Result<Envelope, BitrixError> {
        let result = serde_json::from_str(self.result.get()).map_err(|e| BitrixError::BadResponse {
            method: method.into(),
            status: 200,
            problem: format!("not JSON ({e})"),
        })?;
        Ok(Envelope {
            result,
            total: self.total,
            next: self.next,
            operating: self.operating,
            operating_reset_at: self.operating_reset_at,
        })
    }
}

/// Bitrix24's envelope as sent: `{"error", "error_description"}` or `{"result", "total", "next", "time"}`.
#[derive(Deserialize)]
#[serde(bound = "R: Deserialize<'de>")]
struct Answer<R> {
    #[serde(default, deserialize_with = "present")]
    result: Option<R>,
    #[serde(default, deserialize_with = "present")]
    error: Option<Value>,
    #[serde(default)]
    error_description: Option<Value>,
    #[serde(default)]
    total: Option<Value>,
    #[serde(default)]
    next: Option<Value>,
    #[serde(default)]
    time: Option<Value>,
}

/// A key that is there, even with `null`: `Some`. Only a missing key is `None` (the field's default).
fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// How one exchange failed, sorted by what may be done about it.
#[derive(Debug)]
enum Failure {
    Api(ApiError),
    /// No connection was made: nothing reached the portal.
    NotSent(String),
    /// Sent, but no complete answer came back: the portal may have acted.
    Lost(String),
    Timeout,
    /// A server failure without Bitrix24's envelope (a crashed handler): the portal may have acted.
    ServerFault(u16),
    /// Not worth another try.
    Final(BitrixError),
}

/// One HTTP exchange at a time, with the portal's bucket in front.
pub struct RestClient {
    http: reqwest::Client,
    pub pacer: Pacer,
    config: ClientConfig,
    log: Option<Arc<dyn RestLog>>,
    observer: Option<Arc<dyn CallObserver>>,
}

impl std::fmt::Debug for RestClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RestClient({:?})", self.config)
    }
}

impl RestClient {
    pub fn new(config: ClientConfig) -> Result<RestClient, BitrixError> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(config.request_timeout)
            .connect_timeout(config.request_timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("b24-calllist/", env!("CARGO_PKG_VERSION")))
            // Shorter than the 5 s keep-alive many servers use, so a pooled connection is not reused just as the
            // server closes it (which would turn a safe request into an ambiguous one).
            .pool_idle_timeout(Duration::from_secs(4))
            .build()
            .map_err(|e| BitrixError::Invalid(e.to_string()))?;
        Ok(RestClient { http, pacer: Pacer::new(config.rate), config, log: None, observer: None })
    }

    pub fn with_log(mut self, log: Arc<dyn RestLog>) -> Self {
        self.log = Some(log);
        self
    }

    pub fn with_observer(mut self, observer: Arc<dyn CallObserver>) -> Self {
        self.observer = Some(observer);
        self
    }

    /// Shares each portal's request budget with the other instances through `shared`.
    pub fn with_shared_budget(mut self, shared: Arc<dyn super::pacing::SharedBudget>) -> Self {
        self.pacer = self.pacer.with_shared(shared);
        self
    }

    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// One exchange: POST the parameters as JSON to `{endpoint}{method}`, follow one rename redirect.
    /// Returns the envelope and, when the portal moved, its new REST base.
    async fn exchange<R: DeserializeOwned>(
        &self,
        endpoint: &Url,
        method: &str,
        body: &Value,
    ) -> Result<(RawEnvelope<R>, Option<Url>), Failure> {
        let url = endpoint.join(method).map_err(|e| Failure::Final(BitrixError::Invalid(e.to_string())))?;
        let response = self.post(&url, body).await?;
        if !response.status().is_redirection() {
            return self.read(method, response).await.map(|env| (env, None));
        }
        let moved = self.renamed_portal(method, &url, &response)?;
        let next = moved.join(method).map_err(|e| Failure::Final(BitrixError::Invalid(e.to_string())))?;
        let response = self.post(&next, body).await?;
        if response.status().is_redirection() {
            return Err(Failure::Final(BitrixError::Redirect {
                method: method.into(),
                problem: "the renamed portal redirected again; only one redirect is followed".into(),
            }));
        }
        self.read(method, response).await.map(|env| (env, Some(moved)))
    }

    async fn post(&self, url: &Url, body: &Value) -> Result<reqwest::Response, Failure> {
        self.http
            .post(url.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .json(body)
            .send()
            .await
            .map_err(|e| transport_failure(&e))
    }

    /// A portal that changed its address answers 302 to the same method on its new host (Bitrix24's
    /// change-domain page). Anything else is refused, so the app's tokens go nowhere else.
    fn renamed_portal(&self, method: &str, from: &Url, response: &reqwest::Response) -> Result<Url, Failure> {
        let refuse = |problem: &str| {
            Failure::Final(BitrixError::Redirect { method: method.into(), problem: problem.to_owned() })
        };
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| refuse("a redirect without a Location"))?;
        let to = from.join(location).map_err(|_| refuse("a redirect to an unreadable address"))?;
        let same_path = to.path() == from.path() || to.path() == format!("{}.json", from.path());
        if !same_path || to.query().is_some() {
            return Err(refuse("a redirect to something other than the same REST method on a new address"));
        }
        if to.host_str() == from.host_str() && to.port_or_known_default() == from.port_or_known_default() {
            return Err(refuse("a redirect to the same host"));
        }
        let mut base = to.clone();
        base.set_path(from.path().strip_suffix(method).unwrap_or("/rest/"));
        rest_base(base.as_str(), self.config.allow_insecure).map_err(Failure::Final)
    }

    async fn read<R: DeserializeOwned>(
        &self,
        method: &str,
        mut response: reqwest::Response,
    ) -> Result<RawEnvelope<R>, Failure> {
        let status = response.status().as_u16();
        let limit = self.config.max_response_bytes;
        if response.content_length().is_some_and(|len| len as usize > limit) {
            return Err(Failure::Final(too_large(method, status, limit)));
        }
        let mut body = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len() + chunk.len() > limit {
                        return Err(Failure::Final(too_large(method, status, limit)));
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => return Err(transport_failure(&e)),
            }
        }
        parse_envelope(method, status, &body)
    }
}

fn too_large(method: &str, status: u16, limit: usize) -> BitrixError {
    BitrixError::BadResponse {
        method: method.into(),
        status,
        problem: format!("the answer is larger than {} MiB", limit / (1024 * 1024)),
    }
}

fn transport_failure(e: &reqwest::Error) -> Failure {
    if e.is_timeout() {
        Failure::Timeout
    } else if e.is_connect() {
        Failure::NotSent(describe(e))
    } else {
        Failure::Lost(describe(e))
    }
}

/// reqwest's own message names the URL; this names only the causes, so no address or secret leaks.
fn describe(e: &reqwest::Error) -> String {
    let mut parts = vec![];
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    if parts.is_empty() { "request failed".into() } else { parts.join(": ") }
}

/// Reads Bitrix24's envelope: `{"error", "error_description"}` or `{"result", "total", "next", "time"}`.
fn parse_envelope<R: DeserializeOwned>(method: &str, status: u16, body: &[u8]) -> Result<RawEnvelope<R>, Failure> {
    let bad = |problem: String| Failure::Final(BitrixError::BadResponse { method: method.into(), status, problem });
    let answer: Answer<R> = match serde_json::from_slice(body) {
        Ok(answer) => answer,
        Err(e) if serde_json::from_slice::<IgnoredAny>(body).is_ok() => {
            return Err(bad(format!("the answer is not a JSON object of Bitrix24's shape ({e})")));
        }
        Err(_) if status >= 500 => return Err(Failure::ServerFault(status)),
        Err(e) => return Err(bad(format!("not JSON ({e})"))),
    };
    if let Some(code) = answer.error {
        let raw = match code {
            Value::String(s) => s,
            other => other.to_string(),
        };
        let description = answer.error_description.as_ref().and_then(Value::as_str).unwrap_or_default().to_owned();
        return Err(Failure::Api(ApiError {
            code: ErrorCode::parse(&raw),
            raw_code: raw,
            description,
            http_status: status,
            method: method.into(),
        }));
    }
    let Some(result) = answer.result else {
        if status >= 500 {
            return Err(Failure::ServerFault(status));
        }
        return Err(bad("neither `result` nor `error` in the answer".into()));
    };
    let time = answer.time.as_ref();
    Ok(RawEnvelope {
        result,
        total: answer.total.as_ref().and_then(as_u64),
        next: answer.next.as_ref().and_then(as_u64),
        operating: time.and_then(|t| t.get("operating")).and_then(Value::as_f64),
        operating_reset_at: time.and_then(|t| t.get("operating_reset_at")).and_then(as_i64),
    })
}

pub(crate) fn as_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64().or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

pub(crate) fn as_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Whether a method may be sent again when its outcome is unknown. Reads are; `crm.calllist.update` is a
/// full replace, so sending the same request twice leaves the same list. `crm.calllist.add` creates a list
/// each time, and unknown methods are assumed to act, so they are not.
pub fn is_repeatable(method: &str) -> bool {
    let m = method.to_ascii_lowercase();
    let m = m.strip_suffix(".json").unwrap_or(&m);
    matches!(
        m,
        "crm.calllist.update"
            | "crm.calllist.get"
            | "crm.calllist.list"
            | "crm.calllist.items.get"
            | "crm.calllist.statuslist"
            | "crm.item.list"
            | "crm.item.get"
            | "crm.contact.list"
            | "crm.company.list"
            | "crm.webform.list"
            | "user.current"
            | "profile"
            | "app.info"
            | "scope"
            | "methods"
    )
}

/// Whose token a [`Caller`] sends.
#[derive(Debug, Clone)]
pub enum Auth {
    /// Stored tokens, refreshed on `expired_token`.
    Stored(TokenOwner),
    /// A token taken from a request (checked once, never refreshed).
    Fixed(SecretString),
}

/// The client: the exchange, the limits, and the token refresher.
pub struct Bitrix<S: TokenStore> {
    pub rest: RestClient,
    pub tokens: TokenManager<S>,
}

impl<S: TokenStore> Bitrix<S> {
    /// A caller that acts on `endpoint` (a REST base checked at install) for `member_id` with `auth`.
    pub fn caller(&self, member_id: MemberId, endpoint: Url, auth: Auth) -> Caller<'_, S> {
        Caller {
            bitrix: self,
            member_id,
            endpoint: Mutex::new(endpoint),
            auth,
            user_id: None,
            budget: self.rest.config.default_budget,
            current: tokio::sync::Mutex::new(None),
            moved: Mutex::new(None),
            requests: std::sync::atomic::AtomicU32::new(0),
        }
    }
}

/// Calls for one portal with one token owner; the unit a handler works with.
pub struct Caller<'b, S: TokenStore> {
    bitrix: &'b Bitrix<S>,
    member_id: MemberId,
    endpoint: Mutex<Url>,
    auth: Auth,
    user_id: Option<UserId>,
    budget: Duration,
    current: tokio::sync::Mutex<Option<StoredTokens>>,
    moved: Mutex<Option<Url>>,
    requests: std::sync::atomic::AtomicU32,
}

impl<S: TokenStore> Caller<'_, S> {
    /// Names the user whose token this is, for the REST log.
    pub fn for_user(mut self, user_id: UserId) -> Self {
        self.user_id = Some(user_id);
        self
    }

    /// How long each call may keep retrying limits and faults.
    pub fn with_budget(mut self, budget: Duration) -> Self {
        self.budget = budget;
        self
    }

    pub fn member_id(&self) -> &MemberId {
        &self.member_id
    }

    /// The new REST base if the portal answered from a new address (the store should keep it).
    pub fn moved_to(&self) -> Option<Url> {
        self.moved.lock().expect("moved lock").clone()
    }

    /// HTTP requests this caller has sent, retries included.
    pub fn requests_sent(&self) -> u32 {
        self.requests.load(std::sync::atomic::Ordering::Relaxed)
    }

    async fn token(&self) -> Result<(SecretString, Option<StoredTokens>), BitrixError> {
        match &self.auth {
            Auth::Fixed(token) => Ok((token.clone(), None)),
            Auth::Stored(owner) => {
                let mut current = self.current.lock().await;
                if current.is_none() {
                    *current = Some(self.bitrix.tokens.load(owner).await?);
                }
                let held = current.clone().expect("loaded above");
                Ok((held.tokens.access_token.clone(), Some(held)))
            }
        }
    }

    /// Calls `method` with `params` (a JSON object). See the module comment for the retry rules.
    pub async fn call(&self, method: &str, params: Value) -> Result<Envelope, BitrixError> {
        let Value::Object(params) = params else {
            return Err(BitrixError::Invalid(format!("{method}: parameters must be a JSON object")));
        };
        self.call_with(method, params, is_repeatable(method)).await
    }

    pub(crate) async fn call_with(
        &self,
        method: &str,
        params: Map<String, Value>,
        repeatable: bool,
    ) -> Result<Envelope, BitrixError> {
        self.call_raw(method, params, repeatable).await?.into_envelope(method)
    }

    /// [`Caller::call_with`], the answer's `result` read as `R` (by default left as text).
    pub(crate) async fn call_raw<R: DeserializeOwned>(
        &self,
        method: &str,
        params: Map<String, Value>,
        repeatable: bool,
    ) -> Result<RawEnvelope<R>, BitrixError> {
        let rest = &self.bitrix.rest;
        let portal = self.member_id.as_str();
        let started = Instant::now();
        let deadline = started + self.budget;
        let mut delays = ExponentialBuilder::default()
            .with_min_delay(rest.config.retry_min_delay)
            .with_max_delay(rest.config.retry_max_delay)
            .with_factor(2.0)
            .with_jitter()
            .without_max_times()
            .build();
        // A refresh cures `expired_token`; a portal that says it again after a fresh pair gets a few more tries.
        let mut refreshes = 0u32;
        let mut attempts = 0u32;
        let logged_params = summarise(&Value::Object(params.clone()));
        loop {
            attempts += 1;
            if let Some(until) = rest.pacer.blocked_until(portal, method) {
                if until > deadline {
                    return Err(BitrixError::BudgetExhausted {
                        method: method.into(),
                        attempts,
                        why: GaveUp::Limits,
                        last: "the portal blocks this method (OPERATION_TIME_LIMIT) beyond the time allowed".into(),
                    });
                }
                let wait = until.saturating_duration_since(Instant::now());
                self.observe_wait(wait);
                tokio::time::sleep(wait).await;
            }
            let waited = rest.pacer.wait_turn(portal, method, deadline).await?;
            self.observe_wait(waited);
            let (token, held) = self.token().await?;
            let mut body = params.clone();
            body.insert("auth".into(), Value::String(token.expose_secret().to_owned()));
            let body = Value::Object(body);
            let endpoint = self.endpoint.lock().expect("endpoint lock").clone();
            let sent = Instant::now();
            self.requests.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let outcome = rest.exchange::<R>(&endpoint, method, &body).await;
            self.log(method, &logged_params, &outcome, sent.elapsed());
            let failure = match outcome {
                Ok((envelope, moved)) => {
                    rest.pacer.note_operating(portal, method, envelope.operating, envelope.operating_reset_at);
                    if let Some(new) = moved {
                        tracing::info!(member_id = %self.member_id, endpoint = %new, "the portal moved to a new address");
                        *self.endpoint.lock().expect("endpoint lock") = new.clone();
                        *self.moved.lock().expect("moved lock") = Some(new);
                    }
                    return Ok(envelope);
                }
                Err(f) => f,
            };
            let retry_after = match failure {
                // `invalid_token` too: another worker's refresh kills the access token issued with the old pair.
                Failure::Api(e) if matches!(e.code, ErrorCode::ExpiredToken | ErrorCode::InvalidToken) => {
                    match (&self.auth, held) {
                        (Auth::Stored(owner), Some(stale)) if refreshes < MAX_REFRESHES_PER_CALL => {
                            refreshes += 1;
                            let fresh = self.bitrix.tokens.renew(owner, &stale, deadline).await?;
                            *self.current.lock().await = Some(fresh);
                            continue;
                        }
                        _ => return Err(BitrixError::Api(e)),
                    }
                }
                Failure::Api(e) if e.code == ErrorCode::OperationTimeLimit => {
                    let until = rest.pacer.block(portal, method, Duration::from_secs(60));
                    rest.pacer.share_block(portal, method, until.saturating_duration_since(Instant::now())).await;
                    (Retry::GaveUp(GaveUp::Limits), e.to_string(), Duration::ZERO)
                }
                Failure::Api(e) if e.code.refuses_the_app() => {
                    if let Auth::Stored(owner) = &self.auth {
                        self.bitrix.tokens.app_refused(owner, &e).await;
                    }
                    return Err(BitrixError::Api(e));
                }
                Failure::Api(e) if e.code.is_limit() => {
                    (Retry::GaveUp(GaveUp::Limits), e.to_string(), next_delay(&mut delays))
                }
                Failure::Api(e) if e.code == ErrorCode::InternalServerError && repeatable => {
                    (Retry::GaveUp(GaveUp::Faults), e.to_string(), next_delay(&mut delays))
                }
                Failure::Api(e) if e.code == ErrorCode::InternalServerError => {
                    return Err(BitrixError::Ambiguous { method: method.into(), cause: e.to_string() });
                }
                Failure::Api(e) => return Err(BitrixError::Api(e)),
                Failure::NotSent(cause) => {
                    (Retry::Unreachable, format!("cannot connect: {cause}"), next_delay(&mut delays))
                }
                Failure::Lost(_) | Failure::ServerFault(_) | Failure::Timeout if !repeatable => {
                    return Err(BitrixError::Ambiguous { method: method.into(), cause: "no complete answer".into() });
                }
                Failure::Lost(cause) => {
                    (Retry::GaveUp(GaveUp::Faults), format!("connection lost: {cause}"), next_delay(&mut delays))
                }
                Failure::ServerFault(status) => {
                    (Retry::GaveUp(GaveUp::Faults), format!("HTTP {status} without an answer"), next_delay(&mut delays))
                }
                Failure::Timeout => (
                    Retry::GaveUp(GaveUp::Faults),
                    format!("no answer within {} s", rest.config.request_timeout.as_secs()),
                    next_delay(&mut delays),
                ),
                Failure::Final(e) => return Err(e),
            };
            let (retry, last, delay) = retry_after;
            if Instant::now() + delay >= deadline {
                return Err(match retry {
                    Retry::Unreachable => BitrixError::Transport { method: method.into(), cause: last },
                    Retry::GaveUp(why) => BitrixError::BudgetExhausted { method: method.into(), attempts, why, last },
                });
            }
            tracing::debug!(method, attempts, delay_ms = delay.as_millis() as u64, %last, "retrying");
            self.observe_wait(delay);
            tokio::time::sleep(delay).await;
        }
    }

    fn observe_wait(&self, waited: Duration) {
        if waited > Duration::ZERO
            && let Some(o) = &self.bitrix.rest.observer
        {
            o.waited_for_limits(waited);
        }
    }

    fn log<R>(
        &self,
        method: &str,
        params: &str,
        outcome: &Result<(RawEnvelope<R>, Option<Url>), Failure>,
        took: Duration,
    ) {
        let (status, error) = match outcome {
            Ok(_) => (200, None),
            Err(Failure::Api(e)) => (e.http_status, Some(e.raw_code.to_ascii_uppercase())),
            Err(Failure::NotSent(_)) => (0, Some("NOT_SENT".to_owned())),
            Err(Failure::Lost(_)) => (0, Some("CONNECTION_LOST".to_owned())),
            Err(Failure::Timeout) => (0, Some("TIMEOUT".to_owned())),
            Err(Failure::ServerFault(s)) => (*s, Some("SERVER_FAULT".to_owned())),
            Err(Failure::Final(e)) => (0, Some(e.kind())),
        };
        if let Some(o) = &self.bitrix.rest.observer {
            o.exchange(method, error.as_deref().unwrap_or("ok"), took);
        }
        tracing::debug!(member_id = %self.member_id, method, status, error = error.as_deref(), took_ms = took.as_millis() as u64, "rest call");
        if let Some(log) = &self.bitrix.rest.log {
            log.record(RestCall {
                member_id: self.member_id.to_string(),
                user_id: self.user_id,
                method: method.to_owned(),
                params: params.to_owned(),
                http_status: status,
                error,
                duration_ms: took.as_millis() as u64,
                at: chrono::Utc::now().timestamp(),
            });
        }
    }
}

/// What a retried failure becomes when the time runs out.
enum Retry {
    /// Nothing ever reached the portal.
    Unreachable,
    GaveUp(GaveUp),
}

/// How many times one call may refresh its token before `expired_token` is reported.
const MAX_REFRESHES_PER_CALL: u32 = 3;

fn next_delay(delays: &mut impl Iterator<Item = Duration>) -> Duration {
    delays.next().unwrap_or(Duration::from_secs(8))
}
