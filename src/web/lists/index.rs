//! The portal's call lists, a page at a time.

use super::*;

pub struct Row {
    pub id: u64,
    pub kind: &'static str,
    pub badge: &'static str,
    pub size: String,
    pub form: String,
    pub created: String,
}

#[derive(Template)]
#[template(path = "lists.html")]
pub struct ListsPage<'a> {
    pub t: &'a Texts,
    pub m: &'a Manager,
    pub notice: Option<Notice>,
    pub rows: Vec<Row>,
    pub page: u64,
    pub has_next: bool,
    pub reauth_url: Option<String>,
}

pub async fn lists_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let (m, fields) = session(&state, &req, &body, false).await?;
    let page = fields.get("page").and_then(|p| p.parse().ok()).unwrap_or(0).min(10_000);
    index(&state, &m, page, None).await
}

/// The portal's call lists, a page at a time.
pub async fn index(
    state: &AppState,
    m: &Manager,
    page: u64,
    notice: Option<Notice>,
) -> Result<HttpResponse, PageError> {
    let t = texts(m.lang());
    let overview = editor::overview(&m.caller(state), page, |id| state.list_sizes.get(&m.portal.member_id, id)).await?;
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
            badge: badge(s.list.entity_type),
            size: if s.more { format!("{}+", s.size) } else { s.size.to_string() },
            form: form_name(t, &overview.forms, s.list.webform),
            created: s.list.created_at.clone(),
        })
        .collect();
    let reauth_url = (m.session.is_admin && m.portal.status == crate::domain::PortalStatus::NeedsReauthorisation)
        .then(|| format!("/oauth/start?portal={}&lang={}", m.portal.member_id, m.lang()));
    super::page(m, &ListsPage { t, m, notice, rows, page: overview.page, has_next: overview.has_next, reauth_url })
}
