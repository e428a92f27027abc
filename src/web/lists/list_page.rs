//! `POST /lists/{id}`: one list, a page of its members, a search, or the review of the change form.

use super::change_form;
use super::list_view::{EditorInput, editor_page};
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
    let change = change_form::parse(&fields);
    let go = fields.get("go").unwrap_or("view");
    if go == "review" {
        return super::review::review(&state, &m, id, change_form::entity_type(&fields), change).await;
    }
    let mpage_field = fields.get("mpage").and_then(|p| p.parse().ok()).unwrap_or(0);
    let (mpage, spage) = match go.split_once(':') {
        Some(("members", n)) => (n.parse().unwrap_or(0), 0),
        Some(("search", n)) => (mpage_field, n.parse().unwrap_or(0)),
        _ => (mpage_field, 0),
    };
    let searching = go.starts_with("search") || (!change.q.is_empty() && go != "view");
    let input = EditorInput { change: Some(change), mpage, searching, spage, ..EditorInput::default() };
    editor_page(&state, &m, id, input).await
}
