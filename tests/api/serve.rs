//! Starting the app: settings errors, health and readiness, graceful shutdown, the operator commands.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use b24_calllist::keys::SecretKey;
use b24_calllist::settings::{DatabaseUrl, LocalApp, Settings};
use b24_calllist::startup::Application;
use secrecy::SecretString;
use sqlx::Executor;
use sqlx::postgres::PgPoolOptions;

use crate::helpers::{TestDb, install, keyring, member, postgres_admin_url, random_suffix, token};

const BIN: &str = env!("CARGO_BIN_EXE_b24-calllist");

/// The binary with an empty environment, in an empty folder (so no `.env` is read).
fn bare_command(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_clear().current_dir(dir).stdin(Stdio::null());
    cmd
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub fn settings_for(database: DatabaseUrl) -> Settings {
    Settings::local(LocalApp {
        database,
        listen: "127.0.0.1:0".parse().unwrap(),
        client_id: "local.test".into(),
        client_secret: SecretString::from("client-secret"),
        oauth_server: "http://127.0.0.1:9".parse().unwrap(),
        keys: keyring(),
    })
}

#[test]
fn serve_without_settings_exits_nonzero_naming_each_missing_variable() {
    let dir = tempfile::tempdir().unwrap();
    let out = bare_command(dir.path()).arg("serve").output().unwrap();
    assert_eq!(out.status.code(), Some(2), "settings errors exit with 2");
    let stderr = String::from_utf8_lossy(&out.stderr);
    for var in ["B24_CLIENT_ID", "B24_CLIENT_SECRET", "APP_BASE_URL", "APP_SECRET_KEY"] {
        assert!(stderr.lines().any(|l| l.starts_with("error: ") && l.contains(var)), "no line names {var}:\n{stderr}");
    }
    assert!(stderr.contains("head -c 32 /dev/urandom | base64"), "the key line says how to make one:\n{stderr}");
    assert!(!dir.path().join("data").exists(), "nothing is created when settings are wrong");
}

#[test]
fn a_malformed_key_and_database_url_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let out = bare_command(dir.path())
        .arg("serve")
        .env("B24_CLIENT_ID", "x")
        .env("B24_CLIENT_SECRET", "y")
        .env("APP_BASE_URL", "https://app.example.com")
        .env("APP_SECRET_KEY", "dG9vIHNob3J0")
        .env("DATABASE_URL", "mysql://localhost/x")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("APP_SECRET_KEY decodes to 9 bytes, not 32"), "{stderr}");
    assert!(stderr.contains("DATABASE_URL has an unsupported scheme `mysql`"), "{stderr}");
    assert!(!stderr.contains("dG9vIHNob3J0"), "the key itself is never echoed");
}

#[test]
fn help_lists_every_setting() {
    let dir = tempfile::tempdir().unwrap();
    let out = bare_command(dir.path()).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for var in [
        "B24_CLIENT_ID",
        "B24_CLIENT_SECRET",
        "APP_BASE_URL",
        "APP_LISTEN",
        "DATABASE_URL",
        "APP_SECRET_KEY",
        "APP_PREVIOUS_SECRET_KEYS",
        "B24_OAUTH_SERVER",
        "APP_ALLOW_INSECURE_PORTALS",
        "APP_LOG_FORMAT",
    ] {
        assert!(help.contains(var), "--help does not mention {var}");
    }
}

#[tokio::test]
async fn serve_answers_health_and_readiness_then_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let child = bare_command(dir.path())
        .arg("serve")
        .env("B24_CLIENT_ID", "local.test")
        .env("B24_CLIENT_SECRET", "secret")
        .env("APP_BASE_URL", "http://127.0.0.1:8080")
        .env("APP_SECRET_KEY", SecretKey::generate().to_base64())
        .env("APP_LISTEN", format!("127.0.0.1:{port}"))
        .env("APP_LOG_FORMAT", "json")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let http = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    let health = loop {
        match http.get(format!("{base}/healthz")).send().await {
            Ok(r) => break r,
            Err(_) if started.elapsed() < Duration::from_secs(30) => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
            Err(e) => panic!("serve never answered /healthz: {e}"),
        }
    };
    assert_eq!(health.status(), 200);
    let ready = http.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    assert!(dir.path().join("data/b24-calllist.db").exists(), "the default SQLite file is created on first start");

    let killed = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status().unwrap();
    assert!(killed.success());
    let out = tokio::task::spawn_blocking(move || child.wait_with_output()).await.unwrap().unwrap();
    assert!(out.status.success(), "a SIGTERM shuts down cleanly, got {:?}", out.status);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let first = stderr.lines().next().unwrap_or_default();
    assert!(serde_json::from_str::<serde_json::Value>(first).is_ok(), "APP_LOG_FORMAT=json logs JSON: {first}");
}

#[tokio::test]
async fn readiness_fails_when_the_database_is_gone() {
    let admin = postgres_admin_url();
    let pool = match PgPoolOptions::new().max_connections(1).connect(&admin).await {
        Ok(p) => p,
        Err(e) if crate::helpers::in_ci() => panic!("CI=true but PostgreSQL is unreachable: {e}"),
        Err(e) => return eprintln!("skipping: no PostgreSQL ({e})"),
    };
    let name = format!("b24_gone_{}", random_suffix());
    pool.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).await.unwrap();
    let mut url = url::Url::parse(&admin).unwrap();
    url.set_path(&format!("/{name}"));
    let settings = settings_for(DatabaseUrl::Postgres { url: url.to_string() });
    let app = Application::build(settings).await.unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());

    let http = reqwest::Client::new();
    assert_eq!(http.get(format!("{base}/readyz")).send().await.unwrap().status(), 200);
    pool.execute(sqlx::AssertSqlSafe(format!("DROP DATABASE {name} WITH (FORCE)"))).await.unwrap();
    let ready = http.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503, "readiness must fail once the database is gone");
    assert_eq!(http.get(format!("{base}/healthz")).send().await.unwrap().status(), 200, "the process is still up");
}

#[tokio::test]
async fn the_portals_command_lists_shows_and_forgets() {
    let db = TestDb::sqlite();
    let key = SecretKey::generate();
    let keys = b24_calllist::keys::Keyring::new(key.clone(), vec![]);
    let id = member("a223c6b3710f85df22e9377d6c4f7553");
    let access = token();
    db.store(&keys).await.save_install(&install(&id, &access, &token(), None)).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        bare_command(dir.path())
            .args(args)
            .env("DATABASE_URL", format!("sqlite://{}", db.sqlite_path.as_ref().unwrap().display()))
            .env("APP_SECRET_KEY", key.to_base64())
            .output()
            .unwrap()
    };
    let list = run(&["portals", "list"]);
    assert!(list.status.success());
    let text = String::from_utf8_lossy(&list.stdout);
    assert!(text.contains(id.as_str()) && text.contains("active"), "{text}");

    let show = run(&["portals", "show", id.as_str()]);
    let text = String::from_utf8_lossy(&show.stdout);
    assert!(text.contains("portal.example.com") && text.contains("portal.install"), "{text}");
    assert!(!text.contains(&access), "show never prints a token");

    let bad = run(&["portals", "show", ""]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("member_id is empty"));

    assert!(run(&["portals", "forget", id.as_str()]).status.success());
    let again = run(&["portals", "forget", id.as_str()]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("no portal with member_id"));
}
