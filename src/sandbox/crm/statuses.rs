//! `crm.status.list` (the official page `api-reference/crm/status/crm-status-list.md`): the CRM directories
//! the sandbox has, the `SOURCE` directory of contacts' sources and the `CALL_LIST` call statuses, as rows of
//! database strings, filtered and ordered by their fields, in pages of 50 with `total` and `next`.

use std::cmp::Ordering;

use serde_json::{Value, json};

use super::filter::{Filter, Syntax};
use super::{PAGE, start_param};
use crate::sandbox::call::{Cx, MethodResult, RestError, Success};
use crate::sandbox::params::{PArr, PValue};

/// The fields of a directory row (`crm.status.fields`).
const FIELDS: [&str; 10] =
    ["ID", "ENTITY_ID", "STATUS_ID", "NAME", "NAME_INIT", "SORT", "SYSTEM", "CATEGORY_ID", "COLOR", "SEMANTICS"];

/// The page's one error for parameters it cannot use.
fn invalid() -> RestError {
    RestError::new(400, "Invalid parameters.", "Incorrect parameters passed.")
}

/// A row as the portal's status table gives it: numbers as strings, `NAME_INIT` the name of a system item
/// (the one it was made with) and empty for the others, no colour or semantics for these directories, and
/// `CATEGORY_ID` 0 outside deal pipelines.
fn directory_rows(cx: &Cx<'_>) -> Vec<Value> {
    let row = |id: u64, entity: &str, status_id: &str, name: &str, sort: i64, system: bool| {
        json!({
            "ID": id.to_string(),
            "ENTITY_ID": entity,
            "STATUS_ID": status_id,
            "NAME": name,
            "NAME_INIT": if system { name } else { "" },
            "SORT": sort.to_string(),
            "SYSTEM": if system { "Y" } else { "N" },
            "CATEGORY_ID": "0",
            "COLOR": Value::Null,
            "SEMANTICS": Value::Null,
        })
    };
    let calls = cx.st.statuses.iter().map(|s| row(s.id, "CALL_LIST", &s.status_id, &s.name, s.sort, true));
    let sources = cx.st.sources.iter().map(|s| row(s.id, &s.entity_id, &s.status_id, &s.name, s.sort, s.system));
    calls.chain(sources).collect()
}

fn compare(a: &Value, b: &Value) -> Ordering {
    let text = |v: &Value| v.as_str().unwrap_or("").to_owned();
    match (text(a).parse::<f64>(), text(b).parse::<f64>()) {
        (Ok(x), Ok(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
        _ => text(a).to_lowercase().cmp(&text(b).to_lowercase()),
    }
}

/// `filter` and `order` are objects of the directory's fields; anything else is the page's 400
/// "Invalid parameters.". Without an `order`, rows come by `SORT`, then `ID`.
pub fn status_list(cx: &mut Cx<'_>, params: &PArr) -> MethodResult {
    let start = start_param(params);
    let p = params.upper_keys();
    let check = |field: &str, _: &PValue| if FIELDS.contains(&field) { Ok(()) } else { Err(invalid()) };
    let filter = match p.get("FILTER") {
        Some(PValue::Arr(f)) => Filter::parse(&f.upper_keys(), &Syntax { logic_key: None, check: &check })?,
        None => Filter::none(),
        Some(_) => return Err(invalid()),
    };
    let mut order: Vec<(String, bool)> = Vec::new();
    match p.get("ORDER") {
        Some(PValue::Arr(o)) => {
            for (k, v) in o.iter() {
                let field = k.to_uppercase();
                if !FIELDS.contains(&field.as_str()) {
                    return Err(invalid());
                }
                order.push((field, v.php_string().is_some_and(|d| d.eq_ignore_ascii_case("desc"))));
            }
        }
        None => {}
        Some(_) => return Err(invalid()),
    }
    if order.is_empty() {
        order = vec![("SORT".into(), false), ("ID".into(), false)];
    }
    let mut rows: Vec<Value> =
        directory_rows(cx).into_iter().filter(|r| filter.matches(&|f| vec![r[f].clone()])).collect();
    rows.sort_by(|a, b| {
        for (f, desc) in &order {
            let o = compare(&a[f.as_str()], &b[f.as_str()]);
            let o = if *desc { o.reverse() } else { o };
            if o.is_ne() {
                return o;
            }
        }
        Ordering::Equal
    });
    let total = rows.len();
    let offset = usize::try_from(start).unwrap_or(0);
    let page: Vec<Value> = rows.into_iter().skip(offset).take(PAGE).collect();
    let next = (offset + page.len() < total).then_some((offset + page.len()) as i64);
    let total = (start >= 0).then_some(total as i64);
    Ok(Success { result: Value::Array(page), total, next: next.filter(|_| total.is_some()) })
}
