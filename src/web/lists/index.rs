//! The portal's call lists, a page at a time.

use super::*;

pub(super) struct Row {
    pub(super) id: u64,
    pub(super) kind: &'static str,
    pub(super) badge: &'static str,
    pub(super) size: String,
    pub(super) form: String,
    pub(super) created: String,
}

#[derive(Template)]
#[template(path = "lists.html")]
pub(super) struct ListsPage<'a> {
    pub(super) t: &'a Texts,
    pub(super) m: &'a Manager,
    pub(super) notice: Option<Notice>,
    pub(super) rows: Vec<Row>,
    pub(super) page: u64,
    pub(super) has_next: bool,
    pub(super) reauth_url: Option<String>,
}

pub(super) async fn lists_page(state: web::Data<AppState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let (m, fields) = match session(&state, &req, &body, false).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let page = fields.get("page").and_then(|p| p.parse().ok()).unwrap_or(0).min(10_000);
    index(&state, &m, page, None).await
}

/// The portal's call lists, a page at a time.
pub async fn index(state: &AppState, m: &Manager, page: u64, notice: Option<Notice>) -> HttpResponse {
    let t = texts(m.lang());
    let caller = m.caller(state);
    let overview = match editor::overview(&caller, page, |id| state.list_sizes.get(&m.portal.member_id, id)).await {
        Ok(o) => o,
        Err(e) => return bitrix_failure(state, m, &e),
    };
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
            badge: match s.list.entity_type {
                EntityType::Contact => "badge-contact",
                EntityType::Company => "badge-company",
            },
            size: if s.more { format!("{}+", s.size) } else { s.size.to_string() },
            form: form_name(t, &overview.forms, s.list.webform),
            created: s.list.created_at.clone(),
        })
        .collect();
    let reauth_url = (m.session.is_admin && m.portal.status == crate::domain::PortalStatus::NeedsReauthorisation)
        .then(|| format!("/oauth/start?portal={}&lang={}", m.portal.member_id, m.lang()));
    render(
        StatusCode::OK,
        &m.framing(),
        &ListsPage { t, m, notice, rows, page: overview.page, has_next: overview.has_next, reauth_url },
    )
}
