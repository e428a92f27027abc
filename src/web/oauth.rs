//! Re-authorising a portal whose refresh token died: `GET /oauth/start?portal=MEMBER_ID` sends the
//! administrator to the portal's `/oauth/authorize/` with a signed, expiring, one-time `state`;
//! `GET /oauth/callback` checks it, exchanges the code through the client and stores the new pair.

use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, LOCATION};
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use serde::Deserialize;

use super::i18n::texts;
use super::page::{Framing, notice, problem};
use super::signing::Use;
use crate::domain::{Lang, MemberId, PortalStatus};
use crate::startup::AppState;
use crate::store::PortalInstall;

/// How long an administrator has between starting and finishing.
const STATE_TTL_SECS: i64 = 600;

#[derive(Deserialize)]
pub struct Start {
    portal: Option<String>,
    lang: Option<String>,
}

pub async fn start(state: web::Data<AppState>, q: web::Query<Start>) -> HttpResponse {
    let lang = Lang::from_portal(q.lang.as_deref().unwrap_or("en"));
    let t = texts(lang);
    let none = Framing::none();
    let member_id = match MemberId::parse(q.portal.as_deref().unwrap_or_default()) {
        Ok(m) => m,
        Err(e) => return problem(StatusCode::BAD_REQUEST, lang, &none, t.err_bad_form, Some(format!("portal: {e}"))),
    };
    let portal = match state.store.portal(&member_id).await {
        Ok(Some(p)) if p.status.is_installed() => p,
        _ => return problem(StatusCode::NOT_FOUND, lang, &none, t.err_unknown_portal, None),
    };
    let mut nonce = [0u8; 18];
    rand::rng().fill_bytes(&mut nonce);
    let nonce = URL_SAFE_NO_PAD.encode(nonce);
    if let Err(e) = state.store.remember_oauth_state(&nonce, &member_id, STATE_TTL_SECS).await {
        tracing::error!(error = %e, "cannot remember an OAuth state");
        return problem(StatusCode::SERVICE_UNAVAILABLE, lang, &none, t.err_internal, None);
    }
    let expires = chrono::Utc::now().timestamp() + STATE_TTL_SECS;
    let signed = state.signer.sign(Use::OAuthState, &format!("{nonce}~{member_id}~{expires}~{}", lang.code()));
    let url = state.bitrix.tokens.oauth().authorize_url(&portal.client_endpoint, &signed);
    HttpResponse::Found().insert_header((LOCATION, url.as_str())).insert_header((CACHE_CONTROL, "no-store")).finish()
}

#[derive(Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
}

pub async fn callback(state: web::Data<AppState>, q: web::Query<Callback>, _req: HttpRequest) -> HttpResponse {
    let none = Framing::none();
    let refused = |lang: Lang, why: &str| {
        tracing::warn!(reason = why, "an OAuth callback was refused");
        problem(StatusCode::BAD_REQUEST, lang, &none, texts(lang).err_install_unverified, Some(why.to_owned()))
    };
    let Some(payload) = q.state.as_deref().and_then(|s| state.signer.verify(Use::OAuthState, s)) else {
        return refused(Lang::En, "the state is missing or was not issued by this app");
    };
    let parts: Vec<&str> = payload.split('~').collect();
    let [nonce, member, expires, lang] = parts[..] else { return refused(Lang::En, "the state is malformed") };
    let lang = Lang::from_portal(lang);
    let Ok(member_id) = MemberId::parse(member) else { return refused(lang, "the state is malformed") };
    if expires.parse::<i64>().map(|e| e < chrono::Utc::now().timestamp()).unwrap_or(true) {
        return refused(lang, "the state has expired; start again");
    }
    match state.store.consume_oauth_state(nonce, &member_id).await {
        Ok(true) => {}
        Ok(false) => return refused(lang, "the state was already used"),
        Err(e) => {
            tracing::error!(error = %e, "cannot check an OAuth state");
            return problem(StatusCode::SERVICE_UNAVAILABLE, lang, &none, texts(lang).err_internal, None);
        }
    }
    let Some(code) = q.code.as_deref().filter(|c| !c.is_empty() && c.len() < 512) else {
        return refused(lang, "the code is missing");
    };
    let grant = match state.bitrix.tokens.oauth().exchange_code(code).await {
        Ok(g) => g,
        Err(e) => {
            tracing::warn!(error = %e.kind(), "the code exchange failed");
            return refused(lang, "Bitrix24 did not accept the code");
        }
    };
    if grant.member_id != member_id {
        return refused(lang, "the code belongs to another portal");
    }
    let Ok(Some(portal)) = state.store.portal(&member_id).await else {
        return refused(lang, "the portal is no longer installed");
    };
    let install = PortalInstall {
        member_id: member_id.clone(),
        domain: portal.domain.clone(),
        client_endpoint: grant.client_endpoint.clone(),
        server_endpoint: grant.server_endpoint.clone().unwrap_or(portal.server_endpoint.clone()),
        scope: grant.scope.clone(),
        tokens: grant.tokens,
        application_token: None,
        status: PortalStatus::Active,
    };
    if let Err(e) = state.store.save_install(&install).await {
        tracing::error!(error = %e, "cannot store re-authorised tokens");
        return problem(StatusCode::SERVICE_UNAVAILABLE, lang, &none, texts(lang).err_internal, None);
    }
    tracing::info!(member_id = %member_id, "portal re-authorised");
    let t = texts(lang);
    notice(lang, &none, t.oauth_done_title, t.oauth_done)
}
