//! The Bitrix24 sandbox: an emulated portal and OAuth server, written from the reference
//! (`bitrix24-behaviour.md` and the official pages it cites), never from the app's client.
//!
//! It imports nothing from the rest of the crate, and nothing outside the CLI wiring imports it: if the
//! client and the sandbox shared one misreading of the protocol, every test would pass and the first real
//! portal would fail. Start one with [`Sandbox::start`]; it binds two listeners (the portal and the OAuth
//! server) and keeps the whole portal in memory.

mod batch;
mod call;
pub mod cli;
pub mod config;
mod control;
mod crm;
mod lifecycle;
mod limits;
mod misc;
pub mod model;
mod oauth;
mod page;
pub mod params;
mod placements;
mod rest;
mod seed;
mod server;
mod state;
mod users;

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::net::TcpListener;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use url::Url;

pub use config::{
    DuplicateErrors, FaultKind, FaultsConfig, Latency, LimitsConfig, ListSeed, OAuthFault, PhpErrorMode, Quirks,
    SandboxConfig, SeedConfig, SystemErrors, UpperCaseFields,
};
pub use lifecycle::LaunchForm;
pub use limits::{BucketStats, Injection};
pub use model::{
    CallList, CallRecord, Company, Contact, Delivery, EntityKind, InstalledApp, ListItem, OAuthStats, Permissions,
    PlacementBinding, PlacementLang, TokenResponse, User, Webform,
};

/// What cannot be started or done.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("cannot bind {addr}: {source}")]
    Bind { addr: std::net::SocketAddr, source: std::io::Error },
    #[error("{0}")]
    Invalid(String),
    #[error("cannot reach the app: {0}")]
    App(String),
}

/// Fixed facts about one portal of a running sandbox.
#[derive(Debug, Clone)]
pub struct Info {
    /// The sandbox's configuration, with this portal's seed.
    pub config: SandboxConfig,
    /// Which portal of the sandbox this is: 0 for the first.
    pub index: usize,
    pub member_id: String,
    /// `127.0.0.1:PORT`: the portal's `DOMAIN` (the same for every portal of a sandbox, see `base_path`).
    pub domain: String,
    /// Where the portal's pages and REST live on the listener: `/` for the first portal, `/portal/{i}/` for
    /// the others.
    pub base_path: String,
    /// `http://127.0.0.1:PORT/` (`http://127.0.0.1:PORT/portal/{i}/` after the first).
    pub portal_url: String,
    /// `http://127.0.0.1:PORT/rest/` (`…/portal/{i}/rest/`): the portal's `client_endpoint`.
    pub rest_url: String,
    /// `http://127.0.0.1:OPORT/`.
    pub oauth_url: String,
    /// `127.0.0.1:OPORT`: the token response's `domain` and the redirect's `server_domain`.
    pub oauth_domain: String,
    /// `http://127.0.0.1:OPORT/rest/`.
    pub server_endpoint: String,
    pub client_id: String,
    pub client_secret: String,
    pub scope: Vec<String>,
}

/// One portal: its facts and its state behind its own lock, so that portals never wait on each other.
pub(crate) struct Inner {
    pub info: Info,
    pub state: Mutex<State>,
    pub http: reqwest::Client,
}

impl Inner {
    pub fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain data behind; keep serving it.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

use state::{Directory, State};

/// Every portal of a sandbox and what they share: the one OAuth server's record of which portal issued
/// which token.
pub(crate) struct Hub {
    pub portals: Vec<Arc<Inner>>,
    pub directory: Arc<Directory>,
    /// Faults the token endpoint answers next: each with how many more times (`None`: until cleared).
    pub oauth_faults: Mutex<Vec<(OAuthFault, Option<u32>)>>,
}

impl Hub {
    /// The fault the token endpoint answers this request with, if one was asked for.
    pub fn take_oauth_fault(&self) -> Option<OAuthFault> {
        let mut faults = self.oauth_faults.lock().unwrap_or_else(|e| e.into_inner());
        let (fault, remaining) = faults.first_mut()?;
        let fault = *fault;
        match remaining {
            Some(1) => {
                faults.remove(0);
            }
            Some(n) => *n -= 1,
            None => {}
        }
        Some(fault)
    }

    /// The portal that issued a token (access, refresh or code); the first portal for a token none issued,
    /// which then refuses it as it always did.
    pub fn portal_of(&self, token: Option<&str>) -> &Arc<Inner> {
        let index = token.and_then(|t| self.directory.portal_of(t)).unwrap_or(0);
        self.portals.get(index).unwrap_or(&self.portals[0])
    }
}

/// Which portal a request to the portal listener is for: set from its `/portal/{i}/` prefix.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PortalIndex(pub usize);

/// The portal a request is for, as its HTTP handlers get it: the one its path prefix names, else the first.
pub(crate) struct Shared {
    pub hub: Arc<Hub>,
    pub index: usize,
}

impl Shared {
    pub fn get_ref(&self) -> &Arc<Inner> {
        &self.hub.portals[self.index]
    }
}

impl std::ops::Deref for Shared {
    type Target = Arc<Inner>;

    fn deref(&self) -> &Arc<Inner> {
        self.get_ref()
    }
}

impl actix_web::FromRequest for Shared {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &actix_web::HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        use actix_web::HttpMessage;
        let hub = req.app_data::<actix_web::web::Data<Arc<Hub>>>().map(|d| d.get_ref().clone());
        let index = req.extensions().get::<PortalIndex>().map_or(0, |p| p.0);
        std::future::ready(
            hub.map(|hub| Shared { hub, index })
                .ok_or_else(|| actix_web::error::ErrorInternalServerError("the sandbox is not set up")),
        )
    }
}

/// A running sandbox, or a view of one of its portals ([`Sandbox::portal`]): every method acts on that
/// portal. [`Sandbox::stop`] stops it and waits; dropping the sandbox (not a view) asks the servers to stop.
pub struct Sandbox {
    hub: Arc<Hub>,
    index: usize,
    handles: Vec<actix_web::dev::ServerHandle>,
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        // The stop command is sent when `stop` is called; the returned future only waits for it.
        for h in self.handles.drain(..) {
            drop(h.stop(false));
        }
    }
}

/// A call list as a test sees it: every stored member, hidden or not, in rank order.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ListView {
    pub id: u64,
    pub entity_type: EntityKind,
    pub webform_id: Option<u64>,
    pub created_by_id: u64,
    pub date_create: String,
    pub members: Vec<ListItem>,
}

impl ListView {
    pub fn member_ids(&self) -> Vec<u64> {
        self.members.iter().map(|m| m.element_id).collect()
    }

    fn of(l: &CallList) -> Self {
        ListView {
            id: l.id,
            entity_type: l.entity_type,
            webform_id: l.webform_id,
            created_by_id: l.created_by_id,
            date_create: l.date_create.clone(),
            members: l.ranked().into_iter().cloned().collect(),
        }
    }
}

fn derived_hex(seed: u64, salt: u64) -> String {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed ^ salt);
    (0..32).map(|_| char::from(b"0123456789abcdef"[rng.random_range(0..16)])).collect()
}

/// The same for one portal of several: the first portal's values are what a one-portal sandbox always had.
fn portal_hex(seed: u64, salt: u64, index: usize) -> String {
    derived_hex(seed, salt ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

fn bind(addr: std::net::SocketAddr) -> Result<TcpListener, SandboxError> {
    TcpListener::bind(addr).map_err(|source| SandboxError::Bind { addr, source })
}

/// The facts of portal `index`: the first has the configured seed and the addresses a one-portal sandbox
/// always had; the others the seed of `portal_seed` (offset by their index, so each holds other data), their
/// own `member_id`, and their pages and REST under `/portal/{index}/`.
fn portal_info(config: &SandboxConfig, index: usize, domain: &str, oauth_domain: &str) -> Info {
    let first = config.seed.seed;
    let client_id = config.client_id.clone().unwrap_or_else(|| format!("local.{}", &derived_hex(first, 1)[..14]));
    let client_secret = config.client_secret.clone().unwrap_or_else(|| derived_hex(first, 2));
    let scope: Vec<String> = config.scope.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect();
    let mut config = config.clone();
    if index > 0 {
        let mut seed = config.portal_seed.clone();
        seed.seed = seed.seed.wrapping_add(index as u64);
        config.seed = seed;
    }
    let base_path = if index == 0 { "/".to_owned() } else { format!("/portal/{index}/") };
    Info {
        index,
        member_id: portal_hex(first, 3, index),
        portal_url: format!("http://{domain}{base_path}"),
        rest_url: format!("http://{domain}{base_path}rest/"),
        oauth_url: format!("http://{oauth_domain}/"),
        server_endpoint: format!("http://{oauth_domain}/rest/"),
        domain: domain.to_owned(),
        base_path,
        oauth_domain: oauth_domain.to_owned(),
        client_id,
        client_secret,
        scope,
        config,
    }
}

/// A new portal's state, seeded; `first_seed` is the sandbox's seed, its secrets' origin.
fn new_state(info: &Info, first_seed: u64, directory: Arc<Directory>) -> State {
    let config = &info.config;
    let mut st = State {
        users: Default::default(),
        contacts: Default::default(),
        companies: Default::default(),
        webforms: Default::default(),
        lists: Default::default(),
        statuses: model::default_statuses(&config.lang),
        // After the call statuses, whose IDs `crm.calllist.statuslist` has always answered.
        sources: model::default_sources(&config.lang, 5),
        next_contact_id: 1,
        next_company_id: 1,
        next_list_id: 1,
        access: HashMap::new(),
        refresh: HashMap::new(),
        codes: HashMap::new(),
        app: InstalledApp {
            present: true,
            installed: config.app_installed,
            install_finish_messages: 0,
            application_token: portal_hex(first_seed, 4, info.index),
            version: 1,
            events: vec![],
            placements: vec![],
            placement_seq: 0,
            app_options: Default::default(),
        },
        calls: VecDeque::new(),
        next_call_seq: 0,
        oauth_stats: OAuthStats::default(),
        clock_offset: 0.0,
        moved_to: None,
        current_user: 1,
        rt: limits::Runtime::new(config.limits.clone(), config.faults.clone()),
        deliveries: Vec::new(),
        portal: info.index,
        directory,
    };
    seed::populate(&mut st, &config.seed);
    st
}

impl Sandbox {
    /// A handle on one portal of a running sandbox, for the control API and [`Sandbox::portal`] (it cannot
    /// stop the servers).
    pub(crate) fn view(hub: Arc<Hub>, index: usize) -> Sandbox {
        Sandbox { hub, index, handles: Vec::new() }
    }

    /// Binds both listeners (port 0 picks free ports), seeds the portals and starts serving.
    pub async fn start(config: SandboxConfig) -> Result<Sandbox, SandboxError> {
        let portal = bind(config.listen)?;
        let oauth = bind(config.oauth_listen)?;
        let paddr = portal.local_addr().map_err(|source| SandboxError::Bind { addr: config.listen, source })?;
        let oaddr = oauth.local_addr().map_err(|source| SandboxError::Bind { addr: config.oauth_listen, source })?;
        if config.lang != "ru" && config.lang != "en" {
            return Err(SandboxError::Invalid(format!("lang must be ru or en, not {}", config.lang)));
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| SandboxError::Invalid(e.to_string()))?;
        let directory = Arc::new(Directory::default());
        let portals = (0..config.portals.max(1))
            .map(|index| {
                let info = portal_info(&config, index, &paddr.to_string(), &oaddr.to_string());
                let st = new_state(&info, config.seed.seed, directory.clone());
                Arc::new(Inner { info, state: Mutex::new(st), http: http.clone() })
            })
            .collect();
        let hub = Arc::new(Hub { portals, directory, oauth_faults: Mutex::new(Vec::new()) });
        let handles = server::spawn(hub.clone(), portal, oauth)?;
        Ok(Sandbox { hub, index: 0, handles })
    }

    /// Stops both servers and waits for them.
    pub async fn stop(mut self) {
        for h in self.handles.drain(..) {
            h.stop(false).await;
        }
    }

    fn inner(&self) -> &Arc<Inner> {
        &self.hub.portals[self.index]
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.inner().lock()
    }

    pub fn info(&self) -> &Info {
        &self.inner().info
    }

    fn url(s: &str) -> Url {
        Url::parse(s).expect("sandbox URLs are built from socket addresses")
    }

    /// `http://127.0.0.1:PORT/`.
    pub fn portal_url(&self) -> Url {
        Self::url(&self.inner().info.portal_url)
    }

    /// `http://127.0.0.1:OPORT/`: the OAuth server (`/oauth/token/`).
    pub fn oauth_url(&self) -> Url {
        Self::url(&self.inner().info.oauth_url)
    }

    /// The portal's `client_endpoint`, `http://127.0.0.1:PORT/rest/`.
    pub fn rest_url(&self) -> Url {
        Self::url(&self.inner().info.rest_url)
    }

    /// The OAuth server's `/rest/`, the `server_endpoint`.
    pub fn server_endpoint(&self) -> Url {
        Self::url(&self.inner().info.server_endpoint)
    }

    pub fn member_id(&self) -> &str {
        &self.inner().info.member_id
    }

    /// `127.0.0.1:PORT`.
    pub fn domain(&self) -> &str {
        &self.inner().info.domain
    }

    pub fn client_id(&self) -> &str {
        &self.inner().info.client_id
    }

    pub fn client_secret(&self) -> &str {
        &self.inner().info.client_secret
    }

    pub fn application_token(&self) -> String {
        self.lock().app.application_token.clone()
    }

    pub fn users(&self) -> Vec<User> {
        self.lock().users.values().cloned().collect()
    }

    /// A fresh access and refresh pair for a user, with the app's scopes, as an iframe open gives.
    pub fn issue_tokens(&self, user_id: u64) -> Result<TokenResponse, SandboxError> {
        self.issue_tokens_with_scope(user_id, None)
    }

    /// The same with chosen scopes (e.g. none with `crm`, to see `insufficient_scope`).
    pub fn issue_tokens_with_scope(&self, user_id: u64, scope: Option<&[&str]>) -> Result<TokenResponse, SandboxError> {
        let mut st = self.lock();
        if !st.users.contains_key(&user_id) {
            return Err(SandboxError::Invalid(format!("no user {user_id}")));
        }
        let scope = scope.map(|s| s.iter().map(|x| x.to_string()).collect());
        Ok(oauth::issue(&mut st, &self.inner().info, user_id, scope))
    }

    /// Makes every current access token expired, or only one user's.
    pub fn expire_access_tokens(&self, user_id: Option<u64>) -> usize {
        let mut st = self.lock();
        let past = st.now() - 1.0;
        let mut n = 0;
        for t in st.access.values_mut() {
            if user_id.is_none_or(|u| u == t.user_id) && t.expires_at > past {
                t.expires_at = past;
                n += 1;
            }
        }
        n
    }

    /// Makes every current access token of every portal expired, as an hour without refreshing would; the
    /// number expired.
    pub fn expire_all_access_tokens(&self) -> usize {
        self.portals().iter().map(|p| p.expire_access_tokens(None)).sum()
    }

    /// Moves the sandbox's clock forward (token and code expiry, the bucket, the budget), for every portal:
    /// they share one clock.
    pub fn advance_clock(&self, by: Duration) {
        for p in &self.hub.portals {
            p.lock().clock_offset += by.as_secs_f64();
        }
    }

    /// How many portals the sandbox hosts ([`SandboxConfig::portals`]).
    pub fn portal_count(&self) -> usize {
        self.hub.portals.len()
    }

    /// Which portal this handle acts on: 0 for the sandbox itself (its first portal).
    pub fn portal_index(&self) -> usize {
        self.index
    }

    /// A handle on portal `index` (0 is the first): every method of it acts on that portal (its info,
    /// tokens, data, calls, bucket, install). Panics when the sandbox has no such portal, as indexing does.
    pub fn portal(&self, index: usize) -> Sandbox {
        assert!(index < self.portal_count(), "the sandbox hosts {} portals, not {}", self.portal_count(), index + 1);
        Sandbox::view(self.hub.clone(), index)
    }

    /// A handle on each portal, in order.
    pub fn portals(&self) -> Vec<Sandbox> {
        (0..self.portal_count()).map(|i| Sandbox::view(self.hub.clone(), i)).collect()
    }

    /// This portal's leaky bucket: its level now and what it let in and refused.
    pub fn bucket_stats(&self) -> BucketStats {
        let st = self.lock();
        st.rt.bucket_stats(st.now())
    }

    pub fn set_faults(&self, faults: FaultsConfig) {
        self.lock().rt.set_faults(faults);
    }

    pub fn set_limits(&self, limits: LimitsConfig) {
        self.lock().rt.set_limits(limits);
    }

    pub fn limits(&self) -> LimitsConfig {
        self.lock().rt.limits.clone()
    }

    /// The next call of `method` (lower-cased) fails with `fault`, as [`Sandbox::inject`] once.
    pub fn inject_once(&self, method: &str, fault: FaultKind) {
        self.inject(method, fault, Some(1));
    }

    /// The next `times` calls of `method` fail with `fault` (`None`: every call until
    /// [`Sandbox::clear_injections`]); `*` is every request. A call inside a `batch` counts: the command
    /// fails alone, except for the faults that refuse a whole request (`QueryLimit`, `Drop`), which refuse the
    /// whole `batch` that calls the method. Injections are tried in the order made.
    pub fn inject(&self, method: &str, fault: FaultKind, times: Option<u32>) {
        self.lock().rt.inject(method, fault, times);
    }

    /// The OAuth server's token endpoint answers its next `times` requests (`None`: every one until
    /// [`Sandbox::clear_oauth_faults`]) with `fault`, for every portal: it hangs, fails with a 5xx, or
    /// refuses the grant. A refused grant spends nothing: the same refresh token works afterwards.
    pub fn inject_oauth(&self, fault: OAuthFault, times: Option<u32>) {
        if times != Some(0) {
            self.hub.oauth_faults.lock().unwrap_or_else(|e| e.into_inner()).push((fault, times));
        }
    }

    pub fn clear_oauth_faults(&self) {
        self.hub.oauth_faults.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// The injected faults not yet spent, in the order they are tried.
    pub fn injections(&self) -> Vec<Injection> {
        self.lock().rt.injections().to_vec()
    }

    /// Forgets every injected fault not yet spent.
    pub fn clear_injections(&self) {
        self.lock().rt.clear_injections();
    }

    /// Every REST call received, oldest first.
    pub fn calls(&self) -> Vec<CallRecord> {
        self.lock().calls.iter().cloned().collect()
    }

    /// The calls of one method (lower-cased).
    pub fn calls_of(&self, method: &str) -> Vec<CallRecord> {
        self.lock().calls.iter().filter(|c| c.method == method).cloned().collect()
    }

    pub fn clear_calls(&self) {
        self.lock().calls.clear();
    }

    pub fn lists(&self) -> Vec<ListView> {
        self.lock().lists.values().map(ListView::of).collect()
    }

    pub fn list(&self, id: u64) -> Option<ListView> {
        self.lock().lists.get(&id).map(ListView::of)
    }

    /// The members of a list that a user can see (their entity exists and they may read it), in rank order.
    pub fn list_members_visible_to(&self, list_id: u64, user_id: u64) -> Vec<u64> {
        let st = self.lock();
        let (Some(l), Some(u)) = (st.lists.get(&list_id), st.users.get(&user_id)) else { return vec![] };
        l.ranked()
            .into_iter()
            .filter(|i| st.can_read(u.id, &u.permissions, l.entity_type, i.element_id))
            .map(|i| i.element_id)
            .collect()
    }

    pub fn contacts(&self) -> Vec<Contact> {
        self.lock().contacts.values().cloned().collect()
    }

    pub fn contact(&self, id: u64) -> Option<Contact> {
        self.lock().contacts.get(&id).cloned()
    }

    pub fn companies(&self) -> Vec<Company> {
        self.lock().companies.values().cloned().collect()
    }

    pub fn webforms(&self) -> Vec<Webform> {
        self.lock().webforms.values().cloned().collect()
    }

    /// Adds a contact with the given names; returns its ID.
    pub fn add_contact(&self, name: &str, last_name: &str) -> u64 {
        self.add_contact_with(Contact { name: name.into(), last_name: last_name.into(), ..Contact::default() })
    }

    /// Adds a contact (its `id` is ignored); returns the new ID.
    pub fn add_contact_with(&self, mut c: Contact) -> u64 {
        let mut st = self.lock();
        let id = st.next_contact_id;
        st.next_contact_id += 1;
        c.id = id;
        if c.assigned_by_id == 0 {
            c.assigned_by_id = 1;
        }
        st.contacts.insert(id, c);
        id
    }

    /// Deletes a contact; list items pointing at it stay stored (hidden), as on a portal.
    pub fn delete_contact(&self, id: u64) -> bool {
        self.lock().contacts.remove(&id).is_some()
    }

    pub fn add_company(&self, title: &str) -> u64 {
        self.add_company_with(Company { title: title.into(), ..Company::default() })
    }

    /// Adds a company (its `id` is ignored; no responsible user means the administrator); returns the new ID.
    pub fn add_company_with(&self, mut c: Company) -> u64 {
        let mut st = self.lock();
        let id = st.next_company_id;
        st.next_company_id += 1;
        c.id = id;
        if c.assigned_by_id == 0 {
            c.assigned_by_id = 1;
        }
        st.companies.insert(id, c);
        id
    }

    pub fn delete_company(&self, id: u64) -> bool {
        self.lock().companies.remove(&id).is_some()
    }

    /// Adds a web form; returns its ID.
    pub fn add_webform(&self, name: &str, active: bool) -> u64 {
        let mut st = self.lock();
        let id = st.webforms.keys().next_back().copied().unwrap_or(0) + 1;
        st.webforms.insert(
            id,
            Webform {
                id,
                name: name.into(),
                security_code: format!("s{id:05}"),
                is_callback: false,
                active,
                xml_id: String::new(),
                default_type: true,
            },
        );
        id
    }

    /// Deletes a web form, as someone in the portal's CRM settings would. Call lists that named it keep its ID
    /// (unless `quirks.deleted_webform_clears_lists`), so an update that sends it again is refused with
    /// `WEBFORM_ERROR` (reference 1.1 step 9). False when there was no such form.
    pub fn delete_webform(&self, id: u64) -> bool {
        let mut st = self.lock();
        let gone = st.webforms.remove(&id).is_some();
        if gone && self.inner().info.config.quirks.deleted_webform_clears_lists {
            for l in st.lists.values_mut().filter(|l| l.webform_id == Some(id)) {
                l.webform_id = None;
            }
        }
        gone
    }

    pub fn set_permissions(&self, user_id: u64, permissions: Permissions) -> Result<(), SandboxError> {
        let mut st = self.lock();
        let u = st.users.get_mut(&user_id).ok_or_else(|| SandboxError::Invalid(format!("no user {user_id}")))?;
        u.permissions = permissions;
        Ok(())
    }

    /// Adds a portal user (an employee of the first department, in the portal's language); returns their ID.
    pub fn add_user(&self, name: &str, last_name: &str, permissions: Permissions) -> u64 {
        let mut st = self.lock();
        let id = st.users.keys().next_back().copied().unwrap_or(0) + 1;
        let user = User {
            id,
            name: name.into(),
            last_name: last_name.into(),
            email: format!("user{id}@example.com"),
            work_position: String::new(),
            lang: self.inner().info.config.lang.clone(),
            permissions,
            active: true,
        };
        st.users.insert(id, user);
        id
    }

    /// Dismisses a user (`ACTIVE = N`) or takes them back: `user.get` with `ACTIVE: true` leaves dismissed
    /// users out.
    pub fn set_user_active(&self, user_id: u64, active: bool) -> Result<(), SandboxError> {
        let mut st = self.lock();
        let u = st.users.get_mut(&user_id).ok_or_else(|| SandboxError::Invalid(format!("no user {user_id}")))?;
        u.active = active;
        Ok(())
    }

    /// Hides one contact or company from a user.
    pub fn deny(&self, user_id: u64, kind: EntityKind, id: u64) -> Result<(), SandboxError> {
        let mut st = self.lock();
        let u = st.users.get_mut(&user_id).ok_or_else(|| SandboxError::Invalid(format!("no user {user_id}")))?;
        let set: &mut BTreeSet<u64> = match kind {
            EntityKind::Contact => &mut u.permissions.deny_contacts,
            EntityKind::Company => &mut u.permissions.deny_companies,
        };
        set.insert(id);
        Ok(())
    }

    /// Adds a call list with the given members (ranks 10, 20, … in order, status `IN_WORK`), as another user
    /// would in the portal's UI; members need not exist.
    pub fn add_list(&self, kind: EntityKind, members: &[u64], webform_id: Option<u64>, created_by_id: u64) -> u64 {
        let mut st = self.lock();
        let id = st.next_list_id;
        st.next_list_id += 1;
        let items = members
            .iter()
            .enumerate()
            .map(|(i, e)| ListItem { element_id: *e, status: "IN_WORK".into(), rank: (i as i64 + 1) * 10 })
            .collect();
        let date_create = model::format_db_time(st.now());
        st.lists.insert(id, CallList { id, entity_type: kind, webform_id, created_by_id, date_create, items });
        id
    }

    /// Replaces a list's members as someone in the portal's UI would: kept members keep their status, new
    /// ones get `IN_WORK`; ranks follow the given order.
    pub fn set_list_members(&self, list_id: u64, members: &[u64]) -> Result<(), SandboxError> {
        let mut st = self.lock();
        let l = st.lists.get_mut(&list_id).ok_or_else(|| SandboxError::Invalid(format!("no list {list_id}")))?;
        let old: HashMap<u64, String> = l.items.iter().map(|i| (i.element_id, i.status.clone())).collect();
        l.items = members
            .iter()
            .enumerate()
            .map(|(i, e)| ListItem {
                element_id: *e,
                status: old.get(e).cloned().unwrap_or_else(|| "IN_WORK".into()),
                rank: (i as i64 + 1) * 10,
            })
            .collect();
        Ok(())
    }

    pub fn set_list_webform(&self, list_id: u64, webform_id: Option<u64>) -> Result<(), SandboxError> {
        let mut st = self.lock();
        let l = st.lists.get_mut(&list_id).ok_or_else(|| SandboxError::Invalid(format!("no list {list_id}")))?;
        l.webform_id = webform_id;
        Ok(())
    }

    pub fn set_member_status(&self, list_id: u64, element_id: u64, status: &str) -> Result<(), SandboxError> {
        let mut st = self.lock();
        let l = st.lists.get_mut(&list_id).ok_or_else(|| SandboxError::Invalid(format!("no list {list_id}")))?;
        let item = l
            .items
            .iter_mut()
            .find(|i| i.element_id == element_id)
            .ok_or_else(|| SandboxError::Invalid(format!("{element_id} is not in list {list_id}")))?;
        item.status = status.into();
        Ok(())
    }

    /// The app's state on the portal (installed, bindings, `application_token`).
    pub fn app_state(&self) -> InstalledApp {
        self.lock().app.clone()
    }

    /// `app.info`'s `INSTALLED`.
    pub fn app_is_installed(&self) -> bool {
        self.lock().app.installed
    }

    /// Whether the portal page received `setInstallFinish`.
    pub fn install_finished(&self) -> bool {
        self.lock().app.install_finish_messages > 0
    }

    pub fn oauth_stats(&self) -> OAuthStats {
        self.lock().oauth_stats
    }

    /// Everything the portal posted to the app (install forms it sent server-side, events).
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.lock().deliveries.clone()
    }

    /// Makes the portal answer REST calls with 302 to a new address (reference 5.1, change-domen), or stop.
    pub fn set_moved_to(&self, to: Option<Url>) {
        self.lock().moved_to = to;
    }

    /// Sends `ONAPPINSTALL` to the app's event handler as a portal does when an app without an install page
    /// is installed; the install is then complete. Returns the app's HTTP status.
    pub async fn install_app(&self) -> Result<u16, SandboxError> {
        lifecycle::install_app(self.inner()).await
    }

    /// Sends `ONAPPUNINSTALL` (`data[CLEAN]` = 1 or 0) and removes the app: its tokens stop working.
    pub async fn uninstall_app(&self, clean: bool) -> Result<u16, SandboxError> {
        lifecycle::uninstall_app(self.inner(), clean).await
    }

    /// The form the portal page posts into the app's iframe for this user: the install page while the app is
    /// not installed and the user is an administrator, else the handler. Issues a fresh token pair.
    pub fn launch_form(&self, user_id: u64, lang: Option<&str>) -> Result<LaunchForm, SandboxError> {
        lifecycle::launch_form(self.inner(), user_id, lang, None)
    }

    /// The form the portal posts when `user_id` opens the widget bound at `placement` (the first handler
    /// bound there) for the contact or company `entity_id` (`None` for a toolbar item), in the user's
    /// language: the handler's URL with the usual query, `PLACEMENT` and, for a list menu or a card's tab,
    /// `PLACEMENT_OPTIONS` (`{"ID":"8061","URI":"/crm/contact/list/"}`, `{"ID":"7"}`). Refused when nothing is
    /// bound there, the install has not finished, or the user may not see the object.
    pub fn placement_form(
        &self,
        user_id: u64,
        placement: &str,
        entity_id: Option<u64>,
    ) -> Result<LaunchForm, SandboxError> {
        let code = placement.to_uppercase();
        let id = self.lock().app.placements.iter().find(|b| b.placement == code).map(|b| b.id);
        let id = id.ok_or_else(|| SandboxError::Invalid(format!("no handler is bound at {code}")))?;
        lifecycle::widget_form(self.inner(), user_id, None, id, entity_id)
    }

    /// Posts that form from the sandbox itself: the handler's status and body.
    pub async fn open_placement(
        &self,
        user_id: u64,
        placement: &str,
        entity_id: Option<u64>,
    ) -> Result<(u16, String), SandboxError> {
        let form = self.placement_form(user_id, placement, entity_id)?;
        lifecycle::post_form(self.inner(), &form, "placement").await
    }

    /// Posts that form from the sandbox itself (no browser): the app's status and body.
    pub async fn open_app(&self, user_id: u64) -> Result<(u16, String), SandboxError> {
        let form = self.launch_form(user_id, None)?;
        lifecycle::post_form(self.inner(), &form, "launch").await
    }

    /// Every token this sandbox ever issued, dead or alive (access, refresh, application), on every portal:
    /// for tests that search logs and databases for secrets.
    pub fn issued_tokens(&self) -> Vec<String> {
        let mut all: Vec<String> = Vec::new();
        for portal in &self.hub.portals {
            let st = portal.lock();
            all.extend(st.access.keys().cloned());
            for (refresh, r) in &st.refresh {
                all.push(refresh.clone());
                all.push(r.access_token.clone());
            }
            all.push(st.app.application_token.clone());
        }
        all.sort();
        all.dedup();
        all
    }

    /// Marks the install finished, as the portal does when its page receives `setInstallFinish`.
    pub fn finish_install(&self) {
        let mut st = self.lock();
        st.app.installed = true;
        st.app.install_finish_messages += 1;
    }
}
