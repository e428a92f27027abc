//! The portal page (reference 3.1, 6.1): a Bitrix24-like layout whose work area is the app's iframe, opened by
//! a hidden form posting the launch fields into the frame `DOMAIN|PROTOCOL|APP_SID`; the page's own script
//! (`templates/sandbox/portal.js`) answers the frame protocol, so the app works as inside a portal, offline.
//! The CRM's contact and company lists and cards (`crm`) offer the widgets the app bound there.

mod crm;

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde_json::json;

use super::lifecycle::{self, LaunchForm};
use super::model::User;
use super::params::{PArr, PValue, parse_query};
use super::{Inner, Shared};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(portal_page))
        .route("/app", web::get().to(portal_page))
        .route("/crm/{kind}/list/", web::get().to(crm::list_page))
        .route("/crm/{kind}/details/{id}/", web::get().to(crm::card_page));
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
    open: &'static str,
    general: &'static str,
    denied: &'static str,
    empty: &'static str,
    phones: &'static str,
    emails: &'static str,
    post: &'static str,
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
            open: "Open",
            general: "General",
            denied: "Access denied.",
            empty: "Nothing here you may see.",
            phones: "Phone",
            emails: "E-mail",
            post: "Position",
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
            open: "Открыть",
            general: "Общие",
            denied: "Доступ запрещён.",
            empty: "Здесь нет ничего, что вам можно видеть.",
            phones: "Телефон",
            emails: "E-mail",
            post: "Должность",
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
    /// Which entry of the left menu is current: `app`, `contact` or `company`.
    section: &'a str,
    /// The heading of the work area.
    heading: String,
    /// The frame of the app or of a widget, and the form that opens it.
    frame: Option<Frame<'a>>,
    /// Why the app or the widget does not open, when it does not.
    not_installed: Option<String>,
    /// Whether the page is the app's own (its frame is the whole work area).
    app_view: bool,
    /// A list of contacts or companies, with the widgets bound to it.
    list: Option<crm::CrmList>,
    /// A contact's or company's card, with the tabs bound to it.
    card: Option<crm::CrmCard>,
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

/// The frame and the form that opens it. The form's action and fields are escaped as the portal's PHP
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

/// Who looks at the page and in which language: `?user=` (else the portal's current user) and `?lang=`
/// (else theirs); the rest of the query.
struct Viewer {
    user: User,
    users: Vec<User>,
    lang: String,
    query: PArr,
}

impl Viewer {
    fn of(req: &HttpRequest, inner: &Inner) -> Option<Viewer> {
        let query = parse_query(req.query_string());
        let (users, current) = {
            let st = inner.lock();
            (st.users.values().cloned().collect::<Vec<_>>(), st.current_user)
        };
        let user_id = query.get("user").map(PValue::php_int).and_then(|u| u64::try_from(u).ok()).unwrap_or(current);
        let user = users.iter().find(|u| u.id == user_id).or_else(|| users.first()).cloned()?;
        let lang = match query.get("lang").and_then(PValue::as_str) {
            Some("en") => "en".to_owned(),
            Some("ru") => "ru".to_owned(),
            _ => user.lang.clone(),
        };
        Some(Viewer { user, users, lang, query })
    }

    /// A number from the query (`?open=3`).
    fn number(&self, key: &str) -> Option<u64> {
        self.query.get(key).map(PValue::php_int).and_then(|v| u64::try_from(v).ok()).filter(|v| *v > 0)
    }
}

/// The page script's start-up data for a frame: `getInitData`'s answer (reference 6.1) and what the
/// script needs to post to the frame.
fn boot(inner: &Inner, form: &LaunchForm, t: &Texts) -> String {
    let origin = url::Url::parse(&form.action).map(|u| u.origin().ascii_serialization()).unwrap_or_default();
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
        "PLACEMENT": form.placement,
        "PLACEMENT_OPTIONS": form.placement_options,
        "INSTALL": form.install,
        "FIRST_RUN": form.install,
    });
    script_json(&json!({
        "appOrigin": origin,
        "appSid": form.app_sid,
        "base": inner.info.base_path,
        "userId": form.user_id,
        "init": init,
        "texts": {"pick": t.pick_title, "search": t.search, "choose": t.choose, "cancel": t.cancel},
    }))
}

/// The parts every view shares, and the render.
struct Layout<'a> {
    inner: &'a Inner,
    viewer: &'a Viewer,
    t: &'a Texts,
}

impl<'a> Layout<'a> {
    fn page(&self, section: &'a str, heading: String, form: Option<&'a LaunchForm>) -> PortalPage<'a> {
        let v = self.viewer;
        PortalPage {
            t: self.t,
            lang: &v.lang,
            user_id: v.user.id,
            domain: &self.inner.info.domain,
            base: &self.inner.info.base_path,
            users: v
                .users
                .iter()
                .map(|u| UserOption {
                    id: u.id,
                    name: u.name.clone(),
                    last_name: u.last_name.clone(),
                    role: u.permissions.summary(),
                    selected: u.id == v.user.id,
                })
                .collect(),
            langs: [("ru", "RU"), ("en", "EN")]
                .into_iter()
                .map(|(code, label)| LangLink { code, label, active: code == v.lang })
                .collect(),
            section,
            heading,
            frame: form.map(Frame::of),
            not_installed: None,
            app_view: false,
            list: None,
            card: None,
            boot: form.map_or_else(|| "null".to_owned(), |f| boot(self.inner, f, self.t)),
        }
    }
}

fn render(page: PortalPage<'_>) -> HttpResponse {
    match page.render() {
        Ok(html) => HttpResponse::Ok().content_type("text/html; charset=utf-8").body(html),
        Err(e) => HttpResponse::InternalServerError().content_type("text/plain; charset=utf-8").body(e.to_string()),
    }
}

/// The app's own page (`PLACEMENT=DEFAULT`): its `PLACEMENT_OPTIONS` are the page's extra query parameters.
async fn portal_page(req: HttpRequest, shared: Shared) -> HttpResponse {
    let inner = shared.get_ref();
    let Some(viewer) = Viewer::of(&req, inner) else {
        return HttpResponse::InternalServerError().body("no users");
    };
    let t = texts(&viewer.lang);
    let placement_options: serde_json::Map<String, serde_json::Value> = viewer
        .query
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "user" | "lang"))
        .map(|(k, v)| (k.clone(), v.to_json()))
        .collect();
    let launch = inner.info.config.app_url.is_some().then(|| {
        lifecycle::launch_form(
            inner,
            viewer.user.id,
            Some(&viewer.lang),
            Some(serde_json::Value::Object(placement_options)),
        )
    });
    let layout = Layout { inner, viewer: &viewer, t: &t };
    let mut page = layout.page("app", t.app.to_owned(), launch.as_ref().and_then(|l| l.as_ref().ok()));
    page.app_view = true;
    page.not_installed = match &launch {
        Some(Err(e)) => Some(e.to_string()),
        _ => None,
    };
    render(page)
}
