//! What the portal tells the app. `ONAPPINSTALL` is believed only after the OAuth server vouches for its
//! tokens; `ONAPPUNINSTALL` carries no tokens, so its `application_token` (compared in constant time with
//! the stored one) is its only proof. Forged events change nothing.

use secrecy::ExposeSecret;

use super::{InstallError, Portals};
use crate::bitrix::TokenOwner;
use crate::bitrix::incoming::{EventAuth, PortalEvent};
use crate::domain::PortalStatus;

/// What came of an event, for the answer the portal gets.
#[derive(Debug)]
pub enum EventOutcome {
    Installed,
    Uninstalled,
    /// A genuine event the app does not act on.
    Ignored,
    /// `ONAPPINSTALL` without the refresh token it must carry.
    MissingRefreshToken,
    /// The install was not confirmed by the OAuth server.
    NotConfirmed,
    /// Not from the portal it names (wrong `application_token`, unknown portal).
    Refused,
    /// The app could not finish now (OAuth server or database unreachable); the portal may send it again.
    TryAgain,
}

impl Portals {
    pub async fn event(&self, event: PortalEvent, client: Option<std::net::IpAddr>) -> EventOutcome {
        match event {
            PortalEvent::AppInstall { auth, .. } => {
                let Some(refresh) = auth.refresh_token.clone() else {
                    tracing::warn!(member_id = %auth.member_id, "ONAPPINSTALL without a refresh token");
                    return EventOutcome::MissingRefreshToken;
                };
                let token = auth.application_token.clone();
                let installed = self.install(&auth.member_id, &refresh, token, PortalStatus::Active, client);
                match installed.await {
                    Ok(portal) => {
                        tracing::info!(member_id = %portal.member_id, "installed by ONAPPINSTALL");
                        EventOutcome::Installed
                    }
                    Err(InstallError::Held) => EventOutcome::TryAgain,
                    Err(e @ (InstallError::Refused(_) | InstallError::OtherPortal { .. })) => {
                        tracing::warn!(member_id = %auth.member_id, reason = %e, "ONAPPINSTALL not confirmed by the OAuth server");
                        EventOutcome::NotConfirmed
                    }
                    Err(e) => {
                        tracing::warn!(member_id = %auth.member_id, error = %e, "ONAPPINSTALL could not be completed");
                        EventOutcome::TryAgain
                    }
                }
            }
            PortalEvent::AppUninstall { auth, clean } => {
                if !self.genuine(&auth).await {
                    tracing::warn!(member_id = %auth.member_id, "ONAPPUNINSTALL with a wrong application_token or for an unknown portal");
                    return EventOutcome::Refused;
                }
                match self.store.uninstall(&auth.member_id, clean).await {
                    Ok(_) => {
                        self.bitrix.tokens.forget(&TokenOwner::Portal(auth.member_id.clone()));
                        // Its sessions end with it; uninstalls are rare enough to forget every held one.
                        self.recent.invalidate_all();
                        tracing::info!(member_id = %auth.member_id, clean, "uninstalled");
                        EventOutcome::Uninstalled
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "cannot record an uninstall");
                        EventOutcome::TryAgain
                    }
                }
            }
            PortalEvent::Other { name, auth } => {
                let genuine = match &auth {
                    Some(a) => self.genuine(a).await,
                    None => false,
                };
                if !genuine {
                    tracing::warn!(event = %name, "an event with a wrong application_token or for an unknown portal");
                    return EventOutcome::Refused;
                }
                tracing::info!(event = %name, "an event the app does not handle was acknowledged");
                EventOutcome::Ignored
            }
        }
    }

    /// True when the event carries the `application_token` stored for the portal it names.
    async fn genuine(&self, auth: &EventAuth) -> bool {
        let Some(token) = &auth.application_token else { return false };
        match self.store.application_token_matches(&auth.member_id, token.expose_secret()).await {
            Ok(matches) => matches,
            Err(e) => {
                tracing::error!(error = %e, "cannot check an event's application_token");
                false
            }
        }
    }
}
