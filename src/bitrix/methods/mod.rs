//! Typed Bitrix24 methods: parameters built from domain types, answers parsed into structs. Bitrix24 sends
//! numbers as strings in some answers and as numbers in others, so ids are read from either.

pub mod app;
pub mod calllist;
pub mod crm;
pub mod rows;

use serde_json::Value;

use super::error::BitrixError;
use super::rest::{as_i64, as_u64};

pub(crate) fn bad(method: &str, problem: impl Into<String>) -> BitrixError {
    BitrixError::BadResponse { method: method.into(), status: 200, problem: problem.into() }
}

pub(crate) fn field_u64(method: &str, row: &Value, key: &str) -> Result<u64, BitrixError> {
    row.get(key).and_then(as_u64).ok_or_else(|| bad(method, format!("`{key}` missing or not a number")))
}

pub(crate) fn opt_u64(row: &Value, key: &str) -> Option<u64> {
    row.get(key).and_then(as_u64).filter(|v| *v > 0)
}

pub(crate) fn opt_i64(row: &Value, key: &str) -> Option<i64> {
    row.get(key).and_then(as_i64)
}

pub(crate) fn text(row: &Value, key: &str) -> String {
    match row.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

pub(crate) fn array(method: &str, v: Value) -> Result<Vec<Value>, BitrixError> {
    match v {
        Value::Array(a) => Ok(a),
        Value::Object(m) if m.is_empty() => Ok(vec![]),
        _ => Err(bad(method, "expected a list")),
    }
}
