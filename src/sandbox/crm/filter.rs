//! One filter engine for the CRM list methods (`crm.calllist.list`, reference 1.5; `crm.item.list`, 2.2): keys
//! are an operator and a field (`>=ID`, `%lastName`); values compare as numbers, moments or text; groups nest
//! with `logic: OR` in `crm.item.list`. Each method says which fields it takes and how a row's fields read.

use std::borrow::Cow;
use std::cmp::Ordering;

use serde_json::Value;

use crate::sandbox::call::RestError;
use crate::sandbox::params::{PArr, PValue};

/// Splits an ORM filter key into its operator and field (`>=ID` → (`>=`, `ID`)).
pub fn split_op(key: &str) -> (&str, &str) {
    for op in ["!=%", "!%=", "!@", "!%", "!=", ">=", "<=", "=%", "%=", "@", "%", ">", "<", "=", "!"] {
        if let Some(rest) = key.strip_prefix(op) {
            return (op, rest);
        }
    }
    ("=", key)
}

/// A filter value prepared once per call rather than once per row: its PHP string, that string read as a
/// number, and lower-cased.
struct Want {
    raw: PValue,
    text: Option<String>,
    num: Option<f64>,
    lower: Option<String>,
    /// The value read as a date and time (unix seconds), for date fields.
    time: Option<i64>,
}

impl Want {
    fn new(v: &PValue) -> Self {
        let text = v.php_string();
        let num = text.as_deref().and_then(|t| t.trim().parse::<f64>().ok());
        let lower = text.as_deref().map(str::to_lowercase);
        let time = text.as_deref().and_then(parse_datetime);
        Want { raw: v.clone(), text, num, lower, time }
    }
}

/// A date and time as a filter value or a stored date may be written: ISO 8601 with an offset
/// (`2025-03-01T10:00:00+03:00`), or without one, with a space or `T`, or a date alone (`2025-03-01`), or the
/// Russian portal's `01.03.2025[ 10:00:00]`; the last forms are in the portal's time zone. Unix seconds.
pub fn parse_datetime(text: &str) -> Option<i64> {
    use chrono::{DateTime, Local, NaiveDate, NaiveDateTime, TimeZone};
    let t = text.trim();
    if t.len() < 10 || !t.as_bytes()[0].is_ascii_digit() {
        return None;
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Some(d.timestamp());
    }
    let naive = ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%d.%m.%Y %H:%M:%S"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(t, f).ok())
        .or_else(|| {
            ["%Y-%m-%d", "%d.%m.%Y"].iter().find_map(|f| NaiveDate::parse_from_str(t, f).ok()?.and_hms_opt(0, 0, 0))
        })?;
    Local.from_local_datetime(&naive).earliest().map(|d| d.timestamp())
}

/// A row value as text (`null` is empty).
fn value_text(v: &Value) -> Cow<'_, str> {
    match v {
        Value::String(s) => Cow::Borrowed(s),
        Value::Null => Cow::Borrowed(""),
        other => Cow::Owned(other.to_string()),
    }
}

/// Compares a row value with a filter value: numerically when both look like numbers, as moments when both
/// read as dates, else as text.
fn cmp_values(a: &Value, b: &Want) -> Option<Ordering> {
    if a.is_null() {
        return None;
    }
    let a_text = value_text(a);
    let b_lower = b.lower.as_deref()?;
    match (a_text.parse::<f64>(), b.num) {
        (Ok(x), Some(y)) => x.partial_cmp(&y),
        _ => match (b.time, b.time.and_then(|_| parse_datetime(&a_text))) {
            (Some(y), Some(x)) => Some(x.cmp(&y)),
            _ => Some(a_text.to_lowercase().as_str().cmp(b_lower)),
        },
    }
}

fn like(hay: &str, pattern: &str) -> bool {
    // `%` is the only wildcard honoured.
    let hay = hay.to_lowercase();
    let parts: Vec<String> = pattern.to_lowercase().split('%').map(str::to_owned).collect();
    if parts.len() == 1 {
        return hay == parts[0];
    }
    let mut pos = 0;
    for (i, part) in parts.iter().enumerate() {
        if part.is_empty() {
            continue;
        }
        if i == 0 {
            if !hay.starts_with(part.as_str()) {
                return false;
            }
            pos = part.len();
        } else if i == parts.len() - 1 {
            return hay.len() >= pos + part.len() && hay[pos..].ends_with(part.as_str());
        } else {
            match hay[pos..].find(part.as_str()) {
                Some(j) => pos += j + part.len(),
                None => return false,
            }
        }
    }
    true
}

/// One filter condition (operator and value), prepared once and then tried on many rows.
pub struct Matcher {
    op: String,
    /// The value as a whole (for `>`, `<`, …).
    whole: Want,
    /// Its elements when it is an array, else the value itself (for `=`, `@`, `%`, …).
    list: Vec<Want>,
}

impl Matcher {
    pub fn new(op: &str, want: &PValue) -> Self {
        let list = match want {
            PValue::Arr(a) => a.values().map(Want::new).collect(),
            other => vec![Want::new(other)],
        };
        Matcher { op: op.to_owned(), whole: Want::new(want), list }
    }

    fn eq(&self, v: &Value) -> bool {
        self.list.iter().any(|w| match (v, &w.raw) {
            (Value::Null, PValue::Null) => true,
            (Value::Null, PValue::Str(s)) => s.is_empty(),
            (Value::Bool(b), _) => {
                w.text.as_deref().map(|s| matches!(s, "Y" | "y" | "1" | "true") == *b).unwrap_or(false)
            }
            _ => cmp_values(v, w) == Some(Ordering::Equal),
        })
    }

    fn contains(&self, v: &Value) -> bool {
        let hay = value_text(v).to_lowercase();
        self.list.iter().any(|w| w.lower.as_deref().is_some_and(|s| hay.contains(s)))
    }

    fn pattern(&self, v: &Value) -> bool {
        self.list.iter().any(|w| w.text.as_deref().is_some_and(|s| like(&value_text(v), s)))
    }

    fn ord(&self, v: &Value, f: fn(Ordering) -> bool) -> bool {
        cmp_values(v, &self.whole).is_some_and(f)
    }

    /// The condition on a value (`values` is a list for multifields like phones).
    pub fn matches(&self, values: &[Value]) -> bool {
        let any = |f: &dyn Fn(&Value) -> bool| values.iter().any(f);
        match self.op.as_str() {
            "=" | "@" => any(&|v| self.eq(v)),
            "!=" | "!" | "!@" => !any(&|v| self.eq(v)),
            "%" => any(&|v| self.contains(v)),
            "!%" => !any(&|v| self.contains(v)),
            "=%" | "%=" => any(&|v| self.pattern(v)),
            "!=%" | "!%=" => !any(&|v| self.pattern(v)),
            ">" => any(&|v| self.ord(v, Ordering::is_gt)),
            ">=" => any(&|v| self.ord(v, Ordering::is_ge)),
            "<" => any(&|v| self.ord(v, Ordering::is_lt)),
            "<=" => any(&|v| self.ord(v, Ordering::is_le)),
            _ => false,
        }
    }
}

/// How a method writes its filter.
pub struct Syntax<'a> {
    /// The key that makes a group OR (`logic` in `crm.item.list`); `None` where the method takes no groups,
    /// so every key is a condition.
    pub logic_key: Option<&'a str>,
    /// Accepts a condition on a field with its value, or answers the method's error for it.
    pub check: &'a dyn Fn(&str, &PValue) -> Result<(), RestError>,
}

/// A parsed filter: conditions joined by AND or OR, possibly nested. A condition's matcher is boxed, as a
/// prepared value is large and most filters have few conditions.
pub enum Filter {
    Cond { field: String, m: Box<Matcher> },
    Group { or: bool, parts: Vec<Filter> },
}

impl Filter {
    /// No condition: every row matches.
    pub fn none() -> Filter {
        Filter::Group { or: false, parts: Vec::new() }
    }

    pub fn parse(f: &PArr, syntax: &Syntax<'_>) -> Result<Filter, RestError> {
        let logic = syntax.logic_key;
        let or =
            logic.and_then(|key| f.get(key)).and_then(PValue::php_string).is_some_and(|l| l.eq_ignore_ascii_case("or"));
        let mut parts = Vec::new();
        for (k, v) in f.iter() {
            if logic.is_some_and(|key| key == k) {
                continue;
            }
            if let (Some(_), true, PValue::Arr(sub)) = (logic, k.bytes().all(|b| b.is_ascii_digit()), v) {
                parts.push(Filter::parse(sub, syntax)?);
                continue;
            }
            let (op, field) = split_op(k);
            (syntax.check)(field, v)?;
            parts.push(Filter::Cond { field: field.to_owned(), m: Box::new(Matcher::new(op, v)) });
        }
        Ok(Filter::Group { or, parts })
    }

    pub fn is_empty(&self) -> bool {
        matches!(self, Filter::Group { parts, .. } if parts.is_empty())
    }

    /// Whether a row matches; `values` reads one field of the row: one value, or each value of a multifield
    /// such as phones (a condition holds for a multifield when it holds for one of its values).
    pub fn matches(&self, values: &dyn Fn(&str) -> Vec<Value>) -> bool {
        match self {
            Filter::Cond { field, m } => m.matches(&values(field)),
            Filter::Group { or: true, parts } => parts.is_empty() || parts.iter().any(|p| p.matches(values)),
            Filter::Group { or: false, parts } => parts.iter().all(|p| p.matches(values)),
        }
    }

    /// The IDs the filter can match, from a condition on `id_field` at the top level of an AND filter: a
    /// superset (the filter still decides every row), so that a lookup by IDs or an `>id` page does not scan
    /// the table.
    pub fn id_span(&self, id_field: &str) -> IdSpan {
        let Filter::Group { or: false, parts } = self else {
            return IdSpan::All;
        };
        parts
            .iter()
            .find_map(|p| match p {
                Filter::Cond { field, m } if field == id_field => m.id_span(),
                _ => None,
            })
            .unwrap_or(IdSpan::All)
    }
}

/// Which IDs to read rows for.
pub enum IdSpan {
    All,
    /// Ascending, without duplicates.
    Ids(Vec<u64>),
    Range(u64, u64),
}

/// Integers below this are exact as `f64`, so a number there equals exactly one ID.
const EXACT_F64: f64 = 9_007_199_254_740_992.0;

impl Matcher {
    /// The IDs an `id` condition can match (row IDs compare as numbers, see [`cmp_values`]); `None` when it
    /// cannot tell.
    fn id_span(&self) -> Option<IdSpan> {
        match self.op.as_str() {
            "=" | "@" => {
                let mut ids = Vec::new();
                for w in &self.list {
                    match w.num {
                        // Text that is not a number never equals an ID's digits, nor does a fraction.
                        None => {}
                        Some(x) if x.is_finite() && x.fract() != 0.0 => {}
                        Some(x) if x.is_finite() && (0.0..EXACT_F64).contains(&x) => ids.push(x as u64),
                        Some(x) if x.is_finite() && x < 0.0 => {}
                        Some(_) => return None,
                    }
                }
                ids.sort_unstable();
                ids.dedup();
                Some(IdSpan::Ids(ids))
            }
            ">" | ">=" => {
                let y = self.whole.num.filter(|y| y.is_finite() && y.abs() < EXACT_F64)?;
                Some(IdSpan::Range(if y <= 0.0 { 0 } else { y.floor() as u64 }, u64::MAX))
            }
            "<" | "<=" => {
                let y = self.whole.num.filter(|y| y.is_finite() && y.abs() < EXACT_F64)?;
                Some(if y < 0.0 { IdSpan::Ids(Vec::new()) } else { IdSpan::Range(0, y.ceil() as u64) })
            }
            _ => None,
        }
    }
}
