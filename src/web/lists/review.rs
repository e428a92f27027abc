//! Reviewing a change and saving it.

use super::change_form::{self, ChangeForm, entity_code, form_field, join_ids, parse_form_field};
use super::list_view::{EditorInput, editor_page};
use super::*;
use crate::domain::{Change, ChangeKind, EntityId, Lang, ListId};
use crate::editor::{FormIntent, Intent, MATCH_CAP, Preview, SaveError, SaveOutcome};
use crate::web::error::Problem;

#[derive(Template)]
#[template(path = "preview.html")]
pub struct PreviewPage<'a> {
    pub t: &'a Texts,
    pub m: &'a Manager,
    pub notices: Vec<Notice>,
    pub list_id: u64,
    pub etype: &'static str,
    pub kind: &'static str,
    pub added: Vec<(u64, String)>,
    pub removed: Vec<(u64, String)>,
    pub add_label: String,
    pub remove_label: String,
    pub total_label: String,
    pub form_before: String,
    pub form_after: String,
    pub form_changes: bool,
    pub replace: bool,
    pub intent: &'static str,
    pub ids: String,
    pub form: String,
    pub base: String,
}

/// The intent the change form states, with the "all that match" search expanded.
async fn intent_of(state: &AppState, m: &Manager, entity: EntityType, change: &ChangeForm) -> Result<Intent, Notice> {
    let lang = m.lang();
    if !change.bad.is_empty() {
        return Err(Notice::error(messages::bad_ids(lang, &change.bad)));
    }
    let mut ids = change.ids.clone();
    if change.all_matching && change.kind != ChangeKind::Remove && !change.q.trim().is_empty() {
        let filter = crate::bitrix::methods::crm::search_filter(entity, &change.q);
        match m.caller(state).crm_items_all(entity, filter, change.match_total).await {
            Ok(items) if items.len() > MATCH_CAP => return Err(Notice::error(messages::too_many(lang, MATCH_CAP))),
            Ok(items) => ids.extend(items.iter().map(|i| i.id).filter(|id| !change.ids.contains(id))),
            Err(e) => return Err(Notice::error(messages::bitrix(lang, &e))),
        }
    }
    if ids.len() > 20_000 {
        return Err(Notice::error(messages::too_many(lang, 20_000)));
    }
    let intent = Intent { change: Change::new(change.kind, ids), form: change.form };
    if intent.change.names_nobody() && intent.form == FormIntent::Keep {
        return Err(Notice::warning(messages::no_selection(lang)));
    }
    Ok(intent)
}

/// The review of what the change form asks, or the list again with what was wrong.
pub async fn review(
    state: &AppState,
    m: &Manager,
    id: ListId,
    entity: EntityType,
    change: ChangeForm,
) -> Result<HttpResponse, PageError> {
    let intent = match intent_of(state, m, entity, &change).await {
        Ok(i) => i,
        Err(n) => return editor_page(state, m, id, EditorInput::keeping(change, n)).await,
    };
    let hint = state.list_sizes.get(&m.portal.member_id, id);
    match editor::preview(&m.caller(state), id, entity, &intent, hint).await {
        Ok(p) => preview_page(m, &p, &intent, vec![]),
        Err(e) => editor_page(state, m, id, EditorInput::keeping(change, save_error_notice(m.lang(), &e))).await,
    }
}

pub fn save_error_notice(lang: Lang, e: &SaveError) -> Notice {
    let t = texts(lang);
    match e {
        SaveError::Bitrix(b) => Notice::error(messages::bitrix(lang, b)),
        SaveError::WouldEmpty => Notice::error(t.would_empty),
        SaveError::NothingToDo => Notice::warning(t.nothing_to_do),
        SaveError::UnknownForm(_) => Notice::error(t.unknown_form),
        SaveError::Conflict(_) => Notice::warning(t.conflict),
    }
}

pub fn preview_page(
    m: &Manager,
    p: &Preview,
    intent: &Intent,
    mut notices: Vec<Notice>,
) -> Result<HttpResponse, PageError> {
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
    let ids = match intent.change.kind() {
        ChangeKind::Add => p.plan.added.clone(),
        ChangeKind::Remove => p.plan.removed.clone(),
        ChangeKind::Replace => p.plan.membership.ids().to_vec(),
    };
    let page = PreviewPage {
        t,
        m,
        notices,
        list_id: p.list.id.get(),
        etype: entity_code(p.list.entity_type),
        kind: type_name(t, p.list.entity_type),
        add_label: messages::will_add(lang, p.plan.added.len()),
        remove_label: messages::will_remove(lang, p.plan.removed.len()),
        total_label: messages::members_after(lang, p.plan.membership.len()),
        added: named(&p.plan.added),
        removed: named(&p.plan.removed),
        form_before: form_name(t, &p.forms, p.form_before),
        form_after: form_name(t, &p.forms, p.form_after),
        form_changes: p.form_before != p.form_after,
        replace: intent.change.kind() == ChangeKind::Replace,
        intent: intent.change.kind().code(),
        ids: join_ids(&ids),
        form: form_field(intent.form),
        base: p.fingerprint.clone(),
    };
    super::page(m, &page)
}

/// `POST /lists/{id}/save`: saves the reviewed change, one save per list at a time, and records it.
pub async fn save(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let (m, fields) = session(&state, &req, &body, true).await?;
    let id = path.parse::<ListId>()?;
    let (ids, bad) = change_form::ids_field(&fields);
    if !bad.is_empty() {
        return Err(PageError::new(StatusCode::BAD_REQUEST, Problem::BadIds(bad)));
    }
    let intent = Intent {
        change: Change::new(change_form::change_kind(&fields), ids),
        form: parse_form_field(fields.get("form")),
    };
    let entity = change_form::entity_type(&fields);
    let caller = m.caller(&state);
    let result = {
        let _one_at_a_time = state.save_locks.lock(&(m.portal.member_id.clone(), id)).await;
        let hint = state.list_sizes.get(&m.portal.member_id, id);
        editor::save(&caller, id, entity, &intent, fields.get("base").unwrap_or_default(), hint).await
    };
    record(&state, &m, &editor::save_entry(&author(&m), id, &result, caller.requests_sent())).await;
    match result {
        Ok(done) => saved(&state, &m, id, done).await,
        Err(SaveError::Conflict(fresh)) => {
            state.metrics.save("conflict");
            let notices = vec![Notice::warning(texts(m.lang()).conflict)];
            match fresh.plan.changes_members() || fresh.form_after != fresh.form_before {
                true => preview_page(&m, &fresh, &intent, notices),
                false => editor_page(&state, &m, id, EditorInput::with_notices(notices)).await,
            }
        }
        Err(e) => {
            state.metrics.save("refused");
            state.metrics.error(&e.kind());
            editor_page(&state, &m, id, EditorInput::with_notices(vec![save_error_notice(m.lang(), &e)])).await
        }
    }
}

/// The list after a save, saying what Bitrix24 kept.
async fn saved(state: &AppState, m: &Manager, id: ListId, done: SaveOutcome) -> Result<HttpResponse, PageError> {
    let lang = m.lang();
    state.list_sizes.set(&m.portal.member_id, id, done.members.len() as u64);
    state.metrics.save("saved");
    tracing::info!(member_id = %m.portal.member_id, list = id.get(), added = done.added.len(), removed = done.removed.len(), dropped = done.dropped.len(), requests = done.requests, "a call list was saved");
    let summary = messages::saved_summary(lang, done.added.len(), done.removed.len(), done.members.len());
    let mut notices = vec![Notice::success(format!("{} {summary}", texts(lang).saved))];
    if !done.dropped.is_empty() {
        notices.push(Notice::warning(messages::dropped(lang, &done.dropped)));
    }
    let input =
        EditorInput { view: Some(done.view()), known: done.first_page.clone(), notices, ..EditorInput::default() };
    editor_page(state, m, id, input).await
}
