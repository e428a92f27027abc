//! The OAuth server hangs or fails while a manager's expired token is being renewed: the manager gets a
//! typed error within the time the client allows, the stored pair stays as it was, no spent refresh token is
//! ever presented again, and once the server is back the next call refreshes once and works.

use std::sync::Arc;
use std::time::{Duration, Instant};

use b24_calllist::bitrix::{
    Bitrix, BitrixError, OAuthClient, RateLimit, RestClient, TokenManager, TokenOwner, TokenStore,
};
use b24_calllist::domain::StoredTokens;
use b24_calllist::sandbox::OAuthFault;
use b24_calllist::store::Store;
use futures_util::future::join_all;
use secrecy::{ExposeSecret, SecretString};

use super::{Fixture, fast_config, unlimited};

/// How long the OAuth client of these tests waits for the token endpoint.
const OAUTH_TIMEOUT: Duration = Duration::from_secs(2);

fn client_with_oauth_timeout(f: &Fixture, store: Arc<Store>, timeout: Duration) -> Bitrix<Store> {
    let oauth = OAuthClient::new(
        &f.sandbox.oauth_url(),
        f.sandbox.client_id(),
        &SecretString::from(f.sandbox.client_secret().to_owned()),
        true,
        timeout,
    )
    .unwrap();
    Bitrix {
        rest: RestClient::new(fast_config(RateLimit::UNLIMITED)).unwrap(),
        tokens: TokenManager::new(store, oauth),
    }
}

async fn stored(store: &Store, owner: &TokenOwner) -> StoredTokens {
    TokenStore::load(store, owner).await.unwrap().expect("a stored pair")
}

fn same_pair(a: &StoredTokens, b: &StoredTokens) -> bool {
    a.version == b.version
        && a.tokens.access_token.expose_secret() == b.tokens.access_token.expose_secret()
        && a.tokens.refresh_token.expose_secret() == b.tokens.refresh_token.expose_secret()
}

fn is_renewal_timeout(r: &Result<impl std::fmt::Debug, BitrixError>) -> bool {
    matches!(r, Err(BitrixError::RenewalFailed { cause }) if matches!(**cause, BitrixError::Timeout { .. }))
}

/// Five pages of one manager ask at once while the OAuth server hangs: they share one refresh and all get
/// the typed error when the OAuth client gives up (not one after another), the pair stays, and after the
/// server is back one refresh serves the next call.
#[tokio::test]
async fn a_hung_oauth_server_is_reported_within_the_client_s_timeout_and_spends_nothing() {
    let f = Fixture::start(unlimited(), RateLimit::UNLIMITED).await;
    let bitrix = client_with_oauth_timeout(&f, f.store.clone(), OAUTH_TIMEOUT);
    let manager = f.session_of(2).await;
    let caller =
        || bitrix.caller(f.member_id.clone(), f.endpoint.clone(), b24_calllist::bitrix::Auth::Stored(manager.clone()));
    caller().user_current().await.expect("the manager's token works first");
    let before = stored(&f.store, &manager).await;
    f.sandbox.expire_access_tokens(Some(2));
    f.sandbox.inject_oauth(OAuthFault::Hang, None);

    let started = Instant::now();
    let outcomes = join_all((0..5).map(|_| async {
        let r = caller().user_current().await;
        (r, started.elapsed())
    }))
    .await;
    for (r, took) in &outcomes {
        assert!(is_renewal_timeout(r), "a typed renewal failure: {r:?}");
        assert!(*took >= OAUTH_TIMEOUT - Duration::from_millis(100), "the client waited its timeout: {took:?}");
        assert!(*took < OAUTH_TIMEOUT + Duration::from_millis(1500), "bounded by the OAuth timeout: {took:?}");
    }
    let slowest = outcomes.iter().map(|(_, t)| *t).max().unwrap();
    eprintln!(
        "a hung OAuth server: 5 calls answered with RenewalFailed within {slowest:?} (timeout {OAUTH_TIMEOUT:?})"
    );
    assert!(same_pair(&stored(&f.store, &manager).await, &before), "no new pair arrived: the stored one stays");
    let stats = f.sandbox.oauth_stats();
    assert_eq!((stats.refresh_grants, stats.rejected_refresh_reuse), (0, 0));

    f.sandbox.clear_oauth_faults();
    caller().user_current().await.expect("once the server answers, the next call refreshes and works");
    let stats = f.sandbox.oauth_stats();
    assert_eq!(stats.refresh_grants, 1, "one refresh");
    assert_eq!(stats.rejected_refresh_reuse, 0, "no spent refresh token was presented again");
    assert_eq!(stored(&f.store, &manager).await.version, before.version + 1, "the new pair is stored");
}

/// A caller with less time than the refresh needs is released at its own deadline; the refresh goes on
/// without it, bounded by the OAuth client's timeout, and gives the store's lease back when it fails, so
/// another instance refreshes at once when the server is back.
#[tokio::test]
async fn a_caller_is_released_at_its_budget_and_the_failed_refresh_gives_the_lease_back() {
    let f = Fixture::start(unlimited(), RateLimit::UNLIMITED).await;
    let a = client_with_oauth_timeout(&f, f.store.clone(), OAUTH_TIMEOUT);
    let b = client_with_oauth_timeout(&f, f.store.clone(), OAUTH_TIMEOUT);
    let owner = TokenOwner::Portal(f.member_id.clone());
    let before = stored(&f.store, &owner).await;
    f.sandbox.expire_access_tokens(None);
    f.sandbox.inject_oauth(OAuthFault::Hang, None);

    let budget = Duration::from_millis(400);
    let started = Instant::now();
    let r = a
        .caller(f.member_id.clone(), f.endpoint.clone(), b24_calllist::bitrix::Auth::Stored(owner.clone()))
        .with_budget(budget)
        .user_current()
        .await;
    let took = started.elapsed();
    assert!(is_renewal_timeout(&r), "{r:?}");
    assert!(took < budget + Duration::from_millis(500), "released at its budget: {took:?}");
    eprintln!("a caller with a {budget:?} budget was released after {took:?}");

    // The refresh this caller started gives up at the OAuth client's timeout and hands the lease back.
    tokio::time::sleep(OAUTH_TIMEOUT + Duration::from_millis(300) - took.min(OAUTH_TIMEOUT)).await;
    assert!(same_pair(&stored(&f.store, &owner).await, &before), "no new pair arrived: the stored one stays");
    f.sandbox.clear_oauth_faults();
    let started = Instant::now();
    b.caller(f.member_id.clone(), f.endpoint.clone(), b24_calllist::bitrix::Auth::Stored(owner.clone()))
        .user_current()
        .await
        .expect("the other instance refreshes");
    assert!(started.elapsed() < Duration::from_secs(1), "the lease was free: {:?}", started.elapsed());
    let stats = f.sandbox.oauth_stats();
    assert_eq!((stats.refresh_grants, stats.rejected_refresh_reuse), (1, 0));
}

/// The OAuth server's proxy answers 5xx pages, or the connection fails: the same typed renewal failure, the
/// pair kept, and the next call after the fault refreshes once.
#[tokio::test]
async fn an_oauth_server_error_keeps_the_pair_and_the_next_call_refreshes_once() {
    let f = Fixture::start(unlimited(), RateLimit::UNLIMITED).await;
    let manager = f.session_of(2).await;
    for status in [500, 502, 503, 504] {
        let before = stored(&f.store, &manager).await;
        f.sandbox.expire_access_tokens(Some(2));
        f.sandbox.inject_oauth(OAuthFault::ServerError(status), Some(1));
        let r = f.stored(&manager).user_current().await;
        assert!(
            matches!(&r, Err(BitrixError::RenewalFailed { cause }) if matches!(**cause, BitrixError::BadResponse { status: s, .. } if s == status)),
            "HTTP {status}: {r:?}"
        );
        assert!(same_pair(&stored(&f.store, &manager).await, &before), "HTTP {status}: the pair stays");
        let grants = f.sandbox.oauth_stats().refresh_grants;
        f.stored(&manager).user_current().await.expect("the next call refreshes and works");
        assert_eq!(f.sandbox.oauth_stats().refresh_grants, grants + 1, "HTTP {status}: one refresh");
    }

    // An OAuth server nobody answers at: the connection fails.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let nowhere: url::Url = format!("http://{}/", closed.local_addr().unwrap()).parse().unwrap();
    drop(closed);
    let oauth =
        OAuthClient::new(&nowhere, f.sandbox.client_id(), &SecretString::from("s"), true, OAUTH_TIMEOUT).unwrap();
    let lost = Bitrix {
        rest: RestClient::new(fast_config(RateLimit::UNLIMITED)).unwrap(),
        tokens: TokenManager::new(f.store.clone(), oauth),
    };
    let before = stored(&f.store, &manager).await;
    f.sandbox.expire_access_tokens(Some(2));
    let r = lost
        .caller(f.member_id.clone(), f.endpoint.clone(), b24_calllist::bitrix::Auth::Stored(manager.clone()))
        .user_current()
        .await;
    assert!(
        matches!(&r, Err(BitrixError::RenewalFailed { cause }) if matches!(**cause, BitrixError::Transport { .. })),
        "{r:?}"
    );
    assert!(same_pair(&stored(&f.store, &manager).await, &before));
    assert_eq!(f.sandbox.oauth_stats().rejected_refresh_reuse, 0);
}
