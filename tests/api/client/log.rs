//! The REST log kept for the marketplace rules: every call, redacted.

use b24_calllist::bitrix::RateLimit;
use secrecy::ExposeSecret;

use super::{Fixture, unlimited};
use b24_calllist::domain::UserId;

#[tokio::test]
async fn every_call_is_logged_without_its_token() {
    let f = Fixture::start(unlimited(), RateLimit::UNLIMITED).await;
    let caller = f.portal().for_user(UserId::new(1).unwrap());
    caller.user_current().await.unwrap();
    caller.calllist_statuslist().await.unwrap();
    let _ = caller.call("no.such.method", serde_json::json!({"x": 1})).await;
    f.log.flush().await;
    let calls = f.store.recent_calls(&f.member_id, 10).await.unwrap();
    let methods: Vec<&str> = calls.iter().map(|c| c.method.as_str()).collect();
    assert_eq!(methods, ["no.such.method", "crm.calllist.statuslist", "user.current"]);
    assert_eq!(calls[0].error.as_deref(), Some("ERROR_METHOD_NOT_FOUND"));
    assert_eq!(calls[0].http_status, 404);
    assert_eq!(calls[2].user_id, UserId::new(1).ok());
    let token = f.store.tokens(&f.member_id).await.unwrap().unwrap().tokens.access_token;
    for c in &calls {
        assert!(!c.params.contains(token.expose_secret()), "a token reached the REST log");
    }
}

#[tokio::test]
async fn old_log_lines_are_purged() {
    let f = Fixture::start(unlimited(), RateLimit::UNLIMITED).await;
    f.portal().user_current().await.unwrap();
    f.log.flush().await;
    assert_eq!(
        f.store.purge_rest_log(chrono::Utc::now().timestamp() - 3 * 86_400).await.unwrap(),
        0,
        "recent lines stay"
    );
    assert_eq!(f.store.purge_rest_log(chrono::Utc::now().timestamp() + 1).await.unwrap(), 1);
    assert!(f.store.recent_calls(&f.member_id, 10).await.unwrap().is_empty());
}
