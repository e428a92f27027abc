//! The manager's pages: the call lists, one list with its members and history, picking members and a form,
//! reviewing a change, saving it, and creating a list. Navigation inside the iframe is by POST forms,
//! because the session reference travels in the body, never in a URL.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::i18n::{Texts, texts};
use super::messages;
use super::page::{problem, render};
use super::session::{Fields, Manager, resolve};
use crate::bitrix::BitrixError;
use crate::bitrix::methods::calllist::{CallStatus, Member};
use crate::bitrix::methods::crm::{CrmItem, Webform};
use crate::domain::{Change, EntityId, EntityType, ListId, WebformId};
use crate::editor::{self, FormIntent, Intent, MATCH_CAP, Preview, SaveError};
use crate::startup::AppState;
use crate::store::{AuditEntry, AuditRecord};

const MEMBERS_PER_PAGE: usize = 50;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/lists").route(web::post().to(lists_page)))
        .service(web::resource("/lists/new").route(web::post().to(new_list)))
        .service(web::resource("/lists/create").route(web::post().to(create)))
        .service(web::resource("/lists/{id}").route(web::post().to(list_page)))
        .service(web::resource("/lists/{id}/save").route(web::post().to(save)));
}

/// A notice at the top of a page.
pub struct Notice {
    pub kind: &'static str,
    pub text: String,
}

impl Notice {
    pub fn info(text: impl Into<String>) -> Notice {
        Notice { kind: "info", text: text.into() }
    }
    pub fn success(text: impl Into<String>) -> Notice {
        Notice { kind: "success", text: text.into() }
    }
    pub fn warning(text: impl Into<String>) -> Notice {
        Notice { kind: "warning", text: text.into() }
    }
    pub fn error(text: impl Into<String>) -> Notice {
        Notice { kind: "error", text: text.into() }
    }
}

fn type_name(t: &Texts, e: EntityType) -> &'static str {
    match e {
        EntityType::Contact => t.type_contact,
        EntityType::Company => t.type_company,
    }
}

fn form_name(t: &Texts, forms: &[Webform], id: Option<WebformId>) -> String {
    match id {
        None => t.no_form.to_owned(),
        Some(id) => match forms.iter().find(|f| f.id == id) {
            Some(f) if f.active => f.name.clone(),
            Some(f) => format!("{} ({})", f.name, t.inactive),
            None => format!("#{id}"),
        },
    }
}

async fn session(
    state: &AppState,
    req: &HttpRequest,
    body: &[u8],
    changes: bool,
) -> Result<(Manager, Fields), HttpResponse> {
    let fields = Fields::parse(body);
    let m = resolve(state, req, &fields, changes).await?;
    Ok((m, fields))
}

fn bitrix_failure(state: &AppState, m: &Manager, e: &BitrixError) -> HttpResponse {
    state.metrics.error(&e.kind());
    tracing::warn!(member_id = %m.portal.member_id, error = %e.kind(), "a Bitrix24 call failed");
    let status = match e {
        BitrixError::Api(a) if a.code.is_auth() => StatusCode::UNAUTHORIZED,
        BitrixError::NeedsReauthorisation { .. } => StatusCode::UNAUTHORIZED,
        BitrixError::Api(_) => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::BAD_GATEWAY,
    };
    problem(status, m.lang(), &m.framing(), &messages::bitrix(m.lang(), e), None)
}

// ---------------------------------------------------------------------------------------------------
// The call lists.

struct Row {
    id: u64,
    kind: &'static str,
    badge: &'static str,
    size: String,
    form: String,
    created: String,
}

#[derive(Template)]
#[template(path = "lists.html")]
struct ListsPage<'a> {
    t: &'a Texts,
    m: &'a Manager,
    notice: Option<Notice>,
    rows: Vec<Row>,
    page: u64,
    has_next: bool,
    reauth_url: Option<String>,
}

async fn lists_page(state: web::Data<AppState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let (m, fields) = match session(&state, &req, &body, false).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let page = fields.get("page").and_then(|p| p.parse().ok()).unwrap_or(0).min(10_000);
    index(&state, &m, page, None).await
}

/// The portal's call lists, a page at a time.
pub async fn index(state: &AppState, m: &Manager, page: u64, notice: Option<Notice>) -> HttpResponse {
    let t = texts(m.lang());
    let caller = m.caller(state);
    let overview = match editor::overview(&caller, page, |id| state.list_sizes.get(&m.portal.member_id, id)).await {
        Ok(o) => o,
        Err(e) => return bitrix_failure(state, m, &e),
    };
    for s in &overview.lists {
        state.list_sizes.set_entity(&m.portal.member_id, s.list.id, s.list.entity_type);
        if !s.more {
            state.list_sizes.set(&m.portal.member_id, s.list.id, s.size);
        }
    }
    let rows = overview
        .lists
        .iter()
        .map(|s| Row {
            id: s.list.id.get(),
            kind: type_name(t, s.list.entity_type),
            badge: match s.list.entity_type {
                EntityType::Contact => "badge-contact",
                EntityType::Company => "badge-company",
            },
            size: if s.more { format!("{}+", s.size) } else { s.size.to_string() },
            form: form_name(t, &overview.forms, s.list.webform),
            created: s.list.created_at.clone(),
        })
        .collect();
    let reauth_url = (m.session.is_admin && m.portal.status == crate::domain::PortalStatus::NeedsReauthorisation)
        .then(|| format!("/oauth/start?portal={}&lang={}", m.portal.member_id, m.lang()));
    render(
        StatusCode::OK,
        &m.framing(),
        &ListsPage { t, m, notice, rows, page: overview.page, has_next: overview.has_next, reauth_url },
    )
}

// ---------------------------------------------------------------------------------------------------
// One list.

struct MemberRow {
    id: u64,
    name: String,
    status: String,
    phone: String,
    checked: bool,
}

struct ResultRow {
    id: u64,
    name: String,
    phone: String,
    email: String,
    checked: bool,
    member: bool,
}

struct FormOption {
    id: u64,
    name: String,
    selected: bool,
}

struct HistoryRow {
    at: String,
    who: String,
    what: String,
    outcome: String,
}

#[derive(Template)]
#[template(path = "list.html")]
struct ListPage<'a> {
    t: &'a Texts,
    m: &'a Manager,
    notices: Vec<Notice>,
    list_id: u64,
    etype: &'static str,
    kind: &'static str,
    badge: &'static str,
    size: usize,
    current_form: String,
    members: Vec<MemberRow>,
    mpage: usize,
    mpages: usize,
    q: String,
    searched: bool,
    results: Vec<ResultRow>,
    spage: u64,
    s_has_next: bool,
    match_label: String,
    match_total: u64,
    ids: String,
    intent: &'static str,
    form_choice: &'static str,
    forms: Vec<FormOption>,
    history: Vec<HistoryRow>,
}

fn etype_code(e: EntityType) -> &'static str {
    match e {
        EntityType::Contact => "contact",
        EntityType::Company => "company",
    }
}

fn parse_etype(fields: &Fields) -> EntityType {
    match fields.get("etype") {
        Some("company") => EntityType::Company,
        _ => EntityType::Contact,
    }
}

/// What the change form carried, parsed; bad IDs are named, not dropped.
struct ChangeForm {
    intent: &'static str,
    ids: Vec<EntityId>,
    bad: Vec<String>,
    form: FormIntent,
    form_choice: &'static str,
    all_matching: bool,
    /// The count the search page showed, so reading every match can start with a batch.
    match_total: Option<u64>,
    q: String,
}

fn split_ids(text: &str, into: &mut Vec<EntityId>, bad: &mut Vec<String>) {
    for part in text.split([',', ' ', ';', '\n', '\r', '\t']).map(str::trim).filter(|p| !p.is_empty()) {
        // BX24.selectCRM answers prefixed IDs (C_12, CO_3).
        let bare = part.trim_start_matches("CO_").trim_start_matches("C_");
        match bare.parse::<EntityId>() {
            Ok(id) if !into.contains(&id) => into.push(id),
            Ok(_) => {}
            Err(_) => bad.push(part.chars().take(30).collect()),
        }
    }
}

fn parse_change(fields: &Fields) -> ChangeForm {
    let intent = match fields.get("intent") {
        Some("remove") => "remove",
        Some("replace") => "replace",
        _ => "add",
    };
    let mut ids = Vec::new();
    let mut bad = Vec::new();
    let source = if intent == "remove" { "member" } else { "pick" };
    for v in fields.all(source) {
        split_ids(v, &mut ids, &mut bad);
    }
    split_ids(fields.get("ids").unwrap_or_default(), &mut ids, &mut bad);
    let (form, form_choice) = match fields.get("form") {
        Some("clear") => (FormIntent::Clear, "clear"),
        Some("set") => match fields.get("webform").and_then(|w| w.parse::<WebformId>().ok()) {
            Some(id) => (FormIntent::Set(id), "set"),
            None => (FormIntent::Keep, "keep"),
        },
        _ => (FormIntent::Keep, "keep"),
    };
    ChangeForm {
        intent,
        ids,
        bad,
        form,
        form_choice,
        all_matching: fields.get("all_matching") == Some("1"),
        match_total: fields.get("match_total").and_then(|t| t.parse().ok()).filter(|t: &u64| *t > 0),
        q: fields.get("q").unwrap_or_default().chars().take(100).collect(),
    }
}

fn not_a_list(m: &Manager, e: &crate::domain::BadId) -> HttpResponse {
    problem(
        StatusCode::BAD_REQUEST,
        m.lang(),
        &m.framing(),
        &messages::bitrix_not_a_list(m.lang()),
        Some(e.to_string()),
    )
}

async fn list_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let (m, fields) = match session(&state, &req, &body, false).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let id = match path.parse::<ListId>() {
        Ok(id) => id,
        Err(e) => return not_a_list(&m, &e),
    };
    let change = parse_change(&fields);
    let go = fields.get("go").unwrap_or("view");
    if go == "review" {
        return review(&state, &m, id, parse_etype(&fields), change).await;
    }
    let (mpage, spage) = match go.split_once(':') {
        Some(("members", n)) => (n.parse().unwrap_or(0), 0),
        Some(("search", n)) => (fields.get("mpage").and_then(|p| p.parse().ok()).unwrap_or(0), n.parse().unwrap_or(0)),
        _ => (fields.get("mpage").and_then(|p| p.parse().ok()).unwrap_or(0), 0),
    };
    let searching = go.starts_with("search") || (!change.q.is_empty() && go != "view");
    editor_page(
        &state,
        &m,
        id,
        EditorInput {
            view: None,
            known: HashMap::new(),
            change: Some(change),
            mpage,
            searching,
            spage,
            notices: vec![],
        },
    )
    .await
}

struct EditorInput {
    /// The list when the caller has just read it (after a save), so it is not read again.
    view: Option<editor::ListView>,
    /// Contacts or companies already looked up; only the others shown are asked for.
    known: HashMap<EntityId, CrmItem>,
    change: Option<ChangeForm>,
    mpage: usize,
    searching: bool,
    spage: u64,
    notices: Vec<Notice>,
}

impl EditorInput {
    /// The list as it is, with these notices on top.
    fn with_notices(notices: Vec<Notice>) -> EditorInput {
        EditorInput { view: None, known: HashMap::new(), change: None, mpage: 0, searching: false, spage: 0, notices }
    }

    /// The list with the manager's change form filled in again, and a notice saying what was wrong.
    fn keeping(change: ChangeForm, notice: Notice) -> EditorInput {
        EditorInput { change: Some(change), ..EditorInput::with_notices(vec![notice]) }
    }
}

async fn editor_page(state: &AppState, m: &Manager, id: ListId, input: EditorInput) -> HttpResponse {
    let t = texts(m.lang());
    let caller = m.caller(state);
    let hint = state.list_sizes.hint(&m.portal.member_id, id);
    let view = match input.view {
        Some(v) => v,
        None => match editor::open_list(&caller, id, hint.size, hint.entity).await {
            Ok(v) => v,
            Err(e) => return bitrix_failure(state, m, &e),
        },
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
    let (results, s_has_next, match_total) = if input.searching {
        match editor::search(
            &caller,
            entity,
            change.as_ref().map(|c| c.q.as_str()).unwrap_or_default(),
            input.spage * 50,
        )
        .await
        {
            Ok(p) => (p.items, p.next.is_some(), p.total),
            Err(e) => {
                notices.push(Notice::error(messages::bitrix(m.lang(), &e)));
                (vec![], false, 0)
            }
        }
    } else {
        (vec![], false, 0)
    };
    match editor::resolve_names(&caller, entity, &wanted_names).await {
        Ok(found) => names.extend(found),
        Err(e) => notices.push(Notice::warning(messages::bitrix(m.lang(), &e))),
    }
    let member_set: std::collections::HashSet<EntityId> = view.members.iter().map(|m| m.id).collect();
    let picked: Vec<EntityId> = change.as_ref().map(|c| c.ids.clone()).unwrap_or_default();
    let members =
        shown.iter().map(|mem| member_row(mem, names.get(&mem.id), &view.statuses, picked.contains(&mem.id))).collect();
    let results = results
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
    let form_choice = change.as_ref().map(|c| c.form_choice).unwrap_or("keep");
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
    let history = history(state, m, id).await;
    let page = ListPage {
        t,
        m,
        notices,
        list_id: id.get(),
        etype: etype_code(entity),
        kind: type_name(t, entity),
        badge: if entity == EntityType::Contact { "badge-contact" } else { "badge-company" },
        size: view.members.len(),
        current_form: form_name(t, &view.forms, view.list.webform),
        members,
        mpage,
        mpages,
        q: change.as_ref().map(|c| c.q.clone()).unwrap_or_default(),
        searched: input.searching,
        results,
        spage: input.spage,
        s_has_next,
        match_label: messages::all_matching(m.lang(), match_total, MATCH_CAP),
        match_total,
        ids: change.as_ref().map(|c| join_ids(&c.ids)).unwrap_or_default(),
        intent: change.as_ref().map(|c| c.intent).unwrap_or("add"),
        form_choice,
        forms,
        history,
    };
    render(StatusCode::OK, &m.framing(), &page)
}

fn member_row(mem: &Member, item: Option<&CrmItem>, statuses: &[CallStatus], checked: bool) -> MemberRow {
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

fn join_ids(ids: &[EntityId]) -> String {
    ids.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(", ")
}

async fn history(state: &AppState, m: &Manager, id: ListId) -> Vec<HistoryRow> {
    let records: Vec<AuditRecord> =
        state.store.audit(&m.portal.member_id, Some(id.get() as i64), 10).await.unwrap_or_default();
    records
        .into_iter()
        .map(|r| {
            let d = &r.entry.details;
            let count = |k: &str| d.get(k).and_then(|v| v.as_array()).map(|a| a.len()).unwrap_or(0);
            let what = match m.lang() {
                crate::domain::Lang::En => format!(
                    "+{} / −{}; form {} → {}",
                    count("added"),
                    count("removed"),
                    d.get("form_before").map(show_form).unwrap_or_default(),
                    d.get("form_after").map(show_form).unwrap_or_default()
                ),
                crate::domain::Lang::Ru => format!(
                    "+{} / −{}; форма {} → {}",
                    count("added"),
                    count("removed"),
                    d.get("form_before").map(show_form).unwrap_or_default(),
                    d.get("form_after").map(show_form).unwrap_or_default()
                ),
            };
            HistoryRow {
                at: chrono::DateTime::from_timestamp(r.at, 0)
                    .map(|t| t.format("%d.%m %H:%M").to_string())
                    .unwrap_or_default(),
                who: r.entry.user_name.clone(),
                what,
                outcome: r.entry.outcome.clone(),
            }
        })
        .collect()
}

fn show_form(v: &serde_json::Value) -> String {
    v.as_u64().map(|f| format!("#{f}")).unwrap_or_else(|| "—".into())
}

// ---------------------------------------------------------------------------------------------------
// Review and save.

#[derive(Template)]
#[template(path = "preview.html")]
struct PreviewPage<'a> {
    t: &'a Texts,
    m: &'a Manager,
    notices: Vec<Notice>,
    list_id: u64,
    etype: &'static str,
    kind: &'static str,
    added: Vec<(u64, String)>,
    removed: Vec<(u64, String)>,
    add_label: String,
    remove_label: String,
    total_label: String,
    form_before: String,
    form_after: String,
    form_changes: bool,
    replace: bool,
    intent: &'static str,
    ids: String,
    form: String,
    base: String,
}

/// The intent the change form states, with the "all that match" search expanded.
async fn intent_of(state: &AppState, m: &Manager, entity: EntityType, change: &ChangeForm) -> Result<Intent, Notice> {
    let lang = m.lang();
    if !change.bad.is_empty() {
        return Err(Notice::error(messages::bad_ids(lang, &change.bad)));
    }
    let mut ids = change.ids.clone();
    if change.all_matching && change.intent != "remove" && !change.q.trim().is_empty() {
        let caller = m.caller(state);
        let filter = crate::bitrix::methods::crm::search_filter(entity, &change.q);
        match caller.crm_items_all(entity, filter, change.match_total).await {
            Ok(items) if items.len() > MATCH_CAP => return Err(Notice::error(messages::too_many(lang, MATCH_CAP))),
            Ok(items) => ids.extend(items.iter().map(|i| i.id).filter(|id| !change.ids.contains(id))),
            Err(e) => return Err(Notice::error(messages::bitrix(lang, &e))),
        }
    }
    if ids.len() > 20_000 {
        return Err(Notice::error(messages::too_many(lang, 20_000)));
    }
    let change_kind = match change.intent {
        "remove" => Change::Remove(ids),
        "replace" => Change::Replace(ids),
        _ => Change::Add(ids),
    };
    if requested_is_empty(&change_kind) && change.form == FormIntent::Keep {
        return Err(Notice::warning(messages::no_selection(lang)));
    }
    Ok(Intent { change: change_kind, form: change.form })
}

fn requested_is_empty(c: &Change) -> bool {
    match c {
        Change::Add(ids) | Change::Remove(ids) => ids.is_empty(),
        Change::Replace(_) => false,
    }
}

fn form_field(intent: FormIntent) -> String {
    match intent {
        FormIntent::Keep => "keep".into(),
        FormIntent::Clear => "clear".into(),
        FormIntent::Set(id) => format!("set:{id}"),
    }
}

fn parse_form_field(v: Option<&str>) -> FormIntent {
    match v {
        Some("clear") => FormIntent::Clear,
        Some(s) if s.starts_with("set:") => s[4..].parse().map(FormIntent::Set).unwrap_or(FormIntent::Keep),
        _ => FormIntent::Keep,
    }
}

async fn review(state: &AppState, m: &Manager, id: ListId, entity: EntityType, change: ChangeForm) -> HttpResponse {
    let lang = m.lang();
    let intent = match intent_of(state, m, entity, &change).await {
        Ok(i) => i,
        Err(n) => {
            let input = EditorInput::keeping(change, n);
            return editor_page(state, m, id, input).await;
        }
    };
    let caller = m.caller(state);
    match editor::preview(&caller, id, entity, &intent, state.list_sizes.get(&m.portal.member_id, id)).await {
        Ok(p) => preview_page(m, &p, &intent, vec![]),
        Err(e) => {
            let n = save_error_notice(lang, &e);
            let input = EditorInput::keeping(change, n);
            editor_page(state, m, id, input).await
        }
    }
}

fn save_error_notice(lang: crate::domain::Lang, e: &SaveError) -> Notice {
    let t = texts(lang);
    match e {
        SaveError::Bitrix(b) => Notice::error(messages::bitrix(lang, b)),
        SaveError::WouldEmpty => Notice::error(t.would_empty),
        SaveError::NothingToDo => Notice::warning(t.nothing_to_do),
        SaveError::UnknownForm(_) => Notice::error(t.unknown_form),
        SaveError::Conflict(_) => Notice::warning(t.conflict),
    }
}

fn preview_page(m: &Manager, p: &Preview, intent: &Intent, mut notices: Vec<Notice>) -> HttpResponse {
    let lang = m.lang();
    let t = texts(lang);
    let named = |ids: &[EntityId]| -> Vec<(u64, String)> {
        ids.iter().map(|id| (id.get(), p.names.get(id).cloned().unwrap_or_default())).collect()
    };
    if !p.skipped.is_empty() {
        notices.push(Notice::warning(messages::skipped(lang, p.list.entity_type, &p.skipped)));
    }
    if !p.not_members.is_empty() {
        notices.push(Notice::info(messages::not_members(lang, &p.not_members)));
    }
    // The hidden fields restate the change exactly as previewed, so the save plans the same change.
    let (intent_code, ids) = match &intent.change {
        Change::Add(_) => ("add", p.plan.added.clone()),
        Change::Remove(_) => ("remove", p.plan.removed.clone()),
        Change::Replace(_) => ("replace", p.plan.membership.ids().to_vec()),
    };
    let page = PreviewPage {
        t,
        m,
        notices,
        list_id: p.list.id.get(),
        etype: etype_code(p.list.entity_type),
        kind: type_name(t, p.list.entity_type),
        add_label: messages::will_add(lang, p.plan.added.len()),
        remove_label: messages::will_remove(lang, p.plan.removed.len()),
        total_label: messages::members_after(lang, p.plan.membership.len()),
        added: named(&p.plan.added),
        removed: named(&p.plan.removed),
        form_before: form_name(t, &p.forms, p.form_before),
        form_after: form_name(t, &p.forms, p.form_after),
        form_changes: p.form_before != p.form_after,
        replace: matches!(intent.change, Change::Replace(_)),
        intent: intent_code,
        ids: join_ids(&ids),
        form: form_field(intent.form),
        base: p.fingerprint.clone(),
    };
    render(StatusCode::OK, &m.framing(), &page)
}

fn list_of(fields: &Fields) -> (Vec<EntityId>, Vec<String>) {
    let mut ids = Vec::new();
    let mut bad = Vec::new();
    split_ids(fields.get("ids").unwrap_or_default(), &mut ids, &mut bad);
    (ids, bad)
}

async fn save(state: web::Data<AppState>, req: HttpRequest, path: web::Path<String>, body: web::Bytes) -> HttpResponse {
    let (m, fields) = match session(&state, &req, &body, true).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let id = match path.parse::<ListId>() {
        Ok(id) => id,
        Err(e) => return not_a_list(&m, &e),
    };
    let lang = m.lang();
    let t = texts(lang);
    let entity = parse_etype(&fields);
    let (ids, bad) = list_of(&fields);
    if !bad.is_empty() {
        return problem(StatusCode::BAD_REQUEST, lang, &m.framing(), &messages::bad_ids(lang, &bad), None);
    }
    let change = match fields.get("intent") {
        Some("remove") => Change::Remove(ids),
        Some("replace") => Change::Replace(ids),
        _ => Change::Add(ids),
    };
    let intent = Intent { change, form: parse_form_field(fields.get("form")) };
    let base = fields.get("base").unwrap_or_default();
    let caller = m.caller(&state);
    let lock = state.save_locks.for_list(&m.portal.member_id, id);
    let _one_at_a_time = lock.lock().await;
    let result = editor::save(&caller, id, entity, &intent, base, state.list_sizes.get(&m.portal.member_id, id)).await;
    let mut entry = AuditEntry {
        member_id: m.portal.member_id.clone(),
        user_id: Some(m.session.user_id as i64),
        user_name: m.session.user_name.clone(),
        action: "list.save".into(),
        list_id: Some(id.get() as i64),
        details: serde_json::json!({ "intent": fields.get("intent").unwrap_or("add"), "requests": caller.requests_sent() }),
        outcome: String::new(),
    };
    match result {
        Ok(done) => {
            state.list_sizes.set(&m.portal.member_id, id, done.members.len() as u64);
            state.metrics.save("saved");
            entry.outcome = t.outcome_saved.into();
            entry.details = serde_json::json!({
                "added": done.added.iter().map(|i| i.get()).collect::<Vec<_>>(),
                "removed": done.removed.iter().map(|i| i.get()).collect::<Vec<_>>(),
                "dropped": done.dropped.iter().map(|i| i.get()).collect::<Vec<_>>(),
                "form_before": done.form_before.map(|f| f.get()),
                "form_after": done.form_after.map(|f| f.get()),
                "requests": caller.requests_sent(),
            });
            record(&state, &entry).await;
            tracing::info!(member_id = %m.portal.member_id, list = id.get(), added = done.added.len(), removed = done.removed.len(), dropped = done.dropped.len(), requests = caller.requests_sent(), "a call list was saved");
            let mut notices = vec![Notice::success(format!(
                "{} {}",
                t.saved,
                messages::saved_summary(lang, done.added.len(), done.removed.len(), done.members.len())
            ))];
            if !done.dropped.is_empty() {
                notices.push(Notice::warning(messages::dropped(lang, &done.dropped)));
            }
            let input = EditorInput {
                view: Some(done.view()),
                known: done.first_page.clone(),
                change: None,
                mpage: 0,
                searching: false,
                spage: 0,
                notices,
            };
            editor_page(&state, &m, id, input).await
        }
        Err(SaveError::Conflict(fresh)) => {
            state.metrics.save("conflict");
            entry.outcome = t.outcome_conflict.into();
            record(&state, &entry).await;
            let notices = vec![Notice::warning(t.conflict)];
            match fresh.plan.changes_members() || fresh.form_after != fresh.form_before {
                true => preview_page(&m, &fresh, &intent, notices),
                false => editor_page(&state, &m, id, EditorInput::with_notices(notices)).await,
            }
        }
        Err(e) => {
            state.metrics.save("refused");
            if let SaveError::Bitrix(b) = &e {
                state.metrics.error(&b.kind());
            }
            entry.outcome = match &e {
                SaveError::Bitrix(b) => format!("{}: {}", t.outcome_refused, b.kind()),
                _ => t.outcome_refused.into(),
            };
            record(&state, &entry).await;
            let notices = vec![save_error_notice(lang, &e)];
            editor_page(&state, &m, id, EditorInput::with_notices(notices)).await
        }
    }
}

async fn record(state: &AppState, entry: &AuditEntry) {
    if let Err(e) = state.store.record(entry).await {
        tracing::error!(error = %e, "cannot write the audit log");
    }
}

// ---------------------------------------------------------------------------------------------------
// A new list.

#[derive(Template)]
#[template(path = "new_list.html")]
struct NewListPage<'a> {
    t: &'a Texts,
    m: &'a Manager,
    notices: Vec<Notice>,
    etype: &'static str,
    ids: String,
    forms: Vec<FormOption>,
}

async fn new_list(state: web::Data<AppState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let (m, _) = match session(&state, &req, &body, false).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    new_list_page(&state, &m, "contact", String::new(), vec![]).await
}

async fn new_list_page(
    state: &AppState,
    m: &Manager,
    etype: &'static str,
    ids: String,
    notices: Vec<Notice>,
) -> HttpResponse {
    let t = texts(m.lang());
    let forms = match m.caller(state).webforms(false).await {
        Ok(f) => f,
        Err(e) => return bitrix_failure(state, m, &e),
    };
    let forms = forms.iter().map(|f| FormOption { id: f.id.get(), name: f.name.clone(), selected: false }).collect();
    render(StatusCode::OK, &m.framing(), &NewListPage { t, m, notices, etype, ids, forms })
}

async fn create(state: web::Data<AppState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let (m, fields) = match session(&state, &req, &body, true).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let lang = m.lang();
    let t = texts(lang);
    let entity = parse_etype(&fields);
    let etype = etype_code(entity);
    let raw_ids = fields.get("ids").unwrap_or_default().to_owned();
    let (ids, bad) = list_of(&fields);
    if !bad.is_empty() {
        return new_list_page(&state, &m, etype, raw_ids, vec![Notice::error(messages::bad_ids(lang, &bad))]).await;
    }
    if ids.is_empty() {
        return new_list_page(&state, &m, etype, raw_ids, vec![Notice::warning(messages::no_selection(lang))]).await;
    }
    let webform = fields.get("webform").and_then(|w| w.parse::<WebformId>().ok());
    let caller = m.caller(&state);
    match editor::create_list(&caller, entity, &ids, webform).await {
        Ok((list, skipped)) => {
            let entry = AuditEntry {
                member_id: m.portal.member_id.clone(),
                user_id: Some(m.session.user_id as i64),
                user_name: m.session.user_name.clone(),
                action: "list.create".into(),
                list_id: Some(list.get() as i64),
                details: serde_json::json!({
                    "added": ids.iter().filter(|i| !skipped.contains(i)).map(|i| i.get()).collect::<Vec<_>>(),
                    "removed": [],
                    "form_before": null,
                    "form_after": webform.map(|w| w.get()),
                }),
                outcome: t.outcome_saved.into(),
            };
            record(&state, &entry).await;
            let mut notices = vec![Notice::success(messages::created(lang, list.get()))];
            if !skipped.is_empty() {
                notices.push(Notice::warning(messages::skipped(lang, entity, &skipped)));
            }
            editor_page(&state, &m, list, EditorInput::with_notices(notices)).await
        }
        Err(e) => new_list_page(&state, &m, etype, raw_ids, vec![save_error_notice(lang, &e)]).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_from_the_form_and_the_crm_picker_parse_and_bad_ones_are_named() {
        let mut ids = Vec::new();
        let mut bad = Vec::new();
        split_ids("12, C_7 CO_3;12\n abc, -4", &mut ids, &mut bad);
        assert_eq!(ids.iter().map(|i| i.get()).collect::<Vec<_>>(), [12, 7, 3]);
        assert_eq!(bad, ["abc", "-4"]);
    }
}
