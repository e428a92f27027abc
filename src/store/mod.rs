//! Persistence: installed portals with their sealed tokens, and the audit log.
//!
//! One API over SQLite (one machine, the default) and PostgreSQL (several instances). Both run the same
//! portable SQL through sqlx's `Any` driver; each engine has its own migrations. Every query runs on both
//! engines in the tests, which is what keeps them in step.

mod audit;
mod budget;
mod database;
mod leases;
mod oauth_states;
mod portals;
pub mod rest_log;
pub mod seal;
mod sessions;
mod token_store;
mod url;

pub use crate::domain::AuditEntry;
pub use crate::domain::SessionId;
pub use crate::domain::{StoredTokens, SwapOutcome};
pub use audit::AuditRecord;
pub use database::{Database, Engine};
pub use leases::ListLease;
pub use portals::{Portal, PortalInstall};
pub use rest_log::{RestLogWriter, spawn_rest_log};
pub use sessions::{NewSession, Session};
pub use url::{BadDatabaseUrl, DatabaseUrl};

use crate::domain::MemberId;
use crate::keys::Keyring;
use seal::{Field, SealError, Sealer};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create the folder {path} for the SQLite database: {reason}")]
    CreateFolder { path: String, reason: String },
    #[error("cannot reach the database: {0}")]
    Unreachable(String),
    #[error("database migrations failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Query(#[from] sqlx::Error),
    #[error("the sealed {} of portal {member_id} {source}", field.name())]
    Seal { member_id: MemberId, field: Field, source: SealError },
    #[error("portal {0} is not in the store")]
    UnknownPortal(MemberId),
    #[error("the stored row of portal {member_id} is damaged: {problem}")]
    Damaged { member_id: String, problem: String },
}

/// The store: a database plus the sealer for its secrets.
#[derive(Clone, Debug)]
pub struct Store {
    db: Database,
    sealer: Sealer,
}

impl Store {
    /// Connects, creating a SQLite file and its folder if needed, and applies pending migrations.
    pub async fn open(url: &DatabaseUrl, keys: &Keyring) -> Result<Store, StoreError> {
        let db = Database::connect(url).await?;
        db.migrate().await?;
        Ok(Store::new(db, keys))
    }

    pub fn new(db: Database, keys: &Keyring) -> Store {
        Store { db, sealer: Sealer::new(keys) }
    }

    pub fn database(&self) -> &Database {
        &self.db
    }

    fn seal(&self, field: Field, member_id: &MemberId, secret: &secrecy::SecretString) -> String {
        self.sealer.seal(field, member_id, secret)
    }

    fn open_sealed(&self, field: Field, member_id: &MemberId, sealed: &str) -> Result<seal::Opened, StoreError> {
        self.sealer.open(field, member_id, sealed).map_err(|source| StoreError::Seal {
            member_id: member_id.clone(),
            field,
            source,
        })
    }
}

/// Now, in unix seconds.
pub(crate) fn now() -> i64 {
    chrono::Utc::now().timestamp()
}
