//! Keeping the REST log: calls arrive on a queue (the client never waits for the database); a background
//! task writes them together, a second's worth (or 20 lines, whichever comes first) to a transaction, and
//! deletes those older than the retention period.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sqlx::Row;
use tokio::sync::{Notify, mpsc, oneshot};

use super::{Store, StoreError, now};
use crate::bitrix::log::{RestCall, RestLog};
use crate::domain::{MemberId, UserId};

/// Bitrix24's marketplace rules ask for at least 3 days.
pub const MIN_RETENTION_DAYS: u32 = 3;
const QUEUE: usize = 10_000;
/// How long the writer waits for more calls to write with the first: a crash loses at most this much of
/// the log.
const LINGER: Duration = Duration::from_secs(1);
/// The most lines one write (one transaction) takes from the queue.
const ROWS_PER_WRITE: usize = 200;
/// Lines queued that are worth a write without waiting out [`LINGER`]: under load the writer keeps up in small
/// writes, instead of holding a second of lines (and SQLite's threads the memory of writing them at once).
const WRITE_EARLY_AT: usize = 20;
const PURGE_EVERY: Duration = Duration::from_secs(3600);

enum Message {
    Call(RestCall),
    Flush(oneshot::Sender<()>),
}

/// The client's end of the queue.
pub struct RestLogWriter {
    tx: mpsc::Sender<Message>,
    /// Cuts the writer's wait short when a flush is asked for, or enough lines are queued.
    flushing: Arc<Notify>,
    dropped: AtomicU64,
}

impl RestLog for RestLogWriter {
    fn record(&self, call: RestCall) {
        if self.tx.try_send(Message::Call(call)).is_err() {
            // A full queue means the database is far behind; losing log lines beats slowing every call.
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        if self.tx.max_capacity() - self.tx.capacity() >= WRITE_EARLY_AT {
            self.flushing.notify_one();
        }
    }
}

impl RestLogWriter {
    /// Waits until everything queued so far is written.
    pub async fn flush(&self) {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Message::Flush(tx)).await.is_ok() {
            self.flushing.notify_one();
            let _ = rx.await;
        }
    }

    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// Starts the writer; it stops when every [`RestLogWriter`] is dropped, after writing what it holds.
pub fn spawn_rest_log(store: Store, retention_days: u32) -> Arc<RestLogWriter> {
    let (tx, mut rx) = mpsc::channel::<Message>(QUEUE);
    let flushing = Arc::new(Notify::new());
    let retention = i64::from(retention_days.max(MIN_RETENTION_DAYS)) * 86_400;
    let woken = flushing.clone();
    tokio::spawn(async move {
        let mut purge = tokio::time::interval(PURGE_EVERY);
        // After a full write the queue may hold more at once: no waiting for it then.
        let mut linger = true;
        loop {
            tokio::select! {
                message = rx.recv() => {
                    let Some(first) = message else { break };
                    let batch = gather(first, &mut rx, linger, &woken).await;
                    linger = batch.calls.len() < ROWS_PER_WRITE;
                    if let Err(e) = store.write_rest_calls(&batch.calls).await {
                        tracing::warn!(error = %e, lost = batch.calls.len(), "cannot write the REST log");
                    }
                    for done in batch.flushes {
                        let _ = done.send(());
                    }
                    if batch.closed {
                        break;
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
    Arc::new(RestLogWriter { tx, flushing, dropped: AtomicU64::new(0) })
}

/// What one write takes from the queue.
struct Batch {
    calls: Vec<RestCall>,
    flushes: Vec<oneshot::Sender<()>>,
    /// Every writer is gone: nothing more will come.
    closed: bool,
}

/// `first` and what the queue holds [`LINGER`] later (or at once, without `linger`, when a flush is asked
/// for, or when [`WRITE_EARLY_AT`] lines are queued), up to [`ROWS_PER_WRITE`] calls. At a manager's pace calls come one by one, and writing each
/// alone would wake the database for every page; the writer sleeps through the wait, so the calls that
/// arrive meanwhile do not wake it either.
async fn gather(first: Message, rx: &mut mpsc::Receiver<Message>, linger: bool, flushing: &Notify) -> Batch {
    let mut batch = Batch { calls: Vec::new(), flushes: Vec::new(), closed: false };
    let mut next = Some(first);
    if linger && matches!(next, Some(Message::Call(_))) {
        tokio::select! {
            _ = tokio::time::sleep(LINGER) => {}
            _ = flushing.notified() => {}
        }
    }
    while let Some(message) = next.take() {
        match message {
            Message::Call(c) => batch.calls.push(c),
            Message::Flush(done) => batch.flushes.push(done),
        }
        if batch.calls.len() >= ROWS_PER_WRITE {
            break;
        }
        next = match rx.try_recv() {
            Ok(m) => Some(m),
            Err(mpsc::error::TryRecvError::Empty) => None,
            Err(mpsc::error::TryRecvError::Disconnected) => {
                batch.closed = true;
                None
            }
        };
    }
    batch
}

/// Columns of one log line.
const COLUMNS: &str = "member_id, user_id, method, params, http_status, error, duration_ms, at";
const COLUMN_COUNT: usize = 8;
/// Lines one statement writes. Statements of at most this many lines come in few shapes, each kept prepared,
/// and a short one costs SQLite's threads little memory (they allocate with glibc's allocator, which keeps
/// what they held: statements of hundreds of lines left RSS tens of megabytes higher).
const LINES_PER_STATEMENT: usize = 10;

/// `INSERT INTO rest_log … VALUES (…), (…)` for `lines` lines.
fn insert_sql(lines: usize) -> String {
    let rows: Vec<String> = (0..lines)
        .map(|r| {
            let cells: Vec<String> = (1..=COLUMN_COUNT).map(|c| format!("${}", r * COLUMN_COUNT + c)).collect();
            format!("({})", cells.join(", "))
        })
        .collect();
    format!("INSERT INTO rest_log ({COLUMNS}) VALUES {}", rows.join(", "))
}

impl Store {
    /// Writes `calls` in one transaction, [`LINES_PER_STATEMENT`] to a statement.
    async fn write_rest_calls(&self, calls: &[RestCall]) -> Result<(), StoreError> {
        if calls.is_empty() {
            return Ok(());
        }
        let mut tx = self.database().begin_write().await?;
        for lines in calls.chunks(LINES_PER_STATEMENT) {
            let mut insert = sqlx::query(sqlx::AssertSqlSafe(insert_sql(lines.len())));
            for c in lines {
                insert = insert
                    .bind(&c.member_id)
                    .bind(c.user_id.map(|u| u.get() as i64))
                    .bind(&c.method)
                    .bind(&c.params)
                    .bind(i64::from(c.http_status))
                    .bind(c.error.as_deref())
                    .bind(c.duration_ms as i64)
                    .bind(c.at);
            }
            insert.execute(&mut *tx).await?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn call(method: &str) -> Message {
        Message::Call(RestCall {
            member_id: "portal".into(),
            user_id: None,
            method: method.into(),
            params: "{}".into(),
            http_status: 200,
            error: None,
            duration_ms: 1,
            at: 0,
        })
    }

    #[tokio::test(start_paused = true)]
    async fn calls_a_moment_apart_are_written_together() {
        let (tx, mut rx) = mpsc::channel(QUEUE);
        let later = tx.clone();
        tokio::spawn(async move {
            for method in ["b", "c"] {
                tokio::time::sleep(Duration::from_millis(300)).await;
                later.send(call(method)).await.unwrap();
            }
        });
        let batch = gather(call("a"), &mut rx, true, &Notify::new()).await;
        let methods: Vec<&str> = batch.calls.iter().map(|c| c.method.as_str()).collect();
        assert_eq!(methods, ["a", "b", "c"], "one write for the three");
        assert!(!batch.closed);
    }

    #[tokio::test(start_paused = true)]
    async fn a_flush_ends_the_wait_at_once() {
        let (tx, mut rx) = mpsc::channel(QUEUE);
        let flushing = Arc::new(Notify::new());
        let (done, answered) = oneshot::channel();
        let (asker, woken) = (tx.clone(), flushing.clone());
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            asker.send(Message::Flush(done)).await.unwrap();
            woken.notify_one();
        });
        let started = tokio::time::Instant::now();
        let batch = gather(call("a"), &mut rx, true, &flushing).await;
        assert!(started.elapsed() < LINGER, "the flush did not wait out the linger: {:?}", started.elapsed());
        assert_eq!((batch.calls.len(), batch.flushes.len()), (1, 1));
        drop(answered);
    }

    #[tokio::test(start_paused = true)]
    async fn enough_lines_queued_end_the_wait() {
        let (tx, mut rx) = mpsc::channel(QUEUE);
        let writer = RestLogWriter { tx, flushing: Arc::new(Notify::new()), dropped: AtomicU64::new(0) };
        let woken = |w: &RestLogWriter| {
            let flushing = w.flushing.clone();
            async move { tokio::time::timeout(Duration::ZERO, flushing.notified()).await.is_ok() }
        };
        for _ in 0..WRITE_EARLY_AT - 1 {
            let Message::Call(c) = call("x") else { unreachable!() };
            writer.record(c);
        }
        assert!(!woken(&writer).await, "a few lines wait for more");
        let Message::Call(c) = call("x") else { unreachable!() };
        writer.record(c);
        assert!(woken(&writer).await, "enough lines for a write of their own");
        let first = rx.recv().await.unwrap();
        assert_eq!(gather(first, &mut rx, false, &writer.flushing).await.calls.len(), WRITE_EARLY_AT);
    }

    #[tokio::test(start_paused = true)]
    async fn after_a_full_write_the_rest_is_taken_at_once_and_a_closed_queue_is_seen() {
        let (tx, mut rx) = mpsc::channel(QUEUE);
        for _ in 0..ROWS_PER_WRITE + 3 {
            tx.send(call("x")).await.unwrap();
        }
        drop(tx);
        let first = rx.recv().await.unwrap();
        let full = gather(first, &mut rx, true, &Notify::new()).await;
        assert_eq!(full.calls.len(), ROWS_PER_WRITE, "no more than one statement's worth");
        let started = tokio::time::Instant::now();
        let first = rx.recv().await.unwrap();
        let rest = gather(first, &mut rx, false, &Notify::new()).await;
        assert_eq!(started.elapsed(), Duration::ZERO, "no wait after a full write");
        assert_eq!(rest.calls.len(), 3);
        assert!(rest.closed, "every writer is gone");
    }
}
