//! The OAuth server hangs while a manager's expired token is being renewed, with the app as it is built
//! for production (the OAuth client's 15 s timeout, the default 60 s call budget): the manager gets a page
//! that says nothing was sent or changed, within the OAuth client's timeout, and the next page after the
//! server is back renews the token once and works.

use std::time::{Duration, Instant};

use b24_calllist::sandbox::OAuthFault;

use crate::harness::{MANAGER, TestApp};
use crate::pages::Manager;

#[tokio::test]
async fn a_hung_oauth_server_gives_the_manager_a_clear_page_within_the_oauth_timeout() {
    let app = TestApp::installed().await;
    let m = Manager::open(&app, MANAGER).await;
    assert_eq!(m.post("lists", &[]).await.0, 200, "the lists first");
    let before = app.sandbox.oauth_stats();
    app.sandbox.expire_access_tokens(Some(MANAGER));
    app.sandbox.inject_oauth(OAuthFault::Hang, None);

    let started = Instant::now();
    let (status, page) = m.post("lists", &[]).await;
    let took = started.elapsed();
    eprintln!("a hung OAuth server: the manager's page came in {took:?}");
    assert_eq!(status, 502, "{page}");
    // The manager's page is in Russian: the sandbox's manager 2 works in Russian.
    assert!(page.contains("Сервер авторизации Битрикс24 сейчас не продлил ваш доступ"), "{page}");
    assert!(took >= Duration::from_secs(14), "the client waited for the OAuth server: {took:?}");
    assert!(took < Duration::from_secs(18), "and no longer than its 15 s timeout allows: {took:?}");
    let stats = app.sandbox.oauth_stats();
    assert_eq!(stats.refresh_grants, before.refresh_grants, "nothing was spent");

    app.sandbox.clear_oauth_faults();
    let (status, page) = m.post("lists", &[]).await;
    assert_eq!(status, 200, "once the OAuth server answers, the next page works: {page}");
    let stats = app.sandbox.oauth_stats();
    assert_eq!(stats.refresh_grants, before.refresh_grants + 1, "renewed once");
    assert_eq!(stats.rejected_refresh_reuse, 0, "no spent refresh token was presented again");
}
