//! The call-list methods (reference 1.1–1.6): `crm.calllist.update` with every check in the portal's
//! order, `add`, `get`, `items.get`, `list` and `statuslist`.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value, json};

use super::filter::{Filter, Syntax};
use super::{PAGE, Reader, bad, start_param};
use crate::sandbox::call::{Cx, MethodResult, RestError, Success};
use crate::sandbox::model::{CallList, EntityKind, ListItem, format_db_time};
use crate::sandbox::params::{PArr, PValue};

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
    let reader = Reader::of(cx);
    if !reader.reads_type(kind) {
        return Err(RestError::new(403, "ACCESS_ERROR", "Access Denied"));
    }
    let list_err = || bad("LIST_ID_ERROR", "Incorrect list id or access denied");
    let list_id = p.get("LIST_ID").map(PValue::php_int).unwrap_or(0);
    let list = u64::try_from(list_id).ok().and_then(|id| cx.st.lists.get(&id)).ok_or_else(list_err)?;
    if !reader.reads_type(list.entity_type) {
        return Err(list_err());
    }
    // Loaded order: STATUS_ID, then RANK; hidden items (unreadable, or their entity deleted) are not loaded.
    let mut visible: Vec<&ListItem> =
        list.items.iter().filter(|i| reader.reads(cx.st, list.entity_type, i.element_id)).collect();
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
        requested.iter().copied().filter(|id| !current_set.contains(id) && reader.reads(cx.st, kind, *id)).collect();
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
    let reader = Reader::of(cx);
    let readable: Vec<u64> = requested.into_iter().filter(|id| reader.reads(cx.st, kind, *id)).collect();
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
    let reader = Reader::of(cx);
    let list = u64::try_from(id.php_int())
        .ok()
        .and_then(|id| cx.st.lists.get(&id))
        .filter(|l| reader.reads_type(l.entity_type))
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
    let reader = Reader::of(cx);
    let offset = usize::try_from(start).unwrap_or(0);
    // Items are normally stored in rank order: then the page is a slice, found without a sort or a scan.
    let page = if list.is_ranked() {
        ranked_page(list.items.iter(), status.as_deref(), offset)
    } else {
        ranked_page(list.ranked().into_iter(), status.as_deref(), offset)
    };
    let rows: Vec<Value> = page
        .into_iter()
        .filter(|i| reader.reads(cx.st, list.entity_type, i.element_id))
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
    let check =
        |field: &str, _: &PValue| if LIST_FIELDS.contains(&field) { Ok(()) } else { Err(unknown_list_field(field)) };
    let filter = match p.get("FILTER") {
        Some(PValue::Arr(f)) => Filter::parse(f, &Syntax { logic_key: None, check: &check })?,
        _ => Filter::none(),
    };
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
        cx.st.lists.values().filter(|l| filter.matches(&|f| vec![list_field(l, f)])).collect();
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
