//! Reviewing a change and saving it.

use super::carry::Carry;
use super::change_form::{self, ChangeForm, Go, entity_code, form_value, join_ids};
use super::list_view::{View, editor_page};
use super::words;
use super::*;
use crate::bitrix::methods::crm::search_filter;
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
    /// What the save sends back: the change exactly as reviewed.
    pub save_add: String,
    pub save_remove: String,
    pub form: String,
    pub base: String,
    /// What "Back" sends back: the screen as the manager left it.
    pub carry: Carry,
}

/// The intent the change form states, with "all that match" expanded.
async fn intent_of(state: &AppState, m: &Manager, entity: EntityType, form: &ChangeForm) -> Result<Intent, Notice> {
    let lang = m.lang();
    if !form.bad.is_empty() {
        return Err(Notice::error(messages::bad_ids(lang, &form.bad)));
    }
    let mut add = form.add.clone();
    let source = if !form.filter.is_empty() {
        Some(super::list_view::crm_filter(&m.caller(state), lang, &form.filter, entity).await?)
    } else if !form.q.trim().is_empty() {
        Some(search_filter(entity, &form.q))
    } else {
        None
    };
    if let (true, Some(filter)) = (form.all_matching, source) {
        match m.caller(state).crm_items_all(entity, filter, form.match_total).await {
            Ok(items) if items.len() > MATCH_CAP => return Err(Notice::error(messages::too_many(lang, MATCH_CAP))),
            Ok(items) => add.extend(items.iter().map(|i| i.id).filter(|id| !form.add.contains(id))),
            Err(e) => return Err(Notice::error(messages::bitrix(lang, &e))),
        }
    }
    if add.len() + form.remove.len() > 20_000 {
        return Err(Notice::error(messages::too_many(lang, 20_000)));
    }
    let change = match form.replace {
        true => Change::Replace(add),
        false => Change::Edit { add, remove: form.remove.clone() },
    };
    if change.names_nobody() && form.form == FormIntent::Keep {
        return Err(Notice::warning(messages::no_selection(lang)));
    }
    Ok(Intent { change, form: form.form })
}

/// The review of what the list page's form asks, or the list again with what was wrong.
pub async fn review(
    state: &AppState,
    m: &Manager,
    id: ListId,
    entity: EntityType,
    form: ChangeForm,
) -> Result<HttpResponse, PageError> {
    let back = |form: ChangeForm, n: Notice| View { notices: vec![n], ..View::of(form, Go::View) };
    let intent = match intent_of(state, m, entity, &form).await {
        Ok(i) => i,
        Err(n) => return editor_page(state, m, id, entity, back(form, n)).await,
    };
    match editor::preview(&m.caller(state), id, entity, &intent, None).await {
        Ok(p) => preview_page(m, &p, &intent, Carry::of(&form), vec![]),
        Err(e) => {
            let n = save_error_notice(m.lang(), entity, &e);
            editor_page(state, m, id, entity, back(form, n)).await
        }
    }
}

pub fn save_error_notice(lang: Lang, entity: EntityType, e: &SaveError) -> Notice {
    let t = texts(lang);
    match e {
        SaveError::Bitrix(b) => Notice::error(messages::bitrix(lang, b)),
        SaveError::WouldEmpty => Notice::error(t.would_empty),
        SaveError::NothingToDo { skipped, .. } if !skipped.is_empty() => Notice::warning(format!(
            "{} {}",
            words::all_hidden(lang, skipped.len()),
            messages::skipped(lang, entity, skipped)
        )),
        SaveError::NothingToDo { not_members, .. } if !not_members.is_empty() => {
            Notice::warning(format!("{} {}", t.nothing_to_do, messages::not_members(lang, not_members)))
        }
        SaveError::NothingToDo { .. } => Notice::warning(t.nothing_to_do),
        SaveError::UnknownForm(_) => Notice::error(t.unknown_form),
        SaveError::Conflict(_) | SaveError::LeaseLost | SaveError::Busy => Notice::warning(t.conflict),
        SaveError::Storage(_) => Notice::error(t.err_storage),
    }
}

pub fn preview_page(
    m: &Manager,
    p: &Preview,
    intent: &Intent,
    carry: Carry,
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
    let replace = intent.change.kind() == ChangeKind::Replace;
    // The hidden fields restate the change exactly as previewed, so the save plans the same change.
    let (save_add, save_remove) = match replace {
        true => (join_ids(p.plan.membership.ids()), String::new()),
        false => (join_ids(&p.plan.added), join_ids(&p.plan.removed)),
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
        replace,
        save_add,
        save_remove,
        form: form_value(intent.form),
        base: p.fingerprint.clone(),
        carry,
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
    let form = change_form::parse(&fields);
    if !form.bad.is_empty() {
        return Err(PageError::new(StatusCode::BAD_REQUEST, Problem::BadIds(form.bad)));
    }
    let intent = Intent { change: form.change(), form: form.form };
    let entity = change_form::entity_type(&fields);
    let caller = m.caller(&state);
    let author = author(&m);
    let journal = editor::Journal { store: &state.store, member_id: &m.portal.member_id, author: &author };
    let result = {
        let _one_at_a_time_here = state.save_locks.lock(&(m.portal.member_id.clone(), id)).await;
        editor::save_leased(&caller, &journal, id, entity, &intent, fields.get("base").unwrap_or_default()).await
    };
    state.reads.forget_list(&m.session.id, &m.portal.member_id, id);
    match result {
        Ok(done) => saved(&state, &m, id, done).await,
        Err(SaveError::Conflict(fresh)) => {
            state.metrics.save("conflict");
            let notices = vec![Notice::warning(texts(m.lang()).conflict)];
            match fresh.plan.changes_members() || fresh.form_after != fresh.form_before {
                true => preview_page(&m, &fresh, &intent, Carry::of(&form), notices),
                false => editor_page(&state, &m, id, entity, View::notices(notices)).await,
            }
        }
        Err(e) => {
            state.metrics.save("refused");
            state.metrics.error(&e.kind());
            let notice = save_error_notice(m.lang(), entity, &e);
            editor_page(&state, &m, id, entity, View { notices: vec![notice], ..View::of(form, Go::View) }).await
        }
    }
}

/// The list after a save, saying what Bitrix24 kept.
async fn saved(state: &AppState, m: &Manager, id: ListId, done: SaveOutcome) -> Result<HttpResponse, PageError> {
    let lang = m.lang();
    let t = texts(lang);
    state.metrics.save("saved");
    tracing::info!(member_id = %m.portal.member_id, list = id.get(), added = done.added.len(), removed = done.removed.len(), dropped = done.dropped.len(), requests = done.requests, "a call list was saved");
    let form = (done.form_before != done.form_after).then(|| {
        (quoted(&form_name(t, &done.forms, done.form_before)), quoted(&form_name(t, &done.forms, done.form_after)))
    });
    let summary = words::saved(lang, done.added.len(), done.removed.len(), done.members.len(), form);
    let mut notices = vec![Notice::success(summary)];
    let entity = done.list.entity_type;
    if !done.skipped.is_empty() {
        notices.push(Notice::warning(messages::skipped(lang, entity, &done.skipped)));
    }
    if !done.dropped.is_empty() {
        notices.push(Notice::warning(messages::dropped(lang, &done.dropped)));
    }
    let view = View { notices, saved: Some((done.screen(), done.tally())), ..View::of(Default::default(), Go::View) };
    editor_page(state, m, id, entity, view).await
}

fn quoted(name: &str) -> String {
    format!("«{name}»")
}
