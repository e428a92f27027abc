//! Pure types and rules: parsed identifiers and the portal's lifecycle. No I/O here.

mod member_id;
mod portal_status;

pub use member_id::{MemberId, MemberIdError};
pub use portal_status::{PortalStatus, UnknownStatus};
mod tokens;
pub use tokens::TokenPair;
