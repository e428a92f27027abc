//! The portal's side of the app lifecycle: the iframe form (install page, handler), `ONAPPINSTALL`,
//! `ONAPPUNINSTALL`, the portal page and its frame protocol. Reference (bitrix24-behaviour.md) 3.1–3.4, 6.1 and
//! bitrix24-docs/api-reference/common/events/on-app-install.md, on-app-uninstall.md,
//! bitrix24-docs/settings/app-installation/installation-finish.md, api-reference/widgets/_includes/widget_data.md.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::json;

use super::*;

/// One request the stand-in app received.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub query: HashMap<String, String>,
    pub content_type: String,
    pub form: Vec<(String, String)>,
}

impl Seen {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.form.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    pub fn keys(&self) -> Vec<&str> {
        self.form.iter().map(|(k, _)| k.as_str()).collect()
    }
}

/// A tiny app that records what the portal posts to it.
pub struct Recorder {
    pub url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    handle: actix_web::dev::ServerHandle,
}

impl Recorder {
    pub async fn start() -> Recorder {
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let data = web::Data::new(seen.clone());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = HttpServer::new(move || {
            App::new().app_data(data.clone()).default_service(web::to(
                |req: HttpRequest, body: web::Bytes, seen: web::Data<Arc<Mutex<Vec<Seen>>>>| async move {
                    let form = url::form_urlencoded::parse(&body).into_owned().collect();
                    let query = url::form_urlencoded::parse(req.query_string().as_bytes()).into_owned().collect();
                    let content_type =
                        req.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
                    seen.lock().unwrap().push(Seen {
                        method: req.method().to_string(),
                        path: req.path().to_owned(),
                        query,
                        content_type,
                        form,
                    });
                    HttpResponse::Ok().content_type("text/html").body("<html><body>app</body></html>")
                },
            ))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Recorder { url: format!("http://127.0.0.1:{port}/"), seen, handle }
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    pub fn last(&self) -> Seen {
        self.seen().pop().expect("the app received a request")
    }
}

async fn portal_for(app: &Recorder, installed: bool) -> TestPortal {
    start_with(SandboxConfig { app_url: Some(app.url.parse().unwrap()), app_installed: installed, ..small_config() })
        .await
}

/// reference 3.3; on-app-install.md: `ONAPPINSTALL` as a bracket-key form with the documented keys.
#[tokio::test]
async fn install_sends_onappinstall_as_the_reference_shows() {
    let app = Recorder::start().await;
    let p = portal_for(&app, false).await;
    let status = p.sb.install_app().await.unwrap();
    assert_eq!(status, 200);
    let e = app.last();
    assert_eq!((e.method.as_str(), e.path.as_str()), ("POST", "/events"));
    assert!(e.content_type.starts_with("application/x-www-form-urlencoded"), "{}", e.content_type);
    assert_eq!(e.get("event"), Some("ONAPPINSTALL"));
    assert_eq!(e.get("data[ACTIVE]"), Some("Y"));
    assert_eq!(e.get("data[INSTALLED]"), Some("Y"));
    assert!(e.get("data[VERSION]").is_some() && e.get("data[LANGUAGE_ID]").is_some());
    assert!(e.get("ts").unwrap().parse::<i64>().is_ok());
    assert_eq!(e.get("auth[domain]"), Some(p.sb.domain()));
    assert_eq!(e.get("auth[member_id]"), Some(p.sb.member_id()));
    assert_eq!(e.get("auth[client_endpoint]"), Some(p.sb.rest_url().as_str()));
    assert_eq!(e.get("auth[server_endpoint]"), Some(p.sb.server_endpoint().as_str()));
    assert_eq!(e.get("auth[expires_in]"), Some("3600"));
    assert_eq!(e.get("auth[scope]"), Some("crm,user,placement"));
    assert_eq!(e.get("auth[status]"), Some("F"));
    assert_eq!(e.get("auth[application_token]").map(str::len), Some(32));
    assert!(e.get("auth[refresh_token]").is_some());
    let token = e.get("auth[access_token]").unwrap();
    assert_eq!(p.get("user.current", &format!("auth={token}")).await.assert_ok()["ID"], json!("1"));
    assert!(p.sb.app_is_installed());
}

/// reference 3.4; on-app-uninstall.md: `ONAPPUNINSTALL` with `data[CLEAN]` and no tokens; access ends.
#[tokio::test]
async fn uninstall_sends_onappuninstall_without_tokens() {
    let app = Recorder::start().await;
    let p = portal_for(&app, true).await;
    let t = p.token(ADMIN);
    assert_eq!(p.sb.uninstall_app(true).await.unwrap(), 200);
    let e = app.last();
    assert_eq!(e.get("event"), Some("ONAPPUNINSTALL"));
    assert_eq!(e.get("data[CLEAN]"), Some("1"));
    let mut auth: Vec<&str> = e.keys().into_iter().filter(|k| k.starts_with("auth[")).collect();
    auth.sort();
    assert_eq!(
        auth,
        [
            "auth[application_token]",
            "auth[client_endpoint]",
            "auth[domain]",
            "auth[member_id]",
            "auth[server_endpoint]"
        ]
    );
    assert_eq!(p.get("profile", &format!("auth={t}")).await.error(), "invalid_token");
    assert!(!p.sb.app_is_installed());
}

/// reference 3.4, 3.6: the uninstall event goes to the handler bound with `event.bind`.
#[tokio::test]
async fn uninstall_goes_to_the_bound_handler() {
    let app = Recorder::start().await;
    let p = portal_for(&app, true).await;
    let handler = format!("{}hooks/uninstall?x=1", app.url);
    p.json("event.bind", &p.token(ADMIN), json!({"event": "ONAPPUNINSTALL", "handler": handler})).await.assert_ok();
    p.sb.uninstall_app(false).await.unwrap();
    let e = app.last();
    assert_eq!((e.path.as_str(), e.get("data[CLEAN]")), ("/hooks/uninstall", Some("0")));
}

/// installation-finish.md: events are not delivered before the install finishes.
#[tokio::test]
async fn no_event_reaches_an_app_whose_install_did_not_finish() {
    let app = Recorder::start().await;
    let p = portal_for(&app, false).await;
    assert_eq!(p.sb.uninstall_app(false).await.unwrap(), 0);
    assert!(app.seen().is_empty());
}

/// reference 3.1; widget_data.md: the install page gets the iframe form (query and body) while not installed.
#[tokio::test]
async fn an_administrator_opening_an_uninstalled_app_gets_the_install_page() {
    let app = Recorder::start().await;
    let p = portal_for(&app, false).await;
    let (status, _) = p.sb.open_app(ADMIN).await.unwrap();
    assert_eq!(status, 200);
    let e = app.last();
    assert_eq!((e.method.as_str(), e.path.as_str()), ("POST", "/install"));
    assert_eq!(e.query["DOMAIN"], p.sb.domain());
    assert_eq!(e.query["PROTOCOL"], "0");
    assert_eq!(e.query["LANG"], "ru");
    assert!(e.query["APP_SID"].len() == 32 && e.query["APP_SID"].bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(
        e.keys(),
        [
            "AUTH_ID",
            "AUTH_EXPIRES",
            "REFRESH_ID",
            "SERVER_ENDPOINT",
            "APPLICATION_TOKEN",
            "APPLICATION_SCOPE",
            "member_id",
            "status",
            "PLACEMENT"
        ]
    );
    assert_eq!(e.get("AUTH_EXPIRES"), Some("3600"));
    assert_eq!(e.get("PLACEMENT"), Some("DEFAULT"));
    assert_eq!(e.get("member_id"), Some(p.sb.member_id()));
    assert_eq!(e.get("SERVER_ENDPOINT"), Some(p.sb.server_endpoint().as_str()));
    let token = e.get("AUTH_ID").unwrap();
    assert_eq!(p.get("user.current", &format!("auth={token}")).await.assert_ok()["ID"], json!("1"));
    let a = p.get("app.info", &format!("auth={token}")).await;
    assert_eq!(a.assert_ok()["INSTALLED"], json!(false));
}

/// reference 3.1, 3.2: a manager cannot open an app whose install is unfinished; after `setInstallFinish`
/// everyone gets the handler.
#[tokio::test]
async fn after_install_finish_managers_open_the_handler() {
    let app = Recorder::start().await;
    let p = portal_for(&app, false).await;
    assert!(p.sb.launch_form(MANAGER_BOTH, None).is_err());
    let (status, _) = p.control_post("install-finish", json!({})).await;
    assert_eq!(status, 200);
    assert!(p.sb.install_finished() && p.sb.app_is_installed());
    p.sb.open_app(MANAGER_BOTH).await.unwrap();
    let e = app.last();
    assert_eq!(e.path, "/app");
    let token = e.get("AUTH_ID").unwrap();
    assert_eq!(p.get("user.current", &format!("auth={token}")).await.assert_ok()["ID"], json!("2"));
}

/// reference 3.1, 6.1: the portal page posts the form into an iframe named `DOMAIN|PROTOCOL|APP_SID`, with a
/// fresh token for the chosen user, and carries its own frame-protocol script (no outside hosts).
#[tokio::test]
async fn the_portal_page_posts_the_form_into_the_named_frame() {
    let app = Recorder::start().await;
    let p = portal_for(&app, true).await;
    let html = p.http.get(format!("{}?user=3", p.sb.portal_url())).send().await.unwrap().text().await.unwrap();
    let marker = "name=\"app-frame-name\" value=\"";
    let at = html.find(marker).expect("the frame name is on the page") + marker.len();
    let name = &html[at..at + p.sb.domain().len() + 3 + 32];
    assert!(name.starts_with(&format!("{}|0|", p.sb.domain())), "{name}");
    assert!(html.contains(&format!("<iframe id=\"app-frame\" name=\"{name}\"")), "iframe named {name}");
    assert!(html.contains(&format!("action=\"{}app?DOMAIN=", app.url)), "form posts to the handler");
    assert!(html.contains("method=\"post\""));
    assert!(html.contains("target=\"") && html.contains("getInitData") && html.contains("setInstallFinish"));
    assert!(!html.contains("https://"), "nothing is loaded from outside hosts");
    let marker = "name=\"AUTH_ID\" value=\"";
    let token_at = html.find(marker).unwrap() + marker.len();
    let token = &html[token_at..token_at + 32];
    assert_eq!(p.get("user.current", &format!("auth={token}")).await.assert_ok()["ID"], json!("3"));
}

/// reference 3.1: the page shows the not-installed notice to a manager, and the install page to an admin.
#[tokio::test]
async fn the_portal_page_follows_the_install_state() {
    let app = Recorder::start().await;
    let p = portal_for(&app, false).await;
    let manager = p.http.get(format!("{}?user=2", p.sb.portal_url())).send().await.unwrap().text().await.unwrap();
    assert!(manager.contains("id=\"app-not-installed\""), "{manager}");
    let admin = p.http.get(format!("{}?user=1", p.sb.portal_url())).send().await.unwrap().text().await.unwrap();
    assert!(admin.contains(&format!("action=\"{}install?DOMAIN=", app.url)));
    app.handle.stop(false).await;
}

/// reference 3.1: for `PLACEMENT=DEFAULT`, `PLACEMENT_OPTIONS` is the opening page's extra GET parameters as a
/// JSON string, sent only when not empty.
#[tokio::test]
async fn placement_options_carry_the_pages_extra_parameters() {
    let app = Recorder::start().await;
    let p = portal_for(&app, true).await;
    let html = p.http.get(format!("{}?user=2&list=7", p.sb.portal_url())).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("name=\"PLACEMENT_OPTIONS\" value=\"{&quot;list&quot;:&quot;7&quot;}\""), "{html}");
    let plain = p.http.get(format!("{}?user=2", p.sb.portal_url())).send().await.unwrap().text().await.unwrap();
    assert!(!plain.contains("name=\"PLACEMENT_OPTIONS\""));
}
