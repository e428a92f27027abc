//! The portal's call lists, a page at a time, each with how many members the viewer can see (counted
//! from their own reads, never another user's) and their call progress once counted.

use super::list_view::{Progress, created, progress};
use super::words::{self, Words, words};
use super::*;
use crate::editor::{Overview, Visible};

/// Lists counted in one go when the overview asks: each costs a request or so per 2,500 members.
const COUNT_AT_ONCE: usize = 5;

pub struct Row {
    pub id: u64,
    pub etype: &'static str,
    pub kind: &'static str,
    pub badge: &'static str,
    pub size: String,
    /// Why the size is what it is: its age, or that the viewer may not read such records.
    pub size_note: String,
    pub no_access: bool,
    /// Only the first page was read: a count is worth offering.
    pub uncounted: bool,
    pub progress: Option<Progress>,
    pub form: String,
    pub created: String,
    pub created_by: String,
}

#[derive(Template)]
#[template(path = "lists.html")]
pub struct ListsPage<'a> {
    pub t: &'a Texts,
    pub w: &'a Words,
    pub m: &'a Manager,
    pub notice: Option<Notice>,
    pub rows: Vec<Row>,
    pub page: u64,
    pub has_next: bool,
    pub reauth_url: Option<String>,
    /// Some lists are not counted yet: the page asks for their counts after it is shown.
    pub count_pending: bool,
    /// For an administrator: why the app could not add itself to the CRM's lists and cards.
    pub placements_refused: Option<String>,
}

pub async fn lists_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let (m, fields) = session(&state, &req, &body, false).await?;
    let page = fields.get("page").and_then(|p| p.parse().ok()).unwrap_or(0).min(10_000);
    let count = fields.get("count") == Some("1");
    render_index(&state, &m, page, None, count).await
}

/// The portal's call lists, a page at a time.
pub async fn index(
    state: &AppState,
    m: &Manager,
    page: u64,
    notice: Option<Notice>,
) -> Result<HttpResponse, PageError> {
    render_index(state, m, page, notice, false).await
}

async fn render_index(
    state: &AppState,
    m: &Manager,
    page: u64,
    notice: Option<Notice>,
    count: bool,
) -> Result<HttpResponse, PageError> {
    let lang = m.lang();
    let (t, w) = (texts(lang), words(lang));
    let caller = m.caller(state);
    let overview = editor::overview(&caller, page).await?;
    if count {
        count_uncounted(state, m, &overview).await?;
    }
    let now = chrono::Utc::now().timestamp();
    let rows: Vec<Row> = overview
        .lists
        .iter()
        .map(|s| {
            let counted = state.reads.count(&m.session.id, s.list.id);
            let readable = overview.readable.reads(s.list.entity_type);
            let (size, size_note, uncounted) = match (&counted, s.visible) {
                (_, Visible::None) if !readable => (w.no_access.to_owned(), w.no_access_hint.to_owned(), false),
                (Some(c), _) => (words::number(lang, c.total), words::age(lang, now - c.at), false),
                (None, Visible::AtLeast(n)) => (words::at_least(lang, n), w.not_counted.to_owned(), true),
                (None, Visible::Exactly(n)) => (words::number(lang, n), String::new(), false),
                (None, Visible::None) => ("0".to_owned(), String::new(), false),
            };
            Row {
                id: s.list.id.get(),
                etype: super::change_form::entity_code(s.list.entity_type),
                kind: type_name(t, s.list.entity_type),
                badge: badge(s.list.entity_type),
                no_access: !readable && s.visible == Visible::None,
                size,
                size_note,
                uncounted,
                progress: counted.as_deref().filter(|c| c.total > 0).map(|c| progress(lang, w, &[], c)),
                form: form_name(t, &overview.forms, s.list.webform),
                created: created(&s.list.created_at),
                created_by: s.list.created_by.and_then(|u| overview.creators.get(&u).cloned()).unwrap_or_default(),
            }
        })
        .collect();
    let reauth_url = (m.session.is_admin && m.portal.status == crate::domain::PortalStatus::NeedsReauthorisation)
        .then(|| format!("/oauth/start?portal={}&lang={}", m.portal.member_id, m.lang()));
    let count_pending = !count && rows.iter().any(|r| r.uncounted);
    let placements_refused = match m.session.is_admin {
        true => state.portals.placements_refused(&m.portal).await.map(|code| words::placements_refused(lang, &code)),
        false => None,
    };
    let page = ListsPage {
        t,
        w,
        m,
        notice,
        rows,
        page: overview.page,
        has_next: overview.has_next,
        reauth_url,
        count_pending,
        placements_refused,
    };
    super::page(m, &page)
}

/// Counts the lists of the overview that only their first page was read of, a few at a time.
async fn count_uncounted(state: &AppState, m: &Manager, overview: &Overview) -> Result<(), PageError> {
    let caller = m.caller(state);
    let pending = overview
        .lists
        .iter()
        .filter(|s| matches!(s.visible, Visible::AtLeast(_)))
        .filter(|s| state.reads.count(&m.session.id, s.list.id).is_none())
        .take(COUNT_AT_ONCE);
    for s in pending {
        let tally = editor::tally(&caller, s.list.id, &[], None).await?;
        state.reads.keep_count(&m.session.id, s.list.id, &tally);
    }
    Ok(())
}
