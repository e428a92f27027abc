//! Request parameters as the portal's PHP sees them: one ordered array built from the query string, a
//! form body with bracket keys (`ENTITIES[]=1`, `auth[access_token]=…`) or a JSON body.
//!
//! PHP arrays keep insertion order and mix integer and string keys; the handlers depend on both (the order of
//! `ENTITIES`, the order of `batch` commands), so values are kept in [`PValue`] rather than `serde_json::Value`,
//! whose maps are sorted.

use std::fmt;

use actix_web::web::Bytes;
use indexmap::IndexMap;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// PHP's `max_input_nesting_level`: deeper bracket keys are dropped.
const MAX_NESTING: usize = 64;

/// A PHP value as it arrives in a request.
#[derive(Clone, Debug, PartialEq)]
pub enum PValue {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Arr(PArr),
}

/// A PHP array: ordered, keys are strings (integer keys in their decimal form).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PArr {
    map: IndexMap<String, PValue>,
    next_index: i64,
}

impl PArr {
    pub fn new() -> Self {
        PArr::default()
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub fn get(&self, key: &str) -> Option<&PValue> {
        self.map.get(key)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }

    pub fn remove(&mut self, key: &str) -> Option<PValue> {
        self.map.shift_remove(key)
    }

    /// `$a[$key] = $v`: keeps the key's position if it exists.
    pub fn insert(&mut self, key: impl Into<String>, value: PValue) {
        let key = key.into();
        if let Some(i) = int_key(&key) {
            self.next_index = self.next_index.max(i.saturating_add(1));
        }
        self.map.insert(key, value);
    }

    /// `$a[] = $v`.
    pub fn push(&mut self, value: PValue) {
        let key = self.next_index.to_string();
        self.insert(key, value);
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &PValue)> {
        self.map.iter()
    }

    pub fn values(&self) -> impl Iterator<Item = &PValue> {
        self.map.values()
    }

    /// `array_change_key_case($a, CASE_UPPER)`: on a clash the later key's value wins, at the earlier position.
    pub fn upper_keys(&self) -> PArr {
        let mut out = PArr::new();
        for (k, v) in &self.map {
            out.insert(k.to_uppercase(), v.clone());
        }
        out
    }

    /// Top-level merge where `other`'s keys win (request body over query string).
    pub fn merge_over(&mut self, other: PArr) {
        for (k, v) in other.map {
            self.insert(k, v);
        }
    }

    /// True when the keys are exactly 0..n-1 in order: PHP's `json_encode` writes such an array as a list.
    pub fn is_list(&self) -> bool {
        self.map.keys().enumerate().all(|(i, k)| int_key(k) == Some(i as i64))
    }

    pub fn to_json(&self) -> serde_json::Value {
        if self.is_list() {
            serde_json::Value::Array(self.map.values().map(PValue::to_json).collect())
        } else {
            serde_json::Value::Object(self.map.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
        }
    }

    fn entry_arr(&mut self, key: Option<&str>) -> &mut PArr {
        let key = match key {
            Some(k) => k.to_owned(),
            None => self.next_index.to_string(),
        };
        if !matches!(self.map.get(&key), Some(PValue::Arr(_))) {
            self.insert(key.clone(), PValue::Arr(PArr::new()));
        }
        match self.map.get_mut(&key) {
            Some(PValue::Arr(a)) => a,
            _ => unreachable!("the entry was just made an array"),
        }
    }
}

impl FromIterator<(String, PValue)> for PArr {
    fn from_iter<T: IntoIterator<Item = (String, PValue)>>(iter: T) -> Self {
        let mut a = PArr::new();
        for (k, v) in iter {
            a.insert(k, v);
        }
        a
    }
}

/// A canonical PHP integer key ("0", "17", "-3"; not "01" or "+1").
fn int_key(key: &str) -> Option<i64> {
    let digits = key.strip_prefix('-').unwrap_or(key);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || (digits.len() > 1 && digits.starts_with('0'))
    {
        return None;
    }
    if key == "-0" {
        return None;
    }
    key.parse().ok()
}

impl PValue {
    pub fn as_arr(&self) -> Option<&PArr> {
        match self {
            PValue::Arr(a) => Some(a),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            PValue::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, PValue::Null)
    }

    /// PHP's `(bool)` cast: `"0"`, `""`, `0`, `0.0`, `null` and `[]` are false; `"false"` is true.
    pub fn php_bool(&self) -> bool {
        match self {
            PValue::Null => false,
            PValue::Bool(b) => *b,
            PValue::Int(i) => *i != 0,
            PValue::Float(f) => *f != 0.0,
            PValue::Str(s) => !(s.is_empty() || s == "0"),
            PValue::Arr(a) => !a.is_empty(),
        }
    }

    /// PHP's `(int)` cast: a string gives its leading integer (`"12abc"` → 12, `"abc"` → 0).
    pub fn php_int(&self) -> i64 {
        match self {
            PValue::Null => 0,
            PValue::Bool(b) => i64::from(*b),
            PValue::Int(i) => *i,
            PValue::Float(f) if f.is_finite() => f.trunc() as i64,
            PValue::Float(_) => 0,
            PValue::Str(s) => leading_int(s),
            PValue::Arr(a) => i64::from(!a.is_empty()),
        }
    }

    /// The value as a PHP string, for scalars (`5.0` → `"5"`, `true` → `"1"`).
    pub fn php_string(&self) -> Option<String> {
        match self {
            PValue::Null => Some(String::new()),
            PValue::Bool(b) => Some(if *b { "1".into() } else { String::new() }),
            PValue::Int(i) => Some(i.to_string()),
            PValue::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => Some(format!("{}", *f as i64)),
            PValue::Float(f) => Some(f.to_string()),
            PValue::Str(s) => Some(s.clone()),
            PValue::Arr(_) => None,
        }
    }

    /// An ID as a database lookup would match it: an integer, an integral float, or a string of digits
    /// (surrounding spaces allowed). Anything else matches no row.
    pub fn as_id(&self) -> Option<u64> {
        match self {
            PValue::Int(i) if *i > 0 => Some(*i as u64),
            PValue::Float(f) if *f > 0.0 && f.fract() == 0.0 && *f < 9e15 => Some(*f as u64),
            PValue::Str(s) => {
                let t = s.trim();
                if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
                    t.parse().ok().filter(|v| *v > 0)
                } else {
                    None
                }
            }
            _ => None,
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match self {
            PValue::Null => Value::Null,
            PValue::Bool(b) => Value::Bool(*b),
            PValue::Int(i) => Value::from(*i),
            PValue::Float(f) => serde_json::Number::from_f64(*f).map(Value::Number).unwrap_or(Value::Null),
            PValue::Str(s) => Value::String(s.clone()),
            PValue::Arr(a) => a.to_json(),
        }
    }

    pub fn from_json(v: &serde_json::Value) -> PValue {
        use serde_json::Value;
        match v {
            Value::Null => PValue::Null,
            Value::Bool(b) => PValue::Bool(*b),
            Value::Number(n) => match n.as_i64() {
                Some(i) => PValue::Int(i),
                None => PValue::Float(n.as_f64().unwrap_or(0.0)),
            },
            Value::String(s) => PValue::Str(s.clone()),
            Value::Array(items) => {
                let mut a = PArr::new();
                for item in items {
                    a.push(PValue::from_json(item));
                }
                PValue::Arr(a)
            }
            Value::Object(m) => PValue::Arr(m.iter().map(|(k, v)| (k.clone(), PValue::from_json(v))).collect()),
        }
    }
}

fn leading_int(s: &str) -> i64 {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, rest) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    if digits.is_empty() {
        return 0;
    }
    let v = digits.parse::<i64>().unwrap_or(i64::MAX);
    if neg { -v } else { v }
}

/// Ordered JSON: objects keep their key order, which `serde_json::Value` would lose.
impl<'de> Deserialize<'de> for PValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = PValue;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_unit<E: de::Error>(self) -> Result<PValue, E> {
                Ok(PValue::Null)
            }
            fn visit_none<E: de::Error>(self) -> Result<PValue, E> {
                Ok(PValue::Null)
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<PValue, E> {
                Ok(PValue::Bool(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<PValue, E> {
                Ok(PValue::Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<PValue, E> {
                Ok(i64::try_from(v).map(PValue::Int).unwrap_or(PValue::Float(v as f64)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<PValue, E> {
                Ok(PValue::Float(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<PValue, E> {
                Ok(PValue::Str(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<PValue, E> {
                Ok(PValue::Str(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<PValue, A::Error> {
                let mut a = PArr::new();
                while let Some(v) = seq.next_element::<PValue>()? {
                    a.push(v);
                }
                Ok(PValue::Arr(a))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<PValue, A::Error> {
                let mut a = PArr::new();
                while let Some((k, v)) = map.next_entry::<String, PValue>()? {
                    a.insert(k, v);
                }
                Ok(PValue::Arr(a))
            }
        }
        d.deserialize_any(V)
    }
}

/// `parse_str`: an `a=1&b[]=2&c[x][y]=3` string into a PHP array.
pub fn parse_query(raw: &str) -> PArr {
    let mut root = PArr::new();
    for (k, v) in url::form_urlencoded::parse(raw.as_bytes()) {
        insert_bracket_key(&mut root, &k, PValue::Str(v.into_owned()));
    }
    root
}

/// Where one `name[a][b][]` key puts its value, following PHP's rules: spaces and dots in the base name become
/// `_`, an unclosed first `[` becomes `_` too, text after the last `]` is ignored, an empty base name drops the
/// variable, and so does nesting deeper than 64.
pub fn insert_bracket_key(root: &mut PArr, key: &str, value: PValue) {
    let key = key.trim_start_matches(' ');
    let (base, mut rest) = match key.find('[') {
        Some(i) if key[i..].contains(']') => (&key[..i], &key[i..]),
        Some(_) => (key, ""),
        None => (key, ""),
    };
    let base: String = base.chars().map(|c| if c == ' ' || c == '.' || c == '[' { '_' } else { c }).collect();
    if base.is_empty() {
        return;
    }
    let mut path: Vec<Option<String>> = Vec::new();
    while let Some(stripped) = rest.strip_prefix('[') {
        let Some(end) = stripped.find(']') else { break };
        let idx = &stripped[..end];
        path.push(if idx.is_empty() { None } else { Some(idx.to_owned()) });
        rest = &stripped[end + 1..];
        if path.len() > MAX_NESTING {
            return;
        }
    }
    if path.is_empty() {
        root.insert(base, value);
        return;
    }
    let mut cur = root.entry_arr(Some(&base));
    let last = path.len() - 1;
    for (i, seg) in path.iter().enumerate() {
        if i == last {
            match seg {
                Some(k) => cur.insert(k.clone(), value),
                None => cur.push(value),
            }
            return;
        }
        cur = cur.entry_arr(seg.as_deref());
    }
}

/// The media type of a `Content-Type` header, lower-cased, without its parameters.
fn mime(content_type: Option<&str>) -> String {
    content_type.unwrap_or("").split(';').next().unwrap_or("").trim().to_ascii_lowercase()
}

/// What the portal does with a request body, by its content type: form, multipart form and JSON bodies give
/// parameters, any other body none. Reading a multipart body waits on its parser, hence `async`.
pub async fn read_body(content_type: Option<&str>, body: Bytes) -> PArr {
    if mime(content_type) == "multipart/form-data" {
        parse_multipart(content_type.unwrap_or(""), body).await
    } else {
        parse_body(content_type, &body)
    }
}

/// A `multipart/form-data` body as PHP reads it into `$_POST` (reference 5.1): each part without a file name
/// is a field whose name takes the same bracket keys as a form (`FILTER[STATUS]`, `ENTITIES[]`); parts with a
/// file name are uploads, which no method here reads, so they are left out. A body that is not valid
/// multipart (no boundary, a broken part) gives no parameters at all, as invalid JSON does.
pub async fn parse_multipart(content_type: &str, body: Bytes) -> PArr {
    let Ok(boundary) = multer::parse_boundary(content_type) else {
        return PArr::new();
    };
    let stream = futures_util::stream::once(async move { Ok::<_, std::convert::Infallible>(body) });
    let mut parts = multer::Multipart::new(stream, boundary);
    let mut fields = Vec::new();
    loop {
        match parts.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().map(str::to_owned);
                let is_file = field.file_name().is_some();
                let Ok(value) = field.bytes().await else {
                    return PArr::new();
                };
                if let (Some(name), false) = (name, is_file) {
                    fields.push((name, String::from_utf8_lossy(&value).into_owned()));
                }
            }
            Ok(None) => break,
            Err(_) => return PArr::new(),
        }
    }
    let mut root = PArr::new();
    for (k, v) in fields {
        insert_bracket_key(&mut root, &k, PValue::Str(v));
    }
    root
}

/// What the portal does with a form or JSON body, by its content type.
pub fn parse_body(content_type: Option<&str>, body: &[u8]) -> PArr {
    match mime(content_type).as_str() {
        "application/x-www-form-urlencoded" => match std::str::from_utf8(body) {
            Ok(s) => parse_query(s),
            Err(_) => parse_query(&String::from_utf8_lossy(body)),
        },
        // Invalid JSON, and JSON that is not an object or array, silently become no parameters.
        "application/json" => match serde_json::from_slice::<PValue>(body) {
            Ok(PValue::Arr(a)) => a,
            _ => PArr::new(),
        },
        _ => PArr::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> serde_json::Value {
        PValue::Arr(parse_query(s)).to_json()
    }

    #[test]
    fn bracket_keys_follow_php() {
        assert_eq!(q("ENTITIES[]=1&ENTITIES[]=2"), serde_json::json!({"ENTITIES": ["1", "2"]}));
        assert_eq!(q("ENTITIES[0]=1&ENTITIES[1]=2"), serde_json::json!({"ENTITIES": ["1", "2"]}));
        assert_eq!(q("auth[access_token]=x"), serde_json::json!({"auth": {"access_token": "x"}}));
        assert_eq!(q("a[b][c]=1&a[b][]=2"), serde_json::json!({"a": {"b": {"c": "1", "0": "2"}}}));
        assert_eq!(q("a.b=1&c d=2"), serde_json::json!({"a_b": "1", "c_d": "2"}));
        assert_eq!(q("a[b=1"), serde_json::json!({"a_b": "1"}));
        assert_eq!(q("[x]=1&y=2"), serde_json::json!({"y": "2"}));
        assert_eq!(q("a[x]junk=1"), serde_json::json!({"a": {"x": "1"}}));
        assert_eq!(q("a[5]=x&a[]=y"), serde_json::json!({"a": {"5": "x", "6": "y"}}));
    }

    #[test]
    fn json_keeps_object_order() {
        let v: PValue = serde_json::from_str(r#"{"z":1,"a":{"10":1,"2":2}}"#).unwrap();
        let a = v.as_arr().unwrap();
        assert_eq!(a.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), ["z", "a"]);
        let inner = a.get("a").unwrap().as_arr().unwrap();
        assert_eq!(inner.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), ["10", "2"]);
    }

    #[test]
    fn php_casts() {
        assert!(PValue::Str("false".into()).php_bool());
        assert!(!PValue::Str("0".into()).php_bool());
        assert_eq!(PValue::Str(" 12abc".into()).php_int(), 12);
        assert_eq!(PValue::Str("abc".into()).php_int(), 0);
        assert_eq!(PValue::Str("7".into()).as_id(), Some(7));
        assert_eq!(PValue::Str("7a".into()).as_id(), None);
    }
}
