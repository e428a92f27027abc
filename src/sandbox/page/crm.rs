//! The CRM's contact and company lists and cards, with the widgets the app bound there
//! (`api-reference/widgets/crm/list-menu.md`, `detail-tab.md`, `list-toolbar.md`): each row's menu offers the
//! `CRM_{TYPE}_LIST_MENU` items, the list's toolbar the `CRM_{TYPE}_LIST_TOOLBAR` ones, the card its
//! `CRM_{TYPE}_DETAIL_TAB` tabs. Choosing one opens its handler in a frame, by the form the app's own page
//! uses, with the placement's code and context. Widgets show only once the install has finished.

use actix_web::{HttpRequest, HttpResponse, web};

use super::{Layout, Texts, Viewer, render, texts};
use crate::sandbox::lifecycle::{self, LaunchForm};
use crate::sandbox::model::{EntityKind, PlacementBinding};
use crate::sandbox::placements::Widget;
use crate::sandbox::{Inner, Shared};

/// Rows a list shows (the portal's lists page by 50 too).
const ROWS: usize = 50;

/// A widget as the page offers it: its title in the viewer's language and where choosing it leads.
pub struct WidgetLink {
    pub id: u64,
    pub placement: String,
    pub title: String,
    pub href: String,
    /// The widget is the one open now.
    pub active: bool,
}

pub struct CrmRow {
    pub id: u64,
    pub title: String,
    pub desc: String,
    /// The row's card.
    pub card: String,
    /// The row's context menu: the bound list menu items.
    pub menu: Vec<WidgetLink>,
}

pub struct CrmList {
    /// `contact` or `company`.
    pub kind: &'static str,
    pub toolbar: Vec<WidgetLink>,
    pub rows: Vec<CrmRow>,
}

pub struct CrmCard {
    pub kind: &'static str,
    pub id: u64,
    /// Label and value of each field shown on the general tab.
    pub fields: Vec<(String, String)>,
    /// The general tab's address, and whether it is the one shown.
    pub general: String,
    pub general_active: bool,
    pub tabs: Vec<WidgetLink>,
    /// The viewer may not see this contact or company (or it does not exist).
    pub denied: bool,
}

fn kind_of(path: &str) -> Option<(EntityKind, &'static str)> {
    match path {
        "contact" => Some((EntityKind::Contact, "contact")),
        "company" => Some((EntityKind::Company, "company")),
        _ => None,
    }
}

/// The widgets bound at a placement, in the order bound, once the install has finished.
fn bound(inner: &Inner, code: &str) -> Vec<PlacementBinding> {
    let st = inner.lock();
    if !(st.app.present && st.app.installed) {
        return Vec::new();
    }
    st.app.placements.iter().filter(|b| b.placement == code).cloned().collect()
}

fn link(inner: &Inner, viewer: &Viewer, b: &PlacementBinding, href: String, open: Option<u64>) -> WidgetLink {
    let config = &inner.info.config;
    WidgetLink {
        id: b.id,
        placement: b.placement.clone(),
        title: b.title_for(&viewer.lang, &config.lang, &config.app_name),
        href,
        active: open == Some(b.id),
    }
}

/// The frame of the widget `?open=` or `?tab=` names, or why it does not open.
fn open_widget(inner: &Inner, viewer: &Viewer, key: &str, entity: Option<u64>) -> Option<Result<LaunchForm, String>> {
    let binding = viewer.number(key)?;
    Some(lifecycle::widget_form(inner, viewer.user.id, Some(&viewer.lang), binding, entity).map_err(|e| e.to_string()))
}

fn heading(t: &Texts, kind: EntityKind) -> String {
    match kind {
        EntityKind::Contact => t.contacts.to_owned(),
        EntityKind::Company => t.companies.to_owned(),
    }
}

/// `/crm/{contact|company}/list/`: the first rows the viewer may read, each with its menu, and the toolbar;
/// `?open={binding}&id={row}` opens a menu item for a row, `?open={binding}` a toolbar item.
pub async fn list_page(req: HttpRequest, path: web::Path<String>, shared: Shared) -> HttpResponse {
    let inner = shared.get_ref();
    let (Some((kind, name)), Some(viewer)) = (kind_of(&path), Viewer::of(&req, inner)) else {
        return HttpResponse::NotFound().content_type("text/html").body("<h1>404 Not Found</h1>");
    };
    let t = texts(&viewer.lang);
    let base = format!("{}crm/{name}/list/?user={}&lang={}", inner.info.base_path, viewer.user.id, viewer.lang);
    let open = viewer.number("open");
    let menu = bound(inner, &Widget::ListMenu.code(kind));
    let toolbar = bound(inner, &Widget::ListToolbar.code(kind));
    let rows: Vec<CrmRow> = {
        let st = inner.lock();
        let perm = &viewer.user.permissions;
        let row = |id: u64, title: String, desc: String| CrmRow {
            id,
            title,
            desc,
            card: format!(
                "{}crm/{name}/details/{id}/?user={}&lang={}",
                inner.info.base_path, viewer.user.id, viewer.lang
            ),
            menu: menu.iter().map(|b| link(inner, &viewer, b, format!("{base}&open={}&id={id}", b.id), None)).collect(),
        };
        match kind {
            EntityKind::Contact => st
                .contacts
                .values()
                .filter(|c| perm.can_read(viewer.user.id, kind, c.id, c.assigned_by_id))
                .take(ROWS)
                .map(|c| row(c.id, format!("{} {}", c.name, c.last_name).trim().to_owned(), c.post.clone()))
                .collect(),
            EntityKind::Company => st
                .companies
                .values()
                .filter(|c| perm.can_read(viewer.user.id, kind, c.id, c.assigned_by_id))
                .take(ROWS)
                .map(|c| row(c.id, c.title.clone(), c.phones.join(", ")))
                .collect(),
        }
    };
    let widget = open_widget(inner, &viewer, "open", viewer.number("id"));
    let toolbar = toolbar.iter().map(|b| link(inner, &viewer, b, format!("{base}&open={}", b.id), open)).collect();
    let layout = Layout { inner, viewer: &viewer, t: &t };
    let mut page = layout.page(name, heading(&t, kind), widget.as_ref().and_then(|w| w.as_ref().ok()));
    page.not_installed = widget.as_ref().and_then(|w| w.as_ref().err()).cloned();
    page.list = Some(CrmList { kind: name, toolbar, rows });
    render(page)
}

/// `/crm/{contact|company}/details/{id}/`: the card's general tab and the bound tabs; `?tab={binding}` opens
/// one.
pub async fn card_page(req: HttpRequest, path: web::Path<(String, u64)>, shared: Shared) -> HttpResponse {
    let inner = shared.get_ref();
    let (kind_name, id) = path.into_inner();
    let (Some((kind, name)), Some(viewer)) = (kind_of(&kind_name), Viewer::of(&req, inner)) else {
        return HttpResponse::NotFound().content_type("text/html").body("<h1>404 Not Found</h1>");
    };
    let t = texts(&viewer.lang);
    let general =
        format!("{}crm/{name}/details/{id}/?user={}&lang={}", inner.info.base_path, viewer.user.id, viewer.lang);
    let (title, fields, denied) = {
        let st = inner.lock();
        let readable = st.can_read(viewer.user.id, &viewer.user.permissions, kind, id);
        let joined = |v: &[String]| v.join(", ");
        match (kind, readable) {
            (EntityKind::Contact, true) => {
                let c = &st.contacts[&id];
                let fields = vec![
                    (t.post.to_owned(), c.post.clone()),
                    (t.phones.to_owned(), joined(&c.phones)),
                    (t.emails.to_owned(), joined(&c.emails)),
                ];
                (format!("{} {}", c.name, c.last_name).trim().to_owned(), fields, false)
            }
            (EntityKind::Company, true) => {
                let c = &st.companies[&id];
                let fields = vec![(t.phones.to_owned(), joined(&c.phones)), (t.emails.to_owned(), joined(&c.emails))];
                (c.title.clone(), fields, false)
            }
            (_, false) => (heading(&t, kind), Vec::new(), true),
        }
    };
    let open = viewer.number("tab");
    let tabs = if denied { Vec::new() } else { bound(inner, &Widget::DetailTab.code(kind)) };
    let tabs: Vec<WidgetLink> =
        tabs.iter().map(|b| link(inner, &viewer, b, format!("{general}&tab={}", b.id), open)).collect();
    let widget = if denied { None } else { open_widget(inner, &viewer, "tab", Some(id)) };
    let layout = Layout { inner, viewer: &viewer, t: &t };
    let mut page = layout.page(name, title, widget.as_ref().and_then(|w| w.as_ref().ok()));
    page.not_installed = widget.as_ref().and_then(|w| w.as_ref().err()).cloned();
    page.card = Some(CrmCard { kind: name, id, fields, general, general_active: open.is_none(), tabs, denied });
    render(page)
}
