//! The Bitrix24 client against the sandbox, over HTTP: refresh, limits, faults, typed errors, redirects,
//! the REST log.

mod answers;
mod errors;
mod faults;
mod limits;
mod log;
mod oauth_faults;
mod redirect;
mod refresh;
mod refusals;
mod token_endpoint;

use std::sync::Arc;
use std::time::Duration;

use b24_calllist::bitrix::{Auth, Bitrix, ClientConfig, OAuthClient, RateLimit, RestClient, TokenManager, TokenOwner};
use b24_calllist::domain::{Lang, MemberId, PortalStatus, TokenPair, UserId};
use b24_calllist::sandbox::{Sandbox, SandboxConfig};
use b24_calllist::store::{NewSession, PortalInstall, RestLogWriter, Store, spawn_rest_log};
use secrecy::SecretString;
use url::Url;

use crate::helpers::{TestDb, keyring};

/// A sandbox portal, a store holding its install, and a client to call it with.
pub struct Fixture {
    pub sandbox: Sandbox,
    pub store: Arc<Store>,
    pub bitrix: Bitrix<Store>,
    pub member_id: MemberId,
    pub endpoint: Url,
    pub log: Arc<RestLogWriter>,
    pub _db: TestDb,
}

/// Retries in tests pause briefly: the behaviour is the same, the run is short.
pub fn fast_config(rate: RateLimit) -> ClientConfig {
    ClientConfig {
        request_timeout: Duration::from_secs(10),
        default_budget: Duration::from_secs(30),
        rate,
        allow_insecure: true,
        retry_min_delay: Duration::from_millis(5),
        retry_max_delay: Duration::from_millis(50),
        ..ClientConfig::default()
    }
}

pub fn oauth_client(sandbox: &Sandbox) -> OAuthClient {
    OAuthClient::new(
        &sandbox.oauth_url(),
        sandbox.client_id(),
        &SecretString::from(sandbox.client_secret().to_owned()),
        true,
        Duration::from_secs(10),
    )
    .unwrap()
}

pub fn client_for(
    sandbox: &Sandbox,
    store: Arc<Store>,
    config: ClientConfig,
    log: Option<Arc<RestLogWriter>>,
) -> Bitrix<Store> {
    let mut rest = RestClient::new(config).unwrap();
    if let Some(log) = log {
        rest = rest.with_log(log);
    }
    Bitrix { rest, tokens: TokenManager::new(store, oauth_client(sandbox)) }
}

/// Installs the sandbox portal in `store` with the administrator's tokens, as an install would.
pub async fn install_portal(sandbox: &Sandbox, store: &Store) -> MemberId {
    let t = sandbox.issue_tokens(1).unwrap();
    let member_id = MemberId::parse(sandbox.member_id()).unwrap();
    store
        .save_install(&PortalInstall {
            member_id: member_id.clone(),
            domain: sandbox.domain().to_owned(),
            client_endpoint: sandbox.rest_url(),
            server_endpoint: sandbox.server_endpoint(),
            scope: t.scope.clone(),
            tokens: TokenPair {
                access_token: SecretString::from(t.access_token),
                refresh_token: SecretString::from(t.refresh_token),
                expires_at: chrono::Utc::now().timestamp() + t.expires_in as i64,
            },
            application_token: Some(SecretString::from(sandbox.application_token())),
            status: PortalStatus::Active,
        })
        .await
        .unwrap();
    member_id
}

impl Fixture {
    pub async fn start(config: SandboxConfig, rate: RateLimit) -> Fixture {
        Self::start_with(config, fast_config(rate)).await
    }

    pub async fn start_with(config: SandboxConfig, client: ClientConfig) -> Fixture {
        let sandbox = Sandbox::start(config).await.expect("sandbox starts");
        let db = TestDb::sqlite();
        let store = Arc::new(db.store(&keyring()).await);
        let member_id = install_portal(&sandbox, &store).await;
        let log = spawn_rest_log((*store).clone(), 7);
        let bitrix = client_for(&sandbox, store.clone(), client, Some(log.clone()));
        Fixture { endpoint: sandbox.rest_url(), sandbox, store, bitrix, member_id, log, _db: db }
    }

    /// A caller with the portal's stored tokens.
    pub fn portal(&self) -> b24_calllist::bitrix::Caller<'_, Store> {
        self.bitrix.caller(
            self.member_id.clone(),
            self.endpoint.clone(),
            Auth::Stored(TokenOwner::Portal(self.member_id.clone())),
        )
    }

    /// A manager's session, as an iframe open stores it: their fresh pair, refreshed in the store.
    pub async fn session_of(&self, user_id: u64) -> TokenOwner {
        let t = self.sandbox.issue_tokens(user_id).unwrap();
        let now = chrono::Utc::now().timestamp();
        let session_id = self
            .store
            .create_session(&NewSession {
                member_id: self.member_id.clone(),
                user_id: UserId::new(user_id).unwrap(),
                user_name: format!("user {user_id}"),
                lang: Lang::En,
                is_admin: false,
                tokens: TokenPair {
                    access_token: SecretString::from(t.access_token),
                    refresh_token: SecretString::from(t.refresh_token),
                    expires_at: now + t.expires_in as i64,
                },
                ends_at: now + 3600,
            })
            .await
            .unwrap();
        TokenOwner::Session { member_id: self.member_id.clone(), session_id }
    }

    /// A caller with the stored tokens of `owner`.
    pub fn stored(&self, owner: &TokenOwner) -> b24_calllist::bitrix::Caller<'_, Store> {
        self.bitrix.caller(self.member_id.clone(), self.endpoint.clone(), Auth::Stored(owner.clone()))
    }

    /// Installs the portal again (a reinstall makes it active whatever its status).
    pub async fn reinstall(&self) {
        install_portal(&self.sandbox, &self.store).await;
    }

    pub async fn status(&self) -> PortalStatus {
        self.store.portal(&self.member_id).await.unwrap().unwrap().status
    }

    /// The sequence number of the last call the sandbox received.
    pub fn last_seq(&self) -> u64 {
        self.sandbox.calls().last().map(|c| c.seq).unwrap_or(0)
    }

    /// The calls of `method` the sandbox received after `since`.
    pub fn calls_since(&self, method: &str, since: u64) -> Vec<b24_calllist::sandbox::CallRecord> {
        self.sandbox.calls_of(method).into_iter().filter(|c| c.seq > since).collect()
    }

    /// A caller with a fresh token of one sandbox user, never refreshed.
    pub fn user(&self, user_id: u64) -> b24_calllist::bitrix::Caller<'_, Store> {
        let t = self.sandbox.issue_tokens(user_id).unwrap();
        self.bitrix.caller(
            self.member_id.clone(),
            self.endpoint.clone(),
            Auth::Fixed(SecretString::from(t.access_token)),
        )
    }
}

/// A sandbox without limits, for tests about something else.
pub fn unlimited() -> SandboxConfig {
    SandboxConfig { limits: b24_calllist::sandbox::LimitsConfig::off(), ..SandboxConfig::default() }
}
