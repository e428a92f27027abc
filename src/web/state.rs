//! What the handlers reach: the use cases and the few things pages need beside them. `startup` builds it.

use std::sync::Arc;
use std::time::Duration;

use crate::bitrix::Bitrix;
use crate::domain::{ListId, MemberId, SessionId};
use crate::editor::{Choices, Screen, Tally};
use crate::keyed_locks::KeyedLocks;
use crate::metrics::Metrics;
use crate::portal::Portals;
use crate::store::{AuditRecord, RestLogWriter, Store};

pub struct AppState {
    pub portals: Portals,
    pub store: Arc<Store>,
    pub bitrix: Arc<Bitrix<Store>>,
    pub metrics: Arc<Metrics>,
    pub rest_log: Arc<RestLogWriter>,
    /// The app's own origin: state-changing requests from any other are refused.
    pub origin: url::Origin,
    /// One save at a time per call list in this process: a second save of the same list (a double-submitted
    /// form, two tabs) waits, then finds the list changed and says so, instead of sending the update twice.
    pub save_locks: KeyedLocks<(MemberId, ListId)>,
    pub reads: Reads,
}

/// What a manager's session read lately, for seconds to minutes, so paging and coming back from a review
/// do not read the list again. What was read from Bitrix24 is per session, never shared between viewers
/// (each sees what Bitrix24 shows them); a list's history is the app's own record, the same for every
/// viewer, so it is kept per list. Bounded in memory, and dropped for a list whenever a session saves it or
/// meets a conflict.
pub struct Reads {
    screens: moka::sync::Cache<ScreenKey, Arc<Screen>>,
    counts: moka::sync::Cache<(SessionId, ListId), Arc<Counted>>,
    histories: moka::sync::Cache<(MemberId, ListId), Arc<Vec<AuditRecord>>>,
    choices: moka::sync::Cache<SessionId, Arc<Choices>>,
}

/// A screen of a list: the session, the list, the page and the status filter.
pub type ScreenKey = (SessionId, ListId, u64, Option<String>);

/// A list's members counted for one session: when, how many, and how many per call status.
#[derive(Debug, Clone)]
pub struct Counted {
    /// Unix seconds.
    pub at: i64,
    pub total: u64,
    pub by_status: Vec<(String, u64)>,
}

/// How long a screen is reused: long enough for paging and a review, short enough to stay fresh.
const SCREEN_TTL: Duration = Duration::from_secs(20);
/// How long a count is shown (with its age) before it is counted again.
const COUNT_TTL: Duration = Duration::from_secs(600);
/// How long the CRM filter's choices (users, sources) are reused: they change seldom, and a stale one only
/// offers a name that matches nothing.
const CHOICES_TTL: Duration = Duration::from_secs(600);

impl Default for Reads {
    fn default() -> Self {
        Reads {
            screens: moka::sync::Cache::builder()
                .max_capacity(1_000)
                .time_to_live(SCREEN_TTL)
                .support_invalidation_closures()
                .build(),
            counts: moka::sync::Cache::builder().max_capacity(20_000).time_to_live(COUNT_TTL).build(),
            histories: moka::sync::Cache::builder().max_capacity(5_000).time_to_live(SCREEN_TTL).build(),
            choices: moka::sync::Cache::builder().max_capacity(5_000).time_to_live(CHOICES_TTL).build(),
        }
    }
}

impl Reads {
    pub fn screen(&self, key: &ScreenKey) -> Option<Arc<Screen>> {
        self.screens.get(key)
    }

    pub fn keep_screen(&self, key: ScreenKey, screen: Arc<Screen>) {
        self.screens.insert(key, screen);
    }

    pub fn count(&self, session: &SessionId, list: ListId) -> Option<Arc<Counted>> {
        self.counts.get(&(session.clone(), list))
    }

    pub fn keep_count(&self, session: &SessionId, list: ListId, tally: &Tally) {
        let counted =
            Counted { at: chrono::Utc::now().timestamp(), total: tally.total(), by_status: tally.by_status.clone() };
        self.counts.insert((session.clone(), list), Arc::new(counted));
    }

    /// A list's history as read lately (by any session: it holds no CRM data). Another instance's save
    /// shows in it within [`SCREEN_TTL`], this instance's at once.
    pub fn history(&self, portal: &MemberId, list: ListId) -> Option<Arc<Vec<AuditRecord>>> {
        self.histories.get(&(portal.clone(), list))
    }

    pub fn keep_history(&self, portal: &MemberId, list: ListId, records: Arc<Vec<AuditRecord>>) {
        self.histories.insert((portal.clone(), list), records);
    }

    /// The CRM filter's choices as this session read them lately.
    pub fn choices(&self, session: &SessionId) -> Option<Arc<Choices>> {
        self.choices.get(session)
    }

    pub fn keep_choices(&self, session: &SessionId, choices: Arc<Choices>) {
        self.choices.insert(session.clone(), choices);
    }

    /// Forgets what this session read of `list`, and the list's history (after a save or a conflict).
    pub fn forget_list(&self, session: &SessionId, portal: &MemberId, list: ListId) {
        let session = session.clone();
        self.counts.invalidate(&(session.clone(), list));
        self.histories.invalidate(&(portal.clone(), list));
        let _ = self.screens.invalidate_entries_if(move |k, _| k.0 == session && k.1 == list);
    }
}
