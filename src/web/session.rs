//! The manager's session inside the iframe. Browsers block third-party cookies there, so the page itself
//! carries a signed reference to the session row (never in a URL: only in POST bodies), and every
//! state-changing request also carries a CSRF proof bound to that session and a same-origin `Origin`.

use actix_web::HttpRequest;
use actix_web::http::StatusCode;

use super::error::{PageError, Problem, Viewer};
use super::page::Framing;
use super::state::AppState;
use crate::bitrix::{Auth, Caller, TokenOwner};
use crate::domain::{Lang, UserId};
use crate::portal::{Entered, SessionError};
use crate::store::{Portal, Session, Store};

pub const SESSION_FIELD: &str = "_session";
pub const CSRF_FIELD: &str = "_csrf";
/// The page's language, so that even a page answering an ended session speaks it.
pub const LANG_FIELD: &str = "_lang";

/// What a page embeds to keep the session going.
#[derive(Debug, Clone)]
pub struct PageTokens {
    pub session: String,
    pub csrf: String,
}

/// A form body as name/value pairs, repeated names kept.
#[derive(Debug, Clone, Default)]
pub struct Fields(Vec<(String, String)>);

impl Fields {
    pub fn parse(body: &[u8]) -> Fields {
        Fields(url::form_urlencoded::parse(body).into_owned().collect())
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0.iter().filter(move |(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// A request made within a live session.
pub struct Manager {
    pub session: Session,
    pub portal: Portal,
    pub tokens: PageTokens,
}

impl Manager {
    /// The manager who just entered, with the proofs their pages will carry.
    pub fn entered(state: &AppState, req: &HttpRequest, entered: Entered) -> Manager {
        let (session, csrf) = state.portals.page_proofs(&entered.session.id);
        let m = Manager { tokens: PageTokens { session, csrf }, session: entered.session, portal: entered.portal };
        Viewer::record(req, m.lang(), m.framing());
        m
    }

    pub fn lang(&self) -> Lang {
        self.session.lang
    }

    pub fn user_id(&self) -> UserId {
        self.session.user_id
    }

    pub fn framing(&self) -> Framing {
        Framing::portal(&self.portal.client_endpoint)
    }

    /// Calls Bitrix24 with this manager's own token, so the portal applies their permissions.
    pub fn caller<'s>(&self, state: &'s AppState) -> Caller<'s, Store> {
        let owner =
            TokenOwner::Session { member_id: self.portal.member_id.clone(), session_id: self.session.id.clone() };
        state
            .bitrix
            .caller(self.portal.member_id.clone(), self.portal.client_endpoint.clone(), Auth::Stored(owner))
            .for_user(self.session.user_id)
    }
}

/// Resolves the session a form carries. `changes_state` also demands the CSRF proof and a same-origin
/// `Origin`. Records who is looking, so an error page speaks their language.
pub async fn resolve(
    state: &AppState,
    req: &HttpRequest,
    fields: &Fields,
    changes_state: bool,
) -> Result<Manager, PageError> {
    let page_lang = fields.get(LANG_FIELD).map(Lang::from_portal);
    if let Some(lang) = page_lang {
        Viewer::record(req, lang, Framing::none());
    }
    let entered = match state.portals.resume(fields.get(SESSION_FIELD)).await {
        Ok(e) => e,
        Err(SessionError::Ended { lang: Some(lang) }) => {
            Viewer::record(req, lang, Framing::none());
            return Err(PageError::new(StatusCode::UNAUTHORIZED, Problem::SessionEnded));
        }
        Err(e) => return Err(e.into()),
    };
    let m = Manager::entered(state, req, entered);
    if changes_state {
        let proof = state.portals.csrf_matches(&m.session.id, fields.get(CSRF_FIELD).unwrap_or_default());
        let same_origin = origin_matches(req, &state.origin);
        if !proof || !same_origin {
            tracing::warn!(member_id = %m.portal.member_id, same_origin, "a state-changing request without a valid CSRF proof");
            return Err(PageError::new(StatusCode::FORBIDDEN, Problem::Csrf));
        }
    }
    Ok(m)
}

/// True unless the request names an `Origin` other than the app's own. `null` (a sandboxed frame, a local
/// file, a redirect across origins) is someone else's.
fn origin_matches(req: &HttpRequest, own: &url::Origin) -> bool {
    match req.headers().get(actix_web::http::header::ORIGIN).and_then(|v| v.to_str().ok()) {
        None => true,
        Some("null") => false,
        Some(origin) => url::Url::parse(origin).map(|o| o.origin() == *own).unwrap_or(false),
    }
}
