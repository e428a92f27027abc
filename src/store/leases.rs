//! A lease per call list: a save of list L on portal P holds it around re-read → compare → update →
//! read-back, so two saves of one list never interleave, on one instance or many. A lease runs out on its
//! own (a crashed holder blocks nobody for long), the holder renews it before it writes, and a save never
//! writes without it.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;

use super::{Store, StoreError};
use crate::domain::{ListId, MemberId};

/// A held lease on one list. Dropping it without [`ListLease::release`] leaves it to run out.
#[derive(Debug, Clone)]
pub struct ListLease {
    store: Store,
    member_id: MemberId,
    list: ListId,
    owner: String,
    ttl: Duration,
}

/// How often a waiting save asks again.
const POLL: Duration = Duration::from_millis(40);

impl Store {
    /// Takes the lease on `list` for `ttl`, waiting up to `wait` for a holder to finish; `None` if it is
    /// still held then.
    pub async fn take_list_lease(
        &self,
        member_id: &MemberId,
        list: ListId,
        ttl: Duration,
        wait: Duration,
    ) -> Result<Option<ListLease>, StoreError> {
        let mut bytes = [0u8; 12];
        rand::rng().fill_bytes(&mut bytes);
        let owner = URL_SAFE_NO_PAD.encode(bytes);
        let give_up = tokio::time::Instant::now() + wait;
        // Expiry is stamped and compared on the database's clock, so instances whose clocks differ agree on it.
        // The only text put into the statement is that clock's SQL, a constant.
        let now = self.database().clock_ms();
        let take = format!(
            "INSERT INTO list_leases (member_id, list_id, owner, expires_at) VALUES ($1, $2, $3, {now} + $4) \
             ON CONFLICT (member_id, list_id) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at \
             WHERE list_leases.expires_at < {now}"
        );
        loop {
            let taken = sqlx::query(sqlx::AssertSqlSafe(take.as_str()))
                .bind(member_id.as_str())
                .bind(list.get() as i64)
                .bind(&owner)
                .bind(ttl.as_millis() as i64)
                .execute(self.database().pool())
                .await?
                .rows_affected()
                == 1;
            if taken {
                let lease = ListLease { store: self.clone(), member_id: member_id.clone(), list, owner, ttl };
                return Ok(Some(lease));
            }
            if tokio::time::Instant::now() + POLL > give_up {
                return Ok(None);
            }
            tokio::time::sleep(POLL).await;
        }
    }
}

impl ListLease {
    /// Extends the lease by its length; false if it ran out and someone else holds it now.
    pub async fn renew(&self) -> Result<bool, StoreError> {
        let renew = format!(
            "UPDATE list_leases SET expires_at = {} + $1 WHERE member_id = $2 AND list_id = $3 AND owner = $4",
            self.store.database().clock_ms()
        );
        let r = sqlx::query(sqlx::AssertSqlSafe(renew))
            .bind(self.ttl.as_millis() as i64)
            .bind(self.member_id.as_str())
            .bind(self.list.get() as i64)
            .bind(&self.owner)
            .execute(self.store.database().pool())
            .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Renews the lease every third of its length until the returned guard is dropped, so a long save (a
    /// portal that makes it wait) keeps it while a crashed process lets it run out.
    pub fn keep_alive(&self) -> KeepAlive {
        let lease = self.clone();
        let every = self.ttl / 3;
        KeepAlive(tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                match lease.renew().await {
                    Ok(true) => {}
                    Ok(false) => return,
                    Err(e) => tracing::warn!(error = %e, "cannot renew a list lease"),
                }
            }
        }))
    }

    /// Gives the lease back at once, so the next save need not wait for it to run out.
    pub async fn release(self) {
        let r = sqlx::query("DELETE FROM list_leases WHERE member_id = $1 AND list_id = $2 AND owner = $3")
            .bind(self.member_id.as_str())
            .bind(self.list.get() as i64)
            .bind(&self.owner)
            .execute(self.store.database().pool())
            .await;
        if let Err(e) = r {
            tracing::warn!(error = %e, "cannot release a list lease; it will run out");
        }
    }
}

/// Renews a lease while it lives.
#[derive(Debug)]
pub struct KeepAlive(tokio::task::JoinHandle<()>);

impl Drop for KeepAlive {
    fn drop(&mut self) {
        self.0.abort();
    }
}
