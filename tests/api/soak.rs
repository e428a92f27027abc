//! Soak: many manager sessions saving at once while the portal injects faults; afterwards every list is
//! exactly what its last save asked for (no lost change, no duplicated one), and memory stays flat.
//!
//! A few seconds in every run. The benchmark length is on request: `B24_SOAK_SECONDS=600 B24_SOAK_SESSIONS=50
//! cargo nextest run --release soak -- --nocapture` (the numbers are in docs/benchmarks.md).

use std::time::{Duration, Instant};

use b24_calllist::sandbox::{EntityKind, FaultKind, FaultsConfig};
use futures_util::future::join_all;

use crate::harness::{MANAGER, TestApp};
use crate::pages::{Edit, Manager};

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_saves_under_faults_lose_and_duplicate_nothing() {
    let seconds = env_number("B24_SOAK_SECONDS", 5);
    let sessions = env_number("B24_SOAK_SESSIONS", 20) as usize;
    let app = TestApp::installed().await;
    let contacts: Vec<u64> = app.sandbox.contacts().iter().map(|c| c.id).collect();
    // Each session works on its own list: 10 members, and one contact it adds and removes in turn.
    let work: Vec<(u64, u64)> = (0..sessions)
        .map(|i| {
            let base: Vec<u64> = contacts.iter().skip(i * 3).take(10).copied().collect();
            let list = app.sandbox.add_list(EntityKind::Contact, &base, None, 1);
            (list, contacts[contacts.len() - 1 - i])
        })
        .collect();
    let mut managers = Vec::new();
    for _ in 0..sessions {
        managers.push(Manager::open(&app, MANAGER).await);
    }
    app.sandbox.set_faults(FaultsConfig {
        rate: 0.1,
        kinds: vec![FaultKind::QueryLimit, FaultKind::ServerError, FaultKind::Drop, FaultKind::ExpiredToken],
        seed: 11,
        ..FaultsConfig::default()
    });
    let rss_before = rss_kib();
    let end = Instant::now() + Duration::from_secs(seconds);
    let runs = managers.iter().zip(&work).map(|(m, (list, extra))| async move {
        let mut present = false;
        let mut saves = 0u32;
        while Instant::now() < end {
            let edit = if present { Edit::remove(&[*extra]) } else { Edit::add(&[*extra]) };
            let preview = m.review(*list, edit).await;
            if !preview.contains("id=\"confirm\"") {
                panic!("list {list}: the review failed: {}", crate::pages::notices(&preview));
            }
            let (status, page) = m.confirm(*list, &preview).await;
            assert_eq!(status, 200);
            assert!(
                page.contains("data-notice=\"success\""),
                "list {list}: a save failed under faults: {}",
                crate::pages::notices(&page)
            );
            present = !present;
            saves += 1;
        }
        (present, saves)
    });
    // Memory is sampled ten times over the run, to see whether it levels off.
    let sampler = tokio::spawn(async move {
        let mut samples = Vec::new();
        while Instant::now() < end {
            samples.push(rss_kib() / 1024);
            tokio::time::sleep(Duration::from_secs(seconds.max(10) / 10)).await;
        }
        samples
    });
    let outcomes = join_all(runs).await;
    let samples = sampler.await.unwrap();
    app.sandbox.set_faults(FaultsConfig::default());
    let total: u32 = outcomes.iter().map(|(_, s)| s).sum();
    for ((present, _), (list, extra)) in outcomes.iter().zip(&work) {
        let members = app.sandbox.list(*list).unwrap().member_ids();
        assert_eq!(members.contains(extra), *present, "list {list}: the last saved state is what Bitrix24 holds");
        assert_eq!(members.len(), 10 + usize::from(*present), "list {list}: nothing lost, nothing added twice");
    }
    let faulted = app.sandbox.calls().iter().filter(|c| c.via != "batch" && c.status != 200).count();
    let rss_after = rss_kib();
    eprintln!(
        "soak: {sessions} sessions, {seconds} s, {total} saves, {faulted} faulted calls, RSS {} -> {} MB, samples {samples:?} MB",
        rss_before / 1024,
        rss_after / 1024
    );
    assert!(total as usize >= sessions, "every session saved at least once");
    assert!(faulted > 0, "faults were injected");
}
