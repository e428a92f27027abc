//! A new call list.

use super::change_form::{self, entity_code};
use super::list_view::{EditorInput, FormOption, editor_page};
use super::review::save_error_notice;
use super::*;
use crate::domain::EntityType;

#[derive(Template)]
#[template(path = "new_list.html")]
pub struct NewListPage<'a> {
    pub t: &'a Texts,
    pub m: &'a Manager,
    pub notices: Vec<Notice>,
    pub etype: &'static str,
    pub ids: String,
    pub forms: Vec<FormOption>,
}

pub async fn new_list(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let (m, _) = session(&state, &req, &body, false).await?;
    new_list_page(&state, &m, EntityType::Contact, String::new(), vec![]).await
}

async fn new_list_page(
    state: &AppState,
    m: &Manager,
    entity: EntityType,
    ids: String,
    notices: Vec<Notice>,
) -> Result<HttpResponse, PageError> {
    let t = texts(m.lang());
    let forms = m.caller(state).webforms(false).await?;
    let forms = forms.iter().map(|f| FormOption { id: f.id.get(), name: f.name.clone(), selected: false }).collect();
    super::page(m, &NewListPage { t, m, notices, etype: entity_code(entity), ids, forms })
}

/// `POST /lists/create`: creates the list with its first members, leaving out those the manager cannot see.
pub async fn create(state: web::Data<AppState>, req: HttpRequest, body: web::Bytes) -> Result<HttpResponse, PageError> {
    let (m, fields) = session(&state, &req, &body, true).await?;
    let lang = m.lang();
    let entity = change_form::entity_type(&fields);
    let raw_ids = fields.get("ids").unwrap_or_default().to_owned();
    let (ids, bad) = change_form::ids_field(&fields);
    let problem = match (bad.is_empty(), ids.is_empty()) {
        (false, _) => Some(Notice::error(messages::bad_ids(lang, &bad))),
        (true, true) => Some(Notice::warning(messages::no_selection(lang))),
        (true, false) => None,
    };
    if let Some(n) = problem {
        return new_list_page(&state, &m, entity, raw_ids, vec![n]).await;
    }
    let webform = fields.get("webform").and_then(|w| w.parse::<WebformId>().ok());
    let (list, skipped) = match editor::create_list(&m.caller(&state), entity, &ids, webform).await {
        Ok(v) => v,
        Err(e) => return new_list_page(&state, &m, entity, raw_ids, vec![save_error_notice(lang, &e)]).await,
    };
    let added = ids.iter().copied().filter(|i| !skipped.contains(i)).collect();
    record(&state, &m, &editor::create_entry(&author(&m), list, added, webform)).await;
    let mut notices = vec![Notice::success(messages::created(lang, list.get()))];
    if !skipped.is_empty() {
        notices.push(Notice::warning(messages::skipped(lang, entity, &skipped)));
    }
    editor_page(&state, &m, list, EditorInput::with_notices(notices)).await
}
