//! One list as its page shows it: a summary with call progress, the manager's change as chips with names,
//! search, paste and CRM-filter picking, the web-form choice, a page of members, and the history. Reads
//! come from the session's recent reads where they can.

use std::collections::HashMap;
use std::sync::Arc;

use super::change_form::{ChangeForm, CompanyPick, CrmFilter, Go, entity_code, form_value};
use super::history::{self, HistoryRow};
use super::words::{self, Words, words};
use super::*;
use crate::bitrix::methods::calllist::CallStatus;
use crate::bitrix::methods::crm::{CrmItem, ItemFilter, search_filter};
use crate::bitrix::{Caller, ErrorCode};
use crate::domain::{EntityId, Lang, ListId};
use crate::editor::{COMPANIES_BY_NAME, FormIntent, Lookup, MATCH_CAP, PAGE, Screen, ScreenRead, Tally};
use crate::store::Store;
use crate::web::state::Counted;

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
    /// Already chosen to be added.
    pub chosen: bool,
    pub member: bool,
}

/// A person in the manager's change: added or removed.
pub struct Chip {
    pub id: u64,
    pub name: String,
}

pub struct FormOption {
    pub value: String,
    pub name: String,
    pub selected: bool,
}

/// Call progress: the statuses with their counts and the share of the list each holds.
pub struct Progress {
    pub done: String,
    pub successful: String,
    pub remaining: String,
    pub statuses: Vec<StatusCount>,
}

pub struct StatusCount {
    pub id: String,
    pub name: String,
    pub count: String,
    /// The status's share of the list in steps of 5 %, for the bar's CSS class (no inline styles: the CSP
    /// forbids them).
    pub share: u64,
}

pub struct StatusOption {
    pub id: String,
    pub name: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "list.html")]
pub struct ListPage<'a> {
    pub t: &'a Texts,
    pub w: &'a Words,
    pub m: &'a Manager,
    pub notices: Vec<Notice>,
    pub list_id: u64,
    pub etype: &'static str,
    pub kind: &'static str,
    pub badge: &'static str,
    pub created: String,
    /// The member count as known: exact with its age, or "50+" until counted.
    pub size: String,
    pub size_age: String,
    pub counted: bool,
    pub hidden_message: Option<String>,
    pub current_form: String,
    pub progress: Option<Progress>,
    pub adds: Vec<Chip>,
    pub removes: Vec<Chip>,
    pub replace: bool,
    pub q: String,
    pub results: Option<Vec<ResultRow>>,
    pub spage: u64,
    pub s_has_next: bool,
    pub match_label: String,
    pub match_total: u64,
    pub filter: CrmFilter,
    pub filter_open: bool,
    /// `(value, name, selected)` for the filter's responsible and source choices.
    pub users: Vec<(String, String, bool)>,
    pub sources: Vec<(String, String, bool)>,
    pub forms: Vec<FormOption>,
    pub inactive_forms: Vec<FormOption>,
    pub show_inactive: bool,
    pub statuses: Vec<StatusOption>,
    pub members: Vec<MemberRow>,
    pub mpage: u64,
    pub has_next_page: bool,
    pub history: Vec<HistoryRow>,
}

/// What the page is asked to show.
pub struct View {
    pub form: ChangeForm,
    pub go: Go,
    pub notices: Vec<Notice>,
    /// The list as a save just left it, so it is not read again.
    pub saved: Option<(Screen, Tally)>,
}

impl View {
    pub fn of(form: ChangeForm, go: Go) -> View {
        View { form, go, notices: Vec::new(), saved: None }
    }

    /// The list as it is, with these notices on top.
    pub fn notices(notices: Vec<Notice>) -> View {
        View { notices, ..View::of(ChangeForm::default(), Go::View) }
    }
}

/// The screen for this page: kept from a save, from the session's recent reads, or read now.
async fn the_screen(
    state: &AppState,
    m: &Manager,
    id: ListId,
    entity: EntityType,
    v: &mut View,
) -> Result<Arc<Screen>, PageError> {
    let key = (m.session.id.clone(), id, v.form.mpage, v.form.status.clone());
    if let Some((screen, tally)) = v.saved.take() {
        state.reads.keep_count(&m.session.id, id, &tally);
        let screen = Arc::new(screen);
        state.reads.keep_screen(key, screen.clone());
        return Ok(screen);
    }
    if let Some(s) = state.reads.screen(&key) {
        return Ok(s);
    }
    let counted = state.reads.count(&m.session.id, id);
    let expected_rows = match (&counted, &v.form.status) {
        (Some(c), None) => Some(c.total.saturating_sub(v.form.mpage * PAGE)),
        _ => None,
    };
    let read = ScreenRead {
        page: v.form.mpage,
        status: v.form.status.clone(),
        expected_rows,
        entity: Some(entity),
        choices: state.reads.choices(&m.session.id).is_none(),
    };
    let screen = Arc::new(editor::screen(&m.caller(state), id, read).await?);
    if let Some(choices) = &screen.choices {
        state.reads.keep_choices(&m.session.id, choices.clone());
    }
    state.reads.keep_screen(key, screen.clone());
    Ok(screen)
}

#[derive(Template)]
#[template(path = "rights.html")]
pub struct RightsPage<'a> {
    pub t: &'a Texts,
    pub w: &'a Words,
    pub m: &'a Manager,
    pub message: String,
}

/// The page for a list the portal will not show this manager: why, in their words, and the way back.
async fn rights_page(state: &AppState, m: &Manager, entity: EntityType) -> Result<HttpResponse, PageError> {
    let (t, w) = (texts(m.lang()), words(m.lang()));
    let readable = editor::readable(&m.caller(state)).await?;
    let message = match (readable.reads(entity), entity) {
        (false, EntityType::Contact) => w.no_read_contacts.to_owned(),
        (false, EntityType::Company) => w.no_read_companies.to_owned(),
        (true, _) => messages::bitrix_no_list(m.lang()),
    };
    let page = RightsPage { t, w, m, message };
    Ok(render(StatusCode::FORBIDDEN, &m.framing(), &page))
}

pub async fn editor_page(
    state: &AppState,
    m: &Manager,
    id: ListId,
    entity: EntityType,
    mut v: View,
) -> Result<HttpResponse, PageError> {
    let lang = m.lang();
    let (t, w) = (texts(lang), words(lang));
    let screen = match the_screen(state, m, id, entity, &mut v).await {
        Ok(s) => s,
        Err(PageError { problem: crate::web::error::Problem::Bitrix(e), .. })
            if matches!(e.code(), Some(ErrorCode::ListIdError | ErrorCode::AccessError)) =>
        {
            return rights_page(state, m, entity).await;
        }
        Err(e) => return Err(e),
    };
    let entity = screen.list.entity_type;
    let caller = m.caller(state);
    if v.go == Go::Count {
        let tally = editor::tally(&caller, id, &screen.statuses, None).await?;
        state.reads.keep_count(&m.session.id, id, &tally);
    }
    // People looked up already in this request, so their chips need no other look-up.
    let mut known: HashMap<EntityId, CrmItem> = HashMap::new();
    if v.go == Go::Paste && !v.form.paste.trim().is_empty() {
        let pasted = editor::resolve_paste(&caller, entity, &v.form.paste).await?;
        known.extend(pasted.found.iter().map(|i| (i.id, i.clone())));
        let new: Vec<EntityId> = pasted.found.iter().map(|i| i.id).filter(|i| !v.form.add.contains(i)).collect();
        v.form.add.extend(new);
        if !pasted.unmatched.is_empty() {
            v.notices.push(Notice::warning(words::unmatched(lang, &pasted.unmatched)));
        }
        v.form.paste.clear();
    }
    let counted = state.reads.count(&m.session.id, id);
    let choices = screen.choices.clone().or_else(|| state.reads.choices(&m.session.id)).unwrap_or_default();
    let on_page: HashMap<EntityId, &CrmItem> = screen.names.iter().chain(known.iter()).map(|(k, i)| (*k, i)).collect();
    let off_page_removes: Vec<EntityId> =
        v.form.remove.iter().copied().filter(|r| !screen.members.iter().any(|m| m.id == *r)).collect();
    let unnamed: Vec<EntityId> =
        v.form.add.iter().chain(&off_page_removes).copied().filter(|i| !on_page.contains_key(i)).collect();
    let filtered = match v.go {
        Go::Filter(n) if !v.form.filter.is_empty() => match crm_filter(&caller, lang, &v.form.filter, entity).await {
            Ok(filter) => Some((filter, n * PAGE)),
            Err(notice) => {
                v.notices.push(notice);
                None
            }
        },
        _ => None,
    };
    let matches = match v.go {
        Go::Filter(_) if !v.form.filter.is_empty() => filtered,
        Go::Search(n) if !v.form.q.trim().is_empty() => Some((search_filter(entity, &v.form.q), n * PAGE)),
        _ if !v.form.q.trim().is_empty() => Some((search_filter(entity, &v.form.q), 0)),
        _ => None,
    };
    let spage = match v.go {
        Go::Search(n) | Go::Filter(n) => n,
        _ => 0,
    };
    let found = match editor::lookup(&caller, entity, Lookup { matches, names: unnamed }).await {
        Ok(f) => f,
        Err(e) => {
            v.notices.push(Notice::error(messages::bitrix(lang, &e)));
            Default::default()
        }
    };
    let name_of = |id: &EntityId| {
        on_page
            .get(id)
            .map(|i| i.name.clone())
            .or_else(|| found.names.get(id).map(|i| i.name.clone()))
            .unwrap_or_else(|| format!("#{id}"))
    };
    let adds = v.form.add.iter().map(|i| Chip { id: i.get(), name: name_of(i) }).collect();
    let removes = off_page_removes.iter().map(|i| Chip { id: i.get(), name: name_of(i) }).collect();
    let members = screen
        .members
        .iter()
        .map(|mem| MemberRow {
            id: mem.id.get(),
            name: screen.names.get(&mem.id).map(|i| i.name.clone()).unwrap_or_default(),
            status: status_name(&screen.statuses, &mem.status),
            phone: screen.names.get(&mem.id).and_then(|i| i.phones.first().cloned()).unwrap_or_default(),
            checked: v.form.remove.contains(&mem.id),
        })
        .collect();
    let (results, s_has_next, match_total) = match &found.matches {
        Some(p) => (
            Some(
                p.items
                    .iter()
                    .map(|item| ResultRow {
                        id: item.id.get(),
                        name: item.name.clone(),
                        phone: item.phones.first().cloned().unwrap_or_default(),
                        email: item.emails.first().cloned().unwrap_or_default(),
                        chosen: v.form.add.contains(&item.id),
                        member: screen.members.iter().any(|m| m.id == item.id),
                    })
                    .collect(),
            ),
            p.next.is_some(),
            p.total,
        ),
        None => (None, false, 0),
    };
    let (forms, inactive_forms) = form_options(t, w, &screen, v.form.form);
    let nothing_here = screen.nothing_visible && screen.page == 0 && v.form.status.is_none();
    let hidden_message = match nothing_here && counted.as_ref().is_none_or(|c| c.total == 0) {
        true => Some(match (editor::readable(&caller).await?.reads(entity), entity) {
            (false, EntityType::Contact) => w.no_read_contacts.to_owned(),
            (false, EntityType::Company) => w.no_read_companies.to_owned(),
            (true, _) => messages::bitrix_no_list(lang),
        }),
        false => None,
    };
    let records = history_of(state, m, id, &caller).await?;
    let now = chrono::Utc::now().timestamp();
    let page = ListPage {
        t,
        w,
        m,
        notices: v.notices,
        list_id: id.get(),
        etype: entity_code(entity),
        kind: type_name(t, entity),
        badge: badge(entity),
        created: created(&screen.list.created_at),
        size: size_label(lang, counted.as_deref(), &screen),
        size_age: counted.as_ref().map(|c| words::age(lang, now - c.at)).unwrap_or_default(),
        counted: counted.is_some(),
        hidden_message,
        current_form: form_name(t, &screen.forms, screen.list.webform),
        progress: counted.as_deref().map(|c| progress(lang, w, &screen.statuses, c)),
        adds,
        removes,
        replace: v.form.replace,
        q: v.form.q.clone(),
        results,
        spage,
        s_has_next,
        match_label: messages::all_matching(lang, match_total, MATCH_CAP),
        match_total,
        filter_open: matches!(v.go, Go::Filter(_)) || !v.form.filter.is_empty(),
        users: choices
            .users
            .iter()
            .map(|(id, name)| (id.to_string(), name.clone(), v.form.filter.responsible == Some(*id)))
            .collect(),
        sources: choices
            .sources
            .iter()
            .map(|(id, name)| (id.clone(), name.clone(), v.form.filter.source.as_deref() == Some(id.as_str())))
            .collect(),
        filter: v.form.filter.clone(),
        forms,
        inactive_forms,
        show_inactive: v.form.show_inactive
            || matches!(v.form.form, FormIntent::Set(f) if screen.forms.iter().any(|x| x.id == f && !x.active)),
        statuses: screen
            .statuses
            .iter()
            .map(|s| StatusOption {
                id: s.status_id.clone(),
                name: s.name.clone(),
                selected: v.form.status.as_deref() == Some(&s.status_id),
            })
            .collect(),
        members,
        mpage: v.form.mpage,
        has_next_page: screen.full,
        history: history::rows(t, lang, &records),
    };
    super::page(m, &page)
}

/// The CRM filter as Bitrix24 takes it, a company given by name looked up first. `Err` says what to tell
/// the manager when the name fits no company, or too many to be meant.
pub async fn crm_filter(
    caller: &Caller<'_, Store>,
    lang: Lang,
    f: &CrmFilter,
    entity: EntityType,
) -> Result<serde_json::Value, Notice> {
    let companies = match (&f.company, entity) {
        (Some(CompanyPick::Id(id)), EntityType::Contact) => Some(vec![*id]),
        (Some(CompanyPick::Name(name)), EntityType::Contact) => match editor::companies_named(caller, name).await {
            Ok(ids) if ids.is_empty() => return Err(Notice::warning(words::no_company(lang, name))),
            Ok(ids) if ids.len() >= COMPANIES_BY_NAME => {
                return Err(Notice::warning(words::too_many_companies(lang, name, COMPANIES_BY_NAME)));
            }
            Ok(ids) => Some(ids),
            Err(e) => return Err(Notice::error(messages::bitrix(lang, &e))),
        },
        _ => None,
    };
    let filter = ItemFilter {
        assigned_by: f.responsible,
        companies,
        source: f.source.clone(),
        created_from: f.from.clone(),
        created_to: f.to.clone(),
    };
    Ok(filter.to_filter(entity))
}

/// The list's history: as read lately on this instance, or read now. A save the app could not finish (it
/// stopped, or the answer was lost) is settled from the list as it is first, and a history holding a save
/// still pending is not kept.
async fn history_of(
    state: &AppState,
    m: &Manager,
    id: ListId,
    caller: &crate::bitrix::Caller<'_, crate::store::Store>,
) -> Result<Arc<Vec<crate::store::AuditRecord>>, PageError> {
    if let Some(kept) = state.reads.history(&m.portal.member_id, id) {
        return Ok(kept);
    }
    let pending =
        |r: &[crate::store::AuditRecord]| r.iter().any(|r| r.entry.outcome == crate::domain::AuditOutcome::Pending);
    let mut records = state.store.audit(&m.portal.member_id, Some(id), 10).await?;
    if pending(&records) && editor::reconcile(caller, &state.store, &m.portal.member_id, id).await.unwrap_or(0) > 0 {
        records = state.store.audit(&m.portal.member_id, Some(id), 10).await?;
    }
    let records = Arc::new(records);
    if !pending(&records) {
        state.reads.keep_history(&m.portal.member_id, id, records.clone());
    }
    Ok(records)
}

/// A status by the portal's own name for it.
pub fn status_name(statuses: &[CallStatus], id: &str) -> String {
    statuses.iter().find(|s| s.status_id == id).map(|s| s.name.clone()).unwrap_or_else(|| id.to_owned())
}

/// `2026-12-04 10:11:12` (the portal's time) as `04.12.2026 10:11`.
pub fn created(at: &str) -> String {
    match chrono::NaiveDateTime::parse_from_str(at, "%Y-%m-%d %H:%M:%S") {
        Ok(t) => t.format("%d.%m.%Y %H:%M").to_string(),
        Err(_) => at.to_owned(),
    }
}

fn size_label(lang: Lang, counted: Option<&Counted>, screen: &Screen) -> String {
    match counted {
        Some(c) => words::number(lang, c.total),
        None if screen.full || screen.page > 0 => words::at_least(lang, (screen.page + 1) * PAGE),
        None => words::number(lang, screen.members.len() as u64),
    }
}

/// Called, successful and still to call: `IN_WORK` is Bitrix24's "in progress", every other status ends a
/// call, and `SUCCESS` is the successful one.
pub fn progress(lang: Lang, w: &Words, statuses: &[CallStatus], c: &Counted) -> Progress {
    let get = |id: &str| c.by_status.iter().find(|(s, _)| s == id).map(|(_, n)| *n).unwrap_or(0);
    let remaining = get("IN_WORK");
    let successful = get("SUCCESS");
    let done = c.total.saturating_sub(remaining);
    let share = |n: u64| (n * 100).checked_div(c.total).map(|p| (p + 2) / 5 * 5).unwrap_or(0);
    Progress {
        done: format!("{} {}", words::number(lang, done), w.done),
        successful: format!("{} {}", words::number(lang, successful), w.successful),
        remaining: format!("{} {}", words::number(lang, remaining), w.remaining),
        statuses: c
            .by_status
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(id, n)| StatusCount {
                id: id.clone(),
                name: status_name(statuses, id),
                count: words::number(lang, *n),
                share: share(*n),
            })
            .collect(),
    }
}

/// The one form control: keep the current form (named), the active forms, no form; inactive ones apart.
fn form_options(t: &Texts, w: &Words, screen: &Screen, chosen: FormIntent) -> (Vec<FormOption>, Vec<FormOption>) {
    let current = form_name(t, &screen.forms, screen.list.webform);
    let mut active = vec![FormOption {
        value: form_value(FormIntent::Keep),
        name: format!("{} «{current}»", w.form_keep_prefix),
        selected: chosen == FormIntent::Keep,
    }];
    let option = |f: &crate::bitrix::methods::crm::Webform| FormOption {
        value: f.id.to_string(),
        name: f.name.clone(),
        selected: chosen == FormIntent::Set(f.id),
    };
    active.extend(screen.forms.iter().filter(|f| f.active).map(option));
    active.push(FormOption {
        value: form_value(FormIntent::Clear),
        name: w.form_none.to_owned(),
        selected: chosen == FormIntent::Clear,
    });
    let inactive = screen.forms.iter().filter(|f| !f.active).map(option).collect();
    (active, inactive)
}
