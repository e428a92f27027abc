//! Refreshing single-use tokens: once per portal however many callers, and never losing the portal when
//! instances race.

use std::sync::Arc;

use b24_calllist::bitrix::{Auth, BitrixError, RateLimit, TokenOwner};
use b24_calllist::domain::PortalStatus;
use futures_util::future::join_all;

use super::{Fixture, client_for, fast_config, install_portal, unlimited};
use crate::helpers::{TestDb, keyring};

#[tokio::test]
async fn fifty_concurrent_calls_on_an_expired_token_cause_exactly_one_refresh() {
    let f = Fixture::start(unlimited(), RateLimit::UNLIMITED).await;
    f.portal().user_current().await.expect("a working token first");
    assert!(f.sandbox.expire_access_tokens(None) > 0);

    let results = join_all((0..50).map(|_| async { f.portal().user_current().await })).await;
    for r in &results {
        assert!(r.is_ok(), "every call must succeed after the refresh: {r:?}");
    }
    assert_eq!(f.sandbox.oauth_stats().refresh_grants, 1, "exactly one refresh reached the OAuth server");
    assert_eq!(f.sandbox.oauth_stats().rejected_refresh_reuse, 0, "no dead refresh token was spent");
    assert_eq!(f.bitrix.tokens.stats.refreshed(), 1);
    assert_eq!(f.store.portal(&f.member_id).await.unwrap().unwrap().status, PortalStatus::Active);
}

#[tokio::test]
async fn a_refresh_happens_only_on_expired_token_never_ahead_of_time() {
    let f = Fixture::start(unlimited(), RateLimit::UNLIMITED).await;
    for _ in 0..5 {
        f.portal().user_current().await.unwrap();
    }
    assert_eq!(f.sandbox.oauth_stats().refresh_grants, 0);
}

/// Two app instances, each with its own pool and refresher, share one store: 200 times the token expires
/// and both race to renew it. The single-use refresh token is spent once each time, and the portal stays.
async fn two_instances_race_expiries(db: TestDb, rounds: usize) {
    let sandbox = b24_calllist::sandbox::Sandbox::start(unlimited()).await.unwrap();
    let keys = keyring();
    let store_a = Arc::new(db.store(&keys).await);
    let store_b = Arc::new(db.store(&keys).await);
    let member_id = install_portal(&sandbox, &store_a).await;
    let a = client_for(&sandbox, store_a.clone(), fast_config(RateLimit::UNLIMITED), None);
    let b = client_for(&sandbox, store_b.clone(), fast_config(RateLimit::UNLIMITED), None);
    let owner = TokenOwner::Portal(member_id.clone());
    let endpoint = sandbox.rest_url();
    for round in 0..rounds {
        sandbox.expire_access_tokens(None);
        let calls = (0..3).flat_map(|_| [&a, &b]).map(|client| {
            let caller = client.caller(member_id.clone(), endpoint.clone(), Auth::Stored(owner.clone()));
            async move { caller.user_current().await }
        });
        for r in join_all(calls).await {
            if let Err(e) = r {
                panic!("round {round}: a call failed: {e}");
            }
        }
    }
    let stats = sandbox.oauth_stats();
    assert_eq!(stats.rejected_refresh_reuse, 0, "a spent refresh token was used again");
    assert_eq!(stats.refresh_grants, rounds as u64, "one refresh per expiry");
    assert_eq!(a.tokens.stats.refreshed() + b.tokens.stats.refreshed(), rounds as u64);
    assert_eq!(
        store_b.portal(&member_id).await.unwrap().unwrap().status,
        PortalStatus::Active,
        "the portal is not lost"
    );
}

/// 200 expiries in every run; the benchmark's ten-minute race is `B24_RACE_ROUNDS=…` on request.
#[tokio::test]
async fn two_instances_on_postgres_race_200_expiries_without_losing_the_portal() {
    let rounds = std::env::var("B24_RACE_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(200);
    if let Some(db) = TestDb::postgres().await {
        let started = std::time::Instant::now();
        two_instances_race_expiries(db, rounds).await;
        eprintln!("race: {rounds} expiries raced by two instances in {:?}", started.elapsed());
    }
}

#[tokio::test]
async fn two_instances_on_sqlite_race_expiries_without_losing_the_portal() {
    two_instances_race_expiries(TestDb::sqlite(), 50).await;
}

#[tokio::test]
async fn a_dead_refresh_token_marks_the_portal_for_reauthorisation() {
    let f = Fixture::start(unlimited(), RateLimit::UNLIMITED).await;
    // Spend the stored refresh token behind the app's back, as a lost race with a crashed worker would.
    let stored = f.store.tokens(&f.member_id).await.unwrap().unwrap();
    super::oauth_client(&f.sandbox).refresh(&stored.tokens.refresh_token).await.unwrap();
    f.sandbox.expire_access_tokens(None);

    let err = f.portal().user_current().await.unwrap_err();
    assert!(matches!(err, BitrixError::NeedsReauthorisation { .. }), "got {err}");
    assert!(err.to_string().contains("invalid_grant"), "the reason names the refusal: {err}");
    let portal = f.store.portal(&f.member_id).await.unwrap().unwrap();
    assert_eq!(portal.status, PortalStatus::NeedsReauthorisation);
    assert!(portal.status_reason.contains("invalid_grant"));
    // Later calls do not keep spending the dead token while the portal waits for re-authorisation.
    let again = f.portal().user_current().await.unwrap_err();
    assert!(matches!(again, BitrixError::NeedsReauthorisation { .. }), "got {again}");
    assert_eq!(f.sandbox.oauth_stats().rejected_refresh_reuse, 1);
}
