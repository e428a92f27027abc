//! The CRM methods: the `crm.calllist.*` family (reference 1.1–1.6), `crm.item.list` for contacts and
//! companies (2.2) and `crm.webform.list` (2.1).

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::{Map, Value, json};

use super::model::{CallList, Company, Contact, EntityKind, ListItem, Permissions, State, format_db_time};
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
    list.store_ranked();
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
    // Items are normally stored in rank order: then the page is a slice, found without a sort or a scan.
    let page = if list.is_ranked() {
        ranked_page(list.items.iter(), status.as_deref(), offset)
    } else {
        ranked_page(list.ranked().into_iter(), status.as_deref(), offset)
    };
    let rows: Vec<Value> = page
        .into_iter()
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

/// The `start`-th page of a list's items in rank order, with the status filter applied before paging.
fn ranked_page<'a>(
    items: impl Iterator<Item = &'a ListItem>,
    status: Option<&str>,
    offset: usize,
) -> Vec<&'a ListItem> {
    match status {
        Some(s) => items.filter(|i| i.status == s).skip(offset).take(PAGE).collect(),
        None => items.skip(offset).take(PAGE).collect(),
    }
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

/// A filter value prepared once per call rather than once per row: its PHP string, that string read as a
/// number, and lower-cased.
struct Want {
    raw: PValue,
    text: Option<String>,
    num: Option<f64>,
    lower: Option<String>,
}

impl Want {
    fn new(v: &PValue) -> Self {
        let text = v.php_string();
        let num = text.as_deref().and_then(|t| t.trim().parse::<f64>().ok());
        let lower = text.as_deref().map(str::to_lowercase);
        Want { raw: v.clone(), text, num, lower }
    }
}

/// A row value as text (`null` is empty).
fn value_text(v: &Value) -> Cow<'_, str> {
    match v {
        Value::String(s) => Cow::Borrowed(s),
        Value::Null => Cow::Borrowed(""),
        other => Cow::Owned(other.to_string()),
    }
}

/// Compares a row value with a filter value: numerically when both look like numbers, else as text.
fn cmp_values(a: &Value, b: &Want) -> Option<Ordering> {
    if a.is_null() {
        return None;
    }
    let a_text = value_text(a);
    let b_lower = b.lower.as_deref()?;
    match (a_text.parse::<f64>(), b.num) {
        (Ok(x), Some(y)) => x.partial_cmp(&y),
        _ => Some(a_text.to_lowercase().as_str().cmp(b_lower)),
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
struct Matcher {
    op: String,
    /// The value as a whole (for `>`, `<`, …).
    whole: Want,
    /// Its elements when it is an array, else the value itself (for `=`, `@`, `%`, …).
    list: Vec<Want>,
}

impl Matcher {
    fn new(op: &str, want: &PValue) -> Self {
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
    fn matches(&self, values: &[Value]) -> bool {
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
    let mut conds: Vec<(String, Matcher)> = Vec::new();
    if let Some(PValue::Arr(f)) = p.get("FILTER") {
        for (k, v) in f.iter() {
            let (op, field) = split_op(k);
            if !LIST_FIELDS.contains(&field) {
                return Err(unknown_list_field(field));
            }
            conds.push((field.to_owned(), Matcher::new(op, v)));
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
    let mut rows: Vec<&CallList> =
        cx.st.lists.values().filter(|l| conds.iter().all(|(f, m)| m.matches(&[list_field(l, f)]))).collect();
    rows.sort_by(|a, b| {
        for (f, desc) in &order {
            let (x, y) = (list_field(a, f), list_field(b, f));
            let o = match (
                x.as_str().and_then(|s| s.parse::<f64>().ok()),
                y.as_str().and_then(|s| s.parse::<f64>().ok()),
            ) {
                (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
                _ => x.as_str().unwrap_or("").cmp(y.as_str().unwrap_or("")),
            };
            let o = if *desc { o.reverse() } else { o };
            if o.is_ne() {
                return o;
            }
        }
        Ordering::Equal
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

/// A contact or a company as `crm.item.list` reads it.
#[derive(Clone, Copy)]
enum Entity<'a> {
    Contact(&'a Contact),
    Company(&'a Company),
}

impl Entity<'_> {
    /// One field of the entity's row, as the answer writes it; `None` for a field the type does not have.
    /// Filters, the order and the rows of a page all read fields through this, so they agree.
    fn field(self, field: &str) -> Option<Value> {
        let nz = |s: &str| if s.is_empty() { Value::Null } else { json!(s) };
        let yn = |empty: bool| json!(if empty { "N" } else { "Y" });
        let v = match self {
            Entity::Contact(c) => match field {
                "id" => json!(c.id),
                "name" => nz(&c.name),
                "lastName" => nz(&c.last_name),
                "secondName" => nz(&c.second_name),
                "honorific" => nz(&c.honorific),
                "post" => nz(&c.post),
                "companyId" => json!(c.company_id),
                "companyIds" => json!(c.company_id.into_iter().collect::<Vec<_>>()),
                "assignedById" => json!(c.assigned_by_id),
                "hasPhone" => yn(c.phones.is_empty()),
                "hasEmail" => yn(c.emails.is_empty()),
                "createdTime" => json!(c.created_time),
                "fm" => fm(c.id, &c.phones, &c.emails),
                "phone" => json!(c.phones),
                "email" => json!(c.emails),
                _ => return None,
            },
            Entity::Company(c) => match field {
                "id" => json!(c.id),
                "title" => json!(c.title),
                "contactIds" => json!(c.contact_ids),
                "assignedById" => json!(c.assigned_by_id),
                "hasPhone" => yn(c.phones.is_empty()),
                "hasEmail" => yn(c.emails.is_empty()),
                "createdTime" => json!(c.created_time),
                "fm" => fm(c.id, &c.phones, &c.emails),
                "phone" => json!(c.phones),
                "email" => json!(c.emails),
                _ => return None,
            },
        };
        Some(v)
    }

    /// The row of a page: `id`, then the selected fields.
    fn row(self, select: &[String]) -> Value {
        let mut m = Map::new();
        m.insert("id".into(), self.field("id").unwrap_or(Value::Null));
        for f in select {
            if f != "id"
                && let Some(v) = self.field(f)
            {
                m.insert(f.clone(), v);
            }
        }
        Value::Object(m)
    }
}

fn invalid(text: String) -> RestError {
    bad("INVALID_ARG_VALUE", &text)
}

/// A parsed `crm.item.list` filter: conditions joined by AND or OR, possibly nested.
enum Filter {
    Cond { field: String, m: Matcher },
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
        parts.push(Filter::Cond { field: field.to_owned(), m: Matcher::new(op, v) });
    }
    Ok(Filter::Group { or, parts })
}

impl Filter {
    fn is_empty(&self) -> bool {
        matches!(self, Filter::Group { parts, .. } if parts.is_empty())
    }

    fn matches(&self, e: Entity<'_>) -> bool {
        match self {
            Filter::Cond { field, m } => {
                let vals = match e.field(field) {
                    Some(Value::Array(a)) if FILTER_ONLY.contains(&field.as_str()) => a,
                    Some(v) => vec![v],
                    None => vec![Value::Null],
                };
                m.matches(&vals)
            }
            Filter::Group { or: true, parts } => parts.is_empty() || parts.iter().any(|p| p.matches(e)),
            Filter::Group { or: false, parts } => parts.iter().all(|p| p.matches(e)),
        }
    }

    /// The IDs the filter can match, from an `id` condition at the top level of an AND filter: a superset
    /// (the filter still decides every row), so that a lookup by IDs or an `>id` page does not scan the table.
    fn id_span(&self) -> IdSpan {
        let Filter::Group { or: false, parts } = self else {
            return IdSpan::All;
        };
        parts
            .iter()
            .find_map(|p| match p {
                Filter::Cond { field, m } if field == "id" => m.id_span(),
                _ => None,
            })
            .unwrap_or(IdSpan::All)
    }
}

/// Which IDs to read rows for.
enum IdSpan {
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

/// The stored entities of a type within a span of IDs, by ID ascending, with their keys.
fn entities<'a>(
    st: &'a State,
    kind: EntityKind,
    span: IdSpan,
) -> Box<dyn DoubleEndedIterator<Item = (u64, Entity<'a>)> + 'a> {
    fn pick<'a, T>(
        map: &'a BTreeMap<u64, T>,
        span: IdSpan,
        wrap: fn(&'a T) -> Entity<'a>,
    ) -> Box<dyn DoubleEndedIterator<Item = (u64, Entity<'a>)> + 'a> {
        match span {
            IdSpan::All => Box::new(map.iter().map(move |(k, v)| (*k, wrap(v)))),
            IdSpan::Ids(ids) => Box::new(ids.into_iter().filter_map(move |k| map.get(&k).map(|v| (k, wrap(v))))),
            IdSpan::Range(lo, hi) => Box::new(map.range(lo..=hi).map(move |(k, v)| (*k, wrap(v)))),
        }
    }
    match kind {
        EntityKind::Contact => pick(&st.contacts, span, Entity::Contact),
        EntityKind::Company => pick(&st.companies, span, Entity::Company),
    }
}

/// How many stored entities of a type a caller with the type right may read.
fn readable_count(st: &State, kind: EntityKind, perm: &Permissions) -> usize {
    let (len, denied) = match kind {
        EntityKind::Contact => {
            (st.contacts.len(), perm.deny_contacts.iter().filter(|id| st.contacts.contains_key(id)).count())
        }
        EntityKind::Company => {
            (st.companies.len(), perm.deny_companies.iter().filter(|id| st.companies.contains_key(id)).count())
        }
    };
    if perm.admin { len } else { len - denied }
}

/// Counts the rows and keeps the page of them starting at `offset`; without a count (`start` < 0) it stops
/// at the end of the page.
fn window<'a>(rows: impl Iterator<Item = Entity<'a>>, offset: usize, count: bool) -> (usize, Vec<Entity<'a>>) {
    let mut total = 0;
    let mut page = Vec::new();
    for e in rows {
        if total >= offset && page.len() < PAGE {
            page.push(e);
        } else if !count && page.len() == PAGE {
            break;
        }
        total += 1;
    }
    (total, page)
}

/// A row's sort key for one `order` field: the value as a number when it is one, and as lower-cased text
/// (empty unless it is a string).
type SortKey = (Option<f64>, String);

fn sort_key(v: Option<Value>) -> SortKey {
    let v = v.unwrap_or(Value::Null);
    (v.as_f64(), v.as_str().map(str::to_lowercase).unwrap_or_default())
}

/// reference 2.2: contacts (3) and companies (4), only rows the caller may read; `total`, `next`, pages of 50.
/// Rows are filtered and ordered on the stored entities; JSON is built only for the page returned.
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
    let start = start_param(p);
    let offset = usize::try_from(start).unwrap_or(0);
    let count = start >= 0;
    let st: &State = cx.st;
    let rows = entities(st, kind, filter.id_span())
        .filter(|(id, e)| perm.can_read_item(kind, *id) && (filter.is_empty() || filter.matches(*e)))
        .map(|(_, e)| e);
    // Without a filter, the count is known without reading the rows.
    let known = (count && filter.is_empty()).then(|| readable_count(st, kind, &perm));
    let count = count && known.is_none();
    let (total, page) = match order.first() {
        // IDs are unique and the rows come by ID ascending: an order that starts with `id` is decided by it.
        None => window(rows, offset, count),
        Some((f, false)) if f == "id" => window(rows, offset, count),
        Some((f, true)) if f == "id" => window(rows.rev(), offset, count),
        Some(_) => {
            let mut keyed: Vec<(Vec<SortKey>, Entity<'_>)> =
                rows.map(|e| (order.iter().map(|(f, _)| sort_key(e.field(f))).collect(), e)).collect();
            keyed.sort_by(|(a, _), (b, _)| {
                for (((xn, xs), (yn, ys)), (_, desc)) in a.iter().zip(b).zip(&order) {
                    let o = match (xn, yn) {
                        (Some(x), Some(y)) => x.partial_cmp(y).unwrap_or(Ordering::Equal),
                        _ => xs.cmp(ys),
                    };
                    let o = if *desc { o.reverse() } else { o };
                    if o.is_ne() {
                        return o;
                    }
                }
                Ordering::Equal
            });
            window(keyed.into_iter().map(|(_, e)| e), offset, count)
        }
    };
    let total = known.unwrap_or(total);
    let items: Vec<Value> = page.into_iter().map(|e| e.row(&select)).collect();
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
