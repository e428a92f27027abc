//! The OAuth server (reference 4.1, 4.2): the token endpoint with its two grants, and the portal's
//! `/oauth/authorize/` that hands out 30-second single-use codes.
//!
//! Refresh tokens rotate: a refresh kills the refresh token it used and the access token issued with it.

use serde_json::{Value, json};

use super::Info;
use super::config::OAuthFault;
use super::model::{TokenResponse, random_token};
use super::params::{PArr, PValue};
use super::state::State;

/// An OAuth error: HTTP status and the `{"error","error_description"}` body.
#[derive(Debug)]
pub struct OAuthError {
    pub status: u16,
    pub code: &'static str,
    pub description: &'static str,
}

impl OAuthError {
    fn new(status: u16, code: &'static str, description: &'static str) -> Self {
        OAuthError { status, code, description }
    }

    pub fn body(&self) -> Value {
        json!({"error": self.code, "error_description": self.description})
    }
}

/// What the token endpoint answers for an injected fault (other than hanging): the error body, or `None`
/// for a server error's HTML page. Grant-refusing faults count as rejected grants.
pub fn fault_answer(st: &mut State, info: &Info, fault: OAuthFault, grant_type: &str) -> (u16, Option<Value>) {
    let status = info.config.quirks.oauth_error_status;
    let refused = |st: &mut State, status: u16, body: Value| {
        st.oauth_stats.rejected_grants += 1;
        (status, Some(body))
    };
    match fault {
        OAuthFault::Hang => (504, None),
        OAuthFault::ServerError(code) => (code, None),
        OAuthFault::InvalidGrant => {
            let what = if grant_type == "authorization_code" { "authorization code" } else { "refresh token" };
            refused(st, 400, json!({"error": "invalid_grant", "error_description": format!("Invalid {what}")}))
        }
        OAuthFault::InvalidClient => {
            refused(st, 401, json!({"error": "invalid_client", "error_description": "Invalid client credentials"}))
        }
        OAuthFault::PaymentRequired => {
            refused(st, status, json!({"error": "PAYMENT_REQUIRED", "error_description": "Payment required"}))
        }
        OAuthFault::InvalidScope => refused(st, status, json!({"error": "invalid_scope"})),
        OAuthFault::WrongClient => refused(st, status, json!({"error": "wrong_client"})),
    }
}

/// The token response for a pair just issued.
pub fn token_response(st: &State, info: &Info, access: &str, with_extras: bool) -> TokenResponse {
    let t = &st.access[access];
    TokenResponse {
        access_token: access.to_owned(),
        client_endpoint: info.rest_url.clone(),
        domain: info.oauth_domain.clone(),
        expires: with_extras.then_some(t.expires_at as i64),
        expires_in: info.config.access_ttl_secs,
        member_id: info.member_id.clone(),
        refresh_token: t.refresh_token.clone(),
        scope: t.scope.join(","),
        server_endpoint: info.server_endpoint.clone(),
        status: info.config.app_status.clone(),
        user_id: with_extras.then_some(t.user_id),
    }
}

/// A fresh pair for a user with the app's scopes (or the given ones).
pub fn issue(st: &mut State, info: &Info, user_id: u64, scope: Option<Vec<String>>) -> TokenResponse {
    let scope = scope.unwrap_or_else(|| info.scope.clone());
    let (access, _) = st.issue_pair(user_id, scope, info.config.access_ttl_secs, info.config.refresh_ttl_secs);
    token_response(st, info, &access, true)
}

fn text(p: &PArr, key: &str) -> Option<String> {
    p.get(key).and_then(PValue::php_string).filter(|s| !s.is_empty())
}

/// `/oauth/token/` with parameters from the query string and/or a form body.
pub fn token(st: &mut State, info: &Info, p: &PArr) -> Result<TokenResponse, OAuthError> {
    let result = grant(st, info, p);
    if result.is_err() {
        st.oauth_stats.rejected_grants += 1;
    }
    result
}

fn grant(st: &mut State, info: &Info, p: &PArr) -> Result<TokenResponse, OAuthError> {
    let Some(grant_type) = text(p, "grant_type") else {
        return Err(OAuthError::new(400, "invalid_request", "Grant type is missing"));
    };
    if grant_type != "authorization_code" && grant_type != "refresh_token" {
        return Err(OAuthError::new(400, "invalid_request", "Invalid grant type"));
    }
    let client_ok = text(p, "client_id").as_deref() == Some(info.client_id.as_str())
        && text(p, "client_secret").as_deref() == Some(info.client_secret.as_str());
    if !client_ok || !st.app.present {
        return Err(OAuthError::new(401, "invalid_client", "Invalid client credentials"));
    }
    let now = st.now();
    if grant_type == "authorization_code" {
        let Some(code) = text(p, "code") else {
            return Err(OAuthError::new(400, "invalid_request", "Code is missing"));
        };
        let bad = || OAuthError::new(400, "invalid_grant", "Invalid authorization code");
        let entry = st.codes.get_mut(&code).ok_or_else(bad)?;
        if entry.used || now - entry.issued_at > info.config.code_ttl_secs as f64 {
            entry.used = true;
            return Err(bad());
        }
        entry.used = true;
        let user_id = entry.user_id;
        st.oauth_stats.code_grants += 1;
        let (access, _) =
            st.issue_pair(user_id, info.scope.clone(), info.config.access_ttl_secs, info.config.refresh_ttl_secs);
        return Ok(token_response(st, info, &access, info.config.quirks.code_response_has_expires_and_user_id));
    }
    let Some(refresh) = text(p, "refresh_token") else {
        return Err(OAuthError::new(400, "invalid_request", "Refresh token is missing"));
    };
    let bad = || OAuthError::new(400, "invalid_grant", "Invalid refresh token");
    let single_use = info.config.quirks.single_use_refresh_tokens;
    let entry = st.refresh.get_mut(&refresh).ok_or_else(bad)?;
    if entry.used && single_use {
        st.oauth_stats.rejected_refresh_reuse += 1;
        return Err(bad());
    }
    if entry.expires_at <= now {
        return Err(bad());
    }
    entry.used = true;
    let (user_id, scope, old_access) = (entry.user_id, entry.scope.clone(), entry.access_token.clone());
    if single_use {
        st.access.remove(&old_access);
    }
    st.oauth_stats.refresh_grants += 1;
    let (access, _) = st.issue_pair(user_id, scope, info.config.access_ttl_secs, info.config.refresh_ttl_secs);
    Ok(token_response(st, info, &access, true))
}

/// What `/oauth/authorize/` answers: a redirect to the app, or a page of the portal's own.
pub enum Authorize {
    Redirect(String),
    Refused(&'static str),
}

/// reference 4.1 step 1–2: the portal's consent step, for a logged-in user (no form is shown).
pub fn authorize(st: &mut State, info: &Info, p: &PArr) -> Authorize {
    if text(p, "client_id").as_deref() != Some(info.client_id.as_str()) {
        return Authorize::Refused("Application not found");
    }
    if !st.app.present {
        return Authorize::Refused("The application is not installed on this portal");
    }
    let Some(app) = &info.config.app_url else {
        return Authorize::Refused("The application has no redirect address");
    };
    let user_id = p.get("user").map(PValue::php_int).and_then(|u| u64::try_from(u).ok()).unwrap_or(st.current_user);
    if !st.users.contains_key(&user_id) {
        return Authorize::Refused("Unknown user");
    }
    let code = random_token();
    st.remember_code(code.clone(), user_id);
    let mut target = app.clone();
    let path = format!("{}/oauth/callback", target.path().trim_end_matches('/'));
    target.set_path(&path);
    {
        let mut q = target.query_pairs_mut();
        q.append_pair("code", &code);
        if let Some(state) = p.get("state").and_then(PValue::php_string) {
            q.append_pair("state", &state);
        }
        q.append_pair("domain", &info.domain);
        q.append_pair("member_id", &info.member_id);
        q.append_pair("scope", &info.scope.join(","));
        q.append_pair("server_domain", &info.oauth_domain);
    }
    Authorize::Redirect(target.to_string())
}
