//! The audit log: who changed what, when, and how it ended. Portal lifecycle changes and every save of a
//! call list are written here; a list's page and `b24-calllist portals show` read it back. Rows hold codes
//! and typed details (see `domain::audit`), never words in someone's language.

use sqlx::AnyConnection;
use sqlx::Row;

use super::{Store, StoreError, now};
use crate::domain::{AuditAction, AuditDetails, AuditEntry, AuditOutcome, ListId, MemberId, UserId};

/// One entry as read back.
#[derive(Debug, Clone)]
pub struct AuditRecord {
    pub id: i64,
    /// Unix seconds.
    pub at: i64,
    pub entry: AuditEntry,
}

impl Store {
    pub(super) async fn append_audit(
        conn: &mut AnyConnection,
        member_id: &MemberId,
        entry: &AuditEntry,
        at: i64,
    ) -> Result<(), StoreError> {
        let (user_id, user_name) = match &entry.user {
            Some((id, name)) => (Some(id.get() as i64), name.as_str()),
            None => (None, ""),
        };
        sqlx::query(
            "INSERT INTO audit_log (member_id, at, user_id, user_name, action, list_id, details, outcome) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(member_id.as_str())
        .bind(at)
        .bind(user_id)
        .bind(user_name)
        .bind(entry.action.code())
        .bind(entry.list_id.map(|l| l.get() as i64))
        .bind(entry.details.to_json())
        .bind(entry.outcome.code())
        .execute(conn)
        .await?;
        Ok(())
    }

    /// Appends an entry for a portal the store knows.
    pub async fn record(&self, member_id: &MemberId, entry: &AuditEntry) -> Result<(), StoreError> {
        let mut conn = self.database().pool().acquire().await?;
        Self::append_audit(&mut conn, member_id, entry, now()).await
    }

    /// Appends an entry that will be settled later (a save about to send its update); returns its id.
    pub async fn record_pending(&self, member_id: &MemberId, entry: &AuditEntry) -> Result<i64, StoreError> {
        let (user_id, user_name) = match &entry.user {
            Some((id, name)) => (Some(id.get() as i64), name.as_str()),
            None => (None, ""),
        };
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO audit_log (member_id, at, user_id, user_name, action, list_id, details, outcome)              VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(member_id.as_str())
        .bind(now())
        .bind(user_id)
        .bind(user_name)
        .bind(entry.action.code())
        .bind(entry.list_id.map(|l| l.get() as i64))
        .bind(entry.details.to_json())
        .bind(AuditOutcome::Pending.code())
        .fetch_one(self.database().pool())
        .await?;
        Ok(id)
    }

    /// Settles a pending entry with how it ended and its final details.
    pub async fn settle(
        &self,
        member_id: &MemberId,
        id: i64,
        outcome: AuditOutcome,
        details: &AuditDetails,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE audit_log SET outcome = $1, details = $2 WHERE id = $3 AND member_id = $4 AND outcome = $5",
        )
        .bind(outcome.code())
        .bind(details.to_json())
        .bind(id)
        .bind(member_id.as_str())
        .bind(AuditOutcome::Pending.code())
        .execute(self.database().pool())
        .await?;
        Ok(())
    }

    /// The newest entries of a portal, or of one of its call lists, newest first.
    pub async fn audit(
        &self,
        member_id: &MemberId,
        list_id: Option<ListId>,
        limit: i64,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let query = match list_id {
            Some(list) => sqlx::query(
                "SELECT id, at, user_id, user_name, action, list_id, details, outcome FROM audit_log \
                 WHERE member_id = $1 AND list_id = $2 ORDER BY at DESC, id DESC LIMIT $3",
            )
            .bind(member_id.as_str())
            .bind(list.get() as i64)
            .bind(limit),
            None => sqlx::query(
                "SELECT id, at, user_id, user_name, action, list_id, details, outcome FROM audit_log \
                 WHERE member_id = $1 ORDER BY at DESC, id DESC LIMIT $2",
            )
            .bind(member_id.as_str())
            .bind(limit),
        };
        let rows = query.fetch_all(self.database().pool()).await?;
        let damaged = |problem: String| StoreError::Damaged { member_id: member_id.to_string(), problem };
        rows.iter()
            .map(|row| {
                let action: String = row.try_get("action")?;
                let action =
                    AuditAction::parse(&action).ok_or_else(|| damaged(format!("unknown audit action `{action}`")))?;
                let outcome: String = row.try_get("outcome")?;
                let outcome = AuditOutcome::parse(&outcome)
                    .ok_or_else(|| damaged(format!("unknown audit outcome `{outcome}`")))?;
                let user_id: Option<i64> = row.try_get("user_id")?;
                let user_name: String = row.try_get("user_name")?;
                let user = user_id.and_then(|u| u64::try_from(u).ok()).and_then(|u| UserId::new(u).ok());
                let list_id: Option<i64> = row.try_get("list_id")?;
                let details: String = row.try_get("details")?;
                Ok(AuditRecord {
                    id: row.try_get("id")?,
                    at: row.try_get("at")?,
                    entry: AuditEntry {
                        action,
                        outcome,
                        user: user.map(|u| (u, user_name)),
                        list_id: list_id.and_then(|l| u64::try_from(l).ok()).and_then(|l| ListId::new(l).ok()),
                        details: AuditDetails::from_json(action, &details),
                    },
                })
            })
            .collect()
    }
}
