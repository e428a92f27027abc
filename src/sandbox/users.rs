//! The portal's users through REST: `user.current` (reference 5.7) and `user.get` (the official page
//! `api-reference/user/user-get.md`, read with the rest module's `Bitrix\Rest\Api\User::userGet` where the
//! page is silent): which fields a scope shows, how the filter is read, the order and the pages.

use std::cmp::Ordering;

use serde_json::{Map, Value, json};

use super::call::{Cx, MethodResult, RestError, Success};
use super::crm::filter::{Filter, Syntax, split_op};
use super::model::{User, format_db_time, format_iso};
use super::params::{PArr, PValue};

/// `IRestService::LIST_LIMIT`.
const PAGE: usize = 50;

/// When every seeded user joined the portal.
const DATE_REGISTER: &str = "2024-01-15T00:00:00+03:00";

/// The fields a user row has, in the order the page's example answer writes them, with the scopes that
/// show each: `user` shows all; `user_basic` the contact details but not the login times; `user_brief` only
/// names, position and department (the rest module's `ALLOWED_USER_BASIC_FIELDS` and
/// `ALLOWED_USER_NAME_FIELDS`).
const FIELDS: [(&str, Shown); 22] = [
    ("ID", Shown::Brief),
    ("ACTIVE", Shown::Brief),
    ("NAME", Shown::Brief),
    ("LAST_NAME", Shown::Brief),
    ("SECOND_NAME", Shown::Brief),
    ("EMAIL", Shown::Basic),
    ("LAST_LOGIN", Shown::Full),
    ("DATE_REGISTER", Shown::Brief),
    ("TIME_ZONE", Shown::Brief),
    ("IS_ONLINE", Shown::Brief),
    ("TIMESTAMP_X", Shown::Brief),
    ("LAST_ACTIVITY_DATE", Shown::Brief),
    ("PERSONAL_GENDER", Shown::Brief),
    ("PERSONAL_WWW", Shown::Full),
    ("PERSONAL_BIRTHDAY", Shown::Brief),
    ("PERSONAL_MOBILE", Shown::Basic),
    ("PERSONAL_CITY", Shown::Brief),
    ("WORK_PHONE", Shown::Basic),
    ("WORK_POSITION", Shown::Brief),
    ("UF_EMPLOYMENT_DATE", Shown::Brief),
    ("UF_DEPARTMENT", Shown::Brief),
    ("USER_TYPE", Shown::Brief),
];

/// The narrowest user scope that shows a field.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Shown {
    Brief,
    Basic,
    Full,
}

/// What the caller's scopes show: `user` everything, else `user_basic`, else `user_brief`.
fn shown(scope: &[String]) -> Shown {
    let has = |s: &str| scope.iter().any(|c| c == s);
    if has("user") {
        Shown::Full
    } else if has("user_basic") {
        Shown::Basic
    } else {
        Shown::Brief
    }
}

fn fields_for(scope: &[String]) -> impl Iterator<Item = &'static str> {
    let level = shown(scope);
    FIELDS.iter().filter(move |(_, s)| *s <= level).map(|(f, _)| *f)
}

/// A field as the user table stores it, for filters and the order: IDs as numbers, flags as `Y`/`N`.
fn stored(u: &User, field: &str) -> Vec<Value> {
    let v = match field {
        "ID" => json!(u.id),
        "ACTIVE" => json!(if u.active { "Y" } else { "N" }),
        "NAME" => json!(u.name),
        "LAST_NAME" => json!(u.last_name),
        "SECOND_NAME" | "TIME_ZONE" | "PERSONAL_GENDER" | "PERSONAL_WWW" | "PERSONAL_BIRTHDAY" | "PERSONAL_MOBILE"
        | "PERSONAL_CITY" | "WORK_PHONE" | "UF_EMPLOYMENT_DATE" => json!(""),
        "EMAIL" => json!(u.email),
        "WORK_POSITION" => json!(u.work_position),
        "IS_ONLINE" => json!("Y"),
        "DATE_REGISTER" => json!(DATE_REGISTER),
        "UF_DEPARTMENT" => return vec![json!(1)],
        "USER_TYPE" => json!("employee"),
        _ => Value::Null,
    };
    vec![v]
}

/// A user as `user.get` and `user.current` answer: the fields the scope shows, IDs as strings, `ACTIVE` as
/// a boolean. `user.get` writes `TIMESTAMP_X` and `LAST_ACTIVITY_DATE` as the page's example does, as `{}`
/// (date objects the portal's JSON encoder cannot write).
fn row(u: &User, scope: &[String], now: f64, dates_as_objects: bool) -> Value {
    let mut m = Map::new();
    for f in fields_for(scope) {
        let v = match f {
            "ID" => json!(u.id.to_string()),
            "ACTIVE" => json!(u.active),
            "LAST_LOGIN" => json!(format_iso(now)),
            "TIMESTAMP_X" | "LAST_ACTIVITY_DATE" if dates_as_objects => json!({}),
            "TIMESTAMP_X" => json!(format_iso(now)),
            "LAST_ACTIVITY_DATE" => json!(format_db_time(now)),
            "UF_DEPARTMENT" => Value::Array(stored(u, f)),
            other => stored(u, other).pop().unwrap_or(Value::Null),
        };
        m.insert(f.to_owned(), v);
    }
    Value::Object(m)
}

/// reference 5.7: the token's owner.
pub fn user_current(cx: &mut Cx<'_>) -> MethodResult {
    let Some(u) = cx.st.user(cx.caller.user_id) else {
        return Err(RestError::new(401, "authorization_error", "Unable to authorize user"));
    };
    let scope = vec!["user".to_owned()];
    let mut v = row(u, &scope, cx.st.now(), false);
    // `user.current`'s fields are those of reference 5.7.
    if let Value::Object(m) = &mut v {
        m.retain(|k, _| {
            !matches!(
                k.as_str(),
                "SECOND_NAME"
                    | "TIME_ZONE"
                    | "TIMESTAMP_X"
                    | "PERSONAL_WWW"
                    | "PERSONAL_MOBILE"
                    | "PERSONAL_CITY"
                    | "WORK_PHONE"
                    | "USER_TYPE"
            )
        });
    }
    Ok(Success::of(v))
}

/// A filter value as `prepareUserValue` makes it: `ID` an integer (or a list of them), `ACTIVE` and
/// `IS_ONLINE` `Y` unless the value is empty, false or `N`.
fn prepared(field: &str, v: &PValue) -> PValue {
    let flag = |v: &PValue| PValue::Str(if v.php_bool() && v.as_str() != Some("N") { "Y" } else { "N" }.into());
    match (field, v) {
        ("ID", PValue::Arr(a)) => PValue::Arr(a.iter().map(|(k, x)| (k.clone(), PValue::Int(x.php_int()))).collect()),
        ("ID", other) => PValue::Int(other.php_int()),
        ("ACTIVE" | "IS_ONLINE", PValue::Arr(a)) => PValue::Arr(a.iter().map(|(k, x)| (k.clone(), flag(x))).collect()),
        ("ACTIVE" | "IS_ONLINE", other) => flag(other),
        (_, other) => other.clone(),
    }
}

/// The filter `userGet` builds: from `FILTER` when it is an array (keys upper-cased), else from the
/// top-level parameters; each key an optional operator of one or two non-word characters and a field the
/// scope shows, other keys dropped silently. A text field without an operator matches as `LIKE` (the page's
/// `{"NAME": "Iva%"}`), as the portal's ORM reads a bare key; `ID`, `ACTIVE` and the department compare
/// for equality, a list of values meaning any of them.
fn user_filter(p: &PArr, scope: &[String]) -> Result<Filter, RestError> {
    let source = match p.get("FILTER") {
        Some(PValue::Arr(f)) => f.upper_keys(),
        _ => p.clone(),
    };
    let allowed: Vec<&str> = fields_for(scope).collect();
    let mut out = PArr::new();
    for (key, v) in source.iter() {
        let (op, field) = split_op(key);
        let explicit = field.len() < key.len();
        if !allowed.contains(&field) {
            continue;
        }
        let exact = matches!(field, "ID" | "ACTIVE" | "IS_ONLINE" | "UF_DEPARTMENT");
        let op = if explicit || exact { op } else { "=%" };
        out.insert(format!("{op}{field}"), prepared(field, v));
    }
    Filter::parse(&out, &Syntax { logic_key: None, check: &|_, _| Ok(()) })
}

fn compare(a: &Value, b: &Value) -> Ordering {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
        _ => {
            let text = |v: &Value| v.as_str().map(str::to_lowercase).unwrap_or_default();
            text(a).cmp(&text(b))
        }
    }
}

/// The official page `user-get.md`: the portal's users by filter, pages of 50 with `total` and `next`.
pub fn user_get(cx: &mut Cx<'_>, params: &PArr) -> MethodResult {
    let start = params.get("start").map(PValue::php_int).unwrap_or(0);
    let p = params.upper_keys();
    let scope = cx.caller.scope.clone();
    let filter = user_filter(&p, &scope)?;
    let mut users: Vec<&User> = cx.st.users.values().filter(|u| filter.matches(&|f| stored(u, f))).collect();
    // `SORT` names the field and `ORDER` the direction; the portal sorts only when both are given.
    let text = |k: &str| p.get(k).and_then(PValue::php_string).filter(|s| !s.is_empty());
    if let (Some(field), Some(dir)) = (text("SORT"), text("ORDER")) {
        let field = field.to_uppercase();
        if FIELDS.iter().any(|(f, _)| *f == field) {
            let desc = dir.eq_ignore_ascii_case("desc");
            users.sort_by(|a, b| {
                let o = compare(&stored(a, &field)[0], &stored(b, &field)[0]).then(a.id.cmp(&b.id));
                if desc { o.reverse() } else { o }
            });
        }
    }
    let offset = usize::try_from(start).unwrap_or(0);
    let matched = users.len();
    let now = cx.st.now();
    let page: Vec<Value> = users.into_iter().skip(offset).take(PAGE).map(|u| row(u, &scope, now, true)).collect();
    if page.is_empty() {
        // `userGet` returns the empty list as it is, without the paging keys.
        return Ok(Success::of(Value::Array(page)));
    }
    // Without a count (`start=-1`) the portal still writes the paging keys, with a count of 0.
    let total = if start < 0 { 0 } else { matched };
    let next = (offset + page.len() < total).then_some((offset + page.len()) as i64);
    Ok(Success { result: Value::Array(page), total: Some(total as i64), next })
}
