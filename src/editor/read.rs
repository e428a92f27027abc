//! Reading for the manager, with their own token, in as few requests as `batch` allows: the portal's call
//! lists, the first screen of one list (one request whatever its size), its full count by call status
//! (after the screen), names of contacts and companies, and search.

use std::collections::HashMap;

use serde_json::json;

use crate::bitrix::batch::{BatchOutcome, Command};
use crate::bitrix::methods::calllist::{
    CallList, CallStatus, Member, is_empty_page, parse_list, parse_statuses, take_members,
};
use crate::bitrix::methods::crm::{
    Comm, CrmItem, ItemPage, Webform, findbycomm_commands, items_command, lookup_commands, parse_findbycomm,
    parse_item_page, parse_webforms, search_filter, take_lookup,
};
use crate::bitrix::{BitrixError, Caller, TokenStore};
use crate::domain::{EntityId, EntityType, ListId, UserId};

/// Members on one page of `crm.calllist.items.get`.
pub const PAGE: u64 = 50;

/// How many members of a list the viewer can see, as far as is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visible {
    /// Exactly this many.
    Exactly(u64),
    /// The first page was full: at least this many, the rest not counted yet.
    AtLeast(u64),
    /// The portal showed none of its members to the viewer.
    None,
}

/// One call list in the overview.
#[derive(Debug, Clone)]
pub struct ListSummary {
    pub list: CallList,
    pub visible: Visible,
}

/// Which kinds of CRM records the viewer may read at all: a list of the other kind shows them nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Readable {
    pub contacts: bool,
    pub companies: bool,
}

impl Readable {
    pub fn reads(&self, entity: EntityType) -> bool {
        match entity {
            EntityType::Contact => self.contacts,
            EntityType::Company => self.companies,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Overview {
    pub lists: Vec<ListSummary>,
    pub forms: Vec<Webform>,
    pub readable: Readable,
    /// Names of the users who created the lists shown.
    pub creators: HashMap<UserId, String>,
    pub page: u64,
    pub has_next: bool,
    pub requests: u32,
}

/// A probe of whether the viewer reads any record of `entity`: one id is enough.
fn readable_probe(key: &str, entity: EntityType) -> Command {
    Command::new(key, "crm.item.list", json!({ "entityTypeId": entity.type_id(), "select": ["id"], "start": 0 }))
}

fn reads_any(out: &mut BatchOutcome, key: &str) -> bool {
    let total = out.totals.get(key).copied();
    match out.take(key) {
        Ok(v) => total.unwrap_or(0) > 0 || v["items"].as_array().is_some_and(|a| !a.is_empty()),
        Err(_) => false,
    }
}

/// Which kinds of records the viewer may read, in one request.
pub async fn readable<S: TokenStore>(caller: &Caller<'_, S>) -> Result<Readable, BitrixError> {
    let probes = [readable_probe("contacts", EntityType::Contact), readable_probe("companies", EntityType::Company)];
    let mut out = caller.batch_once(&probes, false).await?;
    Ok(Readable { contacts: reads_any(&mut out, "contacts"), companies: reads_any(&mut out, "companies") })
}

/// A page of the portal's call lists: their forms, creators and how many members the viewer sees on each
/// first page, in two requests.
pub async fn overview<S: TokenStore>(caller: &Caller<'_, S>, page: u64) -> Result<Overview, BitrixError> {
    let first = [
        Command::new("lists", "crm.calllist.list", json!({ "ORDER": { "ID": "DESC" }, "start": page * 50 })),
        Command::new("forms", "crm.webform.list", json!({ "GET_INACTIVE": "Y" })),
        readable_probe("contacts", EntityType::Contact),
        readable_probe("companies", EntityType::Company),
    ];
    let mut out = caller.batch_once(&first, false).await?;
    let rows = crate::bitrix::methods::array("crm.calllist.list", out.take("lists")?)?;
    let lists: Vec<CallList> = rows.iter().map(|r| parse_list("crm.calllist.list", r)).collect::<Result<_, _>>()?;
    let forms = parse_webforms(out.take("forms")?)?;
    let readable = Readable { contacts: reads_any(&mut out, "contacts"), companies: reads_any(&mut out, "companies") };
    let mut requests = out.requests;
    let mut creators: Vec<UserId> = lists.iter().filter_map(|l| l.created_by).collect();
    creators.sort_unstable();
    creators.dedup();
    let mut second: Vec<Command> = lists
        .iter()
        .map(|l| {
            Command::new(format!("l{}", l.id), "crm.calllist.items.get", json!({ "LIST_ID": l.id.get(), "start": 0 }))
        })
        .collect();
    if !creators.is_empty() {
        let ids: Vec<u64> = creators.iter().map(|u| u.get()).collect();
        second.push(Command::new("users", "user.get", json!({ "FILTER": { "ID": ids } })));
    }
    // A page of 50 lists and the creators' names are 51 commands: two requests when the page is full.
    let mut sizes = caller.batch(&second).await?;
    requests += sizes.requests;
    let names = sizes.take("users").ok().map(|v| user_names(&v)).unwrap_or_default();
    let lists = lists
        .into_iter()
        .map(|list| {
            let visible = match take_members(&mut sizes, &format!("l{}", list.id)).map(|m| m.len() as u64) {
                Ok(n) if n >= PAGE => Visible::AtLeast(n),
                Ok(0) | Err(_) => Visible::None,
                Ok(n) => Visible::Exactly(n),
            };
            ListSummary { list, visible }
        })
        .collect::<Vec<_>>();
    Ok(Overview { has_next: lists.len() == 50, lists, forms, readable, creators: names, page, requests })
}

/// `user.get` rows as id → "Name Last name".
fn user_names(v: &serde_json::Value) -> HashMap<UserId, String> {
    let mut out = HashMap::new();
    for row in v.as_array().into_iter().flatten() {
        let id = row["ID"].as_str().and_then(|s| s.parse::<u64>().ok()).or_else(|| row["ID"].as_u64());
        let Some(id) = id.and_then(|i| UserId::new(i).ok()) else { continue };
        let name = format!("{} {}", row["NAME"].as_str().unwrap_or(""), row["LAST_NAME"].as_str().unwrap_or(""));
        out.insert(id, name.trim().to_owned());
    }
    out
}

/// One screen of a list: the list itself, the statuses and forms, and one page of members with their names.
#[derive(Debug, Clone)]
pub struct Screen {
    pub list: CallList,
    pub statuses: Vec<CallStatus>,
    pub forms: Vec<Webform>,
    pub page: u64,
    /// The call status the members are filtered by, if any.
    pub status: Option<String>,
    pub members: Vec<Member>,
    pub names: HashMap<EntityId, CrmItem>,
    /// The page came back full: there may be more.
    pub full: bool,
    /// The portal answered that this page has nothing the viewer may read.
    pub nothing_visible: bool,
    /// The choices for picking by CRM filter, when this read asked for them.
    pub choices: Option<std::sync::Arc<Choices>>,
    pub requests: u32,
}

/// What picking by CRM filter offers: they change seldom, so a session reads them once in a while, with a
/// screen, not with every screen.
#[derive(Debug, Clone, Default)]
pub struct Choices {
    /// Who can be responsible for a contact or company (active users), by name.
    pub users: Vec<(UserId, String)>,
    /// The CRM's sources (`SOURCE` directory), as `(STATUS_ID, name)`.
    pub sources: Vec<(String, String)>,
}

/// What a screen asks for beyond the list: which page, which status, and how many rows are expected (a
/// count seen before) so the names can be asked for in the same request.
#[derive(Debug, Clone, Default)]
pub struct ScreenRead {
    pub page: u64,
    pub status: Option<String>,
    pub expected_rows: Option<u64>,
    /// The list's type, when known: the names ride in the same batch only then.
    pub entity: Option<EntityType>,
    /// Read the [`Choices`] too.
    pub choices: bool,
}

/// A `crm.item.list` command naming the page's members through `$result[page][i][ID]` references, so the
/// names come in the same batch as the page. A reference to a missing row fails the command (the names are
/// then asked for separately), so only as many rows are named as are expected.
fn page_names(entity: EntityType, rows: u64) -> Command {
    let ids: Vec<String> = (0..rows).map(|i| format!("$result[page][{i}][ID]")).collect();
    Command::new(
        "names",
        "crm.item.list",
        json!({ "entityTypeId": entity.type_id(), "select": ["*"], "filter": { "@id": ids }, "start": -1 }),
    )
}

/// One screen of a list in one request: the list, statuses, forms, a page of members and (when the type
/// and the page's size are known, or the page is full) their names.
pub async fn screen<S: TokenStore>(
    caller: &Caller<'_, S>,
    list: ListId,
    read: ScreenRead,
) -> Result<Screen, BitrixError> {
    let before = caller.requests_sent();
    let mut items = json!({ "LIST_ID": list.get(), "start": read.page * PAGE });
    if let Some(status) = &read.status {
        items["FILTER"] = json!({ "STATUS": status });
    }
    let mut commands = vec![
        Command::new("list", "crm.calllist.get", json!({ "ID": list.get() })),
        Command::new("statuses", "crm.calllist.statuslist", json!({})),
        Command::new("forms", "crm.webform.list", json!({ "GET_INACTIVE": "Y" })),
        Command::new("page", "crm.calllist.items.get", items),
    ];
    if read.choices {
        // A portal that refuses either just leaves its choice empty.
        commands.push(Command::new(
            "users",
            "user.get",
            json!({ "FILTER": { "ACTIVE": true }, "sort": "LAST_NAME", "order": "ASC" }),
        ));
        commands.push(Command::new("sources", "crm.status.list", json!({ "filter": { "ENTITY_ID": "SOURCE" } })));
    }
    let rows = read.expected_rows.unwrap_or(PAGE).min(PAGE);
    if let Some(entity) = read.entity
        && rows > 0
    {
        commands.push(page_names(entity, rows));
    }
    let mut out = caller.batch_once(&commands, false).await?;
    let list_row = parse_list("crm.calllist.get", &out.take("list")?)?;
    let statuses = parse_statuses("crm.calllist.statuslist", out.take("statuses")?)?;
    let forms = parse_webforms(out.take("forms")?)?;
    let (members, nothing_visible) = match take_members(&mut out, "page") {
        Ok(members) => (members, false),
        Err(e) if is_empty_page(&e) => (Vec::new(), true),
        Err(e) => return Err(e),
    };
    let choices = read.choices.then(|| std::sync::Arc::new(parse_choices(&mut out)));
    let mut names = HashMap::new();
    if read.entity == Some(list_row.entity_type)
        && let Ok(items) = take_lookup(&mut out, "names", list_row.entity_type)
    {
        names.extend(items.into_iter().map(|i| (i.id, i)));
    }
    let missing: Vec<EntityId> = members.iter().map(|m| m.id).filter(|id| !names.contains_key(id)).collect();
    if !missing.is_empty() {
        names.extend(resolve_names(caller, list_row.entity_type, &missing).await?);
    }
    Ok(Screen {
        full: members.len() as u64 >= PAGE,
        list: list_row,
        statuses,
        forms,
        page: read.page,
        status: read.status,
        members,
        names,
        nothing_visible,
        choices,
        requests: caller.requests_sent() - before,
    })
}

fn parse_choices(out: &mut BatchOutcome) -> Choices {
    let mut users: Vec<(UserId, String)> =
        out.take("users").map(|v| user_names(&v).into_iter().collect()).unwrap_or_default();
    users.sort_by(|a, b| a.1.cmp(&b.1));
    let sources = out
        .take("sources")
        .map(|v| {
            v.as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| {
                    Some((r["STATUS_ID"].as_str()?.to_owned(), r["NAME"].as_str().unwrap_or_default().to_owned()))
                })
                .collect()
        })
        .unwrap_or_default();
    Choices { users, sources }
}

/// How many companies a name may pick for a contact filter: a name that fits more is too vague to be meant.
pub const COMPANIES_BY_NAME: usize = 50;

/// The companies, as the viewer may see them, whose name contains `name` (case aside), by ID; at most
/// [`COMPANIES_BY_NAME`].
pub async fn companies_named<S: TokenStore>(caller: &Caller<'_, S>, name: &str) -> Result<Vec<EntityId>, BitrixError> {
    let out = caller
        .call(
            "crm.item.list",
            json!({
                "entityTypeId": EntityType::Company.type_id(),
                "select": ["id"],
                "filter": { "%title": name },
                "order": { "id": "ASC" },
            }),
        )
        .await?;
    let items = out.result.get("items").and_then(|i| i.as_array()).map(Vec::as_slice).unwrap_or_default();
    let ids = items.iter().filter_map(|i| {
        let id = i.get("id")?;
        id.as_u64().or_else(|| id.as_str()?.parse().ok())
    });
    Ok(ids.filter_map(|id| EntityId::new(id).ok()).take(COMPANIES_BY_NAME).collect())
}

/// Every member of a list the viewer can see, counted by call status.
#[derive(Debug, Clone)]
pub struct Tally {
    pub members: Vec<Member>,
    /// Members per status ID, in the order of the portal's statuses.
    pub by_status: Vec<(String, u64)>,
    pub requests: u32,
}

impl Tally {
    pub fn total(&self) -> u64 {
        self.members.len() as u64
    }
}

/// Reads every member the viewer can see (pages 50 to a batch; `expected` sizes the first batch).
pub async fn tally<S: TokenStore>(
    caller: &Caller<'_, S>,
    list: ListId,
    statuses: &[CallStatus],
    expected: Option<u64>,
) -> Result<Tally, BitrixError> {
    let before = caller.requests_sent();
    let members = caller.calllist_members(list, expected).await?;
    Ok(Tally { by_status: by_status(&members, statuses), members, requests: caller.requests_sent() - before })
}

/// Members per status, the portal's statuses first (in their order), then any others found.
pub fn by_status(members: &[Member], statuses: &[CallStatus]) -> Vec<(String, u64)> {
    let mut counts: HashMap<&str, u64> = HashMap::new();
    for m in members {
        *counts.entry(m.status.as_str()).or_default() += 1;
    }
    let mut out: Vec<(String, u64)> =
        statuses.iter().map(|s| (s.status_id.clone(), counts.remove(s.status_id.as_str()).unwrap_or(0))).collect();
    let mut rest: Vec<(String, u64)> = counts.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    rest.sort();
    out.extend(rest);
    out
}

/// Names (and phones, emails) of `ids`, 50 to a command, in one request per 50 commands.
pub async fn resolve_names<S: TokenStore>(
    caller: &Caller<'_, S>,
    entity: EntityType,
    ids: &[EntityId],
) -> Result<HashMap<EntityId, CrmItem>, BitrixError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let commands = lookup_commands(entity, ids, "n");
    let mut out = caller.batch(&commands).await?;
    let mut found = HashMap::new();
    for c in &commands {
        for item in take_lookup(&mut out, &c.key, entity)? {
            found.insert(item.id, item);
        }
    }
    Ok(found)
}

/// One page of contacts or companies matching `text` in a name, phone or email.
pub async fn search<S: TokenStore>(
    caller: &Caller<'_, S>,
    entity: EntityType,
    text: &str,
    start: u64,
) -> Result<ItemPage, BitrixError> {
    caller.crm_items(entity, search_filter(entity, text), start).await
}

/// What a screen looks up beside the list: a page of matches (a search or a CRM filter) and the names of
/// the people chosen so far. Both in one request.
#[derive(Debug, Clone, Default)]
pub struct Lookup {
    pub matches: Option<(serde_json::Value, u64)>,
    pub names: Vec<EntityId>,
}

#[derive(Debug, Clone, Default)]
pub struct Found {
    pub matches: Option<ItemPage>,
    pub names: HashMap<EntityId, CrmItem>,
}

pub async fn lookup<S: TokenStore>(
    caller: &Caller<'_, S>,
    entity: EntityType,
    want: Lookup,
) -> Result<Found, BitrixError> {
    let mut commands = lookup_commands(entity, &want.names, "n");
    if let Some((filter, start)) = &want.matches {
        commands.push(items_command("matches", entity, filter.clone(), *start));
    }
    if commands.is_empty() {
        return Ok(Found::default());
    }
    let mut out = caller.batch(&commands).await?;
    let mut found = Found::default();
    if want.matches.is_some() {
        let (total, next) = (out.totals.get("matches").copied(), out.nexts.get("matches").copied());
        found.matches = Some(parse_item_page(entity, out.take("matches")?, total, next)?);
    }
    for c in commands.iter().filter(|c| c.key != "matches") {
        for item in take_lookup(&mut out, &c.key, entity)? {
            found.names.insert(item.id, item);
        }
    }
    Ok(found)
}

/// What a paste of phones, e-mails and IDs found: the people (with names), and what matched nobody.
#[derive(Debug, Clone, Default)]
pub struct Pasted {
    pub found: Vec<CrmItem>,
    pub unmatched: Vec<String>,
    pub requests: u32,
}

/// One pasted value, by what it looks like.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Id(EntityId),
    Phone(String),
    Email(String),
}

/// A pasted value: an e-mail has `@`; a phone has 7 or more digits (and only phone punctuation); a short
/// number is an ID.
fn classify(raw: &str) -> Option<Token> {
    let t = raw.trim().trim_matches(|c| c == '"' || c == '\'' || c == '<' || c == '>');
    if t.contains('@') {
        return Some(Token::Email(t.to_ascii_lowercase()));
    }
    let digits: String = t.chars().filter(char::is_ascii_digit).collect();
    let phone_chars = t.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c));
    if !phone_chars || digits.is_empty() {
        return None;
    }
    if digits.len() >= 7 || t.starts_with('+') {
        return Some(Token::Phone(t.to_owned()));
    }
    digits.parse::<EntityId>().ok().map(Token::Id)
}

/// Resolves a paste through the CRM: phones and e-mails with `crm.duplicate.findbycomm` (20 to a command),
/// IDs by looking them up; then the names of everyone found. Two requests for up to 50 commands' worth.
pub async fn resolve_paste<S: TokenStore>(
    caller: &Caller<'_, S>,
    entity: EntityType,
    text: &str,
) -> Result<Pasted, BitrixError> {
    let before = caller.requests_sent();
    let mut unmatched = Vec::new();
    let (mut ids, mut phones, mut emails) = (Vec::new(), Vec::new(), Vec::new());
    for raw in text.split(['\n', '\r', ',', ';', '\t']).map(str::trim).filter(|s| !s.is_empty()).take(2_000) {
        match classify(raw) {
            Some(Token::Id(id)) => ids.push(id),
            Some(Token::Phone(p)) => phones.push(p),
            Some(Token::Email(e)) => emails.push(e),
            None => unmatched.push(raw.chars().take(60).collect()),
        }
    }
    let mut commands = findbycomm_commands(entity, Comm::Phone, &phones, "p");
    commands.extend(findbycomm_commands(entity, Comm::Email, &emails, "e"));
    let mut matched_values = std::collections::HashSet::new();
    if !commands.is_empty() {
        let mut out = caller.batch(&commands).await?;
        for c in &commands {
            let result = out.take(&c.key)?;
            let chunk: Vec<String> = c.params["values"]
                .as_array()
                .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
                .unwrap_or_default();
            let found = parse_findbycomm(entity, &result);
            if found.is_empty() {
                continue;
            }
            // The answer names IDs, not which value matched them: one value at a time would cost a command
            // each. Values of a chunk that found someone are checked against the people's own phones and
            // e-mails below.
            ids.extend(found);
            matched_values.extend(chunk);
        }
    }
    ids.sort_unstable();
    ids.dedup();
    let people = resolve_names(caller, entity, &ids).await?;
    let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
    for value in phones.iter().chain(emails.iter()) {
        let seen = matched_values.contains(value)
            && people.values().any(|p| {
                p.phones.iter().any(|ph| {
                    let (a, b) = (digits(ph), digits(value));
                    !b.is_empty() && (a.ends_with(&b) || b.ends_with(&a))
                }) || p.emails.iter().any(|e| e.eq_ignore_ascii_case(value))
            });
        if !seen {
            unmatched.push(value.clone());
        }
    }
    for id in &ids {
        if !people.contains_key(id) {
            unmatched.push(id.to_string());
        }
    }
    let mut found: Vec<CrmItem> = people.into_values().collect();
    found.sort_by_key(|i| i.id);
    Ok(Pasted { found, unmatched, requests: caller.requests_sent() - before })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pasted_values_are_told_apart() {
        assert_eq!(classify("+7 (912) 345-67-89"), Some(Token::Phone("+7 (912) 345-67-89".into())));
        assert_eq!(classify("ann@Example.com"), Some(Token::Email("ann@example.com".into())));
        assert_eq!(classify("42"), Some(Token::Id(EntityId::new(42).unwrap())));
        assert_eq!(classify("not a thing"), None);
    }
}

/// The call lists of one type, newest first, a page at a time (`crm.calllist.list` filters by type).
pub fn lists_of_type_command(key: &str, entity: EntityType, page: u64) -> Command {
    Command::new(
        key,
        "crm.calllist.list",
        json!({ "FILTER": { "ENTITY_TYPE_ID": entity.type_id() }, "ORDER": { "ID": "DESC" }, "start": page * 50 }),
    )
}

/// One contact or company, as the viewer may see it, and the call lists of its type (newest first).
#[derive(Debug, Clone)]
pub struct RecordLists {
    /// `None` when the viewer may not see it, or it does not exist.
    pub record: Option<CrmItem>,
    pub lists: Vec<CallList>,
    pub forms: Vec<Webform>,
    pub statuses: Vec<CallStatus>,
}

/// The commands that read a contact or company and the call lists it could go in; they may ride in another
/// batch (the check of the user who opened the app).
pub fn record_lists_commands(entity: EntityType, id: EntityId, page: u64) -> Vec<Command> {
    let mut commands = lookup_commands(entity, &[id], "record");
    commands.push(lists_of_type_command("lists", entity, page));
    commands.push(Command::new("forms", "crm.webform.list", json!({ "GET_INACTIVE": "Y" })));
    commands.push(Command::new("statuses", "crm.calllist.statuslist", json!({})));
    commands
}

/// A contact or company and the call lists it could go in, in one request.
pub async fn record_lists<S: TokenStore>(
    caller: &Caller<'_, S>,
    entity: EntityType,
    id: EntityId,
    page: u64,
) -> Result<RecordLists, BitrixError> {
    let out = caller.batch_once(&record_lists_commands(entity, id, page), false).await?;
    parse_record_lists(entity, id, out)
}

/// What [`record_lists_commands`] read, from the batch they rode in.
pub fn parse_record_lists(entity: EntityType, id: EntityId, mut out: BatchOutcome) -> Result<RecordLists, BitrixError> {
    let record = take_lookup(&mut out, "record0", entity)?.into_iter().find(|i| i.id == id);
    let rows = crate::bitrix::methods::array("crm.calllist.list", out.take("lists")?)?;
    let lists = rows.iter().map(|r| parse_list("crm.calllist.list", r)).collect::<Result<Vec<_>, _>>()?;
    Ok(RecordLists {
        record,
        // The filter is the portal's to apply; the type is checked here too, so a portal that ignored it
        // would not put a contact into a company list.
        lists: lists.into_iter().filter(|l| l.entity_type == entity).collect(),
        forms: parse_webforms(out.take("forms")?)?,
        statuses: parse_statuses("crm.calllist.statuslist", out.take("statuses")?)?,
    })
}

/// In which of `lists` a contact or company is, with its call status in each: every member of each list
/// is read (a request per 2,500 members or so).
pub async fn memberships<S: TokenStore>(
    caller: &Caller<'_, S>,
    lists: &[CallList],
    id: EntityId,
) -> Result<Vec<(CallList, Option<String>)>, BitrixError> {
    let mut out = Vec::new();
    for list in lists {
        let members = caller.calllist_members(list.id, None).await?;
        let status = members.into_iter().find(|m| m.id == id).map(|m| m.status);
        out.push((list.clone(), status));
    }
    Ok(out)
}
