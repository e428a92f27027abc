//! The two HTTP servers: the portal (REST, `/oauth/authorize/`, the portal page, the control API) and the
//! OAuth server (`/oauth/token/`, its own `/rest/`).

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::web::{self, Bytes, BytesMut};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer};
use futures_util::StreamExt;

use super::call::Host;
use super::params::{self, parse_query};
use super::rest::{self, RawRequest, Reply};
use super::{Inner, SandboxError, Shared, control, oauth, page};

/// Starts both servers on the given listeners; they run on the current Tokio runtime.
pub(crate) fn spawn(
    inner: Arc<Inner>,
    portal: TcpListener,
    oauth_listener: TcpListener,
) -> Result<Vec<actix_web::dev::ServerHandle>, SandboxError> {
    let workers = inner.info.config.workers.max(1);
    let bind_err = |l: &TcpListener, source| SandboxError::Bind {
        addr: l.local_addr().unwrap_or_else(|_| std::net::SocketAddr::from(([0, 0, 0, 0], 0))),
        source,
    };
    let data = web::Data::new(inner.clone());
    let d1 = data.clone();
    let portal_addr = portal.local_addr().ok();
    let portal_server = HttpServer::new(move || {
        App::new()
            .app_data(d1.clone())
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

fn too_large(status: u16) -> HttpResponse {
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

async fn rest_common(req: HttpRequest, payload: web::Payload, shared: Shared, host: Host) -> HttpResponse {
    if req.method() == actix_web::http::Method::OPTIONS {
        return HttpResponse::NoContent()
            .insert_header(("Access-Control-Allow-Origin", "*"))
            .insert_header(("Access-Control-Allow-Methods", "GET, POST, OPTIONS"))
            .insert_header(("Access-Control-Allow-Headers", "*"))
            .finish();
    }
    let inner = shared.get_ref();
    let body = match read_body(payload, inner.info.config.max_body_bytes).await {
        Ok(b) => b,
        Err(status) => return too_large(status),
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

async fn rest_portal(req: HttpRequest, payload: web::Payload, shared: Shared) -> HttpResponse {
    rest_common(req, payload, shared, Host::Portal).await
}

async fn rest_oauth(req: HttpRequest, payload: web::Payload, shared: Shared) -> HttpResponse {
    rest_common(req, payload, shared, Host::OAuth).await
}

async fn token(req: HttpRequest, payload: web::Payload, shared: Shared) -> HttpResponse {
    let inner = shared.get_ref();
    let body = match read_body(payload, 1024 * 1024).await {
        Ok(b) => b,
        Err(status) => return too_large(status),
    };
    let mut fields = parse_query(req.query_string());
    fields.merge_over(params::read_body(header(&req, "content-type"), body).await);
    let result = {
        let mut st = inner.lock();
        oauth::token(&mut st, &inner.info, &fields)
    };
    match result {
        Ok(t) => HttpResponse::Ok().json(t),
        Err(e) => HttpResponse::build(StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST)).json(e.body()),
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
