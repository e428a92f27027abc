//! No secret leaves the app: a full run (install, open, save, an expired token renewed, faults the app rides
//! out, refusals and an OAuth server failure shown as error pages, uninstall) is logged at the most verbose
//! level, then the log, `/metrics`, every error page and the REST log table are searched for every token the
//! sandbox issued, the client secret, the application token and the manager's session reference.

use std::io::Write;
use std::sync::{Arc, Mutex};

use b24_calllist::sandbox::{FaultKind, OAuthFault};
use tracing_subscriber::fmt::MakeWriter;

use crate::harness::{ADMIN, MANAGER, TestApp};
use crate::pages::{Edit, Manager};

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

/// Every answer of the run, by what was asked.
#[derive(Default)]
struct Pages(Vec<(String, u16, String)>);

impl Pages {
    fn keep(&mut self, what: &str, (status, body): (u16, String)) -> u16 {
        self.0.push((what.to_owned(), status, body));
        status
    }

    fn errors(&self) -> impl Iterator<Item = &(String, u16, String)> {
        self.0.iter().filter(|(_, status, _)| *status >= 400)
    }
}

#[tokio::test]
async fn no_secret_appears_in_the_logs_metrics_error_pages_or_rest_log_of_a_full_run_with_faults() {
    let captured = Captured::default();
    // Each test runs in its own process under nextest, so this subscriber sees only this run.
    tracing_subscriber::fmt().with_max_level(tracing::Level::TRACE).with_writer(captured.clone()).init();
    let app = TestApp::not_installed().await;
    let mut pages = Pages::default();

    // Installed through the install page, and again through ONAPPINSTALL.
    assert_eq!(pages.keep("install page", app.open_as(ADMIN).await), 200);
    app.sandbox.finish_install();
    assert_eq!(app.sandbox.install_app().await.unwrap(), 200);

    // A manager opens the app and saves a change.
    let m = Manager::open(&app, MANAGER).await;
    let list = app
        .sandbox
        .lists()
        .into_iter()
        .find(|l| l.entity_type == b24_calllist::sandbox::EntityKind::Contact && !l.members.is_empty())
        .unwrap();
    let extra = app.sandbox.contacts().into_iter().map(|c| c.id).find(|id| !list.member_ids().contains(id)).unwrap();
    assert_eq!(pages.keep("save", m.save(list.id, Edit::add(&[extra])).await), 200);

    // The token expires and is renewed.
    app.sandbox.expire_access_tokens(None);
    assert_eq!(pages.keep("lists after expiry", m.post("lists", &[]).await), 200);

    // Faults the app rides out: a full bucket, a crashed answer, a dropped connection.
    app.sandbox.inject_once("batch", FaultKind::QueryLimit);
    app.sandbox.inject_once("batch", FaultKind::ServerError);
    app.sandbox.inject_once("batch", FaultKind::Drop);
    assert_eq!(pages.keep("lists under faults", m.post("lists", &[]).await), 200);

    // Refusals the manager is told about.
    for kind in [FaultKind::MethodConfirmDenied, FaultKind::InsufficientScope, FaultKind::UserAccessError] {
        app.sandbox.inject_once("crm.calllist.list", kind);
        assert!(pages.keep("a refusal", m.post("lists", &[]).await) >= 400, "{kind:?} is an error page");
    }

    // The OAuth server fails while the token is renewed, then answers again.
    app.sandbox.expire_access_tokens(None);
    app.sandbox.inject_oauth(OAuthFault::ServerError(502), Some(1));
    assert_eq!(pages.keep("renewal failed", m.post("lists", &[]).await), 502);
    assert_eq!(pages.keep("renewed", m.post("lists", &[]).await), 200);

    // Forged and unknown requests.
    let forged = app
        .http
        .post(app.at("app?LANG=en"))
        .form(&[("AUTH_ID", "forged-token-value"), ("member_id", app.sandbox.member_id())])
        .send()
        .await
        .unwrap();
    let forged = (forged.status().as_u16(), forged.text().await.unwrap());
    assert_eq!(pages.keep("forged entry", forged), 401);
    let stale = app.http.post(app.at("lists")).form(&[("_session", "no-such-session")]).send().await.unwrap();
    let stale = (stale.status().as_u16(), stale.text().await.unwrap());
    assert!(pages.keep("unknown session", stale) >= 400);

    let metrics = app.http.get(app.at("metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("b24_calllist_token_refreshes_total"), "the metrics were read");

    // Uninstalling revokes the portal's tokens, so they are collected first.
    let mut secrets = app.sandbox.issued_tokens();
    assert_eq!(app.sandbox.uninstall_app(false).await.unwrap(), 200);
    secrets.extend(app.sandbox.issued_tokens());
    secrets.push(app.sandbox.client_secret().to_owned());
    secrets.push(app.sandbox.application_token());
    secrets.push(m.session.clone());
    secrets.push("forged-token-value".to_owned());
    app.state.rest_log.flush().await;
    let rest_log = app.store.recent_calls(&app.member_id(), 100_000).await.unwrap();

    let log = String::from_utf8_lossy(&captured.0.lock().unwrap()).into_owned();
    assert!(log.len() > 1000, "the run must have been logged at all ({} bytes)", log.len());
    assert!(log.contains("TRACE"), "at the most verbose level");
    assert!(app.sandbox.oauth_stats().refresh_grants >= 3, "the run refreshed tokens");
    assert!(secrets.len() >= 10, "the sandbox issued tokens: {}", secrets.len());
    assert!(pages.errors().count() >= 6, "the run showed error pages");
    assert!(rest_log.iter().any(|c| c.error.is_some()), "the REST log holds the refusals");
    eprintln!(
        "{} secrets searched: {} kB of trace log, {} kB of /metrics, {} error pages, {} REST log lines",
        secrets.len(),
        log.len() / 1024,
        metrics.len() / 1024,
        pages.errors().count(),
        rest_log.len()
    );
    for secret in &secrets {
        assert!(!log.contains(secret.as_str()), "a secret was found in the log");
        assert!(!metrics.contains(secret.as_str()), "a secret was found in /metrics");
        for (what, status, body) in pages.errors() {
            assert!(!body.contains(secret.as_str()), "a secret was found in the error page of {what} ({status})");
        }
        for call in &rest_log {
            let line = format!("{} {} {:?}", call.method, call.params, call.error);
            assert!(!line.contains(secret.as_str()), "a secret was found in the REST log: {}", call.method);
        }
    }
    // The pages of a manager carry their own session reference, and nothing else secret.
    for (what, _, body) in &pages.0 {
        for secret in secrets.iter().filter(|s| **s != m.session) {
            assert!(!body.contains(secret.as_str()), "a secret was found in the page of {what}");
        }
    }
}
