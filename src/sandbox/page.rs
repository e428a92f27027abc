//! The portal page (reference 3.1, 6.1): a Bitrix24-like layout whose work area is the app's iframe, opened by
//! a hidden form posting the launch fields into the frame `DOMAIN|PROTOCOL|APP_SID`; the page's own script
//! (`templates/sandbox/portal.js`) answers the frame protocol, so the app works as inside a portal, offline.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde_json::json;

use super::Shared;
use super::lifecycle::{self, LaunchForm};
use super::params::{PValue, parse_query};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(portal_page)).route("/app", web::get().to(portal_page));
}

/// JSON safe to put inside a `<script>` element.
fn script_json(v: &serde_json::Value) -> String {
    v.to_string().replace("</", "<\\/").replace("<!--", "<\\!--")
}

/// The page's words in one language.
struct Texts {
    title: &'static str,
    user: &'static str,
    crm: &'static str,
    contacts: &'static str,
    companies: &'static str,
    apps: &'static str,
    app: &'static str,
    not_installed: &'static str,
    no_app: &'static str,
    pick_title: &'static str,
    search: &'static str,
    choose: &'static str,
    cancel: &'static str,
}

fn texts(lang: &str) -> Texts {
    if lang == "en" {
        Texts {
            title: "Bitrix24 sandbox",
            user: "User",
            crm: "CRM",
            contacts: "Contacts",
            companies: "Companies",
            apps: "Applications",
            app: "Call lists",
            not_installed: "The application is not fully installed yet. Please contact your administrator.",
            no_app: "No application is configured for this portal (start the sandbox with --app-url).",
            pick_title: "Select CRM items",
            search: "Search",
            choose: "Select",
            cancel: "Cancel",
        }
    } else {
        Texts {
            title: "Песочница Битрикс24",
            user: "Пользователь",
            crm: "CRM",
            contacts: "Контакты",
            companies: "Компании",
            apps: "Приложения",
            app: "Обзвон",
            not_installed: "Приложение ещё не установлено до конца. Обратитесь к администратору.",
            no_app: "Для портала не задано приложение (запустите песочницу с --app-url).",
            pick_title: "Выбор элементов CRM",
            search: "Поиск",
            choose: "Выбрать",
            cancel: "Отмена",
        }
    }
}

#[derive(Template)]
#[template(path = "sandbox/portal.html")]
struct PortalPage<'a> {
    t: &'a Texts,
    lang: &'a str,
    user_id: u64,
    domain: &'a str,
    /// The portal's path on the listener (`/`, or `/portal/{i}/` after the first portal): every link and
    /// request of the page starts with it.
    base: &'a str,
    users: Vec<UserOption>,
    langs: Vec<LangLink>,
    /// The app's frame and its launch form, when the app opens for this user.
    frame: Option<Frame<'a>>,
    /// Why the app does not open (it is not fully installed), when there is an app.
    not_installed: Option<String>,
    /// The page script's start-up data: JSON, or `null` without a frame.
    boot: String,
}

/// One entry of the user switch.
struct UserOption {
    id: u64,
    name: String,
    last_name: String,
    role: &'static str,
    selected: bool,
}

struct LangLink {
    code: &'static str,
    label: &'static str,
    active: bool,
}

/// The app's frame and the form that opens it. The form's action and fields are escaped as the portal's PHP
/// escapes them (`htmlspecialchars`: `&quot;`, `&amp;`), so the form reads as a real portal's does.
struct Frame<'a> {
    name: &'a str,
    action: String,
    install: bool,
    sid: &'a str,
    fields: Vec<(String, String)>,
}

impl<'a> Frame<'a> {
    fn of(form: &'a LaunchForm) -> Self {
        Frame {
            name: &form.frame_name,
            action: php_escape(&form.action),
            install: form.install,
            sid: &form.app_sid,
            fields: form.fields.iter().map(|(k, v)| (php_escape(k), php_escape(v))).collect(),
        }
    }
}

/// PHP's `htmlspecialchars` with `ENT_QUOTES`.
fn php_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#039;")
}

async fn portal_page(req: HttpRequest, shared: Shared) -> HttpResponse {
    let inner = shared.get_ref();
    let q = parse_query(req.query_string());
    let (users, current) = {
        let st = inner.lock();
        (st.users.values().cloned().collect::<Vec<_>>(), st.current_user)
    };
    let user_id = q.get("user").map(PValue::php_int).and_then(|u| u64::try_from(u).ok()).unwrap_or(current);
    let user = users.iter().find(|u| u.id == user_id).or_else(|| users.first()).cloned();
    let Some(user) = user else {
        return HttpResponse::InternalServerError().body("no users");
    };
    let lang = match q.get("lang").and_then(PValue::as_str) {
        Some("en") => "en".to_owned(),
        Some("ru") => "ru".to_owned(),
        _ => user.lang.clone(),
    };
    let t = texts(&lang);
    let placement_options: serde_json::Map<String, serde_json::Value> = q
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "user" | "lang"))
        .map(|(k, v)| (k.clone(), v.to_json()))
        .collect();
    let launch = if inner.info.config.app_url.is_some() {
        Some(lifecycle::launch_form(
            inner,
            user.id,
            Some(&lang),
            Some(serde_json::Value::Object(placement_options.clone())),
        ))
    } else {
        None
    };
    let boot = match &launch {
        Some(Ok(form)) => {
            let app_url =
                inner.info.config.app_url.as_ref().map(|u| u.origin().ascii_serialization()).unwrap_or_default();
            let st = inner.lock();
            let init = json!({
                "DOMAIN": inner.info.domain,
                "PROTOCOL": 0,
                "PATH": "/rest",
                "LANG": form.lang,
                "AUTH_ID": form.field("AUTH_ID"),
                "REFRESH_ID": form.field("REFRESH_ID"),
                "AUTH_EXPIRES": form.auth_expires.to_string(),
                "MEMBER_ID": inner.info.member_id,
                "IS_ADMIN": form.is_admin,
                "APP_OPTIONS": st.app.app_options,
                "USER_OPTIONS": {},
                "PLACEMENT": "DEFAULT",
                "PLACEMENT_OPTIONS": placement_options,
                "INSTALL": form.install,
                "FIRST_RUN": form.install,
            });
            script_json(&json!({
                "appOrigin": app_url,
                "appSid": form.app_sid,
                "base": inner.info.base_path,
                "userId": form.user_id,
                "init": init,
                "texts": {"pick": t.pick_title, "search": t.search, "choose": t.choose, "cancel": t.cancel},
            }))
        }
        _ => "null".to_owned(),
    };
    let page = PortalPage {
        t: &t,
        lang: &lang,
        user_id: user.id,
        domain: &inner.info.domain,
        base: &inner.info.base_path,
        users: users
            .iter()
            .map(|u| UserOption {
                id: u.id,
                name: u.name.clone(),
                last_name: u.last_name.clone(),
                role: u.permissions.summary(),
                selected: u.id == user.id,
            })
            .collect(),
        langs: [("ru", "RU"), ("en", "EN")]
            .into_iter()
            .map(|(code, label)| LangLink { code, label, active: code == lang })
            .collect(),
        frame: match &launch {
            Some(Ok(form)) => Some(Frame::of(form)),
            _ => None,
        },
        not_installed: match &launch {
            Some(Err(e)) => Some(e.to_string()),
            _ => None,
        },
        boot,
    };
    match page.render() {
        Ok(html) => HttpResponse::Ok().content_type("text/html; charset=utf-8").body(html),
        Err(e) => HttpResponse::InternalServerError().content_type("text/plain; charset=utf-8").body(e.to_string()),
    }
}
