//! The OAuth server: reference (bitrix24-behaviour.md) 4.1, 4.2 and bitrix24-docs/settings/oauth/index.md,
//! auto-renewal.md, error-codes.md.

use std::time::Duration;

use serde_json::json;

use super::*;

fn with_app() -> SandboxConfig {
    SandboxConfig { app_url: Some("http://127.0.0.1:9/base/".parse().unwrap()), ..small_config() }
}

impl TestPortal {
    /// `/oauth/authorize/` as the user would open it; the code and the redirect's query.
    async fn authorize(&self, user: u64, state: &str) -> (String, url::Url) {
        let r = self
            .http
            .get(format!(
                "{}oauth/authorize/?client_id={}&state={state}&user={user}",
                self.sb.portal_url(),
                self.sb.client_id()
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 302);
        let to: url::Url = r.headers()["location"].to_str().unwrap().parse().unwrap();
        let code = to.query_pairs().find(|(k, _)| k == "code").unwrap().1.into_owned();
        (code, to)
    }

    async fn token_get(&self, query: &str) -> Reply {
        Reply::of(self.http.get(format!("{}oauth/token/?{query}", self.sb.oauth_url())).send().await.unwrap()).await
    }

    fn creds(&self) -> String {
        format!("client_id={}&client_secret={}", self.sb.client_id(), self.sb.client_secret())
    }
}

/// reference 4.1 step 2: the redirect to `redirect_uri` with code, state, domain, member_id, scope, server_domain.
#[tokio::test]
async fn authorize_redirects_with_the_documented_parameters() {
    let p = start_with(with_app()).await;
    let (code, to) = p.authorize(MANAGER_BOTH, "xyz").await;
    assert_eq!(to.path(), "/base/oauth/callback");
    let q: std::collections::HashMap<String, String> = to.query_pairs().into_owned().collect();
    assert_eq!(code.len(), 32);
    assert_eq!(q["state"], "xyz");
    assert_eq!(q["domain"], p.sb.domain());
    assert_eq!(q["member_id"], p.sb.member_id());
    assert_eq!(q["scope"], "crm,user,placement");
    assert_eq!(
        q["server_domain"],
        p.sb.oauth_url().host_str().map(|h| format!("{h}:{}", p.sb.oauth_url().port().unwrap())).unwrap()
    );
    assert!(to.as_str().contains("scope=crm%2Cuser%2Cplacement"), "scope comma is URL-encoded: {to}");
}

/// reference 4.1 step 3: the code grant answers exactly the documented fields (no `token_type`).
#[tokio::test]
async fn code_grant_answers_the_documented_token_response() {
    let p = start_with(with_app()).await;
    let (code, _) = p.authorize(MANAGER_BOTH, "s").await;
    let r = p.token_get(&format!("grant_type=authorization_code&{}&code={code}", p.creds())).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let mut keys: Vec<&str> = r.body.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "access_token",
            "client_endpoint",
            "domain",
            "expires",
            "expires_in",
            "member_id",
            "refresh_token",
            "scope",
            "server_endpoint",
            "status",
            "user_id"
        ]
    );
    assert_eq!(r.body["client_endpoint"], json!(p.sb.rest_url().as_str()));
    assert_eq!(r.body["server_endpoint"], json!(p.sb.server_endpoint().as_str()));
    assert_ne!(r.body["domain"], json!(p.sb.domain()), "domain is the OAuth server's");
    assert_eq!(r.body["expires_in"], json!(3600));
    assert_eq!(r.body["user_id"], json!(MANAGER_BOTH));
    let t = r.body["access_token"].as_str().unwrap();
    assert!(t.len() == 32 && t.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
    assert_eq!(p.get("user.current", &format!("auth={t}")).await.assert_ok()["ID"], json!("2"));
}

/// reference 4.1 "code lives 30 seconds", single use: a second exchange or a late one is `invalid_grant`.
#[tokio::test]
async fn a_code_is_single_use_and_lives_thirty_seconds() {
    let p = start_with(with_app()).await;
    let (code, _) = p.authorize(ADMIN, "s").await;
    let q = format!("grant_type=authorization_code&{}&code={code}", p.creds());
    assert_eq!(p.token_get(&q).await.status, 200);
    let again = p.token_get(&q).await;
    assert_eq!((again.status, again.error()), (400, "invalid_grant"));
    let (late, _) = p.authorize(ADMIN, "s").await;
    p.sb.advance_clock(Duration::from_secs(31));
    let r = p.token_get(&format!("grant_type=authorization_code&{}&code={late}", p.creds())).await;
    assert_eq!((r.status, r.error()), (400, "invalid_grant"));
}

/// reference 4.2: refresh rotates; the old refresh token and the access token issued with it are dead.
#[tokio::test]
async fn refresh_rotates_and_kills_the_old_pair() {
    let p = start().await;
    let old = p.sb.issue_tokens(MANAGER_BOTH).unwrap();
    let q = format!("grant_type=refresh_token&{}&refresh_token={}", p.creds(), old.refresh_token);
    let r = p.token_get(&q).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.body.get("token_type").is_none());
    assert_eq!(r.body["user_id"], json!(MANAGER_BOTH));
    assert!(r.body["expires"].is_i64());
    let new_access = r.body["access_token"].as_str().unwrap().to_owned();
    assert_ne!(new_access, old.access_token);
    assert_ne!(r.body["refresh_token"].as_str().unwrap(), old.refresh_token);
    let reuse = p.token_get(&q).await;
    assert_eq!((reuse.status, reuse.error()), (400, "invalid_grant"));
    assert_eq!(p.get("profile", &format!("auth={}", old.access_token)).await.error(), "invalid_token");
    p.get("profile", &format!("auth={new_access}")).await.assert_ok();
    let stats = p.sb.oauth_stats();
    assert_eq!((stats.refresh_grants, stats.rejected_refresh_reuse), (1, 1));
}

/// reference 4.2 "refresh on 401 expired_token": an expired access token's refresh token still works.
#[tokio::test]
async fn an_expired_access_token_is_refreshed_with_its_refresh_token() {
    let p = start().await;
    let old = p.sb.issue_tokens(ADMIN).unwrap();
    p.sb.advance_clock(Duration::from_secs(7_200));
    assert_eq!(p.get("profile", &format!("auth={}", old.access_token)).await.error(), "expired_token");
    let r = Reply::of(
        p.http
            .post(format!("{}oauth/token/", p.sb.oauth_url()))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(format!("grant_type=refresh_token&{}&refresh_token={}", p.creds(), old.refresh_token))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 200, "POST form is accepted too: {}", r.text);
    p.get("profile", &format!("auth={}", r.body["access_token"].as_str().unwrap())).await.assert_ok();
}

/// error-codes.md; reference 4.2 errors: `invalid_client` (401), `invalid_request`, `invalid_grant` (400).
#[tokio::test]
async fn token_endpoint_errors() {
    let p = start().await;
    let refresh = p.sb.issue_tokens(ADMIN).unwrap().refresh_token;
    let r = p
        .token_get(&format!(
            "grant_type=refresh_token&client_id={}&client_secret=wrong&refresh_token={refresh}",
            p.sb.client_id()
        ))
        .await;
    assert_eq!((r.status, r.error()), (401, "invalid_client"));
    let r = p.token_get(&format!("{}&refresh_token={refresh}", p.creds())).await;
    assert_eq!((r.status, r.error()), (400, "invalid_request"));
    let r = p.token_get(&format!("grant_type=refresh_token&{}", p.creds())).await;
    assert_eq!((r.status, r.error()), (400, "invalid_request"));
    let r = p.token_get(&format!("grant_type=refresh_token&{}&refresh_token=nope", p.creds())).await;
    assert_eq!((r.status, r.error()), (400, "invalid_grant"));
    assert!(r.body["error_description"].is_string());
}

/// reference 3.5, 5.7, DESIGN "an install is believed only when the OAuth server vouches": `app.info` on the
/// `server_endpoint` answers for a valid app token and refuses others.
#[tokio::test]
async fn the_oauth_server_answers_app_info_for_app_tokens() {
    let p = start().await;
    let t = p.token(ADMIN);
    let r = Reply::of(p.http.get(format!("{}app.info?auth={t}", p.sb.server_endpoint())).send().await.unwrap()).await;
    assert_eq!(r.assert_ok()["INSTALLED"], json!(true));
    let r =
        Reply::of(p.http.get(format!("{}app.info?auth=forged", p.sb.server_endpoint())).send().await.unwrap()).await;
    assert_eq!((r.status, r.error()), (401, "invalid_token"));
    let r =
        Reply::of(p.http.get(format!("{}crm.calllist.list?auth={t}", p.sb.server_endpoint())).send().await.unwrap())
            .await;
    assert_eq!(r.status, 404);
    assert_eq!(p.sb.calls().iter().filter(|c| c.via == "oauth").count(), 3);
}

/// reference 4.1 step 1: an unknown `client_id` is refused by the portal itself (no redirect).
#[tokio::test]
async fn authorize_with_an_unknown_client_is_refused_without_redirect() {
    let p = start_with(with_app()).await;
    let r =
        p.http.get(format!("{}oauth/authorize/?client_id=local.nope&state=s", p.sb.portal_url())).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert!(r.headers().get("location").is_none());
}

/// reference 4.2 "Errors", error-codes.md: the token endpoint can be told to hang (the client gives up), to
/// fail with a 5xx page, or to refuse a refresh with `invalid_grant`; a refused refresh spends nothing, so the
/// same refresh token works once the fault is gone.
#[tokio::test]
async fn the_token_endpoint_hangs_fails_or_refuses_on_request() {
    use b24_calllist::sandbox::OAuthFault;
    let p = start().await;
    let pair = p.sb.issue_tokens(ADMIN).unwrap();
    let q = format!("grant_type=refresh_token&{}&refresh_token={}", p.creds(), pair.refresh_token);

    p.sb.inject_oauth(OAuthFault::Hang, Some(1));
    let impatient = reqwest::Client::builder().timeout(Duration::from_millis(300)).build().unwrap();
    let gave_up = impatient.get(format!("{}oauth/token/?{q}", p.sb.oauth_url())).send().await;
    assert!(gave_up.is_err_and(|e| e.is_timeout()), "no answer until the client gives up");

    p.sb.inject_oauth(OAuthFault::ServerError(502), Some(1));
    let r = p.token_get(&q).await;
    assert_eq!(r.status, 502);
    assert!(r.text.contains("502") && r.body.is_null(), "a proxy's page, not JSON: {}", r.text);

    p.sb.inject_oauth(OAuthFault::InvalidGrant, Some(1));
    let r = p.token_get(&q).await;
    assert_eq!((r.status, r.error()), (400, "invalid_grant"), "{}", r.text);

    let r = p.token_get(&q).await;
    assert_eq!(r.status, 200, "the refresh token was not spent: {}", r.text);
    let stats = p.sb.oauth_stats();
    assert_eq!((stats.refresh_grants, stats.rejected_grants), (1, 1));
}

/// error-codes.md: `PAYMENT_REQUIRED` with its documented body, `invalid_scope`, and `wrong_client` (a code the
/// official PHP SDK knows, as a bare `{"error": …}`), at `quirks.oauth_error_status` (no page gives it);
/// `"always"` over the control API until cleared.
#[tokio::test]
async fn the_token_endpoint_answers_the_documented_refusals() {
    use b24_calllist::sandbox::OAuthFault;
    let p = start().await;
    let q = format!(
        "grant_type=refresh_token&{}&refresh_token={}",
        p.creds(),
        p.sb.issue_tokens(ADMIN).unwrap().refresh_token
    );
    p.sb.inject_oauth(OAuthFault::PaymentRequired, Some(1));
    let r = p.token_get(&q).await;
    assert_eq!(
        (r.status, r.body.clone()),
        (400, json!({"error": "PAYMENT_REQUIRED", "error_description": "Payment required"}))
    );
    p.sb.inject_oauth(OAuthFault::WrongClient, Some(1));
    assert_eq!(p.token_get(&q).await.body, json!({"error": "wrong_client"}));
    p.sb.inject_oauth(OAuthFault::InvalidScope, Some(1));
    assert_eq!(p.token_get(&q).await.error(), "invalid_scope");
    let (status, _) = p.control_post("oauth-inject", json!({"fault": {"server_error": 503}, "times": "always"})).await;
    assert_eq!(status, 200);
    assert_eq!(p.token_get(&q).await.status, 503);
    assert_eq!(p.token_get(&q).await.status, 503);
    let r = p.http.delete(format!("{}_sandbox/oauth-inject", p.sb.portal_url())).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(p.token_get(&q).await.status, 200);
}

/// reference 4.1, 4.2 show the token request as GET with a query; section 8 leaves open whether POST works.
/// The sandbox reads a POST form body too (above); `quirks.token_endpoint_reads_post_body: false` reads the
/// query alone, as a server reading only GET parameters would.
#[tokio::test]
async fn whether_a_post_body_is_read_is_a_switch() {
    use b24_calllist::sandbox::{Quirks, SandboxConfig};
    let quirks = Quirks { token_endpoint_reads_post_body: false, ..Quirks::default() };
    let p = start_with(SandboxConfig { quirks, ..small_config() }).await;
    let pair = p.sb.issue_tokens(ADMIN).unwrap();
    let body = format!("grant_type=refresh_token&{}&refresh_token={}", p.creds(), pair.refresh_token);
    let post = |url: String, body: String| {
        p.http.post(url).header("Content-Type", "application/x-www-form-urlencoded").body(body).send()
    };
    let r = Reply::of(post(format!("{}oauth/token/", p.sb.oauth_url()), body.clone()).await.unwrap()).await;
    assert_eq!((r.status, r.error()), (400, "invalid_request"), "the body is not read: {}", r.text);
    let r = Reply::of(post(format!("{}oauth/token/?{body}", p.sb.oauth_url()), String::new()).await.unwrap()).await;
    assert_eq!(r.status, 200, "a POST with the query works: {}", r.text);
}
