//! `b24-calllist sandbox` (docs/sandbox.md "Run it"): the command starts, prints its facts as one JSON line,
//! and serves.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use serde_json::json;

/// `--json` prints one JSON object on the first line (addresses, credentials, a token pair per
/// user and what they may read) and the portal serves a 10,000-member list at once; `--language` sets the
/// portal's language. It needs none of the app's settings.
#[tokio::test]
async fn the_command_prints_its_facts_and_serves_a_big_list() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_b24-calllist"))
        .args([
            "sandbox",
            "--listen",
            "127.0.0.1:0",
            "--oauth-listen",
            "127.0.0.1:0",
            "--big-list",
            "--limits",
            "off",
            "--language",
            "en",
            "--json",
        ])
        .env_remove("B24_CLIENT_ID")
        .env_remove("APP_SECRET_KEY")
        .env("APP_LISTEN", "127.0.0.1:1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary runs");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).expect("a first line");
    let facts: serde_json::Value = serde_json::from_str(&line).expect("the first line is JSON");
    let rest = facts["rest_url"].as_str().unwrap().to_owned();
    assert!(!rest.contains(":1/"), "APP_LISTEN does not move the portal: {rest}");
    let users = facts["users"].as_array().unwrap();
    assert_eq!(users.len(), 6);
    assert_eq!(
        users.iter().map(|u| u["reads"].as_str().unwrap()).collect::<Vec<_>>(),
        ["admin", "contacts+companies", "contacts", "companies", "no CRM", "own contacts+companies"],
        "each user says what they may read"
    );
    assert!(facts["client_id"].is_string() && facts["client_secret"].is_string() && facts["member_id"].is_string());
    let token = facts["users"][0]["access_token"].as_str().unwrap();
    let http = reqwest::Client::new();
    let lists: serde_json::Value =
        http.get(format!("{rest}crm.calllist.list?auth={token}&start=-1")).send().await.unwrap().json().await.unwrap();
    let big = lists["result"].as_array().unwrap().len();
    let r: serde_json::Value = http
        .post(format!("{rest}crm.calllist.items.get"))
        .json(&json!({"LIST_ID": big, "start": 9_950, "auth": token}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let statuses: serde_json::Value =
        http.get(format!("{rest}crm.calllist.statuslist?auth={token}")).send().await.unwrap().json().await.unwrap();
    child.kill().ok();
    child.wait().ok();
    assert_eq!(r["result"].as_array().map(Vec::len), Some(50), "{r}");
    assert_eq!(statuses["result"][0]["NAME"], json!("In Progress"), "--language en names the statuses in English");
}

/// `--portals 3 --json` lists three portals, each with its own `member_id`, REST endpoint and tokens; the
/// first is the one at the top level.
#[tokio::test]
async fn the_command_lists_every_portal_it_hosts() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_b24-calllist"))
        .args(["sandbox", "--listen", "127.0.0.1:0", "--oauth-listen", "127.0.0.1:0", "--portals", "3", "--json"])
        .env_remove("B24_CLIENT_ID")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary runs");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).expect("a first line");
    let facts: serde_json::Value = serde_json::from_str(&line).expect("the first line is JSON");
    let portals = facts["portals"].as_array().expect("a list of portals").clone();
    let third = portals[2]["rest_url"].as_str().unwrap().to_owned();
    let token = portals[2]["users"][0]["access_token"].as_str().unwrap().to_owned();
    let profile: serde_json::Value =
        reqwest::Client::new().get(format!("{third}profile?auth={token}")).send().await.unwrap().json().await.unwrap();
    child.kill().ok();
    child.wait().ok();
    assert_eq!(portals.len(), 3);
    assert_eq!(portals[0]["member_id"], facts["member_id"]);
    let ids: std::collections::BTreeSet<&str> = portals.iter().map(|p| p["member_id"].as_str().unwrap()).collect();
    let urls: std::collections::BTreeSet<&str> = portals.iter().map(|p| p["rest_url"].as_str().unwrap()).collect();
    assert_eq!((ids.len(), urls.len()), (3, 3), "each portal its own member_id and endpoint: {portals:?}");
    assert!(third.ends_with("/portal/2/rest/"), "{third}");
    assert_eq!(profile["result"]["ID"], json!("1"), "the third portal's token works on its endpoint: {profile}");
}
