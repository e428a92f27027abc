//! Each portal's request budget, shared by every instance on one PostgreSQL: the leaky bucket's level and
//! when it was last drained live in one row per portal, and each request takes its place with one atomic
//! statement (granted only if the bucket, drained to now by the database's clock, has room). Methods a
//! portal blocked for their operating time are kept beside it, so one instance's `OPERATION_TIME_LIMIT`
//! holds the method for all.
//!
//! One request at a time, not a grant of several: a statement costs a fraction of a millisecond on the same
//! network, a REST call tens to hundreds, and a grant an instance did not use would be budget lost to the
//! others. On SQLite (one instance) the in-process bucket stays.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use sqlx::Row;

use super::{Store, StoreError};
use crate::bitrix::pacing::{RateLimit, SharedBudget};
use crate::bitrix::{BitrixError, StoreFailure};

/// The places of the bucket the instances fill: one is kept spare, because a request granted here reaches
/// the portal a little later and out of order with the others (its network and its instance's scheduling),
/// which the portal's own bucket sees as a burst slightly denser than the one granted.
fn usable(limit: RateLimit) -> f64 {
    (limit.burst as f64 - 1.0).max(1.0)
}

fn failed(e: StoreError) -> BitrixError {
    BitrixError::Store(StoreFailure::new(e))
}

impl Store {
    /// Takes one request for `method` from `portal`'s bucket; `Err(wait)` when it does not fit yet.
    pub async fn take_request(
        &self,
        portal: &str,
        method: &str,
        limit: RateLimit,
    ) -> Result<Result<(), Duration>, StoreError> {
        let granted = sqlx::query(
            "WITH clock AS (SELECT extract(epoch from clock_timestamp())::float8 AS t) \
             INSERT INTO portal_buckets AS b (member_id, level, drained_at) \
             SELECT $1, 1, clock.t FROM clock WHERE NOT EXISTS (\
                 SELECT 1 FROM method_blocks m WHERE m.member_id = $1 AND m.method = $2 AND m.until_s > clock.t) \
             ON CONFLICT (member_id) DO UPDATE SET \
                 level = GREATEST(b.level - (excluded.drained_at - b.drained_at) * $3, 0) + 1, \
                 drained_at = excluded.drained_at \
             WHERE GREATEST(b.level - (excluded.drained_at - b.drained_at) * $3, 0) + 1 <= $4 \
             RETURNING level",
        )
        .bind(portal)
        .bind(method)
        .bind(limit.per_second)
        .bind(usable(limit))
        .fetch_optional(self.database().pool())
        .await?;
        if granted.is_some() {
            return Ok(Ok(()));
        }
        let state = sqlx::query(
            "SELECT extract(epoch from clock_timestamp())::float8 AS t, \
                 (SELECT level FROM portal_buckets WHERE member_id = $1) AS level, \
                 (SELECT drained_at FROM portal_buckets WHERE member_id = $1) AS drained_at, \
                 (SELECT until_s FROM method_blocks WHERE member_id = $1 AND method = $2) AS until_s",
        )
        .bind(portal)
        .bind(method)
        .fetch_one(self.database().pool())
        .await?;
        let t: f64 = state.try_get("t")?;
        let level: Option<f64> = state.try_get("level")?;
        let drained_at: Option<f64> = state.try_get("drained_at")?;
        let until: Option<f64> = state.try_get("until_s")?;
        let drained = match (level, drained_at) {
            (Some(l), Some(d)) => (l - (t - d) * limit.per_second).max(0.0),
            _ => 0.0,
        };
        let for_bucket = ((drained + 1.0 - usable(limit)) / limit.per_second).max(0.0);
        let for_block = until.map(|u| (u - t).max(0.0)).unwrap_or(0.0);
        // Never zero: the row changed between the two statements, and asking again at once would spin.
        Ok(Err(Duration::from_secs_f64(for_bucket.max(for_block).max(0.005))))
    }

    /// Holds `method` of `portal` for every instance for `duration` from now (the database's clock).
    pub async fn block_method(&self, portal: &str, method: &str, duration: Duration) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO method_blocks (member_id, method, until_s) \
             VALUES ($1, $2, extract(epoch from clock_timestamp())::float8 + $3) \
             ON CONFLICT (member_id, method) DO UPDATE SET until_s = GREATEST(method_blocks.until_s, excluded.until_s)",
        )
        .bind(portal)
        .bind(method)
        .bind(duration.as_secs_f64())
        .execute(self.database().pool())
        .await?;
        Ok(())
    }
}

impl SharedBudget for Store {
    fn take<'a>(
        &'a self,
        portal: &'a str,
        method: &'a str,
        limit: RateLimit,
    ) -> Pin<Box<dyn Future<Output = Result<Result<(), Duration>, BitrixError>> + Send + 'a>> {
        Box::pin(async move { self.take_request(portal, method, limit).await.map_err(failed) })
    }

    fn block<'a>(
        &'a self,
        portal: &'a str,
        method: &'a str,
        duration: Duration,
    ) -> Pin<Box<dyn Future<Output = Result<(), BitrixError>> + Send + 'a>> {
        Box::pin(async move { self.block_method(portal, method, duration).await.map_err(failed) })
    }
}
