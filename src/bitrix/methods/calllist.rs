//! `crm.calllist.*` (reference 1.1 to 1.6).

use serde::Deserialize;
use serde_json::{Value, json};

use super::rows::{Listed, Num, Text};
use super::{array, bad, field_u64, opt_u64, text};
use crate::bitrix::batch::{BatchOutcome, Command, MAX_COMMANDS};
use crate::bitrix::error::BitrixError;
use crate::bitrix::rest::Caller;
use crate::bitrix::tokens::TokenStore;
use crate::domain::{EntityId, EntityType, ListId, Membership, UserId, WebformId};

/// A call list as `crm.calllist.get` and `.list` describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallList {
    pub id: ListId,
    pub entity_type: EntityType,
    pub webform: Option<WebformId>,
    pub created_by: Option<UserId>,
    /// `Y-m-d H:i:s`, the portal's time.
    pub created_at: String,
}

/// One member as `crm.calllist.items.get` gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub id: EntityId,
    pub status: String,
    pub entity_type: EntityType,
}

/// A call status of the portal's `CALL_LIST` directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallStatus {
    pub status_id: String,
    pub name: String,
    pub sort: i64,
}

/// The web form of an update, always stated: Bitrix24 clears the form when the field is left out, so no
/// caller may leave it out by accident.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormChoice {
    Set(WebformId),
    Clear,
}

impl FormChoice {
    pub fn from_current(current: Option<WebformId>) -> FormChoice {
        current.map(FormChoice::Set).unwrap_or(FormChoice::Clear)
    }
    pub fn webform(self) -> Option<WebformId> {
        match self {
            FormChoice::Set(id) => Some(id),
            FormChoice::Clear => None,
        }
    }
}

/// A complete `crm.calllist.update`: the whole new membership and the form.
#[derive(Debug, Clone)]
pub struct Update {
    pub list: ListId,
    pub entity_type: EntityType,
    pub members: Membership,
    pub form: FormChoice,
}

impl Update {
    pub fn params(&self) -> Value {
        json!({
            "LIST_ID": self.list.get(),
            "ENTITY_TYPE": self.entity_type.code(),
            "ENTITIES": self.members.ids().iter().map(|id| id.get()).collect::<Vec<_>>(),
            // An explicit null clears, as leaving the key out would; the request shows the intent.
            "WEBFORM_ID": self.form.webform().map(|w| w.get()),
        })
    }
}

/// A new call list's first members and form.
#[derive(Debug, Clone)]
pub struct NewList {
    pub entity_type: EntityType,
    pub members: Membership,
    pub webform: Option<WebformId>,
}

pub fn parse_list(method: &str, row: &Value) -> Result<CallList, BitrixError> {
    let id = ListId::new(field_u64(method, row, "ID")?).map_err(|e| bad(method, e.to_string()))?;
    let type_id = field_u64(method, row, "ENTITY_TYPE_ID")?;
    let entity_type =
        EntityType::from_type_id(type_id as i64).ok_or_else(|| bad(method, format!("entity type {type_id}")))?;
    Ok(CallList {
        id,
        entity_type,
        webform: opt_u64(row, "WEBFORM_ID").and_then(|v| WebformId::new(v).ok()),
        created_by: opt_u64(row, "CREATED_BY_ID").and_then(|v| UserId::new(v).ok()),
        created_at: text(row, "DATE_CREATE"),
    })
}

/// A row of `crm.calllist.items.get`: only what a member needs is read.
#[derive(Deserialize)]
struct MemberRow {
    #[serde(rename = "ID", default)]
    id: Num,
    #[serde(rename = "ENTITY_TYPE", default)]
    entity_type: Num,
    #[serde(rename = "STATUS", default)]
    status: Text,
}

const ITEMS_GET: &str = "crm.calllist.items.get";

fn members(method: &str, rows: Listed<MemberRow>) -> Result<Vec<Member>, BitrixError> {
    rows.0
        .into_iter()
        .map(|row| {
            let id = row.id.0.ok_or_else(|| bad(method, "`ID` missing or not a number"))?;
            let id = EntityId::new(id).map_err(|e| bad(method, e.to_string()))?;
            let type_id = row.entity_type.0.ok_or_else(|| bad(method, "`ENTITY_TYPE` missing or not a number"))?;
            Ok(Member {
                id,
                status: row.status.0,
                entity_type: EntityType::from_type_id(type_id as i64)
                    .ok_or_else(|| bad(method, format!("entity type {type_id}")))?,
            })
        })
        .collect()
}

pub fn parse_members(method: &str, result: Value) -> Result<Vec<Member>, BitrixError> {
    let rows = serde_json::from_value(result).map_err(|e| bad(method, e.to_string()))?;
    members(method, rows)
}

/// A page of members from a batch's result `key`, read straight from the portal's text.
pub fn take_members(out: &mut BatchOutcome, key: &str) -> Result<Vec<Member>, BitrixError> {
    let rows = out.take_as(key, ITEMS_GET)?;
    members(ITEMS_GET, rows)
}

pub fn parse_statuses(method: &str, result: Value) -> Result<Vec<CallStatus>, BitrixError> {
    let mut statuses: Vec<CallStatus> = array(method, result)?
        .iter()
        .map(|row| CallStatus {
            status_id: text(row, "STATUS_ID"),
            name: text(row, "NAME"),
            sort: super::opt_i64(row, "SORT").unwrap_or(0),
        })
        .collect();
    statuses.sort_by_key(|s| s.sort);
    Ok(statuses)
}

/// How to read a list's members: see [`Caller::read_members`].
#[derive(Debug, Clone)]
pub struct MemberRead {
    pub list: ListId,
    /// Members expected from `from_page` on (a size seen before), to size the first batch.
    pub expected: Option<u64>,
    pub from_page: u64,
    pub before: Vec<Command>,
    pub after: Vec<Command>,
}

impl MemberRead {
    pub fn new(list: ListId) -> MemberRead {
        MemberRead { list, expected: None, from_page: 0, before: Vec::new(), after: Vec::new() }
    }
    pub fn expecting(mut self, expected: Option<u64>) -> Self {
        self.expected = expected;
        self
    }
    pub fn from_page(mut self, page: u64) -> Self {
        self.from_page = page;
        self
    }
    pub fn before(mut self, commands: Vec<Command>) -> Self {
        self.before = commands;
        self
    }
    pub fn after(mut self, commands: Vec<Command>) -> Self {
        self.after = commands;
        self
    }
}

/// Commands reading pages `first..first+count` of a list's members.
pub fn member_pages(list: ListId, first: u64, count: u64) -> Vec<Command> {
    (first..first + count)
        .map(|page| {
            Command::new(
                format!("m{page}"),
                "crm.calllist.items.get",
                json!({ "LIST_ID": list.get(), "start": page * crate::bitrix::paging::PAGE_SIZE }),
            )
        })
        .collect()
}

/// True for the 403 `items.get` answers on a page with nothing (left) to show (reference 1.4).
pub fn is_empty_page(e: &BitrixError) -> bool {
    matches!(e.code(), Some(crate::bitrix::ErrorCode::AccessError))
}

impl<S: TokenStore> Caller<'_, S> {
    pub async fn calllist_get(&self, list: ListId) -> Result<CallList, BitrixError> {
        let env = self.call("crm.calllist.get", json!({ "ID": list.get() })).await?;
        parse_list("crm.calllist.get", &env.result)
    }

    /// One page of the portal's call lists (50 from `start`), newest first.
    pub async fn calllist_list(&self, start: u64) -> Result<Vec<CallList>, BitrixError> {
        let env = self.call("crm.calllist.list", json!({ "ORDER": { "ID": "DESC" }, "start": start })).await?;
        array("crm.calllist.list", env.result)?.iter().map(|r| parse_list("crm.calllist.list", r)).collect()
    }

    pub async fn calllist_statuslist(&self) -> Result<Vec<CallStatus>, BitrixError> {
        let env = self.call("crm.calllist.statuslist", json!({})).await?;
        parse_statuses("crm.calllist.statuslist", env.result)
    }

    /// One page of members; an empty page is `Ok(vec![])`, not Bitrix24's 403.
    pub async fn calllist_items_page(&self, list: ListId, start: u64) -> Result<Vec<Member>, BitrixError> {
        match self.call("crm.calllist.items.get", json!({ "LIST_ID": list.get(), "start": start })).await {
            Ok(env) => parse_members("crm.calllist.items.get", env.result),
            Err(e) if is_empty_page(&e) => Ok(vec![]),
            Err(e) => Err(e),
        }
    }

    /// Every member the caller may see. `items.get` gives no total and drops rows the user may not read
    /// after paging, so a short or empty page does not prove the end: reading stops only after
    /// `EMPTY_PAGES_AT_END` empty pages in a row. Pages are fetched 50 to a batch; `expected` (a size seen
    /// before) sizes the first batch so that small lists cost one request.
    pub async fn calllist_members(&self, list: ListId, expected: Option<u64>) -> Result<Vec<Member>, BitrixError> {
        self.read_members(MemberRead::new(list).expecting(expected)).await.map(|(members, _)| members)
    }

    /// Reads members as `read` says: from a page on, with other commands riding in the first batch before
    /// the pages and after them (those may refer to the pages with `$result[m0]…`); their outcomes are
    /// returned. Reading a list and what goes with it costs one request.
    pub async fn read_members(&self, read: MemberRead) -> Result<(Vec<Member>, BatchOutcome), BitrixError> {
        let MemberRead { list, expected, from_page, before, after } = read;
        let room = MAX_COMMANDS as u64 - before.len() as u64 - after.len() as u64;
        let mut batch_pages = expected.map(|n| n / 50 + 1 + EMPTY_PAGES_AT_END).unwrap_or(room).clamp(1, room.max(1));
        let mut first = Some(before);
        let mut first_after = Some(after);
        let mut extras = BatchOutcome::default();
        let mut members = Vec::new();
        let mut next_page = from_page;
        let mut empty_run = 0u64;
        loop {
            let pages = member_pages(list, next_page, batch_pages);
            let mut commands = first.take().unwrap_or_default();
            commands.extend(pages.iter().cloned());
            commands.extend(first_after.take().unwrap_or_default());
            let extra_keys: Vec<String> =
                commands.iter().filter(|c| !pages.iter().any(|p| p.key == c.key)).map(|c| c.key.clone()).collect();
            let mut out = self.batch_once(&commands, false).await?;
            for key in extra_keys {
                if let Some(v) = out.results.remove(&key) {
                    extras.results.insert(key, v);
                } else if let Some(e) = out.errors.remove(&key) {
                    extras.errors.insert(key, e);
                }
            }
            extras.requests += out.requests;
            for c in &pages {
                match take_members(&mut out, &c.key) {
                    Ok(page) => {
                        empty_run = if page.is_empty() { empty_run + 1 } else { 0 };
                        members.extend(page);
                    }
                    Err(e) if is_empty_page(&e) => empty_run += 1,
                    Err(e) => return Err(e),
                }
            }
            next_page += batch_pages;
            if empty_run >= EMPTY_PAGES_AT_END {
                return Ok((members, extras));
            }
            batch_pages = MAX_COMMANDS as u64;
        }
    }

    /// Replaces the list's membership and sets its form. Repeatable: the same request gives the same list.
    pub async fn calllist_update(&self, update: &Update) -> Result<(), BitrixError> {
        let env = self.call("crm.calllist.update", update.params()).await?;
        match env.result {
            Value::Bool(true) => Ok(()),
            other => Err(bad("crm.calllist.update", format!("expected true, got {other}"))),
        }
    }

    /// Creates a call list. Never repeated after an ambiguous failure: that is reported instead.
    pub async fn calllist_add(&self, new: &NewList) -> Result<ListId, BitrixError> {
        let mut params = json!({
            "ENTITY_TYPE": new.entity_type.code(),
            "ENTITIES": new.members.ids().iter().map(|id| id.get()).collect::<Vec<_>>(),
        });
        if let Some(form) = new.webform {
            params["WEBFORM_ID"] = json!(form.get());
        }
        let env = self.call("crm.calllist.add", params).await?;
        let id = crate::bitrix::rest::as_u64(&env.result).ok_or_else(|| bad("crm.calllist.add", "no list id"))?;
        ListId::new(id).map_err(|e| bad("crm.calllist.add", e.to_string()))
    }
}

/// Empty pages in a row that end a member read: a page whose 50 rows are all hidden from the user also
/// reads as empty, and stopping there would drop the visible members after it from the next update.
pub const EMPTY_PAGES_AT_END: u64 = 2;
