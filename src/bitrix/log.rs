//! What the client reports about its calls: the log of REST calls that Bitrix24's marketplace rules ask
//! for (requests and answers of at least the last 3 days), which the store keeps, and a [`CallObserver`]
//! for metrics. Parameters are recorded only after every secret is removed.

use serde_json::Value;

/// One REST exchange as recorded.
#[derive(Debug, Clone)]
pub struct RestCall {
    pub member_id: String,
    pub user_id: Option<crate::domain::UserId>,
    pub method: String,
    /// Parameters, redacted and shortened.
    pub params: String,
    pub http_status: u16,
    /// The error code, or the kind of failure; `None` on success.
    pub error: Option<String>,
    pub duration_ms: u64,
    /// Unix seconds.
    pub at: i64,
}

/// Where the client sends each call. Must not block: implementations queue and write elsewhere.
pub trait RestLog: Send + Sync {
    fn record(&self, call: RestCall);
}

/// Told about every exchange and every wait; metrics hang here.
pub trait CallObserver: Send + Sync {
    fn exchange(&self, method: &str, outcome: &str, elapsed: std::time::Duration);
    fn waited_for_limits(&self, waited: std::time::Duration);
    /// A token renewal: `refreshed`, `adopted` (another worker's pair) or `failed`.
    fn refresh(&self, _outcome: &str) {}
}

/// Keys whose values are secrets, wherever they appear (compared case-insensitively).
const SECRET_KEYS: &[&str] = &[
    "auth",
    "access_token",
    "refresh_token",
    "client_secret",
    "application_token",
    "auth_id",
    "refresh_id",
    "code",
    "password",
    "token",
];

const MAX_LOGGED_PARAMS: usize = 4096;

pub fn is_secret_key(key: &str) -> bool {
    // Bracket keys such as `auth[access_token]` are secret if any part is.
    key.split(['[', ']']).filter(|p| !p.is_empty()).any(|part| SECRET_KEYS.iter().any(|s| s.eq_ignore_ascii_case(part)))
}

/// A copy of `params` with every secret replaced, including those inside `batch` command strings.
pub fn redact(params: &Value) -> Value {
    match params {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = if is_secret_key(k) { Value::String("[redacted]".into()) } else { redact(v) };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redact).collect()),
        Value::String(s) if s.contains('?') && s.contains('=') => Value::String(redact_command(s)),
        other => other.clone(),
    }
}

/// `method?a=1&auth=x` → `method?a=1&auth=[redacted]`.
fn redact_command(cmd: &str) -> String {
    let Some((method, query)) = cmd.split_once('?') else { return cmd.to_owned() };
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        out.append_pair(&k, if is_secret_key(&k) { "[redacted]" } else { &v });
    }
    format!("{method}?{}", out.finish())
}

/// The redacted parameters as a line for the log, cut to a bounded size.
pub fn summarise(params: &Value) -> String {
    let text = redact(params).to_string();
    if text.len() <= MAX_LOGGED_PARAMS {
        return text;
    }
    let mut cut = MAX_LOGGED_PARAMS;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}… ({} bytes)", &text[..cut], text.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_are_removed_everywhere() {
        let p = json!({"auth": "tok1", "LIST_ID": 5, "nested": {"ACCESS_TOKEN": "tok2"},
                       "cmd": {"a": "crm.item.list?entityTypeId=3&auth=tok3"}, "auth[access_token]": "tok4"});
        let s = summarise(&p);
        for secret in ["tok1", "tok2", "tok3", "tok4"] {
            assert!(!s.contains(secret), "{secret} leaked: {s}");
        }
        assert!(s.contains("LIST_ID") && s.contains("entityTypeId=3"));
    }
}
