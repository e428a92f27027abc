//! Installing. The install page and `ONAPPINSTALL` both carry tokens anyone could forge; they are believed
//! only once the OAuth server (`B24_OAUTH_SERVER`) vouches for them: the refresh token is exchanged there,
//! and its answer names the portal (`member_id`, `client_endpoint`). The request's `DOMAIN` is never used.

use secrecy::SecretString;

use super::Portals;
use crate::bitrix::oauth::is_dead_grant;
use crate::bitrix::{Auth, BitrixError, TokenGrant, TokenOwner};
use crate::domain::{MemberId, PortalStatus};
use crate::store::{Portal, PortalInstall, StoreError};

/// Why an install was not stored.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    /// The OAuth server refused the token.
    #[error("the OAuth server refused the token: {0}")]
    Refused(#[source] BitrixError),
    /// The OAuth server vouched for another portal than the one the request named.
    #[error("the OAuth server answered for portal {answered}, not {claimed}")]
    OtherPortal { claimed: MemberId, answered: MemberId },
    /// The OAuth server could not be asked.
    #[error("the OAuth server could not be asked: {0}")]
    Unreachable(#[source] BitrixError),
    /// Not asked: too many installs were checked lately, from this client or for this portal.
    #[error("too many install checks lately")]
    Held,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Portals {
    /// Exchanges `refresh_token` at the OAuth server and stores the portal it names, if it is `claimed`;
    /// then binds the portal's events with the portal's own token.
    pub async fn install(
        &self,
        claimed: &MemberId,
        refresh_token: &SecretString,
        application_token: Option<SecretString>,
        status: PortalStatus,
        client: Option<std::net::IpAddr>,
    ) -> Result<Portal, InstallError> {
        // Anyone can post an install: the OAuth server is asked only within the bounds, and never twice about
        // a token it refused.
        if self.guard.admit(claimed, client, refresh_token, false).is_err() {
            tracing::info!(member_id = %claimed, "an install was not checked: too many lately");
            return Err(InstallError::Held);
        }
        let grant = match self.bitrix.tokens.oauth().refresh(refresh_token).await {
            Ok(g) => g,
            Err(e) if is_dead_grant(&e) || e.api().is_some() => {
                self.guard.refused(refresh_token);
                return Err(InstallError::Refused(e));
            }
            Err(e) => return Err(InstallError::Unreachable(e)),
        };
        if grant.member_id != *claimed {
            return Err(InstallError::OtherPortal { claimed: claimed.clone(), answered: grant.member_id });
        }
        let portal = self.keep_grant(grant, None, application_token, status).await?;
        self.bind_events(&portal).await;
        self.bind_placements(&portal).await;
        Ok(portal)
    }

    /// Stores what the OAuth server granted for a portal: its endpoints and a fresh token pair. `known` is
    /// the portal as stored before, whose domain stands when the grant does not name one.
    pub(super) async fn keep_grant(
        &self,
        grant: TokenGrant,
        known: Option<&Portal>,
        application_token: Option<SecretString>,
        status: PortalStatus,
    ) -> Result<Portal, StoreError> {
        let domain = match (grant.client_endpoint.host_str(), known) {
            (Some(h), _) => match grant.client_endpoint.port() {
                Some(p) => format!("{h}:{p}"),
                None => h.to_owned(),
            },
            (None, Some(k)) => k.domain.clone(),
            (None, None) => String::new(),
        };
        let server_endpoint = grant
            .server_endpoint
            .clone()
            .or_else(|| known.map(|k| k.server_endpoint.clone()))
            .unwrap_or_else(|| self.bitrix.tokens.oauth().server_rest());
        let install = PortalInstall {
            member_id: grant.member_id.clone(),
            domain,
            client_endpoint: grant.client_endpoint.clone(),
            server_endpoint,
            scope: grant.scope.clone(),
            tokens: grant.tokens,
            application_token,
            status,
        };
        let portal = self.store.save_install(&install).await?;
        self.bitrix.tokens.forget(&TokenOwner::Portal(portal.member_id.clone()));
        Ok(portal)
    }

    /// Binds `ONAPPUNINSTALL` to the app so the portal says when the app is removed. A refusal is logged:
    /// the app works without it, and the next install tries again.
    async fn bind_events(&self, portal: &Portal) {
        let caller = self.bitrix.caller(
            portal.member_id.clone(),
            portal.client_endpoint.clone(),
            Auth::Stored(TokenOwner::Portal(portal.member_id.clone())),
        );
        if let Err(e) = caller.event_bind("ONAPPUNINSTALL", self.events_url.as_str()).await {
            tracing::warn!(member_id = %portal.member_id, error = %e, "cannot bind ONAPPUNINSTALL");
        }
    }
}
