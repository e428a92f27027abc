//! `POST /app`: the portal opens the app in its iframe. The entry use case checks the user with the stored
//! portal and starts a session; the manager then sees the call lists.

use actix_web::{HttpRequest, HttpResponse, web};

use super::error::{PageError, Viewer, requested_lang};
use super::i18n::texts;
use super::page::{Framing, notice};
use super::session::Manager;
use super::state::AppState;
use crate::bitrix::incoming::{FrameForm, FrameQuery};
use crate::domain::Opened;

/// The marketplace's availability check sends `HEAD` and wants 200.
pub async fn head() -> HttpResponse {
    HttpResponse::Ok().finish()
}

/// Someone opened the handler URL directly: say where the app lives.
pub async fn get(req: HttpRequest) -> HttpResponse {
    let lang = requested_lang(req.head(), req.query_string());
    let t = texts(lang);
    notice(lang, &Framing::none(), t.app_name, t.reopen_hint)
}

pub async fn open(state: web::Data<AppState>, req: HttpRequest, body: web::Bytes) -> Result<HttpResponse, PageError> {
    let query = FrameQuery::parse(req.query_string());
    // Until the portal is known, errors are framed for the origin the request claims.
    Viewer::record(&req, requested_lang(req.head(), req.query_string()), Framing::claimed(&query.domain, query.https));
    let form = FrameForm::parse(&body)?;
    // Where it was opened from is checked before anything is asked of the portal.
    let opened = Opened::parse(&form.placement, &form.placement_options)?;
    // The first screen of a record is read in the same request as the check of the user.
    let first_reads = match opened {
        Opened::Record { entity, id, .. } => crate::editor::record_lists_commands(entity, id, 0),
        Opened::Lists => Vec::new(),
    };
    let client = req.peer_addr().map(|a| a.ip());
    let mut entered = state.portals.enter(&form, query.lang, client, first_reads).await?;
    let first_reads = std::mem::take(&mut entered.first_reads);
    if !query.domain.is_empty() && !query.domain.eq_ignore_ascii_case(&entered.portal.domain) {
        // Only informational: the stored endpoint is used either way.
        tracing::warn!(member_id = %entered.portal.member_id, "the request's DOMAIN differs from the stored portal");
    }
    let manager = Manager::entered(&state, &req, entered);
    match opened {
        Opened::Lists => super::lists::index(&state, &manager, 0, None).await,
        Opened::Record { kind, entity, id } => {
            let found = crate::editor::parse_record_lists(entity, id, first_reads)?;
            super::lists::record_page(&state, &manager, kind, entity, id, Some(found)).await
        }
    }
}
