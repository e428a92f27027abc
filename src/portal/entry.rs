//! A manager entering the app from the portal's iframe, and the session that follows. The portal is found
//! by `member_id` among installed ones and called only at its stored endpoint; the user's `AUTH_ID` is
//! checked there (`user.current`, `profile`) before a session starts. The page then carries a signed
//! reference to the session row, never a token.

use std::net::IpAddr;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use super::Portals;
use crate::bitrix::batch::{BatchOutcome, Command};
use crate::bitrix::incoming::FrameForm;
use crate::bitrix::methods::app::{parse_profile, parse_user};
use crate::bitrix::{Auth, BitrixError, ErrorCode};
use crate::domain::{Lang, PortalStatus, SessionId, TokenPair};
use crate::signing::Use;
use crate::store::{NewSession, Portal, Session, StoreError};

/// The longest a session lasts, whatever its tokens allow.
pub const MAX_SESSION_SECS: i64 = 8 * 3600;
/// How long the check of a user's token may take, retries for the portal's limits included.
const CHECK_BUDGET: Duration = Duration::from_secs(15);

/// A manager who entered: their session and the portal it belongs to.
#[derive(Debug, Clone)]
pub struct Entered {
    pub session: Session,
    pub portal: Portal,
    /// What the first screen asked to read in the same request as the check (see [`Portals::enter`]).
    pub first_reads: BatchOutcome,
}

/// Why the app could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum EntryError {
    #[error("the portal has not installed the app")]
    NotInstalled,
    #[error("the portal did not confirm the user's token")]
    TokenRefused,
    /// The token is genuine, but the portal refuses its user the app.
    #[error("the portal denies the user access")]
    AccessDenied,
    /// The token is genuine, but the portal refuses the app (removed, unpaid, the portal closed) or keeps it
    /// from this user: the portal's own error says which, and it is shown as it is.
    #[error("the portal refuses the app: {0}")]
    Refused(#[source] BitrixError),
    #[error("the portal could not check the user: {0}")]
    Unreachable(#[source] BitrixError),
    /// Not checked: the token was refused lately, or too many checks came lately.
    #[error("the check was held back: {0:?}")]
    Held(super::Held),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a page's session reference does not lead to a live session.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// Not signed by this app, ended, or its portal uninstalled the app. `lang` when the session was found.
    #[error("the session has ended or was never issued")]
    Ended { lang: Option<Lang> },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Portals {
    /// Checks the iframe's `AUTH_ID` with the stored portal and starts a session for its user. `client` is
    /// the address the request came from, for the bound on checks it may cause.
    /// `first_reads` ride in the check's own batch (run only after the check's commands succeed), so the first
    /// screen costs no request of its own.
    pub async fn enter(
        &self,
        form: &FrameForm,
        lang: Lang,
        client: Option<IpAddr>,
        first_reads: Vec<Command>,
    ) -> Result<Entered, EntryError> {
        let portal = match self.store.portal(&form.member_id).await? {
            Some(p) if p.status.is_installed() => p,
            _ => {
                tracing::warn!(member_id = %form.member_id, "the app was opened for a portal that has not installed it");
                return Err(EntryError::NotInstalled);
            }
        };
        // The portal posts its application token with every iframe: a wrong one is refused without asking.
        let vouched = match &form.application_token {
            Some(token) => {
                if !self.store.application_token_matches(&portal.member_id, token.expose_secret()).await? {
                    tracing::warn!(member_id = %portal.member_id, "an iframe entry with a wrong APPLICATION_TOKEN");
                    return Err(EntryError::TokenRefused);
                }
                true
            }
            None => false,
        };
        if let Err(held) = self.guard.admit(&portal.member_id, client, &form.auth_id, vouched) {
            tracing::info!(member_id = %portal.member_id, ?held, "an iframe entry was not checked");
            return Err(EntryError::Held(held));
        }
        let caller = self
            .bitrix
            .caller(portal.member_id.clone(), portal.client_endpoint.clone(), Auth::Fixed(form.auth_id.clone()))
            .with_budget(CHECK_BUDGET);
        let mut commands =
            vec![Command::new("user", "user.current", json!({})), Command::new("profile", "profile", json!({}))];
        commands.extend(first_reads);
        let mut first_reads = BatchOutcome::default();
        let checked = caller.batch_once(&commands, false).await.and_then(|mut out| {
            let user = out.take("user").and_then(|u| parse_user(&u))?;
            let admin = out.take("profile").and_then(|p| parse_profile(&p)).map(|p| p.admin).unwrap_or(false);
            first_reads = out;
            Ok((user, admin))
        });
        let (user, is_admin) = checked.map_err(|e| match e.code() {
            Some(ErrorCode::AccessDenied) => EntryError::AccessDenied,
            Some(c) if c.refuses_the_token() => {
                tracing::info!(error = %e.kind(), "the portal did not confirm the user's token");
                self.guard.refused(&form.auth_id);
                EntryError::TokenRefused
            }
            Some(c) if c.is_auth() || c.refuses_the_app() => {
                tracing::warn!(error = %e.kind(), member_id = %portal.member_id, "the portal refuses the app");
                EntryError::Refused(e)
            }
            _ => {
                tracing::warn!(error = %e, "the portal could not check the user");
                EntryError::Unreachable(e)
            }
        })?;
        if let Some(moved) = caller.moved_to()
            && let Err(e) = self.store.set_client_endpoint(&portal.member_id, &moved).await
        {
            tracing::warn!(error = %e, "cannot keep the portal's new address");
        }
        if portal.status == PortalStatus::Installing
            && let Err(e) =
                self.store.set_status(&portal.member_id, PortalStatus::Active, "opened after the install").await
        {
            tracing::warn!(error = %e, "cannot mark the portal active");
        }
        let now = chrono::Utc::now().timestamp();
        let new = NewSession {
            member_id: portal.member_id.clone(),
            user_id: user.id,
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
        let id = self.store.create_session(&new).await?;
        tracing::info!(member_id = %portal.member_id, user_id = user.id.get(), "a manager opened the app");
        let session = Session {
            id,
            member_id: new.member_id,
            user_id: new.user_id,
            user_name: new.user_name,
            lang,
            is_admin,
            ends_at: new.ends_at,
        };
        Ok(Entered { session, portal, first_reads })
    }

    /// The live session a page's signed reference points at, with its portal.
    pub async fn resume(&self, signed: Option<&str>) -> Result<Entered, SessionError> {
        let Some(id) = signed.and_then(|s| self.signer.verify(Use::Session, s)).and_then(SessionId::parse) else {
            tracing::info!("a request without a valid session reference");
            return Err(SessionError::Ended { lang: None });
        };
        if let Some(recent) = self.recent.get(&id) {
            if recent.session.ends_at <= crate::store::now() {
                // Its time ran out while it was held here: the store says the same.
                self.recent.invalidate(&id);
                return Err(SessionError::Ended { lang: Some(recent.session.lang) });
            }
            let (session, portal) = (recent.session.clone(), recent.portal.clone());
            return Ok(Entered { session, portal, first_reads: Default::default() });
        }
        let Some(session) = self.store.session(&id).await? else {
            return Err(SessionError::Ended { lang: None });
        };
        match self.store.portal(&session.member_id).await? {
            Some(portal) if portal.status.is_installed() => {
                let entered = Entered { session, portal, first_reads: Default::default() };
                self.recent.insert(id, std::sync::Arc::new(entered.clone()));
                Ok(entered)
            }
            _ => Err(SessionError::Ended { lang: Some(session.lang) }),
        }
    }

    /// The signed values a page carries for `session`: its reference and its CSRF proof.
    pub fn page_proofs(&self, session: &SessionId) -> (String, String) {
        (self.signer.sign(Use::Session, session.as_str()), self.signer.sign(Use::Csrf, session.as_str()))
    }

    /// True when `given` is the CSRF proof of `session`, compared in constant time.
    pub fn csrf_matches(&self, session: &SessionId, given: &str) -> bool {
        use subtle::ConstantTimeEq;
        let expected = self.signer.sign(Use::Csrf, session.as_str());
        bool::from(expected.as_bytes().ct_eq(given.as_bytes()))
    }
}
