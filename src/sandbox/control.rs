//! The control API: the sandbox's state and knobs as JSON under `/_sandbox/` on the portal's address, for
//! people with curl and programs in other languages. It bypasses limits and faults and is not logged.

use actix_web::web::{self, Json, Path, Query};
use actix_web::{HttpResponse, Responder};
use serde::Deserialize;
use serde_json::{Value, json};

use super::Sandbox;
use super::Shared;
use super::config::{FaultKind, FaultsConfig, LimitsConfig, OAuthFault};
use super::model::{Contact, EntityKind, Permissions};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/_sandbox")
            .route("/state", web::get().to(state))
            .route("/portals", web::get().to(portals))
            .route("/expire-all", web::post().to(expire_all))
            .route("/bucket", web::get().to(bucket))
            .route("/users", web::get().to(users))
            .route("/users/{id}/permissions", web::post().to(set_permissions))
            .route("/users/{id}/active", web::post().to(set_active))
            .route("/lists", web::get().to(lists))
            .route("/lists", web::post().to(add_list))
            .route("/lists/{id}", web::get().to(list))
            .route("/lists/{id}", web::put().to(change_list))
            .route("/contacts", web::get().to(contacts))
            .route("/contacts", web::post().to(add_contact))
            .route("/contacts/{id}", web::delete().to(delete_contact))
            .route("/companies", web::get().to(companies))
            .route("/companies", web::post().to(add_company))
            .route("/companies/{id}", web::delete().to(delete_company))
            .route("/webforms", web::get().to(webforms))
            .route("/webforms", web::post().to(add_webform))
            .route("/webforms/{id}", web::delete().to(delete_webform))
            .route("/tokens", web::post().to(tokens))
            .route("/expire", web::post().to(expire))
            .route("/clock", web::post().to(clock))
            .route("/calls", web::get().to(calls))
            .route("/calls", web::delete().to(clear_calls))
            .route("/faults", web::get().to(get_faults))
            .route("/faults", web::post().to(set_faults))
            .route("/limits", web::get().to(get_limits))
            .route("/limits", web::post().to(set_limits))
            .route("/inject", web::post().to(inject))
            .route("/inject", web::delete().to(clear_injections))
            .route("/oauth-inject", web::post().to(oauth_inject))
            .route("/oauth-inject", web::delete().to(clear_oauth_faults))
            .route("/install", web::post().to(install))
            .route("/uninstall", web::post().to(uninstall))
            .route("/install-finish", web::post().to(install_finish))
            .route("/moved", web::post().to(moved))
            .route("/launch", web::post().to(launch))
            .route("/open", web::post().to(open))
            .route("/placement-form", web::post().to(placement_form))
            .route("/deliveries", web::get().to(deliveries))
            .route("/oauth-stats", web::get().to(oauth_stats))
            .route("/crm-search", web::get().to(crm_search)),
    );
}

fn sandbox(shared: &Shared) -> Sandbox {
    Sandbox::view(shared.hub.clone(), shared.index)
}

fn problem(status: u16, message: impl std::fmt::Display) -> HttpResponse {
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap_or_default())
        .json(json!({"error": message.to_string()}))
}

async fn state(shared: Shared) -> impl Responder {
    let s = sandbox(&shared);
    let info = s.info();
    let st = shared.lock();
    HttpResponse::Ok().json(json!({
        "index": info.index,
        "portals": shared.hub.portals.len(),
        "portal_url": info.portal_url,
        "rest_url": info.rest_url,
        "oauth_url": info.oauth_url,
        "server_endpoint": info.server_endpoint,
        "domain": info.domain,
        "member_id": info.member_id,
        "client_id": info.client_id,
        "client_secret": info.client_secret,
        "scope": info.scope.join(","),
        "app_url": info.config.app_url.as_ref().map(|u| u.to_string()),
        "app": st.app,
        "users": st.users.values().collect::<Vec<_>>(),
        "counts": {
            "contacts": st.contacts.len(),
            "companies": st.companies.len(),
            "webforms": st.webforms.len(),
            "lists": st.lists.len(),
            "calls": st.calls.len(),
        },
        "limits": st.rt.limits,
        "faults": st.rt.faults,
        "injections": st.rt.injections(),
        "bucket": st.rt.bucket_stats(st.now()),
        "rejections": {
            "query_limit": st.rt.bucket_rejections,
            "operation_time_limit": st.rt.operating_rejections,
            "injected_faults": st.rt.injected_faults,
        },
        "oauth_stats": st.oauth_stats,
        "moved_to": st.moved_to.as_ref().map(|u| u.to_string()),
        "clock_offset_secs": st.clock_offset,
    }))
}

/// A portal's addresses and identity, as `sandbox --json` lists them.
pub fn portal_facts(s: &Sandbox) -> Value {
    json!({
        "index": s.portal_index(),
        "portal_url": s.portal_url().as_str(),
        "rest_url": s.rest_url().as_str(),
        "domain": s.domain(),
        "member_id": s.member_id(),
        "application_token": s.application_token(),
        "control_url": format!("{}_sandbox/", s.portal_url()),
    })
}

/// Every portal of the sandbox, whichever portal's address it is asked on.
async fn portals(shared: Shared) -> impl Responder {
    let all: Vec<Value> = sandbox(&shared).portals().iter().map(portal_facts).collect();
    HttpResponse::Ok().json(all)
}

/// Expires the access tokens of every portal at once.
async fn expire_all(shared: Shared) -> impl Responder {
    HttpResponse::Ok().json(json!({"expired": sandbox(&shared).expire_all_access_tokens()}))
}

async fn bucket(shared: Shared) -> impl Responder {
    HttpResponse::Ok().json(sandbox(&shared).bucket_stats())
}

async fn users(shared: Shared) -> impl Responder {
    HttpResponse::Ok().json(sandbox(&shared).users())
}

async fn set_permissions(shared: Shared, id: Path<u64>, body: Json<Permissions>) -> HttpResponse {
    match sandbox(&shared).set_permissions(*id, body.into_inner()) {
        Ok(()) => HttpResponse::Ok().json(json!({"ok": true})),
        Err(e) => problem(404, e),
    }
}

#[derive(Deserialize)]
struct ActiveRequest {
    active: bool,
}

async fn set_active(shared: Shared, id: Path<u64>, body: Json<ActiveRequest>) -> HttpResponse {
    match sandbox(&shared).set_user_active(*id, body.active) {
        Ok(()) => HttpResponse::Ok().json(json!({"ok": true})),
        Err(e) => problem(404, e),
    }
}

async fn lists(shared: Shared) -> impl Responder {
    HttpResponse::Ok().json(sandbox(&shared).lists())
}

#[derive(Deserialize)]
struct UserQuery {
    user: Option<u64>,
}

async fn list(shared: Shared, id: Path<u64>, q: Query<UserQuery>) -> HttpResponse {
    let s = sandbox(&shared);
    match s.list(*id) {
        Some(l) => {
            let mut v = serde_json::to_value(&l).unwrap_or(Value::Null);
            if let (Some(u), Value::Object(m)) = (q.user, &mut v) {
                m.insert("visible_to_user".into(), json!(s.list_members_visible_to(*id, u)));
            }
            HttpResponse::Ok().json(v)
        }
        None => problem(404, format!("no list {id}")),
    }
}

#[derive(Deserialize)]
struct NewList {
    entity_type: EntityKind,
    members: Vec<u64>,
    #[serde(default)]
    webform_id: Option<u64>,
    #[serde(default)]
    created_by_id: Option<u64>,
}

async fn add_list(shared: Shared, body: Json<NewList>) -> impl Responder {
    let b = body.into_inner();
    let id = sandbox(&shared).add_list(b.entity_type, &b.members, b.webform_id, b.created_by_id.unwrap_or(1));
    HttpResponse::Ok().json(json!({"id": id}))
}

/// `{"members": [..]}` and/or `{"webform_id": n | null}` (present `null` clears the form).
async fn change_list(shared: Shared, id: Path<u64>, body: Json<serde_json::Map<String, Value>>) -> HttpResponse {
    let s = sandbox(&shared);
    if let Some(m) = body.get("members") {
        let Ok(members) = serde_json::from_value::<Vec<u64>>(m.clone()) else {
            return problem(400, "members must be a list of IDs");
        };
        if let Err(e) = s.set_list_members(*id, &members) {
            return problem(404, e);
        }
    }
    if let Some(w) = body.get("webform_id")
        && let Err(e) = s.set_list_webform(*id, w.as_u64())
    {
        return problem(404, e);
    }
    if let Some(Value::Object(statuses)) = body.get("statuses") {
        for (element, status) in statuses {
            let (Ok(e), Some(st)) = (element.parse::<u64>(), status.as_str()) else {
                return problem(400, "statuses must map IDs to status codes");
            };
            if let Err(err) = s.set_member_status(*id, e, st) {
                return problem(404, err);
            }
        }
    }
    match s.list(*id) {
        Some(l) => HttpResponse::Ok().json(l),
        None => problem(404, format!("no list {id}")),
    }
}

async fn contacts(shared: Shared) -> impl Responder {
    HttpResponse::Ok().json(sandbox(&shared).contacts())
}

async fn add_contact(shared: Shared, body: Json<Contact>) -> impl Responder {
    HttpResponse::Ok().json(json!({"id": sandbox(&shared).add_contact_with(body.into_inner())}))
}

async fn delete_contact(shared: Shared, id: Path<u64>) -> HttpResponse {
    if sandbox(&shared).delete_contact(*id) {
        HttpResponse::Ok().json(json!({"ok": true}))
    } else {
        problem(404, format!("no contact {id}"))
    }
}

async fn companies(shared: Shared) -> impl Responder {
    HttpResponse::Ok().json(sandbox(&shared).companies())
}

#[derive(Deserialize)]
struct NewCompany {
    title: String,
}

async fn add_company(shared: Shared, body: Json<NewCompany>) -> impl Responder {
    HttpResponse::Ok().json(json!({"id": sandbox(&shared).add_company(&body.title)}))
}

async fn delete_company(shared: Shared, id: Path<u64>) -> HttpResponse {
    if sandbox(&shared).delete_company(*id) {
        HttpResponse::Ok().json(json!({"ok": true}))
    } else {
        problem(404, format!("no company {id}"))
    }
}

async fn webforms(shared: Shared) -> impl Responder {
    HttpResponse::Ok().json(sandbox(&shared).webforms())
}

#[derive(Deserialize)]
struct NewForm {
    name: String,
    #[serde(default = "yes")]
    active: bool,
}

fn yes() -> bool {
    true
}

async fn add_webform(shared: Shared, body: Json<NewForm>) -> impl Responder {
    HttpResponse::Ok().json(json!({"id": sandbox(&shared).add_webform(&body.name, body.active)}))
}

async fn delete_webform(shared: Shared, id: Path<u64>) -> HttpResponse {
    if sandbox(&shared).delete_webform(*id) {
        HttpResponse::Ok().json(json!({"ok": true}))
    } else {
        problem(404, format!("no web form {id}"))
    }
}

#[derive(Deserialize)]
struct TokenRequest {
    user_id: u64,
    #[serde(default)]
    scope: Option<Vec<String>>,
}

async fn tokens(shared: Shared, body: Json<TokenRequest>) -> HttpResponse {
    let scope: Option<Vec<&str>> = body.scope.as_ref().map(|s| s.iter().map(String::as_str).collect());
    match sandbox(&shared).issue_tokens_with_scope(body.user_id, scope.as_deref()) {
        Ok(t) => HttpResponse::Ok().json(t),
        Err(e) => problem(404, e),
    }
}

#[derive(Deserialize, Default)]
struct ExpireRequest {
    #[serde(default)]
    user_id: Option<u64>,
}

async fn expire(shared: Shared, body: Option<Json<ExpireRequest>>) -> impl Responder {
    let user = body.map(|b| b.into_inner()).unwrap_or_default().user_id;
    HttpResponse::Ok().json(json!({"expired": sandbox(&shared).expire_access_tokens(user)}))
}

#[derive(Deserialize)]
struct ClockRequest {
    advance_secs: f64,
}

async fn clock(shared: Shared, body: Json<ClockRequest>) -> HttpResponse {
    if !(body.advance_secs.is_finite() && body.advance_secs >= 0.0) {
        return problem(400, "advance_secs must be a non-negative number");
    }
    sandbox(&shared).advance_clock(std::time::Duration::from_secs_f64(body.advance_secs));
    HttpResponse::Ok().json(json!({"ok": true}))
}

#[derive(Deserialize)]
struct CallsQuery {
    method: Option<String>,
    since: Option<u64>,
}

async fn calls(shared: Shared, q: Query<CallsQuery>) -> impl Responder {
    let all = sandbox(&shared).calls();
    let method = q.method.as_ref().map(|m| m.to_ascii_lowercase());
    let out: Vec<_> = all
        .into_iter()
        .filter(|c| method.as_ref().is_none_or(|m| &c.method == m))
        .filter(|c| q.since.is_none_or(|s| c.seq > s))
        .collect();
    HttpResponse::Ok().json(out)
}

async fn clear_calls(shared: Shared) -> impl Responder {
    sandbox(&shared).clear_calls();
    HttpResponse::Ok().json(json!({"ok": true}))
}

async fn get_faults(shared: Shared) -> impl Responder {
    let f = shared.lock().rt.faults.clone();
    HttpResponse::Ok().json(f)
}

async fn set_faults(shared: Shared, body: Json<FaultsConfig>) -> HttpResponse {
    let f = body.into_inner();
    if !(0.0..=1.0).contains(&f.rate) {
        return problem(400, "rate must be between 0 and 1");
    }
    sandbox(&shared).set_faults(f.clone());
    HttpResponse::Ok().json(f)
}

async fn get_limits(shared: Shared) -> impl Responder {
    HttpResponse::Ok().json(sandbox(&shared).limits())
}

/// A full `LimitsConfig`, or `{"preset": "default" | "enterprise" | "off"}`.
async fn set_limits(shared: Shared, body: Json<Value>) -> HttpResponse {
    let limits = match body.get("preset").and_then(Value::as_str) {
        Some("default") => LimitsConfig::default(),
        Some("enterprise") => LimitsConfig::enterprise(),
        Some("off") => LimitsConfig::off(),
        Some(other) => return problem(400, format!("unknown preset {other}")),
        None => match serde_json::from_value::<LimitsConfig>(body.into_inner()) {
            Ok(l) => l,
            Err(e) => return problem(400, e),
        },
    };
    sandbox(&shared).set_limits(limits.clone());
    HttpResponse::Ok().json(limits)
}

#[derive(Deserialize)]
struct InjectRequest {
    method: String,
    fault: FaultKind,
    /// How many calls fail: a number, `"always"` (until cleared), or 1 when absent.
    #[serde(default)]
    times: Option<Value>,
}

/// `{"method","fault"}` fails the next call; `"times": N` the next N; `"times": "always"` every one until
/// `DELETE /_sandbox/inject`.
async fn inject(shared: Shared, body: Json<InjectRequest>) -> HttpResponse {
    let times = match times_of(body.times.as_ref()) {
        Ok(t) => t,
        Err(e) => return *e,
    };
    let s = sandbox(&shared);
    s.inject(&body.method, body.fault, times);
    HttpResponse::Ok().json(json!({"ok": true, "injections": s.injections()}))
}

#[derive(Deserialize)]
struct OAuthInjectRequest {
    fault: OAuthFault,
    /// How many requests fail: a number, `"always"` (until cleared), or 1 when absent.
    #[serde(default)]
    times: Option<Value>,
}

/// `{"fault": "hang" | {"server_error": 502} | "invalid_grant" | …, "times": N | "always"}`.
async fn oauth_inject(shared: Shared, body: Json<OAuthInjectRequest>) -> HttpResponse {
    let times = match times_of(body.times.as_ref()) {
        Ok(t) => t,
        Err(e) => return *e,
    };
    sandbox(&shared).inject_oauth(body.fault, times);
    HttpResponse::Ok().json(json!({"ok": true}))
}

async fn clear_oauth_faults(shared: Shared) -> impl Responder {
    sandbox(&shared).clear_oauth_faults();
    HttpResponse::Ok().json(json!({"ok": true}))
}

/// A request's `times`: 1 when absent, a number, or `"always"` (`None`); the answer to anything else.
fn times_of(v: Option<&Value>) -> Result<Option<u32>, Box<HttpResponse>> {
    match v {
        None => Ok(Some(1)),
        Some(Value::String(s)) if s == "always" => Ok(None),
        Some(v) => match v.as_u64().and_then(|n| u32::try_from(n).ok()) {
            Some(n) => Ok(Some(n)),
            None => Err(Box::new(problem(400, "times is a number or \"always\""))),
        },
    }
}

async fn clear_injections(shared: Shared) -> impl Responder {
    sandbox(&shared).clear_injections();
    HttpResponse::Ok().json(json!({"ok": true}))
}

async fn install(shared: Shared) -> HttpResponse {
    match sandbox(&shared).install_app().await {
        Ok(status) => HttpResponse::Ok().json(json!({"status": status})),
        Err(e) => problem(502, e),
    }
}

#[derive(Deserialize, Default)]
struct UninstallRequest {
    #[serde(default)]
    clean: bool,
}

async fn uninstall(shared: Shared, body: Option<Json<UninstallRequest>>) -> HttpResponse {
    let clean = body.map(|b| b.clean).unwrap_or(false);
    match sandbox(&shared).uninstall_app(clean).await {
        Ok(status) => HttpResponse::Ok().json(json!({"status": status})),
        Err(e) => problem(502, e),
    }
}

async fn install_finish(shared: Shared) -> impl Responder {
    sandbox(&shared).finish_install();
    HttpResponse::Ok().json(json!({"ok": true}))
}

#[derive(Deserialize)]
struct MovedRequest {
    to: Option<url::Url>,
}

async fn moved(shared: Shared, body: Json<MovedRequest>) -> impl Responder {
    sandbox(&shared).set_moved_to(body.into_inner().to);
    HttpResponse::Ok().json(json!({"ok": true}))
}

#[derive(Deserialize)]
struct LaunchRequest {
    user_id: u64,
    #[serde(default)]
    lang: Option<String>,
}

async fn launch(shared: Shared, body: Json<LaunchRequest>) -> HttpResponse {
    match sandbox(&shared).launch_form(body.user_id, body.lang.as_deref()) {
        Ok(f) => HttpResponse::Ok().json(f),
        Err(e) => problem(400, e),
    }
}

async fn open(shared: Shared, body: Json<LaunchRequest>) -> HttpResponse {
    match sandbox(&shared).open_app(body.user_id).await {
        Ok((status, body)) => HttpResponse::Ok().json(json!({"status": status, "body": body})),
        Err(e) => problem(502, e),
    }
}

#[derive(Deserialize)]
struct PlacementRequest {
    user_id: u64,
    placement: String,
    #[serde(default)]
    entity_id: Option<u64>,
}

async fn placement_form(shared: Shared, body: Json<PlacementRequest>) -> HttpResponse {
    match sandbox(&shared).placement_form(body.user_id, &body.placement, body.entity_id) {
        Ok(f) => HttpResponse::Ok().json(f),
        Err(e) => problem(400, e),
    }
}

async fn deliveries(shared: Shared) -> impl Responder {
    HttpResponse::Ok().json(sandbox(&shared).deliveries())
}

async fn oauth_stats(shared: Shared) -> impl Responder {
    HttpResponse::Ok().json(sandbox(&shared).oauth_stats())
}

#[derive(Deserialize)]
struct CrmSearch {
    user: u64,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    q: String,
}

/// The portal page's CRM picker: up to 50 items of a type the user may read, matching the text.
async fn crm_search(shared: Shared, q: Query<CrmSearch>) -> HttpResponse {
    let st = shared.lock();
    let Some(perm) = st.users.get(&q.user).map(|u| u.permissions.clone()) else {
        return problem(404, format!("no user {}", q.user));
    };
    let needle = q.q.trim().to_lowercase();
    let hit = |texts: &[&str]| needle.is_empty() || texts.iter().any(|t| t.to_lowercase().contains(&needle));
    let base = &shared.info.portal_url;
    let rows: Vec<Value> = match q.kind.as_str() {
        "contact" => st
            .contacts
            .values()
            .filter(|c| perm.can_read(q.user, EntityKind::Contact, c.id, c.assigned_by_id))
            .filter(|c| {
                let full = format!("{} {}", c.name, c.last_name);
                let mut t: Vec<&str> = vec![&full, &c.post];
                t.extend(c.phones.iter().map(String::as_str));
                t.extend(c.emails.iter().map(String::as_str));
                hit(&t)
            })
            .take(50)
            .map(|c| {
                json!({"id": c.id, "title": format!("{} {}", c.name, c.last_name).trim(), "desc": c.post,
                       "url": format!("{base}crm/contact/details/{}/", c.id)})
            })
            .collect(),
        "company" => st
            .companies
            .values()
            .filter(|c| perm.can_read(q.user, EntityKind::Company, c.id, c.assigned_by_id))
            .filter(|c| {
                let mut t: Vec<&str> = vec![&c.title];
                t.extend(c.phones.iter().map(String::as_str));
                hit(&t)
            })
            .take(50)
            .map(|c| json!({"id": c.id, "title": c.title, "desc": "", "url": format!("{base}crm/company/details/{}/", c.id)}))
            .collect(),
        other => return problem(400, format!("unknown type {other}")),
    };
    HttpResponse::Ok().json(rows)
}
