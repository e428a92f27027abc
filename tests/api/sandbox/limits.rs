//! Limits and faults: reference (bitrix24-behaviour.md) 5.5, bitrix24-docs/limits.md, and the sandbox's fault
//! injection (docs/sandbox.md). Assertions are on outcomes and counts, never on how long something took.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use b24_calllist::sandbox::{FaultKind, FaultsConfig, Latency, LimitsConfig};
use serde_json::json;

use super::*;

fn bucket(burst: f64, drain: f64) -> LimitsConfig {
    LimitsConfig { bucket: true, burst, drain_per_sec: drain, operating: false, ..LimitsConfig::default() }
}

/// reference 5.5; limits.md: past the burst the portal answers 503 `QUERY_LIMIT_EXCEEDED`, with no `time`.
#[tokio::test]
async fn the_bucket_refuses_requests_past_the_burst() {
    let p = start().await;
    p.sb.set_limits(bucket(5.0, 0.0));
    let t = p.token(ADMIN);
    for _ in 0..5 {
        p.get("profile", &format!("auth={t}")).await.assert_ok();
    }
    p.get("profile", &format!("auth={t}")).await.assert_error(503, "QUERY_LIMIT_EXCEEDED", "Too many requests");
}

/// reference 5.5: the bucket drains at its rate (2 a second by default).
#[tokio::test]
async fn the_bucket_drains_over_time() {
    let p = start().await;
    p.sb.set_limits(bucket(3.0, 2.0));
    let t = p.token(ADMIN);
    let mut statuses = Vec::new();
    for _ in 0..8 {
        statuses.push(p.get("profile", &format!("auth={t}")).await.status);
    }
    assert!(statuses.contains(&503), "{statuses:?}");
    p.sb.advance_clock(Duration::from_secs(1));
    for _ in 0..2 {
        p.get("profile", &format!("auth={t}")).await.assert_ok();
    }
}

/// reference 5.5: with the default limits (50, 2 a second, on by default) a fast burst is cut near 50.
#[tokio::test]
async fn default_limits_cut_a_burst_of_requests() {
    let p = start_with(SandboxConfig { limits: LimitsConfig::default(), ..small_config() }).await;
    let t = p.token(ADMIN);
    let began = Instant::now();
    let mut counts: HashMap<u16, usize> = HashMap::new();
    for _ in 0..90 {
        *counts.entry(p.get("profile", &format!("auth={t}")).await.status).or_default() += 1;
    }
    let elapsed = began.elapsed().as_secs_f64();
    let ok = counts.get(&200).copied().unwrap_or(0);
    assert!(ok as f64 <= 50.0 + 2.0 * elapsed + 1.0, "{ok} passed in {elapsed:.1}s: {counts:?}");
    if elapsed < 15.0 {
        assert!(counts.get(&503).copied().unwrap_or(0) > 0, "{counts:?}");
    }
}

/// reference 5.5 "a batch of 50 counts once".
#[tokio::test]
async fn a_batch_counts_once_in_the_bucket() {
    let p = start().await;
    p.sb.set_limits(bucket(2.0, 0.0));
    let t = p.token(ADMIN);
    let cmd: serde_json::Map<String, Value> = (0..20).map(|i| (format!("c{i}"), json!("profile"))).collect();
    for _ in 0..2 {
        let r = p.json("batch", &t, json!({"cmd": cmd})).await;
        assert_eq!(r.assert_ok()["result"].as_object().unwrap().len(), 20);
    }
    p.json("batch", &t, json!({"cmd": cmd})).await.assert_error(503, "QUERY_LIMIT_EXCEEDED", "Too many requests");
}

/// limits.md: the Enterprise preset holds 250 and drains 5 a second.
#[tokio::test]
async fn the_enterprise_preset_holds_two_hundred_fifty() {
    let p = start().await;
    let e = LimitsConfig::enterprise();
    assert_eq!((e.burst, e.drain_per_sec), (250.0, 5.0));
    p.sb.set_limits(LimitsConfig { drain_per_sec: 0.0, operating: false, ..e });
    let t = p.token(ADMIN);
    let mut ok = 0;
    for _ in 0..251 {
        if p.get("profile", &format!("auth={t}")).await.status == 200 {
            ok += 1;
        }
    }
    assert_eq!(ok, 250);
    assert!(p.json("app.info", &t, json!({})).await.status == 503);
}

/// reference 5.5 `operating`: once a method's time passes the budget, its next call is 429; others still run;
/// the budget frees up when old minutes leave the ten-minute window.
#[tokio::test]
async fn the_operating_budget_blocks_a_method() {
    let p = start().await;
    p.sb.set_limits(LimitsConfig {
        bucket: false,
        operating: true,
        operating_limit_secs: 1.0,
        operating_costs: [("crm.item.list".to_owned(), 0.6)].into(),
        ..LimitsConfig::default()
    });
    let t = p.token(ADMIN);
    let q = json!({"entityTypeId": 3, "start": -1});
    let first = p.json("crm.item.list", &t, q.clone()).await;
    first.assert_ok();
    let second = p.json("crm.item.list", &t, q.clone()).await;
    second.assert_ok();
    assert!(second.body["time"]["operating"].as_f64().unwrap() > first.body["time"]["operating"].as_f64().unwrap());
    p.json("crm.item.list", &t, q.clone()).await.assert_error(
        429,
        "OPERATION_TIME_LIMIT",
        "Method is blocked due to operation time limit.",
    );
    p.json("profile", &t, json!({})).await.assert_ok();
    p.sb.advance_clock(Duration::from_secs(11 * 60));
    p.json("crm.item.list", &t, q).await.assert_ok();
}

/// reference 5.5: the outer `batch` is exempt, its commands count one by one.
#[tokio::test]
async fn batch_commands_count_against_the_budget() {
    let p = start().await;
    p.sb.set_limits(LimitsConfig {
        bucket: false,
        operating: true,
        operating_limit_secs: 1.0,
        operating_costs: [("crm.item.list".to_owned(), 0.6)].into(),
        ..LimitsConfig::default()
    });
    let cmd = json!({"a": "crm.item.list?entityTypeId=3", "b": "crm.item.list?entityTypeId=3", "c": "crm.item.list?entityTypeId=3"});
    let r = p.json("batch", &p.token(ADMIN), json!({"cmd": cmd})).await;
    let res = r.assert_ok();
    assert!(res["result"].get("b").is_some());
    assert_eq!(res["result_error"]["c"]["error"], json!("OPERATION_TIME_LIMIT"));
}

/// reference 5.5: the limits are a setting; with them off nothing is refused.
#[tokio::test]
async fn limits_can_be_switched_off() {
    let p = start().await;
    p.sb.set_limits(bucket(1.0, 0.0));
    p.sb.set_limits(LimitsConfig::off());
    let t = p.token(ADMIN);
    for _ in 0..10 {
        p.get("profile", &format!("auth={t}")).await.assert_ok();
    }
}

/// reference 5.3, 5.5: every injected fault answers with the status and envelope the portal gives for it.
#[tokio::test]
async fn faults_answer_as_the_portal_does() {
    let p = start().await;
    let t = p.token(ADMIN);
    let cases = [
        (FaultKind::QueryLimit, 503, "QUERY_LIMIT_EXCEEDED"),
        (FaultKind::ServerError, 500, "INTERNAL_SERVER_ERROR"),
        (FaultKind::ExpiredToken, 401, "expired_token"),
        (FaultKind::OperationLimit, 429, "OPERATION_TIME_LIMIT"),
    ];
    for (kind, status, code) in cases {
        p.sb.set_faults(FaultsConfig { rate: 1.0, kinds: vec![kind], ..FaultsConfig::default() });
        let r = p.get("profile", &format!("auth={t}")).await;
        assert_eq!((r.status, r.error()), (status, code), "{kind:?}");
    }
    p.sb.set_faults(FaultsConfig::default());
    p.get("profile", &format!("auth={t}")).await.assert_ok();
}

/// A dropped connection: the client sees a transport error, not an answer.
#[tokio::test]
async fn a_dropped_connection_gives_no_answer() {
    let p = start().await;
    p.sb.inject_once("profile", FaultKind::Drop);
    let t = p.token(ADMIN);
    let outcome = match p.http.get(format!("{}?auth={t}", p.rest("profile"))).send().await {
        Err(_) => true,
        Ok(r) => r.text().await.is_err(),
    };
    assert!(outcome, "the connection was dropped");
    p.get("profile", &format!("auth={t}")).await.assert_ok();
}

/// A one-shot fault on a named method: only the next call of that method fails.
#[tokio::test]
async fn a_one_shot_fault_hits_only_the_named_method_once() {
    let p = start().await;
    let t = p.token(ADMIN);
    p.sb.inject_once("crm.calllist.statuslist", FaultKind::ServerError);
    p.json("profile", &t, json!({})).await.assert_ok();
    assert_eq!(p.json("crm.calllist.statuslist", &t, json!({})).await.status, 500);
    p.json("crm.calllist.statuslist", &t, json!({})).await.assert_ok();
}

/// A fault rate of 0.5 fails some calls and passes others; the dice are seeded, so a run can be replayed.
#[tokio::test]
async fn a_fault_rate_fails_a_fraction_of_calls() {
    let p = start().await;
    let t = p.token(ADMIN);
    let run = || async {
        p.sb.set_faults(FaultsConfig {
            rate: 0.5,
            kinds: vec![FaultKind::ServerError, FaultKind::QueryLimit],
            seed: 7,
            ..FaultsConfig::default()
        });
        let mut statuses = Vec::new();
        for _ in 0..40 {
            statuses.push(p.get("profile", &format!("auth={t}")).await.status);
        }
        statuses
    };
    let a = run().await;
    let b = run().await;
    assert!(a.contains(&200) && a.iter().any(|s| *s != 200), "{a:?}");
    assert_eq!(a, b, "the same seed gives the same faults");
}

/// Added latency, fixed or random: calls still succeed, and take at least the added time.
#[tokio::test]
async fn latency_is_added_to_calls() {
    let p = start().await;
    let t = p.token(ADMIN);
    p.sb.set_faults(FaultsConfig { latency: Latency::Fixed { ms: 150 }, ..FaultsConfig::default() });
    let began = Instant::now();
    p.get("profile", &format!("auth={t}")).await.assert_ok();
    assert!(began.elapsed() >= Duration::from_millis(150));
    p.sb.set_faults(FaultsConfig { latency: Latency::Random { min_ms: 20, max_ms: 40 }, ..FaultsConfig::default() });
    let began = Instant::now();
    p.get("profile", &format!("auth={t}")).await.assert_ok();
    assert!(began.elapsed() >= Duration::from_millis(20));
}
