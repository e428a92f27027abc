//! `batch` (reference 5.6): up to 50 commands run in order under the outer token, `$result[key][field]`
//! references to earlier answers, `halt`, and PHP's habit of writing sequentially keyed maps as JSON lists.
//! `result_time` holds the commands that succeeded, like `result`.

use std::collections::HashMap;
use std::time::Instant;

use serde_json::{Map, Value, json};

use super::call::{Cx, MethodResult, RestError, Success, method_name, time_block};
use super::model::CallRecord;
use super::params::{PArr, PValue, parse_query};

/// `CRestUtil::BATCH_MAX_LENGTH`.
pub const MAX_COMMANDS: usize = 50;

/// An ordered PHP map rendered the way `json_encode` does: a list when its keys are 0..n-1, else an object.
pub fn php_map(entries: Vec<(String, Value)>) -> Value {
    let is_list = entries.iter().enumerate().all(|(i, (k, _))| k == &i.to_string());
    if is_list {
        Value::Array(entries.into_iter().map(|(_, v)| v).collect())
    } else {
        Value::Object(entries.into_iter().collect::<Map<String, Value>>())
    }
}

/// Parses one `$result[a][b]…` reference at the start of `s`: the path and the length consumed.
fn parse_ref(s: &str) -> Option<(Vec<String>, usize)> {
    let mut rest = s.strip_prefix("$result")?;
    let mut used = "$result".len();
    let mut path = Vec::new();
    while let Some(inner) = rest.strip_prefix('[') {
        let end = inner.find(']')?;
        path.push(inner[..end].to_owned());
        used += end + 2;
        rest = &inner[end + 1..];
    }
    (!path.is_empty()).then_some((path, used))
}

fn resolve<'a>(results: &'a HashMap<String, Value>, path: &[String]) -> Option<&'a Value> {
    let mut cur = results.get(&path[0])?;
    for seg in &path[1..] {
        cur = match cur {
            Value::Object(m) => m.get(seg)?,
            Value::Array(a) => a.get(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// Replaces references in every string of a command's parameters.
fn substitute(v: &mut PValue, results: &HashMap<String, Value>) {
    match v {
        PValue::Arr(a) => {
            let mut out = PArr::new();
            for (k, mut item) in a.iter().map(|(k, v)| (k.clone(), v.clone())) {
                substitute(&mut item, results);
                out.insert(k, item);
            }
            *a = out;
        }
        PValue::Str(s) if s.contains("$result[") => {
            if let Some((path, used)) = parse_ref(s)
                && used == s.len()
            {
                if let Some(found) = resolve(results, &path) {
                    *v = PValue::from_json(found);
                }
                return;
            }
            let mut out = String::new();
            let mut rest = s.as_str();
            while let Some(i) = rest.find("$result[") {
                out.push_str(&rest[..i]);
                match parse_ref(&rest[i..]) {
                    Some((path, used)) => {
                        match resolve(results, &path) {
                            Some(Value::String(text)) => out.push_str(text),
                            _ => out.push_str(&rest[i..i + used]),
                        }
                        rest = &rest[i + used..];
                    }
                    None => {
                        out.push_str(&rest[i..]);
                        rest = "";
                    }
                }
            }
            out.push_str(rest);
            *s = out;
        }
        _ => {}
    }
}

/// Whether a command's parameters hold a string [`substitute`] would look at.
fn has_reference(v: &PValue) -> bool {
    match v {
        PValue::Arr(a) => a.values().any(has_reference),
        PValue::Str(s) => s.contains("$result["),
        _ => false,
    }
}

/// The methods a `batch` calls (lower-cased), for faults that refuse the whole request when one of its
/// commands calls a method.
pub fn command_methods(p: &PArr) -> Vec<String> {
    match p.get("cmd") {
        Some(PValue::Arr(cmd)) => cmd
            .values()
            .filter_map(PValue::as_str)
            .map(|text| method_name(text.split_once('?').map_or(text, |(m, _)| m)))
            .collect(),
        _ => Vec::new(),
    }
}

pub fn batch(cx: &mut Cx<'_>, p: &PArr) -> MethodResult {
    let halt = p.get("halt").is_some_and(PValue::php_bool);
    let cmd = match p.get("cmd") {
        Some(PValue::Arr(a)) => a.clone(),
        _ => PArr::new(),
    };
    let mut result = Vec::new();
    let mut errors = Vec::new();
    let mut totals = Vec::new();
    let mut nexts = Vec::new();
    let mut times = Vec::new();
    let mut done: HashMap<String, Value> = HashMap::new();
    // Answers are kept for `$result[…]` references only when some command has one (most batches have none,
    // and copying fifty pages of answers is not free).
    let keep_answers = cmd.values().filter_map(PValue::as_str).any(|text| {
        let query = text.split_once('?').map_or("", |(_, q)| q);
        has_reference(&PValue::Arr(parse_query(query)))
    });
    let last = cmd.len();
    let mut count = 0usize;
    for (position, (key, entry)) in cmd.iter().enumerate() {
        let Some(text) = entry.as_str() else { continue };
        count += 1;
        if count > MAX_COMMANDS {
            let e = RestError::new(400, "ERROR_BATCH_LENGTH_EXCEEDED", "Max batch length exceeded");
            errors.push((key.clone(), e.body()));
            continue;
        }
        let (raw_method, query) = text.split_once('?').unwrap_or((text, ""));
        let method = method_name(raw_method);
        let mut params = PValue::Arr(parse_query(query));
        substitute(&mut params, &done);
        let PValue::Arr(mut params) = params else { unreachable!("parameters stay an array") };
        params.remove("auth");
        params.remove("access_token");
        let logged = PValue::Arr(params.clone()).to_json();
        let start = cx.st.now();
        let wall = Instant::now();
        let (outcome, _) = if method == "batch" {
            let e = RestError::new(400, "ERROR_BATCH_METHOD_NOT_ALLOWED", "Method is not allowed for batch usage");
            (Err(e), cx.st.rt.operating("batch", start))
        } else if let Some(kind) = cx.st.rt.pick_command_fault(&method) {
            // A fault injected for this method strikes its command alone: the others still run.
            (Err(RestError::fault(kind, &cx.info.config.quirks)), cx.st.rt.operating(&method, start))
        } else {
            (cx.run)(cx, &method, params)
        };
        let finish = cx.st.now();
        let (status, code) = match &outcome {
            Ok(_) => (200, None),
            Err(e) => (e.status, Some(e.code.clone())),
        };
        cx.st.record_call(
            CallRecord {
                seq: 0,
                time: start,
                method: method.clone(),
                params: logged,
                user_id: Some(cx.caller.user_id),
                token: Some(cx.caller.token.clone()),
                status,
                error: code,
                via: "batch".into(),
                batch_seq: cx.batch_seq,
            },
            cx.info.config.call_log_capacity,
        );
        match outcome {
            Ok(Success { result: r, total, next }) => {
                // Only a command that succeeded has a time, as only it has a result.
                let elapsed = wall.elapsed().as_secs_f64();
                times.push((key.clone(), time_block(start, finish.max(start), elapsed, None)));
                if let Some(t) = total {
                    totals.push((key.clone(), json!(t)));
                }
                if let Some(n) = next {
                    nexts.push((key.clone(), json!(n)));
                }
                // No command after the last can refer to its answer.
                if keep_answers && position + 1 < last {
                    done.insert(key.clone(), r.clone());
                }
                result.push((key.clone(), r));
            }
            Err(e) => {
                errors.push((key.clone(), e.body()));
                if halt {
                    break;
                }
            }
        }
    }
    Ok(Success::of(json!({
        "result": php_map(result),
        "result_error": php_map(errors),
        "result_total": php_map(totals),
        "result_next": php_map(nexts),
        "result_time": php_map(times),
    })))
}
