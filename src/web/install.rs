//! The install page (`POST /install`): Bitrix24 opens it when an administrator installs the app. The install
//! use case believes it only once the OAuth server vouches for its tokens; the page then tells the portal
//! the install is finished.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::error::{PageError, Viewer, requested_lang};
use super::i18n::{Texts, texts};
use super::page::{Framing, notice, render};
use super::state::AppState;
use crate::bitrix::incoming::{FormError, FormProblem, FrameForm, FrameQuery};
use crate::domain::PortalStatus;

#[derive(Template)]
#[template(path = "install.html")]
struct InstallPage<'a> {
    t: &'a Texts,
}

pub async fn head() -> HttpResponse {
    HttpResponse::Ok().finish()
}

pub async fn get(req: HttpRequest) -> HttpResponse {
    let lang = requested_lang(req.head(), req.query_string());
    let t = texts(lang);
    notice(lang, &Framing::none(), t.install_title, t.install_page_get)
}

pub async fn post(state: web::Data<AppState>, req: HttpRequest, body: web::Bytes) -> Result<HttpResponse, PageError> {
    let query = FrameQuery::parse(req.query_string());
    Viewer::record(&req, requested_lang(req.head(), req.query_string()), Framing::claimed(&query.domain, query.https));
    let form = FrameForm::parse(&body)?;
    let refresh = form.refresh_id.clone().ok_or(FormError { field: "REFRESH_ID", problem: FormProblem::Missing })?;
    let installing = PortalStatus::Installing;
    let client = req.peer_addr().map(|a| a.ip());
    let app_token = form.application_token.clone();
    let portal = state.portals.install(&form.member_id, &refresh, app_token, installing, client).await?;
    tracing::info!(member_id = %portal.member_id, "installed through the install page");
    let page = InstallPage { t: texts(query.lang) };
    Ok(render(StatusCode::OK, &Framing::portal(&portal.client_endpoint), &page))
}
