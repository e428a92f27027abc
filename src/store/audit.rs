//! The audit log: who changed what, when, and how it ended. Portal lifecycle changes and every save of a
//! call list are written here; a list's page and `b24-calllist portals show` read it back.

use sqlx::AnyConnection;
use sqlx::Row;

use super::{Store, StoreError, now};
use crate::domain::MemberId;

/// One entry to append.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub member_id: MemberId,
    pub user_id: Option<i64>,
    pub user_name: String,
    pub action: String,
    pub list_id: Option<i64>,
    pub details: serde_json::Value,
    pub outcome: String,
}

impl AuditEntry {
    /// A change of the portal itself (install, status, uninstall), made by the app or the portal.
    pub fn portal(member_id: &MemberId, action: &str, from: Option<&str>, to: &str) -> AuditEntry {
        AuditEntry {
            member_id: member_id.clone(),
            user_id: None,
            user_name: String::new(),
            action: action.to_owned(),
            list_id: None,
            details: serde_json::json!({ "from": from, "to": to }),
            outcome: "ok".to_owned(),
        }
    }
}

/// One entry as read back.
#[derive(Debug, Clone)]
pub struct AuditRecord {
    pub id: i64,
    pub at: i64,
    pub entry: AuditEntry,
}

impl Store {
    pub(super) async fn append_audit(conn: &mut AnyConnection, entry: &AuditEntry, at: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO audit_log (member_id, at, user_id, user_name, action, list_id, details, outcome) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(entry.member_id.as_str())
        .bind(at)
        .bind(entry.user_id)
        .bind(&entry.user_name)
        .bind(&entry.action)
        .bind(entry.list_id)
        .bind(entry.details.to_string())
        .bind(&entry.outcome)
        .execute(conn)
        .await?;
        Ok(())
    }

    /// Appends an entry for a portal the store knows.
    pub async fn record(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        let mut conn = self.database().pool().acquire().await?;
        Self::append_audit(&mut conn, entry, now()).await
    }

    /// The newest entries of a portal, or of one of its call lists, newest first.
    pub async fn audit(
        &self,
        member_id: &MemberId,
        list_id: Option<i64>,
        limit: i64,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let query = match list_id {
            Some(list) => sqlx::query(
                "SELECT id, member_id, at, user_id, user_name, action, list_id, details, outcome FROM audit_log \
                 WHERE member_id = $1 AND list_id = $2 ORDER BY at DESC, id DESC LIMIT $3",
            )
            .bind(member_id.as_str())
            .bind(list)
            .bind(limit),
            None => sqlx::query(
                "SELECT id, member_id, at, user_id, user_name, action, list_id, details, outcome FROM audit_log \
                 WHERE member_id = $1 ORDER BY at DESC, id DESC LIMIT $2",
            )
            .bind(member_id.as_str())
            .bind(limit),
        };
        let rows = query.fetch_all(self.database().pool()).await?;
        rows.iter()
            .map(|row| {
                let details: String = row.try_get("details")?;
                Ok(AuditRecord {
                    id: row.try_get("id")?,
                    at: row.try_get("at")?,
                    entry: AuditEntry {
                        member_id: member_id.clone(),
                        user_id: row.try_get("user_id")?,
                        user_name: row.try_get("user_name")?,
                        action: row.try_get("action")?,
                        list_id: row.try_get("list_id")?,
                        details: serde_json::from_str(&details).unwrap_or(serde_json::Value::String(details)),
                        outcome: row.try_get("outcome")?,
                    },
                })
            })
            .collect()
    }
}
