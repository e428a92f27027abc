//! The CRM methods: the call lists (`calllist`), contacts, companies and web forms (`items`), and the one
//! filter engine their list methods share (`filter`).

mod calllist;
mod filter;
mod items;

pub use calllist::{
    calllist_add, calllist_get, calllist_items_get, calllist_list, calllist_statuslist, calllist_update,
};
pub use items::{item_list, webform_list};

use super::call::{Cx, RestError};
use super::model::Permissions;
use super::params::{PArr, PValue};

/// `IRestService::LIST_LIMIT`.
pub const PAGE: usize = 50;

fn bad(code: &str, text: &str) -> RestError {
    RestError::new(400, code, text)
}

/// The caller's CRM rights (none for a user the portal does not know).
fn perms(cx: &Cx<'_>) -> Permissions {
    cx.st.user(cx.caller.user_id).map(|u| u.permissions.clone()).unwrap_or_default()
}

/// The server's `start`: an integer, 0 when absent.
fn start_param(p: &PArr) -> i64 {
    p.get("start").map(PValue::php_int).unwrap_or(0)
}
