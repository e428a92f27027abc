//! `crm.item.list` for contacts and companies, and `crm.webform.list`: reference (bitrix24-behaviour.md) 2.1,
//! 2.2, 5.4 and bitrix24-docs/api-reference/crm/universal/crm-item-list.md.

use b24_calllist::sandbox::{Contact, EntityKind};
use serde_json::json;

use super::*;

fn ids_of(r: &Reply) -> Vec<u64> {
    r.body["result"]["items"]
        .as_array()
        .map(|a| a.iter().map(|x| x["id"].as_u64().unwrap()).collect())
        .unwrap_or_default()
}

/// reference 2.2: `result.items` with camelCase keys and JSON numbers, `total`, `next` when more than 50 match.
#[tokio::test]
async fn item_list_pages_contacts_with_total_and_next() {
    let p = start().await;
    let t = p.token(ADMIN);
    let r = p.json("crm.item.list", &t, json!({"entityTypeId": 3, "select": ["id", "name", "lastName"]})).await;
    r.assert_ok();
    assert_eq!(r.body["total"], json!(60));
    assert_eq!(r.body["next"], json!(50));
    let items = r.body["result"]["items"].as_array().unwrap();
    assert_eq!(items.len(), 50);
    assert!(items[0]["id"].is_u64() && items[0]["name"].is_string() && items[0].get("post").is_none());
    let r = p.json("crm.item.list", &t, json!({"entityTypeId": 3, "start": 50})).await;
    r.assert_ok();
    assert_eq!(ids_of(&r).len(), 10);
    assert!(r.body.get("next").is_none());
}

/// reference 2.2 and 5.4: `start=-1` disables the total count and returns up to 50 rows.
#[tokio::test]
async fn item_list_start_minus_one_has_no_total() {
    let p = start().await;
    let r = p.json("crm.item.list", &p.token(ADMIN), json!({"entityTypeId": 3, "start": -1})).await;
    r.assert_ok();
    assert_eq!(ids_of(&r).len(), 50);
    assert!(r.body.get("total").is_none() && r.body.get("next").is_none());
}

/// reference 2.2: filters `=`, `@` (in), `%` (contains) on names, title, phone, e-mail; order; only readable rows.
#[tokio::test]
async fn item_list_filters_and_orders() {
    let p = start().await;
    let zed = p.sb.add_contact_with(Contact {
        name: "Зинаида".into(),
        last_name: "Яблокова".into(),
        phones: vec!["+7 900 111-22-33".into()],
        emails: vec!["zina@example.ru".into()],
        ..Contact::default()
    });
    let t = p.token(ADMIN);
    let r = p.json("crm.item.list", &t, json!({"entityTypeId": 3, "filter": {"%lastName": "яблок"}})).await;
    assert_eq!(ids_of(&r), vec![zed]);
    let r = p.json("crm.item.list", &t, json!({"entityTypeId": 3, "filter": {"%phone": "111-22"}})).await;
    assert_eq!(ids_of(&r), vec![zed]);
    let r = p.json("crm.item.list", &t, json!({"entityTypeId": 3, "filter": {"%email": "ZINA@"}})).await;
    assert_eq!(ids_of(&r), vec![zed]);
    let r = p
        .json("crm.item.list", &t, json!({"entityTypeId": 3, "filter": {"@id": [3, 1, 2]}, "order": {"id": "DESC"}}))
        .await;
    assert_eq!(ids_of(&r), vec![3, 2, 1]);
    assert_eq!(r.body["total"], json!(3));
    let r = p.json("crm.item.list", &t, json!({"entityTypeId": 3, "filter": {"=id": 2}})).await;
    assert_eq!(ids_of(&r), vec![2]);
    let company = p.sb.add_company("Ёлочка Trading");
    let r = p.json("crm.item.list", &t, json!({"entityTypeId": 4, "filter": {"%title": "ёлочка"}})).await;
    assert_eq!(ids_of(&r), vec![company]);
    p.sb.deny(MANAGER_BOTH, EntityKind::Contact, 2).unwrap();
    let r =
        p.json("crm.item.list", &p.token(MANAGER_BOTH), json!({"entityTypeId": 3, "filter": {"@id": [1, 2, 3]}})).await;
    assert_eq!(ids_of(&r), vec![1, 3]);
}

/// reference 2.2 form encoding: bracket-key filters and select from a form body.
#[tokio::test]
async fn item_list_reads_bracket_key_forms() {
    let p = start().await;
    let r = p
        .form(
            "crm.item.list",
            &p.token(ADMIN),
            "entityTypeId=3&select[]=id&select[]=name&filter[@id][]=4&filter[@id][]=5&order[id]=ASC",
        )
        .await;
    r.assert_ok();
    assert_eq!(ids_of(&r), vec![4, 5]);
}

/// reference 2.2 errors: bad `entityTypeId`, fields not allowed, bad sort direction.
#[tokio::test]
async fn item_list_errors() {
    let p = start().await;
    let t = p.token(ADMIN);
    p.json("crm.item.list", &t, json!({"entityTypeId": 999})).await.assert_error(400, "NOT_FOUND", "SPA not found");
    p.json("crm.item.list", &t, json!({"entityTypeId": 3, "filter": {"%bogus": "x"}})).await.assert_error(
        400,
        "INVALID_ARG_VALUE",
        "Invalid filter: field 'bogus' is not allowed in filter",
    );
    p.json("crm.item.list", &t, json!({"entityTypeId": 3, "filter": {"id": "abc"}})).await.assert_error(
        400,
        "INVALID_ARG_VALUE",
        "Invalid filter: field 'id' has invalid value",
    );
    p.json("crm.item.list", &t, json!({"entityTypeId": 3, "order": {"bogus": "ASC"}})).await.assert_error(
        400,
        "INVALID_ARG_VALUE",
        "Invalid order: field 'bogus' is not allowed in order",
    );
    p.json("crm.item.list", &t, json!({"entityTypeId": 3, "order": {"id": "UP"}})).await.assert_error(
        400,
        "INVALID_ARG_VALUE",
        "Invalid order: allowed sort directions are ASC, DESC. But got 'UP' for field 'id'",
    );
}

/// reference 2.2 "Only items the user may read are returned": no right on the type is refused.
#[tokio::test]
async fn item_list_without_the_type_right_is_refused() {
    let p = start().await;
    let r = p.json("crm.item.list", &p.token(MANAGER_CONTACTS), json!({"entityTypeId": 4})).await;
    assert_eq!(r.status, 403, "{}", r.text);
    let r = p.json("crm.item.list", &p.token(MANAGER_CONTACTS), json!({"entityTypeId": 3})).await;
    assert_eq!(r.assert_ok()["items"].as_array().unwrap().len(), 50);
}

/// reference 2.1: active default-type forms by `ID` descending, string values and `URL`; `GET_INACTIVE=Y` adds the rest.
#[tokio::test]
async fn webform_list_shows_active_forms_unless_inactive_are_asked_for() {
    let p = start().await;
    let t = p.token(MANAGER_BOTH);
    let r = p.json("crm.webform.list", &t, json!({})).await;
    let rows = r.assert_ok().as_array().unwrap().clone();
    let forms = p.sb.webforms();
    let active: Vec<String> =
        forms.iter().rev().filter(|f| f.active && f.default_type).map(|f| f.id.to_string()).collect();
    assert_eq!(rows.iter().map(|r| r["ID"].as_str().unwrap().to_owned()).collect::<Vec<_>>(), active);
    for key in ["NAME", "SECURITY_CODE", "IS_CALLBACK_FORM", "ACTIVE", "XML_ID", "URL"] {
        assert!(rows[0][key].is_string(), "{key} in {}", rows[0]);
    }
    let r = p.form("crm.webform.list", &t, "GET_INACTIVE=Y").await;
    let all = r.assert_ok().as_array().unwrap().len();
    assert_eq!(all, forms.iter().filter(|f| f.default_type).count());
    let r = p.form("crm.webform.list", &t, "GET_INACTIVE=y").await;
    assert_eq!(r.assert_ok().as_array().unwrap().len(), active.len(), "only the exact string Y counts");
}

/// reference 2.2: an `id` condition at the top of the filter answers exactly as the same condition nested
/// one level down (the lookup by IDs must find the same rows as a scan): values as numbers, numeric strings,
/// duplicates, unknown and hidden IDs, ranges, with other conditions, order and paging.
#[tokio::test]
async fn item_list_id_conditions_answer_as_a_scan_would() {
    let p = start().await;
    p.sb.deny(MANAGER_BOTH, EntityKind::Contact, 4).unwrap();
    p.sb.delete_contact(6);
    let conds = [
        json!({"@id": [5, "3", 3, 999, 4.0, " 7 ", 6, 4]}),
        json!({"id": 2}),
        json!({"=id": "8"}),
        json!({"@id": []}),
        json!({"@id": [2.5, -1, 0]}),
        json!({">id": 50}),
        json!({">=id": "50"}),
        json!({"<id": 5.5}),
        json!({"<=id": 3}),
        json!({"<id": -3}),
        json!({">id": 10, "<id": 20, "%name": "а"}),
        json!({"@id": (1..=60).collect::<Vec<u64>>(), "!id": 10}),
    ];
    for user in [ADMIN, MANAGER_BOTH] {
        let t = p.token(user);
        for cond in &conds {
            for extra in
                [json!({}), json!({"order": {"id": "DESC"}}), json!({"order": {"lastName": "ASC"}, "start": 5})]
            {
                let ask = |filter: serde_json::Value| {
                    let mut body = json!({"entityTypeId": 3, "select": ["*"], "filter": filter});
                    for (k, v) in extra.as_object().unwrap() {
                        body[k] = v.clone();
                    }
                    body
                };
                let direct = p.json("crm.item.list", &t, ask(cond.clone())).await;
                let nested = p.json("crm.item.list", &t, ask(json!({"0": cond}))).await;
                direct.assert_ok();
                assert_eq!(
                    (&direct.body["result"], &direct.body["total"], &direct.body.get("next")),
                    (&nested.body["result"], &nested.body["total"], &nested.body.get("next")),
                    "user {user}, filter {cond}, {extra}"
                );
            }
        }
    }
    let t = p.token(ADMIN);
    let r = p.json("crm.item.list", &t, json!({"entityTypeId": 3, "filter": {"@id": [5, "3", 3, 6]}})).await;
    assert_eq!(ids_of(&r), vec![3, 5]);
    assert_eq!(r.body["total"], json!(2));
    // An order by text: case-insensitive, ties by ID, then paged.
    let mut expected: Vec<(String, u64)> = p.sb.contacts().iter().map(|c| (c.last_name.to_lowercase(), c.id)).collect();
    expected.sort();
    let expected: Vec<u64> = expected.into_iter().map(|(_, id)| id).skip(50).collect();
    let r = p.json("crm.item.list", &t, json!({"entityTypeId": 3, "order": {"lastName": "ASC"}, "start": 50})).await;
    assert_eq!(ids_of(&r), expected);
}

/// The seed spreads responsible users, sources, companies and creation dates, so a CRM filter by any of them
/// picks some contacts and not others.
#[tokio::test]
async fn the_seed_varies_what_crm_filters_pick_by() {
    use std::collections::BTreeSet;
    let p = start().await;
    let contacts = p.sb.contacts();
    let responsible: BTreeSet<u64> = contacts.iter().map(|c| c.assigned_by_id).collect();
    let sources: BTreeSet<&str> = contacts.iter().map(|c| c.source_id.as_str()).collect();
    let companies: BTreeSet<Option<u64>> = contacts.iter().map(|c| c.company_id).collect();
    let years: BTreeSet<&str> = contacts.iter().map(|c| &c.created_time[..4]).collect();
    assert!(responsible.len() >= 4 && responsible.contains(&MANAGER_OWN), "{responsible:?}");
    assert!(sources.len() >= 4 && !sources.contains(""), "{sources:?}");
    assert!(companies.len() >= 4 && companies.contains(&None), "{companies:?}");
    assert_eq!(years, BTreeSet::from(["2024", "2025"]));
    let company_owners: BTreeSet<u64> = p.sb.companies().iter().map(|c| c.assigned_by_id).collect();
    assert!(company_owners.len() >= 3, "{company_owners:?}");
}

fn moment(iso: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(iso).unwrap().timestamp()
}

/// reference 2.2; crm-item-list.md: the filters "pick by CRM filter" uses, with the documented operators:
/// `assignedById` (`=`, `@`, `!@`), `companyId`, `sourceId` (`@`, `!=`) and `createdTime` ranges (`>=`, `<=`,
/// `>`, `<`, with an offset, without one, or a date alone), alone and together.
#[tokio::test]
async fn item_list_filters_by_responsible_company_source_and_creation_time() {
    let p = start().await;
    let t = p.token(ADMIN);
    let contacts = p.sb.contacts();
    let pick = |keep: &dyn Fn(&b24_calllist::sandbox::Contact) -> bool| -> Vec<u64> {
        contacts.iter().filter(|c| keep(c)).map(|c| c.id).collect()
    };
    let company = contacts.iter().find_map(|c| c.company_id).unwrap();
    let (from, to) = ("2024-07-01T00:00:00+03:00", "2025-03-31T23:59:59+03:00");
    let local_day = {
        use chrono::TimeZone;
        let day = chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap();
        chrono::Local.from_local_datetime(&day).earliest().unwrap().timestamp()
    };
    let cases: Vec<(serde_json::Value, Vec<u64>)> = vec![
        (json!({"assignedById": MANAGER_CONTACTS}), pick(&|c| c.assigned_by_id == MANAGER_CONTACTS)),
        (json!({"@assignedById": [MANAGER_BOTH, MANAGER_OWN]}), pick(&|c| [2, 6].contains(&c.assigned_by_id))),
        (json!({"!@assignedById": [ADMIN, MANAGER_OWN]}), pick(&|c| ![1, 6].contains(&c.assigned_by_id))),
        (json!({"companyId": company}), pick(&|c| c.company_id == Some(company))),
        (json!({"@sourceId": ["WEB", "CALL"]}), pick(&|c| ["WEB", "CALL"].contains(&c.source_id.as_str()))),
        (json!({"!=sourceId": "WEB"}), pick(&|c| c.source_id != "WEB")),
        (json!({">=createdTime": from}), pick(&|c| moment(&c.created_time) >= moment(from))),
        (json!({"<=createdTime": to}), pick(&|c| moment(&c.created_time) <= moment(to))),
        (
            json!({">=createdTime": from, "<=createdTime": to}),
            pick(&|c| (moment(from)..=moment(to)).contains(&moment(&c.created_time))),
        ),
        (json!({">createdTime": "2025-01-01"}), pick(&|c| moment(&c.created_time) > local_day)),
        (json!({"<createdTime": "2025-01-01 00:00:00"}), pick(&|c| moment(&c.created_time) < local_day)),
        (
            json!({"assignedById": MANAGER_OWN, "@sourceId": ["WEB", "EMAIL", "CALL"], ">=createdTime": from}),
            pick(&|c| {
                c.assigned_by_id == MANAGER_OWN
                    && ["WEB", "EMAIL", "CALL"].contains(&c.source_id.as_str())
                    && moment(&c.created_time) >= moment(from)
            }),
        ),
    ];
    for (filter, want) in cases {
        assert!(!want.is_empty() && want.len() < contacts.len(), "the seed makes {filter} pick some: {want:?}");
        let select = ["id", "assignedById", "sourceId", "createdTime"];
        let body = json!({"entityTypeId": 3, "select": select, "filter": filter, "start": -1});
        let r = p.json("crm.item.list", &t, body).await;
        r.assert_ok();
        let want_page: Vec<u64> = want.iter().copied().take(50).collect();
        assert_eq!(ids_of(&r), want_page, "{filter}");
        let r = p.json("crm.item.list", &t, json!({"entityTypeId": 3, "filter": filter})).await;
        assert_eq!(r.body["total"], json!(want.len()), "{filter}");
    }
    let r = p.json("crm.item.list", &t, json!({"entityTypeId": 3, "select": ["sourceId"], "filter": {"id": 1}})).await;
    assert_eq!(r.assert_ok()["items"][0]["sourceId"], json!(p.sb.contact(1).unwrap().source_id));
}

/// reference 2.2 errors: a `createdTime` that is not a date, and `sourceId` on companies (they have none).
#[tokio::test]
async fn item_list_refuses_a_bad_date_and_a_field_the_type_lacks() {
    let p = start().await;
    let t = p.token(ADMIN);
    let r = p.json("crm.item.list", &t, json!({"entityTypeId": 3, "filter": {">=createdTime": "yesterday"}})).await;
    r.assert_error(400, "INVALID_ARG_VALUE", "Invalid filter: field 'createdTime' has invalid value");
    let r = p.json("crm.item.list", &t, json!({"entityTypeId": 4, "filter": {"sourceId": "WEB"}})).await;
    r.assert_error(400, "INVALID_ARG_VALUE", "Invalid filter: field 'sourceId' is not allowed in filter");
}

/// crm-item-list.md documents camelCase field names; whether the UPPER_CASE names of `crm.contact.list`
/// (`ID`, `LAST_NAME`) work in `filter` and `order` is not stated. `quirks.item_list_upper_case_fields`: by
/// default they are unknown fields (400 `INVALID_ARG_VALUE`, reference 2.2); `accepted` reads them as the
/// camelCase ones, operators and `logic` groups included.
#[tokio::test]
async fn upper_case_field_names_are_refused_or_read_as_camel_case() {
    use b24_calllist::sandbox::{Quirks, SandboxConfig, UpperCaseFields};
    let p = start().await;
    let t = p.token(ADMIN);
    p.json("crm.item.list", &t, json!({"entityTypeId": 3, "filter": {"ID": 3}})).await.assert_error(
        400,
        "INVALID_ARG_VALUE",
        "Invalid filter: field 'ID' is not allowed in filter",
    );
    p.json("crm.item.list", &t, json!({"entityTypeId": 3, "order": {"LAST_NAME": "ASC"}})).await.assert_error(
        400,
        "INVALID_ARG_VALUE",
        "Invalid order: field 'LAST_NAME' is not allowed in order",
    );
    let quirks = Quirks { item_list_upper_case_fields: UpperCaseFields::Accepted, ..Quirks::default() };
    let q = start_with(SandboxConfig { quirks, ..small_config() }).await;
    let t = q.token(ADMIN);
    let upper = q
        .json(
            "crm.item.list",
            &t,
            json!({"entityTypeId": 3, "filter": {"<=ID": 10, "0": {"logic": "OR", "ASSIGNED_BY_ID": 2, "id": 1}},
                   "order": {"LAST_NAME": "DESC", "ID": "ASC"}}),
        )
        .await;
    let camel = q
        .json(
            "crm.item.list",
            &t,
            json!({"entityTypeId": 3, "filter": {"<=id": 10, "0": {"logic": "OR", "assignedById": 2, "id": 1}},
                   "order": {"lastName": "DESC", "id": "ASC"}}),
        )
        .await;
    assert!(!ids_of(&camel).is_empty());
    assert_eq!(ids_of(&upper), ids_of(&camel));
    assert_eq!(upper.body["total"], camel.body["total"]);
}
