//! Shared test helpers: throw-away databases on both engines, keys, and a sample install.

use std::path::PathBuf;

use b24_calllist::domain::{MemberId, PortalStatus, TokenPair};
use b24_calllist::keys::{Keyring, SecretKey};
use b24_calllist::settings::DatabaseUrl;
use b24_calllist::store::{PortalInstall, Store};
use rand::Rng;
use secrecy::SecretString;
use sqlx::Executor;
use sqlx::postgres::PgPoolOptions;

/// Under `CI=true` a missing service is a failure, never a skip.
pub fn in_ci() -> bool {
    std::env::var("CI").map(|v| v == "true" || v == "1").unwrap_or(false)
}

/// The PostgreSQL server tests use: `TEST_DATABASE_URL` (exported by .ci/run) or the local default.
pub fn postgres_admin_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

pub fn random_suffix() -> String {
    let mut rng = rand::rng();
    (0..12).map(|_| char::from(b'a' + rng.random_range(0..26u8))).collect()
}

/// A fresh, empty database on one engine, removed when dropped (SQLite) or left in the throw-away
/// database that .ci/run drops (PostgreSQL).
pub struct TestDb {
    pub url: DatabaseUrl,
    pub engine: &'static str,
    pub sqlite_path: Option<PathBuf>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    pub fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("nested").join("b24.db");
        TestDb {
            url: DatabaseUrl::Sqlite { path: path.clone() },
            engine: "sqlite",
            sqlite_path: Some(path),
            _dir: Some(dir),
        }
    }

    /// A schema of its own on the test PostgreSQL server; `None` (skip) only outside CI.
    pub async fn postgres() -> Option<TestDb> {
        let admin = postgres_admin_url();
        let pool = match PgPoolOptions::new().max_connections(1).connect(&admin).await {
            Ok(pool) => pool,
            Err(e) if in_ci() => panic!("CI=true but PostgreSQL at TEST_DATABASE_URL is unreachable: {e}"),
            Err(e) => {
                eprintln!("skipping the PostgreSQL half of this test: {e} (set TEST_DATABASE_URL or run .ci/run)");
                return None;
            }
        };
        let schema = format!("t_{}", random_suffix());
        pool.execute(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}"))).await.expect("create schema");
        pool.close().await;
        let sep = if admin.contains('?') { '&' } else { '?' };
        let url = format!("{admin}{sep}options[search_path]={schema}");
        Some(TestDb {
            url: DatabaseUrl::parse(&url).expect("postgres url"),
            engine: "postgres",
            sqlite_path: None,
            _dir: None,
        })
    }

    /// The same PostgreSQL database reached through another local port.
    pub fn through_port(self, port: u16) -> TestDb {
        let DatabaseUrl::Postgres { url } = &self.url else { return self };
        let mut parsed = url::Url::parse(url).expect("a postgres URL");
        parsed.set_host(Some("127.0.0.1")).unwrap();
        parsed.set_port(Some(port)).unwrap();
        TestDb { url: DatabaseUrl::Postgres { url: parsed.to_string() }, ..self }
    }

    pub async fn store(&self, keys: &Keyring) -> Store {
        Store::open(&self.url, keys).await.unwrap_or_else(|e| panic!("open {} store: {e}", self.engine))
    }
}

pub fn keyring() -> Keyring {
    Keyring::new(SecretKey::generate(), vec![])
}

pub fn member(id: &str) -> MemberId {
    MemberId::parse(id).expect("member id")
}

/// A random token in Bitrix24's style: 32 lowercase alphanumerics.
pub fn token() -> String {
    let mut rng = rand::rng();
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    (0..32).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect()
}

pub fn pair(access: &str, refresh: &str) -> TokenPair {
    TokenPair {
        access_token: SecretString::from(access.to_owned()),
        refresh_token: SecretString::from(refresh.to_owned()),
        expires_at: 1_900_000_000,
    }
}

pub fn install(member_id: &MemberId, access: &str, refresh: &str, application_token: Option<&str>) -> PortalInstall {
    PortalInstall {
        member_id: member_id.clone(),
        domain: "portal.example.com".into(),
        client_endpoint: "https://portal.example.com/rest/".parse().unwrap(),
        server_endpoint: "https://oauth.bitrix.info/rest/".parse().unwrap(),
        scope: "crm,user".into(),
        tokens: pair(access, refresh),
        application_token: application_token.map(|t| SecretString::from(t.to_owned())),
        status: PortalStatus::Active,
    }
}

/// Runs one store story on SQLite, and on PostgreSQL when it is there (always under CI).
#[macro_export]
macro_rules! on_both_engines {
    ($story:ident) => {
        mod $story {
            #[tokio::test]
            async fn sqlite() {
                super::$story($crate::helpers::TestDb::sqlite()).await;
            }

            #[tokio::test]
            async fn postgres() {
                if let Some(db) = $crate::helpers::TestDb::postgres().await {
                    super::$story(db).await;
                }
            }
        }
    };
}
