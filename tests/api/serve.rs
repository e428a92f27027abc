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

/// The server's settings, which `demo` and `sandbox` do not read and so must not offer (the sandbox has a
/// `--listen` of its own; the server's is named by its `[env: APP_LISTEN]`).
const SERVER_FLAGS: &[&str] = &[
    "--database-url",
    "--secret-key",
    "--previous-secret-keys",
    "--base-url",
    "--oauth-server",
    "--allow-insecure-portals",
    "--rate-limit",
    "--rest-log-retention-days",
    "--log-format",
];

fn help_of(args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let out = bare_command(dir.path()).args(args).arg("--help").output().unwrap();
    assert!(out.status.success(), "{args:?} --help");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn each_command_offers_only_the_settings_it_reads() {
    for command in ["demo", "sandbox"] {
        let help = help_of(&[command]);
        for flag in SERVER_FLAGS {
            assert!(!help.contains(flag), "`{command} --help` offers the server's {flag}:\n{help}");
        }
        assert!(!help.contains("[env: "), "`{command} --help` reads no app setting:\n{help}");
    }
    let serve = help_of(&["serve"]);
    for flag in SERVER_FLAGS {
        assert!(serve.contains(flag), "`serve --help` lacks {flag}");
    }
    let migrate = help_of(&["migrate"]);
    assert!(migrate.contains("DATABASE_URL") && migrate.contains("APP_LOG_FORMAT"), "{migrate}");
    assert!(!migrate.contains("APP_SECRET_KEY") && !migrate.contains("B24_CLIENT_ID"), "{migrate}");
    for command in [&["portals"][..], &["portals", "list"], &["portals", "show"]] {
        let help = help_of(command);
        assert!(help.contains("DATABASE_URL") && help.contains("APP_SECRET_KEY"), "{command:?}:\n{help}");
        assert!(!help.contains("B24_CLIENT_ID") && !help.contains("APP_BASE_URL"), "{command:?}:\n{help}");
    }
}

/// A SQLite database holding two portals with IDs and domains of different lengths; its URL and key.
async fn two_portals() -> (TestDb, SecretKey, String) {
    let db = TestDb::sqlite();
    let key = SecretKey::generate();
    let store = db.store(&b24_calllist::keys::Keyring::new(key.clone(), vec![])).await;
    store.save_install(&install(&member("a223c6b3710f85df22e9377d6c4f7553"), &token(), &token(), None)).await.unwrap();
    let mut short = install(&member("b7"), &token(), &token(), None);
    short.domain = "a-rather-longer-portal-name.bitrix24.example".into();
    store.save_install(&short).await.unwrap();
    let url = format!("sqlite://{}", db.sqlite_path.as_ref().unwrap().display());
    (db, key, url)
}

/// Runs `portals …` against `url`, with `key` as APP_SECRET_KEY when given.
fn portals(dir: &std::path::Path, url: &str, key: Option<&SecretKey>, args: &[&str]) -> std::process::Output {
    let mut cmd = bare_command(dir);
    cmd.arg("portals").args(args).env("DATABASE_URL", url);
    if let Some(key) = key {
        cmd.env("APP_SECRET_KEY", key.to_base64());
    }
    cmd.output().unwrap()
}

/// Checks that every line's cells start where the header's do; returns the lines.
fn aligned_table(text: &str, header: &[&str]) -> Vec<String> {
    let lines: Vec<String> = text.lines().take_while(|l| !l.is_empty()).map(str::to_owned).collect();
    let starts: Vec<usize> =
        header.iter().map(|h| lines[0].find(h).unwrap_or_else(|| panic!("no {h}:\n{text}"))).collect();
    for line in &lines[1..] {
        for (i, start) in starts.iter().enumerate().skip(1) {
            let before = &line[..*start];
            assert!(before.ends_with("  "), "column {} of {line:?} does not start at {start}:\n{text}", header[i]);
            assert!(!line[*start..].starts_with(' '), "column {} of {line:?} starts late:\n{text}", header[i]);
        }
        assert_eq!(line.trim_end(), line, "no trailing spaces");
    }
    lines
}

#[tokio::test]
async fn portals_list_needs_no_key_and_aligns_its_columns() {
    let (_db, key, url) = two_portals().await;
    let dir = tempfile::tempdir().unwrap();

    let out = portals(dir.path(), &url, None, &["list"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    let lines = aligned_table(&text, &["MEMBER_ID", "DOMAIN", "STATUS", "UPDATED"]);
    assert_eq!(lines.len(), 3, "a header and two portals:\n{text}");
    assert!(!lines[0].contains("TOKENS"), "no token column without a key:\n{text}");
    assert!(text.contains("tokens: not checked (no APP_SECRET_KEY)"), "{text}");

    let out = portals(dir.path(), &url, Some(&key), &["list"]);
    let text = String::from_utf8_lossy(&out.stdout);
    let lines = aligned_table(&text, &["MEMBER_ID", "DOMAIN", "STATUS", "TOKENS", "UPDATED"]);
    assert!(lines[1..].iter().all(|l| l.contains(" stored ")), "with the key, the tokens open:\n{text}");
    assert!(!text.contains("not checked"), "{text}");

    let show = portals(dir.path(), &url, None, &["show", "b7"]);
    let text = String::from_utf8_lossy(&show.stdout);
    assert!(show.status.success() && text.contains("not checked (no APP_SECRET_KEY)"), "{text}");
}

#[tokio::test]
async fn under_a_wrong_key_list_and_show_agree_that_the_tokens_are_unreadable() {
    let (_db, _key, url) = two_portals().await;
    let dir = tempfile::tempdir().unwrap();
    let wrong = SecretKey::generate();

    let list = portals(dir.path(), &url, Some(&wrong), &["list"]);
    assert!(list.status.success(), "{}", String::from_utf8_lossy(&list.stderr));
    let text = String::from_utf8_lossy(&list.stdout);
    let rows: Vec<_> = text.lines().skip(1).take_while(|l| !l.is_empty()).collect();
    assert_eq!(rows.len(), 2, "{text}");
    assert!(rows.iter().all(|r| r.contains("unreadable with this key")), "{text}");

    for id in ["a223c6b3710f85df22e9377d6c4f7553", "b7"] {
        let show = portals(dir.path(), &url, Some(&wrong), &["show", id]);
        let text = String::from_utf8_lossy(&show.stdout);
        let tokens = text.lines().find(|l| l.starts_with("tokens:")).unwrap_or_default();
        assert!(tokens.contains("unreadable with this key"), "show agrees with list: {tokens}");
        assert!(tokens.contains("APP_PREVIOUS_SECRET_KEYS"), "and says what to do: {tokens}");
    }
}

#[test]
fn the_operator_tools_never_create_a_database_a_typo_names() {
    let dir = tempfile::tempdir().unwrap();
    let typo = dir.path().join("dta").join("b24-calllist.db");
    let url = format!("sqlite://{}", typo.display());
    for args in [&["list"][..], &["show", "b7"], &["forget", "b7"]] {
        let out = portals(dir.path(), &url, None, args);
        assert_eq!(out.status.code(), Some(2), "portals {args:?} on a missing database");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(&typo.display().to_string()), "the message names the path: {stderr}");
        assert!(stderr.contains("DATABASE_URL"), "and the setting: {stderr}");
        assert!(!typo.exists() && !typo.parent().unwrap().exists(), "portals {args:?} created nothing");
    }

    // Through a .env file, as an operator would set it, and a relative path.
    std::fs::write(dir.path().join(".env"), "DATABASE_URL=sqlite://missing/app.db\n").unwrap();
    let out = bare_command(dir.path()).args(["portals", "list"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let expected = std::path::absolute(dir.path().join("missing/app.db")).unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains(&expected.display().to_string()), "{out:?}");
    assert!(!dir.path().join("missing").exists());

    // `migrate` is how a database is made, and it says when it made one.
    let out = bare_command(dir.path()).arg("migrate").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains(&format!("created a new SQLite database at {}", expected.display())), "{stdout}");
    let again = bare_command(dir.path()).arg("migrate").output().unwrap();
    assert!(!String::from_utf8_lossy(&again.stdout).contains("created"), "only the first run creates it");
    let list = bare_command(dir.path()).args(["portals", "list"]).output().unwrap();
    assert!(list.status.success());
    assert_eq!(String::from_utf8_lossy(&list.stdout).trim(), "no portals installed");
}

#[test]
fn log_lines_written_to_a_pipe_carry_no_colour_codes() {
    let dir = tempfile::tempdir().unwrap();
    let out = bare_command(dir.path())
        .arg("migrate")
        .env("DATABASE_URL", "sqlite://app.db")
        .env("RUST_LOG", "debug")
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("DEBUG"), "some log lines were written: {stderr}");
    assert!(!stderr.contains('\u{1b}'), "no ANSI escape codes in a pipe:\n{stderr}");
}
