//! `POST /events`: what the portal tells the app, answered as JSON and quickly (Bitrix24 does not retry).
//! The events use case decides what an event is worth.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use super::error::PageError;
use super::state::AppState;
use crate::bitrix::incoming::PortalEvent;
use crate::portal::EventOutcome;

pub async fn post(state: web::Data<AppState>, req: HttpRequest, body: web::Bytes) -> Result<HttpResponse, PageError> {
    let event = match PortalEvent::parse(&body) {
        Ok(e) => e,
        Err(e) => {
            tracing::warn!(problem = %e, "an event that cannot be read");
            let answer = json!({ "error": "bad_event", "error_description": e.to_string() });
            return Ok(HttpResponse::BadRequest().json(answer));
        }
    };
    let (status, what) = match state.portals.event(event, req.peer_addr().map(|a| a.ip())).await {
        EventOutcome::Installed => (StatusCode::OK, "installed"),
        EventOutcome::Uninstalled => (StatusCode::OK, "uninstalled"),
        EventOutcome::Ignored => (StatusCode::OK, "ignored"),
        EventOutcome::MissingRefreshToken => (StatusCode::BAD_REQUEST, "auth[refresh_token] is missing"),
        EventOutcome::NotConfirmed => (StatusCode::FORBIDDEN, "not confirmed"),
        EventOutcome::Refused => (StatusCode::UNAUTHORIZED, "refused"),
        EventOutcome::TryAgain => (StatusCode::SERVICE_UNAVAILABLE, "try again"),
    };
    Ok(HttpResponse::build(status).json(json!({ "result": what })))
}
