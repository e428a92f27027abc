//! The call-list editor: what a manager's actions mean in Bitrix24 requests. Reading a list with its
//! members, names, statuses and forms in as few requests as `batch` allows; turning "add these", "remove
//! these", "replace with these" and a form choice into one complete, checked `crm.calllist.update`; and
//! saving it only if nobody changed the list since the manager looked, then reporting what Bitrix24 kept.
//! Every call uses the manager's own token.

mod history;
mod read;
mod save;

pub use history::{Author, Journal, create_entry, reconcile, save_entry};
pub use read::{
    COMPANIES_BY_NAME, Choices, Found, ListSummary, Lookup, Overview, PAGE, Pasted, Readable, RecordLists, Screen,
    ScreenRead, Tally, Visible, by_status, companies_named, lookup, memberships, overview, parse_record_lists,
    readable, record_lists, record_lists_commands, resolve_names, resolve_paste, screen, search, tally,
};
pub use save::{
    FormIntent, Intent, LEASE, LEASE_WAIT, Preview, SaveError, SaveOutcome, create_list, preview, save_leased,
};

use sha2::{Digest, Sha256};

use crate::domain::{EntityId, WebformId};

/// A short digest of a list's state (its visible members and its form). The preview carries it; the save
/// refuses when the list no longer matches it.
pub fn fingerprint(members: &[EntityId], webform: Option<WebformId>) -> String {
    let mut ids: Vec<u64> = members.iter().map(|m| m.get()).collect();
    ids.sort_unstable();
    let mut h = Sha256::new();
    for id in ids {
        h.update(id.to_le_bytes());
    }
    h.update(b"|");
    h.update(webform.map(|w| w.get()).unwrap_or(0).to_le_bytes());
    let digest = h.finalize();
    digest[..12].iter().map(|b| format!("{b:02x}")).collect()
}

/// The most contacts or companies "all that match" takes at once; the page says so.
pub const MATCH_CAP: usize = 2_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fingerprint_ignores_order_but_not_content_or_form() {
        let ids = |v: &[u64]| v.iter().map(|x| EntityId::new(*x).unwrap()).collect::<Vec<_>>();
        let f = fingerprint(&ids(&[1, 2, 3]), None);
        assert_eq!(f, fingerprint(&ids(&[3, 1, 2]), None));
        assert_ne!(f, fingerprint(&ids(&[1, 2]), None));
        assert_ne!(f, fingerprint(&ids(&[1, 2, 3]), WebformId::new(1).ok()));
    }
}
