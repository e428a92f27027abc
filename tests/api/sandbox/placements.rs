//! Widgets: `placement.bind`, `placement.unbind`, `placement.get` and the CRM widgets on the portal page. The
//! official pages `api-reference/widgets/placement-bind.md`, `placement-unbind.md`, `placement-get.md`,
//! `widgets/crm/list-menu.md`, `detail-tab.md`, `list-toolbar.md` and `widgets/_includes/widget_data.md`
//! (`bitrix24/b24restdocs`), read with the rest module's `Placement` API where they are silent.

use b24_calllist::sandbox::{Quirks, SandboxConfig};
use serde_json::{Value, json};

use super::lifecycle::Recorder;
use super::*;

const MENU: &str = "CRM_CONTACT_LIST_MENU";
const HANDLER: &str = "http://127.0.0.1:9/widgets/menu";

async fn bind(p: &TestPortal, token: &str, body: Value) -> Reply {
    p.json("placement.bind", token, body).await
}

/// placement-bind.md, placement-get.md: a bound handler is listed as the example writes it; `TITLE` alone is
/// kept in the portal's language; `LANG_ALL` keeps each language's three texts.
#[tokio::test]
async fn bind_then_get_lists_the_apps_handlers() {
    let p = start().await;
    let admin = p.token(ADMIN);
    let r =
        bind(&p, &admin, json!({"PLACEMENT": "crm_contact_list_menu", "HANDLER": HANDLER, "TITLE": " Обзвон "})).await;
    assert_eq!(r.assert_ok(), &json!(true));
    let langs = json!({"en": {"TITLE": "Call list"}, "ru": {"TITLE": "Обзвон", "GROUP_NAME": "Звонки"}});
    let r = bind(
        &p,
        &admin,
        json!({"PLACEMENT": "CRM_CONTACT_DETAIL_TAB", "HANDLER": HANDLER, "TITLE": "ignored", "LANG_ALL": langs}),
    )
    .await;
    r.assert_ok();
    let got = p.json("placement.get", &admin, json!({})).await;
    assert_eq!(
        got.assert_ok(),
        &json!([
            {"placement": MENU, "userId": 0, "handler": HANDLER, "options": [], "title": "Обзвон", "description": "",
             "langAll": {"ru": {"TITLE": "Обзвон", "DESCRIPTION": "", "GROUP_NAME": ""}}},
            {"placement": "CRM_CONTACT_DETAIL_TAB", "userId": 0, "handler": HANDLER, "options": [], "title": "Обзвон",
             "description": "",
             "langAll": {"en": {"TITLE": "Call list", "DESCRIPTION": "", "GROUP_NAME": ""},
                         "ru": {"TITLE": "Обзвон", "DESCRIPTION": "", "GROUP_NAME": "Звонки"}}},
        ])
    );
}

/// placement-unbind.md: `count` grows by two for each handler removed (found, then deleted); without
/// `HANDLER` every handler of the placement goes; an unknown placement removes nothing.
#[tokio::test]
async fn unbind_removes_one_handler_or_all_and_counts_them() {
    let p = start().await;
    let admin = p.token(ADMIN);
    for h in ["http://127.0.0.1:9/a", "http://127.0.0.1:9/b", "http://127.0.0.1:9/c"] {
        bind(&p, &admin, json!({"PLACEMENT": MENU, "HANDLER": h})).await.assert_ok();
    }
    let r = p.json("placement.unbind", &admin, json!({"PLACEMENT": MENU, "HANDLER": "http://127.0.0.1:9/b"})).await;
    assert_eq!(r.assert_ok(), &json!({"count": 2}));
    let r = p.json("placement.unbind", &admin, json!({"PLACEMENT": "CRM_NOTHING_LIST_MENU"})).await;
    assert_eq!(r.assert_ok(), &json!({"count": 0}));
    let r = p.json("placement.unbind", &admin, json!({"PLACEMENT": "crm_contact_list_menu"})).await;
    assert_eq!(r.assert_ok(), &json!({"count": 4}));
    assert_eq!(p.json("placement.get", &admin, json!({})).await.assert_ok(), &json!([]));
}

/// placement-bind.md "Possible Error Codes", in the source's order: `ERROR_ARGUMENT` (with `argument`) for a
/// missing `PLACEMENT` or `HANDLER` and for `DEFAULT`, an unknown placement, a second binding of the same
/// handler, `USER_ID` for a widget without a user mode, a second `REST_APP_URI` handler (one per app).
#[tokio::test]
async fn bind_answers_the_documented_errors() {
    let p = start().await;
    let admin = p.token(ADMIN);
    let r = bind(&p, &admin, json!({"HANDLER": HANDLER})).await;
    r.assert_error(400, "ERROR_ARGUMENT", "Argument 'PLACEMENT' is null or empty");
    assert_eq!(r.body["argument"], json!("PLACEMENT"));
    let r = bind(&p, &admin, json!({"PLACEMENT": MENU})).await;
    r.assert_error(400, "ERROR_ARGUMENT", "Argument 'HANDLER' is null or empty");
    assert_eq!(r.body["argument"], json!("HANDLER"));
    let r = bind(&p, &admin, json!({"PLACEMENT": "default", "HANDLER": HANDLER})).await;
    r.assert_error(400, "ERROR_ARGUMENT", "Wrong value");
    bind(&p, &admin, json!({"PLACEMENT": "CRM_NOWHERE", "HANDLER": HANDLER})).await.assert_error(
        400,
        "ERROR_PLACEMENT_NOT_FOUND",
        "Placement not found",
    );
    bind(&p, &admin, json!({"PLACEMENT": MENU, "HANDLER": HANDLER})).await.assert_ok();
    bind(&p, &admin, json!({"PLACEMENT": MENU, "HANDLER": HANDLER, "TITLE": "again"})).await.assert_error(
        400,
        "ERROR_CORE",
        "Unable to set placement handler: Handler already binded",
    );
    bind(&p, &admin, json!({"PLACEMENT": MENU, "HANDLER": "http://127.0.0.1:9/other", "USER_ID": 2}))
        .await
        .assert_error(400, "ERROR_PLACEMENT_USER_MODE", "User mode is not available.");
    bind(&p, &admin, json!({"PLACEMENT": "REST_APP_URI", "HANDLER": "http://127.0.0.1:9/one"})).await.assert_ok();
    bind(&p, &admin, json!({"PLACEMENT": "REST_APP_URI", "HANDLER": "http://127.0.0.1:9/two"})).await.assert_error(
        400,
        "ERROR_PLACEMENT_MAX_COUNT",
        "Placement max count: 1",
    );
    // The CRM codes of custom types are known too.
    bind(&p, &admin, json!({"PLACEMENT": "CRM_DYNAMIC_183_DETAIL_TAB", "HANDLER": HANDLER})).await.assert_ok();
}

/// placement-bind.md: the page's table gives these errors status 200; `quirks.placement_bind_error_status`
/// switches to it from the source's 400.
#[tokio::test]
async fn the_status_of_binds_errors_is_a_switch() {
    let config =
        SandboxConfig { quirks: Quirks { placement_bind_error_status: 200, ..Quirks::default() }, ..small_config() };
    let p = start_with(config).await;
    let r = bind(&p, &p.token(ADMIN), json!({"HANDLER": HANDLER})).await;
    assert_eq!((r.status, r.error()), (200, "ERROR_ARGUMENT"), "{}", r.text);
}

/// placement-unbind.md "Possible Error Codes": `PLACEMENT` must be a string (a missing one is not) and not
/// empty; placement-bind.md, placement-get.md "Who can execute the method: administrator": a manager gets 403
/// `ACCESS_DENIED` from each method.
#[tokio::test]
async fn unbind_errors_and_administrators_only() {
    let p = start().await;
    let admin = p.token(ADMIN);
    let r = p.json("placement.unbind", &admin, json!({})).await;
    r.assert_error(400, "ERROR_ARGUMENT", "The value of an argument 'PLACEMENT' must be of type string");
    assert_eq!(r.body["argument"], json!("PLACEMENT"));
    p.json("placement.unbind", &admin, json!({"PLACEMENT": ""})).await.assert_error(
        400,
        "ERROR_ARGUMENT",
        "Argument 'PLACEMENT' is null or empty",
    );
    let m = p.token(MANAGER_BOTH);
    for (method, body) in [
        ("placement.bind", json!({"PLACEMENT": MENU, "HANDLER": HANDLER})),
        ("placement.unbind", json!({"PLACEMENT": MENU})),
        ("placement.get", json!({})),
    ] {
        p.json(method, &m, body).await.assert_error(403, "ACCESS_DENIED", "Access denied!");
    }
    // The tokens an install gives are the installing administrator's, so they may.
    assert_eq!(p.json("placement.get", &admin, json!({})).await.assert_ok(), &json!([]));
}

/// placement-bind.md "Scope: placement, depending on the placement": an app installed without `placement`
/// may not call the methods (`insufficient_scope`); one without `crm` may not bind the CRM widgets, which the
/// `crm` scope offers.
#[tokio::test]
async fn the_apps_scopes_decide_what_it_may_bind() {
    let without = start_with(SandboxConfig { scope: "crm,user".into(), ..small_config() }).await;
    let r = bind(&without, &without.token(ADMIN), json!({"PLACEMENT": MENU, "HANDLER": HANDLER})).await;
    assert_eq!((r.status, r.error()), (401, "insufficient_scope"), "{}", r.text);
    let r = without.json("placement.get", &without.token(ADMIN), json!({})).await;
    assert_eq!(r.error(), "insufficient_scope");
    let no_crm = start_with(SandboxConfig { scope: "user,placement".into(), ..small_config() }).await;
    let t = no_crm.token(ADMIN);
    bind(&no_crm, &t, json!({"PLACEMENT": MENU, "HANDLER": HANDLER})).await.assert_error(
        400,
        "ERROR_PLACEMENT_NOT_FOUND",
        "Placement not found",
    );
    bind(&no_crm, &t, json!({"PLACEMENT": "REST_APP_URI", "HANDLER": HANDLER})).await.assert_ok();
}

async fn page(p: &TestPortal, path: &str) -> String {
    p.http.get(format!("{}{path}", p.sb.portal_url())).send().await.unwrap().text().await.unwrap()
}

/// The value of a hidden field of the frame form, as the page writes it (HTML-escaped).
fn field<'a>(html: &'a str, name: &str) -> Option<&'a str> {
    let marker = format!("name=\"{name}\" value=\"");
    let at = html.find(&marker)? + marker.len();
    html[at..].split('"').next()
}

/// list-menu.md, list-toolbar.md, detail-tab.md: once the install has finished, the contact list offers the
/// bound menu items on each row and the toolbar items above it, in the viewer's language; the card offers
/// the bound tabs; the company list its own.
#[tokio::test]
async fn the_portal_page_offers_the_bound_widgets() {
    let app = Recorder::start().await;
    let p =
        start_with(SandboxConfig { app_url: Some(app.url.parse().unwrap()), app_installed: false, ..small_config() })
            .await;
    let admin = p.token(ADMIN);
    let menu_handler = format!("{}widgets/menu", app.url);
    let langs = json!({"ru": {"TITLE": "Добавить в обзвон"}, "en": {"TITLE": "Add to call list"}});
    bind(&p, &admin, json!({"PLACEMENT": MENU, "HANDLER": menu_handler, "LANG_ALL": langs})).await.assert_ok();
    bind(&p, &admin, json!({"PLACEMENT": "CRM_CONTACT_LIST_TOOLBAR", "HANDLER": format!("{}widgets/bar", app.url), "TITLE": "Обзвоны"})).await.assert_ok();
    bind(&p, &admin, json!({"PLACEMENT": "CRM_CONTACT_DETAIL_TAB", "HANDLER": format!("{}widgets/tab", app.url), "TITLE": "Обзвоны"})).await.assert_ok();
    bind(&p, &admin, json!({"PLACEMENT": "CRM_COMPANY_LIST_MENU", "HANDLER": menu_handler, "TITLE": "В обзвон"}))
        .await
        .assert_ok();

    let before = page(&p, "crm/contact/list/?user=2").await;
    assert!(before.contains("class=\"crm-row\" data-id=\"1\""), "the list shows the contacts");
    assert!(!before.contains("placement-menu-item"), "no widget before the install finishes");
    p.sb.finish_install();

    let ru = page(&p, "crm/contact/list/?user=2").await;
    assert_eq!(
        ru.matches("data-placement=\"CRM_CONTACT_LIST_MENU\"").count(),
        50,
        "each row of the page offers the item"
    );
    assert!(ru.contains(">Добавить в обзвон<"));
    assert!(ru.contains("class=\"placement-toolbar-item\" data-placement=\"CRM_CONTACT_LIST_TOOLBAR\""));
    let en = page(&p, "crm/contact/list/?user=3").await;
    assert!(en.contains(">Add to call list<"), "the title in the viewer's language");
    let card = page(&p, "crm/contact/details/7/?user=2").await;
    assert!(card.contains("data-placement=\"CRM_CONTACT_DETAIL_TAB\""), "the card offers the tab");
    let companies = page(&p, "crm/company/list/?user=2").await;
    assert!(companies.contains("data-placement=\"CRM_COMPANY_LIST_MENU\"") && companies.contains(">В обзвон<"));
    let no_crm = page(&p, "crm/contact/list/?user=5").await;
    assert!(no_crm.contains("id=\"crm-empty\"") && !no_crm.contains("placement-menu-item"));
    let denied = page(&p, "crm/contact/details/7/?user=5").await;
    assert!(denied.contains("id=\"crm-denied\"") && !denied.contains("placement-tab"));
}

/// list-menu.md "What the Handler Receives": choosing a row's item posts the frame form to the handler with
/// `PLACEMENT` and `PLACEMENT_OPTIONS` `{"ID":"7","URI":"\/crm\/contact\/list\/"}` (PHP writes `\/`); a card's
/// tab `{"ID":"7"}` (detail-tab.md); a toolbar item no `PLACEMENT_OPTIONS` at all (list-toolbar.md).
#[tokio::test]
async fn choosing_a_widget_opens_its_handler_with_the_documented_form() {
    let app = Recorder::start().await;
    let p = start_with(SandboxConfig { app_url: Some(app.url.parse().unwrap()), ..small_config() }).await;
    let admin = p.token(ADMIN);
    let menu_handler = format!("{}widgets/menu?type=1", app.url);
    bind(&p, &admin, json!({"PLACEMENT": MENU, "HANDLER": menu_handler, "TITLE": "Обзвон"})).await.assert_ok();
    bind(&p, &admin, json!({"PLACEMENT": "CRM_CONTACT_DETAIL_TAB", "HANDLER": format!("{}widgets/tab", app.url)}))
        .await
        .assert_ok();
    bind(&p, &admin, json!({"PLACEMENT": "CRM_CONTACT_LIST_TOOLBAR", "HANDLER": format!("{}widgets/bar", app.url)}))
        .await
        .assert_ok();

    let list = page(&p, "crm/contact/list/?user=2").await;
    let marker = "class=\"placement-menu-item\" data-placement=\"CRM_CONTACT_LIST_MENU\" data-binding=\"1\" href=\"";
    let at = list.find(marker).expect("a menu item") + marker.len();
    let href = list[at..].split('"').next().unwrap().replace("&#38;", "&").replace("&amp;", "&");
    assert!(href.contains("&id=1"), "the first row's item: {href}");
    let opened = p.http.get(format!("http://{}{href}", p.sb.domain())).send().await.unwrap().text().await.unwrap();
    assert!(opened.contains(&format!("action=\"{}widgets/menu?type=1&amp;DOMAIN=", app.url)), "to the handler");
    assert_eq!(field(&opened, "PLACEMENT"), Some("CRM_CONTACT_LIST_MENU"));
    assert_eq!(
        field(&opened, "PLACEMENT_OPTIONS"),
        Some("{&quot;ID&quot;:&quot;1&quot;,&quot;URI&quot;:&quot;\\/crm\\/contact\\/list\\/&quot;}")
    );
    assert!(field(&opened, "AUTH_ID").is_some() && field(&opened, "member_id") == Some(p.sb.member_id()));
    assert!(opened.contains("\"PLACEMENT\":\"CRM_CONTACT_LIST_MENU\""), "getInitData names the placement");

    let tab = page(&p, "crm/contact/details/7/?user=2&tab=2").await;
    assert_eq!(field(&tab, "PLACEMENT"), Some("CRM_CONTACT_DETAIL_TAB"));
    assert_eq!(field(&tab, "PLACEMENT_OPTIONS"), Some("{&quot;ID&quot;:&quot;7&quot;}"));
    let bar = page(&p, "crm/contact/list/?user=2&open=3").await;
    assert_eq!(field(&bar, "PLACEMENT"), Some("CRM_CONTACT_LIST_TOOLBAR"));
    assert_eq!(field(&bar, "PLACEMENT_OPTIONS"), None, "a toolbar item sends no options");
}

/// widget_data.md "Parameters in the POST Request Body": `Sandbox::placement_form` gives the same form to post
/// from a test; the handler receives the documented fields.
#[tokio::test]
async fn a_placement_form_can_be_posted_by_a_test() {
    let app = Recorder::start().await;
    let p = start_with(SandboxConfig { app_url: Some(app.url.parse().unwrap()), ..small_config() }).await;
    let admin = p.token(ADMIN);
    let handler = format!("{}widgets/menu", app.url);
    bind(&p, &admin, json!({"PLACEMENT": MENU, "HANDLER": handler})).await.assert_ok();
    bind(&p, &admin, json!({"PLACEMENT": "CRM_CONTACT_LIST_TOOLBAR", "HANDLER": handler})).await.assert_ok();

    let form = p.sb.placement_form(MANAGER_BOTH, MENU, Some(8)).unwrap();
    assert!(form.action.starts_with(&format!("{handler}?DOMAIN=")), "{}", form.action);
    assert_eq!(form.field("PLACEMENT"), Some(MENU));
    let options: Value = serde_json::from_str(form.field("PLACEMENT_OPTIONS").unwrap()).unwrap();
    assert_eq!(options, json!({"ID": "8", "URI": "/crm/contact/list/"}));
    let r = p.http.post(&form.action).form(&form.fields).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let seen = app.last();
    assert_eq!((seen.path.as_str(), seen.get("PLACEMENT")), ("/widgets/menu", Some(MENU)));
    for key in [
        "AUTH_ID",
        "AUTH_EXPIRES",
        "REFRESH_ID",
        "SERVER_ENDPOINT",
        "APPLICATION_TOKEN",
        "APPLICATION_SCOPE",
        "member_id",
        "status",
    ] {
        assert!(seen.get(key).is_some(), "{key} is posted");
    }
    assert_eq!(seen.query.get("LANG").map(String::as_str), Some("ru"));
    let token = seen.get("AUTH_ID").unwrap();
    assert_eq!(p.get("user.current", &format!("auth={token}")).await.assert_ok()["ID"], json!("2"));

    let (status, _) = p.sb.open_placement(MANAGER_BOTH, "CRM_CONTACT_LIST_TOOLBAR", None).await.unwrap();
    assert_eq!(status, 200);
    assert!(app.last().get("PLACEMENT_OPTIONS").is_none());
    assert!(p.sb.placement_form(NO_CRM, MENU, Some(8)).is_err(), "a user who cannot see the contact");
    assert!(p.sb.placement_form(MANAGER_BOTH, MENU, None).is_err(), "a list menu item needs its row");
    assert!(p.sb.placement_form(MANAGER_BOTH, "CRM_COMPANY_DETAIL_TAB", Some(1)).is_err(), "nothing bound there");
}
