//! `crm.calllist.update`: reference (bitrix24-behaviour.md) 1.1, and
//! bitrix24-docs/api-reference/crm/call-list/crm-calllist-update.md.

use b24_calllist::sandbox::EntityKind;
use serde_json::json;

use super::*;

/// A portal with a contact list (members: the first three contacts, form 1) and a company list.
async fn portal_with_lists() -> (TestPortal, u64, u64) {
    let p = start().await;
    let c = p.contact_ids(3);
    let contacts = p.sb.add_list(EntityKind::Contact, &c, Some(1), ADMIN);
    let co = p.company_ids(2);
    let companies = p.sb.add_list(EntityKind::Company, &co, None, ADMIN);
    (p, contacts, companies)
}

/// reference 1.1 "Success"; crm-calllist-update.md: `ENTITIES` replaces the members, the answer is `true`.
#[tokio::test]
async fn update_replaces_the_members_and_answers_true() {
    let (p, list, _) = portal_with_lists().await;
    let ids = p.contact_ids(5);
    let r = p
        .json(
            "crm.calllist.update",
            &p.token(ADMIN),
            json!({"LIST_ID": list, "ENTITY_TYPE": "CONTACT", "ENTITIES": [ids[1], ids[3], ids[4]], "WEBFORM_ID": 1}),
        )
        .await;
    assert_eq!(r.assert_ok(), &json!(true));
    assert_eq!(p.sb.list(list).unwrap().member_ids(), vec![ids[1], ids[3], ids[4]]);
}

/// reference 1.1 step 1 (error table row 1): `LIST_ID is not found`.
#[tokio::test]
async fn update_without_list_id_is_an_argument_error() {
    let (p, _, _) = portal_with_lists().await;
    let r = p.json("crm.calllist.update", &p.token(ADMIN), json!({"ENTITY_TYPE": "CONTACT", "ENTITIES": [1]})).await;
    r.assert_error(400, "ERROR_ARGUMENT", "LIST_ID is not found");
}

/// reference 1.1 step 1 (error table row 1): `ENTITY_TYPE is not found`.
#[tokio::test]
async fn update_without_entity_type_is_an_argument_error() {
    let (p, list, _) = portal_with_lists().await;
    let r = p.json("crm.calllist.update", &p.token(ADMIN), json!({"LIST_ID": list, "ENTITIES": [1]})).await;
    r.assert_error(400, "ERROR_ARGUMENT", "ENTITY_TYPE is not found");
}

/// reference 1.1 step 1 (error table row 1): `ENTITIES is not found`.
#[tokio::test]
async fn update_without_entities_is_an_argument_error() {
    let (p, list, _) = portal_with_lists().await;
    let r = p.json("crm.calllist.update", &p.token(ADMIN), json!({"LIST_ID": list, "ENTITY_TYPE": "CONTACT"})).await;
    r.assert_error(400, "ERROR_ARGUMENT", "ENTITIES is not found");
}

/// reference 1.1 step 1: keys are checked in the order LIST_ID, ENTITY_TYPE, ENTITIES.
#[tokio::test]
async fn update_missing_several_keys_names_the_first_in_order() {
    let (p, _, _) = portal_with_lists().await;
    let r = p.json("crm.calllist.update", &p.token(ADMIN), json!({"ENTITIES": [1]})).await;
    r.assert_error(400, "ERROR_ARGUMENT", "LIST_ID is not found");
    let r = p.json("crm.calllist.update", &p.token(ADMIN), json!({"LIST_ID": 1})).await;
    r.assert_error(400, "ERROR_ARGUMENT", "ENTITY_TYPE is not found");
}

/// reference 1.1 step 1: presence only; an empty value passes and fails later (here at the list lookup).
#[tokio::test]
async fn update_with_an_empty_list_id_passes_the_presence_check() {
    let (p, _, _) = portal_with_lists().await;
    let ids = p.contact_ids(1);
    let r = p
        .form("crm.calllist.update", &p.token(ADMIN), &format!("LIST_ID=&ENTITY_TYPE=CONTACT&ENTITIES[]={}", ids[0]))
        .await;
    r.assert_error(400, "LIST_ID_ERROR", "Incorrect list id or access denied");
}

/// reference 1 ("Every handler upper-cases the top-level parameter keys").
#[tokio::test]
async fn update_parameter_keys_are_case_insensitive() {
    let (p, list, _) = portal_with_lists().await;
    let ids = p.contact_ids(2);
    let r = p
        .json(
            "crm.calllist.update",
            &p.token(ADMIN),
            json!({"list_id": list, "Entity_Type": "CONTACT", "entities": ids}),
        )
        .await;
    assert_eq!(r.assert_ok(), &json!(true));
    assert_eq!(p.sb.list(list).unwrap().member_ids(), ids);
}

/// reference 1.1 step 2 (error table row 2): `EntityType is incorrect`.
#[tokio::test]
async fn update_with_an_unknown_entity_type_is_refused() {
    let (p, list, _) = portal_with_lists().await;
    let r = p
        .json("crm.calllist.update", &p.token(ADMIN), json!({"LIST_ID": list, "ENTITY_TYPE": "DEAL", "ENTITIES": [1]}))
        .await;
    r.assert_error(400, "ENTITY_TYPE_ERROR", "EntityType is incorrect");
}

/// reference 1.1 step 3 (error table row 3): `Entities is not array`.
#[tokio::test]
async fn update_with_scalar_entities_is_refused() {
    let (p, list, _) = portal_with_lists().await;
    let r = p
        .json(
            "crm.calllist.update",
            &p.token(ADMIN),
            json!({"LIST_ID": list, "ENTITY_TYPE": "CONTACT", "ENTITIES": "1,2"}),
        )
        .await;
    r.assert_error(400, "ENTITIES_ERROR", "Entities is not array");
    let r =
        p.form("crm.calllist.update", &p.token(ADMIN), &format!("LIST_ID={list}&ENTITY_TYPE=CONTACT&ENTITIES=5")).await;
    r.assert_error(400, "ENTITIES_ERROR", "Entities is not array");
}

/// reference 1.1 step 4 (error table row 4); "You cannot empty a list".
#[tokio::test]
async fn update_with_an_empty_array_is_refused() {
    let (p, list, _) = portal_with_lists().await;
    let before = p.sb.list(list).unwrap();
    let r = p
        .json(
            "crm.calllist.update",
            &p.token(ADMIN),
            json!({"LIST_ID": list, "ENTITY_TYPE": "CONTACT", "ENTITIES": []}),
        )
        .await;
    r.assert_error(400, "ENTITIES_ERROR", "Incorrect entities id");
    assert_eq!(p.sb.list(list).unwrap().members, before.members);
}

/// reference 1.1 step 4: any unknown ID fails the whole call.
#[tokio::test]
async fn update_with_an_unknown_id_is_refused() {
    let (p, list, _) = portal_with_lists().await;
    let ids = p.contact_ids(1);
    let r = p
        .json(
            "crm.calllist.update",
            &p.token(ADMIN),
            json!({"LIST_ID": list, "ENTITY_TYPE": "CONTACT", "ENTITIES": [ids[0], 999_999]}),
        )
        .await;
    r.assert_error(400, "ENTITIES_ERROR", "Incorrect entities id");
}

/// reference 1.1 step 4: a deleted contact counts as unknown.
#[tokio::test]
async fn update_with_a_deleted_contact_is_refused() {
    let (p, list, _) = portal_with_lists().await;
    let ids = p.contact_ids(4);
    p.sb.delete_contact(ids[3]);
    let r = p
        .json(
            "crm.calllist.update",
            &p.token(ADMIN),
            json!({"LIST_ID": list, "ENTITY_TYPE": "CONTACT", "ENTITIES": [ids[0], ids[3]]}),
        )
        .await;
    r.assert_error(400, "ENTITIES_ERROR", "Incorrect entities id");
}

/// reference 1.1 step 4: duplicate IDs are rejected (`[5,5]` finds one row for two elements), also as `[5,"5"]`.
#[tokio::test]
async fn update_with_duplicate_ids_is_refused() {
    let (p, list, _) = portal_with_lists().await;
    let id = p.contact_ids(1)[0];
    let r = p
        .json(
            "crm.calllist.update",
            &p.token(ADMIN),
            json!({"LIST_ID": list, "ENTITY_TYPE": "CONTACT", "ENTITIES": [id, id]}),
        )
        .await;
    r.assert_error(400, "ENTITIES_ERROR", "Incorrect entities id");
    let r = p
        .json(
            "crm.calllist.update",
            &p.token(ADMIN),
            json!({"LIST_ID": list, "ENTITY_TYPE": "CONTACT", "ENTITIES": [id, id.to_string()]}),
        )
        .await;
    r.assert_error(400, "ENTITIES_ERROR", "Incorrect entities id");
}

/// reference 1.1 step 4: numeric strings are accepted, in JSON and in forms.
#[tokio::test]
async fn update_accepts_numeric_strings() {
    let (p, list, _) = portal_with_lists().await;
    let ids = p.contact_ids(3);
    let r = p.json("crm.calllist.update", &p.token(ADMIN), json!({"LIST_ID": list.to_string(), "ENTITY_TYPE": "CONTACT", "ENTITIES": [ids[0].to_string(), ids[2].to_string()], "WEBFORM_ID": "1"})).await;
    assert_eq!(r.assert_ok(), &json!(true));
    assert_eq!(p.sb.list(list).unwrap().member_ids(), vec![ids[0], ids[2]]);
    assert_eq!(p.sb.list(list).unwrap().webform_id, Some(1));
    let body = format!("LIST_ID={list}&ENTITY_TYPE=CONTACT&ENTITIES[0]={}&ENTITIES[1]={}&WEBFORM_ID=1", ids[1], ids[2]);
    let r = p.form("crm.calllist.update", &p.token(ADMIN), &body).await;
    assert_eq!(r.assert_ok(), &json!(true));
    let mut got = p.sb.list(list).unwrap().member_ids();
    got.sort();
    assert_eq!(got, vec![ids[1], ids[2]]);
}

/// reference 1.1 step 4: a non-numeric string matches no row.
#[tokio::test]
async fn update_with_a_non_numeric_id_is_refused() {
    let (p, list, _) = portal_with_lists().await;
    let r = p
        .json(
            "crm.calllist.update",
            &p.token(ADMIN),
            json!({"LIST_ID": list, "ENTITY_TYPE": "CONTACT", "ENTITIES": ["abc"]}),
        )
        .await;
    r.assert_error(400, "ENTITIES_ERROR", "Incorrect entities id");
}

/// reference 1.1 step 5 (error table: 403 `ACCESS_ERROR`): no read right on the requested type.
#[tokio::test]
async fn update_by_a_user_without_read_right_on_the_type_is_forbidden() {
    let (p, list, _) = portal_with_lists().await;
    let ids = p.contact_ids(2);
    let r = p
        .json(
            "crm.calllist.update",
            &p.token(MANAGER_COMPANIES),
            json!({"LIST_ID": list, "ENTITY_TYPE": "CONTACT", "ENTITIES": ids}),
        )
        .await;
    r.assert_error(403, "ACCESS_ERROR", "Access Denied");
}

/// reference 1.1 step 6 (error table row 5): no such list, or a non-numeric `LIST_ID` (cast to 0).
#[tokio::test]
async fn update_of_an_unknown_list_is_refused() {
    let (p, _, _) = portal_with_lists().await;
    let ids = p.contact_ids(2);
    for list_id in [json!(424_242), json!("abc"), json!(0)] {
        let r = p
            .json(
                "crm.calllist.update",
                &p.token(ADMIN),
                json!({"LIST_ID": list_id, "ENTITY_TYPE": "CONTACT", "ENTITIES": ids}),
            )
            .await;
        r.assert_error(400, "LIST_ID_ERROR", "Incorrect list id or access denied");
    }
}

/// reference 1.1 step 6: a non-admin without read right on the list's type gets the list error.
#[tokio::test]
async fn update_of_a_list_of_an_unreadable_type_is_refused_as_unknown() {
    let (p, _, companies) = portal_with_lists().await;
    let ids = p.contact_ids(2);
    let r = p
        .json(
            "crm.calllist.update",
            &p.token(MANAGER_CONTACTS),
            json!({"LIST_ID": companies, "ENTITY_TYPE": "CONTACT", "ENTITIES": ids}),
        )
        .await;
    r.assert_error(400, "LIST_ID_ERROR", "Incorrect list id or access denied");
}

/// reference 1.1 step 6: a list whose every item is hidden from the user fails to load; an empty list loads.
#[tokio::test]
async fn update_of_a_list_whose_items_are_all_hidden_is_refused() {
    let (p, list, _) = portal_with_lists().await;
    let members = p.sb.list(list).unwrap().member_ids();
    for m in &members {
        p.sb.deny(MANAGER_BOTH, EntityKind::Contact, *m).unwrap();
    }
    let other = p.contact_ids(10)[9];
    let r = p
        .json(
            "crm.calllist.update",
            &p.token(MANAGER_BOTH),
            json!({"LIST_ID": list, "ENTITY_TYPE": "CONTACT", "ENTITIES": [other]}),
        )
        .await;
    r.assert_error(400, "LIST_ID_ERROR", "Incorrect list id or access denied");

    let empty = p.sb.add_list(EntityKind::Contact, &[], None, ADMIN);
    let r = p
        .json(
            "crm.calllist.update",
            &p.token(MANAGER_BOTH),
            json!({"LIST_ID": empty, "ENTITY_TYPE": "CONTACT", "ENTITIES": [other]}),
        )
        .await;
    assert_eq!(r.assert_ok(), &json!(true));
    assert_eq!(p.sb.list(empty).unwrap().member_ids(), vec![other]);
}

/// reference 1.1 step 7 (error table row 6): the list's type differs from `ENTITY_TYPE`.
#[tokio::test]
async fn update_with_the_other_entity_type_is_a_discrepancy() {
    let (p, list, _) = portal_with_lists().await;
    let companies = p.company_ids(2);
    let r = p
        .json(
            "crm.calllist.update",
            &p.token(ADMIN),
            json!({"LIST_ID": list, "ENTITY_TYPE": "COMPANY", "ENTITIES": companies}),
        )
        .await;
    r.assert_error(400, "ENTITY_TYPE_ERROR", "Discrepancy between the type of call participants and incoming type");
}

/// reference 1.1 step 9 (error table row 7): an unknown form, and `0`, are refused; nothing is written.
#[tokio::test]
async fn update_with_an_unknown_webform_is_refused_and_writes_nothing() {
    let (p, list, _) = portal_with_lists().await;
    let before = p.sb.list(list).unwrap();
    let ids = p.contact_ids(6);
    for form in [json!(9999), json!(0), json!("9999")] {
        let r = p
            .json(
                "crm.calllist.update",
                &p.token(ADMIN),
                json!({"LIST_ID": list, "ENTITY_TYPE": "CONTACT", "ENTITIES": [ids[4], ids[5]], "WEBFORM_ID": form}),
            )
            .await;
        r.assert_error(400, "WEBFORM_ERROR", "Incorrect webform id");
    }
    let after = p.sb.list(list).unwrap();
    assert_eq!((after.members, after.webform_id), (before.members, before.webform_id));
}

/// reference 1.1 step 9: any form row is accepted, inactive or of another type.
#[tokio::test]
async fn update_accepts_inactive_and_non_default_forms() {
    let (p, list, _) = portal_with_lists().await;
    let ids = p.contact_ids(2);
    let inactive = p.sb.webforms().iter().find(|f| !f.active).map(|f| f.id).unwrap();
    let other_type = p.sb.webforms().iter().find(|f| !f.default_type).map(|f| f.id).unwrap();
    for form in [inactive, other_type] {
        let r = p
            .json(
                "crm.calllist.update",
                &p.token(ADMIN),
                json!({"LIST_ID": list, "ENTITY_TYPE": "CONTACT", "ENTITIES": ids, "WEBFORM_ID": form}),
            )
            .await;
        assert_eq!(r.assert_ok(), &json!(true));
        assert_eq!(p.sb.list(list).unwrap().webform_id, Some(form));
    }
}

/// reference 1.1 step 9; crm-calllist-update.md "If the WEBFORM_ID field is not provided ... it will be cleared".
#[tokio::test]
async fn update_without_webform_id_clears_the_form() {
    let (p, list, _) = portal_with_lists().await;
    assert_eq!(p.sb.list(list).unwrap().webform_id, Some(1));
    let ids = p.sb.list(list).unwrap().member_ids();
    let r = p
        .json(
            "crm.calllist.update",
            &p.token(ADMIN),
            json!({"LIST_ID": list, "ENTITY_TYPE": "CONTACT", "ENTITIES": ids}),
        )
        .await;
    assert_eq!(r.assert_ok(), &json!(true));
    assert_eq!(p.sb.list(list).unwrap().webform_id, None);
}

/// reference 1.1 step 9: JSON `null` clears the form too.
#[tokio::test]
async fn update_with_a_null_webform_id_clears_the_form() {
    let (p, list, _) = portal_with_lists().await;
    let ids = p.sb.list(list).unwrap().member_ids();
    let r = p
        .json(
            "crm.calllist.update",
            &p.token(ADMIN),
            json!({"LIST_ID": list, "ENTITY_TYPE": "CONTACT", "ENTITIES": ids, "WEBFORM_ID": null}),
        )
        .await;
    assert_eq!(r.assert_ok(), &json!(true));
    assert_eq!(p.sb.list(list).unwrap().webform_id, None);
}

/// reference 1.1 "The first failing step wins": requests that break two rules get the earlier rule's error.
#[tokio::test]
async fn update_reports_the_first_broken_rule_in_the_portals_order() {
    let (p, list, companies) = portal_with_lists().await;
    let t = p.token(ADMIN);
    let ids = p.contact_ids(2);
    // step 2 before step 3
    p.json("crm.calllist.update", &t, json!({"LIST_ID": list, "ENTITY_TYPE": "LEAD", "ENTITIES": "x"}))
        .await
        .assert_error(400, "ENTITY_TYPE_ERROR", "EntityType is incorrect");
    // step 3 before step 6
    p.json("crm.calllist.update", &t, json!({"LIST_ID": 99_999, "ENTITY_TYPE": "CONTACT", "ENTITIES": 7}))
        .await
        .assert_error(400, "ENTITIES_ERROR", "Entities is not array");
    // step 4 (existence) before step 5 (type permission)
    let m = p.token(MANAGER_COMPANIES);
    p.json("crm.calllist.update", &m, json!({"LIST_ID": list, "ENTITY_TYPE": "CONTACT", "ENTITIES": [999_999]}))
        .await
        .assert_error(400, "ENTITIES_ERROR", "Incorrect entities id");
    // step 5 before step 6
    p.json("crm.calllist.update", &m, json!({"LIST_ID": 99_999, "ENTITY_TYPE": "CONTACT", "ENTITIES": ids}))
        .await
        .assert_error(403, "ACCESS_ERROR", "Access Denied");
    // step 6 before step 9
    p.json(
        "crm.calllist.update",
        &t,
        json!({"LIST_ID": 99_999, "ENTITY_TYPE": "CONTACT", "ENTITIES": ids, "WEBFORM_ID": 9999}),
    )
    .await
    .assert_error(400, "LIST_ID_ERROR", "Incorrect list id or access denied");
    // step 7 before step 9
    p.json(
        "crm.calllist.update",
        &t,
        json!({"LIST_ID": companies, "ENTITY_TYPE": "CONTACT", "ENTITIES": ids, "WEBFORM_ID": 9999}),
    )
    .await
    .assert_error(400, "ENTITY_TYPE_ERROR", "Discrepancy between the type of call participants and incoming type");
    // company IDs sent as CONTACT usually fail at step 4 already
    let unknown_contact = 999_999u64;
    p.json(
        "crm.calllist.update",
        &t,
        json!({"LIST_ID": companies, "ENTITY_TYPE": "CONTACT", "ENTITIES": [unknown_contact]}),
    )
    .await
    .assert_error(400, "ENTITIES_ERROR", "Incorrect entities id");
}

/// reference 1.1 step 8: IDs the caller may not read are dropped silently; the answer is still `true`.
#[tokio::test]
async fn update_drops_unreadable_ids_silently() {
    let (p, list, _) = portal_with_lists().await;
    let ids = p.contact_ids(8);
    p.sb.deny(MANAGER_BOTH, EntityKind::Contact, ids[6]).unwrap();
    let r = p
        .json(
            "crm.calllist.update",
            &p.token(MANAGER_BOTH),
            json!({"LIST_ID": list, "ENTITY_TYPE": "CONTACT", "ENTITIES": [ids[0], ids[6], ids[7]]}),
        )
        .await;
    assert_eq!(r.assert_ok(), &json!(true));
    assert_eq!(p.sb.list(list).unwrap().member_ids(), vec![ids[0], ids[7]]);
}

/// reference 1.1 "Items hidden from the calling user ... are neither reported nor deleted".
#[tokio::test]
async fn update_keeps_members_hidden_from_the_caller() {
    let (p, list, _) = portal_with_lists().await;
    let ids = p.contact_ids(5);
    p.sb.deny(MANAGER_BOTH, EntityKind::Contact, ids[1]).unwrap();
    p.sb.delete_contact(ids[2]);
    let r = p
        .json(
            "crm.calllist.update",
            &p.token(MANAGER_BOTH),
            json!({"LIST_ID": list, "ENTITY_TYPE": "CONTACT", "ENTITIES": [ids[4]]}),
        )
        .await;
    assert_eq!(r.assert_ok(), &json!(true));
    let mut stored = p.sb.list(list).unwrap().member_ids();
    stored.sort();
    assert_eq!(stored, vec![ids[1], ids[2], ids[4]], "hidden and deleted members stay stored");
    assert_eq!(p.sb.list_members_visible_to(list, MANAGER_BOTH), vec![ids[4]]);
}

/// reference 1.1 steps 8 and 10: kept members keep their status, new ones get `IN_WORK` after them.
#[tokio::test]
async fn update_appends_new_members_in_work_after_the_kept_ones() {
    let (p, list, _) = portal_with_lists().await;
    let ids = p.contact_ids(6);
    p.sb.set_member_status(list, ids[1], "SUCCESS").unwrap();
    let r = p
        .json(
            "crm.calllist.update",
            &p.token(ADMIN),
            json!({"LIST_ID": list, "ENTITY_TYPE": "CONTACT", "ENTITIES": [ids[5], ids[1], ids[0], ids[4]]}),
        )
        .await;
    assert_eq!(r.assert_ok(), &json!(true));
    let l = p.sb.list(list).unwrap();
    let got: Vec<(u64, &str)> = l.members.iter().map(|m| (m.element_id, m.status.as_str())).collect();
    // loaded order is STATUS_ID then RANK: IN_WORK (ids[0]) before SUCCESS (ids[1]); then the new ones in request order
    assert_eq!(got, vec![(ids[0], "IN_WORK"), (ids[1], "SUCCESS"), (ids[5], "IN_WORK"), (ids[4], "IN_WORK")]);
}

/// reference 1.1 pitfall: a lower-case or abbreviated `ENTITY_TYPE` passes step 2 and fails as a PHP error.
#[tokio::test]
async fn update_with_a_lower_case_entity_type_is_a_generic_failure() {
    let (p, list, _) = portal_with_lists().await;
    let before = p.sb.list(list).unwrap();
    let ids = p.contact_ids(5);
    for t in ["contact", " CONTACT", "C"] {
        let r = p
            .json(
                "crm.calllist.update",
                &p.token(ADMIN),
                json!({"LIST_ID": list, "ENTITY_TYPE": t, "ENTITIES": [ids[4]]}),
            )
            .await;
        assert_eq!(r.status, 500, "{t:?}: {}", r.text);
        assert_ne!(r.error(), "ENTITY_TYPE_ERROR");
    }
    assert_eq!(p.sb.list(list).unwrap().members, before.members);
}

/// reference 1.1 pitfall: a present, non-numeric `WEBFORM_ID` (form `WEBFORM_ID=`) is a PHP TypeError.
#[tokio::test]
async fn update_with_an_empty_form_webform_id_is_a_generic_failure() {
    let (p, list, _) = portal_with_lists().await;
    let ids = p.contact_ids(2);
    let body = format!("LIST_ID={list}&ENTITY_TYPE=CONTACT&ENTITIES[]={}&ENTITIES[]={}&WEBFORM_ID=", ids[0], ids[1]);
    let r = p.form("crm.calllist.update", &p.token(ADMIN), &body).await;
    assert_eq!(r.status, 500, "{}", r.text);
    assert_eq!(p.sb.list(list).unwrap().webform_id, Some(1), "nothing written");
}

/// reference 1.1 "No size limit on ENTITIES": a 1,000-member replacement in one call.
#[tokio::test]
async fn update_takes_a_thousand_members_in_one_call() {
    let mut cfg = small_config();
    cfg.seed.contacts = 1_200;
    let p = start_with(cfg).await;
    let list = p.sb.add_list(EntityKind::Contact, &p.contact_ids(10), None, ADMIN);
    let ids: Vec<u64> = p.contact_ids(1_100).into_iter().skip(100).collect();
    let r = p
        .json(
            "crm.calllist.update",
            &p.token(ADMIN),
            json!({"LIST_ID": list, "ENTITY_TYPE": "CONTACT", "ENTITIES": ids}),
        )
        .await;
    assert_eq!(r.assert_ok(), &json!(true));
    assert_eq!(p.sb.list(list).unwrap().member_ids(), ids);
}

/// reference 1.1 step 3: a JSON object counts as an array (its values are the IDs).
#[tokio::test]
async fn update_takes_entities_as_a_json_object() {
    let (p, list, _) = portal_with_lists().await;
    let ids = p.contact_ids(5);
    let r = p
        .json(
            "crm.calllist.update",
            &p.token(ADMIN),
            json!({"LIST_ID": list, "ENTITY_TYPE": "CONTACT", "ENTITIES": {"a": ids[3], "b": ids[4]}}),
        )
        .await;
    assert_eq!(r.assert_ok(), &json!(true));
    assert_eq!(p.sb.list(list).unwrap().member_ids(), vec![ids[3], ids[4]]);
}

/// reference 1.1 step 9: `WEBFORM_ID` must name a form that exists. A form deleted in the portal (its lists
/// still naming it) refuses every update that sends it again, and nothing is written; leaving it out clears
/// the form, as always. `crm.calllist.add` refuses it too (1.3 step 6).
#[tokio::test]
async fn a_deleted_web_form_refuses_the_updates_that_resend_it() {
    let p = start().await;
    let t = p.token(ADMIN);
    let form = p.sb.add_webform("Скрипт", true);
    let ids = p.contact_ids(3);
    let list = p.sb.add_list(EntityKind::Contact, &ids[..2], Some(form), ADMIN);
    assert!(p.sb.delete_webform(form));
    assert!(!p.sb.delete_webform(form), "deleted once");
    assert_eq!(p.sb.list(list).unwrap().webform_id, Some(form), "the list still names the form");
    let got = p.json("crm.calllist.get", &t, json!({"ID": list})).await;
    assert_eq!(got.assert_ok()["WEBFORM_ID"], json!(form.to_string()));
    let listed = p.json("crm.webform.list", &t, json!({"GET_INACTIVE": "Y"})).await;
    assert!(listed.assert_ok().as_array().unwrap().iter().all(|f| f["ID"] != json!(form.to_string())));
    let resend = json!({"LIST_ID": list, "ENTITY_TYPE": "CONTACT", "ENTITIES": ids, "WEBFORM_ID": form});
    p.json("crm.calllist.update", &t, resend).await.assert_error(400, "WEBFORM_ERROR", "Incorrect webform id");
    assert_eq!(p.sb.list(list).unwrap().member_ids(), ids[..2], "nothing written");
    let add = json!({"ENTITY_TYPE": "CONTACT", "ENTITIES": ids, "WEBFORM_ID": form});
    p.json("crm.calllist.add", &t, add).await.assert_error(400, "WEBFORM_ERROR", "Incorrect webform id");
    let cleared = json!({"LIST_ID": list, "ENTITY_TYPE": "CONTACT", "ENTITIES": ids});
    p.json("crm.calllist.update", &t, cleared).await.assert_ok();
    assert_eq!(p.sb.list(list).unwrap().webform_id, None);
}

/// The control API deletes a form too; `quirks.deleted_webform_clears_lists` makes the portal forget the
/// form in the lists that named it (what the portal does there is not in the reference).
#[tokio::test]
async fn deleting_a_form_over_http_and_the_switch_that_clears_lists() {
    use b24_calllist::sandbox::{Quirks, SandboxConfig};
    let quirks = Quirks { deleted_webform_clears_lists: true, ..Quirks::default() };
    let p = start_with(SandboxConfig { quirks, ..small_config() }).await;
    let form = p.sb.add_webform("Анкета", true);
    let list = p.sb.add_list(EntityKind::Contact, &p.contact_ids(1), Some(form), ADMIN);
    let r = p.http.delete(format!("{}_sandbox/webforms/{form}", p.sb.portal_url())).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(p.sb.webforms().iter().all(|f| f.id != form));
    assert_eq!(p.sb.list(list).unwrap().webform_id, None);
    let again = p.http.delete(format!("{}_sandbox/webforms/{form}", p.sb.portal_url())).send().await.unwrap();
    assert_eq!(again.status(), 404);
}
