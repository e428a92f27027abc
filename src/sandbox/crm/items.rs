//! Contacts and companies through `crm.item.list` (reference 2.2) and web forms through `crm.webform.list`
//! (2.1). Rows are filtered and ordered on the stored entities; JSON is built only for the page returned.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::filter::{Filter, IdSpan, Syntax, parse_datetime, split_op};
use super::{PAGE, Reader, bad, start_param};
use crate::sandbox::call::{Cx, MethodResult, RestError, Success};
use crate::sandbox::config::UpperCaseFields;
use crate::sandbox::model::{Company, Contact, EntityKind, Permissions};
use crate::sandbox::params::{PArr, PValue};
use crate::sandbox::state::State;

fn invalid(text: String) -> RestError {
    bad("INVALID_ARG_VALUE", &text)
}

const CONTACT_FIELDS: [&str; 14] = [
    "id",
    "name",
    "lastName",
    "secondName",
    "honorific",
    "post",
    "companyId",
    "companyIds",
    "assignedById",
    "sourceId",
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
                "sourceId" => nz(&c.source_id),
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

    fn assigned_by_id(self) -> u64 {
        match self {
            Entity::Contact(c) => c.assigned_by_id,
            Entity::Company(c) => c.assigned_by_id,
        }
    }

    /// A field as a filter reads it: each phone or e-mail of the filter-only multifields, else the one value
    /// (`null` for a field the type does not have).
    fn filter_values(self, field: &str) -> Vec<Value> {
        match self.field(field) {
            Some(Value::Array(a)) if FILTER_ONLY.contains(&field) => a,
            Some(v) => vec![v],
            None => vec![Value::Null],
        }
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

/// Accepts a filter condition: a field of the type (or a filter-only multifield), and for the numeric fields
/// a number or a list of numbers.
fn check(fields: &[&str], field: &str, v: &PValue) -> Result<(), RestError> {
    if !(fields.contains(&field) || FILTER_ONLY.contains(&field)) || field == "fm" {
        return Err(invalid(format!("Invalid filter: field '{field}' is not allowed in filter")));
    }
    let numeric = matches!(field, "id" | "companyId" | "assignedById");
    let values: Vec<&PValue> = match v {
        PValue::Arr(a) => a.values().collect(),
        other => vec![other],
    };
    let unreadable =
        |x: &&PValue, read: fn(&str) -> bool| !matches!(x, PValue::Null) && x.php_string().is_none_or(|s| !read(&s));
    let bad = if numeric {
        values.iter().any(|x| unreadable(x, |s| s.trim().parse::<f64>().is_ok()))
    } else if field == "createdTime" {
        values.iter().any(|x| unreadable(x, |s| parse_datetime(s).is_some()))
    } else {
        false
    };
    if bad {
        return Err(invalid(format!("Invalid filter: field '{field}' has invalid value")));
    }
    Ok(())
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

/// How many stored entities of a type a caller with the type right may read, when that is known without
/// reading them: not at the "own" level, which depends on each item's responsible user.
fn readable_count(st: &State, kind: EntityKind, perm: &Permissions) -> Option<usize> {
    if perm.own_only(kind) {
        return None;
    }
    let (len, denied) = match kind {
        EntityKind::Contact => {
            (st.contacts.len(), perm.deny_contacts.iter().filter(|id| st.contacts.contains_key(id)).count())
        }
        EntityKind::Company => {
            (st.companies.len(), perm.deny_companies.iter().filter(|id| st.companies.contains_key(id)).count())
        }
    };
    Some(if perm.admin { len } else { len - denied })
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

/// `LAST_NAME` → `lastName`: an UPPER_CASE field name (with its operator, `>=ID` → `>=id`) as the camelCase one,
/// in every group of a filter; other keys as they are.
fn camel_keys(a: &PArr) -> PArr {
    a.iter()
        .map(|(k, v)| {
            let v = match v {
                PValue::Arr(sub) if k.bytes().all(|b| b.is_ascii_digit()) => PValue::Arr(camel_keys(sub)),
                other => other.clone(),
            };
            let (_, field) = split_op(k);
            let upper = !field.is_empty()
                && field.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
                && field.bytes().any(|b| b.is_ascii_uppercase());
            if !upper {
                return (k.clone(), v);
            }
            let mut camel = String::new();
            for (i, part) in field.split('_').filter(|s| !s.is_empty()).enumerate() {
                let lower = part.to_ascii_lowercase();
                match (i, lower.chars().next()) {
                    (0, _) | (_, None) => camel.push_str(&lower),
                    (_, Some(first)) => {
                        camel.push(first.to_ascii_uppercase());
                        camel.push_str(&lower[1..]);
                    }
                }
            }
            (format!("{}{camel}", &k[..k.len() - field.len()]), v)
        })
        .collect()
}

/// reference 2.2: contacts (3) and companies (4), only rows the caller may read; `total`, `next`, pages of 50.
/// Rows are filtered and ordered on the stored entities; JSON is built only for the page returned.
pub fn item_list(cx: &mut Cx<'_>, p: &PArr) -> MethodResult {
    let kind = p.get("entityTypeId").and_then(|v| EntityKind::from_type_id(v.php_int()));
    let Some(kind) = kind else {
        return Err(bad("NOT_FOUND", "SPA not found"));
    };
    let reader = Reader::of(cx);
    if !reader.reads_type(kind) {
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
    let upper = cx.info.config.quirks.item_list_upper_case_fields == UpperCaseFields::Accepted;
    let filter = match p.get("filter") {
        Some(PValue::Arr(f)) => {
            let f = if upper { camel_keys(f) } else { f.clone() };
            Filter::parse(&f, &Syntax { logic_key: Some("logic"), check: &|field, v| check(fields, field, v) })?
        }
        _ => Filter::none(),
    };
    let mut order: Vec<(String, bool)> = Vec::new();
    if let Some(PValue::Arr(o)) = p.get("order") {
        let o = if upper { camel_keys(o) } else { o.clone() };
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
    let rows = entities(st, kind, filter.id_span("id"))
        .filter(|(id, e)| {
            reader.reads_item(kind, *id, e.assigned_by_id())
                && (filter.is_empty() || filter.matches(&|f| e.filter_values(f)))
        })
        .map(|(_, e)| e);
    // Without a filter, the count is known without reading the rows.
    let known = if count && filter.is_empty() { readable_count(st, kind, &reader.perm) } else { None };
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
