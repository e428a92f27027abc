//! `GET /metrics`: valid Prometheus text, and a save moves the counters it should.

use std::collections::HashMap;

use crate::harness::{MANAGER, TestApp};
use crate::pages::{Edit, Manager};

async fn scrape(app: &TestApp) -> HashMap<String, f64> {
    let text = app.http.get(app.at("metrics")).send().await.unwrap().text().await.unwrap();
    let lines = text.lines().map(|l| Ok(l.to_owned()));
    let scrape = prometheus_parse::Scrape::parse(lines).expect("the output parses as Prometheus text");
    assert!(!scrape.samples.is_empty());
    scrape
        .samples
        .into_iter()
        .map(|s| {
            let mut labels: Vec<String> = s.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
            labels.sort();
            let value = match s.value {
                prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Untyped(v) => v,
                _ => 0.0,
            };
            (format!("{}{{{}}}", s.metric, labels.join(",")), value)
        })
        .collect()
}

fn get(m: &HashMap<String, f64>, key: &str) -> f64 {
    m.get(key).copied().unwrap_or(0.0)
}

#[tokio::test]
async fn a_save_moves_the_counters_it_should() {
    let app = TestApp::installed().await;
    let list = app.sandbox.lists()[0].id;
    let extra = app.sandbox.add_contact("Metric", "Person");
    let m = Manager::open(&app, MANAGER).await;
    let preview = m.review(list, Edit::add(&[extra])).await;
    let before = scrape(&app).await;
    let (status, _) = m.confirm(list, &preview).await;
    assert_eq!(status, 200);
    let after = scrape(&app).await;

    let saved = "b24_calllist_calllist_saves_total{outcome=saved}";
    assert_eq!(get(&after, saved) - get(&before, saved), 1.0, "one save counted");
    let route = "b24_calllist_http_requests_total{route=/lists/:id/save,status=200}";
    assert_eq!(get(&after, route) - get(&before, route), 1.0, "the request counted by its route pattern");
    let batches = "b24_calllist_bitrix_calls_total{method=batch,outcome=ok}";
    assert!(get(&after, batches) - get(&before, batches) >= 2.0, "the save's batches counted");
    assert!(after.keys().all(|k| !k.contains(app.sandbox.member_id())), "no portal in any label");
    assert!(after.keys().all(|k| !k.contains(&format!("/lists/{list}"))), "no list id in any label");
}

#[tokio::test]
async fn refreshes_and_limit_waits_are_counted() {
    let app = TestApp::installed().await;
    let m = Manager::open(&app, MANAGER).await;
    let before = scrape(&app).await;
    app.sandbox.expire_access_tokens(None);
    let (status, _) = m.post("lists", &[]).await;
    assert_eq!(status, 200);
    let after = scrape(&app).await;
    let refreshed = "b24_calllist_token_refreshes_total{outcome=refreshed}";
    assert_eq!(get(&after, refreshed) - get(&before, refreshed), 1.0);
    let expired = "b24_calllist_bitrix_calls_total{method=batch,outcome=EXPIRED_TOKEN}";
    assert_eq!(get(&after, expired) - get(&before, expired), 1.0);
}
