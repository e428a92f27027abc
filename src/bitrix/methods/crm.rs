//! Contacts and companies (`crm.item.list`, reference 2.2) and web forms (`crm.webform.list`, 2.1).

use std::fmt;

use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value, json};

use super::rows::{Listed, Num, Text};
use super::{array, bad, field_u64, text};
use crate::bitrix::batch::{BatchOutcome, Command};
use crate::bitrix::error::BitrixError;
use crate::bitrix::paging::Rows;
use crate::bitrix::rest::Caller;
use crate::bitrix::tokens::TokenStore;
use crate::domain::{EntityId, EntityType, WebformId};

/// A contact or company, with what a manager needs to recognise it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrmItem {
    pub id: EntityId,
    /// A contact's full name or a company's title.
    pub name: String,
    pub phones: Vec<String>,
    pub emails: Vec<String>,
}

/// One page of `crm.item.list`.
#[derive(Debug, Clone)]
pub struct ItemPage {
    pub items: Vec<CrmItem>,
    pub total: u64,
    pub next: Option<u64>,
}

/// A CRM web form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webform {
    pub id: WebformId,
    pub name: String,
    pub active: bool,
}

/// Fields asked for: ids, names and the multifields (phones, emails), which come only with `*`.
fn select(entity: EntityType) -> Value {
    let _ = entity;
    json!(["*"])
}

pub fn parse_item(entity: EntityType, row: &Value) -> Result<CrmItem, BitrixError> {
    let method = "crm.item.list";
    let id = EntityId::new(field_u64(method, row, "id")?).map_err(|e| bad(method, e.to_string()))?;
    let name = match entity {
        EntityType::Contact => {
            let parts: Vec<String> = ["name", "secondName", "lastName"]
                .iter()
                .map(|k| text(row, k))
                .filter(|s| !s.trim().is_empty())
                .collect();
            parts.join(" ")
        }
        EntityType::Company => text(row, "title"),
    };
    let multi = |kind: &str| -> Vec<String> {
        row.get("fm")
            .and_then(Value::as_array)
            .map(|fm| {
                fm.iter()
                    .filter(|f| text(f, "typeId").eq_ignore_ascii_case(kind))
                    .map(|f| text(f, "value"))
                    .filter(|v| !v.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    };
    Ok(CrmItem { id, name, phones: multi("PHONE"), emails: multi("EMAIL") })
}

fn parse_items(entity: EntityType, rows: Vec<Value>) -> Result<Vec<CrmItem>, BitrixError> {
    rows.iter().map(|r| parse_item(entity, r)).collect()
}

/// `crm.item.list` commands resolving `ids`, 50 to a command (its page size).
pub fn lookup_commands(entity: EntityType, ids: &[EntityId], key_prefix: &str) -> Vec<Command> {
    ids.chunks(50)
        .enumerate()
        .map(|(i, chunk)| {
            Command::new(
                format!("{key_prefix}{i}"),
                "crm.item.list",
                json!({
                    "entityTypeId": entity.type_id(),
                    "select": select(entity),
                    "filter": { "@id": chunk.iter().map(|id| id.get()).collect::<Vec<_>>() },
                    "start": -1,
                }),
            )
        })
        .collect()
}

pub fn parse_lookup(entity: EntityType, result: Value) -> Result<Vec<CrmItem>, BitrixError> {
    parse_items(entity, Rows::ResultItems.extract("crm.item.list", result)?)
}

/// A `crm.item.list` answer as sent: `{"items": [...]}` (or, from older portals, the rows themselves).
struct ItemRows(Listed<ItemRow>);

impl<'de> Deserialize<'de> for ItemRows {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<ItemRows, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ItemRows;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object with `items`, or a list of rows")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ItemRows, A::Error> {
                let mut items = Listed::default();
                while let Some(key) = map.next_key::<String>()? {
                    if key == "items" {
                        items = map.next_value()?;
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(ItemRows(items))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<ItemRows, A::Error> {
                Listed::deserialize(serde::de::value::SeqAccessDeserializer::new(seq)).map(ItemRows)
            }
        }
        d.deserialize_any(V)
    }
}

/// A contact or company row: what [`CrmItem`] needs, the other fields passed over.
#[derive(Deserialize)]
struct ItemRow {
    #[serde(default)]
    id: Num,
    #[serde(default)]
    name: Text,
    #[serde(default, rename = "secondName")]
    second_name: Text,
    #[serde(default, rename = "lastName")]
    last_name: Text,
    #[serde(default)]
    title: Text,
    #[serde(default)]
    fm: Listed<MultiField>,
}

/// One phone, email or other contact detail (`fm`).
#[derive(Deserialize)]
struct MultiField {
    #[serde(default, rename = "typeId")]
    type_id: Text,
    #[serde(default)]
    value: Text,
}

impl ItemRow {
    fn into_item(self, entity: EntityType) -> Result<CrmItem, BitrixError> {
        let method = "crm.item.list";
        let id = self.id.0.ok_or_else(|| bad(method, "`id` missing or not a number"))?;
        let id = EntityId::new(id).map_err(|e| bad(method, e.to_string()))?;
        let name = match entity {
            EntityType::Contact => {
                let parts = [self.name.0, self.second_name.0, self.last_name.0];
                parts.into_iter().filter(|s| !s.trim().is_empty()).collect::<Vec<_>>().join(" ")
            }
            EntityType::Company => self.title.0,
        };
        let (mut phones, mut emails) = (Vec::new(), Vec::new());
        for f in self.fm.0 {
            if f.value.0.is_empty() {
                continue;
            }
            if f.type_id.0.eq_ignore_ascii_case("PHONE") {
                phones.push(f.value.0);
            } else if f.type_id.0.eq_ignore_ascii_case("EMAIL") {
                emails.push(f.value.0);
            }
        }
        Ok(CrmItem { id, name, phones, emails })
    }
}

/// The contacts or companies of a batch's `crm.item.list` result `key`, read straight from the portal's
/// text.
pub fn take_lookup(out: &mut BatchOutcome, key: &str, entity: EntityType) -> Result<Vec<CrmItem>, BitrixError> {
    let rows: ItemRows = out.take_as(key, "crm.item.list")?;
    rows.0.0.into_iter().map(|row| row.into_item(entity)).collect()
}

/// A search filter: the text matched against names, or phone or email (reference 2.2 `%` prefix).
pub fn search_filter(entity: EntityType, text: &str) -> Value {
    let t = text.trim();
    if t.is_empty() {
        return json!({});
    }
    let name_fields: &[&str] = match entity {
        EntityType::Contact => &["%name", "%lastName"],
        EntityType::Company => &["%title"],
    };
    let mut or = Map::new();
    or.insert("logic".into(), json!("OR"));
    for (i, f) in name_fields.iter().chain(["%phone", "%email"].iter()).enumerate() {
        or.insert(format!("{i}"), json!({ *f: t }));
    }
    json!({ "0": Value::Object(or) })
}

/// The CRM filter a manager picks contacts or companies by (reference 2.2 field names).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemFilter {
    pub assigned_by: Option<crate::domain::UserId>,
    /// Contacts of one of these companies (contacts only); none given, any company.
    pub companies: Option<Vec<EntityId>>,
    pub source: Option<String>,
    /// `YYYY-MM-DD`, inclusive.
    pub created_from: Option<String>,
    pub created_to: Option<String>,
}

impl ItemFilter {
    pub fn to_filter(&self, entity: EntityType) -> Value {
        let mut f = Map::new();
        if let Some(u) = self.assigned_by {
            f.insert("assignedById".into(), json!(u.get()));
        }
        if let (Some(ids), EntityType::Contact) = (&self.companies, entity) {
            match ids.as_slice() {
                [one] => f.insert("companyId".into(), json!(one.get())),
                many => f.insert("@companyId".into(), json!(many.iter().map(|c| c.get()).collect::<Vec<_>>())),
            };
        }
        if let Some(src) = &self.source {
            f.insert("sourceId".into(), json!(src));
        }
        if let Some(d) = &self.created_from {
            f.insert(">=createdTime".into(), json!(format!("{d}T00:00:00")));
        }
        if let Some(d) = &self.created_to {
            f.insert("<=createdTime".into(), json!(format!("{d}T23:59:59")));
        }
        Value::Object(f)
    }
}

/// A `crm.item.list` command for one page of `filter`, ordered by id.
pub fn items_command(key: &str, entity: EntityType, filter: Value, start: u64) -> Command {
    Command::new(
        key,
        "crm.item.list",
        json!({
            "entityTypeId": entity.type_id(),
            "select": select(entity),
            "filter": filter,
            "order": { "id": "ASC" },
            "start": start,
        }),
    )
}

/// A page of `crm.item.list` from a batch's result and its total.
pub fn parse_item_page(
    entity: EntityType,
    result: Value,
    total: Option<u64>,
    next: Option<u64>,
) -> Result<ItemPage, BitrixError> {
    let items = parse_items(entity, Rows::ResultItems.extract("crm.item.list", result)?)?;
    Ok(ItemPage { total: total.unwrap_or(items.len() as u64), next, items })
}

/// Which kind of communication `crm.duplicate.findbycomm` looks up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comm {
    Phone,
    Email,
}

/// The most values one `crm.duplicate.findbycomm` takes.
pub const FINDBYCOMM_MAX: usize = 20;

/// `crm.duplicate.findbycomm` commands for `values`, 20 to a command.
pub fn findbycomm_commands(entity: EntityType, comm: Comm, values: &[String], key_prefix: &str) -> Vec<Command> {
    let kind = match comm {
        Comm::Phone => "PHONE",
        Comm::Email => "EMAIL",
    };
    values
        .chunks(FINDBYCOMM_MAX)
        .enumerate()
        .map(|(i, chunk)| {
            Command::new(
                format!("{key_prefix}{i}"),
                "crm.duplicate.findbycomm",
                json!({ "entity_type": entity.code(), "type": kind, "values": chunk }),
            )
        })
        .collect()
}

/// The IDs a `crm.duplicate.findbycomm` answer names for `entity` (`[]` when nothing matched).
pub fn parse_findbycomm(entity: EntityType, result: &Value) -> Vec<EntityId> {
    result
        .get(entity.code())
        .and_then(Value::as_array)
        .map(|ids| {
            ids.iter()
                .filter_map(|v| v.as_u64().or_else(|| v.as_str().and_then(|s| s.parse().ok())))
                .filter_map(|v| EntityId::new(v).ok())
                .collect()
        })
        .unwrap_or_default()
}

impl<S: TokenStore> Caller<'_, S> {
    /// One page of contacts or companies matching `filter`, ordered by id.
    pub async fn crm_items(&self, entity: EntityType, filter: Value, start: u64) -> Result<ItemPage, BitrixError> {
        let env = self
            .call(
                "crm.item.list",
                json!({
                    "entityTypeId": entity.type_id(),
                    "select": select(entity),
                    "filter": filter,
                    "order": { "id": "ASC" },
                    "start": start,
                }),
            )
            .await?;
        let items = parse_items(entity, Rows::ResultItems.extract("crm.item.list", env.result)?)?;
        Ok(ItemPage { total: env.total.unwrap_or(items.len() as u64), next: env.next, items })
    }

    /// Every contact or company matching `filter`, in the fewest requests; `expected` is a count seen
    /// before (a search's `total`), which lets the first request be a batch too.
    pub async fn crm_items_all(
        &self,
        entity: EntityType,
        filter: Value,
        expected: Option<u64>,
    ) -> Result<Vec<CrmItem>, BitrixError> {
        let mut params = Map::new();
        params.insert("entityTypeId".into(), json!(entity.type_id()));
        params.insert("select".into(), select(entity));
        params.insert("filter".into(), filter);
        params.insert("order".into(), json!({ "id": "ASC" }));
        let rows = self.fetch_all("crm.item.list", params, Rows::ResultItems, expected).await?;
        parse_items(entity, rows)
    }

    /// The web forms; inactive ones only on request (`GET_INACTIVE=Y`).
    pub async fn webforms(&self, include_inactive: bool) -> Result<Vec<Webform>, BitrixError> {
        let params = if include_inactive { json!({ "GET_INACTIVE": "Y" }) } else { json!({}) };
        let env = self.call("crm.webform.list", params).await?;
        parse_webforms(env.result)
    }
}

pub fn parse_webforms(result: Value) -> Result<Vec<Webform>, BitrixError> {
    let method = "crm.webform.list";
    array(method, result)?
        .iter()
        .map(|row| {
            Ok(Webform {
                id: WebformId::new(field_u64(method, row, "ID")?).map_err(|e| bad(method, e.to_string()))?,
                name: text(row, "NAME"),
                active: !text(row, "ACTIVE").eq_ignore_ascii_case("N"),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn taken(answer: &Value, entity: EntityType) -> Result<Vec<CrmItem>, BitrixError> {
        let mut out = BatchOutcome::default();
        let raw = serde_json::value::RawValue::from_string(answer.to_string()).unwrap();
        out.results.insert("n".into(), raw);
        take_lookup(&mut out, "n", entity)
    }

    #[test]
    fn rows_read_from_text_are_the_rows_read_from_a_value() {
        let answers = [
            json!({"items": [
                {"id": 7, "name": "Anna", "secondName": " ", "lastName": "Petrova", "title": "x", "other": {"a": [1]},
                 "fm": [{"typeId": "phone", "value": "+7 900"}, {"typeId": "EMAIL", "value": ""},
                        {"typeId": "EMAIL", "value": "a@example.com"}, {"typeId": "WEB", "value": "w"}]},
                {"id": "8", "name": 5, "fm": {}},
                {"id": 9, "title": "Romashka", "fm": null}
            ], "total": 3}),
            json!([{"id": 10, "name": "B"}]),
            json!({"items": {}}),
            json!({}),
        ];
        for answer in &answers {
            for entity in [EntityType::Contact, EntityType::Company] {
                let from_value = parse_lookup(entity, answer.clone()).unwrap();
                assert_eq!(taken(answer, entity).unwrap(), from_value, "{answer}");
            }
        }
        let first = &taken(&answers[0], EntityType::Contact).unwrap()[0];
        assert_eq!(first.name, "Anna Petrova");
        assert_eq!(
            (first.phones.as_slice(), first.emails.as_slice()),
            (&["+7 900".to_owned()][..], &["a@example.com".to_owned()][..])
        );
    }

    #[test]
    fn a_row_without_an_id_is_a_bad_answer() {
        let e = taken(&json!({"items": [{"name": "A"}]}), EntityType::Contact).unwrap_err();
        assert!(e.to_string().contains("`id` missing or not a number"), "{e}");
        let e = taken(&json!({"items": {"a": 1}}), EntityType::Contact).unwrap_err();
        assert!(e.to_string().contains("expected a list"), "{e}");
    }
}
