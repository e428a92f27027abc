//! A new call list.

use super::*;

#[derive(Template)]
#[template(path = "new_list.html")]
pub(super) struct NewListPage<'a> {
    pub(super) t: &'a Texts,
    pub(super) m: &'a Manager,
    pub(super) notices: Vec<Notice>,
    pub(super) etype: &'static str,
    pub(super) ids: String,
    pub(super) forms: Vec<FormOption>,
}

pub(super) async fn new_list(state: web::Data<AppState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let (m, _) = match session(&state, &req, &body, false).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    new_list_page(&state, &m, "contact", String::new(), vec![]).await
}

pub(super) async fn new_list_page(
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

pub(super) async fn create(state: web::Data<AppState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
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
