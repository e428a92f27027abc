//! How the grant reaches the token endpoint: in a POST body, so the client secret, the code and the refresh
//! token never stand in a URL; as the GET of Bitrix24's pages only when the server will not read the body.
//! The sandbox keeps no record of token requests, so a recording forwarder stands in front of it and keeps
//! each request exactly as the OAuth server receives it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use b24_calllist::bitrix::{BitrixError, ErrorCode, OAuthClient};
use b24_calllist::sandbox::{OAuthFault, Quirks, Sandbox, SandboxConfig};
use secrecy::SecretString;
use url::Url;

use super::unlimited;

/// One request as the OAuth server got it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    /// The request target: path and query.
    target: String,
    body: String,
    status: u16,
}

#[derive(Clone)]
struct Forwarder {
    to: Url,
    seen: Arc<Mutex<Vec<Seen>>>,
    /// Answer 405 to a POST, as a server that takes GET only would.
    refuse_post: bool,
    http: reqwest::Client,
}

async fn forward(req: HttpRequest, body: web::Bytes, f: web::Data<Forwarder>) -> HttpResponse {
    let target = req.uri().path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_default();
    let mut seen = Seen {
        method: req.method().to_string(),
        target: target.clone(),
        body: String::from_utf8_lossy(&body).into(),
        status: 0,
    };
    if f.refuse_post && req.method() == actix_web::http::Method::POST {
        seen.status = 405;
        f.seen.lock().unwrap().push(seen);
        return HttpResponse::MethodNotAllowed().insert_header(("Allow", "GET")).finish();
    }
    let url = f.to.join(target.trim_start_matches('/')).unwrap();
    let method = reqwest::Method::from_bytes(req.method().as_str().as_bytes()).unwrap();
    let mut out = f.http.request(method, url).body(body.to_vec());
    if let Some(ct) = req.headers().get("content-type") {
        out = out.header("content-type", ct.as_bytes());
    }
    let answer = out.send().await.unwrap();
    let status = answer.status().as_u16();
    let content_type = answer.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned());
    let bytes = answer.bytes().await.unwrap();
    seen.status = status;
    f.seen.lock().unwrap().push(seen);
    let mut reply = HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap());
    if let Some(ct) = content_type {
        reply.insert_header(("content-type", ct));
    }
    reply.body(bytes)
}

/// A forwarder to `to` on a free port; returns its address and what it saw.
fn forwarder(to: Url, refuse_post: bool) -> (Url, Arc<Mutex<Vec<Seen>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let state = Forwarder { to, seen: seen.clone(), refuse_post, http: reqwest::Client::new() };
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let at: Url = format!("http://{}/", listener.local_addr().unwrap()).parse().unwrap();
    let server =
        HttpServer::new(move || App::new().app_data(web::Data::new(state.clone())).default_service(web::to(forward)))
            .workers(1)
            .listen(listener)
            .unwrap()
            .run();
    tokio::spawn(server);
    (at, seen)
}

fn client_at(server: &Url, sandbox: &Sandbox) -> OAuthClient {
    OAuthClient::new(
        server,
        sandbox.client_id(),
        &SecretString::from(sandbox.client_secret().to_owned()),
        true,
        Duration::from_secs(5),
    )
    .unwrap()
}

/// An authorization code as the portal's `/oauth/authorize/` hands it to the app (reference 4.1).
async fn a_code(sandbox: &Sandbox) -> String {
    let mut authorize = sandbox.portal_url().join("oauth/authorize/").unwrap();
    authorize
        .query_pairs_mut()
        .append_pair("client_id", sandbox.client_id())
        .append_pair("state", "s")
        .append_pair("user", "1");
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let r = http.get(authorize).send().await.unwrap();
    let to: Url = r.headers()["location"].to_str().unwrap().parse().unwrap();
    to.query_pairs().find(|(k, _)| k == "code").map(|(_, v)| v.into_owned()).expect("a code")
}

fn with_app(config: SandboxConfig) -> SandboxConfig {
    SandboxConfig { app_url: Some("http://127.0.0.1:9/".parse().unwrap()), ..config }
}

fn secrets_of(sandbox: &Sandbox, grant: &str) -> [String; 2] {
    [sandbox.client_secret().to_owned(), grant.to_owned()]
}

#[tokio::test]
async fn the_grant_and_the_client_secret_travel_in_a_post_body_never_in_the_url() {
    let sandbox = Sandbox::start(with_app(unlimited())).await.unwrap();
    let (at, seen) = forwarder(sandbox.oauth_url(), false);
    let oauth = client_at(&at, &sandbox);
    let code = a_code(&sandbox).await;
    oauth.exchange_code(&code).await.expect("the code is exchanged");
    let refresh = sandbox.issue_tokens(2).unwrap().refresh_token;
    oauth.refresh(&SecretString::from(refresh.clone())).await.expect("the token is refreshed");

    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "one request per grant: {seen:?}");
    for (request, grant) in seen.iter().zip([&code, &refresh]) {
        assert_eq!(request.method, "POST");
        assert_eq!(request.status, 200);
        for secret in secrets_of(&sandbox, grant) {
            assert!(!request.target.contains(&secret), "a secret in the URL the OAuth server saw: {}", request.target);
            assert!(request.body.contains(&secret), "the grant is in the body");
        }
    }
    let stats = sandbox.oauth_stats();
    assert_eq!((stats.code_grants, stats.refresh_grants, stats.rejected_grants), (1, 1, 0));
}

/// A server that reads only the query (the sandbox's `token_endpoint_reads_post_body: false`) answers a
/// POST `invalid_request`: it found no grant, so nothing was spent, and the client sends the same grant as
/// a GET. It remembers: the next grant goes as a GET at once.
#[tokio::test]
async fn a_server_that_reads_only_the_query_gets_the_grant_in_a_get() {
    let config =
        SandboxConfig { quirks: Quirks { token_endpoint_reads_post_body: false, ..Quirks::default() }, ..unlimited() };
    let sandbox = Sandbox::start(with_app(config)).await.unwrap();
    let (at, seen) = forwarder(sandbox.oauth_url(), false);
    let oauth = client_at(&at, &sandbox);
    let first = sandbox.issue_tokens(2).unwrap().refresh_token;
    let grant = oauth.refresh(&SecretString::from(first.clone())).await.expect("refreshed through the fallback");
    oauth.refresh(&grant.tokens.refresh_token).await.expect("and again");

    let seen = seen.lock().unwrap().clone();
    let shape: Vec<(&str, u16)> = seen.iter().map(|s| (s.method.as_str(), s.status)).collect();
    assert_eq!(shape, [("POST", 400), ("GET", 200), ("GET", 200)], "{seen:?}");
    assert!(seen[0].body.contains(&first) && !seen[0].target.contains(&first));
    assert!(seen[1].target.contains(&first), "the fallback is Bitrix24's documented GET");
    let stats = sandbox.oauth_stats();
    assert_eq!((stats.refresh_grants, stats.rejected_refresh_reuse), (2, 0), "nothing was spent twice");
}

/// A server that refuses the method itself (405) gets the GET too.
#[tokio::test]
async fn a_server_that_refuses_post_gets_the_grant_in_a_get() {
    let sandbox = Sandbox::start(with_app(unlimited())).await.unwrap();
    let (at, seen) = forwarder(sandbox.oauth_url(), true);
    let oauth = client_at(&at, &sandbox);
    let refresh = sandbox.issue_tokens(2).unwrap().refresh_token;
    oauth.refresh(&SecretString::from(refresh)).await.expect("refreshed through the fallback");
    let shape: Vec<(String, u16)> = seen.lock().unwrap().iter().map(|s| (s.method.clone(), s.status)).collect();
    assert_eq!(shape, [("POST".to_owned(), 405), ("GET".to_owned(), 200)]);
}

/// Any other refusal of a POST is the server's answer to the grant it read: it is reported, never sent
/// again as a GET (a refresh token is single-use).
#[tokio::test]
async fn a_grant_the_server_read_and_refused_is_not_sent_again() {
    let sandbox = Sandbox::start(with_app(unlimited())).await.unwrap();
    let (at, seen) = forwarder(sandbox.oauth_url(), false);
    let oauth = client_at(&at, &sandbox);
    let refresh = sandbox.issue_tokens(2).unwrap().refresh_token;
    for (fault, code) in [
        (OAuthFault::InvalidGrant, ErrorCode::InvalidGrant),
        (OAuthFault::PaymentRequired, ErrorCode::PaymentRequired),
        (OAuthFault::WrongClient, ErrorCode::WrongClient),
    ] {
        sandbox.inject_oauth(fault, Some(1));
        let before = seen.lock().unwrap().len();
        let e = oauth.refresh(&SecretString::from(refresh.clone())).await;
        assert!(matches!(&e, Err(BitrixError::Api(a)) if a.code == code), "{fault:?}: {e:?}");
        assert_eq!(seen.lock().unwrap().len(), before + 1, "{fault:?}: one request");
    }
    assert_eq!(sandbox.oauth_stats().refresh_grants, 0);
}
