//! `b24-calllist demo`, the README's run command: it prints one URL, a manager can save a change through
//! it in a real browser, Ctrl-C stops it cleanly, and a second run needs no cleanup.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::webdriver::Browser;

const BIN: &str = env!("CARGO_BIN_EXE_b24-calllist");

struct Demo {
    child: Child,
    url: String,
    took: Duration,
}

/// Starts the demo in an empty folder and waits for its URL.
fn start(dir: &std::path::Path) -> Demo {
    let started = Instant::now();
    let mut child = Command::new(BIN)
        .arg("demo")
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("APP_LISTEN")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the demo starts");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut first = String::new();
        let _ = BufReader::new(stdout).read_line(&mut first);
        let _ = tx.send(first);
    });
    // Generous: a debug build on a busy machine. The release build's time is in the docs.
    let url = rx.recv_timeout(Duration::from_secs(30)).expect("the demo printed its URL").trim().to_owned();
    Demo { child, url, took: started.elapsed() }
}

fn interrupt(mut demo: Demo) {
    let sent = Command::new("kill").arg("-INT").arg(demo.child.id().to_string()).status().unwrap();
    assert!(sent.success());
    let started = Instant::now();
    loop {
        if let Some(status) = demo.child.try_wait().unwrap() {
            assert!(status.success(), "Ctrl-C stops the demo cleanly, got {status:?}");
            return;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "the demo did not stop after Ctrl-C");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test]
async fn the_demo_prints_a_url_a_manager_can_save_through_and_stops_on_ctrl_c() {
    let Some(b) = Browser::start().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let demo = start(dir.path());
    eprintln!("the demo printed its URL after {:?}", demo.took);
    let url = url::Url::parse(&demo.url).expect("one URL");
    assert!(url.query().unwrap_or_default().contains("user="), "the portal page for a user: {url}");

    b.goto(url.as_str()).await;
    assert!(b.wait("#user-switcher").await.is_displayed().await.unwrap_or(false), "a switch between users");
    b.enter_app().await;
    b.wait("#lists").await;
    b.click("[data-open-list=\"1\"]").await;
    let first = b.wait("#members input[name=\"remove\"]").await;
    let member: u64 = first.attr("value").await.unwrap().unwrap().parse().unwrap();
    b.check(&format!("#member-{member}")).await;
    b.click("#review").await;
    b.click("#confirm").await;
    b.wait("[data-notice=\"success\"]").await;

    let control = url.join("/_sandbox/calls?method=crm.calllist.update").unwrap();
    let calls: Value = reqwest::get(control).await.unwrap().json().await.unwrap();
    let calls = calls.as_array().cloned().or_else(|| calls["calls"].as_array().cloned()).expect("the call log");
    assert_eq!(calls.len(), 1, "one update reached the portal: {calls:?}");
    assert_eq!(calls[0]["user_id"], 2, "with the manager's token");
    let list: Value = reqwest::get(url.join("/_sandbox/lists/1").unwrap()).await.unwrap().json().await.unwrap();
    let members: Vec<u64> =
        list["members"].as_array().unwrap().iter().map(|m| m["element_id"].as_u64().unwrap()).collect();
    assert_eq!(members.len(), 999, "one member removed from the 1,000");
    assert!(!members.contains(&member), "the ticked member is gone");
    b.finish().await;
    interrupt(demo);

    // A second run in the same folder needs no cleanup.
    let again = start(dir.path());
    assert!(again.url.starts_with("http://127.0.0.1:"));
    interrupt(again);
}
