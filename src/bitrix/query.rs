//! PHP-style query strings (`http_build_query`): what a `batch` command carries after its `?`.
//! Nested keys become brackets (`filter[@id][0]=5`), booleans `1`/`0`, and nulls are left out, as PHP does.

use serde_json::Value;

/// Encodes a JSON object as a PHP query string.
pub fn build(params: &Value) -> String {
    let mut pairs: Vec<(String, String)> = Vec::new();
    if let Value::Object(map) = params {
        for (k, v) in map {
            flatten(k.clone(), v, &mut pairs);
        }
    }
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in &pairs {
        out.append_pair(k, v);
    }
    out.finish()
}

fn flatten(prefix: String, value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::Null => {}
        Value::Bool(b) => out.push((prefix, if *b { "1" } else { "0" }.into())),
        Value::Number(n) => out.push((prefix, n.to_string())),
        Value::String(s) => out.push((prefix, s.clone())),
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                flatten(format!("{prefix}[{i}]"), v, out);
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                flatten(format!("{prefix}[{k}]"), v, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_values_become_bracket_keys() {
        let q = build(
            &json!({"entityTypeId": 3, "filter": {"@id": [5, 7]}, "select": ["id", "name"], "x": null, "b": true}),
        );
        let decoded: Vec<(String, String)> = url::form_urlencoded::parse(q.as_bytes()).into_owned().collect();
        assert_eq!(
            decoded,
            [
                ("entityTypeId".to_owned(), "3".to_owned()),
                ("filter[@id][0]".into(), "5".into()),
                ("filter[@id][1]".into(), "7".into()),
                ("select[0]".into(), "id".into()),
                ("select[1]".into(), "name".into()),
                ("b".into(), "1".into()),
            ]
        );
    }
}
