//! Sandbox benchmark: the time of a `crm.calllist.items.get` page and of a `crm.calllist.update` of a
//! 10,000-member list, and of `crm.item.list` pages over 10,100 contacts, over loopback HTTP, as a client would
//! see them. Prints timings; asserts nothing.
//!
//! Run: `cargo bench --bench sandbox` (optionally `-- ITERATIONS`).

use std::time::{Duration, Instant};

use b24_calllist::sandbox::{EntityKind, LimitsConfig, ListSeed, Sandbox, SandboxConfig, SeedConfig};
use serde_json::json;

fn summary(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let n = samples.len();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mean = samples.iter().map(|d| ms(*d)).sum::<f64>() / n as f64;
    println!(
        "{name:<44} n={n:<4} median {:>8.2} ms   p95 {:>8.2} ms   min {:>8.2} ms   mean {:>8.2} ms",
        ms(samples[n / 2]),
        ms(samples[(n * 95 / 100).min(n - 1)]),
        ms(samples[0]),
        mean
    );
}

fn main() {
    let iterations: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(100);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    rt.block_on(async move {
        let config = SandboxConfig {
            seed: SeedConfig {
                contacts: 10_100,
                lists: vec![ListSeed { entity_type: EntityKind::Contact, members: 10_000 }],
                ..SeedConfig::default()
            },
            limits: LimitsConfig::off(),
            call_log_capacity: 100,
            ..SandboxConfig::default()
        };
        let began = Instant::now();
        let sb = Sandbox::start(config).await.expect("the sandbox starts");
        println!("start-up with a 10,000-member list: {:.1} ms", began.elapsed().as_secs_f64() * 1000.0);
        let token = sb.issue_tokens(1).expect("admin").access_token;
        let http = reqwest::Client::new();
        let rest = sb.rest_url();
        let call = |method: &str, body: serde_json::Value| {
            let req = http.post(format!("{rest}{method}")).json(&body);
            async move {
                let r = req.send().await.expect("an answer");
                assert_eq!(r.status().as_u16(), 200);
                r.bytes().await.expect("a body").len()
            }
        };
        // warm up connections and caches
        for _ in 0..5 {
            call("crm.calllist.items.get", json!({"LIST_ID": 1, "auth": token})).await;
        }
        for start in [0, 5_000, 9_950] {
            let mut samples = Vec::new();
            for _ in 0..iterations {
                let t = Instant::now();
                call("crm.calllist.items.get", json!({"LIST_ID": 1, "start": start, "auth": token})).await;
                samples.push(t.elapsed());
            }
            summary(&format!("items.get page (start={start})"), samples);
        }
        let members = sb.list(1).expect("the seeded list").member_ids();
        let mut other = members.clone();
        other.truncate(9_990);
        let outside: Vec<u64> =
            sb.contacts().iter().map(|c| c.id).filter(|id| !members.contains(id)).take(10).collect();
        other.extend(outside);
        let bytes =
            json!({"LIST_ID": 1, "ENTITY_TYPE": "CONTACT", "ENTITIES": members, "auth": token}).to_string().len();
        let mut samples = Vec::new();
        for i in 0..iterations.min(60) {
            let ids = if i % 2 == 0 { &other } else { &members };
            let t = Instant::now();
            call(
                "crm.calllist.update",
                json!({"LIST_ID": 1, "ENTITY_TYPE": "CONTACT", "ENTITIES": ids, "WEBFORM_ID": 1, "auth": token}),
            )
            .await;
            samples.push(t.elapsed());
        }
        summary(&format!("update of 10,000 members ({} kB JSON)", bytes / 1024), samples);
        let mut samples = Vec::new();
        for _ in 0..iterations.min(20) {
            let t = Instant::now();
            let cmd: serde_json::Map<String, serde_json::Value> = (0..50)
                .map(|i| (format!("p{i:02}"), json!(format!("crm.calllist.items.get?LIST_ID=1&start={}", i * 50))))
                .collect();
            call("batch", json!({"cmd": cmd, "auth": token})).await;
            samples.push(t.elapsed());
        }
        summary("batch of 50 items.get pages (2,500 rows)", samples);
        for (label, body) in [
            ("item.list page (start=0)", json!({"entityTypeId": 3, "auth": token})),
            ("item.list page (start=5000)", json!({"entityTypeId": 3, "start": 5_000, "auth": token})),
            (
                "item.list 50 by @id",
                json!({"entityTypeId": 3, "select": ["*"], "filter": {"@id": (1..=50).collect::<Vec<u64>>()},
                       "start": -1, "auth": token}),
            ),
            (
                "item.list search (OR of 4 %)",
                json!({"entityTypeId": 3, "order": {"id": "ASC"}, "auth": token, "filter": {"0": {"logic": "OR",
                       "0": {"%name": "ан"}, "1": {"%lastName": "ан"}, "2": {"%phone": "ан"}, "3": {"%email": "ан"}}}}),
            ),
        ] {
            let mut samples = Vec::new();
            for _ in 0..iterations {
                let t = Instant::now();
                call("crm.item.list", body.clone()).await;
                samples.push(t.elapsed());
            }
            summary(label, samples);
        }
        let mut samples = Vec::new();
        for _ in 0..iterations.min(20) {
            let t = Instant::now();
            let cmd: serde_json::Map<String, serde_json::Value> = (0..50)
                .map(|i| (format!("p{i:02}"), json!(format!("crm.item.list?entityTypeId=3&start={}", i * 50))))
                .collect();
            call("batch", json!({"cmd": cmd, "auth": token})).await;
            samples.push(t.elapsed());
        }
        summary("batch of 50 item.list pages (2,500 rows)", samples);
        sb.stop().await;
    });
}
