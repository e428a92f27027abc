//! A new call list: its type, its first members (by name, as on a list's page) and its form, reviewed
//! before it is created.

use super::change_form::{self, entity_code};
use super::list_view::{Chip, FormOption, View, editor_page};
use super::words::{Words, words};
use super::*;
use crate::domain::{EntityId, EntityType};
use crate::editor::{FormIntent, Lookup};

#[derive(Template)]
#[template(path = "new_list.html")]
pub struct NewListPage<'a> {
    pub t: &'a Texts,
    pub w: &'a Words,
    pub m: &'a Manager,
    pub notices: Vec<Notice>,
    pub etype: &'static str,
    pub q: String,
    pub chosen: Vec<Chip>,
    pub results: Option<Vec<Chip>>,
    pub forms: Vec<FormOption>,
    /// The review: shown when the manager asked for it and the selection holds someone.
    pub reviewing: bool,
}

pub async fn new_list(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let (m, fields) = session(&state, &req, &body, false).await?;
    let mut notices = Vec::new();
    let reviewing = fields.get("go") == Some("review");
    let form = change_form::parse(&fields);
    if !form.bad.is_empty() {
        notices.push(Notice::error(messages::bad_ids(m.lang(), &form.bad)));
    }
    if reviewing && form.add.is_empty() {
        notices.push(Notice::warning(messages::choose_first_members(m.lang())));
    }
    let entity = change_form::entity_type(&fields);
    new_list_page(&state, &m, entity, &form, notices, reviewing && !form.add.is_empty()).await
}

async fn new_list_page(
    state: &AppState,
    m: &Manager,
    entity: EntityType,
    form: &change_form::ChangeForm,
    notices: Vec<Notice>,
    reviewing: bool,
) -> Result<HttpResponse, PageError> {
    let (t, w) = (texts(m.lang()), words(m.lang()));
    let caller = m.caller(state);
    let forms = caller.webforms(false).await?;
    let matches = (!form.q.trim().is_empty()).then(|| (crate::bitrix::methods::crm::search_filter(entity, &form.q), 0));
    let found = editor::lookup(&caller, entity, Lookup { matches, names: form.add.clone() }).await?;
    let chip = |id: &EntityId| Chip {
        id: id.get(),
        name: found.names.get(id).map(|i| i.name.clone()).unwrap_or_else(|| format!("#{id}")),
    };
    let chosen = form.add.iter().filter(|i| found.names.contains_key(i)).map(chip).collect();
    let results =
        found.matches.map(|p| p.items.iter().map(|i| Chip { id: i.id.get(), name: i.name.clone() }).collect());
    let forms = forms
        .iter()
        .map(|f| FormOption {
            value: f.id.to_string(),
            name: f.name.clone(),
            selected: form.form == FormIntent::Set(f.id),
        })
        .collect();
    let page = NewListPage {
        t,
        w,
        m,
        notices,
        etype: entity_code(entity),
        q: form.q.clone(),
        chosen,
        results,
        forms,
        reviewing,
    };
    super::page(m, &page)
}

/// `POST /lists/create`: creates the list with its first members, leaving out those the manager cannot see.
pub async fn create(state: web::Data<AppState>, req: HttpRequest, body: web::Bytes) -> Result<HttpResponse, PageError> {
    let (m, fields) = session(&state, &req, &body, true).await?;
    let lang = m.lang();
    let entity = change_form::entity_type(&fields);
    let form = change_form::parse(&fields);
    if !form.bad.is_empty() || form.add.is_empty() {
        let n = match form.bad.is_empty() {
            false => Notice::error(messages::bad_ids(lang, &form.bad)),
            true => Notice::warning(messages::choose_first_members(lang)),
        };
        return new_list_page(&state, &m, entity, &form, vec![n], false).await;
    }
    let webform = match form.form {
        FormIntent::Set(f) => Some(f),
        _ => None,
    };
    let (list, skipped) = match editor::create_list(&m.caller(&state), entity, &form.add, webform).await {
        Ok(v) => v,
        Err(e) => {
            let n = super::review::save_error_notice(lang, entity, &e);
            return new_list_page(&state, &m, entity, &form, vec![n], false).await;
        }
    };
    let added = form.add.iter().copied().filter(|i| !skipped.contains(i)).collect();
    record(&state, &m, &editor::create_entry(&author(&m), list, added, webform)).await;
    let mut notices = vec![Notice::success(messages::created(lang, list.get()))];
    if !skipped.is_empty() {
        notices.push(Notice::warning(messages::skipped(lang, entity, &skipped)));
    }
    editor_page(&state, &m, list, entity, View::notices(notices)).await
}
