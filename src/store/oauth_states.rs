//! Spent OAuth `state` nonces of re-authorisation flows. A state is signed and expires on its own, so
//! issuing one writes nothing; a callback spends its nonce here, so it cannot be replayed on any instance.

use super::{Store, StoreError, now};
use crate::domain::MemberId;

impl Store {
    /// Spends a nonce valid until `expires_at`: true the first time, false ever after.
    pub async fn spend_oauth_state(
        &self,
        nonce: &str,
        member_id: &MemberId,
        expires_at: i64,
    ) -> Result<bool, StoreError> {
        sqlx::query("DELETE FROM oauth_states WHERE expires_at < $1")
            .bind(now())
            .execute(self.database().pool())
            .await?;
        let r = sqlx::query(
            "INSERT INTO oauth_states (nonce, member_id, expires_at) VALUES ($1, $2, $3) ON CONFLICT (nonce) DO NOTHING",
        )
        .bind(nonce)
        .bind(member_id.as_str())
        .bind(expires_at)
        .execute(self.database().pool())
        .await?;
        Ok(r.rows_affected() == 1)
    }
}
