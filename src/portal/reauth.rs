//! Renewing a portal whose refresh token died: the administrator is sent to the portal's OAuth page with a
//! signed, expiring `state`; the callback checks it, spends it (once, on any instance), exchanges the code
//! and stores the new pair. Starting writes nothing: the state needs no row until it is spent.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use url::Url;

use super::Portals;
use crate::domain::{Lang, MemberId, PortalStatus};
use crate::signing::Use;
use crate::store::StoreError;

/// How long an administrator has between starting and finishing.
const STATE_TTL_SECS: i64 = 600;

/// What the OAuth `state` carries through the portal and back: which portal, until when, in which language,
/// and a nonce that makes it single-use. Signed, so nobody else can make one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthState {
    pub nonce: String,
    pub member_id: MemberId,
    /// Unix seconds.
    pub expires_at: i64,
    pub lang: Lang,
}

impl OAuthState {
    fn new(member_id: MemberId, lang: Lang, now: i64) -> OAuthState {
        let mut nonce = [0u8; 18];
        rand::rng().fill_bytes(&mut nonce);
        OAuthState { nonce: URL_SAFE_NO_PAD.encode(nonce), member_id, expires_at: now + STATE_TTL_SECS, lang }
    }

    /// The payload before signing: fields joined by `~`, none of which can contain it.
    fn payload(&self) -> String {
        format!("{}~{}~{}~{}", self.nonce, self.member_id, self.expires_at, self.lang.code())
    }

    fn from_payload(payload: &str) -> Option<OAuthState> {
        let mut parts = payload.split('~');
        let (nonce, member, expires, lang) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || nonce.is_empty() {
            return None;
        }
        Some(OAuthState {
            nonce: nonce.to_owned(),
            member_id: MemberId::parse(member).ok()?,
            expires_at: expires.parse().ok()?,
            lang: Lang::from_portal(lang),
        })
    }
}

/// Why a renewal could not be started or finished.
#[derive(Debug, thiserror::Error)]
pub enum ReauthError {
    #[error("the portal has not installed the app")]
    UnknownPortal,
    /// The callback was refused; `lang` once the state says it.
    #[error("{why}")]
    Refused { lang: Option<Lang>, why: Refusal },
    #[error("storage: {1}")]
    Store(Lang, #[source] StoreError),
}

/// Why a callback was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the state is missing or was not issued by this app")]
    ForgedState,
    #[error("the state has expired")]
    Expired,
    #[error("the state was already used")]
    Replayed,
    #[error("the code is missing")]
    NoCode,
    #[error("Bitrix24 did not accept the code")]
    CodeRefused,
    #[error("the code belongs to another portal")]
    OtherPortal,
}

impl ReauthError {
    /// The administrator's language, once the state says it.
    pub fn lang(&self) -> Option<Lang> {
        match self {
            ReauthError::UnknownPortal => None,
            ReauthError::Refused { lang, .. } => *lang,
            ReauthError::Store(lang, _) => Some(*lang),
        }
    }
}

fn refused(lang: Lang, why: Refusal) -> ReauthError {
    ReauthError::Refused { lang: Some(lang), why }
}

impl Portals {
    /// Where to send the administrator of `member_id` to grant access again.
    pub async fn start_reauth(&self, member_id: MemberId, lang: Lang) -> Result<Url, ReauthError> {
        let portal = match self.store.portal(&member_id).await {
            Ok(Some(p)) if p.status.is_installed() => p,
            Ok(_) => return Err(ReauthError::UnknownPortal),
            Err(e) => return Err(ReauthError::Store(lang, e)),
        };
        let state = OAuthState::new(member_id, lang, chrono::Utc::now().timestamp());
        let signed = self.signer.sign(Use::OAuthState, &state.payload());
        Ok(self.bitrix.tokens.oauth().authorize_url(&portal.client_endpoint, &signed))
    }

    /// Finishes a renewal from the OAuth callback; the administrator's language on success.
    pub async fn finish_reauth(&self, signed_state: Option<&str>, code: Option<&str>) -> Result<Lang, ReauthError> {
        let state = signed_state
            .and_then(|s| self.signer.verify(Use::OAuthState, s))
            .and_then(OAuthState::from_payload)
            .ok_or(ReauthError::Refused { lang: None, why: Refusal::ForgedState })?;
        let lang = state.lang;
        if state.expires_at < chrono::Utc::now().timestamp() {
            return Err(refused(lang, Refusal::Expired));
        }
        let code = code.filter(|c| !c.is_empty() && c.len() < 512).ok_or(refused(lang, Refusal::NoCode))?;
        let first_use = self.store.spend_oauth_state(&state.nonce, &state.member_id, state.expires_at).await;
        if !first_use.map_err(|e| ReauthError::Store(lang, e))? {
            return Err(refused(lang, Refusal::Replayed));
        }
        let grant = self.bitrix.tokens.oauth().exchange_code(code).await.map_err(|e| {
            tracing::warn!(error = %e.kind(), "the code exchange failed");
            refused(lang, Refusal::CodeRefused)
        })?;
        if grant.member_id != state.member_id {
            return Err(refused(lang, Refusal::OtherPortal));
        }
        let known = match self.store.portal(&state.member_id).await {
            Ok(Some(p)) => p,
            Ok(None) => return Err(ReauthError::UnknownPortal),
            Err(e) => return Err(ReauthError::Store(lang, e)),
        };
        self.keep_grant(grant, Some(&known), None, PortalStatus::Active)
            .await
            .map_err(|e| ReauthError::Store(lang, e))?;
        tracing::info!(member_id = %state.member_id, "portal re-authorised");
        Ok(lang)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_reads_back_and_malformed_ones_do_not() {
        let m = MemberId::parse("a1b2c3").unwrap();
        let s = OAuthState::new(m, Lang::Ru, 1_000);
        assert_eq!(OAuthState::from_payload(&s.payload()), Some(s.clone()));
        assert_eq!(s.expires_at, 1_000 + STATE_TTL_SECS);
        assert_eq!(OAuthState::from_payload("a~b"), None);
        assert_eq!(OAuthState::from_payload(&format!("{}~x", s.payload())), None);
        assert_eq!(OAuthState::from_payload("n~a1b2c3~soon~ru"), None);
    }
}
