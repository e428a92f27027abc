//! `POST /app`: the portal opens the app in its iframe. The portal is found by `member_id` among installed
//! ones and called only at its stored endpoint (the request's `DOMAIN` is never called); the user's
//! `AUTH_ID` is checked there with `user.current` before a session starts.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use secrecy::SecretString;
use serde_json::json;

use super::i18n::texts;
use super::page::{Framing, notice, problem};
use super::session::{MAX_SESSION_SECS, Manager, PageTokens};
use crate::bitrix::batch::Command;
use crate::bitrix::incoming::{FrameForm, FrameQuery};
use crate::bitrix::methods::app::{parse_profile, parse_user};
use crate::bitrix::{Auth, BitrixError, ErrorCode};
use crate::domain::{PortalStatus, TokenPair};
use crate::startup::AppState;
use crate::store::{NewSession, Session};

/// The marketplace's availability check sends `HEAD` and wants 200.
pub async fn head() -> HttpResponse {
    HttpResponse::Ok().finish()
}

/// Someone opened the handler URL directly: say where the app lives.
pub async fn get(req: HttpRequest) -> HttpResponse {
    let q = FrameQuery::parse(req.query_string());
    let t = texts(q.lang);
    notice(q.lang, &Framing::none(), t.app_name, t.reopen_hint)
}

pub async fn open(state: web::Data<AppState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let query = FrameQuery::parse(req.query_string());
    let lang = query.lang;
    let t = texts(lang);
    let claimed = Framing::claimed(&query.domain, query.https);
    let form = match FrameForm::parse(&body) {
        Ok(f) => f,
        Err(e) => return problem(StatusCode::BAD_REQUEST, lang, &claimed, t.err_bad_form, Some(e.to_string())),
    };
    let portal = match state.store.portal(&form.member_id).await {
        Ok(Some(p)) if p.status.is_installed() => p,
        Ok(_) => {
            tracing::warn!(member_id = %form.member_id, "the app was opened for a portal that has not installed it");
            return problem(StatusCode::FORBIDDEN, lang, &claimed, t.err_unknown_portal, None);
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot read the portal");
            return problem(StatusCode::SERVICE_UNAVAILABLE, lang, &claimed, t.err_internal, None);
        }
    };
    let framing = Framing::portal(&portal.client_endpoint);
    if !query.domain.is_empty() && !query.domain.eq_ignore_ascii_case(&portal.domain) {
        // Only informational: the stored endpoint is used either way.
        tracing::warn!(member_id = %portal.member_id, "the request's DOMAIN differs from the stored portal");
    }

    // Who is this? Asked of the stored portal, with the token the request carries.
    let caller = state
        .bitrix
        .caller(portal.member_id.clone(), portal.client_endpoint.clone(), Auth::Fixed(form.auth_id.clone()))
        .with_budget(Duration::from_secs(15));
    let commands = [Command::new("user", "user.current", json!({})), Command::new("profile", "profile", json!({}))];
    let checked = match caller.batch_once(&commands, false).await {
        Ok(mut out) => out.take("user").and_then(|u| parse_user(&u)).map(|user| {
            let admin = out.take("profile").and_then(|p| parse_profile(&p)).map(|p| p.admin).unwrap_or(false);
            (user, admin)
        }),
        Err(e) => Err(e),
    };
    let (user, is_admin) = match checked {
        Ok(v) => v,
        Err(e) => return refused(&e, lang, &framing),
    };
    if let Some(moved) = caller.moved_to()
        && let Err(e) = state.store.set_client_endpoint(&portal.member_id, &moved).await
    {
        tracing::warn!(error = %e, "cannot keep the portal's new address");
    }
    if portal.status == PortalStatus::Installing
        && let Err(e) =
            state.store.set_status(&portal.member_id, PortalStatus::Active, "opened after the install").await
    {
        tracing::warn!(error = %e, "cannot mark the portal active");
    }
    let now = chrono::Utc::now().timestamp();
    let new = NewSession {
        member_id: portal.member_id.clone(),
        user_id: user.id.get(),
        user_name: user.display_name(),
        lang,
        is_admin,
        tokens: TokenPair {
            access_token: form.auth_id.clone(),
            // Without REFRESH_ID the session simply ends when the access token does.
            refresh_token: form.refresh_id.clone().unwrap_or_else(|| SecretString::from(String::new())),
            expires_at: now + form.auth_expires.min(86_400) as i64,
        },
        ends_at: now + MAX_SESSION_SECS,
    };
    let id = match state.store.create_session(&new).await {
        Ok(id) => id,
        Err(e) => {
            tracing::error!(error = %e, "cannot start a session");
            return problem(StatusCode::SERVICE_UNAVAILABLE, lang, &framing, t.err_internal, None);
        }
    };
    tracing::info!(member_id = %portal.member_id, user_id = user.id.get(), "a manager opened the app");
    let session = Session {
        id: id.clone(),
        member_id: portal.member_id.clone(),
        user_id: new.user_id,
        user_name: new.user_name,
        lang,
        is_admin,
        ends_at: new.ends_at,
    };
    let manager = Manager { tokens: PageTokens::issue(&state, &id), session, portal };
    super::lists::index(&state, &manager, 0, None).await
}

fn refused(e: &BitrixError, lang: crate::domain::Lang, framing: &Framing) -> HttpResponse {
    let t = texts(lang);
    match e.code() {
        Some(c) if c.is_auth() => {
            tracing::info!(error = %e.kind(), "the portal did not confirm the user's token");
            problem(StatusCode::UNAUTHORIZED, lang, framing, t.err_token_refused, None)
        }
        Some(ErrorCode::AccessDenied) => problem(StatusCode::FORBIDDEN, lang, framing, t.err_token_refused, None),
        _ => {
            tracing::warn!(error = %e, "the portal could not check the user");
            problem(StatusCode::BAD_GATEWAY, lang, framing, t.err_portal_unreachable, None)
        }
    }
}
