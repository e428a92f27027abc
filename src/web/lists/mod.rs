//! The manager's pages: the call lists, one list with its members and history, picking members and a form,
//! reviewing a change, saving it, and creating a list. Navigation inside the iframe is by POST forms,
//! because the session reference travels in the body, never in a URL.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::error::PageError;
use super::i18n::{Texts, texts};
use super::messages;
use super::page::render;
use super::session::{Fields, Manager, resolve};
use super::state::AppState;
use crate::bitrix::methods::crm::Webform;
use crate::domain::{EntityType, WebformId};
use crate::editor::{self, Author};

mod carry;
mod change_form;
mod create;
mod history;
mod index;
mod list_page;
mod list_view;
mod placement;
mod review;
mod words;

pub use index::index;
pub use placement::record_page;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/lists").route(web::post().to(index::lists_page)))
        .service(web::resource("/lists/new").route(web::post().to(create::new_list)))
        .service(web::resource("/lists/create").route(web::post().to(create::create)))
        .service(web::resource("/lists/{id}").route(web::post().to(list_page::list_page)))
        .service(web::resource("/lists/{id}/save").route(web::post().to(review::save)));
}

/// A notice at the top of a page.
pub struct Notice {
    pub kind: &'static str,
    pub text: String,
}

impl Notice {
    pub fn info(text: impl Into<String>) -> Notice {
        Notice { kind: "info", text: text.into() }
    }
    pub fn success(text: impl Into<String>) -> Notice {
        Notice { kind: "success", text: text.into() }
    }
    pub fn warning(text: impl Into<String>) -> Notice {
        Notice { kind: "warning", text: text.into() }
    }
    pub fn error(text: impl Into<String>) -> Notice {
        Notice { kind: "error", text: text.into() }
    }
}

fn type_name(t: &Texts, e: EntityType) -> &'static str {
    match e {
        EntityType::Contact => t.type_contact,
        EntityType::Company => t.type_company,
    }
}

fn badge(e: EntityType) -> &'static str {
    match e {
        EntityType::Contact => "badge-contact",
        EntityType::Company => "badge-company",
    }
}

fn form_name(t: &Texts, forms: &[Webform], id: Option<WebformId>) -> String {
    match id {
        None => t.no_form.to_owned(),
        Some(id) => match forms.iter().find(|f| f.id == id) {
            Some(f) if f.active => f.name.clone(),
            Some(f) => format!("{} ({})", f.name, t.inactive),
            None => format!("#{id}"),
        },
    }
}

/// The manager behind a page's form, and the form's fields.
async fn session(
    state: &AppState,
    req: &HttpRequest,
    body: &[u8],
    changes: bool,
) -> Result<(Manager, Fields), PageError> {
    let fields = Fields::parse(body);
    let m = resolve(state, req, &fields, changes).await?;
    Ok((m, fields))
}

fn author(m: &Manager) -> Author {
    Author { user: m.session.user_id, name: m.session.user_name.clone() }
}

/// Writes an audit entry; a failure is logged, never shown: the change itself is done.
async fn record(state: &AppState, m: &Manager, entry: &crate::domain::AuditEntry) {
    if let Err(e) = state.store.record(&m.portal.member_id, entry).await {
        tracing::error!(error = %e, "cannot write the audit log");
    }
}

fn page(m: &Manager, page: &impl Template) -> Result<HttpResponse, PageError> {
    Ok(render(StatusCode::OK, &m.framing(), page))
}
