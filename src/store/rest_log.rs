//! Keeping the REST log: calls arrive on a queue (the client never waits for the database), a background
//! task writes them in small transactions and deletes those older than the retention period.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sqlx::Row;
use tokio::sync::{mpsc, oneshot};

use super::{Store, StoreError, now};
use crate::bitrix::log::{RestCall, RestLog};
use crate::domain::{MemberId, UserId};

/// Bitrix24's marketplace rules ask for at least 3 days.
pub const MIN_RETENTION_DAYS: u32 = 3;
const QUEUE: usize = 10_000;
const PURGE_EVERY: Duration = Duration::from_secs(3600);

enum Message {
    Call(RestCall),
    Flush(oneshot::Sender<()>),
}

/// The client's end of the queue.
pub struct RestLogWriter {
    tx: mpsc::Sender<Message>,
    dropped: AtomicU64,
}

impl RestLog for RestLogWriter {
    fn record(&self, call: RestCall) {
        if self.tx.try_send(Message::Call(call)).is_err() {
            // A full queue means the database is far behind; losing log lines beats slowing every call.
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl RestLogWriter {
    /// Waits until everything queued so far is written.
    pub async fn flush(&self) {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Message::Flush(tx)).await.is_ok() {
            let _ = rx.await;
        }
    }

    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// Starts the writer; it stops when every [`RestLogWriter`] is dropped.
pub fn spawn_rest_log(store: Store, retention_days: u32) -> Arc<RestLogWriter> {
    let (tx, mut rx) = mpsc::channel::<Message>(QUEUE);
    let retention = i64::from(retention_days.max(MIN_RETENTION_DAYS)) * 86_400;
    tokio::spawn(async move {
        let mut purge = tokio::time::interval(PURGE_EVERY);
        let mut pending: Vec<RestCall> = Vec::new();
        loop {
            tokio::select! {
                message = rx.recv() => {
                    let Some(message) = message else { break };
                    let mut flushes = Vec::new();
                    let mut next = Some(message);
                    while let Some(m) = next.take() {
                        match m {
                            Message::Call(c) => pending.push(c),
                            Message::Flush(done) => flushes.push(done),
                        }
                        if pending.len() < 500 {
                            next = rx.try_recv().ok();
                        }
                    }
                    if let Err(e) = store.write_rest_calls(&pending).await {
                        tracing::warn!(error = %e, lost = pending.len(), "cannot write the REST log");
                    }
                    pending.clear();
                    for done in flushes {
                        let _ = done.send(());
                    }
                }
                _ = purge.tick() => {
                    match store.purge_rest_log(now() - retention).await {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(deleted = n, "REST log purged"),
                        Err(e) => tracing::warn!(error = %e, "cannot purge the REST log"),
                    }
                    if let Err(e) = store.purge_sessions().await {
                        tracing::warn!(error = %e, "cannot purge ended sessions");
                    }
                }
            }
        }
    });
    Arc::new(RestLogWriter { tx, dropped: AtomicU64::new(0) })
}

impl Store {
    async fn write_rest_calls(&self, calls: &[RestCall]) -> Result<(), StoreError> {
        if calls.is_empty() {
            return Ok(());
        }
        let mut tx = self.database().begin_write().await?;
        for c in calls {
            sqlx::query(
                "INSERT INTO rest_log (member_id, user_id, method, params, http_status, error, duration_ms, at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(&c.member_id)
            .bind(c.user_id.map(|u| u.get() as i64))
            .bind(&c.method)
            .bind(&c.params)
            .bind(i64::from(c.http_status))
            .bind(c.error.as_deref())
            .bind(c.duration_ms as i64)
            .bind(c.at)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Deletes log lines older than `before` (unix seconds); returns how many.
    pub async fn purge_rest_log(&self, before: i64) -> Result<u64, StoreError> {
        let r = sqlx::query("DELETE FROM rest_log WHERE at < $1").bind(before).execute(self.database().pool()).await?;
        Ok(r.rows_affected())
    }

    /// A portal's most recent calls, newest first.
    pub async fn recent_calls(&self, member_id: &MemberId, limit: i64) -> Result<Vec<RestCall>, StoreError> {
        let rows = sqlx::query(
            "SELECT member_id, user_id, method, params, http_status, error, duration_ms, at FROM rest_log \
             WHERE member_id = $1 ORDER BY at DESC, id DESC LIMIT $2",
        )
        .bind(member_id.as_str())
        .bind(limit)
        .fetch_all(self.database().pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(RestCall {
                    member_id: r.try_get("member_id")?,
                    user_id: r
                        .try_get::<Option<i64>, _>("user_id")?
                        .and_then(|u| u64::try_from(u).ok())
                        .and_then(|u| UserId::new(u).ok()),
                    method: r.try_get("method")?,
                    params: r.try_get("params")?,
                    http_status: r.try_get::<i64, _>("http_status")? as u16,
                    error: r.try_get("error")?,
                    duration_ms: r.try_get::<i64, _>("duration_ms")? as u64,
                    at: r.try_get("at")?,
                })
            })
            .collect()
    }
}
