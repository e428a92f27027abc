//! Conformance of the Bitrix24 sandbox to the reference (`bitrix24-behaviour.md` and the official pages it
//! cites). Every test talks to a running sandbox over real HTTP, with requests built by hand.

mod batch;
mod calllist_read;
mod calllist_update;
mod cli;
mod control;
mod duplicates;
mod faults;
mod frame;
mod items;
mod lifecycle;
mod limits;
mod oauth;
mod own;
mod placements;
mod portals;
mod property;
mod rest;
mod statuses;
mod users;

use b24_calllist::sandbox::{LimitsConfig, Sandbox, SandboxConfig, SeedConfig};
use serde_json::Value;

/// Seeded users (see `sandbox::seed::users`).
pub const ADMIN: u64 = 1;
pub const MANAGER_BOTH: u64 = 2;
pub const MANAGER_CONTACTS: u64 = 3;
pub const MANAGER_COMPANIES: u64 = 4;
pub const NO_CRM: u64 = 5;
/// Reads only the contacts and companies they are responsible for (Bitrix24's "own" level).
pub const MANAGER_OWN: u64 = 6;

pub struct TestPortal {
    pub sb: Sandbox,
    pub http: reqwest::Client,
}

/// A small seed with limits off: most tests are about one behaviour, not the limits.
pub fn small_config() -> SandboxConfig {
    SandboxConfig {
        seed: SeedConfig { contacts: 60, companies: 20, lists: vec![], ..SeedConfig::default() },
        limits: LimitsConfig::off(),
        workers: 1,
        ..SandboxConfig::default()
    }
}

pub async fn start() -> TestPortal {
    start_with(small_config()).await
}

pub async fn start_with(config: SandboxConfig) -> TestPortal {
    let sb = Sandbox::start(config).await.expect("the sandbox starts");
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("a client");
    TestPortal { sb, http }
}

/// A reply: status and parsed JSON (`Value::Null` when the body is not JSON).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub text: String,
}

impl Reply {
    pub async fn of(r: reqwest::Response) -> Reply {
        let status = r.status().as_u16();
        let text = r.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply { status, body, text }
    }

    pub fn error(&self) -> &str {
        self.body["error"].as_str().unwrap_or("")
    }

    pub fn description(&self) -> &str {
        self.body["error_description"].as_str().unwrap_or("")
    }

    /// Asserts an error envelope: status, code and text, and no `time`.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str, description: &str) {
        assert_eq!(
            (self.status, self.error(), self.description()),
            (status, code, description),
            "unexpected answer: {}",
            self.text
        );
        assert!(self.body.get("time").is_none(), "error envelopes carry no time: {}", self.text);
    }

    #[track_caller]
    pub fn assert_ok(&self) -> &Value {
        assert_eq!(self.status, 200, "expected success, got {}", self.text);
        assert!(self.body.get("time").is_some(), "success envelopes carry time: {}", self.text);
        &self.body["result"]
    }
}

impl TestPortal {
    pub fn token(&self, user: u64) -> String {
        self.sb.issue_tokens(user).expect("a known user").access_token
    }

    pub fn rest(&self, method: &str) -> String {
        format!("{}{method}", self.sb.rest_url())
    }

    /// POST with a JSON body; `auth` is added to it.
    pub async fn json(&self, method: &str, token: &str, mut body: Value) -> Reply {
        if let Value::Object(m) = &mut body {
            m.insert("auth".into(), Value::String(token.into()));
        }
        let r = self
            .http
            .post(self.rest(method))
            .header("Content-Type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("the sandbox answers");
        Reply::of(r).await
    }

    /// POST with a form body written by hand (`ENTITIES[]=1&…`); `auth=<token>` is appended.
    pub async fn form(&self, method: &str, token: &str, body: &str) -> Reply {
        let body = if body.is_empty() { format!("auth={token}") } else { format!("{body}&auth={token}") };
        let r = self
            .http
            .post(self.rest(method))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .expect("the sandbox answers");
        Reply::of(r).await
    }

    /// POST with a `multipart/form-data` body written by hand; an `auth` field is appended.
    pub async fn multipart(&self, method: &str, token: &str, parts: &[Part<'_>]) -> Reply {
        let mut all = parts.to_vec();
        all.push(Part::Field("auth", token));
        let (content_type, body) = multipart_body(&all);
        self.post_raw(method, &content_type, body).await
    }

    /// POST with a body and content type as given, nothing added.
    pub async fn post_raw(&self, method: &str, content_type: &str, body: Vec<u8>) -> Reply {
        let r = self
            .http
            .post(self.rest(method))
            .header("Content-Type", content_type)
            .body(body)
            .send()
            .await
            .expect("the sandbox answers");
        Reply::of(r).await
    }

    /// GET with a query string written by hand.
    pub async fn get(&self, method: &str, query: &str) -> Reply {
        let r = self.http.get(format!("{}?{query}", self.rest(method))).send().await.expect("the sandbox answers");
        Reply::of(r).await
    }

    pub async fn control_get(&self, path: &str) -> Value {
        let r = self.http.get(format!("{}_sandbox/{path}", self.sb.portal_url())).send().await.expect("control");
        r.json().await.expect("control answers JSON")
    }

    pub async fn control_post(&self, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}_sandbox/{path}", self.sb.portal_url()))
            .json(&body)
            .send()
            .await
            .expect("control");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// Contacts that exist, by ID order.
    pub fn contact_ids(&self, n: usize) -> Vec<u64> {
        self.sb.contacts().iter().take(n).map(|c| c.id).collect()
    }

    pub fn company_ids(&self, n: usize) -> Vec<u64> {
        self.sb.companies().iter().take(n).map(|c| c.id).collect()
    }
}

/// One part of a multipart body: a field, or a file upload (name, file name, content).
#[derive(Clone, Copy, Debug)]
pub enum Part<'a> {
    Field(&'a str, &'a str),
    File(&'a str, &'a str, &'a str),
}

pub const BOUNDARY: &str = "----sandbox-test-boundary-7MA4YWxkTrZu0gW";

/// A `multipart/form-data` body as a browser writes it: its content type and bytes.
pub fn multipart_body(parts: &[Part<'_>]) -> (String, Vec<u8>) {
    let mut body = String::new();
    for part in parts {
        body.push_str(&format!("--{BOUNDARY}\r\n"));
        match part {
            Part::Field(name, value) => {
                body.push_str(&format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"));
            }
            Part::File(name, file, content) => body.push_str(&format!(
                "Content-Disposition: form-data; name=\"{name}\"; filename=\"{file}\"\r\n\
                 Content-Type: text/plain\r\n\r\n{content}\r\n"
            )),
        }
    }
    body.push_str(&format!("--{BOUNDARY}--\r\n"));
    (format!("multipart/form-data; boundary={BOUNDARY}"), body.into_bytes())
}
