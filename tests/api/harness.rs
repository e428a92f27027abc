//! The whole app against a sandbox portal, both on loopback: the way the front-door, page and browser
//! tests start them.

use std::net::TcpListener;
use std::sync::Arc;

use b24_calllist::bitrix::RateLimit;
use b24_calllist::domain::MemberId;
use b24_calllist::keys::{Keyring, SecretKey};
use b24_calllist::sandbox::{LimitsConfig, Sandbox, SandboxConfig};
use b24_calllist::settings::{LocalApp, Settings};
use b24_calllist::startup::Application;
use b24_calllist::store::Store;
use b24_calllist::web::AppState;
use secrecy::SecretString;

use crate::helpers::TestDb;

pub struct TestApp {
    pub url: url::Url,
    pub sandbox: Sandbox,
    /// Stops the app's server; `serving` ends once it has stopped.
    pub server: actix_web::dev::ServerHandle,
    pub serving: tokio::task::JoinHandle<std::io::Result<()>>,
    pub store: Arc<Store>,
    pub state: actix_web::web::Data<AppState>,
    pub http: reqwest::Client,
    pub keys: Keyring,
    pub rate: RateLimit,
    pub _db: TestDb,
}

/// Another instance of the app on the same database and portal, as behind a load balancer.
pub struct Instance {
    pub url: url::Url,
    pub state: actix_web::web::Data<AppState>,
}

/// The seeded users of the sandbox portal (see `sandbox::seed`), by what they may do.
pub const ADMIN: u64 = 1;
/// A manager who reads contacts and companies.
pub const MANAGER: u64 = 2;
pub const COMPANIES_ONLY: u64 = 4;
/// A user without any CRM rights.
pub const NO_CRM: u64 = 5;
/// A manager who reads only the contacts and companies they are responsible for.
pub const OWN_ONLY: u64 = 6;

/// Which database engine the app under test keeps its data in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Engine {
    #[default]
    Sqlite,
    Postgres,
}

pub struct Options {
    pub sandbox: SandboxConfig,
    pub rate: RateLimit,
    pub engine: Engine,
    /// On PostgreSQL, reach the server through this local port (a proxy that can cut it off).
    pub postgres_via: Option<u16>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            sandbox: SandboxConfig { limits: LimitsConfig::off(), ..SandboxConfig::default() },
            rate: RateLimit::UNLIMITED,
            engine: Engine::Sqlite,
            postgres_via: None,
        }
    }
}

impl TestApp {
    /// The app and a portal that has not installed it yet.
    pub async fn not_installed() -> TestApp {
        let mut o = Options::default();
        o.sandbox.app_installed = false;
        Self::start(o).await
    }

    /// The app, installed on the portal through `ONAPPINSTALL`.
    pub async fn installed() -> TestApp {
        Self::installed_on(Engine::Sqlite).await.expect("SQLite is always there")
    }

    /// The app on `engine`, installed through `ONAPPINSTALL`; `None` when PostgreSQL is not there outside CI.
    pub async fn installed_on(engine: Engine) -> Option<TestApp> {
        let mut o = Options { engine, ..Options::default() };
        o.sandbox.app_installed = false;
        let app = Self::try_start(o).await?;
        let status = app.sandbox.install_app().await.expect("the portal posts ONAPPINSTALL");
        assert_eq!(status, 200, "the app accepts a genuine ONAPPINSTALL");
        Some(app)
    }

    pub async fn start(options: Options) -> TestApp {
        Self::try_start(options).await.expect("the test database is there")
    }

    /// As [`TestApp::start`], on the engine the options name; `None` when PostgreSQL is not there outside CI.
    pub async fn start_on(options: Options) -> Option<TestApp> {
        Self::try_start(options).await
    }

    async fn try_start(options: Options) -> Option<TestApp> {
        let db = match options.engine {
            Engine::Sqlite => TestDb::sqlite(),
            Engine::Postgres => TestDb::postgres().await?,
        };
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url: url::Url = format!("http://{}/", listener.local_addr().unwrap()).parse().unwrap();
        let mut sandbox_config = options.sandbox;
        sandbox_config.app_url = Some(url.clone());
        let sandbox = Sandbox::start(sandbox_config).await.expect("sandbox");
        let keys = Keyring::new(SecretKey::generate(), vec![]);
        let db = match options.postgres_via {
            Some(port) => db.through_port(port),
            None => db,
        };
        let store = db.store(&keys).await;
        let rate = options.rate;
        let mut settings = Settings::local(LocalApp {
            database: db.url.clone(),
            listen: listener.local_addr().unwrap(),
            client_id: sandbox.client_id().to_owned(),
            client_secret: SecretString::from(sandbox.client_secret().to_owned()),
            oauth_server: sandbox.oauth_url(),
            keys: keys.clone(),
        });
        settings.rate_limit = rate;
        let app = Application::build_with_listener(settings, store, listener).expect("app");
        let (state, server) = (app.state(), app.handle());
        let serving = tokio::spawn(app.run_until_stopped());
        // Idle connections are dropped before the app's 5 s keep-alive closes them under the client.
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(std::time::Duration::from_secs(2))
            .build()
            .unwrap();
        Some(TestApp { url, store: state.store.clone(), state, sandbox, server, serving, http, keys, rate, _db: db })
    }

    /// Starts another instance of the app on the same database, keys and portal.
    pub async fn another_instance(&self) -> Instance {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url: url::Url = format!("http://{}/", listener.local_addr().unwrap()).parse().unwrap();
        let store = Store::open(&self._db.url, &self.keys).await.expect("the shared database");
        let mut settings = Settings::local(LocalApp {
            database: self._db.url.clone(),
            listen: listener.local_addr().unwrap(),
            client_id: self.sandbox.client_id().to_owned(),
            client_secret: SecretString::from(self.sandbox.client_secret().to_owned()),
            oauth_server: self.sandbox.oauth_url(),
            keys: self.keys.clone(),
        });
        settings.rate_limit = self.rate;
        let app = Application::build_with_listener(settings, store, listener).expect("another instance");
        let state = app.state();
        tokio::spawn(app.run_until_stopped());
        Instance { url, state }
    }

    pub fn member_id(&self) -> MemberId {
        MemberId::parse(self.sandbox.member_id()).unwrap()
    }

    pub fn at(&self, path: &str) -> url::Url {
        self.url.join(path).unwrap()
    }

    /// Opens the app as the portal does for `user_id`: the iframe form POST. Returns status and page.
    pub async fn open_as(&self, user_id: u64) -> (u16, String) {
        self.sandbox.open_app(user_id).await.expect("the portal posts the iframe form")
    }
}

/// The hidden `_session` and `_csrf` values of a page.
pub fn page_tokens(html: &str) -> (String, String) {
    (hidden_value(html, "_session"), hidden_value(html, "_csrf"))
}

/// The value of the first hidden field called `name` in a page.
pub fn hidden_value(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no {name} field in the page:\n{html}")) + marker.len();
    let end = html[start..].find('"').unwrap() + start;
    html[start..end].to_owned()
}

/// Runs a story of the whole app on SQLite, and on PostgreSQL when it is there (always under CI).
#[macro_export]
macro_rules! on_both_engines_app {
    ($story:ident) => {
        mod $story {
            #[tokio::test]
            async fn sqlite() {
                super::$story($crate::harness::Engine::Sqlite).await;
            }

            #[tokio::test]
            async fn postgres() {
                super::$story($crate::harness::Engine::Postgres).await;
            }
        }
    };
}
