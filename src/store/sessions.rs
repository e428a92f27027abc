//! Manager sessions: who opened the app in the iframe, with their own Bitrix24 tokens, sealed. The page
//! holds only a signed reference to a row here, so a session works across instances and a database dump
//! gives no usable token.

use sqlx::Row;

use super::seal::Field;
use super::{Store, StoreError, now};
use crate::domain::{Lang, MemberId, SessionId, StoredTokens, TokenPair, UserId};

/// A new session's contents.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub member_id: MemberId,
    pub user_id: UserId,
    pub user_name: String,
    pub lang: Lang,
    pub is_admin: bool,
    pub tokens: TokenPair,
    /// The latest the session may last, whatever its tokens say.
    pub ends_at: i64,
}

/// A session as handlers see it (no tokens).
#[derive(Debug, Clone)]
pub struct Session {
    pub id: SessionId,
    pub member_id: MemberId,
    pub user_id: UserId,
    pub user_name: String,
    pub lang: Lang,
    pub is_admin: bool,
    pub ends_at: i64,
}

impl Store {
    pub async fn create_session(&self, new: &NewSession) -> Result<SessionId, StoreError> {
        let id = SessionId::generate();
        let m = &new.member_id;
        sqlx::query(
            "INSERT INTO sessions (id, member_id, user_id, user_name, lang, is_admin, access_token, refresh_token, \
                 expires_at, token_version, created_at, ends_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1, $10, $11)",
        )
        .bind(id.as_str())
        .bind(m.as_str())
        .bind(new.user_id.get() as i64)
        .bind(&new.user_name)
        .bind(new.lang.code())
        .bind(i64::from(new.is_admin))
        .bind(self.seal(Field::SessionAccessToken, m, &new.tokens.access_token))
        .bind(self.seal(Field::SessionRefreshToken, m, &new.tokens.refresh_token))
        .bind(new.tokens.expires_at)
        .bind(now())
        .bind(new.ends_at)
        .execute(self.database().pool())
        .await?;
        Ok(id)
    }

    /// A live session (not past its end), or `None`.
    pub async fn session(&self, id: &SessionId) -> Result<Option<Session>, StoreError> {
        let row = sqlx::query(
            "SELECT member_id, user_id, user_name, lang, is_admin, ends_at FROM sessions \
             WHERE id = $1 AND ends_at > $2 AND access_token IS NOT NULL",
        )
        .bind(id.as_str())
        .bind(now())
        .fetch_optional(self.database().pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let raw: String = row.try_get("member_id")?;
        let member_id = MemberId::parse(&raw)
            .map_err(|e| StoreError::Damaged { member_id: raw.clone(), problem: e.to_string() })?;
        let lang: String = row.try_get("lang")?;
        let user_id = u64::try_from(row.try_get::<i64, _>("user_id")?)
            .ok()
            .and_then(|u| UserId::new(u).ok())
            .ok_or_else(|| StoreError::Damaged { member_id: raw.clone(), problem: "a session's user_id".into() })?;
        Ok(Some(Session {
            id: id.clone(),
            member_id,
            user_id,
            user_name: row.try_get("user_name")?,
            lang: Lang::from_portal(&lang),
            is_admin: row.try_get::<i64, _>("is_admin")? != 0,
            ends_at: row.try_get("ends_at")?,
        }))
    }

    pub async fn end_session(&self, id: &SessionId) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE id = $1").bind(id.as_str()).execute(self.database().pool()).await?;
        Ok(())
    }

    /// Deletes sessions past their end; returns how many.
    pub async fn purge_sessions(&self) -> Result<u64, StoreError> {
        let r =
            sqlx::query("DELETE FROM sessions WHERE ends_at <= $1").bind(now()).execute(self.database().pool()).await?;
        Ok(r.rows_affected())
    }

    pub(super) async fn session_tokens(
        &self,
        member_id: &MemberId,
        id: &SessionId,
    ) -> Result<Option<StoredTokens>, StoreError> {
        let row = sqlx::query(
            "SELECT access_token, refresh_token, expires_at, token_version FROM sessions \
             WHERE id = $1 AND member_id = $2 AND ends_at > $3 AND access_token IS NOT NULL",
        )
        .bind(id.as_str())
        .bind(member_id.as_str())
        .bind(now())
        .fetch_optional(self.database().pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let access: String = row.try_get("access_token")?;
        let refresh: String = row.try_get("refresh_token")?;
        let access = self.open_sealed(Field::SessionAccessToken, member_id, &access)?;
        let refresh = self.open_sealed(Field::SessionRefreshToken, member_id, &refresh)?;
        Ok(Some(StoredTokens {
            sealed_with_former_key: access.sealed_with_former_key || refresh.sealed_with_former_key,
            tokens: TokenPair {
                access_token: access.value,
                refresh_token: refresh.value,
                expires_at: row.try_get("expires_at")?,
            },
            version: row.try_get("token_version")?,
        }))
    }

    pub(super) async fn swap_session_tokens(
        &self,
        member_id: &MemberId,
        id: &SessionId,
        expected_version: i64,
        tokens: &TokenPair,
    ) -> Result<bool, StoreError> {
        let r = sqlx::query(
            "UPDATE sessions SET access_token = $1, refresh_token = $2, expires_at = $3, \
                 token_version = token_version + 1, refresh_claimed_until = NULL \
             WHERE id = $4 AND member_id = $5 AND token_version = $6",
        )
        .bind(self.seal(Field::SessionAccessToken, member_id, &tokens.access_token))
        .bind(self.seal(Field::SessionRefreshToken, member_id, &tokens.refresh_token))
        .bind(tokens.expires_at)
        .bind(id.as_str())
        .bind(member_id.as_str())
        .bind(expected_version)
        .execute(self.database().pool())
        .await?;
        Ok(r.rows_affected() == 1)
    }
}
