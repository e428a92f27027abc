//! The manager's pages: call lists, one list, picking members and a form, saving.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::i18n::{Texts, texts};
use super::page::render;
use super::session::{Fields, Manager, resolve};
use crate::startup::AppState;

#[derive(Template)]
#[template(path = "lists.html")]
struct ListsPage<'a> {
    t: &'a Texts,
    m: &'a Manager,
    notice: Option<String>,
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/lists").route(web::post().to(lists_page)));
}

async fn lists_page(state: web::Data<AppState>, req: actix_web::HttpRequest, body: web::Bytes) -> HttpResponse {
    let fields = Fields::parse(&body);
    let m = match resolve(&state, &req, &fields, false).await {
        Ok(m) => m,
        Err(page) => return page,
    };
    let page = fields.get("page").and_then(|p| p.parse().ok()).unwrap_or(0);
    index(&state, &m, page, None).await
}

/// The call lists of the portal.
pub async fn index(_state: &AppState, m: &Manager, _page: u64, notice: Option<String>) -> HttpResponse {
    let t = texts(m.lang());
    render(StatusCode::OK, &m.framing(), &ListsPage { t, m, notice })
}
