//! Whose token a call uses, and the one safe way to refresh it.
//!
//! Bitrix24's refresh tokens are single-use, so two workers refreshing the same pair lose it. A refresh
//! happens only when the portal answers `expired_token` (never on a timer), and at most once at a time
//! per token owner: within a process every caller with the same stale pair shares one refresh, across
//! instances a lease claimed in the store by compare-and-swap on the pair's version lets one of them
//! refresh while the others wait for the new pair instead of spending a refresh token that is already dead.
//!
//! The refresh runs as a task of its own, bounded below the lease: a caller that stops waiting (its time
//! ran out, or its request was dropped) does not abandon it, so a pair the OAuth server sends late is still
//! stored, and a hung OAuth server holds the lease no longer than [`REFRESH_LIMIT`].

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared};
use secrecy::SecretString;

use super::error::{ApiError, BitrixError, StoreFailure};
use super::oauth::{OAuthClient, is_dead_grant};
use crate::domain::{MemberId, SessionId, StoredTokens, SwapOutcome, TokenPair};

/// Whose tokens: a portal's (stored at install, for app-level work) or a manager's iframe session.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TokenOwner {
    Portal(MemberId),
    Session { member_id: MemberId, session_id: SessionId },
}

impl TokenOwner {
    pub fn member_id(&self) -> &MemberId {
        match self {
            TokenOwner::Portal(m) | TokenOwner::Session { member_id: m, .. } => m,
        }
    }
}

impl fmt::Display for TokenOwner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenOwner::Portal(m) => write!(f, "portal {m}"),
            // The session id is a bearer secret of the page: never printed.
            TokenOwner::Session { member_id, .. } => write!(f, "a session on portal {member_id}"),
        }
    }
}

/// Where token pairs are kept between requests and shared between instances. The store implements it.
pub trait TokenStore: Send + Sync + 'static {
    /// The current pair, or `None` if the owner has none (uninstalled portal, ended session).
    fn load(&self, owner: &TokenOwner) -> impl Future<Output = Result<Option<StoredTokens>, BitrixError>> + Send;

    /// Claims the right to refresh the pair at `version` for `lease`. False if the version moved on or
    /// another holder's lease has not run out.
    fn claim_refresh(
        &self,
        owner: &TokenOwner,
        version: i64,
        lease: Duration,
    ) -> impl Future<Output = Result<bool, BitrixError>> + Send;

    /// Gives a claim back without a new pair (the refresh failed in a way that did not spend the token).
    fn release_refresh(&self, owner: &TokenOwner, version: i64)
    -> impl Future<Output = Result<(), BitrixError>> + Send;

    /// Stores `tokens` if the version is still `expected_version` (and clears the claim).
    fn swap(
        &self,
        owner: &TokenOwner,
        expected_version: i64,
        tokens: &TokenPair,
    ) -> impl Future<Output = Result<SwapOutcome, BitrixError>> + Send;

    /// The refresh token is dead for good: a portal needs re-authorisation, a session ends.
    fn refresh_failed(&self, owner: &TokenOwner, reason: &str) -> impl Future<Output = Result<(), BitrixError>> + Send;
}

/// How long a refresh claim holds: longer than a refresh can take.
const LEASE: Duration = Duration::from_secs(20);
/// The longest a refresh may wait for the OAuth server, whatever its client allows: well inside the lease,
/// so no other instance takes the lease over while this one may still receive a new pair.
pub const REFRESH_LIMIT: Duration = Duration::from_secs(15);
/// How often a waiter looks for the new pair.
const POLL: Duration = Duration::from_millis(25);
const TOKEN_METHOD: &str = "oauth/token";

/// Counts of what refreshing did, for tests and metrics.
#[derive(Debug, Default)]
pub struct RefreshStats {
    pub refreshed: AtomicU64,
    pub adopted: AtomicU64,
    pub failed: AtomicU64,
}

impl RefreshStats {
    pub fn refreshed(&self) -> u64 {
        self.refreshed.load(Ordering::Relaxed)
    }
    pub fn adopted(&self) -> u64 {
        self.adopted.load(Ordering::Relaxed)
    }
    pub fn failed(&self) -> u64 {
        self.failed.load(Ordering::Relaxed)
    }
}

type Renewal = Shared<BoxFuture<'static, Result<StoredTokens, BitrixError>>>;
type Flights = Mutex<HashMap<(TokenOwner, i64), Renewal>>;

/// How long a pair read from the store is used without reading it again. A manager's page makes a call or
/// two, and reading (and unsealing) the pair for each cost a store round trip every time. A pair another
/// instance replaced meanwhile is refused by the portal at worst once, and [`TokenManager::renew`] then
/// adopts the stored one: the store stays the one place a refresh is decided.
pub const RECENT_PAIR: Duration = Duration::from_secs(30);

/// The process-wide refresher: one in-flight refresh per owner and stale pair, the store's lease across
/// instances.
pub struct TokenManager<S: TokenStore> {
    refresher: Refresher<S>,
    flights: Arc<Flights>,
    /// Pairs read or renewed in the last [`RECENT_PAIR`].
    recent: moka::sync::Cache<TokenOwner, StoredTokens>,
    pub stats: Arc<RefreshStats>,
}

/// What a refresh task needs, cloned into it.
struct Refresher<S: TokenStore> {
    store: Arc<S>,
    oauth: OAuthClient,
    stats: Arc<RefreshStats>,
    observer: Option<Arc<dyn super::log::CallObserver>>,
}

impl<S: TokenStore> Clone for Refresher<S> {
    fn clone(&self) -> Self {
        Refresher {
            store: self.store.clone(),
            oauth: self.oauth.clone(),
            stats: self.stats.clone(),
            observer: self.observer.clone(),
        }
    }
}

impl<S: TokenStore> TokenManager<S> {
    pub fn new(store: Arc<S>, oauth: OAuthClient) -> TokenManager<S> {
        let stats = Arc::new(RefreshStats::default());
        TokenManager {
            refresher: Refresher { store, oauth, stats: stats.clone(), observer: None },
            flights: Arc::default(),
            recent: moka::sync::Cache::builder().max_capacity(10_000).time_to_live(RECENT_PAIR).build(),
            stats,
        }
    }

    pub fn with_observer(mut self, observer: Arc<dyn super::log::CallObserver>) -> Self {
        self.refresher.observer = Some(observer);
        self
    }

    pub fn store(&self) -> &Arc<S> {
        &self.refresher.store
    }

    pub fn oauth(&self) -> &OAuthClient {
        &self.refresher.oauth
    }

    /// The owner's pair: the one read within [`RECENT_PAIR`], or the store's.
    pub async fn load(&self, owner: &TokenOwner) -> Result<StoredTokens, BitrixError> {
        if let Some(pair) = self.recent.get(owner) {
            return Ok(pair);
        }
        let pair = self.refresher.load(owner).await?;
        self.recent.insert(owner.clone(), pair.clone());
        Ok(pair)
    }

    /// Forgets the pairs held in memory: the next call reads the store.
    pub fn forget(&self, owner: &TokenOwner) {
        self.recent.invalidate(owner);
    }

    /// The portal said the access token of `stale` expired: returns a working pair, refreshing it if no one
    /// else has. Exactly one refresh happens however many callers arrive with the same stale pair. A caller
    /// waits until `deadline` at most; then it gets [`BitrixError::RenewalFailed`] while the refresh goes on.
    pub async fn renew(
        &self,
        owner: &TokenOwner,
        stale: &StoredTokens,
        deadline: Instant,
    ) -> Result<StoredTokens, BitrixError> {
        let started = Instant::now();
        let renewal = {
            let mut flights = self.flights.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            let key = (owner.clone(), stale.version);
            flights.entry(key.clone()).or_insert_with(|| self.launch(key)).clone()
        };
        match tokio::time::timeout_at(deadline.into(), renewal).await {
            Ok(Ok(fresh)) => {
                self.recent.insert(owner.clone(), fresh.clone());
                Ok(fresh)
            }
            Ok(Err(e)) => {
                self.recent.invalidate(owner);
                Err(e)
            }
            Err(_) => {
                self.recent.invalidate(owner);
                tracing::warn!(owner = %owner, "gave up waiting for the token refresh; it goes on without this call");
                let waited = BitrixError::Timeout { method: TOKEN_METHOD.into(), seconds: started.elapsed().as_secs() };
                Err(BitrixError::RenewalFailed { cause: Box::new(waited) })
            }
        }
    }

    /// Starts the refresh of `owner`'s pair at `version` as a task of its own, shared by every caller.
    fn launch(&self, key: (TokenOwner, i64)) -> Renewal {
        let refresher = self.refresher.clone();
        let flights = self.flights.clone();
        let task = tokio::spawn(async move {
            let outcome = refresher.renew(key.0.clone(), key.1).await;
            flights.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).remove(&key);
            outcome
        });
        async move {
            task.await.unwrap_or_else(|e| Err(BitrixError::Invalid(format!("the token refresh stopped: {e}"))))
        }
        .boxed()
        .shared()
    }

    /// The portal refused the app itself ([`super::ErrorCode::refuses_the_app`]) to a call made with
    /// `owner`'s tokens: the portal is marked as needing re-authorisation, for every user, so the app stops
    /// calling with a pair that will not work and shows administrators the way back.
    pub async fn app_refused(&self, owner: &TokenOwner, e: &ApiError) {
        let portal = TokenOwner::Portal(owner.member_id().clone());
        // Every pair of this portal is refused now, whoever holds it; such refusals are rare.
        self.recent.invalidate_all();
        let reason = format!("the portal refused the app: {e}");
        tracing::warn!(owner = %owner, error = %e.raw_code, "the portal refused the app; re-authorisation needed");
        if let Err(failure) = self.refresher.store.refresh_failed(&portal, &reason).await {
            tracing::error!(error = %failure, "cannot mark the portal as needing re-authorisation");
        }
    }
}

impl<S: TokenStore> Refresher<S> {
    fn count(&self, counter: &AtomicU64, outcome: &str) {
        counter.fetch_add(1, Ordering::Relaxed);
        if let Some(o) = &self.observer {
            o.refresh(outcome);
        }
    }

    async fn load(&self, owner: &TokenOwner) -> Result<StoredTokens, BitrixError> {
        self.store
            .load(owner)
            .await?
            .ok_or_else(|| BitrixError::NeedsReauthorisation { reason: format!("no tokens are stored for {owner}") })
    }

    /// Owns what it needs, so the refresh can run as a task of its own.
    fn renew(self, owner: TokenOwner, stale_version: i64) -> BoxFuture<'static, Result<StoredTokens, BitrixError>> {
        async move { self.renew_now(&owner, stale_version).await }.boxed()
    }

    async fn renew_now(&self, owner: &TokenOwner, stale_version: i64) -> Result<StoredTokens, BitrixError> {
        let deadline = Instant::now() + LEASE + Duration::from_secs(2);
        loop {
            let current = self.load(owner).await?;
            if current.version != stale_version {
                // Another task or instance already renewed it.
                self.count(&self.stats.adopted, "adopted");
                return Ok(current);
            }
            if self.store.claim_refresh(owner, current.version, LEASE).await? {
                return self.refresh_claimed(owner, current).await;
            }
            if Instant::now() > deadline {
                return Err(BitrixError::Store(StoreFailure::message(format!(
                    "another instance has been refreshing the tokens of {owner} for too long"
                ))));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    async fn refresh_claimed(&self, owner: &TokenOwner, current: StoredTokens) -> Result<StoredTokens, BitrixError> {
        let limit = self.oauth.timeout().min(REFRESH_LIMIT);
        let answer = tokio::time::timeout(limit, self.oauth.refresh(&current.tokens.refresh_token))
            .await
            .unwrap_or_else(|_| Err(BitrixError::Timeout { method: TOKEN_METHOD.into(), seconds: limit.as_secs() }));
        match answer {
            Ok(grant) => {
                if grant.member_id != *owner.member_id() {
                    self.count(&self.stats.failed, "failed");
                    let _ = self.store.release_refresh(owner, current.version).await;
                    return Err(BitrixError::BadResponse {
                        method: TOKEN_METHOD.into(),
                        status: 200,
                        problem: "the OAuth server answered for another portal".into(),
                    });
                }
                // Store the new pair before using it: if this process dies now, the pair survives.
                match self.store.swap(owner, current.version, &grant.tokens).await? {
                    SwapOutcome::Won { version } => {
                        self.count(&self.stats.refreshed, "refreshed");
                        tracing::info!(owner = %owner, "tokens refreshed");
                        Ok(StoredTokens { tokens: grant.tokens, version, sealed_with_former_key: false })
                    }
                    // A reinstall wrote a new pair meanwhile; it is at least as fresh as ours.
                    SwapOutcome::Lost(theirs) => Ok(theirs),
                }
            }
            Err(e) if is_dead_grant(&e) => {
                self.count(&self.stats.failed, "failed");
                // A reinstall may have replaced the pair while ours was dying.
                if let Some(now) = self.store.load(owner).await?
                    && now.version != current.version
                {
                    return Ok(now);
                }
                let reason = format!("the refresh was refused: {e}");
                tracing::warn!(owner = %owner, error = %e.kind(), "refresh token refused; re-authorisation needed");
                self.store.refresh_failed(owner, &reason).await?;
                Err(BitrixError::NeedsReauthorisation { reason })
            }
            Err(e) => {
                // The refresh token may or may not be spent; it is not tried again now. The claim is given
                // back so a later call can try, and learn from the OAuth server whether it still works.
                self.count(&self.stats.failed, "failed");
                tracing::warn!(owner = %owner, error = %e.kind(), "refresh failed");
                let _ = self.store.release_refresh(owner, current.version).await;
                Err(BitrixError::RenewalFailed { cause: Box::new(e) })
            }
        }
    }
}

/// A pair a caller holds without a store: a token taken from a request, to be checked once.
#[derive(Debug, Clone)]
pub struct FixedToken(pub SecretString);

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;
    use crate::bitrix::error::ErrorCode;

    /// A store holding one version of every owner's pair, counting its reads.
    #[derive(Default)]
    struct Counted {
        version: AtomicU64,
        loads: AtomicUsize,
    }

    impl Counted {
        fn loads(&self) -> usize {
            self.loads.load(Ordering::Relaxed)
        }
    }

    impl TokenStore for Counted {
        async fn load(&self, _: &TokenOwner) -> Result<Option<StoredTokens>, BitrixError> {
            self.loads.fetch_add(1, Ordering::Relaxed);
            let version = self.version.load(Ordering::Relaxed) as i64;
            let tokens = TokenPair {
                access_token: format!("access-{version}").into(),
                refresh_token: format!("refresh-{version}").into(),
                expires_at: 0,
            };
            Ok(Some(StoredTokens { tokens, version, sealed_with_former_key: false }))
        }
        async fn claim_refresh(&self, _: &TokenOwner, _: i64, _: Duration) -> Result<bool, BitrixError> {
            Ok(false)
        }
        async fn release_refresh(&self, _: &TokenOwner, _: i64) -> Result<(), BitrixError> {
            Ok(())
        }
        async fn swap(&self, _: &TokenOwner, _: i64, _: &TokenPair) -> Result<SwapOutcome, BitrixError> {
            unreachable!("no refresh is claimed here")
        }
        async fn refresh_failed(&self, _: &TokenOwner, _: &str) -> Result<(), BitrixError> {
            Ok(())
        }
    }

    fn manager() -> (TokenManager<Counted>, Arc<Counted>) {
        let store = Arc::new(Counted::default());
        let server = url::Url::parse("http://127.0.0.1:9/").unwrap();
        let oauth = OAuthClient::new(&server, "app", &"secret".into(), true, Duration::from_secs(1)).unwrap();
        (TokenManager::new(store.clone(), oauth), store)
    }

    fn portal(name: &str) -> TokenOwner {
        TokenOwner::Portal(MemberId::parse(name).unwrap())
    }

    #[tokio::test]
    async fn a_pair_read_lately_is_used_again_without_the_store() {
        let (tokens, store) = manager();
        let a = portal("a");
        tokens.load(&a).await.unwrap();
        tokens.load(&a).await.unwrap();
        assert_eq!(store.loads(), 1, "the second call uses the pair just read");
        tokens.load(&portal("b")).await.unwrap();
        assert_eq!(store.loads(), 2, "another owner's pair is its own");
        tokens.forget(&a);
        tokens.load(&a).await.unwrap();
        assert_eq!(store.loads(), 3, "a forgotten pair is read again");
    }

    #[tokio::test]
    async fn a_pair_renewed_elsewhere_is_adopted_and_kept() {
        let (tokens, store) = manager();
        let a = portal("a");
        let stale = tokens.load(&a).await.unwrap();
        // Another instance refreshed: the store holds the next version, this process still the old one.
        store.version.store(1, Ordering::Relaxed);
        assert_eq!(tokens.load(&a).await.unwrap().version, 0, "held in memory");
        let deadline = Instant::now() + Duration::from_secs(5);
        let fresh = tokens.renew(&a, &stale, deadline).await.unwrap();
        assert_eq!(fresh.version, 1, "the stored pair is adopted, no refresh token spent");
        assert_eq!(tokens.stats.adopted(), 1);
        let reads = store.loads();
        assert_eq!(tokens.load(&a).await.unwrap().version, 1, "the adopted pair is what the next call sends");
        assert_eq!(store.loads(), reads, "without reading the store again");
    }

    #[tokio::test]
    async fn a_portal_refusing_the_app_drops_every_pair_held() {
        let (tokens, store) = manager();
        let (a, b) = (portal("a"), portal("b"));
        tokens.load(&a).await.unwrap();
        tokens.load(&b).await.unwrap();
        let refusal = ApiError {
            code: ErrorCode::parse("APPLICATION_NOT_FOUND"),
            raw_code: "APPLICATION_NOT_FOUND".into(),
            description: String::new(),
            http_status: 401,
            method: "crm.calllist.list".into(),
        };
        tokens.app_refused(&a, &refusal).await;
        tokens.load(&a).await.unwrap();
        tokens.load(&b).await.unwrap();
        assert_eq!(store.loads(), 4, "both pairs are read from the store again");
    }
}
