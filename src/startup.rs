//! Building the app from settings. `serve`, the demo and every test start it this way.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::{App, HttpServer, web};
use tracing_actix_web::TracingLogger;

use crate::settings::Settings;
use crate::store::{Store, StoreError};

/// What every handler can reach.
pub struct AppState {
    pub settings: Arc<Settings>,
    pub store: Store,
}

/// A bound, not yet running, server.
pub struct Application {
    port: u16,
    server: Server,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] StoreError),
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
        let port = listener.local_addr().map_err(|source| StartError::Bind { addr: addr.to_string(), source })?.port();
        let state = web::Data::new(AppState { settings: Arc::new(settings), store });
        let server = HttpServer::new(move || {
            App::new().wrap(TracingLogger::default()).app_data(state.clone()).configure(crate::web::routes)
        })
        .listen(listener)
        .map_err(|source| StartError::Bind { addr: addr.to_string(), source })?
        // actix stops accepting on SIGTERM or Ctrl-C and lets running requests finish for this long.
        .shutdown_timeout(10)
        .run();
        Ok(Application { port, server })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGTERM or Ctrl-C, then shuts down gracefully.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
