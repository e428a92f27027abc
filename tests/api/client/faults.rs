//! Faults: 503s, 500s, dropped connections and spurious `expired_token` between the app and the portal.
//! Repeatable calls are repeated until they land; `crm.calllist.add` is never repeated blindly.

use b24_calllist::bitrix::methods::calllist::{FormChoice, NewList, Update};
use b24_calllist::bitrix::{BitrixError, RateLimit};
use b24_calllist::domain::{EntityId, EntityType, ListId, Membership, WebformId};
use b24_calllist::sandbox::{EntityKind, FaultKind, FaultsConfig};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};

use super::{Fixture, unlimited};

fn ids(v: &[u64]) -> Vec<EntityId> {
    v.iter().map(|x| EntityId::new(*x).unwrap()).collect()
}

#[tokio::test]
async fn a_thousand_updates_under_twenty_percent_faults_all_end_exactly_as_requested() {
    let f = Fixture::start(unlimited(), RateLimit::UNLIMITED).await;
    let contacts: Vec<u64> = f.sandbox.contacts().iter().map(|c| c.id).collect();
    let forms: Vec<u64> = f.sandbox.webforms().iter().map(|w| w.id).collect();
    let list_id = f.sandbox.add_list(EntityKind::Contact, &contacts[..10], None, 1);
    f.sandbox.set_faults(FaultsConfig {
        rate: 0.2,
        kinds: vec![FaultKind::QueryLimit, FaultKind::ServerError, FaultKind::Drop, FaultKind::ExpiredToken],
        seed: 7,
        ..FaultsConfig::default()
    });
    let caller = f.portal();
    let mut rng = StdRng::seed_from_u64(42);
    for round in 0..1000 {
        let size = rng.random_range(1..=30);
        let members: Vec<u64> = contacts.choose_multiple(&mut rng, size).copied().collect();
        let form = if rng.random_bool(0.3) {
            FormChoice::Clear
        } else {
            FormChoice::Set(WebformId::new(*forms.choose(&mut rng).unwrap()).unwrap())
        };
        let update = Update {
            list: ListId::new(list_id).unwrap(),
            entity_type: EntityType::Contact,
            members: Membership::new(ids(&members)).unwrap(),
            form,
        };
        if let Err(e) = caller.calllist_update(&update).await {
            panic!("round {round}: the update failed under faults: {e}");
        }
        let list = f.sandbox.list(list_id).unwrap();
        let mut got = list.member_ids();
        let mut want = members.clone();
        got.sort_unstable();
        want.sort_unstable();
        assert_eq!(got, want, "round {round}: the members are not the ones requested");
        assert_eq!(
            list.webform_id,
            form.webform().map(|w| w.get()),
            "round {round}: the form is not the one requested"
        );
    }
    let faulted = f.sandbox.calls_of("crm.calllist.update").iter().filter(|c| c.status != 200).count();
    assert!(faulted > 100, "about a fifth of the calls must have been hit, got {faulted}");
}

#[tokio::test]
async fn an_add_whose_outcome_is_unknown_is_reported_and_not_repeated() {
    let f = Fixture::start(unlimited(), RateLimit::UNLIMITED).await;
    let contacts: Vec<u64> = f.sandbox.contacts().iter().take(3).map(|c| c.id).collect();
    let lists_before = f.sandbox.lists().len();
    f.sandbox.inject_once("crm.calllist.add", FaultKind::Drop);
    let new =
        NewList { entity_type: EntityType::Contact, members: Membership::new(ids(&contacts)).unwrap(), webform: None };
    let err = f.portal().calllist_add(&new).await.unwrap_err();
    assert!(matches!(err, BitrixError::Ambiguous { .. }), "got {err}");
    assert!(err.to_string().contains("not repeated"), "the message says why: {err}");
    assert_eq!(f.sandbox.calls_of("crm.calllist.add").len(), 1, "the add was sent exactly once");
    assert!(f.sandbox.lists().len() <= lists_before + 1, "no second list was created");
}

#[tokio::test]
async fn an_add_refused_by_the_bucket_is_retried_because_nothing_ran() {
    let f = Fixture::start(unlimited(), RateLimit::UNLIMITED).await;
    let contacts: Vec<u64> = f.sandbox.contacts().iter().take(2).map(|c| c.id).collect();
    let before = f.sandbox.lists().len();
    f.sandbox.inject_once("crm.calllist.add", FaultKind::QueryLimit);
    let new =
        NewList { entity_type: EntityType::Contact, members: Membership::new(ids(&contacts)).unwrap(), webform: None };
    let id = f.portal().calllist_add(&new).await.expect("QUERY_LIMIT_EXCEEDED means nothing ran: safe to send again");
    assert_eq!(f.sandbox.lists().len(), before + 1, "exactly one list was created");
    assert_eq!(f.sandbox.list(id.get()).unwrap().member_ids().len(), 2);
}
