//! Reading for the manager: the portal's call lists, one list with everything its page shows, names of
//! contacts and companies, and search.

use std::collections::HashMap;

use serde_json::json;

use crate::bitrix::batch::Command;
use crate::bitrix::methods::calllist::{
    CallList, CallStatus, Member, MemberRead, parse_list, parse_members, parse_statuses,
};
use crate::bitrix::methods::crm::{
    CrmItem, ItemPage, Webform, lookup_commands, parse_lookup, parse_webforms, search_filter,
};
use crate::bitrix::{BitrixError, Caller, TokenStore};
use crate::domain::{EntityId, EntityType, ListId};

/// One call list in the overview.
#[derive(Debug, Clone)]
pub struct ListSummary {
    pub list: CallList,
    /// Members the manager can see, counted from the first page (exact below 50).
    pub size: u64,
    /// True when there are more than `size` (the first page was full and no better count is known).
    pub more: bool,
}

#[derive(Debug, Clone)]
pub struct Overview {
    pub lists: Vec<ListSummary>,
    pub forms: Vec<Webform>,
    pub page: u64,
    pub has_next: bool,
    pub requests: u32,
}

/// A page of the portal's call lists with their sizes and forms, in two requests.
pub async fn overview<S: TokenStore>(
    caller: &Caller<'_, S>,
    page: u64,
    known_size: impl Fn(ListId) -> Option<u64>,
) -> Result<Overview, BitrixError> {
    let first = [
        Command::new("lists", "crm.calllist.list", json!({ "ORDER": { "ID": "DESC" }, "start": page * 50 })),
        Command::new("forms", "crm.webform.list", json!({ "GET_INACTIVE": "Y" })),
    ];
    let mut out = caller.batch_once(&first, false).await?;
    let rows = crate::bitrix::methods::array("crm.calllist.list", out.take("lists")?)?;
    let lists: Vec<CallList> = rows.iter().map(|r| parse_list("crm.calllist.list", r)).collect::<Result<_, _>>()?;
    let forms = parse_webforms(out.take("forms")?)?;
    let mut requests = out.requests;
    let firsts: Vec<Command> = lists
        .iter()
        .map(|l| {
            Command::new(format!("l{}", l.id), "crm.calllist.items.get", json!({ "LIST_ID": l.id.get(), "start": 0 }))
        })
        .collect();
    let mut sizes = caller.batch_once(&firsts, false).await?;
    requests += sizes.requests;
    let lists = lists
        .into_iter()
        .map(|list| {
            let visible = match sizes.take(&format!("l{}", list.id)) {
                Ok(rows) => parse_members("crm.calllist.items.get", rows).map(|m| m.len() as u64).unwrap_or(0),
                Err(_) => 0,
            };
            match known_size(list.id) {
                Some(known) if visible >= 50 => ListSummary { list, size: known, more: false },
                _ => ListSummary { list, size: visible, more: visible >= 50 },
            }
        })
        .collect::<Vec<_>>();
    Ok(Overview { has_next: lists.len() == 50, lists, forms, page, requests })
}

/// One list as its page shows it.
#[derive(Debug, Clone)]
pub struct ListView {
    pub list: CallList,
    pub members: Vec<Member>,
    pub statuses: Vec<CallStatus>,
    pub forms: Vec<Webform>,
    /// Names of the first page's members, when they could be read in the same request.
    pub first_page: HashMap<EntityId, CrmItem>,
    pub requests: u32,
}

/// A `crm.item.list` command naming the first page's members through `$result[m0][i][ID]` references, so
/// the names come in the same batch as the page. Only for lists known to fill a page: a reference to a
/// missing row fails the command (the names are then asked for separately).
fn first_page_names(entity: EntityType) -> Command {
    let ids: Vec<String> = (0..50).map(|i| format!("$result[m0][{i}][ID]")).collect();
    Command::new(
        "names",
        "crm.item.list",
        json!({ "entityTypeId": entity.type_id(), "select": ["*"], "filter": { "@id": ids }, "start": -1 }),
    )
}

/// The list, all its members the manager can see, the call statuses, the web forms, and (when the list's
/// type is known and it fills a page) the names of the first page: one request for lists up to about
/// 2,300 members.
pub async fn open_list<S: TokenStore>(
    caller: &Caller<'_, S>,
    list: ListId,
    expected: Option<u64>,
    entity: Option<EntityType>,
) -> Result<ListView, BitrixError> {
    let before = caller.requests_sent();
    let extra = vec![
        Command::new("list", "crm.calllist.get", json!({ "ID": list.get() })),
        Command::new("statuses", "crm.calllist.statuslist", json!({})),
        Command::new("forms", "crm.webform.list", json!({ "GET_INACTIVE": "Y" })),
    ];
    let after = match entity {
        Some(e) if expected.is_none_or(|n| n >= 50) => vec![first_page_names(e)],
        _ => Vec::new(),
    };
    let (members, mut out) =
        caller.read_members(MemberRead::new(list).expecting(expected).before(extra).after(after)).await?;
    let list = parse_list("crm.calllist.get", &out.take("list")?)?;
    let mut first_page = HashMap::new();
    if entity == Some(list.entity_type)
        && let Ok(rows) = out.take("names")
        && let Ok(items) = parse_lookup(list.entity_type, rows)
    {
        first_page.extend(items.into_iter().map(|i| (i.id, i)));
    }
    Ok(ListView {
        list,
        members,
        first_page,
        statuses: parse_statuses("crm.calllist.statuslist", out.take("statuses")?)?,
        forms: parse_webforms(out.take("forms")?)?,
        requests: caller.requests_sent() - before,
    })
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
        for item in parse_lookup(entity, out.take(&c.key)?)? {
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
