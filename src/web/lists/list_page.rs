//! `POST /lists/{id}`: one list, and whatever its form was sent for: a page of members, a search, a paste,
//! a CRM filter, a count, or the review of the change.

use super::change_form::{self, Go};
use super::list_view::{View, editor_page};
use super::*;
use crate::domain::ListId;

pub async fn list_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let (m, fields) = session(&state, &req, &body, false).await?;
    let id = path.parse::<ListId>()?;
    let form = change_form::parse(&fields);
    let entity = change_form::entity_type(&fields);
    let go = Go::parse(fields.get("go"));
    if go == Go::Review {
        return super::review::review(&state, &m, id, entity, form).await;
    }
    let mut view = View::of(form, go);
    if !view.form.bad.is_empty() {
        view.notices.push(Notice::error(messages::bad_ids(m.lang(), &view.form.bad)));
    }
    editor_page(&state, &m, id, entity, view).await
}
