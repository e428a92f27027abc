//! Reviewing a change and saving it.

use super::*;

#[derive(Template)]
#[template(path = "preview.html")]
pub(super) struct PreviewPage<'a> {
    pub(super) t: &'a Texts,
    pub(super) m: &'a Manager,
    pub(super) notices: Vec<Notice>,
    pub(super) list_id: u64,
    pub(super) etype: &'static str,
    pub(super) kind: &'static str,
    pub(super) added: Vec<(u64, String)>,
    pub(super) removed: Vec<(u64, String)>,
    pub(super) add_label: String,
    pub(super) remove_label: String,
    pub(super) total_label: String,
    pub(super) form_before: String,
    pub(super) form_after: String,
    pub(super) form_changes: bool,
    pub(super) replace: bool,
    pub(super) intent: &'static str,
    pub(super) ids: String,
    pub(super) form: String,
    pub(super) base: String,
}

/// The intent the change form states, with the "all that match" search expanded.
pub(super) async fn intent_of(
    state: &AppState,
    m: &Manager,
    entity: EntityType,
    change: &ChangeForm,
) -> Result<Intent, Notice> {
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

pub(super) fn requested_is_empty(c: &Change) -> bool {
    match c {
        Change::Add(ids) | Change::Remove(ids) => ids.is_empty(),
        Change::Replace(_) => false,
    }
}

pub(super) fn form_field(intent: FormIntent) -> String {
    match intent {
        FormIntent::Keep => "keep".into(),
        FormIntent::Clear => "clear".into(),
        FormIntent::Set(id) => format!("set:{id}"),
    }
}

pub(super) fn parse_form_field(v: Option<&str>) -> FormIntent {
    match v {
        Some("clear") => FormIntent::Clear,
        Some(s) if s.starts_with("set:") => s[4..].parse().map(FormIntent::Set).unwrap_or(FormIntent::Keep),
        _ => FormIntent::Keep,
    }
}

pub(super) async fn review(
    state: &AppState,
    m: &Manager,
    id: ListId,
    entity: EntityType,
    change: ChangeForm,
) -> HttpResponse {
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

pub(super) fn save_error_notice(lang: crate::domain::Lang, e: &SaveError) -> Notice {
    let t = texts(lang);
    match e {
        SaveError::Bitrix(b) => Notice::error(messages::bitrix(lang, b)),
        SaveError::WouldEmpty => Notice::error(t.would_empty),
        SaveError::NothingToDo => Notice::warning(t.nothing_to_do),
        SaveError::UnknownForm(_) => Notice::error(t.unknown_form),
        SaveError::Conflict(_) => Notice::warning(t.conflict),
    }
}

pub(super) fn preview_page(m: &Manager, p: &Preview, intent: &Intent, mut notices: Vec<Notice>) -> HttpResponse {
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

pub(super) fn list_of(fields: &Fields) -> (Vec<EntityId>, Vec<String>) {
    let mut ids = Vec::new();
    let mut bad = Vec::new();
    split_ids(fields.get("ids").unwrap_or_default(), &mut ids, &mut bad);
    (ids, bad)
}

pub(super) async fn save(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
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

pub(super) async fn record(state: &AppState, entry: &AuditEntry) {
    if let Err(e) = state.store.record(entry).await {
        tracing::error!(error = %e, "cannot write the audit log");
    }
}
