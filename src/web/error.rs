//! One page error for every handler. A handler returns `Result<_, PageError>`; the layers' errors convert
//! into it with `?`. It is rendered once, by [`render_errors`], in the viewer's language and framing as the
//! request came to know them (the session's language, else `LANG`, else `Accept-Language`). Errors actix
//! makes itself (404, 405, 413, unreadable bodies) get the same page. Only what actix-http refuses while it
//! still reads the request head never reaches the app, so it stays a bare answer with an empty body: a request
//! target over 65,534 bytes (400, the `http` crate's `Uri` limit) and a head over 128 KiB or with more than
//! 96 headers (431).

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{ACCEPT_LANGUAGE, CONTENT_TYPE};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, ResponseError};

use super::i18n::texts;
use super::messages;
use super::page::{ErrorPage, Framing, OwnPage, render};
use crate::bitrix::BitrixError;
use crate::bitrix::incoming::{FormError, FormProblem};
use crate::domain::{BadId, BadPlacement, EntityType, Lang};
use crate::editor::SaveError;
use crate::portal::{EntryError, Held, InstallError, ReauthError, Refusal, SessionError};
use crate::store::StoreError;

/// What went wrong, in terms the page can explain.
#[derive(Debug, Clone)]
pub enum Problem {
    /// The portal's form could not be read.
    BadForm(FormError),
    NotInstalled,
    TokenRefused,
    AccessDenied,
    PortalUnreachable,
    InstallUnverified,
    ReauthRefused(Refusal),
    SessionEnded,
    Csrf,
    NotAList(BadId),
    /// Values that should have been contact or company IDs.
    BadIds(Vec<String>),
    Bitrix(BitrixError),
    Storage,
    NotFound,
    MethodNotAllowed,
    TooLarge,
    /// A request the app cannot read (not a form, not UTF-8, a header too large).
    BadRequest,
    /// Too many unverified requests lately: try again shortly.
    TooMany,
    /// `PLACEMENT` and its options do not make sense.
    BadPlacement(BadPlacement),
    /// The contact or company a placement names does not exist, or the viewer may not see it.
    NoSuchRecord(EntityType),
    Internal,
}

/// A page that says what went wrong and what to do, with the status that goes with it.
#[derive(Debug)]
pub struct PageError {
    pub status: StatusCode,
    pub problem: Problem,
}

impl PageError {
    pub fn new(status: StatusCode, problem: Problem) -> PageError {
        PageError { status, problem }
    }

    /// The message and, when there is one, a detail, in `lang`.
    pub fn explain(&self, lang: Lang) -> (String, Option<String>) {
        let t = texts(lang);
        let plain = |s: &str| (s.to_owned(), None);
        match &self.problem {
            Problem::BadForm(e) => {
                // A body too large or unreadable is not the portal forgetting a field: say what it is.
                let message = match e.problem {
                    FormProblem::TooLarge { .. } => t.err_too_large,
                    FormProblem::NotUtf8 | FormProblem::Malformed(_) => t.err_bad_request,
                    _ => t.err_bad_form,
                };
                (message.to_owned(), Some(messages::form_problem(lang, e)))
            }
            Problem::NotInstalled => plain(t.err_unknown_portal),
            Problem::TokenRefused => plain(t.err_token_refused),
            Problem::AccessDenied => plain(t.err_access_denied),
            Problem::PortalUnreachable => plain(t.err_portal_unreachable),
            Problem::InstallUnverified => plain(t.err_install_unverified),
            Problem::ReauthRefused(e) => (t.err_reauth_refused.to_owned(), Some(messages::reauth_refused(lang, e))),
            Problem::SessionEnded => plain(t.err_session),
            Problem::Csrf => plain(t.err_csrf),
            Problem::NotAList(id) => (messages::bitrix_not_a_list(lang), Some(messages::not_an_id(lang, &id.value))),
            Problem::BadIds(bad) => (messages::bad_ids(lang, bad), None),
            Problem::Bitrix(e) => (messages::bitrix(lang, e), None),
            Problem::Storage => plain(t.err_storage),
            Problem::NotFound => plain(t.err_not_found),
            Problem::MethodNotAllowed => plain(t.err_method),
            Problem::TooLarge => plain(t.err_too_large),
            Problem::BadRequest => plain(t.err_bad_request),
            Problem::TooMany => plain(t.err_too_many),
            Problem::BadPlacement(e) => (t.err_bad_form.to_owned(), Some(messages::bad_placement(lang, e))),
            Problem::NoSuchRecord(entity) => (messages::no_such_record(lang, *entity), None),
            Problem::Internal => plain(t.err_internal),
        }
    }

    /// The page in `lang`, framed for `framing`.
    pub fn page(&self, lang: Lang, framing: &Framing) -> HttpResponse {
        let (message, detail) = self.explain(lang);
        let hint = !matches!(self.problem, Problem::NotFound | Problem::MethodNotAllowed);
        render(self.status, framing, &ErrorPage { t: texts(lang), message: &message, detail, hint })
    }
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {:?}", self.status, self.problem)
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    /// A fallback only: [`render_errors`] renders the page again in the viewer's language.
    fn error_response(&self) -> HttpResponse {
        self.page(Lang::En, &Framing::none())
    }
}

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "the store failed");
        PageError::new(StatusCode::SERVICE_UNAVAILABLE, Problem::Storage)
    }
}

impl From<FormError> for PageError {
    fn from(e: FormError) -> Self {
        let status = match e.problem {
            FormProblem::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            _ => StatusCode::BAD_REQUEST,
        };
        PageError::new(status, Problem::BadForm(e))
    }
}

impl From<BadPlacement> for PageError {
    fn from(e: BadPlacement) -> Self {
        PageError::new(StatusCode::BAD_REQUEST, Problem::BadPlacement(e))
    }
}

impl From<BadId> for PageError {
    fn from(e: BadId) -> Self {
        PageError::new(StatusCode::BAD_REQUEST, Problem::NotAList(e))
    }
}

impl From<BitrixError> for PageError {
    fn from(e: BitrixError) -> Self {
        if let BitrixError::Store(cause) = &e {
            // The tokens could not be read: it is the app's storage that is away, not Bitrix24.
            tracing::error!(error = %cause, "the store failed under a Bitrix24 call");
            return PageError::new(StatusCode::SERVICE_UNAVAILABLE, Problem::Storage);
        }
        let status = match &e {
            BitrixError::Api(a) if a.code.is_auth() => StatusCode::UNAUTHORIZED,
            BitrixError::NeedsReauthorisation { .. } => StatusCode::UNAUTHORIZED,
            BitrixError::Api(_) => StatusCode::UNPROCESSABLE_ENTITY,
            BitrixError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_GATEWAY,
        };
        PageError::new(status, Problem::Bitrix(e))
    }
}

impl From<SaveError> for PageError {
    fn from(e: SaveError) -> Self {
        match e {
            SaveError::Bitrix(b) => b.into(),
            other => {
                tracing::warn!(error = ?other, "a change could not be made");
                PageError::new(StatusCode::CONFLICT, Problem::Internal)
            }
        }
    }
}

impl From<SessionError> for PageError {
    fn from(e: SessionError) -> Self {
        match e {
            SessionError::Ended { .. } => PageError::new(StatusCode::UNAUTHORIZED, Problem::SessionEnded),
            SessionError::Store(s) => s.into(),
        }
    }
}

impl From<EntryError> for PageError {
    fn from(e: EntryError) -> Self {
        match e {
            EntryError::NotInstalled => PageError::new(StatusCode::FORBIDDEN, Problem::NotInstalled),
            EntryError::TokenRefused => PageError::new(StatusCode::UNAUTHORIZED, Problem::TokenRefused),
            EntryError::AccessDenied => PageError::new(StatusCode::FORBIDDEN, Problem::AccessDenied),
            EntryError::Refused(e) => PageError::new(StatusCode::FORBIDDEN, Problem::Bitrix(e)),
            EntryError::Unreachable(_) => PageError::new(StatusCode::BAD_GATEWAY, Problem::PortalUnreachable),
            EntryError::Held(Held::RefusedBefore) => PageError::new(StatusCode::UNAUTHORIZED, Problem::TokenRefused),
            EntryError::Held(Held::TooMany) => PageError::new(StatusCode::TOO_MANY_REQUESTS, Problem::TooMany),
            EntryError::Store(s) => s.into(),
        }
    }
}

impl From<InstallError> for PageError {
    fn from(e: InstallError) -> Self {
        match e {
            InstallError::Refused(_) | InstallError::OtherPortal { .. } => {
                tracing::warn!(reason = %e, "an install was not confirmed by the OAuth server");
                PageError::new(StatusCode::FORBIDDEN, Problem::InstallUnverified)
            }
            InstallError::Unreachable(_) => {
                tracing::warn!(error = %e, "the OAuth server could not be asked about an install");
                PageError::new(StatusCode::BAD_GATEWAY, Problem::PortalUnreachable)
            }
            InstallError::Held => PageError::new(StatusCode::TOO_MANY_REQUESTS, Problem::TooMany),
            InstallError::Store(s) => s.into(),
        }
    }
}

impl From<ReauthError> for PageError {
    fn from(e: ReauthError) -> Self {
        match e {
            ReauthError::UnknownPortal => PageError::new(StatusCode::NOT_FOUND, Problem::NotInstalled),
            ReauthError::Store(_, s) => s.into(),
            ReauthError::Refused { why, .. } => {
                tracing::warn!(reason = %why, "an OAuth callback was refused");
                PageError::new(StatusCode::BAD_REQUEST, Problem::ReauthRefused(why))
            }
        }
    }
}

/// Who is looking: the language and framing a page for this request is rendered with. Handlers record it in
/// the request's extensions as soon as they know it.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub lang: Lang,
    pub framing: Framing,
}

impl Viewer {
    pub fn record(req: &HttpRequest, lang: Lang, framing: Framing) {
        req.extensions_mut().insert(Viewer { lang, framing });
    }
}

/// The language a request asks for before any session says: `LANG` in the query, else `Accept-Language`.
pub fn requested_lang(req: &actix_web::dev::RequestHead, query: &str) -> Lang {
    let from_query = url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k.eq_ignore_ascii_case("LANG"))
        .map(|(_, v)| Lang::from_portal(&v));
    from_query.unwrap_or_else(|| {
        let header = req.headers.get(ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or_default();
        preferred(header)
    })
}

/// Russian when the first language `Accept-Language` names that the app speaks is Russian.
fn preferred(header: &str) -> Lang {
    header
        .split(',')
        .filter_map(|part| part.split(';').next())
        .map(|tag| tag.trim().split('-').next().unwrap_or_default().to_ascii_lowercase())
        .find_map(|tag| match tag.as_str() {
            "ru" | "be" | "kk" | "uk" => Some(Lang::Ru),
            "en" => Some(Lang::En),
            _ => None,
        })
        .unwrap_or(Lang::En)
}

/// Renders every error answer as a page in the viewer's language: the app's own [`PageError`]s and the
/// errors actix answers itself. Answers that are not errors, or already JSON, pass untouched.
pub async fn render_errors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody + 'static, BoxBody>>, actix_web::Error> {
    let res = next.call(req).await?;
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return Ok(res.map_into_left_body());
    }
    let is_json = res
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return Ok(res.map_into_left_body());
    }
    let own = res.response().error().and_then(|e| e.as_error::<PageError>());
    let page_error = match own {
        Some(p) => PageError::new(p.status, p.problem.clone()),
        None if res.response().extensions().contains::<OwnPage>() => return Ok(res.map_into_left_body()),
        None => PageError::new(status, problem_for(status)),
    };
    let (req, _) = res.into_parts();
    if let (Problem::Bitrix(e), Some(state)) =
        (&page_error.problem, req.app_data::<actix_web::web::Data<super::AppState>>())
    {
        state.metrics.error(&e.kind());
        tracing::warn!(error = %e.kind(), "a Bitrix24 call failed");
    }
    let viewer = req.extensions().get::<Viewer>().cloned();
    let viewer = viewer
        .unwrap_or_else(|| Viewer { lang: requested_lang(req.head(), req.query_string()), framing: Framing::none() });
    let page = page_error.page(viewer.lang, &viewer.framing);
    Ok(ServiceResponse::new(req, page).map_into_right_body())
}

/// The problem an error status actix made itself stands for.
fn problem_for(status: StatusCode) -> Problem {
    match status {
        StatusCode::NOT_FOUND => Problem::NotFound,
        StatusCode::TOO_MANY_REQUESTS => Problem::TooMany,
        StatusCode::METHOD_NOT_ALLOWED => Problem::MethodNotAllowed,
        StatusCode::PAYLOAD_TOO_LARGE | StatusCode::URI_TOO_LONG | StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => {
            Problem::TooLarge
        }
        s if s.is_client_error() => Problem::BadRequest,
        StatusCode::SERVICE_UNAVAILABLE => Problem::Storage,
        _ => Problem::Internal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_first_language_the_app_speaks() {
        assert_eq!(preferred("ru-RU,ru;q=0.9,en;q=0.8"), Lang::Ru);
        assert_eq!(preferred("de-DE,en;q=0.5,ru;q=0.3"), Lang::En);
        assert_eq!(preferred("fr"), Lang::En);
        assert_eq!(preferred(""), Lang::En);
    }
}
