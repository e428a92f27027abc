//! The CRM methods: the call lists (`calllist`), contacts, companies and web forms (`items`), the duplicate
//! search by phone or e-mail (`duplicates`), the directories (`statuses`), and the one filter engine the list
//! methods share (`filter`), which `user.get` reads its filter with too.

mod calllist;
mod duplicates;
pub mod filter;
mod items;
mod statuses;

pub use calllist::{
    calllist_add, calllist_get, calllist_items_get, calllist_list, calllist_statuslist, calllist_update,
};
pub use duplicates::find_by_comm;
pub use items::{item_list, webform_list};
pub use statuses::status_list;

use super::call::{Cx, RestError};
use super::model::{EntityKind, Permissions};
use super::params::{PArr, PValue};
use super::state::State;

/// `IRestService::LIST_LIMIT`.
pub const PAGE: usize = 50;

fn bad(code: &str, text: &str) -> RestError {
    RestError::new(400, code, text)
}

/// What the caller may read: the type-level right, and per item their deny set and, at the "own" level,
/// only the items they are responsible for. Every CRM read and the silent drop of `crm.calllist.update` ask
/// this.
struct Reader {
    user_id: u64,
    perm: Permissions,
}

impl Reader {
    /// The caller's rights (none for a user the portal does not know).
    fn of(cx: &Cx<'_>) -> Reader {
        let perm = cx.st.user(cx.caller.user_id).map(|u| u.permissions.clone()).unwrap_or_default();
        Reader { user_id: cx.caller.user_id, perm }
    }

    fn reads_type(&self, kind: EntityKind) -> bool {
        self.perm.can_read_type(kind)
    }

    /// Whether the caller reads an item (it must exist).
    fn reads(&self, st: &State, kind: EntityKind, id: u64) -> bool {
        st.can_read(self.user_id, &self.perm, kind, id)
    }

    /// The same for an item at hand, with its responsible user.
    fn reads_item(&self, kind: EntityKind, id: u64, assigned_by_id: u64) -> bool {
        self.perm.can_read(self.user_id, kind, id, assigned_by_id)
    }
}

/// The server's `start`: an integer, 0 when absent.
fn start_param(p: &PArr) -> i64 {
    p.get("start").map(PValue::php_int).unwrap_or(0)
}
