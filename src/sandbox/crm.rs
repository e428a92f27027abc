//! The CRM methods: the `crm.calllist.*` family (reference 1.1–1.6), `crm.item.list` for contacts and
//! companies (2.2) and `crm.webform.list` (2.1).

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value, json};

use super::model::{CallList, EntityKind, ListItem, Permissions, format_db_time};
use super::params::{PArr, PValue};
use super::rest::{Cx, MethodResult, RestError, Success};

/// `IRestService::LIST_LIMIT`.
pub const PAGE: usize = 50;

fn bad(code: &str, text: &str) -> RestError {
    RestError::new(400, code, text)
}

fn perms(cx: &Cx<'_>) -> Permissions {
    cx.st.user(cx.caller.user_id).map(|u| u.permissions.clone()).unwrap_or_default()
}

/// `CCrmOwnerType::ResolveID` as the call-list handlers use it: the type, and whether the text was exactly
/// `CONTACT`/`COMPANY` (anything else that resolves reaches a query with no table: a PHP error).
enum Resolved {
    Kind { kind: EntityKind, exact: bool },
    Other,
    PhpError,
}

fn resolve_type(v: &PValue) -> Resolved {
    let text = match v {
        PValue::Arr(_) => return Resolved::PhpError,
        other => other.php_string().unwrap_or_default(),
    };
    let exact = matches!(v, PValue::Str(s) if s == "CONTACT" || s == "COMPANY");
    let kind = match text.trim().to_uppercase().as_str() {
        "CONTACT" | "C" | "3" => Some(EntityKind::Contact),
        "COMPANY" | "CO" | "4" => Some(EntityKind::Company),
        _ => None,
    };
    match kind {
        Some(kind) => Resolved::Kind { kind, exact },
        None => Resolved::Other,
    }
}

/// `WEBFORM_ID` passed to an `int` parameter: numbers and numeric strings convert, anything else is a PHP
/// `TypeError`.
fn webform_int(v: &PValue) -> Result<i64, RestError> {
    match v {
        PValue::Int(i) => Ok(*i),
        PValue::Float(f) => Ok(f.trunc() as i64),
        PValue::Bool(b) => Ok(i64::from(*b)),
        PValue::Str(s) if is_numeric(s) => Ok(s.trim().parse::<f64>().map(|f| f.trunc() as i64).unwrap_or(0)),
        _ => Err(RestError::php()),
    }
}

/// PHP `is_numeric`.
fn is_numeric(s: &str) -> bool {
    let t = s.trim_start().trim_end_matches([' ', '\t', '\n', '\r']);
    !t.is_empty() && t.parse::<f64>().is_ok() && !t.contains(['i', 'I', 'n', 'N'])
}

/// The existence check of step 4: every element must name a distinct existing row.
fn all_exist(cx: &Cx<'_>, kind: EntityKind, ents: &PArr) -> Option<Vec<u64>> {
    let ids: Vec<Option<u64>> = ents.values().map(PValue::as_id).collect();
    let found: HashSet<u64> = ids.iter().flatten().copied().filter(|id| cx.st.entity_exists(kind, *id)).collect();
    (found.len() == ents.len()).then(|| ids.into_iter().flatten().collect())
}

fn webform_check(cx: &Cx<'_>, p: &PArr) -> Result<Option<u64>, RestError> {
    match p.get("WEBFORM_ID") {
        None | Some(PValue::Null) => Ok(None),
        Some(v) => {
            let id = webform_int(v)?;
            if id > 0 && cx.st.webforms.contains_key(&(id as u64)) {
                Ok(Some(id as u64))
            } else {
                Err(bad("WEBFORM_ERROR", "Incorrect webform id"))
            }
        }
    }
}

/// reference 1.1: the checks in the portal's order; nothing is written unless all pass.
pub fn calllist_update(cx: &mut Cx<'_>, params: &PArr) -> MethodResult {
    let p = params.upper_keys();
    for key in ["LIST_ID", "ENTITY_TYPE", "ENTITIES"] {
        if !p.contains_key(key) {
            return Err(bad("ERROR_ARGUMENT", &format!("{key} is not found")));
        }
    }
    let (kind, exact) = match resolve_type(p.get("ENTITY_TYPE").unwrap_or(&PValue::Null)) {
        Resolved::Kind { kind, exact } => (kind, exact),
        Resolved::Other => return Err(bad("ENTITY_TYPE_ERROR", "EntityType is incorrect")),
        Resolved::PhpError => return Err(RestError::php()),
    };
    let Some(ents) = p.get("ENTITIES").and_then(PValue::as_arr) else {
        return Err(bad("ENTITIES_ERROR", "Entities is not array"));
    };
    if ents.is_empty() {
        return Err(bad("ENTITIES_ERROR", "Incorrect entities id"));
    }
    if !exact {
        return Err(RestError::php());
    }
    let Some(requested) = all_exist(cx, kind, ents) else {
        return Err(bad("ENTITIES_ERROR", "Incorrect entities id"));
    };
    let perm = perms(cx);
    if !perm.can_read_type(kind) {
        return Err(RestError::new(403, "ACCESS_ERROR", "Access Denied"));
    }
    let list_err = || bad("LIST_ID_ERROR", "Incorrect list id or access denied");
    let list_id = p.get("LIST_ID").map(PValue::php_int).unwrap_or(0);
    let list = u64::try_from(list_id).ok().and_then(|id| cx.st.lists.get(&id)).ok_or_else(list_err)?;
    if !perm.can_read_type(list.entity_type) {
        return Err(list_err());
    }
    // Loaded order: STATUS_ID, then RANK; hidden items (unreadable, or their entity deleted) are not loaded.
    let mut visible: Vec<&ListItem> = list
        .items
        .iter()
        .filter(|i| {
            cx.st.entity_exists(list.entity_type, i.element_id) && perm.can_read_item(list.entity_type, i.element_id)
        })
        .collect();
    if !list.items.is_empty() && visible.is_empty() {
        return Err(list_err());
    }
    if list.entity_type != kind {
        return Err(bad("ENTITY_TYPE_ERROR", "Discrepancy between the type of call participants and incoming type"));
    }
    visible.sort_by(|a, b| (&a.status, a.rank, a.element_id).cmp(&(&b.status, b.rank, b.element_id)));
    let current: Vec<u64> = visible.iter().map(|i| i.element_id).collect();
    let current_set: HashSet<u64> = current.iter().copied().collect();
    let requested_set: HashSet<u64> = requested.iter().copied().collect();
    let to_add: Vec<u64> =
        requested.iter().copied().filter(|id| !current_set.contains(id) && perm.can_read_item(kind, *id)).collect();
    let to_delete: HashSet<u64> = current.iter().copied().filter(|id| !requested_set.contains(id)).collect();
    let webform = webform_check(cx, &p)?;

    let list = cx.st.lists.get_mut(&(list_id as u64)).ok_or_else(list_err)?;
    list.webform_id = webform;
    let ranks: HashMap<u64, i64> = current.iter().enumerate().map(|(i, id)| (*id, (i as i64 + 1) * 10)).collect();
    for item in &mut list.items {
        if let Some(r) = ranks.get(&item.element_id) {
            item.rank = *r;
        }
    }
    let mut rank = (current.len() as i64) * 10;
    for id in to_add {
        rank += 10;
        list.items.push(ListItem { element_id: id, status: "IN_WORK".into(), rank });
    }
    list.items.retain(|i| !to_delete.contains(&i.element_id));
    Ok(Success::of(json!(true)))
}

/// reference 1.3.
pub fn calllist_add(cx: &mut Cx<'_>, params: &PArr) -> MethodResult {
    let p = params.upper_keys();
    for key in ["ENTITY_TYPE", "ENTITIES"] {
        if !p.contains_key(key) {
            return Err(bad("ERROR_ARGUMENT", &format!("{key} is not found")));
        }
    }
    let Some(ents) = p.get("ENTITIES").and_then(PValue::as_arr) else {
        return Err(bad("ENTITIES_ERROR", "Entities is not array"));
    };
    let (kind, exact) = match resolve_type(p.get("ENTITY_TYPE").unwrap_or(&PValue::Null)) {
        Resolved::Kind { kind, exact } => (kind, exact),
        Resolved::Other => return Err(bad("ENTITY_TYPE_ERROR", "Incorrect entity type")),
        Resolved::PhpError => return Err(RestError::php()),
    };
    if ents.is_empty() {
        return Err(bad("ENTITIES_ERROR", "Incorrect entities id"));
    }
    if !exact {
        return Err(RestError::php());
    }
    let Some(requested) = all_exist(cx, kind, ents) else {
        return Err(bad("ENTITY_ERROR", "Incorrect entities id"));
    };
    let perm = perms(cx);
    let readable: Vec<u64> = requested.into_iter().filter(|id| perm.can_read_item(kind, *id)).collect();
    if readable.is_empty() {
        return Err(RestError::new(403, "ACCESS_ERROR", "You don't have access to these entities"));
    }
    let webform = webform_check(cx, &p)?;
    let id = cx.st.next_list_id;
    cx.st.next_list_id += 1;
    let items = readable
        .into_iter()
        .enumerate()
        .map(|(i, e)| ListItem { element_id: e, status: "IN_WORK".into(), rank: (i as i64 + 1) * 10 })
        .collect();
    let date_create = format_db_time(cx.st.now());
    cx.st.lists.insert(
        id,
        CallList { id, entity_type: kind, webform_id: webform, created_by_id: cx.caller.user_id, date_create, items },
    );
    Ok(Success::of(json!(id)))
}

fn opt_string(v: Option<u64>) -> Value {
    v.map(|v| Value::String(v.to_string())).unwrap_or(Value::Null)
}

/// reference 1.2.
pub fn calllist_get(cx: &mut Cx<'_>, params: &PArr) -> MethodResult {
    let p = params.upper_keys();
    let Some(id) = p.get("ID") else {
        return Err(bad("ERROR_ARGUMENT", "ID is not found"));
    };
    let perm = perms(cx);
    let list = u64::try_from(id.php_int())
        .ok()
        .and_then(|id| cx.st.lists.get(&id))
        .filter(|l| perm.can_read_type(l.entity_type))
        .ok_or_else(|| bad("LIST_ID_ERROR", "Incorrect list id"))?;
    Ok(Success::of(json!({
        "ID": list.id.to_string(),
        "DATE_CREATE": list.date_create,
        "CREATED_BY_ID": list.created_by_id.to_string(),
        "WEBFORM_ID": opt_string(list.webform_id),
        "ENTITY_TYPE_ID": list.entity_type.type_id().to_string(),
        "ENTITY_TYPE": list.entity_type.name(),
    })))
}

/// The server's `start`: an integer, 0 when absent.
fn start_param(p: &PArr) -> i64 {
    p.get("start").map(PValue::php_int).unwrap_or(0)
}

/// reference 1.4.
pub fn calllist_items_get(cx: &mut Cx<'_>, params: &PArr) -> MethodResult {
    let start = start_param(params);
    let p = params.upper_keys();
    let Some(id) = p.get("LIST_ID") else {
        return Err(bad("ERROR_ARGUMENT", "LIST_ID is not found"));
    };
    let id = id.php_int();
    if id <= 0 {
        return Err(bad("LIST_ID_ERROR", "List id should be positive"));
    }
    let list = cx.st.lists.get(&(id as u64)).ok_or_else(|| bad("LIST_ID_ERROR", "Call list is not found"))?;
    let status = match p.get("FILTER").and_then(PValue::as_arr).and_then(|f| f.get("STATUS")) {
        None => None,
        Some(PValue::Str(s)) if cx.st.statuses.iter().any(|st| &st.status_id == s) => Some(s.clone()),
        Some(_) => return Err(bad("STATUS_ERROR", "Incorrect status")),
    };
    let perm = perms(cx);
    let offset = usize::try_from(start).unwrap_or(0);
    let rows: Vec<Value> = list
        .ranked()
        .into_iter()
        .filter(|i| status.as_ref().is_none_or(|s| &i.status == s))
        .skip(offset)
        .take(PAGE)
        .filter(|i| {
            cx.st.entity_exists(list.entity_type, i.element_id) && perm.can_read_item(list.entity_type, i.element_id)
        })
        .map(|i| json!({"ID": i.element_id, "STATUS": i.status, "ENTITY_TYPE": list.entity_type.type_id()}))
        .collect();
    if rows.is_empty() {
        return Err(RestError::new(
            403,
            "ACCESS_ERROR",
            "You do not have access to the participants of this call list",
        ));
    }
    Ok(Success::of(Value::Array(rows)))
}

const LIST_FIELDS: [&str; 8] =
    ["ID", "DATE_CREATE", "CREATED_BY_ID", "WEBFORM_ID", "ENTITY_TYPE_ID", "FILTERED", "GRID_ID", "FILTER_PARAMS"];
const LIST_HIDDEN: [&str; 3] = ["FILTERED", "GRID_ID", "FILTER_PARAMS"];

fn unknown_list_field(f: &str) -> RestError {
    bad(
        "100",
        &format!("Unknown field definition `{f}` ({f}) for \\Bitrix\\Crm\\CallList\\Internals\\CallList Entity."),
    )
}

fn list_field(l: &CallList, f: &str) -> Value {
    match f {
        "ID" => json!(l.id.to_string()),
        "DATE_CREATE" => json!(l.date_create),
        "CREATED_BY_ID" => json!(l.created_by_id.to_string()),
        "WEBFORM_ID" => opt_string(l.webform_id),
        "ENTITY_TYPE_ID" => json!(l.entity_type.type_id().to_string()),
        "FILTERED" => json!("N"),
        _ => Value::Null,
    }
}

/// Splits an ORM filter key into its operator and field (`>=ID` → (`>=`, `ID`)).
fn split_op(key: &str) -> (&str, &str) {
    for op in ["!=%", "!%=", "!@", "!%", "!=", ">=", "<=", "=%", "%=", "@", "%", ">", "<", "=", "!"] {
        if let Some(rest) = key.strip_prefix(op) {
            return (op, rest);
        }
    }
    ("=", key)
}

/// Compares a row value with a filter value: numerically when both look like numbers, else as text.
fn cmp_values(a: &Value, b: &PValue) -> Option<std::cmp::Ordering> {
    let a_text = match a {
        Value::Null => return None,
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let b_text = b.php_string()?;
    match (a_text.parse::<f64>(), b_text.trim().parse::<f64>()) {
        (Ok(x), Ok(y)) => x.partial_cmp(&y),
        _ => Some(a_text.to_lowercase().cmp(&b_text.to_lowercase())),
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

/// One filter condition on a value (`values` is a list for multifields like phones).
fn matches_op(op: &str, values: &[Value], want: &PValue) -> bool {
    let any = |f: &dyn Fn(&Value) -> bool| values.iter().any(f);
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    let list: Vec<PValue> = match want {
        PValue::Arr(a) => a.values().cloned().collect(),
        other => vec![other.clone()],
    };
    let eq = |v: &Value| {
        list.iter().any(|w| match (v, w) {
            (Value::Null, PValue::Null) => true,
            (Value::Null, PValue::Str(s)) => s.is_empty(),
            (Value::Bool(b), w) => {
                w.php_string().map(|s| matches!(s.as_str(), "Y" | "y" | "1" | "true") == *b).unwrap_or(false)
            }
            _ => cmp_values(v, w) == Some(std::cmp::Ordering::Equal),
        })
    };
    let contains = |v: &Value| {
        list.iter().any(|w| w.php_string().is_some_and(|s| text(v).to_lowercase().contains(&s.to_lowercase())))
    };
    let pattern = |v: &Value| list.iter().any(|w| w.php_string().is_some_and(|s| like(&text(v), &s)));
    let ord = |v: &Value, f: &dyn Fn(std::cmp::Ordering) -> bool| cmp_values(v, want).is_some_and(f);
    match op {
        "=" | "@" => any(&eq),
        "!=" | "!" | "!@" => !any(&eq),
        "%" => any(&contains),
        "!%" => !any(&contains),
        "=%" | "%=" => any(&pattern),
        "!=%" | "!%=" => !any(&pattern),
        ">" => any(&|v| ord(v, &|o| o.is_gt())),
        ">=" => any(&|v| ord(v, &|o| o.is_ge())),
        "<" => any(&|v| ord(v, &|o| o.is_lt())),
        "<=" => any(&|v| ord(v, &|o| o.is_le())),
        _ => false,
    }
}

/// reference 1.5: the ORM passes SELECT/FILTER/ORDER straight through; no permission filter.
pub fn calllist_list(cx: &mut Cx<'_>, params: &PArr) -> MethodResult {
    let start = start_param(params);
    let p = params.upper_keys();
    let mut select: Vec<String> = Vec::new();
    if let Some(PValue::Arr(s)) = p.get("SELECT") {
        for v in s.values() {
            let f = v.php_string().unwrap_or_default();
            if f == "*" {
                select.extend(LIST_FIELDS.iter().map(|s| s.to_string()));
            } else if LIST_FIELDS.contains(&f.as_str()) {
                select.push(f);
            } else {
                return Err(unknown_list_field(&f));
            }
        }
    }
    if select.is_empty() {
        select = LIST_FIELDS.iter().map(|s| s.to_string()).collect();
    }
    let mut conds: Vec<(String, String, PValue)> = Vec::new();
    if let Some(PValue::Arr(f)) = p.get("FILTER") {
        for (k, v) in f.iter() {
            let (op, field) = split_op(k);
            if !LIST_FIELDS.contains(&field) {
                return Err(unknown_list_field(field));
            }
            conds.push((op.to_owned(), field.to_owned(), v.clone()));
        }
    }
    let mut order: Vec<(String, bool)> = Vec::new();
    if let Some(PValue::Arr(o)) = p.get("ORDER") {
        for (k, v) in o.iter() {
            if !LIST_FIELDS.contains(&k.as_str()) {
                return Err(unknown_list_field(k));
            }
            let desc = v.php_string().is_some_and(|d| d.eq_ignore_ascii_case("desc"));
            order.push((k.clone(), desc));
        }
    }
    let mut rows: Vec<&CallList> = cx
        .st
        .lists
        .values()
        .filter(|l| conds.iter().all(|(op, f, v)| matches_op(op, &[list_field(l, f)], v)))
        .collect();
    rows.sort_by(|a, b| {
        for (f, desc) in &order {
            let (x, y) = (list_field(a, f), list_field(b, f));
            let o = match (
                x.as_str().and_then(|s| s.parse::<f64>().ok()),
                y.as_str().and_then(|s| s.parse::<f64>().ok()),
            ) {
                (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(std::cmp::Ordering::Equal),
                _ => x.as_str().unwrap_or("").cmp(y.as_str().unwrap_or("")),
            };
            let o = if *desc { o.reverse() } else { o };
            if o.is_ne() {
                return o;
            }
        }
        std::cmp::Ordering::Equal
    });
    let page: Box<dyn Iterator<Item = &&CallList>> =
        if start < 0 { Box::new(rows.iter()) } else { Box::new(rows.iter().skip(start as usize).take(PAGE)) };
    let out: Vec<Value> = page
        .map(|l| {
            let mut m = Map::new();
            for f in &select {
                if !LIST_HIDDEN.contains(&f.as_str()) {
                    m.insert(f.clone(), list_field(l, f));
                }
            }
            Value::Object(m)
        })
        .collect();
    Ok(Success::of(Value::Array(out)))
}

/// reference 1.6.
pub fn calllist_statuslist(cx: &mut Cx<'_>) -> MethodResult {
    let rows: Vec<Value> = cx
        .st
        .statuses
        .iter()
        .map(|s| json!({"ID": s.id, "NAME": s.name, "SORT": s.sort, "STATUS_ID": s.status_id}))
        .collect();
    Ok(Success::of(Value::Array(rows)))
}

const CONTACT_FIELDS: [&str; 13] = [
    "id",
    "name",
    "lastName",
    "secondName",
    "honorific",
    "post",
    "companyId",
    "companyIds",
    "assignedById",
    "hasPhone",
    "hasEmail",
    "createdTime",
    "fm",
];
const COMPANY_FIELDS: [&str; 8] =
    ["id", "title", "contactIds", "assignedById", "hasPhone", "hasEmail", "createdTime", "fm"];
/// Fields that filter but are not returned: the contact's phones and e-mails as plain values.
const FILTER_ONLY: [&str; 2] = ["phone", "email"];

fn fm(id: u64, phones: &[String], emails: &[String]) -> Value {
    let mut n = id * 100;
    let mut out = Vec::new();
    for (type_id, values) in [("PHONE", phones), ("EMAIL", emails)] {
        for v in values {
            n += 1;
            out.push(json!({"id": n, "typeId": type_id, "valueType": "WORK", "value": v}));
        }
    }
    Value::Array(out)
}

fn item_row(cx: &Cx<'_>, kind: EntityKind, id: u64) -> Option<Map<String, Value>> {
    let nz = |s: &str| if s.is_empty() { Value::Null } else { json!(s) };
    let v = match kind {
        EntityKind::Contact => {
            let c = cx.st.contacts.get(&id)?;
            json!({
                "id": c.id, "name": nz(&c.name), "lastName": nz(&c.last_name), "secondName": nz(&c.second_name),
                "honorific": nz(&c.honorific), "post": nz(&c.post), "companyId": c.company_id,
                "companyIds": c.company_id.into_iter().collect::<Vec<_>>(), "assignedById": c.assigned_by_id,
                "hasPhone": if c.phones.is_empty() { "N" } else { "Y" }, "hasEmail": if c.emails.is_empty() { "N" } else { "Y" },
                "createdTime": c.created_time, "fm": fm(c.id, &c.phones, &c.emails),
                "phone": c.phones, "email": c.emails,
            })
        }
        EntityKind::Company => {
            let c = cx.st.companies.get(&id)?;
            json!({
                "id": c.id, "title": c.title, "contactIds": c.contact_ids, "assignedById": c.assigned_by_id,
                "hasPhone": if c.phones.is_empty() { "N" } else { "Y" }, "hasEmail": if c.emails.is_empty() { "N" } else { "Y" },
                "createdTime": c.created_time, "fm": fm(c.id, &c.phones, &c.emails),
                "phone": c.phones, "email": c.emails,
            })
        }
    };
    match v {
        Value::Object(m) => Some(m),
        _ => None,
    }
}

fn invalid(text: String) -> RestError {
    bad("INVALID_ARG_VALUE", &text)
}

/// A parsed `crm.item.list` filter: conditions joined by AND or OR, possibly nested.
enum Filter {
    Cond { op: String, field: String, value: PValue },
    Group { or: bool, parts: Vec<Filter> },
}

fn parse_filter(f: &PArr, fields: &[&str]) -> Result<Filter, RestError> {
    let or = f.get("logic").and_then(PValue::php_string).is_some_and(|l| l.eq_ignore_ascii_case("or"));
    let mut parts = Vec::new();
    for (k, v) in f.iter() {
        if k == "logic" {
            continue;
        }
        if let (true, PValue::Arr(sub)) = (k.bytes().all(|b| b.is_ascii_digit()), v) {
            parts.push(parse_filter(sub, fields)?);
            continue;
        }
        let (op, field) = split_op(k);
        if !(fields.contains(&field) || FILTER_ONLY.contains(&field)) || field == "fm" {
            return Err(invalid(format!("Invalid filter: field '{field}' is not allowed in filter")));
        }
        let numeric = matches!(field, "id" | "companyId" | "assignedById");
        let values: Vec<&PValue> = match v {
            PValue::Arr(a) => a.values().collect(),
            other => vec![other],
        };
        if numeric
            && values
                .iter()
                .any(|x| !matches!(x, PValue::Null) && x.php_string().is_none_or(|s| s.trim().parse::<f64>().is_err()))
        {
            return Err(invalid(format!("Invalid filter: field '{field}' has invalid value")));
        }
        parts.push(Filter::Cond { op: op.to_owned(), field: field.to_owned(), value: v.clone() });
    }
    Ok(Filter::Group { or, parts })
}

fn filter_matches(f: &Filter, row: &Map<String, Value>) -> bool {
    match f {
        Filter::Cond { op, field, value } => {
            let vals = match row.get(field) {
                Some(Value::Array(a)) if FILTER_ONLY.contains(&field.as_str()) => a.clone(),
                Some(v) => vec![v.clone()],
                None => vec![Value::Null],
            };
            matches_op(op, &vals, value)
        }
        Filter::Group { or: true, parts } => parts.is_empty() || parts.iter().any(|p| filter_matches(p, row)),
        Filter::Group { or: false, parts } => parts.iter().all(|p| filter_matches(p, row)),
    }
}

/// reference 2.2: contacts (3) and companies (4), only rows the caller may read; `total`, `next`, pages of 50.
pub fn item_list(cx: &mut Cx<'_>, p: &PArr) -> MethodResult {
    let kind = p.get("entityTypeId").and_then(|v| EntityKind::from_type_id(v.php_int()));
    let Some(kind) = kind else {
        return Err(bad("NOT_FOUND", "SPA not found"));
    };
    let perm = perms(cx);
    if !perm.can_read_type(kind) {
        return Err(RestError::new(403, "ACCESS_DENIED", "Access denied."));
    }
    let fields: &[&str] = match kind {
        EntityKind::Contact => &CONTACT_FIELDS,
        EntityKind::Company => &COMPANY_FIELDS,
    };
    let select: Vec<String> = match p.get("select") {
        Some(PValue::Arr(s)) if !s.is_empty() => {
            let mut out = Vec::new();
            for v in s.values() {
                let f = v.php_string().unwrap_or_default();
                if f == "*" {
                    out.extend(fields.iter().map(|s| s.to_string()));
                } else if fields.contains(&f.as_str()) {
                    out.push(f);
                }
            }
            out
        }
        _ => fields.iter().map(|s| s.to_string()).collect(),
    };
    let filter = match p.get("filter") {
        Some(PValue::Arr(f)) => parse_filter(f, fields)?,
        _ => Filter::Group { or: false, parts: vec![] },
    };
    let mut order: Vec<(String, bool)> = Vec::new();
    if let Some(PValue::Arr(o)) = p.get("order") {
        for (k, v) in o.iter() {
            if !fields.contains(&k.as_str()) || k == "fm" {
                return Err(invalid(format!("Invalid order: field '{k}' is not allowed in order")));
            }
            let dir = v.php_string().unwrap_or_default().to_uppercase();
            match dir.as_str() {
                "ASC" => order.push((k.clone(), false)),
                "DESC" => order.push((k.clone(), true)),
                _ => {
                    return Err(invalid(format!(
                        "Invalid order: allowed sort directions are ASC, DESC. But got '{}' for field '{k}'",
                        v.php_string().unwrap_or_default()
                    )));
                }
            }
        }
    }
    let ids: Vec<u64> = match kind {
        EntityKind::Contact => cx.st.contacts.keys().copied().collect(),
        EntityKind::Company => cx.st.companies.keys().copied().collect(),
    };
    let mut rows: Vec<Map<String, Value>> = ids
        .into_iter()
        .filter(|id| perm.can_read_item(kind, *id))
        .filter_map(|id| item_row(cx, kind, id))
        .filter(|r| filter_matches(&filter, r))
        .collect();
    if !order.is_empty() {
        rows.sort_by(|a, b| {
            for (f, desc) in &order {
                let (x, y) = (a.get(f).unwrap_or(&Value::Null), b.get(f).unwrap_or(&Value::Null));
                let o = match (x.as_f64(), y.as_f64()) {
                    (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(std::cmp::Ordering::Equal),
                    _ => {
                        let s = |v: &Value| v.as_str().map(str::to_lowercase).unwrap_or_default();
                        s(x).cmp(&s(y))
                    }
                };
                let o = if *desc { o.reverse() } else { o };
                if o.is_ne() {
                    return o;
                }
            }
            std::cmp::Ordering::Equal
        });
    }
    let start = start_param(p);
    let total = rows.len();
    let offset = usize::try_from(start).unwrap_or(0);
    let items: Vec<Value> = rows
        .into_iter()
        .skip(offset)
        .take(PAGE)
        .map(|mut r| {
            let mut m = Map::new();
            m.insert("id".into(), r.remove("id").unwrap_or(Value::Null));
            for f in &select {
                if let Some(v) = r.get(f) {
                    m.insert(f.clone(), v.clone());
                }
            }
            Value::Object(m)
        })
        .collect();
    let (total, next) = if start < 0 {
        (None, None)
    } else {
        (Some(total as i64), (total > offset + PAGE).then_some((offset + PAGE) as i64))
    };
    Ok(Success { result: json!({"items": items}), total, next })
}

/// reference 2.1 (newer source): default-type forms, active only unless `GET_INACTIVE=Y`, by `ID` descending.
pub fn webform_list(cx: &mut Cx<'_>, p: &PArr) -> MethodResult {
    let inactive = p.upper_keys().get("GET_INACTIVE").and_then(PValue::as_str) == Some("Y");
    let base = cx.info.portal_url.clone();
    let rows: Vec<Value> = cx
        .st
        .webforms
        .values()
        .rev()
        .filter(|f| f.default_type && (inactive || f.active))
        .map(|f| {
            json!({
                "ID": f.id.to_string(),
                "NAME": f.name,
                "SECURITY_CODE": f.security_code,
                "IS_CALLBACK_FORM": if f.is_callback { "Y" } else { "N" },
                "ACTIVE": if f.active { "Y" } else { "N" },
                "XML_ID": f.xml_id,
                "URL": format!("{base}bitrix/js/crm/form/loader_{}.js", f.id),
            })
        })
        .collect();
    Ok(Success::of(Value::Array(rows)))
}
