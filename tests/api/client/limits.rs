//! Staying inside the portal's limits: the bucket before requests leave, backoff when the portal refuses.

use std::time::{Duration, Instant};

use b24_calllist::bitrix::{BitrixError, RateLimit};
use b24_calllist::domain::EntityType;
use b24_calllist::sandbox::{LimitsConfig, SandboxConfig, SeedConfig};
use serde_json::json;

use super::{Fixture, fast_config};

fn contacts(n: usize) -> SandboxConfig {
    SandboxConfig {
        seed: SeedConfig { contacts: n, companies: 5, lists: vec![], ..SeedConfig::default() },
        ..SandboxConfig::default()
    }
}

/// reference 5.5 (bucket 50, 2 a second) and 5.4 (50 rows a page): 10,000 contacts are 200 pages. Knowing
/// about how many to expect, they take the fewest requests `batch` allows (4); not knowing, one page first
/// tells the total and the other 199 pages take 4 batches.
#[tokio::test]
async fn ten_thousand_contacts_are_read_under_the_real_limits_in_the_fewest_requests() {
    let mut client = fast_config(RateLimit::STANDARD);
    client.request_timeout = std::time::Duration::from_secs(120);
    client.default_budget = std::time::Duration::from_secs(300);
    let f = Fixture::start_with(contacts(10_000), client).await;
    assert!(f.sandbox.limits().bucket, "the sandbox enforces the bucket");
    for (expected, floor) in [(Some(10_000), 4), (None, 5)] {
        let since = f.sandbox.calls().last().map(|c| c.seq).unwrap_or(0);
        let caller = f.portal();
        let started = Instant::now();
        let all = caller
            .crm_items_all(EntityType::Contact, json!({}), expected)
            .await
            .expect("no limit error reaches the caller");
        let took = started.elapsed();
        assert_eq!(all.len(), 10_000);
        let mut ids: Vec<u64> = all.iter().map(|c| c.id.get()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 10_000, "every contact once");
        let arrived = f.sandbox.calls().iter().filter(|c| c.seq > since && c.via != "batch").count();
        assert_eq!(arrived, floor, "requests with expected = {expected:?}");
        eprintln!(
            "10,000 contacts (expected {expected:?}): {arrived} requests ({} sent) in {took:?}",
            caller.requests_sent()
        );
    }
    let refused = f.sandbox.calls().iter().filter(|c| c.error.as_deref() == Some("QUERY_LIMIT_EXCEEDED")).count();
    assert_eq!(refused, 0, "the client's own bucket kept the portal's from overflowing");
}

/// reference 5.5: the portal's bucket overflows (another app shares it); the client backs off and the
/// caller never sees `QUERY_LIMIT_EXCEEDED`.
#[tokio::test]
async fn a_full_bucket_at_the_portal_is_waited_out() {
    let config = SandboxConfig {
        limits: LimitsConfig { burst: 5.0, drain_per_sec: 20.0, operating: false, ..LimitsConfig::default() },
        ..SandboxConfig::default()
    };
    // The client believes the portal allows far more, as when several apps share a portal.
    let f = Fixture::start(config, RateLimit::UNLIMITED).await;
    let caller = f.portal();
    for _ in 0..30 {
        caller.user_current().await.expect("backoff absorbs the portal's refusals");
    }
    let refused = f.sandbox.calls().iter().filter(|c| c.error.as_deref() == Some("QUERY_LIMIT_EXCEEDED")).count();
    assert!(refused > 0, "the test must make the portal refuse at least once");
    assert!(caller.requests_sent() as usize >= 30 + refused);
}

/// reference 5.5: a limit that outlasts the caller's budget ends in a typed error naming the limit.
#[tokio::test]
async fn a_limit_beyond_the_budget_is_reported_not_waited_forever() {
    let config = SandboxConfig {
        limits: LimitsConfig { burst: 1.0, drain_per_sec: 0.01, operating: false, ..LimitsConfig::default() },
        ..SandboxConfig::default()
    };
    let mut client = fast_config(RateLimit::UNLIMITED);
    client.default_budget = Duration::from_millis(300);
    let f = Fixture::start_with(config, client).await;
    let caller = f.portal();
    let _ = caller.user_current().await;
    let err = caller.user_current().await.unwrap_err();
    match &err {
        BitrixError::BudgetExhausted { last, .. } => assert!(last.contains("QUERY_LIMIT_EXCEEDED"), "{err}"),
        other => panic!("expected the budget to run out, got {other}"),
    }
}

/// reference 5.5: `OPERATION_TIME_LIMIT` blocks the method until `operating_reset_at`; within a short
/// budget that is reported at once, without hammering the portal.
#[tokio::test]
async fn an_operating_time_block_is_respected() {
    let mut limits = LimitsConfig { bucket: false, operating_limit_secs: 1.0, ..LimitsConfig::default() };
    limits.operating_costs.insert("user.current".into(), 0.6);
    let config = SandboxConfig { limits, ..SandboxConfig::default() };
    let mut client = fast_config(RateLimit::UNLIMITED);
    client.default_budget = Duration::from_secs(2);
    let f = Fixture::start_with(config, client).await;
    let caller = f.portal();
    let mut outcome = Ok(());
    for _ in 0..5 {
        if let Err(e) = caller.user_current().await {
            outcome = Err(e);
            break;
        }
    }
    let err = outcome.expect_err("the budget of 1 s must run out");
    assert!(
        matches!(&err, BitrixError::BudgetExhausted { last, .. } if last.contains("OPERATION_TIME_LIMIT")),
        "got {err}"
    );
    let blocked = f.sandbox.calls_of("user.current").iter().filter(|c| c.status == 429).count();
    assert_eq!(blocked, 1, "after one 429 the client waits for the reset instead of asking again");
    assert!(f.portal().profile().await.is_ok(), "other methods stay open");
}
