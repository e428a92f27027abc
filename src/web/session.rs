//! The manager's session inside the iframe. Browsers block third-party cookies there, so the page itself
//! carries a signed reference to the session row (never in a URL: only in POST bodies), and every
//! state-changing request also carries a CSRF proof bound to that session.

use actix_web::HttpRequest;
use actix_web::http::StatusCode;
use subtle::ConstantTimeEq;

use super::page::{Framing, problem};
use super::signing::Use;
use crate::bitrix::{Auth, Caller, TokenOwner};
use crate::domain::Lang;
use crate::startup::AppState;
use crate::store::{Portal, Session, SessionId, Store};

pub const SESSION_FIELD: &str = "_session";
pub const CSRF_FIELD: &str = "_csrf";
/// The longest a session lasts, whatever its tokens allow.
pub const MAX_SESSION_SECS: i64 = 8 * 3600;

/// What a page embeds to keep the session going.
#[derive(Debug, Clone)]
pub struct PageTokens {
    pub session: String,
    pub csrf: String,
}

impl PageTokens {
    pub fn issue(state: &AppState, id: &SessionId) -> PageTokens {
        PageTokens {
            session: state.signer.sign(Use::Session, id.as_str()),
            csrf: state.signer.sign(Use::Csrf, id.as_str()),
        }
    }
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
    pub fn lang(&self) -> Lang {
        self.session.lang
    }

    pub fn framing(&self) -> Framing {
        Framing::portal(&self.portal.client_endpoint)
    }

    /// Calls Bitrix24 with this manager's own token, so the portal applies their permissions.
    pub fn caller<'s>(&self, state: &'s AppState) -> Caller<'s, Store> {
        let owner = TokenOwner::Session {
            member_id: self.portal.member_id.clone(),
            session_id: self.session.id.as_str().to_owned(),
        };
        state
            .bitrix
            .caller(self.portal.member_id.clone(), self.portal.client_endpoint.clone(), Auth::Stored(owner))
            .for_user(self.session.user_id)
    }
}

/// Resolves the session a form carries. `changes_state` also demands the CSRF proof and a same-origin
/// `Origin`. On failure, the error page to answer with.
pub async fn resolve(
    state: &AppState,
    req: &HttpRequest,
    fields: &Fields,
    changes_state: bool,
) -> Result<Manager, actix_web::HttpResponse> {
    let t = super::i18n::texts(Lang::En);
    let expired = |lang: Lang| {
        problem(StatusCode::UNAUTHORIZED, lang, &Framing::none(), super::i18n::texts(lang).err_session, None)
    };
    let Some(id) = fields
        .get(SESSION_FIELD)
        .and_then(|signed| state.signer.verify(Use::Session, signed))
        .and_then(SessionId::parse)
    else {
        tracing::info!("a request without a valid session reference");
        return Err(expired(Lang::En));
    };
    let session = match state.store.session(&id).await {
        Ok(Some(s)) => s,
        Ok(None) => return Err(expired(Lang::En)),
        Err(e) => {
            tracing::error!(error = %e, "cannot read a session");
            return Err(problem(StatusCode::SERVICE_UNAVAILABLE, Lang::En, &Framing::none(), t.err_internal, None));
        }
    };
    let lang = session.lang;
    let portal = match state.store.portal(&session.member_id).await {
        Ok(Some(p)) if p.status.is_installed() => p,
        _ => return Err(expired(lang)),
    };
    let framing = Framing::portal(&portal.client_endpoint);
    if changes_state {
        let expected = state.signer.sign(Use::Csrf, id.as_str());
        let given = fields.get(CSRF_FIELD).unwrap_or_default();
        let same_origin = origin_matches(req, &state.settings.base_url);
        if !bool::from(expected.as_bytes().ct_eq(given.as_bytes())) || !same_origin {
            tracing::warn!(member_id = %portal.member_id, same_origin, "a state-changing request without a valid CSRF proof");
            return Err(problem(StatusCode::FORBIDDEN, lang, &framing, super::i18n::texts(lang).err_csrf, None));
        }
    }
    Ok(Manager { tokens: PageTokens::issue(state, &id), session, portal })
}

/// True unless the request names an `Origin` other than the app's own.
fn origin_matches(req: &HttpRequest, base: &url::Url) -> bool {
    match req.headers().get(actix_web::http::header::ORIGIN).and_then(|v| v.to_str().ok()) {
        None | Some("null") => true,
        Some(origin) => url::Url::parse(origin).map(|o| o.origin() == base.origin()).unwrap_or(false),
    }
}
