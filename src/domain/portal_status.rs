//! The lifecycle of an installed portal.

use std::fmt;
use std::str::FromStr;

/// installing → active → needs re-authorisation → uninstalled; a reinstall makes any of them active again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PortalStatus {
    /// Tokens are stored but the portal has not confirmed the install (`installFinish`) yet.
    Installing,
    /// Installed, with working tokens.
    Active,
    /// The refresh token died (`invalid_grant`, `PAYMENT_REQUIRED`): an administrator must re-authorise.
    NeedsReauthorisation,
    /// The portal removed the app; its tokens are gone.
    Uninstalled,
}

impl PortalStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PortalStatus::Installing => "installing",
            PortalStatus::Active => "active",
            PortalStatus::NeedsReauthorisation => "needs_reauthorisation",
            PortalStatus::Uninstalled => "uninstalled",
        }
    }

    /// Whether the app may act for this portal (open the iframe, call Bitrix24 with its tokens).
    pub fn is_installed(self) -> bool {
        matches!(self, PortalStatus::Installing | PortalStatus::Active | PortalStatus::NeedsReauthorisation)
    }
}

impl fmt::Display for PortalStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown portal status `{0}`: expected installing, active, needs_reauthorisation or uninstalled")]
pub struct UnknownStatus(pub String);

impl FromStr for PortalStatus {
    type Err = UnknownStatus;
    fn from_str(s: &str) -> Result<Self, UnknownStatus> {
        Ok(match s {
            "installing" => PortalStatus::Installing,
            "active" => PortalStatus::Active,
            "needs_reauthorisation" => PortalStatus::NeedsReauthorisation,
            "uninstalled" => PortalStatus::Uninstalled,
            other => return Err(UnknownStatus(other.to_owned())),
        })
    }
}
