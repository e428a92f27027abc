//! Building the app from settings. `serve`, the demo and every test start it this way.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::{App, HttpServer, web};
use tracing_actix_web::TracingLogger;

use crate::bitrix::{Bitrix, BitrixError, ClientConfig, OAuthClient, RestClient, TokenManager};
use crate::metrics::Metrics;
use crate::portal::Portals;
use crate::settings::Settings;
use crate::signing::Signer;
use crate::store::{Engine, Store, StoreError, spawn_rest_log};
use crate::web::AppState;

/// The largest form the app's own pages post (a replace of a big list carries every ID). Forms the
/// portal posts are held to a much smaller limit by their parsers.
const MAX_PAGE_FORM_BYTES: usize = 2 * 1024 * 1024;

/// A bound, not yet running, server.
pub struct Application {
    port: u16,
    server: Server,
    state: web::Data<AppState>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot build the Bitrix24 client: {0}")]
    Client(#[from] BitrixError),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: String, source: std::io::Error },
}

impl Application {
    /// Opens the store (creating and migrating it as needed) and binds `settings.listen`.
    pub async fn build(settings: Settings) -> Result<Application, StartError> {
        let store = Store::open(&settings.common.database, &settings.keys).await?;
        Self::build_with_store(settings, store)
    }

    /// Binds `settings.listen` (port 0 picks a free port) and prepares the server around `store`.
    pub fn build_with_store(settings: Settings, store: Store) -> Result<Application, StartError> {
        let addr = settings.listen;
        let listener = TcpListener::bind(addr).map_err(|source| StartError::Bind { addr: addr.to_string(), source })?;
        Self::build_with_listener(settings, store, listener)
    }

    /// Serves on a listener bound beforehand (the demo and tests learn the port before the portal starts).
    pub fn build_with_listener(
        settings: Settings,
        store: Store,
        listener: TcpListener,
    ) -> Result<Application, StartError> {
        let state = web::Data::new(Self::make_state(settings, store)?);
        let addr = listener.local_addr().map_err(|source| StartError::Bind { addr: "listener".into(), source })?;
        let port = listener.local_addr().map_err(|source| StartError::Bind { addr: addr.to_string(), source })?.port();
        let shared = state.clone();
        let server = HttpServer::new(move || {
            App::new()
                .wrap(actix_web::middleware::from_fn(crate::web::slow_bodies::body_deadline))
                .wrap(actix_web::middleware::from_fn(crate::web::error::render_errors))
                .wrap(actix_web::middleware::from_fn(crate::web::health::count_requests))
                .wrap(crate::web::security_headers())
                .wrap(TracingLogger::<crate::web::log_span::PathOnly>::new())
                .app_data(shared.clone())
                .app_data(web::FormConfig::default().limit(MAX_PAGE_FORM_BYTES))
                .app_data(web::PayloadConfig::new(MAX_PAGE_FORM_BYTES))
                .configure(crate::web::routes)
        })
        .listen(listener)
        .map_err(|source| StartError::Bind { addr: addr.to_string(), source })?
        // actix stops accepting on SIGTERM or Ctrl-C and lets running requests finish for this long.
        .shutdown_timeout(10)
        .run();
        Ok(Application { port, server, state })
    }

    fn make_state(settings: Settings, store: Store) -> Result<AppState, StartError> {
        let store = Arc::new(store);
        let rest_log = spawn_rest_log((*store).clone(), settings.rest_log_retention_days);
        let config = ClientConfig {
            rate: settings.rate_limit,
            allow_insecure: settings.allow_insecure_portals,
            ..ClientConfig::default()
        };
        let metrics = Metrics::new();
        let mut rest = RestClient::new(config)?.with_log(rest_log.clone()).with_observer(metrics.clone());
        if store.database().engine() == Engine::Postgres {
            // Several instances may share this database: they share each portal's request budget too.
            rest = rest.with_shared_budget(store.clone());
        }
        let oauth = OAuthClient::new(
            &settings.oauth_server,
            &settings.client_id,
            &settings.client_secret,
            settings.allow_insecure_portals,
            Duration::from_secs(15),
        )?;
        let tokens = TokenManager::new(store.clone(), oauth).with_observer(metrics.clone());
        let bitrix = Arc::new(Bitrix { rest, tokens });
        let signer = Signer::new(&settings.keys);
        Ok(AppState {
            portals: Portals::new(store.clone(), bitrix.clone(), signer, &settings.base_url),
            store,
            bitrix,
            rest_log,
            origin: settings.base_url.origin(),
            reads: Default::default(),
            save_locks: Default::default(),
            metrics,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The handlers' shared state, for tests and the demo.
    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    /// A handle to stop the server from elsewhere (the demo stops it with the sandbox).
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGTERM or Ctrl-C, then shuts down gracefully, writing the REST log's last lines.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        self.state.rest_log.flush().await;
        served
    }
}
