//! The app killed (`kill -9`) in the middle of saves, as a real process, then started again on the same
//! database: every list is as it was or as it was saved, never a mix, and the history says which once the
//! list is looked at. The kill lands at random points of a save (before its history entry, after it, after
//! the update reached the portal, after the answer); what each run hit is read off the history and the
//! portal's log. More runs on request: `B24_CRASH_RUNS`.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use b24_calllist::keys::SecretKey;
use b24_calllist::sandbox::{Latency, LimitsConfig, Sandbox, SandboxConfig};

use crate::harness::{MANAGER, hidden_value, page_tokens};

const BIN: &str = env!("CARGO_BIN_EXE_b24-calllist");

struct Server {
    child: Child,
}

impl Server {
    async fn start(port: u16, db: &std::path::Path, key: &str, sandbox: &Sandbox) -> Server {
        let child = Command::new(BIN)
            .arg("serve")
            .env_clear()
            .env("B24_CLIENT_ID", sandbox.client_id())
            .env("B24_CLIENT_SECRET", sandbox.client_secret())
            .env("APP_BASE_URL", format!("http://127.0.0.1:{port}/"))
            .env("APP_LISTEN", format!("127.0.0.1:{port}"))
            .env("DATABASE_URL", format!("sqlite://{}", db.display()))
            .env("APP_SECRET_KEY", key)
            .env("B24_OAUTH_SERVER", sandbox.oauth_url().as_str())
            .env("APP_ALLOW_INSECURE_PORTALS", "true")
            .env("RUST_LOG", "warn")
            .current_dir(db.parent().unwrap())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("serve starts");
        let started = Instant::now();
        let health = format!("http://127.0.0.1:{port}/healthz");
        while reqwest::get(&health).await.map(|r| r.status() != 200).unwrap_or(true) {
            assert!(started.elapsed() < Duration::from_secs(20), "serve never answered");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Server { child }
    }

    fn kill(mut self) {
        let _ = Command::new("kill").arg("-9").arg(self.child.id().to_string()).status();
        let _ = self.child.wait();
    }
}

/// What a run's kill hit, as the history and the portal tell it afterwards.
#[derive(Debug, Default)]
struct Hits {
    before_history: u32,
    pending_not_sent: u32,
    pending_sent: u32,
    finished: u32,
}

#[tokio::test]
async fn killed_mid_save_every_list_is_as_before_or_as_saved_and_the_history_says_which() {
    let runs = std::env::var("B24_CRASH_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(8);
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let app_url: url::Url = format!("http://127.0.0.1:{port}/").parse().unwrap();
    let mut config = SandboxConfig {
        app_url: Some(app_url.clone()),
        app_installed: false,
        limits: LimitsConfig::off(),
        ..SandboxConfig::default()
    };
    // Each request takes a while, so a kill lands inside a save rather than between saves.
    config.faults.latency = Latency::Fixed { ms: 120 };
    let sandbox = Sandbox::start(config).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crash.db");
    let key = SecretKey::generate().to_base64();
    let server = Server::start(port, &db, &key, &sandbox).await;
    assert_eq!(sandbox.install_app().await.unwrap(), 200);
    let list = sandbox.lists()[0].id;
    let http = reqwest::Client::new();
    let mut server = Some(server);
    let mut hits = Hits::default();
    for run in 0..runs {
        let (status, page) = sandbox.open_app(MANAGER).await.unwrap();
        assert_eq!(status, 200, "{page}");
        let (session, csrf) = page_tokens(&page);
        let lang = hidden_value(&page, "_lang");
        let post = |path: String, fields: Vec<(&'static str, String)>| {
            let mut all = vec![("_session", session.clone()), ("_csrf", csrf.clone()), ("_lang", lang.clone())];
            all.extend(fields);
            http.post(app_url.join(&path).unwrap()).form(&all).send()
        };
        let before = sandbox.list(list).unwrap().member_ids();
        let extra = sandbox.add_contact("Crash", &format!("Run{run}"));
        let review = post(
            format!("lists/{list}"),
            vec![
                ("go", "review".into()),
                ("etype", "contact".into()),
                ("add", extra.to_string()),
                ("form", "keep".into()),
            ],
        )
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
        let save_form = &review[..review.find("id=\"confirm\"").expect("a review")];
        let fields: Vec<(&'static str, String)> =
            ["etype", "add", "remove", "form", "base"].iter().map(|n| (*n, hidden_value(save_form, n))).collect();
        let updates_before = sandbox.calls_of("crm.calllist.update").len();
        let saving = tokio::spawn(post(format!("lists/{list}/save"), fields));
        // A save here takes two requests of at least 120 ms after its session and lease: kill somewhere from
        // before its update to after its answer.
        let delay = 150 + (run % 8) * 35;
        tokio::time::sleep(Duration::from_millis(delay)).await;
        server.take().unwrap().kill();
        let _ = saving.await;
        // The portal finishes what reached it; then the list must be one of the two states.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let after = sandbox.list(list).unwrap().member_ids();
        let mut with = before.clone();
        with.push(extra);
        let saved = {
            let (mut a, mut w) = (after.clone(), with.clone());
            a.sort_unstable();
            w.sort_unstable();
            a == w
        };
        let unchanged = {
            let (mut a, mut b) = (after.clone(), before.clone());
            a.sort_unstable();
            b.sort_unstable();
            a == b
        };
        assert!(saved || unchanged, "run {run}: the list is neither as before nor as saved");
        let sent = sandbox.calls_of("crm.calllist.update").len() > updates_before;

        server = Some(Server::start(port, &db, &key, &sandbox).await);
        let pending_before = count_outcome(&db, "pending").await;
        // The manager looks at the list again: the history is settled from the list as it is, once the killed
        // save's lease has run out (until then it may still be running somewhere, and shows as being saved).
        let (status, page) = sandbox.open_app(MANAGER).await.unwrap();
        assert_eq!(status, 200);
        let (session, csrf) = page_tokens(&page);
        let look = || async {
            http.post(app_url.join(&format!("lists/{list}")).unwrap())
                .form(&[("_session", session.as_str()), ("_csrf", csrf.as_str()), ("etype", "contact")])
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        };
        let looking = Instant::now();
        let mut view = look().await;
        while count_outcome(&db, "pending").await > 0 {
            assert!(
                view.contains("being saved") || view.contains("сохраняется"),
                "run {run}: shown as being saved meanwhile"
            );
            assert!(
                looking.elapsed() < b24_calllist::editor::LEASE + Duration::from_secs(3),
                "run {run}: still pending"
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
            view = look().await;
        }
        let history = &view[view.find("id=\"history\"").unwrap()..];
        let latest = history.split("<li>").nth(1).unwrap_or_default();
        match (saved, pending_before > 0) {
            (true, _) => assert!(latest.contains("saved") || latest.contains("сохранено"), "run {run}: {latest}"),
            (false, true) => {
                assert!(latest.contains("interrupted") || latest.contains("прервано"), "run {run}: {latest}")
            }
            (false, false) => {}
        }
        match (pending_before > 0, sent, saved) {
            (false, false, false) => hits.before_history += 1,
            (true, false, _) => hits.pending_not_sent += 1,
            (true, true, _) => hits.pending_sent += 1,
            (false, _, _) => hits.finished += 1,
        }
    }
    server.take().unwrap().kill();
    eprintln!("kill -9 in {runs} saves: {hits:?}; 0 mixed lists");
}

async fn count_outcome(db: &std::path::Path, outcome: &str) -> i64 {
    let url = format!("sqlite://{}?mode=ro", db.display());
    let pool = sqlx::sqlite::SqlitePoolOptions::new().max_connections(1).connect(&url).await.unwrap();
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE outcome = $1")
        .bind(outcome)
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    n
}
