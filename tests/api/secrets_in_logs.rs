//! Tokens never reach the logs: a full install-and-use run is logged at the most verbose level, then the
//! log is searched for every token the sandbox issued.

use std::io::Write;
use std::sync::{Arc, Mutex};

use tracing_subscriber::fmt::MakeWriter;

use crate::harness::{ADMIN, MANAGER, TestApp, page_tokens};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

#[tokio::test]
async fn no_token_the_sandbox_issued_appears_in_the_log_of_a_full_run() {
    let captured = Captured::default();
    // Each test runs in its own process under nextest, so this subscriber sees only this run.
    tracing_subscriber::fmt().with_max_level(tracing::Level::TRACE).with_writer(captured.clone()).init();

    let app = TestApp::not_installed().await;
    let (status, _) = app.open_as(ADMIN).await;
    assert_eq!(status, 200, "installed through the install page");
    app.sandbox.finish_install();
    assert_eq!(app.sandbox.install_app().await.unwrap(), 200, "and again through ONAPPINSTALL");
    let (status, page) = app.open_as(MANAGER).await;
    assert_eq!(status, 200);
    let (session, _) = page_tokens(&page);
    app.sandbox.expire_access_tokens(None);
    let r = app.http.post(app.at("lists")).form(&[("_session", session.as_str())]).send().await.unwrap();
    assert_eq!(r.status(), 200, "a page after the manager's token expired (a refresh)");
    let forged = app
        .http
        .post(app.at("app?LANG=en"))
        .form(&[("AUTH_ID", "forged-token-value"), ("member_id", app.sandbox.member_id())])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
    // Uninstalling revokes the portal's tokens, so they are collected first.
    let mut tokens = app.sandbox.issued_tokens();
    assert_eq!(app.sandbox.uninstall_app(false).await.unwrap(), 200);
    tokens.extend(app.sandbox.issued_tokens());
    app.state.rest_log.flush().await;

    let log = String::from_utf8_lossy(&captured.0.lock().unwrap()).into_owned();
    assert!(log.len() > 1000, "the run must have been logged at all ({} bytes)", log.len());
    assert!(app.sandbox.oauth_stats().refresh_grants >= 3, "the run refreshed tokens");
    assert!(tokens.len() >= 6, "the sandbox issued tokens: {}", tokens.len());
    for token in tokens.iter().chain([&"forged-token-value".to_owned()]) {
        assert!(!log.contains(token.as_str()), "a token was found in the log");
    }
    let secret = app.sandbox.client_secret();
    assert!(!log.contains(secret), "the client secret was found in the log");
}
