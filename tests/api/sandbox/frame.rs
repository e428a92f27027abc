//! The portal page's frame protocol in a real headless Chromium: reference (bitrix24-behaviour.md) 3.1, 3.2,
//! 6.1. A stand-in app inside the iframe speaks the protocol the way the JS SDKs do (string messages
//! `command:params:callback:APP_SID` to the parent, `callback:JSON` answers).
//!
//! Needs `chromium` and `chromedriver`; without them the tests are skipped, unless `CI=true`.

use std::net::TcpListener;
use std::time::Duration;

use actix_web::{App, HttpResponse, HttpServer, web};
use serde_json::json;

use super::*;
use crate::webdriver::Browser;

/// The stand-in app's page: it reads `DOMAIN|PROTOCOL|APP_SID` from `window.name`, asks for the init data and
/// a resize at once, and keeps every answer in `window.REPLIES`.
const APP_PAGE: &str = r#"<!doctype html><html><body><h1 id="app">stand-in app</h1><script>
var parts = window.name.split('|');
var sid = parts[2];
var origin = (parts[1] === '1' ? 'https://' : 'http://') + parts[0];
window.REPLIES = {};
window.addEventListener('message', function (e) {
  if (e.origin !== origin) { return; }
  var i = e.data.indexOf(':');
  window.REPLIES[e.data.slice(0, i)] = JSON.parse(e.data.slice(i + 1));
});
window.sendB24 = function (cmd, params, cb, otherSid) {
  parent.postMessage(cmd + ':' + (params ? JSON.stringify(params) : '') + ':' + (cb || '') + ':' + (otherSid || sid), origin);
};
window.sendB24('getInitData', null, 'init');
window.sendB24('resizeWindow', {width: '100%', height: 777}, 'resize');
</script></body></html>"#;

/// A stand-in app serving [`APP_PAGE`] on every POST, and counting the paths it was posted to.
async fn stand_in_app() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let seen: std::sync::Arc<std::sync::Mutex<Vec<String>>> = Default::default();
    let s2 = seen.clone();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = HttpServer::new(move || {
        let s = s2.clone();
        App::new().default_service(web::to(move |req: actix_web::HttpRequest| {
            let s = s.clone();
            async move {
                s.lock().unwrap().push(req.path().to_owned());
                HttpResponse::Ok().content_type("text/html; charset=utf-8").body(APP_PAGE)
            }
        }))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    (format!("http://127.0.0.1:{port}/"), seen)
}

/// reference 6.1: `getInitData`, `resizeWindow`, `refreshAuth` and `selectCRM` answered by the portal page.
#[tokio::test]
async fn the_portal_page_answers_the_frame_protocol() {
    let Some(b) = Browser::start().await else { return };
    let (app, _) = stand_in_app().await;
    let p = start_with(SandboxConfig { app_url: Some(app.parse().unwrap()), ..small_config() }).await;
    b.client.goto(&format!("{}?user={MANAGER_BOTH}", p.sb.portal_url())).await.unwrap();
    b.client.enter_frame(0).await.unwrap();
    let init = b.until("return window.REPLIES && window.REPLIES.init || null").await;
    assert_eq!(init["DOMAIN"], json!(p.sb.domain()));
    assert_eq!(init["PROTOCOL"], json!(0));
    assert_eq!(init["MEMBER_ID"], json!(p.sb.member_id()));
    assert_eq!(init["AUTH_EXPIRES"], json!("3600"));
    assert_eq!(
        (init["IS_ADMIN"].clone(), init["INSTALL"].clone(), init["PLACEMENT"].clone()),
        (json!(false), json!(false), json!("DEFAULT"))
    );
    let token = init["AUTH_ID"].as_str().unwrap().to_owned();
    assert_eq!(p.get("user.current", &format!("auth={token}")).await.assert_ok()["ID"], json!("2"));
    let resize = b.until("return window.REPLIES.resize || null").await;
    assert_eq!(resize["height"], json!(777));

    // a message naming another APP_SID is dropped; the next good one is answered
    b.client.execute("window.sendB24('getInitData', null, 'forged', 'ffffffffffffffffffffffffffffffff'); window.sendB24('refreshAuth', null, 'refresh');", vec![]).await.unwrap();
    let refreshed = b.until("return window.REPLIES.refresh || null").await;
    assert!(b.client.execute("return window.REPLIES.forged || null", vec![]).await.unwrap().is_null());
    let fresh = refreshed["AUTH_ID"].as_str().unwrap();
    assert_ne!(fresh, token);
    assert_eq!(p.get("user.current", &format!("auth={fresh}")).await.assert_ok()["ID"], json!("2"));

    b.client.enter_parent_frame().await.unwrap();
    let height = b.client.execute("return document.getElementById('app-frame').style.height", vec![]).await.unwrap();
    assert_eq!(height, json!("777px"));

    // selectCRM: the picker opens in the parent; search, tick, choose
    let target = p.sb.add_contact("Зиновий", "Уникальнов");
    b.client.enter_frame(0).await.unwrap();
    b.client
        .execute("window.sendB24('selectCRM', {entityType: ['contact', 'company'], multiple: true}, 'crm')", vec![])
        .await
        .unwrap();
    b.client.enter_parent_frame().await.unwrap();
    b.fill("#crm-picker-search", "Уникальнов").await;
    // The list re-renders as the search narrows; the helper finds a replaced element again.
    b.click(&format!("input.crm-picker-item[data-id='C_{target}']")).await;
    b.click("#crm-picker-ok").await;
    b.client.enter_frame(0).await.unwrap();
    let picked = b.until("return window.REPLIES.crm || null").await;
    assert_eq!(picked["contact"][0]["id"], json!(format!("C_{target}")));
    assert_eq!(picked["contact"][0]["type"], json!("contact"));
    assert_eq!(picked["contact"][0]["title"], json!("Зиновий Уникальнов"));
    assert_eq!(picked["company"], json!([]));
    b.finish().await;
}

/// reference 3.1, 3.2: an administrator gets the install page (`INSTALL: true`); `setInstallFinish` marks the
/// app installed and the page reloads into the handler.
#[tokio::test]
async fn set_install_finish_completes_the_install_and_opens_the_handler() {
    let Some(b) = Browser::start().await else { return };
    let (app, seen) = stand_in_app().await;
    let p =
        start_with(SandboxConfig { app_url: Some(app.parse().unwrap()), app_installed: false, ..small_config() }).await;
    b.client.goto(&format!("{}?user={ADMIN}", p.sb.portal_url())).await.unwrap();
    b.client.enter_frame(0).await.unwrap();
    let init = b.until("return window.REPLIES && window.REPLIES.init || null").await;
    assert_eq!((init["INSTALL"].clone(), init["IS_ADMIN"].clone()), (json!(true), json!(true)));
    assert_eq!(seen.lock().unwrap().as_slice(), ["/install"]);
    b.client.execute("window.sendB24('setInstallFinish', null, '')", vec![]).await.unwrap();
    for _ in 0..100 {
        if seen.lock().unwrap().len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(p.sb.install_finished() && p.sb.app_is_installed());
    assert_eq!(seen.lock().unwrap().last().map(String::as_str), Some("/app"));
    b.finish().await;
}

/// list-menu.md, reference 6.1: a manager opens a row's menu on the contact list and chooses the app's item;
/// the handler opens in the page's frame and `getInitData` names the placement and its options; a widget's
/// `setTitle` is dropped.
#[tokio::test]
async fn a_list_menu_item_opens_the_widget_in_the_frame() {
    let Some(b) = Browser::start().await else { return };
    let (app, seen) = stand_in_app().await;
    let p = start_with(SandboxConfig { app_url: Some(app.parse().unwrap()), ..small_config() }).await;
    let handler = format!("{app}widget");
    let r = p
        .json(
            "placement.bind",
            &p.token(ADMIN),
            json!({"PLACEMENT": "CRM_CONTACT_LIST_MENU", "HANDLER": handler, "TITLE": "Обзвон"}),
        )
        .await;
    r.assert_ok();
    b.client.goto(&format!("{}?user={MANAGER_BOTH}", p.sb.portal_url())).await.unwrap();
    b.click("#menu-contacts").await;
    b.click("tr.crm-row[data-id='1'] details.row-menu summary").await;
    b.click("tr.crm-row[data-id='1'] a.placement-menu-item").await;
    b.until("return document.getElementById('placement-slider') ? true : null").await;
    b.client.enter_frame(0).await.unwrap();
    let init = b.until("return window.REPLIES && window.REPLIES.init || null").await;
    assert_eq!(init["PLACEMENT"], json!("CRM_CONTACT_LIST_MENU"));
    assert_eq!(init["PLACEMENT_OPTIONS"], json!({"ID": "1", "URI": "/crm/contact/list/"}));
    assert_eq!(seen.lock().unwrap().last().map(String::as_str), Some("/widget"));
    b.client
        .execute(
            "window.sendB24('setTitle', {title: 'x'}, 'title'); window.sendB24('getInitData', null, 'again');",
            vec![],
        )
        .await
        .unwrap();
    b.until("return window.REPLIES.again || null").await;
    assert!(b.client.execute("return window.REPLIES.title || null", vec![]).await.unwrap().is_null());
    b.finish().await;
}
