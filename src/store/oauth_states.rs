//! One-time OAuth `state` nonces for re-authorisation.

use super::{Store, StoreError, now};
use crate::domain::MemberId;

impl Store {
    pub async fn remember_oauth_state(
        &self,
        nonce: &str,
        member_id: &MemberId,
        ttl_secs: i64,
    ) -> Result<(), StoreError> {
        let at = now();
        sqlx::query("DELETE FROM oauth_states WHERE expires_at < $1").bind(at).execute(self.database().pool()).await?;
        sqlx::query("INSERT INTO oauth_states (nonce, member_id, expires_at) VALUES ($1, $2, $3)")
            .bind(nonce)
            .bind(member_id.as_str())
            .bind(at + ttl_secs)
            .execute(self.database().pool())
            .await?;
        Ok(())
    }

    /// Consumes a nonce: true once, for the portal it was issued for, before it expires.
    pub async fn consume_oauth_state(&self, nonce: &str, member_id: &MemberId) -> Result<bool, StoreError> {
        let r = sqlx::query("DELETE FROM oauth_states WHERE nonce = $1 AND member_id = $2 AND expires_at >= $3")
            .bind(nonce)
            .bind(member_id.as_str())
            .bind(now())
            .execute(self.database().pool())
            .await?;
        Ok(r.rows_affected() == 1)
    }
}
