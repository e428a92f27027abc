//! The app opened from the CRM for one contact or company: from a row's menu, a page to put it in one of
//! the call lists of its type (or a new one); from its card's tab, the call lists it is in, with its call
//! status in each, to take it out of one or put it in another. Either way the change goes through the
//! usual review and save: the manager's own token, the full membership, the form kept.

use super::list_view::created;
use super::words::{Words, words};
use super::*;
use crate::domain::{EntityId, PlacementKind};
use crate::web::error::Problem;

pub struct ListChoice {
    pub id: u64,
    pub created: String,
    pub form: String,
    /// The record's call status in this list, when it is a member.
    pub status: Option<String>,
}

#[derive(Template)]
#[template(path = "placement.html")]
pub struct PlacementPage<'a> {
    pub t: &'a Texts,
    pub w: &'a Words,
    pub m: &'a Manager,
    pub tab: bool,
    pub record_id: u64,
    pub record_name: String,
    pub etype: &'static str,
    pub kind: &'static str,
    /// Lists it is in (the card's tab only).
    pub member_of: Vec<ListChoice>,
    /// Lists it could go in.
    pub others: Vec<ListChoice>,
}

/// The screen for a record the app was opened for.
pub async fn record_page(
    state: &AppState,
    m: &Manager,
    kind: PlacementKind,
    entity: EntityType,
    id: EntityId,
    read: Option<editor::RecordLists>,
) -> Result<HttpResponse, PageError> {
    let (t, w) = (texts(m.lang()), words(m.lang()));
    let caller = m.caller(state);
    let found = match read {
        Some(r) => r,
        None => editor::record_lists(&caller, entity, id, 0).await?,
    };
    let Some(record) = found.record else {
        return Err(PageError::new(StatusCode::NOT_FOUND, Problem::NoSuchRecord(entity)));
    };
    let choice = |l: &crate::bitrix::methods::calllist::CallList, status: Option<String>| ListChoice {
        id: l.id.get(),
        created: created(&l.created_at),
        form: form_name(t, &found.forms, l.webform),
        status: status.map(|s| super::list_view::status_name(&found.statuses, &s)),
    };
    let tab = kind == PlacementKind::DetailTab;
    let (member_of, others) = if tab {
        let all = editor::memberships(&caller, &found.lists, id).await?;
        let (inside, outside): (Vec<_>, Vec<_>) = all.into_iter().partition(|(_, s)| s.is_some());
        (
            inside.into_iter().map(|(l, s)| choice(&l, s)).collect(),
            outside.into_iter().map(|(l, _)| choice(&l, None)).collect(),
        )
    } else {
        (Vec::new(), found.lists.iter().map(|l| choice(l, None)).collect())
    };
    let page = PlacementPage {
        t,
        w,
        m,
        tab,
        record_id: id.get(),
        record_name: record.name,
        etype: super::change_form::entity_code(entity),
        kind: type_name(t, entity),
        member_of,
        others,
    };
    super::page(m, &page)
}
