//! `crm.calllist.add`, `.get`, `.items.get`, `.list`, `.statuslist`: reference (bitrix24-behaviour.md)
//! 1.2–1.6 and bitrix24-docs/api-reference/crm/call-list/*.md.

use b24_calllist::sandbox::EntityKind;
use serde_json::json;

use super::*;

/// reference 1.3 step 7; crm-calllist-add.md: the new ID as a JSON integer; members ranked in request order.
#[tokio::test]
async fn add_creates_a_list_and_answers_its_integer_id() {
    let p = start().await;
    let ids = p.contact_ids(3);
    let r = p
        .json(
            "crm.calllist.add",
            &p.token(MANAGER_BOTH),
            json!({"ENTITY_TYPE": "CONTACT", "ENTITIES": [ids[2], ids[0]], "WEBFORM_ID": 1}),
        )
        .await;
    let id = r.assert_ok().as_u64().expect("an integer ID");
    let l = p.sb.list(id).unwrap();
    assert_eq!((l.member_ids(), l.webform_id, l.created_by_id), (vec![ids[2], ids[0]], Some(1), MANAGER_BOTH));
    assert!(l.members.iter().all(|m| m.status == "IN_WORK"));
}

/// reference 1.3 steps 1–4: `ENTITIES` is checked before the type (unlike update), other texts and codes.
#[tokio::test]
async fn add_has_its_own_check_order_and_texts() {
    let p = start().await;
    let t = p.token(ADMIN);
    p.json("crm.calllist.add", &t, json!({"ENTITIES": [1]})).await.assert_error(
        400,
        "ERROR_ARGUMENT",
        "ENTITY_TYPE is not found",
    );
    p.json("crm.calllist.add", &t, json!({"ENTITY_TYPE": "CONTACT"})).await.assert_error(
        400,
        "ERROR_ARGUMENT",
        "ENTITIES is not found",
    );
    p.json("crm.calllist.add", &t, json!({"ENTITY_TYPE": "LEAD", "ENTITIES": 5})).await.assert_error(
        400,
        "ENTITIES_ERROR",
        "Entities is not array",
    );
    p.json("crm.calllist.add", &t, json!({"ENTITY_TYPE": "LEAD", "ENTITIES": [1]})).await.assert_error(
        400,
        "ENTITY_TYPE_ERROR",
        "Incorrect entity type",
    );
    p.json("crm.calllist.add", &t, json!({"ENTITY_TYPE": "CONTACT", "ENTITIES": []})).await.assert_error(
        400,
        "ENTITIES_ERROR",
        "Incorrect entities id",
    );
    p.json("crm.calllist.add", &t, json!({"ENTITY_TYPE": "CONTACT", "ENTITIES": [1, 1]})).await.assert_error(
        400,
        "ENTITY_ERROR",
        "Incorrect entities id",
    );
    p.json("crm.calllist.add", &t, json!({"ENTITY_TYPE": "CONTACT", "ENTITIES": [1], "WEBFORM_ID": 777}))
        .await
        .assert_error(400, "WEBFORM_ERROR", "Incorrect webform id");
    assert!(p.sb.lists().is_empty(), "nothing was created");
}

/// reference 1.3 step 5: unreadable items are filtered; when none is left, 403 with its own text.
#[tokio::test]
async fn add_filters_unreadable_items_and_refuses_when_none_is_left() {
    let p = start().await;
    let ids = p.contact_ids(3);
    p.sb.deny(MANAGER_BOTH, EntityKind::Contact, ids[0]).unwrap();
    let r =
        p.json("crm.calllist.add", &p.token(MANAGER_BOTH), json!({"ENTITY_TYPE": "CONTACT", "ENTITIES": ids})).await;
    let id = r.assert_ok().as_u64().unwrap();
    assert_eq!(p.sb.list(id).unwrap().member_ids(), vec![ids[1], ids[2]]);
    let r = p
        .json("crm.calllist.add", &p.token(MANAGER_COMPANIES), json!({"ENTITY_TYPE": "CONTACT", "ENTITIES": ids}))
        .await;
    r.assert_error(403, "ACCESS_ERROR", "You don't have access to these entities");
}

/// reference 1.2; crm-calllist-get.md: values are JSON strings, `WEBFORM_ID` null when cleared.
#[tokio::test]
async fn get_answers_string_values() {
    let p = start().await;
    let list = p.sb.add_list(EntityKind::Contact, &p.contact_ids(2), Some(1), MANAGER_BOTH);
    let r = p.json("crm.calllist.get", &p.token(ADMIN), json!({"ID": list})).await;
    let res = r.assert_ok();
    assert_eq!(res["ID"], json!(list.to_string()));
    assert_eq!(res["CREATED_BY_ID"], json!(MANAGER_BOTH.to_string()));
    assert_eq!(res["WEBFORM_ID"], json!("1"));
    assert_eq!(res["ENTITY_TYPE_ID"], json!("3"));
    assert_eq!(res["ENTITY_TYPE"], json!("CONTACT"));
    assert!(
        res["DATE_CREATE"].as_str().is_some_and(|d| d.len() == 19 && d.as_bytes()[10] == b' '),
        "Y-m-d H:i:s: {res}"
    );
    assert!(res.get("ITEMS").is_none() && res.get("FILTERED").is_none());
    p.sb.set_list_webform(list, None).unwrap();
    let r = p.json("crm.calllist.get", &p.token(ADMIN), json!({"ID": list})).await;
    assert_eq!(r.assert_ok()["WEBFORM_ID"], json!(null));
}

/// reference 1.2: missing `ID`, unknown list, and a list of a type the user may not read.
#[tokio::test]
async fn get_errors() {
    let p = start().await;
    let list = p.sb.add_list(EntityKind::Company, &p.company_ids(1), None, ADMIN);
    p.json("crm.calllist.get", &p.token(ADMIN), json!({})).await.assert_error(400, "ERROR_ARGUMENT", "ID is not found");
    p.json("crm.calllist.get", &p.token(ADMIN), json!({"ID": 5555})).await.assert_error(
        400,
        "LIST_ID_ERROR",
        "Incorrect list id",
    );
    p.json("crm.calllist.get", &p.token(MANAGER_CONTACTS), json!({"ID": list})).await.assert_error(
        400,
        "LIST_ID_ERROR",
        "Incorrect list id",
    );
}

/// reference 1.4; crm-calllist-items-get.md: rows `{ID:int, STATUS, ENTITY_TYPE:int}` in rank order, no total.
#[tokio::test]
async fn items_get_answers_rows_in_rank_order_without_total() {
    let p = start().await;
    let ids = p.contact_ids(4);
    let list = p.sb.add_list(EntityKind::Contact, &[ids[3], ids[1], ids[2]], None, ADMIN);
    p.sb.set_member_status(list, ids[1], "SUCCESS").unwrap();
    let r = p.json("crm.calllist.items.get", &p.token(ADMIN), json!({"LIST_ID": list})).await;
    assert_eq!(
        r.assert_ok(),
        &json!([
            {"ID": ids[3], "STATUS": "IN_WORK", "ENTITY_TYPE": 3},
            {"ID": ids[1], "STATUS": "SUCCESS", "ENTITY_TYPE": 3},
            {"ID": ids[2], "STATUS": "IN_WORK", "ENTITY_TYPE": 3},
        ])
    );
    assert!(r.body.get("total").is_none() && r.body.get("next").is_none());
    let r = p
        .json("crm.calllist.items.get", &p.token(ADMIN), json!({"LIST_ID": list, "FILTER": {"STATUS": "SUCCESS"}}))
        .await;
    assert_eq!(r.assert_ok(), &json!([{"ID": ids[1], "STATUS": "SUCCESS", "ENTITY_TYPE": 3}]));
}

/// reference 1.4 step 2 and 1 ("Pagination helper"): pages of 50 by `start`; `start=-1` is the first 50.
#[tokio::test]
async fn items_get_pages_by_fifty() {
    let mut cfg = small_config();
    cfg.seed.contacts = 130;
    let p = start_with(cfg).await;
    let ids = p.contact_ids(120);
    let list = p.sb.add_list(EntityKind::Contact, &ids, None, ADMIN);
    let t = p.token(ADMIN);
    let page = |r: &Reply| {
        r.body["result"]
            .as_array()
            .map(|a| a.iter().map(|x| x["ID"].as_u64().unwrap()).collect::<Vec<_>>())
            .unwrap_or_default()
    };
    let first = p.json("crm.calllist.items.get", &t, json!({"LIST_ID": list})).await;
    assert_eq!(page(&first), ids[..50]);
    let third = p.json("crm.calllist.items.get", &t, json!({"LIST_ID": list, "start": 100})).await;
    assert_eq!(page(&third), ids[100..]);
    let minus = p.json("crm.calllist.items.get", &t, json!({"LIST_ID": list, "start": -1})).await;
    assert_eq!(page(&minus), ids[..50]);
    let form = p.get("crm.calllist.items.get", &format!("LIST_ID={list}&start=50&auth={t}")).await;
    assert_eq!(page(&form), ids[50..100]);
}

/// reference 1.4 step 5: an empty page is 403, also for an empty list, past the end, and a status with no match.
#[tokio::test]
async fn items_get_answers_403_for_an_empty_page() {
    let p = start().await;
    let ids = p.contact_ids(3);
    let list = p.sb.add_list(EntityKind::Contact, &ids, None, ADMIN);
    let empty = p.sb.add_list(EntityKind::Contact, &[], None, ADMIN);
    let t = p.token(ADMIN);
    let text = "You do not have access to the participants of this call list";
    p.json("crm.calllist.items.get", &t, json!({"LIST_ID": empty})).await.assert_error(403, "ACCESS_ERROR", text);
    p.json("crm.calllist.items.get", &t, json!({"LIST_ID": list, "start": 50})).await.assert_error(
        403,
        "ACCESS_ERROR",
        text,
    );
    p.json("crm.calllist.items.get", &t, json!({"LIST_ID": list, "FILTER": {"STATUS": "SUCCESS"}})).await.assert_error(
        403,
        "ACCESS_ERROR",
        text,
    );
}

/// reference 1.4 step 4: unreadable rows are dropped after the LIMIT, so a page can be short while more exist.
#[tokio::test]
async fn items_get_drops_unreadable_rows_after_paging() {
    let mut cfg = small_config();
    cfg.seed.contacts = 80;
    let p = start_with(cfg).await;
    let ids = p.contact_ids(60);
    let list = p.sb.add_list(EntityKind::Contact, &ids, None, ADMIN);
    p.sb.deny(MANAGER_BOTH, EntityKind::Contact, ids[0]).unwrap();
    p.sb.deny(MANAGER_BOTH, EntityKind::Contact, ids[1]).unwrap();
    let r = p.json("crm.calllist.items.get", &p.token(MANAGER_BOTH), json!({"LIST_ID": list})).await;
    assert_eq!(r.assert_ok().as_array().unwrap().len(), 48);
    let r = p.json("crm.calllist.items.get", &p.token(MANAGER_BOTH), json!({"LIST_ID": list, "start": 50})).await;
    assert_eq!(r.assert_ok().as_array().unwrap().len(), 10);
    // a user without the type right sees no rows at all: 403 (no list-level check before)
    let r = p.json("crm.calllist.items.get", &p.token(MANAGER_COMPANIES), json!({"LIST_ID": list})).await;
    assert_eq!(r.status, 403);
}

/// reference 1.4 steps 1 and 3: the argument errors and the status check.
#[tokio::test]
async fn items_get_errors() {
    let p = start().await;
    let list = p.sb.add_list(EntityKind::Contact, &p.contact_ids(2), None, ADMIN);
    let t = p.token(ADMIN);
    p.json("crm.calllist.items.get", &t, json!({})).await.assert_error(400, "ERROR_ARGUMENT", "LIST_ID is not found");
    p.json("crm.calllist.items.get", &t, json!({"LIST_ID": 0})).await.assert_error(
        400,
        "LIST_ID_ERROR",
        "List id should be positive",
    );
    p.json("crm.calllist.items.get", &t, json!({"LIST_ID": "abc"})).await.assert_error(
        400,
        "LIST_ID_ERROR",
        "List id should be positive",
    );
    p.json("crm.calllist.items.get", &t, json!({"LIST_ID": 9999})).await.assert_error(
        400,
        "LIST_ID_ERROR",
        "Call list is not found",
    );
    p.json("crm.calllist.items.get", &t, json!({"LIST_ID": list, "FILTER": {"STATUS": "in_work"}})).await.assert_error(
        400,
        "STATUS_ERROR",
        "Incorrect status",
    );
}

/// reference 1.5; crm-calllist-list.md: string values, SELECT, FILTER, ORDER, no permission filtering.
#[tokio::test]
async fn list_answers_every_list_with_string_values() {
    let p = start().await;
    let a = p.sb.add_list(EntityKind::Contact, &p.contact_ids(1), Some(1), MANAGER_BOTH);
    let b = p.sb.add_list(EntityKind::Company, &p.company_ids(1), None, ADMIN);
    let r = p.json("crm.calllist.list", &p.token(MANAGER_CONTACTS), json!({})).await;
    let rows = r.assert_ok().as_array().unwrap().clone();
    assert_eq!(rows.len(), 2, "no permission filtering: {rows:?}");
    assert_eq!(rows[0]["ID"], json!(a.to_string()));
    assert_eq!(rows[0]["WEBFORM_ID"], json!("1"));
    assert_eq!(rows[1]["WEBFORM_ID"], json!(null));
    assert!(rows[0].get("GRID_ID").is_none() && rows[0].get("ENTITY_TYPE").is_none());
    let r = p
        .json(
            "crm.calllist.list",
            &p.token(ADMIN),
            json!({"SELECT": ["ID", "CREATED_BY_ID"], "FILTER": {"ENTITY_TYPE_ID": 4}, "ORDER": {"ID": "DESC"}}),
        )
        .await;
    assert_eq!(r.assert_ok(), &json!([{"ID": b.to_string(), "CREATED_BY_ID": ADMIN.to_string()}]));
    assert!(r.body.get("total").is_none());
}

/// reference 1.5: an unknown field is ORM error 100 with the entity's class in the text.
#[tokio::test]
async fn list_with_an_unknown_field_is_error_100() {
    let p = start().await;
    let r = p.json("crm.calllist.list", &p.token(ADMIN), json!({"SELECT": ["TITLE"]})).await;
    r.assert_error(
        400,
        "100",
        "Unknown field definition `TITLE` (TITLE) for \\Bitrix\\Crm\\CallList\\Internals\\CallList Entity.",
    );
}

/// reference 1.5: pages of 50; `start=-1` means no limit at all.
#[tokio::test]
async fn list_pages_by_fifty_and_start_minus_one_returns_all() {
    let p = start().await;
    let one = p.contact_ids(1);
    for _ in 0..60 {
        p.sb.add_list(EntityKind::Contact, &one, None, ADMIN);
    }
    let t = p.token(ADMIN);
    let n = |r: &Reply| r.body["result"].as_array().map(Vec::len).unwrap_or(0);
    assert_eq!(n(&p.json("crm.calllist.list", &t, json!({})).await), 50);
    assert_eq!(n(&p.json("crm.calllist.list", &t, json!({"start": 50})).await), 10);
    assert_eq!(n(&p.json("crm.calllist.list", &t, json!({"start": -1})).await), 60);
}

/// reference 1.6; crm-calllist-statuslist.md: the default `CALL_LIST` statuses of a portal in English.
#[tokio::test]
async fn statuslist_answers_the_default_statuses() {
    let p = start_with(SandboxConfig { lang: "en".into(), ..small_config() }).await;
    let r = p.json("crm.calllist.statuslist", &p.token(NO_CRM), json!({})).await;
    let rows = r.assert_ok().as_array().unwrap();
    let got: Vec<(&str, &str, i64)> = rows
        .iter()
        .map(|s| (s["STATUS_ID"].as_str().unwrap(), s["NAME"].as_str().unwrap(), s["SORT"].as_i64().unwrap()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("IN_WORK", "In Progress", 10),
            ("SUCCESS", "Successful", 20),
            ("WRONG_NUMBER", "Wrong Number", 30),
            ("STOP_CALLING", "Do Not Call Again", 40)
        ]
    );
    assert!(rows.iter().all(|s| s["ID"].is_u64()));
}

/// reference 1.6; the Russian edition of crm-calllist-statuslist.md: a portal in Russian (the default) names
/// the statuses in Russian, whoever asks and in whatever language their page is.
#[tokio::test]
async fn statuslist_answers_in_the_portals_language() {
    let p = start().await;
    for user in [ADMIN, MANAGER_CONTACTS] {
        let r = p.json("crm.calllist.statuslist", &p.token(user), json!({})).await;
        let got: Vec<(String, String)> = r
            .assert_ok()
            .as_array()
            .unwrap()
            .iter()
            .map(|s| (s["STATUS_ID"].as_str().unwrap().to_owned(), s["NAME"].as_str().unwrap().to_owned()))
            .collect();
        let want = [
            ("IN_WORK", "В работе"),
            ("SUCCESS", "Успешно"),
            ("WRONG_NUMBER", "Неверный номер"),
            ("STOP_CALLING", "Больше не звонить"),
        ];
        assert_eq!(got, want.map(|(a, b)| (a.to_owned(), b.to_owned())), "user {user}");
    }
}

/// reference 1.1 ("no size limit on ENTITIES"), 1.4: a 10,000-member list reads page by page and updates in
/// one call.
#[tokio::test]
async fn a_ten_thousand_member_list_reads_and_updates() {
    let mut cfg = small_config();
    cfg.seed.lists = vec![b24_calllist::sandbox::ListSeed { entity_type: EntityKind::Contact, members: 10_000 }];
    let p = start_with(cfg).await;
    let t = p.token(ADMIN);
    let r = p.json("crm.calllist.items.get", &t, json!({"LIST_ID": 1, "start": 9_950})).await;
    assert_eq!(r.assert_ok().as_array().unwrap().len(), 50);
    let mut ids = p.sb.list(1).unwrap().member_ids();
    ids.truncate(9_990);
    let r = p.json("crm.calllist.update", &t, json!({"LIST_ID": 1, "ENTITY_TYPE": "CONTACT", "ENTITIES": ids})).await;
    assert_eq!(r.assert_ok(), &json!(true));
    assert_eq!(p.sb.list(1).unwrap().members.len(), 9_990);
}
