//! The OAuth token endpoint (authorization code and refresh grants) through the `oauth2` crate.
//!
//! Two Bitrix24 habits need glue: its documentation sends the grant as a GET with query parameters
//! (oauth2 builds a POST form, which the adapter below turns into that GET), and its token response has no
//! `token_type` and carries fields of its own (`member_id`, `client_endpoint`, …), hence
//! [`BitrixTokenResponse`]. A refresh is never retried here: the refresh token it spent may be gone.

use std::time::Duration;

use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse, BasicTokenType,
};
use oauth2::{
    AccessToken, AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, EndpointNotSet, EndpointSet,
    HttpRequest, HttpResponse, RefreshToken, RequestTokenError, Scope, StandardRevocableToken, TokenResponse, TokenUrl,
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use url::Url;

use super::endpoint::rest_base;
use super::error::{ApiError, BitrixError, ErrorCode};
use crate::domain::{MemberId, TokenPair};

const METHOD: &str = "oauth/token";

/// The token response as Bitrix24 sends it (reference 4.1, 4.2).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BitrixTokenResponse {
    access_token: AccessToken,
    #[serde(default)]
    refresh_token: Option<RefreshToken>,
    /// Absent from Bitrix24's answers; oauth2 needs one.
    #[serde(default = "bearer")]
    token_type: BasicTokenType,
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default)]
    expires: Option<i64>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    member_id: Option<String>,
    #[serde(default)]
    client_endpoint: Option<String>,
    #[serde(default)]
    server_endpoint: Option<String>,
    #[serde(default)]
    domain: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    user_id: Option<serde_json::Value>,
}

fn bearer() -> BasicTokenType {
    BasicTokenType::Bearer
}

impl TokenResponse for BitrixTokenResponse {
    type TokenType = BasicTokenType;

    fn access_token(&self) -> &AccessToken {
        &self.access_token
    }
    fn token_type(&self) -> &BasicTokenType {
        &self.token_type
    }
    fn expires_in(&self) -> Option<Duration> {
        self.expires_in.map(Duration::from_secs)
    }
    fn refresh_token(&self) -> Option<&RefreshToken> {
        self.refresh_token.as_ref()
    }
    /// Bitrix24's scope is comma-separated, not a space-separated list; read [`TokenGrant::scope`].
    fn scopes(&self) -> Option<&Vec<Scope>> {
        None
    }
}

type BitrixOAuth2 = oauth2::Client<
    BasicErrorResponse,
    BitrixTokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// What a successful grant gives: the pair and the portal it belongs to, as the OAuth server vouches.
#[derive(Debug, Clone)]
pub struct TokenGrant {
    pub tokens: TokenPair,
    pub member_id: MemberId,
    /// The portal's REST base, checked against the endpoint policy.
    pub client_endpoint: Url,
    pub server_endpoint: Option<Url>,
    /// In a token response this is the OAuth server's domain, not the portal's (reference 4.1).
    pub domain: String,
    pub scope: String,
    pub status: String,
    pub user_id: Option<u64>,
}

/// A client of the OAuth server named by `B24_OAUTH_SERVER`.
#[derive(Clone)]
pub struct OAuthClient {
    oauth: BitrixOAuth2,
    http: reqwest::Client,
    server: Url,
    client_id: String,
    allow_insecure: bool,
}

impl std::fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "OAuthClient({}, {})", self.server, self.client_id)
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct AdapterError(String);

impl OAuthClient {
    pub fn new(
        server: &Url,
        client_id: &str,
        client_secret: &SecretString,
        allow_insecure: bool,
        timeout: Duration,
    ) -> Result<OAuthClient, BitrixError> {
        let token_url = server.join("oauth/token/").map_err(|e| BitrixError::Invalid(e.to_string()))?;
        // The authorize URL lives on each portal; this one is only a placeholder the builder requires.
        let auth_url = server.join("oauth/authorize/").map_err(|e| BitrixError::Invalid(e.to_string()))?;
        let oauth = oauth2::Client::new(ClientId::new(client_id.to_owned()))
            .set_client_secret(ClientSecret::new(client_secret.expose_secret().to_owned()))
            .set_auth_type(AuthType::RequestBody)
            .set_auth_uri(AuthUrl::from_url(auth_url))
            .set_token_uri(TokenUrl::from_url(token_url));
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("b24-calllist/", env!("CARGO_PKG_VERSION")))
            // As for REST calls: an idle connection is dropped before a server's 5 s keep-alive closes it, so a
            // refresh (single-use, never repeated) is never sent on a connection closing under it.
            .pool_idle_timeout(Duration::from_secs(4))
            .build()
            .map_err(|e| BitrixError::Invalid(e.to_string()))?;
        Ok(OAuthClient { oauth, http, server: server.clone(), client_id: client_id.to_owned(), allow_insecure })
    }

    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The OAuth server's own REST base (`…/rest/`), where `app.info` vouches for a token.
    pub fn server_rest(&self) -> Url {
        self.server.join("rest/").expect("a base URL joins a relative path")
    }

    /// Where to send an administrator to re-authorise: the portal's `/oauth/authorize/` with our
    /// `client_id` and a `state` (reference 4.1; the portal knows the redirect URL).
    pub fn authorize_url(&self, client_endpoint: &Url, state: &str) -> Url {
        let mut url = client_endpoint.join("/oauth/authorize/").expect("an absolute path joins");
        url.query_pairs_mut().append_pair("client_id", &self.client_id).append_pair("state", state);
        url
    }

    /// Exchanges an authorization code (valid 30 s, single use).
    pub async fn exchange_code(&self, code: &str) -> Result<TokenGrant, BitrixError> {
        let http = |req| self.send(req);
        let response = self
            .oauth
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .request_async(&http)
            .await
            .map_err(token_error)?;
        self.grant(response)
    }

    /// Spends a refresh token for a new pair. Never retried: on any failure but a clear refusal, the
    /// caller must assume the refresh token may be spent.
    pub async fn refresh(&self, refresh_token: &SecretString) -> Result<TokenGrant, BitrixError> {
        let http = |req| self.send(req);
        let token = RefreshToken::new(refresh_token.expose_secret().to_owned());
        let response = self.oauth.exchange_refresh_token(&token).request_async(&http).await.map_err(token_error)?;
        self.grant(response)
    }

    /// Sends oauth2's request the way Bitrix24 documents it: a GET with the form moved into the query.
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, AdapterError> {
        let mut url = Url::parse(&request.uri().to_string()).map_err(|e| AdapterError(e.to_string()))?;
        let form: Vec<(String, String)> = url::form_urlencoded::parse(request.body()).into_owned().collect();
        url.query_pairs_mut().extend_pairs(form);
        let response = self
            .http
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            // The URL carries the client secret and the grant: never let it into an error message.
            .map_err(|e| AdapterError(describe_transport(&e.without_url())))?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(|e| AdapterError(describe_transport(&e.without_url())))?;
        let mut out = oauth2::http::Response::builder().status(status.as_u16());
        for (name, value) in headers.iter() {
            out = out.header(name.as_str(), value.as_bytes());
        }
        out.body(body.to_vec()).map_err(|e| AdapterError(e.to_string()))
    }

    fn grant(&self, r: BitrixTokenResponse) -> Result<TokenGrant, BitrixError> {
        let bad =
            |problem: &str| BitrixError::BadResponse { method: METHOD.into(), status: 200, problem: problem.into() };
        let refresh = r.refresh_token.ok_or_else(|| bad("no refresh_token in the token response"))?;
        let member_id = r.member_id.as_deref().ok_or_else(|| bad("no member_id in the token response"))?;
        let member_id = MemberId::parse(member_id).map_err(|e| bad(&e.to_string()))?;
        let client_endpoint =
            r.client_endpoint.as_deref().ok_or_else(|| bad("no client_endpoint in the token response"))?;
        let client_endpoint = rest_base(client_endpoint, self.allow_insecure)?;
        let server_endpoint = r.server_endpoint.as_deref().and_then(|s| rest_base(s, self.allow_insecure).ok());
        let now = chrono::Utc::now().timestamp();
        let expires_at = r.expires.unwrap_or_else(|| now + r.expires_in.unwrap_or(3600) as i64);
        let user_id = match r.user_id {
            Some(serde_json::Value::Number(n)) => n.as_u64(),
            Some(serde_json::Value::String(s)) => s.parse().ok(),
            _ => None,
        };
        Ok(TokenGrant {
            tokens: TokenPair {
                access_token: SecretString::from(r.access_token.into_secret()),
                refresh_token: SecretString::from(refresh.into_secret()),
                expires_at,
            },
            member_id,
            client_endpoint,
            server_endpoint,
            domain: r.domain.unwrap_or_default(),
            scope: r.scope.unwrap_or_default(),
            status: r.status.unwrap_or_default(),
            user_id,
        })
    }
}

fn describe_transport(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "connection failed".into()
    } else {
        e.to_string()
    }
}

fn token_error(e: RequestTokenError<AdapterError, BasicErrorResponse>) -> BitrixError {
    match e {
        RequestTokenError::ServerResponse(r) => {
            let raw = r.error().as_ref().to_owned();
            BitrixError::Api(ApiError {
                code: ErrorCode::parse(&raw),
                raw_code: raw,
                description: r.error_description().cloned().unwrap_or_default(),
                http_status: 0,
                method: METHOD.into(),
            })
        }
        RequestTokenError::Request(e) if e.0 == "timed out" => {
            BitrixError::Timeout { method: METHOD.into(), seconds: 0 }
        }
        RequestTokenError::Request(e) => BitrixError::Transport { method: METHOD.into(), cause: e.0 },
        RequestTokenError::Parse(e, _) => {
            BitrixError::BadResponse { method: METHOD.into(), status: 0, problem: e.to_string() }
        }
        RequestTokenError::Other(problem) => BitrixError::BadResponse { method: METHOD.into(), status: 0, problem },
    }
}

/// Whether a token-endpoint refusal means the refresh token is dead for good.
pub fn is_dead_grant(e: &BitrixError) -> bool {
    matches!(
        e.code(),
        Some(ErrorCode::InvalidGrant | ErrorCode::PaymentRequired | ErrorCode::InvalidClient | ErrorCode::WrongClient)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bitrix_token_response_without_token_type_parses() {
        let body = r#"{"access_token":"a","client_endpoint":"https://p.bitrix24.com/rest/","domain":"oauth.bitrix.info",
            "expires":1780319382,"expires_in":3600,"member_id":"a223c6b3710f85df22e9377d6c4f7553","refresh_token":"r",
            "scope":"crm,user","server_endpoint":"https://oauth.bitrix.info/rest/","status":"F","user_id":67}"#;
        let r: BitrixTokenResponse = serde_json::from_str(body).unwrap();
        let client = OAuthClient::new(
            &"https://oauth.bitrix.info".parse().unwrap(),
            "id",
            &SecretString::from("s"),
            false,
            Duration::from_secs(5),
        )
        .unwrap();
        let g = client.grant(r).unwrap();
        assert_eq!(g.tokens.expires_at, 1780319382);
        assert_eq!(g.user_id, Some(67));
        assert_eq!(g.client_endpoint.as_str(), "https://p.bitrix24.com/rest/");
        assert_eq!(g.scope, "crm,user");
    }
}
