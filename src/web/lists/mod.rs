//! The manager's pages: the call lists, one list with its members and history, picking members and a form,
//! reviewing a change, saving it, and creating a list. Navigation inside the iframe is by POST forms,
//! because the session reference travels in the body, never in a URL.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::i18n::{Texts, texts};
use super::messages;
use super::page::{problem, render};
use super::session::{Fields, Manager, resolve};
use crate::bitrix::BitrixError;
use crate::bitrix::methods::calllist::{CallStatus, Member};
use crate::bitrix::methods::crm::{CrmItem, Webform};
use crate::domain::{Change, EntityId, EntityType, ListId, WebformId};
use crate::editor::{self, FormIntent, Intent, MATCH_CAP, Preview, SaveError};
use crate::startup::AppState;
use crate::store::{AuditEntry, AuditRecord};

mod create;
mod index;
mod list_page;
mod review;

use create::{create, new_list};
pub use index::index;
use index::lists_page;
use list_page::*;
use review::*;

const MEMBERS_PER_PAGE: usize = 50;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/lists").route(web::post().to(lists_page)))
        .service(web::resource("/lists/new").route(web::post().to(new_list)))
        .service(web::resource("/lists/create").route(web::post().to(create)))
        .service(web::resource("/lists/{id}").route(web::post().to(list_page)))
        .service(web::resource("/lists/{id}/save").route(web::post().to(save)));
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

async fn session(
    state: &AppState,
    req: &HttpRequest,
    body: &[u8],
    changes: bool,
) -> Result<(Manager, Fields), HttpResponse> {
    let fields = Fields::parse(body);
    let m = resolve(state, req, &fields, changes).await?;
    Ok((m, fields))
}

fn bitrix_failure(state: &AppState, m: &Manager, e: &BitrixError) -> HttpResponse {
    state.metrics.error(&e.kind());
    tracing::warn!(member_id = %m.portal.member_id, error = %e.kind(), "a Bitrix24 call failed");
    let status = match e {
        BitrixError::Api(a) if a.code.is_auth() => StatusCode::UNAUTHORIZED,
        BitrixError::NeedsReauthorisation { .. } => StatusCode::UNAUTHORIZED,
        BitrixError::Api(_) => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::BAD_GATEWAY,
    };
    problem(status, m.lang(), &m.framing(), &messages::bitrix(m.lang(), e), None)
}
