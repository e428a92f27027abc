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
pub mod state;

use actix_web::middleware::DefaultHeaders;
use actix_web::web;

pub use state::AppState;

/// Every route of the app.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(health::healthz)
        .service(health::readyz)
        .service(health::metrics)
        .service(assets::asset)
        .service(
            web::resource("/install")
                .route(web::post().to(install::post))
                .route(web::head().to(install::head))
                .route(web::get().to(install::get)),
        )
        .service(
            web::resource("/app")
                .route(web::post().to(frame::open))
                .route(web::head().to(frame::head))
                .route(web::get().to(frame::get)),
        )
        .service(web::resource("/events").route(web::post().to(events::post)))
        .service(web::resource("/oauth/start").route(web::get().to(oauth::start)))
        .service(web::resource("/oauth/callback").route(web::get().to(oauth::callback)))
        .configure(lists::routes);
}

/// Headers every answer carries. No `X-Frame-Options`: the app lives in the portal's frame, which each
/// page's CSP `frame-ancestors` allows.
pub fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new().add(("X-Content-Type-Options", "nosniff")).add(("Referrer-Policy", "no-referrer"))
}
