//! The whole portal in one value: its records, the tokens it issued, the app's install state, the call log,
//! the clock and the limits. One [`State`] lives behind the sandbox's mutex; every request works on it
//! under the lock, so the portal is always consistent.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use super::limits::Runtime;
use super::model::{
    AccessToken, AuthCode, CallList, CallRecord, CallStatus, Company, Contact, Delivery, DirectoryItem, EntityKind,
    InstalledApp, OAuthStats, Permissions, RefreshToken, User, Webform, random_token, unix_now,
};

/// The whole portal.
pub struct State {
    pub users: BTreeMap<u64, User>,
    pub contacts: BTreeMap<u64, Contact>,
    pub companies: BTreeMap<u64, Company>,
    pub webforms: BTreeMap<u64, Webform>,
    pub lists: BTreeMap<u64, CallList>,
    pub statuses: Vec<CallStatus>,
    /// The `SOURCE` directory (contacts' `sourceId` values).
    pub sources: Vec<DirectoryItem>,
    pub next_contact_id: u64,
    pub next_company_id: u64,
    pub next_list_id: u64,
    pub access: HashMap<String, AccessToken>,
    pub refresh: HashMap<String, RefreshToken>,
    pub codes: HashMap<String, AuthCode>,
    pub app: InstalledApp,
    pub calls: VecDeque<CallRecord>,
    pub next_call_seq: u64,
    pub oauth_stats: OAuthStats,
    /// Seconds added to the wall clock (tests move time forward instead of sleeping).
    pub clock_offset: f64,
    /// When set, the portal answers REST calls with 302 to this base (the portal was renamed).
    pub moved_to: Option<url::Url>,
    /// The user the portal page shows by default.
    pub current_user: u64,
    /// Limits and faults, switchable while running.
    pub rt: Runtime,
    /// Every `POST` the portal sent to the app (install form, events), newest last.
    pub deliveries: Vec<Delivery>,
    /// Which portal of the sandbox this is (0 for the first).
    pub portal: usize,
    /// The OAuth server's record of which portal issued which token, shared by every portal.
    pub directory: Arc<Directory>,
}

/// Which portal issued each access token, refresh token and authorization code: the one OAuth server of a
/// sandbox with several portals looks a grant's portal up here, as the real one knows each token's portal.
/// Entries stay after a token dies; the portal then refuses it.
#[derive(Default)]
pub struct Directory {
    tokens: Mutex<HashMap<String, usize>>,
}

impl Directory {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, usize>> {
        self.tokens.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn register(&self, tokens: &[&str], portal: usize) {
        let mut map = self.lock();
        for t in tokens {
            map.insert((*t).to_owned(), portal);
        }
    }

    pub fn portal_of(&self, token: &str) -> Option<usize> {
        self.lock().get(token).copied()
    }
}

impl State {
    pub fn now(&self) -> f64 {
        unix_now() + self.clock_offset
    }

    pub fn user(&self, id: u64) -> Option<&User> {
        self.users.get(&id)
    }

    pub fn entity_exists(&self, kind: EntityKind, id: u64) -> bool {
        match kind {
            EntityKind::Contact => self.contacts.contains_key(&id),
            EntityKind::Company => self.companies.contains_key(&id),
        }
    }

    /// The user responsible for a contact or company (`ASSIGNED_BY_ID`), if it exists.
    pub fn assigned_by(&self, kind: EntityKind, id: u64) -> Option<u64> {
        match kind {
            EntityKind::Contact => self.contacts.get(&id).map(|c| c.assigned_by_id),
            EntityKind::Company => self.companies.get(&id).map(|c| c.assigned_by_id),
        }
    }

    /// Whether a user with `perm` reads an item: it exists, and their rights (type, deny set, "own" level)
    /// allow it.
    pub fn can_read(&self, user_id: u64, perm: &Permissions, kind: EntityKind, id: u64) -> bool {
        self.assigned_by(kind, id).is_some_and(|by| perm.can_read(user_id, kind, id, by))
    }

    /// A new pair for a user, as an iframe open or a grant gives.
    pub fn issue_pair(
        &mut self,
        user_id: u64,
        scope: Vec<String>,
        access_ttl: u64,
        refresh_ttl: u64,
    ) -> (String, String) {
        let now = self.now();
        let access = random_token();
        let refresh = random_token();
        self.access.insert(
            access.clone(),
            AccessToken {
                user_id,
                scope: scope.clone(),
                expires_at: now + access_ttl as f64,
                refresh_token: refresh.clone(),
            },
        );
        self.refresh.insert(
            refresh.clone(),
            RefreshToken {
                user_id,
                scope,
                expires_at: now + refresh_ttl as f64,
                access_token: access.clone(),
                used: false,
            },
        );
        self.directory.register(&[&access, &refresh], self.portal);
        (access, refresh)
    }

    /// Keeps an authorization code the portal's `/oauth/authorize/` handed out.
    pub fn remember_code(&mut self, code: String, user_id: u64) {
        let issued_at = self.now();
        self.directory.register(&[&code], self.portal);
        self.codes.insert(code, AuthCode { user_id, issued_at, used: false });
    }

    pub fn record_call(&mut self, mut rec: CallRecord, capacity: usize) -> u64 {
        self.next_call_seq += 1;
        rec.seq = self.next_call_seq;
        if capacity > 0 {
            while self.calls.len() >= capacity {
                self.calls.pop_front();
            }
            self.calls.push_back(rec);
        }
        self.next_call_seq
    }
}
