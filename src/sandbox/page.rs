//! The portal page: a simple Bitrix24-like layout with the app in its iframe, and the frame protocol.

use actix_web::{HttpResponse, web};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(index));
}

async fn index() -> HttpResponse {
    HttpResponse::Ok().content_type("text/html; charset=utf-8").body("<!doctype html><title>Bitrix24 sandbox</title>")
}
