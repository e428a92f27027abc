//! `crm.duplicate.findbycomm` (official page `api-reference/crm/duplicates/crm-duplicate-find-by-comm.md`):
//! the contacts and companies that hold one of up to 20 phones or e-mails, phones compared as the portal
//! normalises them. The sandbox has no leads, so `LEAD` finds nothing.

use serde_json::{Map, Value, json};

use super::Reader;
use crate::sandbox::call::{Cx, MethodResult, RestError, Success};
use crate::sandbox::config::DuplicateErrors;
use crate::sandbox::model::EntityKind;
use crate::sandbox::params::{PArr, PValue};

/// Values looked up per call, and matches kept per value and type: the page's "maximum number of values —
/// 20", and the source's limit of 20 duplicates per value.
const LIMIT: usize = 20;

/// Which CRM types a call searches.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Searched {
    All,
    Lead,
    One(EntityKind),
}

/// `entity_type` as `CCrmOwnerType::ResolveID` reads it; an unknown or missing type searches all three, a
/// deal is refused.
fn searched(p: &PArr) -> Result<Searched, Refusal> {
    let raw = ["entity_type", "ENTITY_TYPE", "entityType"].iter().find_map(|k| p.get(k)).and_then(PValue::php_string);
    Ok(match raw.unwrap_or_default().trim().to_uppercase().as_str() {
        "LEAD" | "L" | "1" => Searched::Lead,
        "CONTACT" | "C" | "3" => Searched::One(EntityKind::Contact),
        "COMPANY" | "CO" | "4" => Searched::One(EntityKind::Company),
        "DEAL" | "D" | "2" => return Err(Refusal::Deal),
        _ => Searched::All,
    })
}

/// Why the method refuses a call.
enum Refusal {
    Access,
    NoType,
    OtherType(String),
    NoValues,
    Deal,
}

impl Refusal {
    /// The error as the official page documents it (`error` is the message, with a description), or as the
    /// portal's source throws it (an empty `error`, the message as description, status 400).
    fn error(self, shape: DuplicateErrors) -> RestError {
        let (status, message, documented) = match self {
            Refusal::Access => (403, "Access denied".to_owned(), "Access denied.".to_owned()),
            Refusal::NoType => {
                (400, "Communication type is not defined".to_owned(), "Parameter 'type' is required.".to_owned())
            }
            Refusal::OtherType(t) => {
                let m = format!("Communication type '{t}' is not supported in current context");
                (400, m.clone(), format!("{m}."))
            }
            Refusal::NoValues => {
                (400, "Communication values is not defined".to_owned(), "Parameter 'values' is required.".to_owned())
            }
            Refusal::Deal => {
                let m = "Deal is not supported in current context".to_owned();
                (400, m.clone(), format!("{m}."))
            }
        };
        match shape {
            DuplicateErrors::Documented => RestError::new(status, &message, documented),
            DuplicateErrors::Source => RestError::new(400, "", format!("{message}.")),
        }
    }
}

/// A phone as the portal indexes it for duplicate search: its digits, without an extension (the part after
/// `#`, `;` or `,`), with the international prefixes `00` and `011` and a trunk `0` dropped and a Russian
/// trunk `8` read as `7` in numbers of eleven digits or more.
pub fn normalize_phone(raw: &str) -> String {
    let kept: String = raw.chars().filter(|c| c.is_ascii_digit() || matches!(c, '#' | '*' | ',' | ';')).collect();
    let number = kept.split(['#', ',', ';']).next().unwrap_or("").replace('*', "");
    if number.len() < 10 || ["80", "81", "82"].iter().any(|p| number.starts_with(p)) {
        return number;
    }
    if let Some(rest) = number.strip_prefix("00") {
        rest.to_owned()
    } else if let Some(rest) = number.strip_prefix("011") {
        rest.to_owned()
    } else if let (Some(rest), true) = (number.strip_prefix('8'), number.len() >= 11) {
        format!("7{rest}")
    } else if let Some(rest) = number.strip_prefix('0') {
        rest.to_owned()
    } else {
        number
    }
}

/// An e-mail as the portal indexes it: trimmed and lower-cased.
fn normalize_email(raw: &str) -> String {
    raw.trim().to_lowercase()
}

/// reference: crm-duplicate-find-by-comm.md. Checks in the source's order (read access, `type`, `values`,
/// `entity_type`), then each distinct value, at most 20, finds up to 20 contacts and then up to 20 companies
/// with it; a type with 20 or more stops the search of the types after it for that value. Only items the
/// caller may read are found. The answer maps `CONTACT`/`COMPANY` to IDs, or is `[]` when nothing is found.
pub fn find_by_comm(cx: &mut Cx<'_>, p: &PArr) -> MethodResult {
    let shape = cx.info.config.quirks.duplicate_errors;
    let reader = Reader::of(cx);
    if !reader.reads_type(EntityKind::Contact) && !reader.reads_type(EntityKind::Company) {
        return Err(Refusal::Access.error(shape));
    }
    let kind = ["type", "TYPE"].iter().find_map(|k| p.get(k)).and_then(PValue::php_string).unwrap_or_default();
    let phone = match kind.to_uppercase().as_str() {
        "PHONE" => true,
        "EMAIL" => false,
        "" => return Err(Refusal::NoType.error(shape)),
        other => return Err(Refusal::OtherType(other.to_owned()).error(shape)),
    };
    let values = match ["values", "VALUES"].iter().find_map(|k| p.get(k)) {
        Some(PValue::Arr(a)) if !a.is_empty() => a,
        _ => return Err(Refusal::NoValues.error(shape)),
    };
    let searched = searched(p).map_err(|r| r.error(shape))?;
    let normalize = if phone { normalize_phone } else { normalize_email };

    let mut wanted: Vec<String> = Vec::new();
    for v in values.values() {
        // Only strings are looked up: a number in a JSON body is skipped, as the portal skips non-strings.
        let Some(text) = v.as_str().filter(|t| !t.is_empty()) else { continue };
        let code = normalize(text);
        if !wanted.contains(&code) {
            wanted.push(code);
        }
        if wanted.len() >= LIMIT {
            break;
        }
    }

    let types: Vec<EntityKind> = match searched {
        Searched::All => vec![EntityKind::Contact, EntityKind::Company],
        Searched::One(kind) => vec![kind],
        Searched::Lead => vec![],
    };
    let mut found: Vec<(EntityKind, Vec<u64>)> = Vec::new();
    for code in wanted.iter().filter(|c| !c.is_empty()) {
        for kind in &types {
            let holds = |comms: &[String]| comms.iter().any(|c| &normalize(c) == code);
            let ids: Vec<u64> = match kind {
                EntityKind::Contact => cx
                    .st
                    .contacts
                    .values()
                    .filter(|c| holds(if phone { &c.phones } else { &c.emails }))
                    .filter(|c| reader.reads_item(*kind, c.id, c.assigned_by_id))
                    .map(|c| c.id)
                    .take(LIMIT)
                    .collect(),
                EntityKind::Company => cx
                    .st
                    .companies
                    .values()
                    .filter(|c| holds(if phone { &c.phones } else { &c.emails }))
                    .filter(|c| reader.reads_item(*kind, c.id, c.assigned_by_id))
                    .map(|c| c.id)
                    .take(LIMIT)
                    .collect(),
            };
            let many = ids.len() >= LIMIT;
            if !ids.is_empty() {
                let slot = match found.iter().position(|(k, _)| k == kind) {
                    Some(i) => i,
                    None => {
                        found.push((*kind, Vec::new()));
                        found.len() - 1
                    }
                };
                for id in ids {
                    if !found[slot].1.contains(&id) {
                        found[slot].1.push(id);
                    }
                }
            }
            if many {
                break;
            }
        }
    }
    if found.is_empty() {
        return Ok(Success::of(json!([])));
    }
    let result: Map<String, Value> =
        found.into_iter().map(|(kind, ids)| (kind.name().to_owned(), json!(ids))).collect();
    Ok(Success::of(Value::Object(result)))
}

#[cfg(test)]
mod tests {
    use super::normalize_phone;

    #[test]
    fn phones_are_compared_as_the_portal_indexes_them() {
        assert_eq!(normalize_phone("+7 (916) 123-45-67"), "79161234567");
        assert_eq!(normalize_phone("8 916 123 45 67"), "79161234567");
        assert_eq!(normalize_phone("+7 916 123-45-67 #204"), "79161234567");
        assert_eq!(normalize_phone("+1 415 555-0142"), "14155550142");
        assert_eq!(normalize_phone("0044 20 7946 0958"), "442079460958");
        assert_eq!(normalize_phone("555-01"), "55501");
    }
}
