//! Pure types and rules: parsed identifiers and the portal's lifecycle. No I/O here.

mod audit;
mod crm;
mod lang;
mod member_id;
pub mod membership;
mod placement;
mod portal_status;
mod session_id;

pub use audit::{AuditAction, AuditDetails, AuditEntry, AuditOutcome, ListChange, PlacementsBound, PortalChange};
pub use crm::{BadId, EntityId, EntityType, ListId, UnknownEntityType, UserId, WebformId};
pub use lang::Lang;
pub use member_id::{MemberId, MemberIdError};
pub use membership::{Change, ChangeKind, Membership, MembershipError, Plan};
pub use placement::{BadPlacement, Opened, Placement, PlacementKind};
pub use portal_status::{PortalStatus, UnknownStatus};
pub use session_id::SessionId;
mod tokens;
pub use tokens::{StoredTokens, SwapOutcome, TokenPair};
