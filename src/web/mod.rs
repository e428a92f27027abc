//! HTTP: actix-web handlers and views. Thin: parse the request, call the layers below, render.

mod health;

use actix_web::web;

/// Every route of the app.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(health::healthz).service(health::readyz);
}
