//! The whole app against a sandbox portal, both on loopback: the way the front-door, page and browser
//! tests start them.

use std::net::TcpListener;
use std::sync::Arc;

use b24_calllist::bitrix::RateLimit;
use b24_calllist::domain::MemberId;
use b24_calllist::keys::{Keyring, SecretKey};
use b24_calllist::sandbox::{LimitsConfig, Sandbox, SandboxConfig};
use b24_calllist::settings::{CommonSettings, DatabaseUrl, LogFormat, Settings};
use b24_calllist::startup::Application;
use b24_calllist::store::Store;
use b24_calllist::web::AppState;
use secrecy::SecretString;

use crate::helpers::TestDb;

pub struct TestApp {
    pub url: url::Url,
    pub sandbox: Sandbox,
    pub store: Arc<Store>,
    pub state: actix_web::web::Data<AppState>,
    pub http: reqwest::Client,
    pub _db: TestDb,
}

pub struct Options {
    pub sandbox: SandboxConfig,
    pub rate: RateLimit,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            sandbox: SandboxConfig { limits: LimitsConfig::off(), ..SandboxConfig::default() },
            rate: RateLimit::UNLIMITED,
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
        let mut o = Options::default();
        o.sandbox.app_installed = false;
        let app = Self::start(o).await;
        let status = app.sandbox.install_app().await.expect("the portal posts ONAPPINSTALL");
        assert_eq!(status, 200, "the app accepts a genuine ONAPPINSTALL");
        app
    }

    pub async fn start(options: Options) -> TestApp {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url: url::Url = format!("http://{}/", listener.local_addr().unwrap()).parse().unwrap();
        let mut sandbox_config = options.sandbox;
        sandbox_config.app_url = Some(url.clone());
        let sandbox = Sandbox::start(sandbox_config).await.expect("sandbox");
        let db = TestDb::sqlite();
        let keys = Keyring::new(SecretKey::generate(), vec![]);
        let store = db.store(&keys).await;
        let settings = Settings {
            common: CommonSettings {
                database: DatabaseUrl::Sqlite { path: db.sqlite_path.clone().unwrap() },
                log_format: LogFormat::Text,
            },
            client_id: sandbox.client_id().to_owned(),
            client_secret: SecretString::from(sandbox.client_secret().to_owned()),
            base_url: url.clone(),
            listen: listener.local_addr().unwrap(),
            keys,
            oauth_server: sandbox.oauth_url(),
            allow_insecure_portals: true,
            rate_limit: options.rate,
            rest_log_retention_days: 7,
        };
        let app = Application::build_with_listener(settings, store, listener).expect("app");
        let state = app.state();
        tokio::spawn(app.run_until_stopped());
        // Idle connections are dropped before the app's 5 s keep-alive closes them under the client.
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(std::time::Duration::from_secs(2))
            .build()
            .unwrap();
        TestApp { url, store: state.store.clone(), state, sandbox, http, _db: db }
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
    let value = |name: &str| -> String {
        let marker = format!("name=\"{name}\" value=\"");
        let start = html.find(&marker).unwrap_or_else(|| panic!("no {name} field in the page:\n{html}")) + marker.len();
        let end = html[start..].find('"').unwrap() + start;
        html[start..end].to_owned()
    };
    (value("_session"), value("_csrf"))
}
