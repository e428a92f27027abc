//! A renamed portal answers 302 to its new address (reference 5.1): followed once, reported so the store
//! keeps it; a loop or a redirect to anything else is refused.

use b24_calllist::bitrix::{BitrixError, RateLimit};

use super::{Fixture, unlimited};

#[tokio::test]
async fn a_renamed_portal_is_followed_once_and_its_new_address_reported() {
    let f = Fixture::start(unlimited(), RateLimit::UNLIMITED).await;
    // The OAuth host also answers `app.info` at /rest/: it stands in for the portal's new address.
    f.sandbox.set_moved_to(Some(f.sandbox.oauth_url()));
    let caller = f.portal();
    let info = caller.app_info().await.expect("the call lands at the new address");
    assert!(info.installed);
    assert_eq!(caller.moved_to(), Some(f.sandbox.server_endpoint()), "the new REST base is reported");
    assert_eq!(caller.requests_sent(), 1, "one call, one redirect followed inside it");
}

#[tokio::test]
async fn a_redirect_loop_is_refused() {
    let f = Fixture::start(unlimited(), RateLimit::UNLIMITED).await;
    f.sandbox.set_moved_to(Some(f.sandbox.portal_url()));
    let e = f.portal().user_current().await.unwrap_err();
    assert!(matches!(e, BitrixError::Redirect { .. }), "got {e}");
}

#[tokio::test]
async fn a_redirect_elsewhere_than_the_same_method_is_refused() {
    let f = Fixture::start(unlimited(), RateLimit::UNLIMITED).await;
    f.sandbox.set_moved_to(Some(f.sandbox.oauth_url().join("elsewhere/").unwrap()));
    let e = f.portal().user_current().await.unwrap_err();
    assert!(matches!(e, BitrixError::Redirect { .. }), "got {e}");
    assert!(f.portal().moved_to().is_none());
}
