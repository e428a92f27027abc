//! Install, uninstall, re-authorisation and the iframe session, against the sandbox over HTTP, and every
//! forgery the front door must turn away.

use std::io::{Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use b24_calllist::bitrix::{Auth, TokenOwner};
use b24_calllist::domain::PortalStatus;
use b24_calllist::sandbox::FaultKind;
use proptest::prelude::*;
use secrecy::ExposeSecret;

use crate::harness::{ADMIN, Engine, MANAGER, TestApp, page_tokens};
use crate::on_both_engines_app;

fn form(pairs: &[(&str, &str)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

async fn post_form(app: &TestApp, path: &str, body: String) -> reqwest::Response {
    app.http
        .post(app.at(path))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap()
}

/// The portal's tokens, as stored, work against the portal.
async fn stored_tokens_work(app: &TestApp) {
    let m = app.member_id();
    let portal = app.store.portal(&m).await.unwrap().expect("a stored portal");
    let caller =
        app.state.bitrix.caller(m.clone(), portal.client_endpoint.clone(), Auth::Stored(TokenOwner::Portal(m)));
    let info = caller.app_info().await.expect("the sealed tokens work");
    assert!(info.installed || !info.code.is_empty() || info.id > 0);
}

#[tokio::test]
async fn the_install_page_path_leaves_an_active_portal_whose_tokens_work() {
    let app = TestApp::not_installed().await;
    let (status, page) = app.open_as(ADMIN).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("data-b24-install-finish"), "the install page calls installFinish");
    assert!(page.contains("/static/b24frame.js"), "with our own frame library");
    let portal = app.store.portal(&app.member_id()).await.unwrap().unwrap();
    assert_eq!(portal.status, PortalStatus::Installing);
    assert_eq!(portal.client_endpoint, app.sandbox.rest_url(), "the endpoint comes from the OAuth server");
    stored_tokens_work(&app).await;
    let binds = app.sandbox.calls_of("event.bind");
    assert!(binds.iter().any(|c| c.params["event"] == "ONAPPUNINSTALL"), "the install binds ONAPPUNINSTALL");

    app.sandbox.finish_install();
    let (status, page) = app.open_as(MANAGER).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Продажин") || page.contains("Борис"), "the shell names the user: {page}");
    assert_eq!(app.store.portal(&app.member_id()).await.unwrap().unwrap().status, PortalStatus::Active);
}

async fn onappinstall_leaves_an_active_portal_and_a_reinstall_keeps_one(engine: Engine) {
    let Some(app) = TestApp::installed_on(engine).await else { return };
    let m = app.member_id();
    let first = app.store.tokens(&m).await.unwrap().unwrap();
    assert_eq!(app.store.portal(&m).await.unwrap().unwrap().status, PortalStatus::Active);
    assert!(app.store.application_token_matches(&m, &app.sandbox.application_token()).await.unwrap());
    stored_tokens_work(&app).await;

    assert_eq!(app.sandbox.install_app().await.unwrap(), 200);
    assert_eq!(app.store.portals().await.unwrap().len(), 1, "a reinstall keeps one portal");
    let second = app.store.tokens(&m).await.unwrap().unwrap();
    assert_ne!(
        first.tokens.access_token.expose_secret(),
        second.tokens.access_token.expose_secret(),
        "tokens replaced"
    );
    stored_tokens_work(&app).await;
}
on_both_engines_app!(onappinstall_leaves_an_active_portal_and_a_reinstall_keeps_one);

async fn uninstall_drops_the_tokens_and_clean_forgets_the_portal(engine: Engine) {
    let Some(app) = TestApp::installed_on(engine).await else { return };
    let m = app.member_id();
    assert_eq!(app.sandbox.uninstall_app(false).await.unwrap(), 200);
    let p = app.store.portal(&m).await.unwrap().unwrap();
    assert_eq!(p.status, PortalStatus::Uninstalled);
    assert!(!p.has_tokens);
    let t = app.sandbox.issue_tokens(2).unwrap();
    let body = form(&[("AUTH_ID", &t.access_token), ("member_id", m.as_str())]);
    let r = post_form(&app, "app?LANG=en", body).await;
    assert_eq!(r.status(), 403, "an uninstalled portal cannot open the app");

    assert_eq!(app.sandbox.install_app().await.unwrap(), 200, "installing again works");
    assert_eq!(app.sandbox.uninstall_app(true).await.unwrap(), 200);
    assert!(app.store.portal(&m).await.unwrap().is_none(), "data[CLEAN]=1 forgets the portal");
}
on_both_engines_app!(uninstall_drops_the_tokens_and_clean_forgets_the_portal);

/// A session the app holds in memory between pages ends with the uninstall, not when the memory runs out:
/// a list the session read a moment ago (a page the app could show without asking the portal) is refused.
async fn an_uninstall_ends_the_sessions_held_in_memory(engine: Engine) {
    let Some(app) = TestApp::installed_on(engine).await else { return };
    let (status, page) = app.open_as(MANAGER).await;
    assert_eq!(status, 200);
    let (session, _) = page_tokens(&page);
    let list = app.sandbox.lists()[0].id;
    let open = || app.http.post(app.at(&format!("lists/{list}"))).form(&[("_session", session.as_str())]).send();
    assert_eq!(open().await.unwrap().status(), 200, "the session works, and it and the list are held");
    assert_eq!(app.sandbox.uninstall_app(false).await.unwrap(), 200);
    assert_eq!(open().await.unwrap().status(), 401, "the next page says the session has ended");
}
on_both_engines_app!(an_uninstall_ends_the_sessions_held_in_memory);

/// The REST log waits a moment to write lines together; a server that stops writes what it holds first.
async fn a_stopping_server_writes_the_rest_log_it_holds(engine: Engine) {
    let Some(mut app) = TestApp::installed_on(engine).await else { return };
    app.state.rest_log.flush().await;
    let (store, portal) = (app.store.clone(), app.member_id());
    let before = store.recent_calls(&portal, 1_000).await.unwrap().len();
    let (status, _) = app.open_as(MANAGER).await;
    assert_eq!(status, 200, "entering calls the portal");
    app.server.stop(true).await;
    (&mut app.serving).await.unwrap().unwrap();
    let after = store.recent_calls(&portal, 1_000).await.unwrap().len();
    assert!(after > before, "the entry's calls are in the log once the server has stopped ({before} → {after})");
}
on_both_engines_app!(a_stopping_server_writes_the_rest_log_it_holds);

#[tokio::test]
async fn the_marketplace_check_gets_200_on_head() {
    let app = TestApp::not_installed().await;
    for path in ["app", "install"] {
        let r = app.http.head(app.at(path)).send().await.unwrap();
        assert_eq!(r.status(), 200, "HEAD /{path}");
    }
}

async fn pages_are_framed_by_the_portal_only(engine: Engine) {
    let Some(app) = TestApp::installed_on(engine).await else { return };
    let launch = app.sandbox.launch_form(MANAGER, None).unwrap();
    let r = app.http.post(&launch.action).form(&launch.fields).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("x-frame-options").is_none(), "no X-Frame-Options");
    let csp = r.headers().get("content-security-policy").unwrap().to_str().unwrap().to_owned();
    let origin = app.sandbox.portal_url().as_str().trim_end_matches('/').to_owned();
    assert!(csp.contains(&format!("frame-ancestors {origin}")), "{csp}");
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(!r.headers().contains_key("set-cookie"), "no cookies in the iframe");
    let html = r.text().await.unwrap();
    assert!(!html.contains("http://") || !html.contains("<script src=\"http"), "no outside scripts");
}
on_both_engines_app!(pages_are_framed_by_the_portal_only);

async fn a_forged_uninstall_changes_nothing(engine: Engine) {
    let Some(app) = TestApp::installed_on(engine).await else { return };
    let m = app.member_id();
    for token in ["wrong-token", ""] {
        let body = form(&[
            ("event", "ONAPPUNINSTALL"),
            ("data[CLEAN]", "1"),
            ("auth[member_id]", m.as_str()),
            ("auth[application_token]", token),
        ]);
        let r = post_form(&app, "events", body).await;
        assert_eq!(r.status(), 401, "token {token:?}");
    }
    let p = app.store.portal(&m).await.unwrap().expect("the portal is still there");
    assert_eq!(p.status, PortalStatus::Active);
    assert!(p.has_tokens);
}
on_both_engines_app!(a_forged_uninstall_changes_nothing);

async fn an_event_from_an_unknown_portal_is_refused(engine: Engine) {
    let Some(app) = TestApp::installed_on(engine).await else { return };
    let body = form(&[
        ("event", "ONAPPUNINSTALL"),
        ("auth[member_id]", "nosuchportal"),
        ("auth[application_token]", &app.sandbox.application_token()),
    ]);
    assert_eq!(post_form(&app, "events", body).await.status(), 401);
    let body = form(&[("event", "ONCRMCONTACTADD"), ("auth[member_id]", "nosuchportal")]);
    assert_eq!(post_form(&app, "events", body).await.status(), 401);
    assert_eq!(app.store.portals().await.unwrap().len(), 1);
}
on_both_engines_app!(an_event_from_an_unknown_portal_is_refused);

#[tokio::test]
async fn a_forged_install_is_not_believed() {
    let app = TestApp::not_installed().await;
    // Tokens the OAuth server never issued.
    let body = form(&[
        ("event", "ONAPPINSTALL"),
        ("auth[member_id]", app.sandbox.member_id()),
        ("auth[access_token]", "forgedaccess"),
        ("auth[refresh_token]", "forgedrefresh"),
        ("auth[client_endpoint]", "http://127.0.0.1:9/rest/"),
        ("auth[application_token]", "forged"),
    ]);
    assert_eq!(post_form(&app, "events", body).await.status(), 403);
    // Real tokens, but claiming another portal.
    let t = app.sandbox.issue_tokens(1).unwrap();
    let body = form(&[
        ("event", "ONAPPINSTALL"),
        ("auth[member_id]", "another-portal"),
        ("auth[access_token]", &t.access_token),
        ("auth[refresh_token]", &t.refresh_token),
    ]);
    assert_eq!(post_form(&app, "events", body).await.status(), 403);
    // The install page, with a forged refresh token.
    let body = form(&[("AUTH_ID", "x"), ("REFRESH_ID", "forged"), ("member_id", app.sandbox.member_id())]);
    assert_eq!(post_form(&app, "install?DOMAIN=evil.example&LANG=en", body).await.status(), 403);
    assert!(app.store.portals().await.unwrap().is_empty(), "nothing was stored");
}

/// A listener that counts the connections it gets.
fn counting_listener() -> (String, Arc<AtomicUsize>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    std::thread::spawn(move || {
        for s in listener.incoming() {
            counter.fetch_add(1, Ordering::SeqCst);
            if let Ok(mut s) = s {
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf);
                let _ = s.write_all(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n");
            }
        }
    });
    (addr, hits)
}

async fn a_domain_pointing_elsewhere_is_never_called(engine: Engine) {
    let Some(app) = TestApp::installed_on(engine).await else { return };
    let (elsewhere, hits) = counting_listener();
    let launch = app.sandbox.launch_form(MANAGER, None).unwrap();
    let encoded = |d: &str| d.replace(':', "%3A");
    let action = launch
        .action
        .replace(&format!("DOMAIN={}", encoded(app.sandbox.domain())), &format!("DOMAIN={}", encoded(&elsewhere)));
    assert_ne!(action, launch.action, "the test must change DOMAIN");
    let r = app.http.post(&action).form(&launch.fields).send().await.unwrap();
    assert_eq!(r.status(), 200, "the app works from the stored endpoint");
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(hits.load(Ordering::SeqCst), 0, "the host named by DOMAIN received nothing");
}
on_both_engines_app!(a_domain_pointing_elsewhere_is_never_called);

async fn bad_iframe_requests_get_clear_4xx_and_change_nothing(engine: Engine) {
    let Some(app) = TestApp::installed_on(engine).await else { return };
    let m = app.sandbox.member_id().to_owned();
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        ("missing AUTH_ID", form(&[("member_id", &m)]).into_bytes(), 400, "AUTH_ID"),
        ("missing member_id", form(&[("AUTH_ID", "x")]).into_bytes(), 400, "member_id"),
        (
            "placement options not JSON",
            form(&[("AUTH_ID", "x"), ("member_id", &m), ("PLACEMENT_OPTIONS", "{nope")]).into_bytes(),
            400,
            "PLACEMENT_OPTIONS",
        ),
        ("huge value", form(&[("AUTH_ID", &"x".repeat(9000)), ("member_id", &m)]).into_bytes(), 400, "AUTH_ID"),
        ("bad UTF-8", vec![0x41, 0x55, 0xff, 0xfe, 0x3d], 400, "UTF-8"),
        ("unknown portal", form(&[("AUTH_ID", "x"), ("member_id", "unknownportal")]).into_bytes(), 403, ""),
        ("token the portal refuses", form(&[("AUTH_ID", "notatoken"), ("member_id", &m)]).into_bytes(), 401, ""),
    ];
    let sessions_before = count_sessions(&app).await;
    for (what, body, status, mentions) in cases {
        let r = app
            .http
            .post(app.at("app?DOMAIN=127.0.0.1&PROTOCOL=0&LANG=en&APP_SID=x"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), status, "{what}");
        let html = r.text().await.unwrap();
        assert!(html.contains(mentions), "{what}: the page names the problem:\n{html}");
        assert!(html.contains("<html"), "{what}: an error page, not a blank one");
    }
    assert_eq!(count_sessions(&app).await, sessions_before, "no session was started");
}
on_both_engines_app!(bad_iframe_requests_get_clear_4xx_and_change_nothing);

/// A portal that refuses the app itself, or keeps it from this user, is not told as a failed sign-in ("open
/// the app again" would not help): the page says which, and whom to ask, in the viewer's language, with the
/// portal's own status, and no session is started. The user's token is not remembered as refused.
#[tokio::test]
async fn a_portal_refusing_the_app_or_this_user_says_which_not_that_the_sign_in_failed() {
    let app = TestApp::installed().await;
    let cases = [
        (FaultKind::UserAccessError, "to some users only", "только некоторым пользователям"),
        (FaultKind::ApplicationNotFound, "no longer finds the app", "больше не находит приложение"),
        (FaultKind::PortalDeleted, "closed or was deleted", "закрыт или удалён"),
        (FaultKind::PaymentRequired, "subscription or trial", "пробный период"),
    ];
    let sessions_before = count_sessions(&app).await;
    for (kind, en, ru) in cases {
        for (lang, words, sign_in) in [("en", en, "did not confirm who you are"), ("ru", ru, "не подтвердил")]
        {
            let launch = app.sandbox.launch_form(MANAGER, Some(lang)).unwrap();
            app.sandbox.inject_once("batch", kind);
            let r = app.http.post(&launch.action).form(&launch.fields).send().await.unwrap();
            assert_eq!(r.status().as_u16(), 403, "{kind:?} in {lang}: the portal refuses, the user is not unknown");
            let html = r.text().await.unwrap();
            assert!(html.contains(words), "{kind:?} in {lang}: the page says what the portal refused:\n{html}");
            assert!(!html.contains(sign_in), "{kind:?} in {lang}: not told as a failed sign-in:\n{html}");
            // The same token opens the app once the portal takes it again: it was not held as refused.
            let r = app.http.post(&launch.action).form(&launch.fields).send().await.unwrap();
            assert_eq!(r.status(), 200, "{kind:?} in {lang}: the next entry is checked and opens");
        }
    }
    assert_eq!(count_sessions(&app).await, sessions_before + 8, "a session for each entry that opened, none else");
}

async fn count_sessions(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM sessions").fetch_one(app.store.database().pool()).await.unwrap()
}

async fn a_forged_or_expired_session_is_refused(engine: Engine) {
    let Some(app) = TestApp::installed_on(engine).await else { return };
    let (status, page) = app.open_as(MANAGER).await;
    assert_eq!(status, 200);
    let (session, _) = page_tokens(&page);
    // The session's time runs out in two seconds, while the app holds it (and its tokens) in memory.
    let ends_at = chrono::Utc::now().timestamp() + 2;
    sqlx::query("UPDATE sessions SET ends_at = $1").bind(ends_at).execute(app.store.database().pool()).await.unwrap();
    let ok = app.http.post(app.at("lists")).form(&[("_session", session.as_str())]).send().await.unwrap();
    assert_eq!(ok.status(), 200, "the page's own session works");
    let forged = format!("{}x", session);
    for bad in [forged.as_str(), "", "abc.def"] {
        let r = app.http.post(app.at("lists")).form(&[("_session", bad)]).send().await.unwrap();
        assert_eq!(r.status(), 401, "session {bad:?}");
    }
    while chrono::Utc::now().timestamp() <= ends_at {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let r = app.http.post(app.at("lists")).form(&[("_session", session.as_str())]).send().await.unwrap();
    assert_eq!(r.status(), 401, "an ended session");
}
on_both_engines_app!(a_forged_or_expired_session_is_refused);

async fn reauthorisation_uses_a_signed_one_time_state(engine: Engine) {
    let Some(app) = TestApp::installed_on(engine).await else { return };
    let m = app.member_id();
    app.store.set_status(&m, PortalStatus::NeedsReauthorisation, "invalid_grant").await.unwrap();

    let start = app.http.get(app.at(&format!("oauth/start?portal={m}"))).send().await.unwrap();
    assert_eq!(start.status(), 302);
    let authorize = start.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        authorize.starts_with(app.sandbox.portal_url().as_str()),
        "to the portal's own authorize page: {authorize}"
    );
    // The administrator approves on the portal; it redirects back with a code.
    let back = app.http.get(&authorize).send().await.unwrap();
    assert_eq!(back.status(), 302, "the portal redirects to the app");
    let callback = back.headers()["location"].to_str().unwrap().to_owned();
    assert!(callback.starts_with(app.at("oauth/callback").as_str()), "{callback}");
    let done = app.http.get(&callback).send().await.unwrap();
    assert_eq!(done.status(), 200);
    assert_eq!(app.store.portal(&m).await.unwrap().unwrap().status, PortalStatus::Active);
    stored_tokens_work(&app).await;

    let replay = app.http.get(&callback).send().await.unwrap();
    assert_eq!(replay.status(), 400, "a state works once");
    let tampered = callback.replace("state=", "state=x");
    assert_eq!(app.http.get(&tampered).send().await.unwrap().status(), 400, "a tampered state");
    let unsigned = app.at("oauth/callback?code=abc&state=nonce~x~9999999999~en").to_string();
    assert_eq!(app.http.get(&unsigned).send().await.unwrap().status(), 400, "a state the app did not sign");
    let unknown = app.http.get(app.at("oauth/start?portal=nosuchportal")).send().await.unwrap();
    assert_eq!(unknown.status(), 404, "only installed portals can start");
}
on_both_engines_app!(reauthorisation_uses_a_signed_one_time_state);

fn bodies() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..300),
        "[a-zA-Z_\\[\\]=&%0-9]{0,200}".prop_map(String::into_bytes),
        (
            prop_oneof![
                Just("event"),
                Just("auth[member_id]"),
                Just("AUTH_ID"),
                Just("member_id"),
                Just("PLACEMENT_OPTIONS"),
                Just("auth[application_token]")
            ],
            ".{0,40}"
        )
            .prop_map(|(k, v)| form(&[(k, &v), ("event", "ONAPPUNINSTALL")]).into_bytes()),
    ]
}

#[test]
fn malformed_bodies_never_cause_a_5xx_or_a_panic() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let app = rt.block_on(TestApp::installed());
    let mut runner =
        proptest::test_runner::TestRunner::new(proptest::test_runner::Config { cases: 64, ..Default::default() });
    runner
        .run(&(bodies(), 0usize..3), |(body, target)| {
            let path = ["install?LANG=ru", "app?DOMAIN=x", "events"][target];
            let status = rt.block_on(async {
                app.http
                    .post(app.at(path))
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .body(body.clone())
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
            });
            let status = status.map_err(|e| TestCaseError::fail(format!("the app stopped answering: {e}")))?;
            prop_assert!(status < 500, "{path} answered {status} to {:?}", String::from_utf8_lossy(&body));
            Ok(())
        })
        .unwrap();
    let health = rt.block_on(async { app.http.get(app.at("healthz")).send().await.unwrap().status() });
    assert_eq!(health, 200, "the app still answers afterwards");
    assert_eq!(rt.block_on(app.store.portal(&app.member_id())).unwrap().unwrap().status, PortalStatus::Active);
}
