//! `batch`: reference (bitrix24-behaviour.md) 5.6 and bitrix24-docs/settings/how-to-call-rest-api/batch.md.

use b24_calllist::sandbox::EntityKind;
use serde_json::json;

use super::*;

/// reference 5.6 "Response": five maps; named keys give objects, totals and nexts of list methods.
#[tokio::test]
async fn batch_answers_the_five_maps_by_command_key() {
    let p = start().await;
    let r = p
        .json(
            "batch",
            &p.token(ADMIN),
            json!({"halt": 0, "cmd": {
                "me": "user.current",
                "contacts": "crm.item.list?entityTypeId=3&select[]=id",
                "bad": "crm.calllist.get?ID=9999",
            }}),
        )
        .await;
    let res = r.assert_ok();
    assert_eq!(res["result"]["me"]["ID"], json!("1"));
    assert_eq!(res["result"]["contacts"]["items"].as_array().unwrap().len(), 50);
    assert_eq!(res["result_total"], json!({"contacts": 60}));
    assert_eq!(res["result_next"], json!({"contacts": 50}));
    assert_eq!(
        res["result_error"],
        json!({"bad": {"error": "LIST_ID_ERROR", "error_description": "Incorrect list id"}})
    );
    assert!(res["result"].get("bad").is_none());
    assert!(res["result_time"]["me"]["start"].is_f64());
}

/// reference 5.6 quirk: empty maps are `[]`, and sequential keys 0..n-1 make the maps JSON lists.
#[tokio::test]
async fn batch_with_sequential_keys_answers_lists() {
    let p = start().await;
    let r = p.json("batch", &p.token(ADMIN), json!({"cmd": ["profile", "crm.calllist.statuslist"]})).await;
    let res = r.assert_ok();
    assert!(res["result"].is_array(), "{res}");
    assert_eq!(res["result"][0]["ID"], json!("1"));
    assert_eq!(res["result_error"], json!([]));
    assert_eq!(res["result_total"], json!([]));
    assert_eq!(res["result_next"], json!([]));
    assert!(res["result_time"].is_array());
    // a failure at key 0 leaves keys 1.. in `result`: no longer 0..n-1, so an object
    let r = p.json("batch", &p.token(ADMIN), json!({"cmd": ["crm.calllist.get?ID=9999", "profile"]})).await;
    let res = r.assert_ok();
    assert!(res["result"].is_object(), "{res}");
    assert_eq!(res["result"]["1"]["ID"], json!("1"));
    assert!(res["result_error"].is_array());
}

/// reference 5.6 "References": `$result[key][field]` replaced by earlier answers, raw when it is the whole value.
/// (Keys sort alphabetically in the order they run, as `json!` writes object keys sorted.)
#[tokio::test]
async fn batch_substitutes_result_references() {
    let p = start().await;
    let ids = p.contact_ids(2);
    let cmd = json!({
        "a_new": format!("crm.calllist.add?ENTITY_TYPE=CONTACT&ENTITIES[]={}&ENTITIES[]={}", ids[0], ids[1]),
        "b_got": "crm.calllist.get?ID=$result[a_new]",
        "c_items": "crm.calllist.items.get?LIST_ID=$result[b_got][ID]",
        "d_first": "crm.item.list?entityTypeId=3&filter[id]=$result[c_items][0][ID]",
    });
    let r = p.json("batch", &p.token(ADMIN), json!({"cmd": cmd})).await;
    let res = r.assert_ok();
    let new = res["result"]["a_new"].as_u64().unwrap();
    assert_eq!(res["result"]["b_got"]["ID"], json!(new.to_string()));
    assert_eq!(res["result"]["c_items"].as_array().unwrap().len(), 2);
    assert_eq!(res["result"]["d_first"]["items"][0]["id"], json!(ids[0]));
    let sub: Vec<_> = p.sb.calls().into_iter().filter(|c| c.via == "batch").map(|c| c.params).collect();
    assert_eq!(sub[1], json!({"ID": new}), "whole-value references are substituted raw");
}

/// reference 5.6 `halt`: `1` stops at the first error; form `halt=false` is the non-empty string, so true.
#[tokio::test]
async fn batch_halt_stops_at_the_first_error() {
    let p = start().await;
    let t = p.token(ADMIN);
    let cmd = json!({"a": "profile", "b": "crm.calllist.get?ID=9999", "c": "user.current"});
    let r = p.json("batch", &t, json!({"halt": 1, "cmd": cmd})).await;
    let res = r.assert_ok();
    assert!(res["result"].get("c").is_none() && res["result_error"].get("b").is_some());
    let r = p.json("batch", &t, json!({"halt": 0, "cmd": cmd})).await;
    assert!(r.assert_ok()["result"].get("c").is_some());
    let r =
        p.form("batch", &t, "halt=false&cmd[a]=profile&cmd[b]=crm.calllist.get%3FID%3D9999&cmd[c]=user.current").await;
    assert!(r.assert_ok()["result"].get("c").is_none(), "halt=false in a form is true: {}", r.text);
}

/// reference 5.6: at most 50 commands; each extra one gets `ERROR_BATCH_LENGTH_EXCEEDED`.
#[tokio::test]
async fn batch_runs_at_most_fifty_commands() {
    let p = start().await;
    let cmd: serde_json::Map<String, Value> = (0..52).map(|i| (format!("k{i}"), json!("profile"))).collect();
    let r = p.json("batch", &p.token(ADMIN), json!({"cmd": cmd})).await;
    let res = r.assert_ok();
    assert_eq!(res["result"].as_object().unwrap().len(), 50);
    let errors = res["result_error"].as_object().unwrap();
    assert_eq!(errors.len(), 2);
    assert!(
        errors
            .values()
            .all(|e| e["error"] == "ERROR_BATCH_LENGTH_EXCEEDED"
                && e["error_description"] == "Max batch length exceeded")
    );
}

/// reference 5.6: `batch` inside `batch` is not allowed; non-string commands are skipped silently.
#[tokio::test]
async fn batch_refuses_nested_batch_and_skips_non_strings() {
    let p = start().await;
    let r = p
        .json("batch", &p.token(ADMIN), json!({"cmd": {"inner": "batch?cmd[x]=profile", "odd": 5, "ok": "profile"}}))
        .await;
    let res = r.assert_ok();
    assert_eq!(res["result_error"]["inner"]["error"], json!("ERROR_BATCH_METHOD_NOT_ALLOWED"));
    assert!(res["result"].get("odd").is_none() && res["result_error"].get("odd").is_none());
    assert!(res["result"].get("ok").is_some());
}

/// reference 5.6: commands run under the outer token and its user's rights, each checked for scope.
#[tokio::test]
async fn batch_commands_run_with_the_outer_token() {
    let p = start().await;
    let list = p.sb.add_list(EntityKind::Company, &p.company_ids(1), None, ADMIN);
    let r = p
        .json(
            "batch",
            &p.token(MANAGER_CONTACTS),
            json!({"cmd": {"who": "user.current", "l": format!("crm.calllist.get?ID={list}")}}),
        )
        .await;
    let res = r.assert_ok();
    assert_eq!(res["result"]["who"]["ID"], json!(MANAGER_CONTACTS.to_string()));
    assert_eq!(res["result_error"]["l"]["error"], json!("LIST_ID_ERROR"));
    let no_crm = p.sb.issue_tokens_with_scope(ADMIN, Some(&["user"])).unwrap().access_token;
    let r = p.json("batch", &no_crm, json!({"cmd": {"l": "crm.calllist.statuslist", "me": "user.current"}})).await;
    let res = r.assert_ok();
    assert_eq!(res["result_error"]["l"]["error"], json!("insufficient_scope"));
    assert!(res["result"].get("me").is_some());
    let calls = p.sb.calls();
    assert!(
        calls
            .iter()
            .filter(|c| c.via == "batch")
            .all(|c| c.token.as_deref() == Some(no_crm.as_str()) || c.user_id == Some(MANAGER_CONTACTS))
    );
}

/// reference 5.6: `result_time` holds a time only for the commands that succeeded, as `result` holds their
/// answers: with `halt=0` and one of three failing, two; with `halt=1`, only those before the failure.
#[tokio::test]
async fn result_time_holds_only_the_commands_that_succeeded() {
    let p = start().await;
    let t = p.token(ADMIN);
    let cmd = json!({"a": "profile", "b": "crm.calllist.get?ID=9999", "c": "user.current"});
    let r = p.json("batch", &t, json!({"halt": 0, "cmd": cmd})).await;
    let res = r.assert_ok();
    let times = res["result_time"].as_object().unwrap_or_else(|| panic!("an object by key: {res}"));
    assert_eq!(times.keys().collect::<Vec<_>>(), ["a", "c"], "{res}");
    assert!(times.values().all(|t| t["start"].is_f64() && t["duration"].is_number()));
    let r = p.json("batch", &t, json!({"halt": 1, "cmd": cmd})).await;
    let res = r.assert_ok();
    assert_eq!(res["result_time"].as_object().map(|m| m.keys().cloned().collect::<Vec<_>>()), Some(vec!["a".into()]));
}

/// reference 5.6: `result_time` follows the rules of the other maps: `[]` when no command succeeded, a JSON
/// list when the successful keys are 0..n-1, an object keyed by the command keys otherwise (numeric-string
/// keys like `"7001"` included).
#[tokio::test]
async fn result_time_is_written_like_the_other_maps() {
    let p = start().await;
    let t = p.token(ADMIN);
    let r = p.json("batch", &t, json!({"cmd": {"x": "crm.calllist.get?ID=9999", "y": "no.such.method"}})).await;
    let res = r.assert_ok();
    assert_eq!((res["result"].clone(), res["result_time"].clone()), (json!([]), json!([])), "{res}");
    let r = p.json("batch", &t, json!({"cmd": ["profile", "user.current", "crm.calllist.get?ID=9999"]})).await;
    let res = r.assert_ok();
    assert_eq!(res["result_time"].as_array().map(Vec::len), Some(2), "{res}");
    assert!(res["result"].is_array());
    let r = p.json("batch", &t, json!({"cmd": ["crm.calllist.get?ID=9999", "profile"]})).await;
    let res = r.assert_ok();
    assert_eq!(res["result_time"].as_object().map(|m| m.keys().cloned().collect::<Vec<_>>()), Some(vec!["1".into()]));
    let r = p.json("batch", &t, json!({"cmd": {"7001": "profile", "7002": "crm.calllist.get?ID=9999"}})).await;
    let res = r.assert_ok();
    assert!(res["result_time"]["7001"]["start"].is_f64(), "{res}");
    assert_eq!(res["result_time"].as_object().map(|m| m.len()), Some(1));
    assert_eq!(
        res["result_error"].as_object().map(|m| m.keys().cloned().collect::<Vec<_>>()),
        Some(vec!["7002".into()])
    );
}
