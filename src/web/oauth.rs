//! Renewing a portal's access: `GET /oauth/start?portal=MEMBER_ID` sends the administrator to the portal's
//! OAuth page; `GET /oauth/callback` finishes. The re-authorisation use case does the work.

use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, LOCATION};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::error::{PageError, Problem, Viewer, requested_lang};
use super::i18n::texts;
use super::page::{Framing, notice};
use super::state::AppState;
use crate::bitrix::incoming::{FormError, FormProblem};
use crate::domain::MemberId;

#[derive(Deserialize)]
pub struct Start {
    portal: Option<String>,
}

pub async fn start(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<Start>,
) -> Result<HttpResponse, PageError> {
    let lang = requested_lang(req.head(), req.query_string());
    let raw = q.portal.as_deref().unwrap_or_default();
    let member_id = MemberId::parse(raw).map_err(|e| {
        PageError::new(
            StatusCode::BAD_REQUEST,
            Problem::BadForm(FormError { field: "portal", problem: FormProblem::NotAMemberId(e.to_string()) }),
        )
    })?;
    let url = state.portals.start_reauth(member_id, lang).await?;
    Ok(HttpResponse::Found()
        .insert_header((LOCATION, url.as_str()))
        .insert_header((CACHE_CONTROL, "no-store"))
        .finish())
}

#[derive(Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
}

pub async fn callback(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<Callback>,
) -> Result<HttpResponse, PageError> {
    let lang = match state.portals.finish_reauth(q.state.as_deref(), q.code.as_deref()).await {
        Ok(lang) => lang,
        Err(e) => {
            if let Some(lang) = e.lang() {
                Viewer::record(&req, lang, Framing::none());
            }
            return Err(e.into());
        }
    };
    let t = texts(lang);
    Ok(notice(lang, &Framing::none(), t.oauth_done_title, t.oauth_done))
}
