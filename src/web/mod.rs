//! HTTP: actix-web handlers and askama views. Thin: parse the request, call the layers below, render.

pub mod assets;
pub mod error;
pub mod events;
pub mod frame;
pub mod health;
pub mod i18n;
pub mod install;
pub mod lists;
pub mod log_span;
pub mod messages;
pub mod oauth;
pub mod page;
pub mod session;
pub mod slow_bodies;
pub mod state;

use actix_web::middleware::DefaultHeaders;
use actix_web::web;

pub use state::AppState;

/// Every route of the app.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(probe("/healthz", health::healthz))
        .service(probe("/readyz", health::readyz))
        .service(probe("/metrics", health::metrics))
        .service(assets::asset)
        .service(
            web::resource("/install")
                .app_data(portal_form_limit())
                .route(web::post().to(install::post))
                .route(web::head().to(install::head))
                .route(web::get().to(install::get)),
        )
        .service(
            web::resource("/app")
                .app_data(portal_form_limit())
                .route(web::post().to(frame::open))
                .route(web::head().to(frame::head))
                .route(web::get().to(frame::get)),
        )
        .service(web::resource("/events").route(web::post().to(events::post)))
        .service(web::resource("/oauth/start").route(web::get().to(oauth::start)))
        .service(web::resource("/oauth/callback").route(web::get().to(oauth::callback)))
        .configure(lists::routes);
}

/// The pages the portal opens take no more than its parsers read: a larger body from a sender nobody has
/// vouched for yet is refused (413) before it is buffered.
fn portal_form_limit() -> web::PayloadConfig {
    web::PayloadConfig::new(crate::bitrix::incoming::MAX_FORM_BYTES)
}

/// A monitoring address: `GET`, and `HEAD` answered the same way without the body (load balancers and
/// uptime checks use either), any other method 405. A `#[get]` route would answer `HEAD` with 404, and
/// other methods too, since its guard hides the whole resource from them.
fn probe<F, Args>(path: &str, handler: F) -> actix_web::Resource
where
    F: actix_web::Handler<Args>,
    Args: actix_web::FromRequest + 'static,
    F::Output: actix_web::Responder + 'static,
{
    web::resource(path).route(web::get().to(handler.clone())).route(web::head().to(handler))
}

/// Headers every answer carries. No `X-Frame-Options`: the app lives in the portal's frame, which each
/// page's CSP `frame-ancestors` allows.
pub fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new().add(("X-Content-Type-Options", "nosniff")).add(("Referrer-Policy", "no-referrer"))
}
