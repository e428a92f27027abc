//! Widgets: `placement.bind`, `placement.unbind`, `placement.get` (the official pages
//! `api-reference/widgets/placement-bind.md`, `placement-unbind.md`, `placement-get.md`, read with the rest
//! module's `Bitrix\Rest\Api\Placement` and `PlacementTable` where the pages are silent), and the placement
//! codes the CRM offers (`widgets/crm/list-menu.md`, `detail-tab.md`, `list-toolbar.md`).

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::call::{Cx, MethodResult, RestError, Success};
use super::model::{EntityKind, PlacementBinding, PlacementLang};
use super::params::{PArr, PValue};

/// Where a CRM widget sits: a row's context menu, a tab of the card, the list's toolbar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Widget {
    ListMenu,
    DetailTab,
    ListToolbar,
}

impl Widget {
    fn suffix(self) -> &'static str {
        match self {
            Widget::ListMenu => "_LIST_MENU",
            Widget::DetailTab => "_DETAIL_TAB",
            Widget::ListToolbar => "_LIST_TOOLBAR",
        }
    }

    /// The placement code of this widget for contacts or companies (`CRM_CONTACT_LIST_MENU`, …).
    pub fn code(self, kind: EntityKind) -> String {
        format!("CRM_{}{}", kind.name(), self.suffix())
    }
}

/// The objects each CRM widget family is offered for, as its page lists them.
const LIST_MENU: [&str; 7] = ["LEAD", "CONTACT", "COMPANY", "DEAL", "SMART_INVOICE", "QUOTE", "ACTIVITY"];
const DETAIL_TAB: [&str; 6] = ["LEAD", "DEAL", "CONTACT", "COMPANY", "QUOTE", "SMART_INVOICE"];
const LIST_TOOLBAR: [&str; 7] = ["LEAD", "CONTACT", "COMPANY", "DEAL", "INVOICE", "SMART_INVOICE", "QUOTE"];

/// What the portal knows of a placement code: the scope that offers it, how many handlers one app may bind
/// there (0 for any number) and whether a handler may be bound for one user.
struct Known {
    scope: &'static str,
    max_count: usize,
    user_mode: bool,
}

/// The placements the sandbox knows: the CRM widgets of the three pages, in scope `crm` (custom types as
/// `CRM_DYNAMIC_{id}_…`), and `REST_APP_URI` in scope `placement`, one per app.
fn known(code: &str) -> Option<Known> {
    if code == "REST_APP_URI" {
        return Some(Known { scope: "placement", max_count: 1, user_mode: false });
    }
    let crm = Known { scope: "crm", max_count: 0, user_mode: false };
    let rest = code.strip_prefix("CRM_")?;
    for (objects, widget) in
        [(&LIST_MENU[..], Widget::ListMenu), (&DETAIL_TAB, Widget::DetailTab), (&LIST_TOOLBAR, Widget::ListToolbar)]
    {
        let Some(object) = rest.strip_suffix(widget.suffix()) else { continue };
        let dynamic =
            object.strip_prefix("DYNAMIC_").is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()));
        if dynamic || objects.contains(&object) {
            return Some(crm);
        }
    }
    None
}

/// A contact or company widget's family and object, for the portal page.
pub fn crm_widget(code: &str) -> Option<(EntityKind, Widget)> {
    [EntityKind::Contact, EntityKind::Company]
        .into_iter()
        .flat_map(|k| [Widget::ListMenu, Widget::DetailTab, Widget::ListToolbar].map(|w| (k, w)))
        .find(|(k, w)| w.code(*k) == code)
}

/// The `PLACEMENT_OPTIONS` a widget's handler gets, as its page shows them: a list menu item the object's
/// `ID` (a string) and the `URI` of the list it was chosen in (`{"ID":"8061","URI":"/crm/deal/list/"}`), a
/// card's tab the object's `ID` (`{"ID":"7"}`), a toolbar item nothing (`None`: the key is not sent). The
/// `URI` is the list's path on the portal, without the sandbox's own query parameters.
pub fn widget_options(code: &str, entity_id: Option<u64>) -> Option<Value> {
    let object = code.strip_prefix("CRM_")?;
    if let Some(object) = object.strip_suffix(Widget::ListMenu.suffix()) {
        let list = object.to_lowercase().replace('_', "");
        return Some(json!({"ID": entity_id?.to_string(), "URI": format!("/crm/{list}/list/")}));
    }
    if object.ends_with(Widget::DetailTab.suffix()) {
        return Some(json!({"ID": entity_id?.to_string()}));
    }
    None
}

/// Whether a placement is one whose handler gets the ID of the object it was opened for.
pub fn needs_object(code: &str) -> bool {
    code.ends_with(Widget::ListMenu.suffix()) || code.ends_with(Widget::DetailTab.suffix())
}

fn argument(status: u16, name: &str, text: String) -> RestError {
    RestError::new(status, "ERROR_ARGUMENT", text).with("argument", json!(name))
}

fn null_or_empty(status: u16, name: &str) -> RestError {
    argument(status, name, format!("Argument '{name}' is null or empty"))
}

/// `checkPermission`: every placement method is for administrators (an `AccessException`).
fn administrators_only(cx: &Cx<'_>) -> Result<(), RestError> {
    if cx.st.user(cx.caller.user_id).is_some_and(|u| u.permissions.admin) {
        Ok(())
    } else {
        Err(RestError::new(403, "ACCESS_DENIED", "Access denied!"))
    }
}

fn trimmed(p: &PArr, key: &str) -> String {
    p.get(key).and_then(PValue::php_string).map(|s| s.trim().to_owned()).unwrap_or_default()
}

/// `LANG_ALL` when given (each language's three texts, trimmed, empty when missing; `TITLE` and the others
/// then ignored), else `TITLE`, `DESCRIPTION`, `GROUP_NAME` in the portal's language when not empty.
fn languages(p: &PArr, portal_lang: &str) -> BTreeMap<String, PlacementLang> {
    let mut out = BTreeMap::new();
    match p.get("LANG_ALL") {
        Some(PValue::Arr(all)) if !all.is_empty() => {
            for (lang, item) in all.iter() {
                let item = item.as_arr().cloned().unwrap_or_default();
                out.insert(
                    lang.clone(),
                    PlacementLang {
                        title: trimmed(&item, "TITLE"),
                        description: trimmed(&item, "DESCRIPTION"),
                        group_name: trimmed(&item, "GROUP_NAME"),
                    },
                );
            }
        }
        _ => {
            let texts = PlacementLang {
                title: trimmed(p, "TITLE"),
                description: trimmed(p, "DESCRIPTION"),
                group_name: trimmed(p, "GROUP_NAME"),
            };
            if texts != PlacementLang::default() {
                out.insert(portal_lang.to_owned(), texts);
            }
        }
    }
    out
}

/// placement-bind.md, in the source's order: administrators only; `PLACEMENT` (upper-cased; not `DEFAULT`)
/// and `HANDLER` required; the placement must be one the token's scopes offer; `USER_ID` only where a
/// widget has a user mode; at most `max_count` handlers of the app there; and the same handler twice is
/// refused by the table's uniqueness check.
pub fn bind(cx: &mut Cx<'_>, params: &PArr) -> MethodResult {
    administrators_only(cx)?;
    let status = cx.info.config.quirks.placement_bind_error_status;
    let p = params.upper_keys();
    let placement = p.get("PLACEMENT").and_then(PValue::php_string).unwrap_or_default().to_uppercase();
    if placement.is_empty() {
        return Err(null_or_empty(status, "PLACEMENT"));
    }
    if placement == "DEFAULT" {
        return Err(argument(status, "PLACEMENT", "Wrong value".into()));
    }
    let handler = p.get("HANDLER").and_then(PValue::php_string).unwrap_or_default();
    if handler.is_empty() {
        return Err(null_or_empty(status, "HANDLER"));
    }
    let offered = known(&placement).filter(|k| cx.caller.scope.iter().any(|s| s == k.scope));
    let Some(info) = offered else {
        return Err(RestError::new(400, "ERROR_PLACEMENT_NOT_FOUND", "Placement not found"));
    };
    let user_id = u64::try_from(p.get("USER_ID").map_or(0, PValue::php_int)).unwrap_or(0);
    if user_id > 0 && !info.user_mode {
        return Err(RestError::new(status, "ERROR_PLACEMENT_USER_MODE", "User mode is not available."));
    }
    let portal_lang = cx.info.config.lang.clone();
    let mut lang_all = languages(&p, &portal_lang);
    let app = &mut cx.st.app;
    if info.max_count > 0 && app.placements.iter().filter(|b| b.placement == placement).count() >= info.max_count {
        return Err(RestError::new(
            status,
            "ERROR_PLACEMENT_MAX_COUNT",
            format!("Placement max count: {}", info.max_count),
        ));
    }
    if app.placements.iter().any(|b| b.placement == placement && b.handler == handler) {
        return Err(RestError::new(400, "ERROR_CORE", "Unable to set placement handler: Handler already binded"));
    }
    // The row's own texts are those of the portal's language, else of the first language given.
    let merged = lang_all.get(&portal_lang).or_else(|| lang_all.values().next()).cloned().unwrap_or_default();
    if lang_all.is_empty() {
        // Without any text the portal titles the widget with the app's name.
        let name = PlacementLang { title: cx.info.config.app_name.clone(), ..PlacementLang::default() };
        lang_all.insert(portal_lang, name);
    }
    // The portal keeps only the `OPTIONS` a placement declares, and these declare none.
    let options = Map::new();
    app.placement_seq += 1;
    app.placements.push(PlacementBinding {
        id: app.placement_seq,
        placement,
        handler,
        title: merged.title,
        description: merged.description,
        group_name: merged.group_name,
        lang_all,
        user_id,
        options,
    });
    Ok(Success::of(json!(true)))
}

/// placement-unbind.md: administrators only; `PLACEMENT` must be a string (a missing one is not), not empty;
/// every handler of the app there, or only `HANDLER` when given, or only `USER_ID`'s when the key is present.
/// `count` grows by one for each handler found and one more for each removed; an unknown placement
/// removes nothing.
pub fn unbind(cx: &mut Cx<'_>, params: &PArr) -> MethodResult {
    administrators_only(cx)?;
    let p = params.upper_keys();
    let placement = match p.get("PLACEMENT") {
        Some(PValue::Str(s)) => s.to_uppercase(),
        _ => {
            let text = "The value of an argument 'PLACEMENT' must be of type string".to_owned();
            return Err(argument(400, "PLACEMENT", text));
        }
    };
    if placement.is_empty() {
        return Err(null_or_empty(400, "PLACEMENT"));
    }
    let handler = p.get("HANDLER").and_then(PValue::php_string).unwrap_or_default();
    let user =
        p.contains_key("USER_ID").then(|| u64::try_from(p.get("USER_ID").map_or(0, PValue::php_int)).unwrap_or(0));
    let mut count = 0;
    if known(&placement).is_some() {
        let before = cx.st.app.placements.len();
        cx.st.app.placements.retain(|b| {
            let hit = b.placement == placement
                && (handler.is_empty() || b.handler == handler)
                && user.is_none_or(|u| b.user_id == u);
            !hit
        });
        count = 2 * (before - cx.st.app.placements.len());
    }
    Ok(Success::of(json!({ "count": count })))
}

/// placement-get.md: the app's handlers in the order bound, as the page's example writes them.
pub fn get(cx: &mut Cx<'_>) -> MethodResult {
    administrators_only(cx)?;
    let rows: Vec<Value> = cx
        .st
        .app
        .placements
        .iter()
        .map(|b| {
            // An empty options array is written as PHP writes an empty array, `[]`.
            let options = if b.options.is_empty() { json!([]) } else { Value::Object(b.options.clone()) };
            json!({
                "placement": b.placement,
                "userId": b.user_id,
                "handler": b.handler,
                "options": options,
                "title": b.title,
                "description": b.description,
                "langAll": b.lang_all,
            })
        })
        .collect();
    Ok(Success::of(Value::Array(rows)))
}
