//! One list as its page shows it: its members with names and call statuses, a search, the change form
//! and the list's history.

use std::collections::{HashMap, HashSet};

use super::change_form::{ChangeForm, FormChoice, entity_code, join_ids};
use super::history::{self, HistoryRow};
use super::*;
use crate::bitrix::methods::calllist::{CallStatus, Member};
use crate::bitrix::methods::crm::CrmItem;
use crate::domain::{ChangeKind, EntityId, ListId};
use crate::editor::{FormIntent, MATCH_CAP};

pub struct MemberRow {
    pub id: u64,
    pub name: String,
    pub status: String,
    pub phone: String,
    pub checked: bool,
}

pub struct ResultRow {
    pub id: u64,
    pub name: String,
    pub phone: String,
    pub email: String,
    pub checked: bool,
    pub member: bool,
}

pub struct FormOption {
    pub id: u64,
    pub name: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "list.html")]
pub struct ListPage<'a> {
    pub t: &'a Texts,
    pub m: &'a Manager,
    pub notices: Vec<Notice>,
    pub list_id: u64,
    pub etype: &'static str,
    pub kind: &'static str,
    pub badge: &'static str,
    pub size: usize,
    pub current_form: String,
    pub members: Vec<MemberRow>,
    pub mpage: usize,
    pub mpages: usize,
    pub q: String,
    pub searched: bool,
    pub results: Vec<ResultRow>,
    pub spage: u64,
    pub s_has_next: bool,
    pub match_label: String,
    pub match_total: u64,
    pub ids: String,
    pub intent: &'static str,
    pub form_choice: &'static str,
    pub forms: Vec<FormOption>,
    pub history: Vec<HistoryRow>,
}

#[derive(Default)]
pub struct EditorInput {
    /// The list when the caller has just read it (after a save), so it is not read again.
    pub view: Option<editor::ListView>,
    /// Contacts or companies already looked up; only the others shown are asked for.
    pub known: HashMap<EntityId, CrmItem>,
    pub change: Option<ChangeForm>,
    pub mpage: usize,
    pub searching: bool,
    pub spage: u64,
    pub notices: Vec<Notice>,
}

impl EditorInput {
    /// The list as it is, with these notices on top.
    pub fn with_notices(notices: Vec<Notice>) -> EditorInput {
        EditorInput { notices, ..EditorInput::default() }
    }

    /// The list with the manager's change form filled in again, and a notice saying what was wrong.
    pub fn keeping(change: ChangeForm, notice: Notice) -> EditorInput {
        EditorInput { change: Some(change), ..EditorInput::with_notices(vec![notice]) }
    }
}

/// What a search shows: the page of results, whether there is another, and how many match in all.
struct Found {
    items: Vec<CrmItem>,
    has_next: bool,
    total: u64,
}

pub async fn editor_page(
    state: &AppState,
    m: &Manager,
    id: ListId,
    input: EditorInput,
) -> Result<HttpResponse, PageError> {
    let t = texts(m.lang());
    let caller = m.caller(state);
    let hint = state.list_sizes.hint(&m.portal.member_id, id);
    let view = match input.view {
        Some(v) => v,
        None => editor::open_list(&caller, id, hint.size, hint.entity).await?,
    };
    state.list_sizes.set(&m.portal.member_id, id, view.members.len() as u64);
    state.list_sizes.set_entity(&m.portal.member_id, id, view.list.entity_type);
    let entity = view.list.entity_type;
    let mpages = view.members.len().div_ceil(MEMBERS_PER_PAGE).max(1);
    let mpage = input.mpage.min(mpages - 1);
    let shown: Vec<&Member> = view.members.iter().skip(mpage * MEMBERS_PER_PAGE).take(MEMBERS_PER_PAGE).collect();
    let change = input.change;
    let mut notices = input.notices;
    let mut names = input.known;
    names.extend(view.first_page.iter().map(|(k, v)| (*k, v.clone())));

    let wanted_names: Vec<EntityId> = shown.iter().map(|m| m.id).filter(|id| !names.contains_key(id)).collect();
    let found = if input.searching {
        let q = change.as_ref().map(|c| c.q.as_str()).unwrap_or_default();
        match editor::search(&caller, entity, q, input.spage * 50).await {
            Ok(p) => Found { has_next: p.next.is_some(), total: p.total, items: p.items },
            Err(e) => {
                notices.push(Notice::error(messages::bitrix(m.lang(), &e)));
                Found { items: vec![], has_next: false, total: 0 }
            }
        }
    } else {
        Found { items: vec![], has_next: false, total: 0 }
    };
    match editor::resolve_names(&caller, entity, &wanted_names).await {
        Ok(found) => names.extend(found),
        Err(e) => notices.push(Notice::warning(messages::bitrix(m.lang(), &e))),
    }
    let member_set: HashSet<EntityId> = view.members.iter().map(|m| m.id).collect();
    let picked: Vec<EntityId> = change.as_ref().map(|c| c.ids.clone()).unwrap_or_default();
    let members =
        shown.iter().map(|mem| member_row(mem, names.get(&mem.id), &view.statuses, picked.contains(&mem.id))).collect();
    let results = found
        .items
        .iter()
        .map(|item| ResultRow {
            id: item.id.get(),
            name: item.name.clone(),
            phone: item.phones.first().cloned().unwrap_or_default(),
            email: item.emails.first().cloned().unwrap_or_default(),
            checked: picked.contains(&item.id),
            member: member_set.contains(&item.id),
        })
        .collect();
    let chosen_form = match change.as_ref().map(|c| c.form) {
        Some(FormIntent::Set(f)) => Some(f),
        _ => view.list.webform,
    };
    let forms = view
        .forms
        .iter()
        .map(|f| FormOption {
            id: f.id.get(),
            name: if f.active { f.name.clone() } else { format!("{} ({})", f.name, t.inactive) },
            selected: Some(f.id) == chosen_form,
        })
        .collect();
    let records = state.store.audit(&m.portal.member_id, Some(id), 10).await?;
    super::page(
        m,
        &ListPage {
            t,
            m,
            notices,
            list_id: id.get(),
            etype: entity_code(entity),
            kind: type_name(t, entity),
            badge: badge(entity),
            size: view.members.len(),
            current_form: form_name(t, &view.forms, view.list.webform),
            members,
            mpage,
            mpages,
            q: change.as_ref().map(|c| c.q.clone()).unwrap_or_default(),
            searched: input.searching,
            results,
            spage: input.spage,
            s_has_next: found.has_next,
            match_label: messages::all_matching(m.lang(), found.total, MATCH_CAP),
            match_total: found.total,
            ids: change.as_ref().map(|c| join_ids(&c.ids)).unwrap_or_default(),
            intent: change.as_ref().map(|c| c.kind).unwrap_or(ChangeKind::Add).code(),
            form_choice: change.as_ref().map(|c| c.form_choice).unwrap_or(FormChoice::Keep).code(),
            forms,
            history: history::rows(t, m.lang(), &records),
        },
    )
}

pub fn member_row(mem: &Member, item: Option<&CrmItem>, statuses: &[CallStatus], checked: bool) -> MemberRow {
    MemberRow {
        id: mem.id.get(),
        name: item.map(|i| i.name.clone()).unwrap_or_default(),
        status: statuses
            .iter()
            .find(|s| s.status_id == mem.status)
            .map(|s| s.name.clone())
            .unwrap_or(mem.status.clone()),
        phone: item.and_then(|i| i.phones.first().cloned()).unwrap_or_default(),
        checked,
    }
}
