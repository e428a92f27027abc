//! What the handlers reach: the use cases and the few things pages need beside them. `startup` builds it.

use std::sync::Arc;

use crate::bitrix::Bitrix;
use crate::domain::{EntityType, ListId, MemberId};
use crate::keyed_locks::KeyedLocks;
use crate::metrics::Metrics;
use crate::portal::Portals;
use crate::store::{RestLogWriter, Store};

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
    pub list_sizes: ListSizes,
}

/// What was last seen of each list (its member count, its type), per portal. A hint only, to size reads:
/// each instance keeps its own, and a wrong hint costs a request, never a wrong answer.
#[derive(Default)]
pub struct ListSizes(std::sync::Mutex<std::collections::HashMap<(MemberId, ListId), ListHint>>);

#[derive(Debug, Clone, Copy, Default)]
pub struct ListHint {
    pub size: Option<u64>,
    pub entity: Option<EntityType>,
}

impl ListSizes {
    const MAX_ENTRIES: usize = 100_000;

    fn update(&self, portal: &MemberId, list: ListId, f: impl FnOnce(&mut ListHint)) {
        if let Ok(mut map) = self.0.lock() {
            if map.len() >= Self::MAX_ENTRIES {
                map.clear();
            }
            f(map.entry((portal.clone(), list)).or_default());
        }
    }

    pub fn hint(&self, portal: &MemberId, list: ListId) -> ListHint {
        self.0.lock().ok().and_then(|m| m.get(&(portal.clone(), list)).copied()).unwrap_or_default()
    }

    pub fn get(&self, portal: &MemberId, list: ListId) -> Option<u64> {
        self.hint(portal, list).size
    }

    pub fn set(&self, portal: &MemberId, list: ListId, size: u64) {
        self.update(portal, list, |h| h.size = Some(size));
    }

    pub fn set_entity(&self, portal: &MemberId, list: ListId, e: EntityType) {
        self.update(portal, list, |h| h.entity = Some(e));
    }
}
