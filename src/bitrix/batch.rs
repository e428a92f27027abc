//! `batch`: up to 50 calls in one request (reference 5.6). The portal counts a batch as one request
//! against its bucket, so reads are packed here. Its answer maps each command key to a result or an error;
//! when the keys are 0..n-1 those maps come back as JSON arrays, and empty maps as `[]`, so every map is
//! read as "object or array". Our own keys are never numeric, but the parser does not rely on it.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde::de::{DeserializeOwned, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
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

/// Each command's outcome. Results stay as the portal's text until taken, as a `Value` or as typed rows.
#[derive(Debug, Default, Clone)]
pub struct BatchOutcome {
    pub results: BTreeMap<String, Box<RawValue>>,
    pub errors: BTreeMap<String, ApiError>,
    pub totals: BTreeMap<String, u64>,
    pub nexts: BTreeMap<String, u64>,
    /// HTTP requests it took.
    pub requests: u32,
}

impl BatchOutcome {
    /// The result of `key`, or its error, or a `BadResponse` if the portal gave neither.
    pub fn take(&mut self, key: &str) -> Result<Value, BitrixError> {
        self.take_as(key, "batch")
    }

    /// The result of `key` read straight into `T` (no `Value` tree in between), or its error; a result of
    /// another shape is a `BadResponse` naming `method`.
    pub fn take_as<T: DeserializeOwned>(&mut self, key: &str, method: &str) -> Result<T, BitrixError> {
        if let Some(raw) = self.results.remove(key) {
            return serde_json::from_str(raw.get()).map_err(|e| BitrixError::BadResponse {
                method: method.into(),
                status: 200,
                problem: format!("an answer of another shape ({e})"),
            });
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

/// The batch's `result`: one map per kind of outcome (`result`, `result_error`, `result_total`,
/// `result_next`, `result_time`), each keyed by command. Read as a map, so an answer of another kind is
/// refused rather than read by position.
#[derive(Deserialize)]
#[serde(transparent)]
pub(crate) struct Answers(HashMap<String, Keyed>);

impl Answers {
    fn part(&mut self, name: &str) -> Vec<(String, Box<RawValue>)> {
        self.0.remove(name).map(|k| k.0).unwrap_or_default()
    }
}

/// A map by command key, its values left as text. PHP sends a map whose keys are 0..n-1 as a list, and an
/// empty one as `[]`, so a list is read by position; `null` reads as empty, anything else is a bad answer.
#[derive(Default)]
pub(crate) struct Keyed(Vec<(String, Box<RawValue>)>);

impl<'de> Deserialize<'de> for Keyed {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Keyed, D::Error> {
        struct KeyedVisitor;
        impl<'de> Visitor<'de> for KeyedVisitor {
            type Value = Keyed;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map or a list of results")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Keyed, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = map.next_entry::<String, Box<RawValue>>()? {
                    out.push(entry);
                }
                Ok(Keyed(out))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Keyed, A::Error> {
                let mut out = Vec::new();
                while let Some(v) = seq.next_element::<Box<RawValue>>()? {
                    out.push((out.len().to_string(), v));
                }
                Ok(Keyed(out))
            }
            fn visit_unit<E>(self) -> Result<Keyed, E> {
                Ok(Keyed::default())
            }
        }
        d.deserialize_any(KeyedVisitor)
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
        let envelope = self.call_raw::<Answers>("batch", params, repeatable).await?;
        let mut out = parse(commands, envelope.result);
        out.requests = self.requests_sent() - before;
        Ok(out)
    }
}

fn parse(commands: &[Command], mut answers: Answers) -> BatchOutcome {
    let method_of =
        |key: &str| commands.iter().find(|c| c.key == key).map(|c| c.method.clone()).unwrap_or_else(|| "batch".into());
    let mut out = BatchOutcome::default();
    out.results.extend(answers.part("result"));
    for (k, raw) in answers.part("result_error") {
        let v: Value = serde_json::from_str(raw.get()).unwrap_or(Value::Null);
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
    let numbers = |part: Vec<(String, Box<RawValue>)>| {
        part.into_iter().filter_map(|(k, raw)| {
            let v: Value = serde_json::from_str(raw.get()).ok()?;
            Some((k, as_u64(&v)?))
        })
    };
    out.totals.extend(numbers(answers.part("result_total")));
    out.nexts.extend(numbers(answers.part("result_next")));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn list_shaped_maps_are_read_by_position() {
        let cmds = [Command::new("0", "user.current", json!({})), Command::new("1", "profile", json!({}))];
        let answer = json!({"result": [{"ID": "1"}], "result_error": {"1": {"error": "ACCESS_DENIED",
                            "error_description": "no"}}, "result_total": [], "result_next": {"0": "50"}});
        let mut out = parse(&cmds, serde_json::from_value(answer).unwrap());
        assert_eq!(out.nexts["0"], 50);
        assert_eq!(out.errors["1"].code, ErrorCode::AccessDenied);
        assert_eq!(out.errors["1"].method, "profile");
        assert_eq!(out.take("0").unwrap(), json!({"ID": "1"}));
    }

    #[test]
    fn a_batch_result_that_is_not_a_map_is_refused() {
        assert!(serde_json::from_str::<Answers>("[[], {}]").is_err(), "not read by position");
        assert!(serde_json::from_str::<Answers>(r#"{"result": 5}"#).is_err(), "a number is not a map of results");
        let empty: Answers =
            serde_json::from_str(r#"{"result": [], "result_error": [], "result_next": null}"#).unwrap();
        let out = parse(&[], empty);
        assert!(out.results.is_empty() && out.errors.is_empty());
    }

    #[test]
    fn commands_are_encoded_php_style() {
        let c = Command::new("a", "crm.item.list", json!({"entityTypeId": 3, "filter": {"@id": [1, 2]}}));
        assert_eq!(c.encode(), "crm.item.list?entityTypeId=3&filter%5B%40id%5D%5B0%5D=1&filter%5B%40id%5D%5B1%5D=2");
    }
}
