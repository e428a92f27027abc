//! The two HTTP servers: the portal (REST, `/oauth/authorize/`, the portal page, the control API) and the
//! OAuth server (`/oauth/token/`, its own `/rest/`).

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::web::{self, Bytes, BytesMut};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer};
use futures_util::StreamExt;

use super::call::Host;
use super::config::OAuthFault;
use super::params::{self, PValue, parse_query};
use super::rest::{self, RawRequest, Reply};
use super::{Hub, Inner, PortalIndex, SandboxError, Shared, control, oauth, page};

/// The portal a path is for and the path within it: `/portal/3/rest/profile` → (3, `/rest/profile`), for a
/// portal the sandbox has. Paths without the prefix are the first portal's.
fn portal_prefix(path: &str, portals: usize) -> Option<(usize, String)> {
    let rest = path.strip_prefix("/portal/")?;
    let (index, within) = rest.split_once('/').unwrap_or((rest, ""));
    let index: usize = index.parse().ok().filter(|i| *i < portals)?;
    Some((index, format!("/{within}")))
}

/// Serves the portals after the first under `/portal/{i}/` on the same listener: the prefix is taken off the
/// request's path before routing, and the portal it named is kept for the handlers ([`Shared`]).
fn route_to_portal(req: &mut actix_web::dev::ServiceRequest, portals: usize) {
    use actix_web::HttpMessage;
    let Some((index, within)) = portal_prefix(req.path(), portals) else { return };
    let path_and_query = match req.query_string() {
        "" => within,
        q => format!("{within}?{q}"),
    };
    let mut parts = req.head().uri.clone().into_parts();
    parts.path_and_query = path_and_query.parse().ok();
    if let Ok(uri) = actix_web::http::Uri::from_parts(parts) {
        req.match_info_mut().get_mut().update(&uri);
        req.head_mut().uri = uri;
        req.extensions_mut().insert(PortalIndex(index));
    }
}

/// Starts both servers on the given listeners; they run on the current Tokio runtime.
pub(crate) fn spawn(
    hub: Arc<Hub>,
    portal: TcpListener,
    oauth_listener: TcpListener,
) -> Result<Vec<actix_web::dev::ServerHandle>, SandboxError> {
    use actix_web::dev::Service;
    let first = hub.portals[0].clone();
    let workers = first.info.config.workers.max(1);
    let portals = hub.portals.len();
    let bind_err = |l: &TcpListener, source| SandboxError::Bind {
        addr: l.local_addr().unwrap_or_else(|_| std::net::SocketAddr::from(([0, 0, 0, 0], 0))),
        source,
    };
    let data = web::Data::new(hub.clone());
    let d1 = data.clone();
    let portal_addr = portal.local_addr().ok();
    let portal_server = HttpServer::new(move || {
        App::new()
            .app_data(d1.clone())
            .wrap_fn(move |mut req, srv| {
                route_to_portal(&mut req, portals);
                srv.call(req)
            })
            .route("/rest/{method:.*}", web::route().to(rest_portal))
            .route("/oauth/authorize", web::get().to(authorize))
            .route("/oauth/authorize/", web::get().to(authorize))
            .configure(control::routes)
            .configure(page::routes)
            .default_service(web::to(not_found))
    })
    .workers(workers)
    .disable_signals()
    .shutdown_timeout(1)
    .listen(portal.try_clone().map_err(|e| bind_err(&portal, e))?)
    .map_err(|e| bind_err(&portal, e))?
    .run();
    let d2 = data.clone();
    let oauth_server = HttpServer::new(move || {
        App::new()
            .app_data(d2.clone())
            .route("/oauth/token", web::route().to(token))
            .route("/oauth/token/", web::route().to(token))
            .route("/rest/{method:.*}", web::route().to(rest_oauth))
            .default_service(web::to(not_found))
    })
    .workers(workers)
    .disable_signals()
    .shutdown_timeout(1)
    .listen(oauth_listener.try_clone().map_err(|e| bind_err(&oauth_listener, e))?)
    .map_err(|e| bind_err(&oauth_listener, e))?
    .run();
    let handles = vec![portal_server.handle(), oauth_server.handle()];
    tokio::spawn(portal_server);
    tokio::spawn(oauth_server);
    tracing::debug!(portal = ?portal_addr, "sandbox started");
    Ok(handles)
}

/// Reads a body up to the limit; `None` when it is larger (or the client went away).
pub async fn read_body(mut payload: web::Payload, limit: usize) -> Result<Bytes, u16> {
    let mut buf = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| 400u16)?;
        if buf.len() + chunk.len() > limit {
            return Err(413);
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

/// An HTML error page, as a front proxy writes it (a body too large, a server error).
fn html_error(status: u16) -> HttpResponse {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    HttpResponse::build(code)
        .content_type("text/html")
        .body(format!("<html><body><h1>{status} {}</h1></body></html>", code.canonical_reason().unwrap_or("")))
}

fn header<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// What the portal's REST headers say about a call (reference 5.1): the app that made it, and its times.
pub struct RestHeaders<'a> {
    /// The app's `client_id`, when the call was made with one of its tokens.
    pub application: Option<&'a str>,
    /// `X-Bitrix-Rest-Time`: seconds from reading the request to its answer.
    pub time: f64,
    /// `X-Bitrix-Rest-User-Time`: seconds the method ran. The sandbox holds the portal's lock and does no
    /// I/O while a method runs, so its running time stands for the CPU time the portal reports.
    pub user_time: f64,
    /// `X-Bitrix-Rest-System-Time`: the sandbox spends no measurable system time in a method.
    pub system_time: f64,
}

pub fn to_response(reply: Reply, headers: &RestHeaders<'_>) -> HttpResponse {
    if reply.drop {
        // An error from the body stream makes actix close the connection without writing the answer.
        let failing =
            futures_util::stream::once(async { Err::<Bytes, std::io::Error>(std::io::Error::other("dropped")) });
        return HttpResponse::Ok().streaming(failing);
    }
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut b = HttpResponse::build(status);
    if !reply.content_type.is_empty() {
        b.content_type(reply.content_type);
    }
    b.insert_header(("Access-Control-Allow-Origin", "*"));
    if let Some(client_id) = headers.application {
        b.insert_header(("X-Bitrix-Rest-Application", client_id.to_owned()));
    }
    // The portal writes these with PHP's `number_format($seconds, 10, '.', '')`.
    b.insert_header(("X-Bitrix-Rest-Time", format!("{:.10}", headers.time)));
    b.insert_header(("X-Bitrix-Rest-User-Time", format!("{:.10}", headers.user_time)));
    b.insert_header(("X-Bitrix-Rest-System-Time", format!("{:.10}", headers.system_time)));
    if let Some(loc) = reply.location {
        b.insert_header(("Location", loc));
    }
    b.body(reply.body)
}

async fn rest_common(req: HttpRequest, payload: web::Payload, inner: &Inner, host: Host) -> HttpResponse {
    if req.method() == actix_web::http::Method::OPTIONS {
        return HttpResponse::NoContent()
            .insert_header(("Access-Control-Allow-Origin", "*"))
            .insert_header(("Access-Control-Allow-Methods", "GET, POST, OPTIONS"))
            .insert_header(("Access-Control-Allow-Headers", "*"))
            .finish();
    }
    let body = match read_body(payload, inner.info.config.max_body_bytes).await {
        Ok(b) => b,
        Err(status) => return html_error(status),
    };
    if host == Host::Portal {
        let delay = inner.lock().rt.latency();
        if let Some(d) = delay {
            tokio::time::sleep(d).await;
        }
    }
    let method = req.match_info().get("method").unwrap_or("").to_owned();
    // Parsing and writing the JSON out happen outside the lock; only the call itself holds it.
    let wall = std::time::Instant::now();
    let raw = RawRequest {
        method: &method,
        query: req.query_string(),
        body: params::read_body(header(&req, "content-type"), body).await,
        authorization: header(&req, "authorization"),
    };
    let parsed = rest::parse(raw);
    // The OAuth server's `/rest/` serves every portal: the token says whose call it is.
    let hub = hub_of(&req);
    let inner: &Inner = match (host, &hub) {
        (Host::OAuth, Some(hub)) => hub.portal_of(parsed.token()),
        _ => inner,
    };
    let answered = {
        let mut st = inner.lock();
        rest::handle(&mut st, &inner.info, host, parsed, wall)
    };
    let time = wall.elapsed().as_secs_f64();
    let headers = RestHeaders {
        application: answered.by_app.then_some(inner.info.client_id.as_str()),
        time,
        user_time: answered.method_secs.min(time),
        system_time: 0.0,
    };
    to_response(answered.answer.into_reply(), &headers)
}

fn hub_of(req: &HttpRequest) -> Option<Arc<Hub>> {
    req.app_data::<web::Data<Arc<Hub>>>().map(|d| d.get_ref().clone())
}

async fn rest_portal(req: HttpRequest, payload: web::Payload, shared: Shared) -> HttpResponse {
    rest_common(req, payload, shared.get_ref(), Host::Portal).await
}

async fn rest_oauth(req: HttpRequest, payload: web::Payload, hub: web::Data<Arc<Hub>>) -> HttpResponse {
    let first = hub.portals[0].clone();
    rest_common(req, payload, &first, Host::OAuth).await
}

/// The code or refresh token a grant names: the OAuth server finds the portal that issued it.
fn grant_token(fields: &params::PArr) -> Option<String> {
    let text = |k: &str| fields.get(k).and_then(PValue::php_string).filter(|s| !s.is_empty());
    match text("grant_type").as_deref() {
        Some("refresh_token") => text("refresh_token"),
        _ => text("code"),
    }
}

async fn token(req: HttpRequest, payload: web::Payload, hub: web::Data<Arc<Hub>>) -> HttpResponse {
    let body = match read_body(payload, 1024 * 1024).await {
        Ok(b) => b,
        Err(status) => return html_error(status),
    };
    let mut fields = parse_query(req.query_string());
    let reads_body = hub.portals[0].info.config.quirks.token_endpoint_reads_post_body;
    if reads_body {
        fields.merge_over(params::read_body(header(&req, "content-type"), body).await);
    }
    let inner = hub.portal_of(grant_token(&fields).as_deref());
    if let Some(fault) = hub.take_oauth_fault() {
        return oauth_fault(inner, fault, &fields).await;
    }
    let result = {
        let mut st = inner.lock();
        oauth::token(&mut st, &inner.info, &fields)
    };
    match result {
        Ok(t) => HttpResponse::Ok().json(t),
        Err(e) => HttpResponse::build(StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST)).json(e.body()),
    }
}

/// The token endpoint's answer to an injected fault: a hang until the client gives up, a proxy's 5xx page,
/// or an error body.
async fn oauth_fault(inner: &Inner, fault: OAuthFault, fields: &params::PArr) -> HttpResponse {
    if fault == OAuthFault::Hang {
        tokio::time::sleep(std::time::Duration::from_secs(inner.info.config.oauth_hang_secs)).await;
    }
    let grant_type = fields.get("grant_type").and_then(PValue::php_string).unwrap_or_default();
    let (status, body) = {
        let mut st = inner.lock();
        oauth::fault_answer(&mut st, &inner.info, fault, &grant_type)
    };
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    match body {
        Some(body) => HttpResponse::build(code).json(body),
        None => html_error(status),
    }
}

async fn authorize(req: HttpRequest, shared: Shared) -> HttpResponse {
    let inner = shared.get_ref();
    let params = parse_query(req.query_string());
    let outcome = {
        let mut st = inner.lock();
        oauth::authorize(&mut st, &inner.info, &params)
    };
    match outcome {
        oauth::Authorize::Redirect(to) => HttpResponse::Found().insert_header(("Location", to)).finish(),
        oauth::Authorize::Refused(why) => HttpResponse::BadRequest()
            .content_type("text/html; charset=utf-8")
            .body(format!("<!doctype html><title>Bitrix24</title><p id=\"oauth-error\">{why}</p>")),
    }
}

async fn not_found() -> HttpResponse {
    HttpResponse::NotFound().content_type("text/html").body("<h1>404 Not Found</h1>")
}
