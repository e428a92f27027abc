//! The control API under `/_sandbox/` (docs/sandbox.md "The control API"): the state, the call log, mutators
//! and knobs, over HTTP.

use serde_json::json;

use super::*;

/// The state names the endpoints and the app's credentials, so a program in any language can find them.
#[tokio::test]
async fn state_describes_the_portal() {
    let p = start().await;
    let s = p.control_get("state").await;
    assert_eq!(s["rest_url"], json!(p.sb.rest_url().as_str()));
    assert_eq!(s["server_endpoint"], json!(p.sb.server_endpoint().as_str()));
    assert_eq!(s["client_id"], json!(p.sb.client_id()));
    assert_eq!(s["client_secret"], json!(p.sb.client_secret()));
    assert_eq!(s["member_id"], json!(p.sb.member_id()));
    let users = s["users"].as_array().unwrap();
    assert_eq!(users.len(), 6);
    assert_eq!(users[5]["id"], json!(MANAGER_OWN));
    assert_eq!(users[5]["permissions"]["own_contacts_only"], json!(true));
    assert_eq!(s["counts"]["contacts"], json!(60));
}

/// The call log records the method, the parameters without auth, the user and token, the status and error.
#[tokio::test]
async fn calls_record_what_the_app_sent_and_as_whom() {
    let p = start().await;
    let t = p.token(MANAGER_BOTH);
    p.json("crm.calllist.get", &t, json!({"ID": 42})).await;
    let calls = p.control_get("calls?method=CRM.CALLLIST.GET").await;
    let c = &calls[0];
    assert_eq!(c["method"], json!("crm.calllist.get"));
    assert_eq!(c["params"], json!({"ID": 42}));
    assert_eq!(c["user_id"], json!(MANAGER_BOTH));
    assert_eq!(c["token"], json!(t));
    assert_eq!((c["status"].clone(), c["error"].clone()), (json!(400), json!("LIST_ID_ERROR")));
    let r = p.http.delete(format!("{}_sandbox/calls", p.sb.portal_url())).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(p.sb.calls().is_empty());
}

/// Lists added and changed over HTTP, as another user would in the portal's UI, are what REST then reads.
#[tokio::test]
async fn lists_can_be_made_and_changed_over_http() {
    let p = start().await;
    let (status, made) =
        p.control_post("lists", json!({"entity_type": "CONTACT", "members": [1, 2, 3], "webform_id": 1})).await;
    assert_eq!(status, 200);
    let id = made["id"].as_u64().unwrap();
    let r = p
        .http
        .put(format!("{}_sandbox/lists/{id}", p.sb.portal_url()))
        .json(&json!({"members": [3, 4], "webform_id": null, "statuses": {"3": "SUCCESS"}}))
        .send()
        .await
        .unwrap();
    let l: Value = r.json().await.unwrap();
    assert_eq!(
        l["members"],
        json!([{"element_id": 3, "status": "SUCCESS", "rank": 10}, {"element_id": 4, "status": "IN_WORK", "rank": 20}])
    );
    assert_eq!(l["webform_id"], json!(null));
    p.control_post("users/2/permissions", json!({"read_contacts": true, "deny_contacts": [4]})).await;
    let view = p.control_get(&format!("lists/{id}?user=2")).await;
    assert_eq!(view["visible_to_user"], json!([3]));
    let r = p.json("crm.calllist.items.get", &p.token(MANAGER_BOTH), json!({"LIST_ID": id})).await;
    assert_eq!(r.assert_ok(), &json!([{"ID": 3, "STATUS": "SUCCESS", "ENTITY_TYPE": 3}]));
}

/// Tokens, expiry, faults, one-shot faults and limit presets are all switchable over HTTP.
#[tokio::test]
async fn knobs_work_over_http() {
    let p = start().await;
    let (_, t) = p.control_post("tokens", json!({"user_id": 2})).await;
    let token = t["access_token"].as_str().unwrap().to_owned();
    p.get("profile", &format!("auth={token}")).await.assert_ok();
    p.control_post("expire", json!({"user_id": 2})).await;
    assert_eq!(p.get("profile", &format!("auth={token}")).await.error(), "expired_token");
    let token = p.token(ADMIN);
    p.control_post("inject", json!({"method": "profile", "fault": "server_error"})).await;
    assert_eq!(p.get("profile", &format!("auth={token}")).await.status, 500);
    p.control_post("faults", json!({"rate": 1.0, "kinds": ["query_limit"]})).await;
    assert_eq!(p.get("profile", &format!("auth={token}")).await.status, 503);
    p.control_post("faults", json!({})).await;
    let (_, l) = p.control_post("limits", json!({"preset": "enterprise"})).await;
    assert_eq!(l["burst"], json!(250.0));
    let (status, _) = p.control_post("limits", json!({"preset": "nonsense"})).await;
    assert_eq!(status, 400);
    let (_, c) = p.control_post("contacts", json!({"name": "Пётр", "last_name": "Тестов"})).await;
    let id = c["id"].as_u64().unwrap();
    assert_eq!(p.sb.contact(id).unwrap().last_name, "Тестов");
}
