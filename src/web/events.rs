//! `POST /events`: what the portal tells the app. `ONAPPINSTALL` is believed only after the OAuth server
//! vouches for its tokens; `ONAPPUNINSTALL` carries no tokens, so its `application_token` (compared in
//! constant time with the stored one) is its only proof. Forged events change nothing and are logged.
//! Answers are quick: Bitrix24 does not retry.

use actix_web::{HttpResponse, web};
use serde_json::json;

use super::install::{Unverified, bind_events, verify_and_store};
use crate::bitrix::incoming::{EventAuth, PortalEvent};
use crate::domain::PortalStatus;
use crate::startup::AppState;
use secrecy::ExposeSecret;

fn answer(status: actix_web::http::StatusCode, what: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!({ "result": what }))
}

async fn token_matches(state: &AppState, auth: &EventAuth) -> bool {
    let Some(token) = &auth.application_token else { return false };
    state.store.application_token_matches(&auth.member_id, token.expose_secret()).await.unwrap_or(false)
}

pub async fn post(state: web::Data<AppState>, body: web::Bytes) -> HttpResponse {
    use actix_web::http::StatusCode as S;
    let event = match PortalEvent::parse(&body) {
        Ok(e) => e,
        Err(e) => {
            tracing::warn!(problem = %e, "an event that cannot be read");
            return HttpResponse::BadRequest()
                .json(json!({ "error": "bad_event", "error_description": e.to_string() }));
        }
    };
    match event {
        PortalEvent::AppInstall { auth, .. } => {
            let Some(refresh) = auth.refresh_token.clone() else {
                tracing::warn!(member_id = %auth.member_id, "ONAPPINSTALL without a refresh token");
                return answer(S::BAD_REQUEST, "auth[refresh_token] is missing");
            };
            match verify_and_store(
                &state,
                &auth.member_id,
                &refresh,
                auth.application_token.clone(),
                PortalStatus::Active,
            )
            .await
            {
                Ok(portal) => {
                    tracing::info!(member_id = %portal.member_id, "installed by ONAPPINSTALL");
                    bind_events(&state, &portal).await;
                    answer(S::OK, "installed")
                }
                Err(Unverified::Refused(why)) => {
                    tracing::warn!(member_id = %auth.member_id, reason = %why, "ONAPPINSTALL not confirmed by the OAuth server");
                    answer(S::FORBIDDEN, "not confirmed")
                }
                Err(Unverified::Unreachable(e)) => {
                    tracing::warn!(error = %e, "the OAuth server could not be asked about ONAPPINSTALL");
                    answer(S::BAD_GATEWAY, "try again")
                }
                Err(Unverified::Store(e)) => {
                    tracing::error!(error = %e, "cannot store an install");
                    answer(S::SERVICE_UNAVAILABLE, "try again")
                }
            }
        }
        PortalEvent::AppUninstall { auth, clean } => {
            if !token_matches(&state, &auth).await {
                tracing::warn!(member_id = %auth.member_id, "ONAPPUNINSTALL with a wrong application_token or for an unknown portal");
                return answer(S::UNAUTHORIZED, "refused");
            }
            match state.store.uninstall(&auth.member_id, clean).await {
                Ok(_) => {
                    tracing::info!(member_id = %auth.member_id, clean, "uninstalled");
                    answer(S::OK, "uninstalled")
                }
                Err(e) => {
                    tracing::error!(error = %e, "cannot record an uninstall");
                    answer(S::SERVICE_UNAVAILABLE, "try again")
                }
            }
        }
        PortalEvent::Other { name, auth } => {
            let genuine = match &auth {
                Some(a) => token_matches(&state, a).await,
                None => false,
            };
            if !genuine {
                tracing::warn!(event = %name, "an event with a wrong application_token or for an unknown portal");
                return answer(S::UNAUTHORIZED, "refused");
            }
            tracing::info!(event = %name, "an event the app does not handle was acknowledged");
            answer(S::OK, "ignored")
        }
    }
}
