//! The connection pool: which engine, how to connect, migrations, and the readiness check.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

use super::DatabaseUrl;
use super::StoreError;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// How long a SQLite writer waits for another writer before giving up.
const SQLITE_BUSY_TIMEOUT_MS: u32 = 5_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

#[derive(Clone, Debug)]
pub struct Database {
    pool: AnyPool,
    engine: Engine,
}

impl Database {
    /// Connects; a SQLite file and its folder are created if missing.
    pub async fn connect(url: &DatabaseUrl) -> Result<Database, StoreError> {
        sqlx::any::install_default_drivers();
        match url {
            DatabaseUrl::Sqlite { path } => Self::connect_sqlite(path).await,
            DatabaseUrl::Postgres { url } => Self::connect_postgres(url).await,
        }
    }

    async fn connect_sqlite(path: &Path) -> Result<Database, StoreError> {
        if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(folder)
                .map_err(|e| StoreError::CreateFolder { path: folder.display().to_string(), reason: e.to_string() })?;
        }
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let options = AnyConnectOptions::from_str(&url).map_err(|e| StoreError::Unreachable(e.to_string()))?;
        let pool = AnyPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            // A connection to a local file does not drop; checking it on every acquire would cost a round
            // trip to its thread for every statement.
            .test_before_acquire(false)
            .after_connect(|conn, _| {
                Box::pin(async move {
                    // WAL lets readers proceed while one writer writes; the busy timeout makes a second
                    // writer wait instead of failing at once; foreign keys are off by default in SQLite.
                    conn.execute("PRAGMA journal_mode = WAL").await?;
                    conn.execute("PRAGMA synchronous = NORMAL").await?;
                    conn.execute(sqlx::AssertSqlSafe(format!("PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")))
                        .await?;
                    conn.execute("PRAGMA foreign_keys = ON").await?;
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Unreachable(format!("SQLite file {}: {e}", path.display())))?;
        Ok(Database { pool, engine: Engine::Sqlite })
    }

    async fn connect_postgres(url: &str) -> Result<Database, StoreError> {
        let options = AnyConnectOptions::from_str(url).map_err(|e| StoreError::Unreachable(e.to_string()))?;
        // A short acquire timeout: while the database is unreachable a page says so within seconds instead of
        // hanging; the pool reconnects on its own once it answers again.
        let pool = AnyPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(3))
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Unreachable(format!("PostgreSQL: {e}")))?;
        Ok(Database { pool, engine: Engine::Postgres })
    }

    /// A transaction that will write. On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`): a
    /// deferred transaction that reads first and writes later fails with SQLITE_BUSY_SNAPSHOT, without
    /// waiting, if another connection wrote in between.
    pub async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        match self.engine {
            Engine::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Engine::Postgres => self.pool.begin().await,
        }
    }

    /// SQL for "now", in Unix milliseconds, on the database's own clock: what several instances share, so
    /// a deadline one of them writes means the same to the others whatever their clocks say.
    pub fn clock_ms(&self) -> &'static str {
        match self.engine {
            Engine::Postgres => "(extract(epoch from clock_timestamp()) * 1000)::bigint",
            Engine::Sqlite => "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)",
        }
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Applies pending migrations. On PostgreSQL sqlx holds an advisory lock, so instances may start together.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self.engine {
            Engine::Sqlite => SQLITE_MIGRATIONS.run(&self.pool).await?,
            Engine::Postgres => POSTGRES_MIGRATIONS.run(&self.pool).await?,
        }
        Ok(())
    }

    /// Whether the database answers a query within `timeout`.
    pub async fn ping(&self, timeout: Duration) -> Result<(), StoreError> {
        let query = sqlx::query("SELECT COUNT(*) FROM portals WHERE 1 = 0").fetch_one(&self.pool);
        match tokio::time::timeout(timeout, query).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(StoreError::Unreachable(e.to_string())),
            Err(_) => Err(StoreError::Unreachable(format!("no answer within {} ms", timeout.as_millis()))),
        }
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}
