//! Portals: install, read, token compare-and-swap, status changes, uninstall and forget.

use secrecy::{ExposeSecret, SecretString};
use sqlx::Row;
use sqlx::any::AnyRow;
use subtle::ConstantTimeEq;
use url::Url;

use super::seal::Field;
use super::{Store, StoreError, now};
use crate::domain::{
    AuditAction, AuditDetails, AuditEntry, MemberId, PortalChange, PortalStatus, StoredTokens, SwapOutcome, TokenPair,
};

/// A portal as the rest of the app sees it: everything but the secrets.
#[derive(Debug, Clone)]
pub struct Portal {
    pub member_id: MemberId,
    /// The portal's host as Bitrix24 names it (`DOMAIN`), informational only.
    pub domain: String,
    /// The portal's REST base, from the OAuth server: the only address the app calls for this portal.
    pub client_endpoint: Url,
    pub server_endpoint: Url,
    pub scope: String,
    pub status: PortalStatus,
    pub status_reason: String,
    pub has_tokens: bool,
    pub expires_at: Option<i64>,
    pub token_version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What an install (page or `ONAPPINSTALL`), once vouched for by the OAuth server, gives the store.
#[derive(Debug, Clone)]
pub struct PortalInstall {
    pub member_id: MemberId,
    pub domain: String,
    pub client_endpoint: Url,
    pub server_endpoint: Url,
    pub scope: String,
    pub tokens: TokenPair,
    /// Present in `ONAPPINSTALL` and the iframe form; kept from before when absent.
    pub application_token: Option<SecretString>,
    pub status: PortalStatus,
}

const PORTAL_COLUMNS: &str = "member_id, domain, client_endpoint, server_endpoint, scope, status, status_reason, \
     access_token IS NOT NULL AS has_tokens, expires_at, token_version, created_at, updated_at";

fn damaged(member_id: &str, problem: impl Into<String>) -> StoreError {
    StoreError::Damaged { member_id: member_id.to_owned(), problem: problem.into() }
}

fn portal_from_row(row: &AnyRow) -> Result<Portal, StoreError> {
    let raw_id: String = row.try_get("member_id")?;
    let member_id = MemberId::parse(&raw_id).map_err(|e| damaged(&raw_id, e.to_string()))?;
    let url = |col: &str| -> Result<Url, StoreError> {
        let text: String = row.try_get(col)?;
        Url::parse(&text).map_err(|e| damaged(&raw_id, format!("{col}: {e}")))
    };
    let status: String = row.try_get("status")?;
    // SQLite answers the boolean expression as an integer, PostgreSQL as a boolean.
    let has_tokens = match row.try_get::<bool, _>("has_tokens") {
        Ok(b) => b,
        Err(_) => row.try_get::<i64, _>("has_tokens")? != 0,
    };
    Ok(Portal {
        domain: row.try_get("domain")?,
        client_endpoint: url("client_endpoint")?,
        server_endpoint: url("server_endpoint")?,
        scope: row.try_get("scope")?,
        status: status.parse().map_err(|e: crate::domain::UnknownStatus| damaged(&raw_id, e.0))?,
        status_reason: row.try_get("status_reason")?,
        has_tokens,
        expires_at: row.try_get("expires_at")?,
        token_version: row.try_get("token_version")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        member_id,
    })
}

impl Store {
    /// Stores a vouched-for install: a new portal, or a reinstall that keeps the one row and replaces its
    /// tokens. The audit log records it in the same transaction.
    pub async fn save_install(&self, install: &PortalInstall) -> Result<Portal, StoreError> {
        let id = &install.member_id;
        let access = self.seal(Field::AccessToken, id, &install.tokens.access_token);
        let refresh = self.seal(Field::RefreshToken, id, &install.tokens.refresh_token);
        let app_token = install.application_token.as_ref().map(|t| self.seal(Field::ApplicationToken, id, t));
        let at = now();
        let mut tx = self.database().begin_write().await?;
        let previous: Option<String> = sqlx::query_scalar("SELECT status FROM portals WHERE member_id = $1")
            .bind(id.as_str())
            .fetch_optional(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO portals (member_id, domain, client_endpoint, server_endpoint, scope, status, status_reason, \
                 application_token, access_token, refresh_token, expires_at, token_version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, '', $7, $8, $9, $10, 1, $11, $11) \
             ON CONFLICT (member_id) DO UPDATE SET \
                 domain = excluded.domain, client_endpoint = excluded.client_endpoint, \
                 server_endpoint = excluded.server_endpoint, scope = excluded.scope, status = excluded.status, \
                 status_reason = '', \
                 application_token = COALESCE(excluded.application_token, portals.application_token), \
                 access_token = excluded.access_token, refresh_token = excluded.refresh_token, \
                 expires_at = excluded.expires_at, token_version = portals.token_version + 1, \
                 refresh_claimed_until = NULL, updated_at = excluded.updated_at",
        )
        .bind(id.as_str())
        .bind(&install.domain)
        .bind(install.client_endpoint.as_str())
        .bind(install.server_endpoint.as_str())
        .bind(&install.scope)
        .bind(install.status.as_str())
        .bind(app_token)
        .bind(access)
        .bind(refresh)
        .bind(install.tokens.expires_at)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        let action = if previous.is_some() { AuditAction::PortalReinstall } else { AuditAction::PortalInstall };
        let from = previous.as_deref().and_then(|p| p.parse().ok());
        let entry = AuditEntry::portal(action, from, install.status);
        Self::append_audit(&mut tx, id, &entry, at).await?;
        tx.commit().await?;
        self.portal(id).await?.ok_or_else(|| StoreError::UnknownPortal(id.clone()))
    }

    pub async fn portal(&self, member_id: &MemberId) -> Result<Option<Portal>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT {PORTAL_COLUMNS} FROM portals WHERE member_id = $1"));
        let row = sqlx::query(sql).bind(member_id.as_str()).fetch_optional(self.database().pool()).await?;
        row.as_ref().map(portal_from_row).transpose()
    }

    /// Every portal, ordered by member_id.
    pub async fn portals(&self) -> Result<Vec<Portal>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT {PORTAL_COLUMNS} FROM portals ORDER BY member_id"));
        let rows = sqlx::query(sql).fetch_all(self.database().pool()).await?;
        rows.iter().map(portal_from_row).collect()
    }

    /// The portal's tokens, opened; `None` when the portal is unknown or holds no tokens.
    pub async fn tokens(&self, member_id: &MemberId) -> Result<Option<StoredTokens>, StoreError> {
        self.tokens_where(member_id, false).await
    }

    /// The tokens the app may still use: `None` too when the portal needs re-authorisation, so a dead
    /// refresh token is not spent again and again.
    pub async fn usable_tokens(&self, member_id: &MemberId) -> Result<Option<StoredTokens>, StoreError> {
        self.tokens_where(member_id, true).await
    }

    async fn tokens_where(&self, member_id: &MemberId, usable_only: bool) -> Result<Option<StoredTokens>, StoreError> {
        let row = sqlx::query(
            "SELECT access_token, refresh_token, expires_at, token_version FROM portals \
             WHERE member_id = $1 AND access_token IS NOT NULL AND refresh_token IS NOT NULL \
             AND ($2 = 0 OR status IN ('installing', 'active'))",
        )
        .bind(member_id.as_str())
        .bind(i64::from(usable_only))
        .fetch_optional(self.database().pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let access: String = row.try_get("access_token")?;
        let refresh: String = row.try_get("refresh_token")?;
        let access = self.open_sealed(Field::AccessToken, member_id, &access)?;
        let refresh = self.open_sealed(Field::RefreshToken, member_id, &refresh)?;
        Ok(Some(StoredTokens {
            sealed_with_former_key: access.sealed_with_former_key || refresh.sealed_with_former_key,
            tokens: TokenPair {
                access_token: access.value,
                refresh_token: refresh.value,
                expires_at: row.try_get::<Option<i64>, _>("expires_at")?.unwrap_or(0),
            },
            version: row.try_get("token_version")?,
        }))
    }

    /// Stores a new token pair only if the stored version is still `expected_version`. Exactly one of
    /// several racing callers (threads or instances) wins; the others get the winner's tokens back.
    pub async fn swap_tokens(
        &self,
        member_id: &MemberId,
        expected_version: i64,
        tokens: &TokenPair,
    ) -> Result<SwapOutcome, StoreError> {
        let access = self.seal(Field::AccessToken, member_id, &tokens.access_token);
        let refresh = self.seal(Field::RefreshToken, member_id, &tokens.refresh_token);
        let updated = sqlx::query(
            "UPDATE portals SET access_token = $1, refresh_token = $2, expires_at = $3, \
                 token_version = token_version + 1, refresh_claimed_until = NULL, updated_at = $4 \
             WHERE member_id = $5 AND token_version = $6 AND access_token IS NOT NULL",
        )
        .bind(access)
        .bind(refresh)
        .bind(tokens.expires_at)
        .bind(now())
        .bind(member_id.as_str())
        .bind(expected_version)
        .execute(self.database().pool())
        .await?;
        if updated.rows_affected() == 1 {
            return Ok(SwapOutcome::Won { version: expected_version + 1 });
        }
        match self.tokens(member_id).await? {
            Some(current) => Ok(SwapOutcome::Lost(current)),
            None => Err(StoreError::UnknownPortal(member_id.clone())),
        }
    }

    /// Moves a portal to `status`, recording the transition in the audit log. False if the portal is unknown.
    pub async fn set_status(
        &self,
        member_id: &MemberId,
        status: PortalStatus,
        reason: &str,
    ) -> Result<bool, StoreError> {
        let at = now();
        let mut tx = self.database().begin_write().await?;
        let previous: Option<String> = sqlx::query_scalar("SELECT status FROM portals WHERE member_id = $1")
            .bind(member_id.as_str())
            .fetch_optional(&mut *tx)
            .await?;
        let Some(previous) = previous else { return Ok(false) };
        sqlx::query("UPDATE portals SET status = $1, status_reason = $2, updated_at = $3 WHERE member_id = $4")
            .bind(status.as_str())
            .bind(reason)
            .bind(at)
            .bind(member_id.as_str())
            .execute(&mut *tx)
            .await?;
        let mut change = PortalChange::new(previous.parse().ok(), status);
        change.reason = Some(reason.to_owned()).filter(|r| !r.is_empty());
        let entry = AuditEntry {
            details: AuditDetails::Portal(change),
            ..AuditEntry::portal(AuditAction::PortalStatus, None, status)
        };
        Self::append_audit(&mut tx, member_id, &entry, at).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Keeps the portal's new REST address after Bitrix24 reported a rename (a 302 to another host).
    pub async fn set_client_endpoint(&self, member_id: &MemberId, endpoint: &Url) -> Result<bool, StoreError> {
        let r = sqlx::query("UPDATE portals SET client_endpoint = $1, updated_at = $2 WHERE member_id = $3")
            .bind(endpoint.as_str())
            .bind(now())
            .bind(member_id.as_str())
            .execute(self.database().pool())
            .await?;
        Ok(r.rows_affected() == 1)
    }

    /// The portal removed the app: drop every token and mark it uninstalled. With `clean` (the portal's
    /// "delete app data" choice) the portal and its history are forgotten entirely.
    pub async fn uninstall(&self, member_id: &MemberId, clean: bool) -> Result<bool, StoreError> {
        if clean {
            return self.forget(member_id).await;
        }
        let at = now();
        let mut tx = self.database().begin_write().await?;
        let previous: Option<String> = sqlx::query_scalar("SELECT status FROM portals WHERE member_id = $1")
            .bind(member_id.as_str())
            .fetch_optional(&mut *tx)
            .await?;
        let Some(previous) = previous else { return Ok(false) };
        sqlx::query(
            "UPDATE portals SET status = $1, status_reason = 'uninstalled by the portal', access_token = NULL, \
                 refresh_token = NULL, application_token = NULL, expires_at = NULL, \
                 token_version = token_version + 1, refresh_claimed_until = NULL, updated_at = $2 \
             WHERE member_id = $3",
        )
        .bind(PortalStatus::Uninstalled.as_str())
        .bind(at)
        .bind(member_id.as_str())
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM sessions WHERE member_id = $1").bind(member_id.as_str()).execute(&mut *tx).await?;
        let entry = AuditEntry::portal(AuditAction::PortalUninstall, previous.parse().ok(), PortalStatus::Uninstalled);
        Self::append_audit(&mut tx, member_id, &entry, at).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Removes the portal and everything kept about it. False if it was unknown.
    pub async fn forget(&self, member_id: &MemberId) -> Result<bool, StoreError> {
        let mut tx = self.database().begin_write().await?;
        sqlx::query("DELETE FROM sessions WHERE member_id = $1").bind(member_id.as_str()).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM rest_log WHERE member_id = $1").bind(member_id.as_str()).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM audit_log WHERE member_id = $1").bind(member_id.as_str()).execute(&mut *tx).await?;
        let r =
            sqlx::query("DELETE FROM portals WHERE member_id = $1").bind(member_id.as_str()).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(r.rows_affected() == 1)
    }

    /// Whether `candidate` is the portal's stored `application_token`, compared in constant time.
    /// False for an unknown portal or one without a stored token.
    pub async fn application_token_matches(&self, member_id: &MemberId, candidate: &str) -> Result<bool, StoreError> {
        let sealed: Option<Option<String>> =
            sqlx::query_scalar("SELECT application_token FROM portals WHERE member_id = $1")
                .bind(member_id.as_str())
                .fetch_optional(self.database().pool())
                .await?;
        let Some(Some(sealed)) = sealed else { return Ok(false) };
        let stored = self.open_sealed(Field::ApplicationToken, member_id, &sealed)?;
        Ok(stored.value.expose_secret().as_bytes().ct_eq(candidate.as_bytes()).into())
    }
}
