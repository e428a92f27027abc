//! Several portals in one sandbox (docs/sandbox.md "Many portals"): each its own `member_id`, REST endpoint,
//! tokens, data, request bucket and call log, one OAuth server for all. Reference 4.1, 4.2 (the token
//! response names the portal: `member_id`, `client_endpoint`), 5.5 (a leaky bucket per portal).

use b24_calllist::sandbox::{LimitsConfig, SandboxConfig, SeedConfig};
use futures_util::StreamExt;
use serde_json::{Value, json};

use super::lifecycle::Recorder;
use super::*;

fn portals(n: usize) -> SandboxConfig {
    SandboxConfig { portals: n, ..small_config() }
}

/// Each portal is its own Bitrix24: another `member_id` and `client_endpoint`, other data, its own call log.
#[tokio::test]
async fn two_portals_have_separate_identities_data_and_logs() {
    let p = start_with(portals(2)).await;
    let (a, b) = (p.sb.portal(0), p.sb.portal(1));
    assert_eq!((p.sb.portal_count(), a.portal_index(), b.portal_index()), (2, 0, 1));
    assert_ne!(a.member_id(), b.member_id());
    assert_ne!(a.rest_url(), b.rest_url());
    assert_eq!(a.rest_url(), p.sb.rest_url(), "the sandbox itself is its first portal");
    assert!(b.rest_url().path().starts_with("/portal/1/"), "{}", b.rest_url());
    assert_eq!(a.oauth_url(), b.oauth_url(), "one OAuth server");
    assert_ne!(a.application_token(), b.application_token());
    assert_eq!(a.contacts().len(), 60, "the first portal keeps its seed");
    assert_eq!(b.contacts().len(), SeedConfig::small().contacts, "the others are small");
    assert_ne!(a.contact(1).unwrap().last_name, b.contact(1).unwrap().last_name);

    let tb = b.issue_tokens(ADMIN).unwrap();
    assert_eq!((tb.member_id.as_str(), tb.client_endpoint.as_str()), (b.member_id(), b.rest_url().as_str()));
    let r = Reply::of(
        p.http
            .get(format!("{}crm.item.list?entityTypeId=3&auth={}", b.rest_url(), tb.access_token))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.body["total"], json!(SeedConfig::small().contacts), "{}", r.text);
    assert_eq!(b.calls_of("crm.item.list").len(), 1);
    assert!(a.calls_of("crm.item.list").is_empty(), "portal A never saw B's call");
    b.add_contact("Only", "OnB");
    assert!(a.contacts().iter().all(|c| c.last_name != "OnB"));
}

/// reference 5.3: a token is the portal's own; another portal does not know it (`invalid_token`).
#[tokio::test]
async fn a_token_of_one_portal_is_refused_on_another() {
    let p = start_with(portals(2)).await;
    let (a, b) = (p.sb.portal(0), p.sb.portal(1));
    let ta = a.issue_tokens(MANAGER_BOTH).unwrap().access_token;
    let on_a = Reply::of(p.http.get(format!("{}profile?auth={ta}", a.rest_url())).send().await.unwrap()).await;
    assert_eq!(on_a.assert_ok()["ID"], json!("2"));
    let on_b = Reply::of(p.http.get(format!("{}profile?auth={ta}", b.rest_url())).send().await.unwrap()).await;
    assert_eq!((on_b.status, on_b.error()), (401, "invalid_token"), "{}", on_b.text);
    assert_eq!(b.calls_of("profile")[0].status, 401);
}

/// reference 5.5: the bucket is per portal; filling one leaves the other untouched.
#[tokio::test]
async fn each_portal_has_its_own_bucket() {
    let limits = LimitsConfig { burst: 3.0, drain_per_sec: 0.001, operating: false, ..LimitsConfig::default() };
    let p = start_with(SandboxConfig { limits, ..portals(2) }).await;
    let (a, b) = (p.sb.portal(0), p.sb.portal(1));
    let ta = a.issue_tokens(ADMIN).unwrap().access_token;
    let tb = b.issue_tokens(ADMIN).unwrap().access_token;
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let r = p.http.get(format!("{}profile?auth={ta}", a.rest_url())).send().await.unwrap();
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 200, 503]);
    let r = p.http.get(format!("{}profile?auth={tb}", b.rest_url())).send().await.unwrap();
    assert_eq!(r.status(), 200, "B's bucket is its own");
    let (sa, sb) = (a.bucket_stats(), b.bucket_stats());
    assert_eq!((sa.admitted, sa.rejected, sb.admitted, sb.rejected), (3, 1, 1, 0));
    assert!(sa.level > 2.9 && sb.level < 1.1, "{sa:?} {sb:?}");
}

/// reference 4.2: one OAuth server refreshes the tokens of 1,000 portals, and each answer names its own
/// portal (`member_id`, `client_endpoint`); the new access token works there.
#[tokio::test]
async fn one_oauth_server_refreshes_a_thousand_portals() {
    let p = start_with(SandboxConfig { seed: SeedConfig::small(), ..portals(1_000) }).await;
    let handles = p.sb.portals();
    let pairs: Vec<_> = handles.iter().map(|h| h.issue_tokens(MANAGER_BOTH).unwrap()).collect();
    let token_url = format!("{}oauth/token/", p.sb.oauth_url());
    let (client_id, secret) = (p.sb.client_id().to_owned(), p.sb.client_secret().to_owned());
    let answers: Vec<Value> = futures_util::stream::iter(pairs.iter())
        .map(|pair| {
            let query = [
                ("grant_type", "refresh_token"),
                ("client_id", client_id.as_str()),
                ("client_secret", secret.as_str()),
                ("refresh_token", pair.refresh_token.as_str()),
            ];
            let request = p.http.get(&token_url).query(&query);
            async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
        })
        .buffered(16)
        .collect()
        .await;
    for (h, answer) in handles.iter().zip(&answers) {
        assert_eq!(answer["member_id"], json!(h.member_id()), "portal {}: {answer}", h.portal_index());
        assert_eq!(answer["client_endpoint"], json!(h.rest_url().as_str()));
    }
    let last = &handles[999];
    let fresh = answers[999]["access_token"].as_str().unwrap();
    let r = Reply::of(p.http.get(format!("{}profile?auth={fresh}", last.rest_url())).send().await.unwrap()).await;
    assert_eq!(r.assert_ok()["ID"], json!("2"));
    assert_eq!(last.oauth_stats().refresh_grants, 1, "the grant counts on the portal it named");
}

/// Expiring every portal's access tokens at once: each portal then answers `expired_token`.
#[tokio::test]
async fn every_portals_access_tokens_expire_at_once() {
    let p = start_with(portals(3)).await;
    let tokens: Vec<String> = p.sb.portals().iter().map(|h| h.issue_tokens(ADMIN).unwrap().access_token).collect();
    assert_eq!(p.sb.expire_all_access_tokens(), 3);
    for (h, t) in p.sb.portals().iter().zip(&tokens) {
        let r = Reply::of(p.http.get(format!("{}profile?auth={t}", h.rest_url())).send().await.unwrap()).await;
        assert_eq!(r.error(), "expired_token", "portal {}", h.portal_index());
    }
}

/// The control API and the portal page of portal i live under its `/portal/{i}/`; `/_sandbox/portals` lists
/// them all.
#[tokio::test]
async fn each_portal_has_its_control_api_and_page_under_its_path() {
    let app = Recorder::start().await;
    let p = start_with(SandboxConfig { app_url: Some(app.url.parse().unwrap()), ..portals(2) }).await;
    let b = p.sb.portal(1);
    let state: Value =
        p.http.get(format!("{}_sandbox/state", b.portal_url())).send().await.unwrap().json().await.unwrap();
    assert_eq!((state["index"].clone(), state["member_id"].clone()), (json!(1), json!(b.member_id())));
    let all = p.control_get("portals").await;
    assert_eq!(all.as_array().map(Vec::len), Some(2));
    assert_eq!(all[1]["rest_url"], json!(b.rest_url().as_str()));
    let (status, _) = p.control_post("expire-all", json!({})).await;
    assert_eq!(status, 200);

    let page = p.http.get(format!("{}?user=2", b.portal_url())).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(&format!("value=\"{}\"", b.member_id())), "portal B's page launches B's app form");
    assert!(page.contains("href=\"/portal/1/?user=2"), "links stay on portal B");

    // Installing on portal B tells the app B's identity and endpoint.
    assert_eq!(b.install_app().await.unwrap(), 200);
    let event = app.last();
    assert_eq!(event.get("auth[member_id]"), Some(b.member_id()));
    assert_eq!(event.get("auth[client_endpoint]"), Some(b.rest_url().as_str()));
}

/// reference 4.1: portal i's `/oauth/authorize/` (under its path) hands out a code that the one OAuth server
/// exchanges for a pair naming portal i.
#[tokio::test]
async fn a_code_from_one_portal_is_exchanged_for_that_portals_tokens() {
    let app: url::Url = "http://127.0.0.1:9/base/".parse().unwrap();
    let p = start_with(SandboxConfig { app_url: Some(app), ..portals(3) }).await;
    let c = p.sb.portal(2);
    let url = format!("{}oauth/authorize/?client_id={}&state=s1&user=3", c.portal_url(), c.client_id());
    let r = p.http.get(url).send().await.unwrap();
    assert_eq!(r.status(), 302);
    let to: url::Url = r.headers()["location"].to_str().unwrap().parse().unwrap();
    let q: std::collections::HashMap<String, String> = to.query_pairs().into_owned().collect();
    assert_eq!(q["member_id"], c.member_id());
    let token: Value = p
        .http
        .get(format!("{}oauth/token/", p.sb.oauth_url()))
        .query(&[
            ("grant_type", "authorization_code"),
            ("client_id", c.client_id()),
            ("client_secret", c.client_secret()),
            ("code", q["code"].as_str()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(token["member_id"], json!(c.member_id()), "{token}");
    assert_eq!(token["client_endpoint"], json!(c.rest_url().as_str()));
    assert_eq!(token["user_id"], json!(3));
}
