//! Random `crm.calllist.update` requests, valid and invalid, against a small model of reference
//! (bitrix24-behaviour.md) 1.1: after each request the answer and the stored list must match the model.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use b24_calllist::sandbox::{EntityKind, Permissions};
use proptest::prelude::*;
use serde_json::{Map, json};

use super::*;

/// Contacts 1..=12 exist except 11 (deleted); 13 and 14 never existed. The manager may not read 3 and 4.
const DELETED: u64 = 11;
const DENIED: [u64; 2] = [3, 4];

#[derive(Clone, Debug)]
struct Req {
    user: u64,
    list_id: Option<Value>,
    entity_type: Option<&'static str>,
    entities: Option<Value>,
    webform: Option<Value>,
}

impl Req {
    fn body(&self) -> Value {
        let mut m = Map::new();
        if let Some(v) = &self.list_id {
            m.insert("LIST_ID".into(), v.clone());
        }
        if let Some(v) = self.entity_type {
            m.insert("ENTITY_TYPE".into(), json!(v));
        }
        if let Some(v) = &self.entities {
            m.insert("ENTITIES".into(), v.clone());
        }
        if let Some(v) = &self.webform {
            m.insert("WEBFORM_ID".into(), v.clone());
        }
        Value::Object(m)
    }
}

/// The model: the stored members with their ranks (all `IN_WORK`), and the form.
#[derive(Clone, Debug, PartialEq)]
struct Model {
    list: u64,
    members: Vec<(u64, i64)>,
    webform: Option<u64>,
    forms: BTreeSet<u64>,
}

fn exists(id: u64) -> bool {
    (1..=12).contains(&id) && id != DELETED
}

fn readable(user: u64, id: u64) -> bool {
    match user {
        ADMIN => true,
        MANAGER_BOTH => !DENIED.contains(&id),
        _ => false,
    }
}

fn id_of(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// What the portal must answer, and the model after it: the rules of reference 1.1, in order.
fn expect(m: &Model, r: &Req) -> (Result<(), &'static str>, Model) {
    let fail = |code| (Err(code), m.clone());
    let (Some(list_id), Some(et), Some(ents)) = (&r.list_id, r.entity_type, &r.entities) else {
        return fail("ERROR_ARGUMENT");
    };
    let kind = match et {
        "CONTACT" => EntityKind::Contact,
        "COMPANY" => EntityKind::Company,
        _ => return fail("ENTITY_TYPE_ERROR"),
    };
    let Value::Array(ents) = ents else { return fail("ENTITIES_ERROR") };
    let ids: Vec<Option<u64>> = ents.iter().map(id_of).collect();
    let distinct: BTreeSet<u64> = ids.iter().flatten().copied().collect();
    let all_exist = kind == EntityKind::Contact && ids.iter().all(|i| i.is_some_and(exists));
    if ents.is_empty() || !all_exist || distinct.len() != ents.len() {
        // (this portal has no companies, so COMPANY with any ID fails here too)
        return fail("ENTITIES_ERROR");
    }
    let reads_contacts = r.user == ADMIN || r.user == MANAGER_BOTH;
    if !reads_contacts {
        return fail("ACCESS_ERROR");
    }
    if id_of(list_id) != Some(m.list) {
        return fail("LIST_ID_ERROR");
    }
    let visible: Vec<u64> =
        m.members.iter().map(|(id, _)| *id).filter(|id| exists(*id) && readable(r.user, *id)).collect();
    if !m.members.is_empty() && visible.is_empty() {
        return fail("LIST_ID_ERROR");
    }
    let requested: Vec<u64> = ids.into_iter().flatten().collect();
    let webform = match &r.webform {
        None | Some(Value::Null) => None,
        Some(v) => match id_of(v) {
            Some(f) if m.forms.contains(&f) => Some(f),
            _ => return fail("WEBFORM_ERROR"),
        },
    };
    let mut next = m.clone();
    next.webform = webform;
    let mut rank = 0;
    for (id, r_) in next.members.iter_mut() {
        if visible.contains(id) {
            rank += 10;
            *r_ = rank;
        }
    }
    for id in &requested {
        if !visible.contains(id) && readable(r.user, *id) {
            rank += 10;
            next.members.push((*id, rank));
        }
    }
    next.members.retain(|(id, _)| !visible.contains(id) || requested.contains(id));
    // the model keeps members in rank order, as the portal reads them
    next.members.sort_by_key(|(id, r)| (*r, *id));
    (Ok(()), next)
}

fn id_value() -> impl Strategy<Value = Value> {
    (1u64..=14, any::<bool>()).prop_map(|(id, as_string)| if as_string { json!(id.to_string()) } else { json!(id) })
}

fn request() -> impl Strategy<Value = Req> {
    let user = prop_oneof![Just(ADMIN), Just(MANAGER_BOTH), Just(MANAGER_COMPANIES)];
    let list_id = prop_oneof![4 => Just(Some(json!(1))), 1 => Just(Some(json!("1"))), 1 => Just(Some(json!(999))), 1 => Just(None)];
    let entity_type =
        prop_oneof![6 => Just(Some("CONTACT")), 1 => Just(Some("COMPANY")), 1 => Just(Some("DEAL")), 1 => Just(None)];
    let entities = prop_oneof![
        8 => prop::collection::vec(id_value(), 0..6).prop_map(|v| Some(Value::Array(v))),
        1 => Just(Some(json!(5))),
        1 => Just(None),
    ];
    let webform = prop_oneof![3 => Just(None), 1 => Just(Some(Value::Null)), 3 => (1u64..=5).prop_map(|f| Some(json!(f))), 1 => Just(Some(json!(999))), 1 => Just(Some(json!(0)))];
    (user, list_id, entity_type, entities, webform).prop_map(|(user, list_id, entity_type, entities, webform)| Req {
        user,
        list_id,
        entity_type,
        entities,
        webform,
    })
}

struct World {
    rt: tokio::runtime::Runtime,
    portal: TestPortal,
    tokens: std::collections::HashMap<u64, String>,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let portal = rt.block_on(async {
            let mut cfg = small_config();
            cfg.seed.contacts = 12;
            cfg.seed.companies = 0;
            cfg.seed.active_webforms = 3;
            cfg.seed.inactive_webforms = 1;
            start_with(cfg).await
        });
        portal.sb.delete_contact(DELETED);
        let mut deny = Permissions::manager(true, true);
        deny.deny_contacts = DENIED.into_iter().collect();
        portal.sb.set_permissions(MANAGER_BOTH, deny).unwrap();
        portal.sb.add_list(EntityKind::Contact, &[1, 2, 3, DELETED], Some(1), ADMIN);
        let tokens = [ADMIN, MANAGER_BOTH, MANAGER_COMPANIES].into_iter().map(|u| (u, portal.token(u))).collect();
        World { rt, portal, tokens }
    })
}

fn stored(p: &TestPortal) -> (Vec<(u64, i64)>, Option<u64>) {
    let l = p.sb.list(1).unwrap();
    let mut members: Vec<(u64, i64)> = l.members.iter().map(|m| (m.element_id, m.rank)).collect();
    members.sort_by_key(|(id, r)| (*r, *id));
    (members, l.webform_id)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    /// reference 1.1 (all steps): a sequence of random requests keeps the portal and the model in step.
    #[test]
    fn random_updates_follow_the_model(reqs in prop::collection::vec(request(), 1..8)) {
        let w = world();
        let p = &w.portal;
        // each case starts from the same list
        p.sb.set_list_members(1, &[1, 2, 3, DELETED]).unwrap();
        p.sb.set_list_webform(1, Some(1)).unwrap();
        let forms: BTreeSet<u64> = p.sb.webforms().iter().map(|f| f.id).collect();
        let (members, webform) = stored(p);
        let mut model = Model { list: 1, members, webform, forms };
        for r in reqs {
            let (want, next) = expect(&model, &r);
            let reply = w.rt.block_on(p.json("crm.calllist.update", &w.tokens[&r.user], r.body()));
            match want {
                Ok(()) => prop_assert_eq!((reply.status, reply.body["result"].clone()), (200, json!(true)), "{:?} → {}", r, reply.text),
                Err(code) => prop_assert_eq!(reply.error(), code, "{:?} → {}", r, reply.text),
            }
            model = next;
            let (members, webform) = stored(p);
            prop_assert_eq!(&members, &model.members, "members after {:?}", r);
            prop_assert_eq!(webform, model.webform, "form after {:?}", r);
        }
    }
}
