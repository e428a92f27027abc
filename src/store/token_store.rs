//! The store as the client's [`TokenStore`]: portal and session token pairs, the refresh lease and the
//! compare-and-swap that keep single-use refresh tokens safe across threads and instances.

use std::time::Duration;

use crate::bitrix::{BitrixError, StoreFailure, TokenOwner, TokenStore};
use crate::domain::{PortalStatus, StoredTokens, SwapOutcome, TokenPair};

use super::{Store, StoreError, now};

fn store_error(e: StoreError) -> BitrixError {
    BitrixError::Store(StoreFailure::new(e))
}

impl TokenStore for Store {
    async fn load(&self, owner: &TokenOwner) -> Result<Option<StoredTokens>, BitrixError> {
        match owner {
            TokenOwner::Portal(m) => self.usable_tokens(m).await,
            TokenOwner::Session { member_id, session_id } => self.session_tokens(member_id, session_id).await,
        }
        .map_err(store_error)
    }

    async fn claim_refresh(&self, owner: &TokenOwner, version: i64, lease: Duration) -> Result<bool, BitrixError> {
        let at = now();
        let until = at + lease.as_secs().max(1) as i64;
        let query = match owner {
            TokenOwner::Portal(m) => sqlx::query(
                "UPDATE portals SET refresh_claimed_until = $1 WHERE member_id = $2 AND token_version = $3 \
                 AND access_token IS NOT NULL AND (refresh_claimed_until IS NULL OR refresh_claimed_until < $4)",
            )
            .bind(until)
            .bind(m.as_str().to_owned())
            .bind(version)
            .bind(at),
            TokenOwner::Session { member_id, session_id } => sqlx::query(
                "UPDATE sessions SET refresh_claimed_until = $1 WHERE id = $2 AND member_id = $3 \
                 AND token_version = $4 AND (refresh_claimed_until IS NULL OR refresh_claimed_until < $5)",
            )
            .bind(until)
            .bind(session_id.as_str())
            .bind(member_id.as_str().to_owned())
            .bind(version)
            .bind(at),
        };
        let r = query.execute(self.database().pool()).await.map_err(|e| store_error(e.into()))?;
        Ok(r.rows_affected() == 1)
    }

    async fn release_refresh(&self, owner: &TokenOwner, version: i64) -> Result<(), BitrixError> {
        let query = match owner {
            TokenOwner::Portal(m) => sqlx::query(
                "UPDATE portals SET refresh_claimed_until = NULL WHERE member_id = $1 AND token_version = $2",
            )
            .bind(m.as_str().to_owned())
            .bind(version),
            TokenOwner::Session { session_id, .. } => {
                sqlx::query("UPDATE sessions SET refresh_claimed_until = NULL WHERE id = $1 AND token_version = $2")
                    .bind(session_id.as_str())
                    .bind(version)
            }
        };
        query.execute(self.database().pool()).await.map_err(|e| store_error(e.into()))?;
        Ok(())
    }

    async fn swap(
        &self,
        owner: &TokenOwner,
        expected_version: i64,
        tokens: &TokenPair,
    ) -> Result<SwapOutcome, BitrixError> {
        match owner {
            TokenOwner::Portal(m) => self.swap_tokens(m, expected_version, tokens).await.map_err(store_error),
            TokenOwner::Session { member_id, session_id } => {
                if self
                    .swap_session_tokens(member_id, session_id, expected_version, tokens)
                    .await
                    .map_err(store_error)?
                {
                    return Ok(SwapOutcome::Won { version: expected_version + 1 });
                }
                match self.session_tokens(member_id, session_id).await.map_err(store_error)? {
                    Some(current) => Ok(SwapOutcome::Lost(current)),
                    None => Err(BitrixError::NeedsReauthorisation { reason: "the session has ended".into() }),
                }
            }
        }
    }

    async fn refresh_failed(&self, owner: &TokenOwner, reason: &str) -> Result<(), BitrixError> {
        match owner {
            TokenOwner::Portal(m) => {
                self.set_status(m, PortalStatus::NeedsReauthorisation, reason).await.map_err(store_error)?;
            }
            TokenOwner::Session { session_id, .. } => {
                self.end_session(session_id).await.map_err(store_error)?;
            }
        }
        Ok(())
    }
}
