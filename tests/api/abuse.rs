//! Unauthenticated traffic costs its sender, not the portal: forged iframe entries and installs are checked
//! with the portal or the OAuth server only within bounds, a wrong `APPLICATION_TOKEN` or a token refused
//! before is turned away without asking, starting an OAuth renewal writes nothing, and a body trickled in
//! slowly is cut. Longer runs on request: `B24_ABUSE_SECONDS`, `B24_SLOW_CONNECTIONS`.

use std::time::{Duration, Instant};

use b24_calllist::sandbox::{LimitsConfig, SandboxConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::harness::{MANAGER, Options, TestApp};
use crate::pages::{Manager, notices};

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn forged_entry(app: &TestApp, application_token: Option<&str>) -> Vec<(String, String)> {
    let mut fields = vec![
        ("AUTH_ID".to_owned(), crate::helpers::token()),
        ("REFRESH_ID".to_owned(), crate::helpers::token()),
        ("member_id".to_owned(), app.sandbox.member_id().to_owned()),
    ];
    if let Some(t) = application_token {
        fields.push(("APPLICATION_TOKEN".to_owned(), t.to_owned()));
    }
    fields
}

/// Requests the portal received since `since` with a token it never issued: the checks forged entries caused.
/// (A manager's own reads, whose cached screens run out during a long run, are not counted.)
fn user_checks(app: &TestApp, since: u64) -> usize {
    let issued: std::collections::HashSet<String> = app.sandbox.issued_tokens().into_iter().collect();
    app.sandbox
        .calls()
        .iter()
        .filter(|c| c.seq > since && c.via != "batch" && c.token.as_ref().is_none_or(|t| !issued.contains(t)))
        .count()
}

fn limit_waits(app: &TestApp) -> f64 {
    let text = app.state.metrics.encode();
    text.lines()
        .find(|l| l.starts_with("b24_calllist_limit_wait_seconds_total"))
        .and_then(|l| l.split_whitespace().last()?.parse().ok())
        .unwrap_or(0.0)
}

fn p99(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[(v.len() * 99 / 100).min(v.len() - 1)]
}

/// Twenty senders of forged iframe entries for a while, beside a manager at work: the portal is asked
/// about a bounded number of them, and no request, the manager's or another, waits for the portal's bucket.
#[tokio::test]
async fn forged_entries_cost_the_sender_not_the_portals_managers() {
    let seconds = env_number("B24_ABUSE_SECONDS", 5);
    let options = Options {
        sandbox: SandboxConfig { limits: LimitsConfig::default(), ..Options::default().sandbox },
        rate: b24_calllist::bitrix::RateLimit::STANDARD,
        ..Options::default()
    };
    let mut o = options;
    o.sandbox.app_installed = false;
    let app = TestApp::start(o).await;
    assert_eq!(app.sandbox.install_app().await.unwrap(), 200);
    let list = app.sandbox.lists()[0].id;
    let m = Manager::open(&app, MANAGER).await;
    let open = |page: u64| {
        let m = &m;
        async move {
            let started = Instant::now();
            let (status, html) = m.post(&format!("lists/{list}"), &[("mpage", &page.to_string())]).await;
            assert_eq!(status, 200, "{}", notices(&html));
            started.elapsed()
        }
    };
    let mut idle = Vec::new();
    for i in 0..20 {
        idle.push(open(i % 2).await);
    }
    let since = app.sandbox.calls().last().map(|c| c.seq).unwrap_or(0);
    let waits_before = limit_waits(&app);
    let end = Instant::now() + Duration::from_secs(seconds);
    let entry = app.at("app");
    let senders = (0..20).map(|_| {
        let (app, entry) = (&app, entry.clone());
        async move {
            let mut sent = 0u64;
            while Instant::now() < end {
                let r = app.http.post(entry.clone()).form(&forged_entry(app, None)).send().await.unwrap();
                assert!(matches!(r.status().as_u16(), 401 | 403 | 429), "a forged entry is refused: {}", r.status());
                sent += 1;
            }
            sent
        }
    });
    let manager = async {
        let mut under_attack = Vec::new();
        while Instant::now() < end {
            under_attack.push(open(under_attack.len() as u64 % 3).await);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        under_attack
    };
    let (sent, under_attack) = tokio::join!(futures_util::future::join_all(senders), manager);
    let forged: u64 = sent.iter().sum();
    let checks = user_checks(&app, since);
    // Three at once, then one every three seconds, and one more for the bucket's timing.
    let bound = 3 + (seconds as usize).div_ceil(3) + 1;
    assert!(checks <= bound, "{forged} forged entries made {checks} checks with the portal (at most {bound})");
    // A wait for a place in the bucket lasts half a second at 2 a second; the counter also sums the
    // microseconds every request takes to pass the check.
    let waited = limit_waits(&app) - waits_before;
    assert!(waited < 0.05, "no request waited for the portal's bucket, yet {waited:.3} s were spent waiting");
    eprintln!(
        "forged entries: {forged} in {seconds} s, {checks} portal checks; manager open p99 {:?} under attack, {:?} idle",
        p99(under_attack),
        p99(idle)
    );
}

/// A wrong `APPLICATION_TOKEN` is refused without asking the portal, and so is an `AUTH_ID` it refused before.
#[tokio::test]
async fn a_wrong_application_token_or_a_refused_token_is_turned_away_without_asking() {
    let app = TestApp::installed().await;
    let since = app.sandbox.calls().last().map(|c| c.seq).unwrap_or(0);
    for _ in 0..10 {
        let r = app.http.post(app.at("app")).form(&forged_entry(&app, Some("0123456789abcdef"))).send().await.unwrap();
        assert_eq!(r.status(), 401);
    }
    assert_eq!(user_checks(&app, since), 0, "no check with the portal for a wrong application token");
    let fields = forged_entry(&app, None);
    let first = app.http.post(app.at("app")).form(&fields).send().await.unwrap();
    assert_eq!(first.status(), 401);
    let after_first = app.sandbox.calls().last().map(|c| c.seq).unwrap_or(0);
    let again = app.http.post(app.at("app")).form(&fields).send().await.unwrap();
    assert_eq!(again.status(), 401);
    assert_eq!(user_checks(&app, after_first), 0, "a token refused before is not asked about again");
    // The genuine iframe still opens the app.
    let (status, _) = app.open_as(MANAGER).await;
    assert_eq!(status, 200);
}

/// Forged installs reach the OAuth server only within bounds.
#[tokio::test]
async fn forged_installs_are_relayed_to_the_oauth_server_only_within_bounds() {
    let app = TestApp::installed().await;
    let before = app.sandbox.oauth_stats();
    let mut refused = 0;
    for _ in 0..200 {
        let r = app.http.post(app.at("install")).form(&forged_entry(&app, None)).send().await.unwrap();
        if matches!(r.status().as_u16(), 403 | 429) {
            refused += 1;
        }
    }
    assert_eq!(refused, 200, "every forged install is refused");
    let after = app.sandbox.oauth_stats();
    let asked = after.refresh_grants + after.rejected_grants - before.refresh_grants - before.rejected_grants;
    assert!(asked <= 12, "200 forged installs asked the OAuth server {asked} times");
    eprintln!("forged installs: 200 refused, the OAuth server asked {asked} times");
}

/// Starting a renewal of access writes nothing: the state is signed, and a row appears only when a
/// callback spends it.
#[tokio::test]
async fn starting_oauth_renewals_writes_nothing() {
    let app = TestApp::installed().await;
    let url = app.at(&format!("oauth/start?portal={}", app.sandbox.member_id()));
    for _ in 0..300 {
        let r = app.http.get(url.clone()).send().await.unwrap();
        assert_eq!(r.status(), 302);
    }
    let rows: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM oauth_states").fetch_one(app.store.database().pool()).await.unwrap();
    assert_eq!(rows, 0, "no row per start");
}

/// A client that sends its headers and then trickles its body is cut once the body's time is up.
#[tokio::test]
async fn a_trickled_body_is_cut_after_the_deadline() {
    let connections = env_number("B24_SLOW_CONNECTIONS", 50);
    let app = TestApp::installed().await;
    let addr = format!("{}:{}", app.url.host_str().unwrap(), app.url.port().unwrap());
    let started = Instant::now();
    let clients = (0..connections).map(|_| {
        let addr = addr.clone();
        async move {
            let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
            let head = "POST /lists HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\n";
            s.write_all(head.as_bytes()).await.unwrap();
            let mut buf = [0u8; 4096];
            loop {
                // One byte a second, until the server answers or closes.
                if s.write_all(b"a").await.is_err() {
                    return started.elapsed();
                }
                match tokio::time::timeout(Duration::from_secs(1), s.read(&mut buf)).await {
                    Ok(Ok(_)) | Ok(Err(_)) => return started.elapsed(),
                    Err(_) if started.elapsed() > Duration::from_secs(40) => panic!("never cut"),
                    Err(_) => {}
                }
            }
        }
    });
    let cut = futures_util::future::join_all(clients).await;
    let latest = cut.iter().max().unwrap();
    let deadline = b24_calllist::web::slow_bodies::BODY_DEADLINE;
    assert!(
        *latest <= deadline + Duration::from_secs(3),
        "every slow body cut by {:?}, the last at {latest:?}",
        deadline
    );
    assert!(*cut.iter().min().unwrap() >= deadline - Duration::from_secs(1), "not before its time");
    eprintln!("slow bodies: {connections} cut between {:?} and {latest:?}", cut.iter().min().unwrap());
}

/// `Origin: null` (a sandboxed frame, a file) is not the app's own origin.
#[tokio::test]
async fn a_null_origin_is_foreign_on_state_changing_requests() {
    let app = TestApp::installed().await;
    let list = app.sandbox.lists()[0].id;
    let m = Manager::open(&app, MANAGER).await;
    let r = app
        .http
        .post(app.at(&format!("lists/{list}/save")))
        .header("Origin", "null")
        .form(&[("_session", m.session.as_str()), ("_csrf", m.csrf.as_str()), ("add", "1"), ("base", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(app.sandbox.calls_of("crm.calllist.update").is_empty());
}
