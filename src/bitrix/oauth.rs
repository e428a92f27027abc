//! The OAuth token endpoint (authorization code and refresh grants) through the `oauth2` crate.
//!
//! Two Bitrix24 habits need glue: its token response has no `token_type` and carries fields of its own
//! (`member_id`, `client_endpoint`, …), hence [`BitrixTokenResponse`]; and its pages show the grant as a GET
//! with a query string, which the adapter below sends only when the server will not read a POST body (see
//! [`OAuthClient::send`]). A refresh is never retried here: the refresh token it spent may be gone.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
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
    timeout: Duration,
    /// Set once the server has refused a grant in a POST body and taken it in a query string: this server
    /// reads only the query, so later grants go there at once.
    query_only: Arc<AtomicBool>,
}

impl std::fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "OAuthClient({}, {})", self.server, self.client_id)
    }
}

/// How one exchange with the token endpoint failed before oauth2 could read an answer.
#[derive(Debug, thiserror::Error)]
enum AdapterError {
    #[error("timed out")]
    Timeout,
    #[error("{0}")]
    Transport(String),
    /// A 5xx page that is not an OAuth error body (a proxy or the server failing).
    #[error("HTTP {0} without an OAuth answer")]
    ServerFault(u16),
    #[error("{0}")]
    Other(String),
}

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
        Ok(OAuthClient {
            oauth,
            http,
            server: server.clone(),
            client_id: client_id.to_owned(),
            allow_insecure,
            timeout,
            query_only: Arc::new(AtomicBool::new(false)),
        })
    }

    /// The longest the client waits for the token endpoint's answer.
    pub fn timeout(&self) -> Duration {
        self.timeout
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
        let response = self
            .oauth
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .request_async(&Adapter(self))
            .await
            .map_err(|e| self.token_error(e))?;
        self.grant(response)
    }

    /// Spends a refresh token for a new pair. Never retried: on any failure but a clear refusal, the
    /// caller must assume the refresh token may be spent.
    pub async fn refresh(&self, refresh_token: &SecretString) -> Result<TokenGrant, BitrixError> {
        let token = RefreshToken::new(refresh_token.expose_secret().to_owned());
        let response = self
            .oauth
            .exchange_refresh_token(&token)
            .request_async(&Adapter(self))
            .await
            .map_err(|e| self.token_error(e))?;
        self.grant(response)
    }

    /// Sends oauth2's request: a POST with the grant in a form body, as RFC 6749 (3.2, 2.3.1) asks of a token
    /// request, so the client secret and the refresh token never stand in a URL, where proxies and servers
    /// write them to their access logs.
    ///
    /// Bitrix24's pages (reference 4.1, 4.2) show only a GET with a query string; the reference asks an
    /// emulator to accept a POST form too (section 7, item 13) and lists whether `/oauth/token/` does as an
    /// open question (section 8). So when the server refuses the POST without having read a grant (405, or
    /// `invalid_request`, the answer of a server that reads only the query and so finds no `grant_type`),
    /// the same request is sent once more as Bitrix24 documents it, a GET; a refusal of either kind spends
    /// no code or refresh token, so sending it again is safe. Once a GET has worked after such a refusal,
    /// this client sends grants as GETs from then on. Nothing to set: it finds out by itself.
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, AdapterError> {
        let url = Url::parse(&request.uri().to_string()).map_err(|e| AdapterError::Other(e.to_string()))?;
        if self.query_only.load(Ordering::Relaxed) {
            return self.get_with_query(url, request.body()).await;
        }
        let posted = self.exchange(self.http.post(url.clone()).form_body(request.body())).await?;
        if !grant_not_read(&posted) {
            return Ok(posted);
        }
        tracing::warn!(
            status = posted.status().as_u16(),
            "the OAuth server did not read the grant from a POST body; sending it as a GET, as its pages show"
        );
        let got = self.get_with_query(url, request.body()).await?;
        if got.status().is_success() {
            self.query_only.store(true, Ordering::Relaxed);
        }
        Ok(got)
    }

    async fn get_with_query(&self, mut url: Url, form: &[u8]) -> Result<HttpResponse, AdapterError> {
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(form).into_owned().collect();
        url.query_pairs_mut().extend_pairs(pairs);
        self.exchange(self.http.get(url)).await
    }

    async fn exchange(&self, request: reqwest::RequestBuilder) -> Result<HttpResponse, AdapterError> {
        // reqwest's errors name the URL, which may carry the grant: only their kind is kept.
        let response =
            request.header(reqwest::header::ACCEPT, "application/json").send().await.map_err(transport_error)?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(transport_error)?;
        if status.is_server_error() && serde_json::from_slice::<serde_json::Value>(&body).is_err() {
            return Err(AdapterError::ServerFault(status.as_u16()));
        }
        let mut out = oauth2::http::Response::builder().status(status.as_u16());
        for (name, value) in headers.iter() {
            out = out.header(name.as_str(), value.as_bytes());
        }
        out.body(body.to_vec()).map_err(|e| AdapterError::Other(e.to_string()))
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

/// oauth2's HTTP client: [`OAuthClient::send`], its future named `Send` so that a refresh can run as a task.
struct Adapter<'a>(&'a OAuthClient);

impl<'c> oauth2::AsyncHttpClient<'c> for Adapter<'_> {
    type Error = AdapterError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, AdapterError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(self.0.send(request))
    }
}

trait FormBody {
    fn form_body(self, body: &[u8]) -> Self;
}

impl FormBody for reqwest::RequestBuilder {
    fn form_body(self, body: &[u8]) -> Self {
        self.header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded").body(body.to_vec())
    }
}

/// Whether the token endpoint refused a POST without reading the grant in its body.
fn grant_not_read(response: &HttpResponse) -> bool {
    if response.status().as_u16() == 405 {
        return true;
    }
    if response.status().as_u16() != 400 {
        return false;
    }
    let error = serde_json::from_slice::<serde_json::Value>(response.body())
        .ok()
        .and_then(|v| v.get("error").and_then(serde_json::Value::as_str).map(str::to_owned));
    error.is_some_and(|e| ErrorCode::parse(&e) == ErrorCode::InvalidRequest)
}

fn transport_error(e: reqwest::Error) -> AdapterError {
    if e.is_timeout() {
        AdapterError::Timeout
    } else if e.is_connect() {
        AdapterError::Transport("connection failed".into())
    } else {
        AdapterError::Transport(e.without_url().to_string())
    }
}

impl OAuthClient {
    fn token_error(&self, e: RequestTokenError<AdapterError, BasicErrorResponse>) -> BitrixError {
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
            RequestTokenError::Request(AdapterError::Timeout) => {
                BitrixError::Timeout { method: METHOD.into(), seconds: self.timeout.as_secs() }
            }
            RequestTokenError::Request(AdapterError::Transport(cause)) => {
                BitrixError::Transport { method: METHOD.into(), cause }
            }
            RequestTokenError::Request(AdapterError::ServerFault(status)) => BitrixError::BadResponse {
                method: METHOD.into(),
                status,
                problem: "the OAuth server failed (a server error page, not an OAuth answer)".into(),
            },
            RequestTokenError::Request(AdapterError::Other(problem)) => {
                BitrixError::BadResponse { method: METHOD.into(), status: 0, problem }
            }
            RequestTokenError::Parse(e, _) => {
                BitrixError::BadResponse { method: METHOD.into(), status: 0, problem: e.to_string() }
            }
            RequestTokenError::Other(problem) => BitrixError::BadResponse { method: METHOD.into(), status: 0, problem },
        }
    }
}

/// Whether a token-endpoint refusal means the refresh token is dead for good: the server refuses this grant
/// (`invalid_grant`), the app (`invalid_client`, `wrong_client`), its scopes (`invalid_scope`: the refresh
/// asks for none, so the pair's own scope is refused) or its payment (`PAYMENT_REQUIRED`, reference 4.2:
/// "trial/paid period expired or app removed"). None of these passes by itself; an administrator must
/// re-authorise (or reinstall, or pay first).
pub fn is_dead_grant(e: &BitrixError) -> bool {
    matches!(
        e.code(),
        Some(
            ErrorCode::InvalidGrant
                | ErrorCode::PaymentRequired
                | ErrorCode::InvalidClient
                | ErrorCode::WrongClient
                | ErrorCode::InvalidScope
        )
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
