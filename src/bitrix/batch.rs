//! `batch`: up to 50 calls in one request (reference 5.6). The portal counts a batch as one request
//! against its bucket, so reads are packed here. Its answer maps each command key to a result or an error;
//! when the keys are 0..n-1 those maps come back as JSON arrays, and empty maps as `[]`, so every map is
//! read as "object or array". Our own keys are never numeric, but the parser does not rely on it.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::error::{ApiError, BitrixError, ErrorCode};
use super::query;
use super::rest::{Caller, as_u64, is_repeatable};
use super::tokens::TokenStore;

/// The most commands one `batch` may hold.
pub const MAX_COMMANDS: usize = 50;

/// One command: a key of our choosing, a method and its parameters.
#[derive(Debug, Clone)]
pub struct Command {
    pub key: String,
    pub method: String,
    pub params: Value,
}

impl Command {
    pub fn new(key: impl Into<String>, method: &str, params: Value) -> Command {
        Command { key: key.into(), method: method.to_owned(), params }
    }

    /// `method?query`, as `cmd` wants it.
    fn encode(&self) -> String {
        let q = query::build(&self.params);
        if q.is_empty() { self.method.clone() } else { format!("{}?{q}", self.method) }
    }
}

/// Each command's outcome.
#[derive(Debug, Default, Clone)]
pub struct BatchOutcome {
    pub results: BTreeMap<String, Value>,
    pub errors: BTreeMap<String, ApiError>,
    pub totals: BTreeMap<String, u64>,
    pub nexts: BTreeMap<String, u64>,
    /// HTTP requests it took.
    pub requests: u32,
}

impl BatchOutcome {
    /// The result of `key`, or its error, or a `BadResponse` if the portal gave neither.
    pub fn take(&mut self, key: &str) -> Result<Value, BitrixError> {
        if let Some(v) = self.results.remove(key) {
            return Ok(v);
        }
        if let Some(e) = self.errors.remove(key) {
            return Err(BitrixError::Api(e));
        }
        Err(BitrixError::BadResponse {
            method: "batch".into(),
            status: 200,
            problem: format!("no result and no error for command `{key}`"),
        })
    }
}

/// One of the answer's maps, taken out of it (not copied: results can be large).
fn entries(v: Option<Value>) -> Vec<(String, Value)> {
    match v {
        Some(Value::Object(m)) => m.into_iter().collect(),
        Some(Value::Array(items)) => items.into_iter().enumerate().map(|(i, v)| (i.to_string(), v)).collect(),
        _ => Vec::new(),
    }
}

impl<S: TokenStore> Caller<'_, S> {
    /// Runs `commands` in as few `batch` requests as the 50-command cap allows, in order. Commands in
    /// different requests cannot refer to each other's results; use [`Caller::batch_once`] for that.
    pub async fn batch(&self, commands: &[Command]) -> Result<BatchOutcome, BitrixError> {
        let mut all = BatchOutcome::default();
        for chunk in commands.chunks(MAX_COMMANDS) {
            let part = self.batch_once(chunk, false).await?;
            all.results.extend(part.results);
            all.errors.extend(part.errors);
            all.totals.extend(part.totals);
            all.nexts.extend(part.nexts);
            all.requests += part.requests;
        }
        Ok(all)
    }

    /// One `batch` request of at most 50 commands, run by the portal in the order given (the JSON object keeps
    /// insertion order); `$result[key]…` references between them work.
    pub async fn batch_once(&self, commands: &[Command], halt: bool) -> Result<BatchOutcome, BitrixError> {
        if commands.is_empty() {
            return Ok(BatchOutcome::default());
        }
        if commands.len() > MAX_COMMANDS {
            return Err(BitrixError::Invalid(format!(
                "a batch holds at most {MAX_COMMANDS} commands, not {}",
                commands.len()
            )));
        }
        let mut cmd = Map::new();
        for c in commands {
            if cmd.insert(c.key.clone(), Value::String(c.encode())).is_some() {
                return Err(BitrixError::Invalid(format!("batch command key `{}` is used twice", c.key)));
            }
        }
        let repeatable = commands.iter().all(|c| is_repeatable(&c.method));
        let mut params = Map::new();
        params.insert("halt".into(), Value::from(if halt { 1 } else { 0 }));
        params.insert("cmd".into(), Value::Object(cmd));
        let before = self.requests_sent();
        let envelope = self.call_with("batch", params, repeatable).await?;
        let mut out = parse(commands, envelope.result)?;
        out.requests = self.requests_sent() - before;
        Ok(out)
    }
}

fn parse(commands: &[Command], result: Value) -> Result<BatchOutcome, BitrixError> {
    let Value::Object(mut body) = result else {
        return Err(BitrixError::BadResponse {
            method: "batch".into(),
            status: 200,
            problem: "the batch result is not an object".into(),
        });
    };
    let method_of =
        |key: &str| commands.iter().find(|c| c.key == key).map(|c| c.method.clone()).unwrap_or_else(|| "batch".into());
    let mut out = BatchOutcome::default();
    for (k, v) in entries(body.remove("result")) {
        out.results.insert(k, v);
    }
    for (k, v) in entries(body.remove("result_error")) {
        let raw = v.get("error").map(|e| e.as_str().map(str::to_owned).unwrap_or_else(|| e.to_string()));
        let raw = raw.unwrap_or_default();
        let error = ApiError {
            code: ErrorCode::parse(&raw),
            raw_code: raw,
            description: v.get("error_description").and_then(Value::as_str).unwrap_or_default().to_owned(),
            http_status: 0,
            method: method_of(&k),
        };
        out.results.remove(&k);
        out.errors.insert(k, error);
    }
    for (k, v) in entries(body.remove("result_total")) {
        if let Some(n) = as_u64(&v) {
            out.totals.insert(k, n);
        }
    }
    for (k, v) in entries(body.remove("result_next")) {
        if let Some(n) = as_u64(&v) {
            out.nexts.insert(k, n);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn list_shaped_maps_are_read_by_position() {
        let cmds = [Command::new("0", "user.current", json!({})), Command::new("1", "profile", json!({}))];
        let out = parse(
            &cmds,
            json!({"result": [{"ID": "1"}], "result_error": {"1": {"error": "ACCESS_DENIED", "error_description": "no"}},
                    "result_total": [], "result_next": []}),
        )
        .unwrap();
        assert_eq!(out.results["0"]["ID"], "1");
        assert_eq!(out.errors["1"].code, ErrorCode::AccessDenied);
        assert_eq!(out.errors["1"].method, "profile");
    }

    #[test]
    fn commands_are_encoded_php_style() {
        let c = Command::new("a", "crm.item.list", json!({"entityTypeId": 3, "filter": {"@id": [1, 2]}}));
        assert_eq!(c.encode(), "crm.item.list?entityTypeId=3&filter%5B%40id%5D%5B0%5D=1&filter%5B%40id%5D%5B1%5D=2");
    }
}
