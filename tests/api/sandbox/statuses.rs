//! `crm.status.list`: the official page `api-reference/crm/status/crm-status-list.md` (`bitrix24/b24restdocs`)
//! with the default `SOURCE` directory of the crm module (docs/sandbox.md, "crm.status.list").

use std::collections::BTreeSet;

use b24_calllist::sandbox::SandboxConfig;
use serde_json::json;

use super::*;

fn status_ids(r: &Reply) -> Vec<String> {
    r.assert_ok().as_array().unwrap().iter().map(|s| s["STATUS_ID"].as_str().unwrap().to_owned()).collect()
}

/// crm-status-list.md: `filter[ENTITY_ID]=SOURCE` gives a new portal's sources by `SORT`, rows of strings as
/// the page's example writes them, named in the portal's language (Russian by default), with `total`.
#[tokio::test]
async fn status_list_gives_the_default_sources_in_the_portals_language() {
    let p = start().await;
    let r = p.form("crm.status.list", &p.token(MANAGER_BOTH), "filter[ENTITY_ID]=SOURCE&order[SORT]=ASC").await;
    assert_eq!(
        status_ids(&r),
        [
            "CALL",
            "EMAIL",
            "WEB",
            "ADVERTISING",
            "PARTNER",
            "RECOMMENDATION",
            "TRADE_SHOW",
            "WEBFORM",
            "CALLBACK",
            "RC_GENERATOR",
            "STORE",
            "OTHER"
        ]
    );
    assert_eq!(r.body["total"], json!(12));
    let call = &r.assert_ok()[0];
    assert_eq!(call["ENTITY_ID"], json!("SOURCE"));
    assert_eq!(call["NAME"], json!("Звонок"));
    assert_eq!(call["NAME_INIT"], json!("Звонок"), "a system item keeps its first name");
    assert_eq!(call["SORT"], json!("10"));
    assert_eq!(call["SYSTEM"], json!("Y"));
    assert!(call["ID"].as_str().is_some_and(|id| id.parse::<u64>().is_ok()), "{call}");
    let web = &r.assert_ok()[2];
    assert_eq!(
        (web["NAME"].clone(), web["NAME_INIT"].clone(), web["SYSTEM"].clone()),
        (json!("Веб-сайт"), json!(""), json!("N"))
    );

    let en = start_with(SandboxConfig { lang: "en".into(), ..small_config() }).await;
    let r = en.json("crm.status.list", &en.token(ADMIN), json!({"filter": {"ENTITY_ID": "SOURCE"}})).await;
    let names: Vec<&str> = r.assert_ok().as_array().unwrap().iter().map(|s| s["NAME"].as_str().unwrap()).collect();
    assert_eq!(&names[..3], ["Call", "E-Mail", "Website"]);
}

/// crm-status-list.md with crm.item.list: every `sourceId` the seeded contacts carry is a `STATUS_ID` of the
/// `SOURCE` directory, so the app can name each contact's source.
#[tokio::test]
async fn every_seeded_source_is_in_the_directory() {
    let p = start().await;
    let t = p.token(ADMIN);
    let r = p.json("crm.status.list", &t, json!({"filter": {"ENTITY_ID": "SOURCE"}})).await;
    let known: BTreeSet<String> = status_ids(&r).into_iter().collect();
    let used: BTreeSet<String> = p.sb.contacts().into_iter().map(|c| c.source_id).filter(|s| !s.is_empty()).collect();
    assert!(used.len() >= 5, "the seed spreads several sources: {used:?}");
    assert!(used.is_subset(&known), "{used:?} not all in {known:?}");
}

/// crm-status-list.md "order", "filter": other fields filter and order; the call statuses are the
/// `CALL_LIST` directory (the same as crm.calllist.statuslist); a field that is not the directory's is the
/// page's 400 "Invalid parameters.".
#[tokio::test]
async fn status_list_filters_orders_and_refuses_unknown_fields() {
    let p = start().await;
    let t = p.token(MANAGER_CONTACTS);
    let r = p
        .json(
            "crm.status.list",
            &t,
            json!({"filter": {"ENTITY_ID": "SOURCE", "SYSTEM": "Y"}, "order": {"SORT": "DESC"}}),
        )
        .await;
    assert_eq!(status_ids(&r), ["STORE", "RC_GENERATOR", "CALLBACK", "WEBFORM", "CALL"]);
    let r = p.json("crm.status.list", &t, json!({"filter": {"ENTITY_ID": "CALL_LIST"}})).await;
    assert_eq!(status_ids(&r), ["IN_WORK", "SUCCESS", "WRONG_NUMBER", "STOP_CALLING"]);
    let listed = p.json("crm.calllist.statuslist", &t, json!({})).await;
    assert_eq!(r.assert_ok()[1]["NAME"], listed.assert_ok()[1]["NAME"]);
    let all = p.json("crm.status.list", &t, json!({})).await;
    assert_eq!(all.body["total"], json!(16));
    p.json("crm.status.list", &t, json!({"filter": {"COLOUR": "red"}})).await.assert_error(
        400,
        "Invalid parameters.",
        "Incorrect parameters passed.",
    );
    p.json("crm.status.list", &t, json!({"order": {"TITLE": "ASC"}})).await.assert_error(
        400,
        "Invalid parameters.",
        "Incorrect parameters passed.",
    );
    // Scope crm, as every crm.* method.
    let user_only = p.sb.issue_tokens_with_scope(ADMIN, Some(&["user"])).unwrap().access_token;
    let r = p.json("crm.status.list", &user_only, json!({})).await;
    assert_eq!(r.error(), "insufficient_scope");
}
