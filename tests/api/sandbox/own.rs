//! The seeded manager at Bitrix24's "own" permission level (docs/sandbox.md "Seeded portal"): they read only
//! the contacts and companies they are responsible for (`ASSIGNED_BY_ID`), in every CRM read and in the silent
//! drop of `crm.calllist.update` (reference 1.1 steps 6 and 8, 1.3 step 5, 1.4 step 4, 2.2).

use b24_calllist::sandbox::{EntityKind, ListSeed};
use serde_json::json;

use super::*;

fn with_lists() -> SandboxConfig {
    let mut config = small_config();
    config.seed.lists = vec![
        ListSeed { entity_type: EntityKind::Contact, members: 25 },
        ListSeed { entity_type: EntityKind::Company, members: 10 },
        ListSeed { entity_type: EntityKind::Contact, members: 2 },
    ];
    config
}

fn responsible(p: &TestPortal, kind: EntityKind, id: u64) -> u64 {
    match kind {
        EntityKind::Contact => p.sb.contact(id).unwrap().assigned_by_id,
        EntityKind::Company => p.sb.companies().into_iter().find(|c| c.id == id).unwrap().assigned_by_id,
    }
}

/// The seed makes some members of every seeded list the manager's own and some not, and the manager reads
/// exactly their own through `crm.calllist.items.get`.
#[tokio::test]
async fn the_own_manager_sees_their_part_of_every_seeded_list() {
    let p = start_with(with_lists()).await;
    let u = p.sb.users().into_iter().find(|u| u.id == MANAGER_OWN).expect("a sixth user");
    assert!(u.permissions.own_contacts_only && u.permissions.own_companies_only && !u.permissions.admin);
    let t = p.token(MANAGER_OWN);
    for list in p.sb.lists() {
        let members = list.member_ids();
        let own: Vec<u64> =
            members.iter().copied().filter(|id| responsible(&p, list.entity_type, *id) == MANAGER_OWN).collect();
        assert!(!own.is_empty() && own.len() < members.len(), "list {}: {own:?} of {members:?}", list.id);
        assert_eq!(responsible(&p, list.entity_type, members[0]), MANAGER_OWN, "list {}", list.id);
        assert_ne!(responsible(&p, list.entity_type, members[1]), MANAGER_OWN, "list {}", list.id);
        assert_eq!(p.sb.list_members_visible_to(list.id, MANAGER_OWN), own);
        let r = p.json("crm.calllist.items.get", &t, json!({"LIST_ID": list.id})).await;
        let got: Vec<u64> = r.assert_ok().as_array().unwrap().iter().map(|i| i["ID"].as_u64().unwrap()).collect();
        assert_eq!(got, own, "list {}", list.id);
    }
}

/// reference 2.2 "Only items the user may read are returned": `crm.item.list` gives the manager their own
/// contacts and companies, with a `total` to match.
#[tokio::test]
async fn item_list_gives_the_own_manager_their_items_only() {
    let p = start_with(with_lists()).await;
    let t = p.token(MANAGER_OWN);
    let own_contacts: Vec<u64> =
        p.sb.contacts().iter().filter(|c| c.assigned_by_id == MANAGER_OWN).map(|c| c.id).collect();
    let own_companies: Vec<u64> =
        p.sb.companies().iter().filter(|c| c.assigned_by_id == MANAGER_OWN).map(|c| c.id).collect();
    assert!(!own_contacts.is_empty() && own_contacts.len() < p.sb.contacts().len());
    for (type_id, own) in [(3, &own_contacts), (4, &own_companies)] {
        let r = p.json("crm.item.list", &t, json!({"entityTypeId": type_id, "select": ["id", "assignedById"]})).await;
        let items = r.assert_ok()["items"].as_array().unwrap().clone();
        let ids: Vec<u64> = items.iter().map(|i| i["id"].as_u64().unwrap()).collect();
        assert_eq!(&ids, own, "entityTypeId {type_id}");
        assert_eq!(r.body["total"], json!(own.len()));
        assert!(items.iter().all(|i| i["assignedById"] == json!(MANAGER_OWN)));
    }
    let r = p.json("crm.item.list", &p.token(MANAGER_BOTH), json!({"entityTypeId": 3, "start": -1})).await;
    assert_eq!(r.assert_ok()["items"].as_array().unwrap().len(), 50, "managers at the full level read all");
}

/// reference 1.1 steps 6 and 8: the manager's update keeps the members they cannot see, adds their own and
/// drops the others' silently (the call still answers `true`); 1.3 step 5: a new list of others' contacts
/// only is refused.
#[tokio::test]
async fn the_own_manager_cannot_add_others_contacts_to_a_list() {
    let p = start().await;
    let mine: Vec<u64> = p.sb.contacts().iter().filter(|c| c.assigned_by_id == MANAGER_OWN).map(|c| c.id).collect();
    let theirs: Vec<u64> = p.sb.contacts().iter().filter(|c| c.assigned_by_id != MANAGER_OWN).map(|c| c.id).collect();
    let list = p.sb.add_list(EntityKind::Contact, &[mine[0], theirs[0]], None, ADMIN);
    let t = p.token(MANAGER_OWN);
    let r = p
        .json(
            "crm.calllist.update",
            &t,
            json!({"LIST_ID": list, "ENTITY_TYPE": "CONTACT", "ENTITIES": [mine[0], mine[1], theirs[1]]}),
        )
        .await;
    assert_eq!(r.assert_ok(), &json!(true));
    let mut stored = p.sb.list(list).unwrap().member_ids();
    stored.sort_unstable();
    let mut want = vec![mine[0], theirs[0], mine[1]];
    want.sort_unstable();
    assert_eq!(stored, want, "the hidden member stays, the other's contact is not added");
    assert_eq!(p.sb.list_members_visible_to(list, MANAGER_OWN), vec![mine[0], mine[1]]);

    let r = p.json("crm.calllist.add", &t, json!({"ENTITY_TYPE": "CONTACT", "ENTITIES": [theirs[2]]})).await;
    r.assert_error(403, "ACCESS_ERROR", "You don't have access to these entities");
    let r = p.json("crm.calllist.add", &t, json!({"ENTITY_TYPE": "CONTACT", "ENTITIES": [theirs[2], mine[2]]})).await;
    let id = r.assert_ok().as_u64().unwrap();
    assert_eq!(p.sb.list(id).unwrap().member_ids(), vec![mine[2]]);
}

/// The portal page's user switch lists the manager with what they may read.
#[tokio::test]
async fn the_portal_page_offers_the_own_manager() {
    let p = start().await;
    let page = p.http.get(p.sb.portal_url()).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("data-user-id=\"6\""), "{page}");
    assert!(page.contains("(own contacts+companies)"), "{page}");
}
