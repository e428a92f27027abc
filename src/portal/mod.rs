//! What happens to a portal and its people before the call-list editor: installing (believed only once the
//! OAuth server vouches for the tokens), the portal's events, a manager entering the app from the iframe,
//! the session that follows, and an administrator renewing access. Each use case is testable against the
//! sandbox without a web server; `web` parses requests, calls these, and renders what they return.

mod entry;
mod events;
mod guard;
mod install;
mod placements;
mod reauth;

use std::sync::Arc;

use url::Url;

use crate::bitrix::Bitrix;
use crate::signing::Signer;
use crate::store::Store;

pub use entry::{Entered, EntryError, MAX_SESSION_SECS, SessionError};
pub use events::EventOutcome;
pub use guard::Held;
pub use install::InstallError;
pub use reauth::{OAuthState, ReauthError, Refusal};

/// The portal-side use cases, over the store and the Bitrix24 client.
#[derive(Clone)]
pub struct Portals {
    store: Arc<Store>,
    bitrix: Arc<Bitrix<Store>>,
    signer: Signer,
    /// Where the portal sends events (`ONAPPUNINSTALL` is bound to it at install).
    events_url: Url,
    /// The app's handler: the iframe and every placement open it.
    app_url: Url,
    guard: Arc<guard::Guard>,
    /// Sessions resumed lately, with their portals: most pages of a session come seconds apart, and the
    /// database need not be asked each time. A held session's end is checked against the clock; an
    /// uninstall here drops them all; what another instance changes shows within [`HELD_SESSION`].
    recent: moka::sync::Cache<crate::domain::SessionId, Arc<Entered>>,
}

/// How long a resumed session is held in memory.
pub const HELD_SESSION: std::time::Duration = std::time::Duration::from_secs(30);

impl Portals {
    pub fn new(store: Arc<Store>, bitrix: Arc<Bitrix<Store>>, signer: Signer, base_url: &Url) -> Portals {
        let events_url = base_url.join("events").unwrap_or_else(|_| base_url.clone());
        let app_url = base_url.join("app").unwrap_or_else(|_| base_url.clone());
        let recent = moka::sync::Cache::builder().max_capacity(20_000).time_to_live(HELD_SESSION).build();
        Portals { store, bitrix, signer, events_url, app_url, guard: Arc::default(), recent }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }
}
