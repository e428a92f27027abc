//! Installing: the install page (`POST /install`) and the `ONAPPINSTALL` event both carry tokens that
//! anyone could forge. They are believed only once the OAuth server (`B24_OAUTH_SERVER`) vouches for them:
//! the refresh token is exchanged there, and its answer names the portal (`member_id`, `client_endpoint`).
//! The request's own `DOMAIN` is never trusted.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use secrecy::SecretString;

use super::i18n::{Texts, texts};
use super::page::{Framing, notice, problem, render};
use crate::bitrix::incoming::{FrameForm, FrameQuery};
use crate::bitrix::oauth::is_dead_grant;
use crate::bitrix::{Auth, BitrixError, TokenGrant, TokenOwner};
use crate::domain::{MemberId, PortalStatus};
use crate::startup::AppState;
use crate::store::{Portal, PortalInstall};

#[derive(Template)]
#[template(path = "install.html")]
struct InstallPage<'a> {
    t: &'a Texts,
}

pub async fn head() -> HttpResponse {
    HttpResponse::Ok().finish()
}

pub async fn get(req: HttpRequest) -> HttpResponse {
    let q = FrameQuery::parse(req.query_string());
    let t = texts(q.lang);
    notice(q.lang, &Framing::none(), t.install_title, t.install_page_get)
}

/// Why an install could not be believed.
#[derive(Debug)]
pub enum Unverified {
    /// The OAuth server refused the token, or named another portal.
    Refused(String),
    /// The OAuth server could not be asked.
    Unreachable(BitrixError),
    Store(String),
}

/// Exchanges `refresh_token` at the OAuth server and stores the portal it names, if it is `claimed`.
pub async fn verify_and_store(
    state: &AppState,
    claimed: &MemberId,
    refresh_token: &SecretString,
    application_token: Option<SecretString>,
    status: PortalStatus,
) -> Result<Portal, Unverified> {
    let grant: TokenGrant = match state.bitrix.tokens.oauth().refresh(refresh_token).await {
        Ok(g) => g,
        Err(e) if is_dead_grant(&e) || e.api().is_some() => return Err(Unverified::Refused(e.to_string())),
        Err(e) => return Err(Unverified::Unreachable(e)),
    };
    if grant.member_id != *claimed {
        return Err(Unverified::Refused(format!(
            "the OAuth server answered for portal {}, not {claimed}",
            grant.member_id
        )));
    }
    let install = PortalInstall {
        member_id: grant.member_id.clone(),
        domain: grant
            .client_endpoint
            .host_str()
            .map(|h| match grant.client_endpoint.port() {
                Some(p) => format!("{h}:{p}"),
                None => h.to_owned(),
            })
            .unwrap_or_default(),
        client_endpoint: grant.client_endpoint.clone(),
        server_endpoint: grant.server_endpoint.clone().unwrap_or_else(|| state.bitrix.tokens.oauth().server_rest()),
        scope: grant.scope.clone(),
        tokens: grant.tokens,
        application_token,
        status,
    };
    state.store.save_install(&install).await.map_err(|e| Unverified::Store(e.to_string()))
}

/// Binds `ONAPPUNINSTALL` to our handler so the portal tells us when the app is removed.
pub async fn bind_events(state: &AppState, portal: &Portal) {
    let handler = match state.settings.base_url.join("events") {
        Ok(u) => u,
        Err(_) => return,
    };
    let caller = state.bitrix.caller(
        portal.member_id.clone(),
        portal.client_endpoint.clone(),
        Auth::Stored(TokenOwner::Portal(portal.member_id.clone())),
    );
    if let Err(e) = caller.event_bind("ONAPPUNINSTALL", handler.as_str()).await {
        tracing::warn!(member_id = %portal.member_id, error = %e, "cannot bind ONAPPUNINSTALL");
    }
}

pub async fn post(state: web::Data<AppState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let query = FrameQuery::parse(req.query_string());
    let lang = query.lang;
    let t = texts(lang);
    let claimed = Framing::claimed(&query.domain, query.https);
    let form = match FrameForm::parse(&body) {
        Ok(f) => f,
        Err(e) => return problem(StatusCode::BAD_REQUEST, lang, &claimed, t.err_bad_form, Some(e.to_string())),
    };
    let Some(refresh) = form.refresh_id.clone() else {
        return problem(StatusCode::BAD_REQUEST, lang, &claimed, t.err_bad_form, Some("REFRESH_ID: is missing".into()));
    };
    let portal = match verify_and_store(
        &state,
        &form.member_id,
        &refresh,
        form.application_token.clone(),
        PortalStatus::Installing,
    )
    .await
    {
        Ok(p) => p,
        Err(Unverified::Refused(why)) => {
            tracing::warn!(member_id = %form.member_id, reason = %why, "an install was not confirmed by the OAuth server");
            return problem(StatusCode::FORBIDDEN, lang, &claimed, t.err_install_unverified, None);
        }
        Err(Unverified::Unreachable(e)) => {
            tracing::warn!(error = %e, "the OAuth server could not be asked about an install");
            return problem(StatusCode::BAD_GATEWAY, lang, &claimed, t.err_portal_unreachable, None);
        }
        Err(Unverified::Store(e)) => {
            tracing::error!(error = %e, "cannot store an install");
            return problem(StatusCode::SERVICE_UNAVAILABLE, lang, &claimed, t.err_internal, None);
        }
    };
    tracing::info!(member_id = %portal.member_id, "installed through the install page");
    bind_events(&state, &portal).await;
    render(StatusCode::OK, &Framing::portal(&portal.client_endpoint), &InstallPage { t })
}
