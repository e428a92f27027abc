//! One list: its members with names and call statuses, search, the change form and the list's history.

use super::*;

pub(super) struct MemberRow {
    pub(super) id: u64,
    pub(super) name: String,
    pub(super) status: String,
    pub(super) phone: String,
    pub(super) checked: bool,
}

pub(super) struct ResultRow {
    pub(super) id: u64,
    pub(super) name: String,
    pub(super) phone: String,
    pub(super) email: String,
    pub(super) checked: bool,
    pub(super) member: bool,
}

pub(super) struct FormOption {
    pub(super) id: u64,
    pub(super) name: String,
    pub(super) selected: bool,
}

pub(super) struct HistoryRow {
    pub(super) at: String,
    pub(super) who: String,
    pub(super) what: String,
    pub(super) outcome: String,
}

#[derive(Template)]
#[template(path = "list.html")]
pub(super) struct ListPage<'a> {
    pub(super) t: &'a Texts,
    pub(super) m: &'a Manager,
    pub(super) notices: Vec<Notice>,
    pub(super) list_id: u64,
    pub(super) etype: &'static str,
    pub(super) kind: &'static str,
    pub(super) badge: &'static str,
    pub(super) size: usize,
    pub(super) current_form: String,
    pub(super) members: Vec<MemberRow>,
    pub(super) mpage: usize,
    pub(super) mpages: usize,
    pub(super) q: String,
    pub(super) searched: bool,
    pub(super) results: Vec<ResultRow>,
    pub(super) spage: u64,
    pub(super) s_has_next: bool,
    pub(super) match_label: String,
    pub(super) match_total: u64,
    pub(super) ids: String,
    pub(super) intent: &'static str,
    pub(super) form_choice: &'static str,
    pub(super) forms: Vec<FormOption>,
    pub(super) history: Vec<HistoryRow>,
}

pub(super) fn etype_code(e: EntityType) -> &'static str {
    match e {
        EntityType::Contact => "contact",
        EntityType::Company => "company",
    }
}

pub(super) fn parse_etype(fields: &Fields) -> EntityType {
    match fields.get("etype") {
        Some("company") => EntityType::Company,
        _ => EntityType::Contact,
    }
}

/// What the change form carried, parsed; bad IDs are named, not dropped.
pub(super) struct ChangeForm {
    pub(super) intent: &'static str,
    pub(super) ids: Vec<EntityId>,
    pub(super) bad: Vec<String>,
    pub(super) form: FormIntent,
    pub(super) form_choice: &'static str,
    pub(super) all_matching: bool,
    /// The count the search page showed, so reading every match can start with a batch.
    pub(super) match_total: Option<u64>,
    pub(super) q: String,
}

pub(super) fn split_ids(text: &str, into: &mut Vec<EntityId>, bad: &mut Vec<String>) {
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

pub(super) fn parse_change(fields: &Fields) -> ChangeForm {
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

pub(super) fn not_a_list(m: &Manager, e: &crate::domain::BadId) -> HttpResponse {
    problem(
        StatusCode::BAD_REQUEST,
        m.lang(),
        &m.framing(),
        &messages::bitrix_not_a_list(m.lang()),
        Some(e.to_string()),
    )
}

pub(super) async fn list_page(
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

pub(super) struct EditorInput {
    /// The list when the caller has just read it (after a save), so it is not read again.
    pub(super) view: Option<editor::ListView>,
    /// Contacts or companies already looked up; only the others shown are asked for.
    pub(super) known: HashMap<EntityId, CrmItem>,
    pub(super) change: Option<ChangeForm>,
    pub(super) mpage: usize,
    pub(super) searching: bool,
    pub(super) spage: u64,
    pub(super) notices: Vec<Notice>,
}

impl EditorInput {
    /// The list as it is, with these notices on top.
    pub(super) fn with_notices(notices: Vec<Notice>) -> EditorInput {
        EditorInput { view: None, known: HashMap::new(), change: None, mpage: 0, searching: false, spage: 0, notices }
    }

    /// The list with the manager's change form filled in again, and a notice saying what was wrong.
    pub(super) fn keeping(change: ChangeForm, notice: Notice) -> EditorInput {
        EditorInput { change: Some(change), ..EditorInput::with_notices(vec![notice]) }
    }
}

pub(super) async fn editor_page(state: &AppState, m: &Manager, id: ListId, input: EditorInput) -> HttpResponse {
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

pub(super) fn member_row(mem: &Member, item: Option<&CrmItem>, statuses: &[CallStatus], checked: bool) -> MemberRow {
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

pub(super) fn join_ids(ids: &[EntityId]) -> String {
    ids.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(", ")
}

pub(super) async fn history(state: &AppState, m: &Manager, id: ListId) -> Vec<HistoryRow> {
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

pub(super) fn show_form(v: &serde_json::Value) -> String {
    v.as_u64().map(|f| format!("#{f}")).unwrap_or_else(|| "—".into())
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
