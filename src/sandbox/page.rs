//! The portal page (reference 3.1, 6.1): a simple Bitrix24-like layout whose work area is the app's iframe.
//! A hidden form posts the launch fields into the frame named `DOMAIN|PROTOCOL|APP_SID`; a small script of
//! the page's own answers the frame protocol (`getInitData`, `setInstallFinish`, `resizeWindow`,
//! `refreshAuth`, `setTitle`, `selectCRM`, …), so the app works here as inside a portal, with no outside host.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use super::lifecycle::{self, LaunchForm};
use super::params::{PValue, parse_query};
use super::server::Shared;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(portal_page)).route("/app", web::get().to(portal_page));
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// JSON safe to put inside a `<script>` element.
fn script_json(v: &serde_json::Value) -> String {
    v.to_string().replace("</", "<\\/").replace("<!--", "<\\!--")
}

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
    let options: String = users
        .iter()
        .map(|u| {
            let role = if u.permissions.admin {
                "admin"
            } else {
                match (u.permissions.read_contacts, u.permissions.read_companies) {
                    (true, true) => "contacts+companies",
                    (true, false) => "contacts",
                    (false, true) => "companies",
                    (false, false) => "no CRM",
                }
            };
            format!(
                "<option value=\"{id}\" data-user-id=\"{id}\"{sel}>{name} {last} ({role})</option>",
                id = u.id,
                sel = if u.id == user.id { " selected" } else { "" },
                name = esc(&u.name),
                last = esc(&u.last_name),
            )
        })
        .collect();
    let work = match &launch {
        None => format!("<div class=\"notice\" id=\"app-missing\">{}</div>", esc(t.no_app)),
        Some(Err(e)) => format!(
            "<div class=\"notice\" id=\"app-not-installed\">{}<br><small>{}</small></div>",
            esc(t.not_installed),
            esc(&e.to_string())
        ),
        Some(Ok(form)) => frame_html(form),
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
                "userId": form.user_id,
                "init": init,
                "texts": {"pick": t.pick_title, "search": t.search, "choose": t.choose, "cancel": t.cancel},
            }))
        }
        _ => "null".to_owned(),
    };
    let lang_links = ["ru", "en"]
        .iter()
        .map(|l| {
            format!(
                "<a id=\"lang-{l}\" data-lang=\"{l}\" class=\"{cls}\" href=\"/?user={u}&amp;lang={l}\">{L}</a>",
                cls = if *l == lang { "lang active" } else { "lang" },
                u = user.id,
                L = l.to_uppercase()
            )
        })
        .collect::<Vec<_>>()
        .join(" ");
    let html = format!(
        r#"<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<title id="page-title">{title}</title>
<style>{CSS}</style>
</head>
<body data-user-id="{user_id}" data-lang="{lang}">
<header id="portal-header">
  <span class="logo">Bitrix<b>24</b></span>
  <span class="portal-domain" id="portal-domain">{domain}</span>
  <span class="spacer"></span>
  <label for="user-switcher">{user_label}</label>
  <select id="user-switcher" onchange="location.href='/?user='+this.value+'&amp;lang={lang}'">{options}</select>
  <span class="langs">{lang_links}</span>
</header>
<div id="portal-body">
  <nav id="portal-menu">
    <a class="menu-item">{crm}</a>
    <a class="menu-item">{contacts}</a>
    <a class="menu-item">{companies}</a>
    <a class="menu-item">{apps}</a>
    <a class="menu-item active" id="menu-app" href="/?user={user_id}&amp;lang={lang}">{app}</a>
  </nav>
  <main id="portal-work">
    <h1 id="app-title">{app}</h1>
    {work}
  </main>
</div>
<div id="crm-picker" class="modal" hidden>
  <div class="modal-box">
    <h2 id="crm-picker-title"></h2>
    <input id="crm-picker-search" type="search" autocomplete="off">
    <div id="crm-picker-tabs"></div>
    <ul id="crm-picker-list"></ul>
    <div class="modal-buttons"><button id="crm-picker-ok" type="button"></button> <button id="crm-picker-cancel" type="button"></button></div>
  </div>
</div>
<script>const SANDBOX = {boot};</script>
<script>{JS}</script>
</body>
</html>"#,
        title = esc(t.title),
        domain = esc(&inner.info.domain),
        user_label = esc(t.user),
        crm = esc(t.crm),
        contacts = esc(t.contacts),
        companies = esc(t.companies),
        apps = esc(t.apps),
        app = esc(t.app),
        user_id = user.id,
    );
    HttpResponse::Ok().content_type("text/html; charset=utf-8").body(html)
}

fn frame_html(form: &LaunchForm) -> String {
    let inputs: String = form
        .fields
        .iter()
        .map(|(k, v)| format!("<input type=\"hidden\" name=\"{}\" value=\"{}\">", esc(k), esc(v)))
        .collect();
    format!(
        r#"<input type="hidden" id="app-frame-name" name="app-frame-name" value="{name}">
<form id="app-launch-form" method="post" action="{action}" target="{name}" data-install="{install}">{inputs}</form>
<iframe id="app-frame" name="{name}" allow="geolocation *; microphone *; camera *" data-app-sid="{sid}"></iframe>"#,
        name = esc(&form.frame_name),
        action = esc(&form.action),
        install = form.install,
        sid = esc(&form.app_sid),
    )
}

const CSS: &str = r#"
*{box-sizing:border-box}body{margin:0;font:14px/1.4 "Helvetica Neue",Arial,sans-serif;background:#eef2f4;color:#333}
#portal-header{display:flex;align-items:center;gap:12px;height:56px;padding:0 20px;background:#2fc6f6;color:#fff}
.logo{font-size:22px;font-weight:300}.logo b{font-weight:700}.portal-domain{opacity:.85}.spacer{flex:1}
#user-switcher{padding:4px;border-radius:4px;border:0}.lang{color:#fff;text-decoration:none;opacity:.7;margin-left:4px}.lang.active{opacity:1;font-weight:700}
#portal-body{display:flex;min-height:calc(100vh - 56px)}
#portal-menu{width:220px;background:#1f2c3a;padding:12px 0}#portal-menu .menu-item{display:block;color:#c5ccd3;padding:9px 22px;text-decoration:none}
#portal-menu .menu-item.active{background:#2c3d4f;color:#fff;border-left:3px solid #2fc6f6}
#portal-work{flex:1;padding:16px 22px;min-width:0}#app-title{font-size:24px;font-weight:300;margin:0 0 12px}
#app-frame{display:block;width:100%;height:600px;border:0;background:#fff;border-radius:8px}
.notice{background:#fff;border-radius:8px;padding:24px;color:#666}#app-launch-form{display:none}
.modal{position:fixed;inset:0;background:rgba(0,0,0,.4);display:flex;align-items:center;justify-content:center}.modal[hidden]{display:none}
.modal-box{background:#fff;border-radius:8px;padding:18px;width:520px;max-height:80vh;display:flex;flex-direction:column;gap:8px}
#crm-picker-list{list-style:none;margin:0;padding:0;overflow:auto;flex:1;border-top:1px solid #eee}#crm-picker-list li{padding:5px 2px;border-bottom:1px solid #f3f3f3}
#crm-picker-search{padding:6px;border:1px solid #ccc;border-radius:4px}.tab{margin-right:6px}.tab.active{font-weight:700}
.modal-buttons{text-align:right}.modal-buttons button{padding:6px 14px}
"#;

/// The page's side of the frame protocol (reference 6.1). Messages are `command:params:callback:APP_SID`
/// strings (or objects); answers are `callback:JSON` strings posted to the app's origin.
const JS: &str = r#"
(function () {
  if (!SANDBOX) { return; }
  var frame = document.getElementById('app-frame');
  var form = document.getElementById('app-launch-form');
  var init = SANDBOX.init;
  var picker = document.getElementById('crm-picker');
  window.SANDBOX_LOG = [];
  function reply(callback, data) {
    if (!callback) { return; }
    frame.contentWindow.postMessage(callback + ':' + JSON.stringify(data === undefined ? {} : data), SANDBOX.appOrigin);
  }
  function post(path, body) {
    return fetch(path, {method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body || {})})
      .then(function (r) { return r.json(); });
  }
  function parse(data) {
    if (data && typeof data === 'object') {
      return {command: data.method, params: data.params, callback: data.callback, sid: data.appSid};
    }
    if (typeof data !== 'string') { return null; }
    var parts = data.split(':');
    var m = {command: parts[0], params: null, callback: null, sid: null};
    if (parts.length >= 4) {
      m.sid = parts[parts.length - 1];
      m.callback = parts[parts.length - 2];
      m.params = parts.slice(1, parts.length - 2).join(':');
    } else if (parts.length === 3) {
      m.sid = parts[2];
      if (/^[\[{"]/.test(parts[1])) { m.params = parts[1]; } else { m.callback = parts[1]; }
    } else if (parts.length === 2) {
      m.sid = parts[1];
    }
    if (typeof m.params === 'string') {
      try { m.params = m.params ? JSON.parse(m.params) : null; } catch (e) { m.params = null; }
    }
    return m;
  }
  var handlers = {
    getInitData: function (p, cb) { reply(cb, init); },
    setInstallFinish: function () {
      post('/_sandbox/install-finish').then(function () {
        location.href = '/?user=' + SANDBOX.userId + '&lang=' + init.LANG;
      });
    },
    setInstall: function (p, cb) { reply(cb, {}); },
    resizeWindow: function (p, cb) {
      p = p || {};
      var width = p.width === '100%' || p.width === undefined ? '100%' : (parseInt(p.width, 10) || 0) + 'px';
      var height = parseInt(p.height, 10);
      frame.style.width = width;
      if (height > 0) { frame.style.height = height + 'px'; }
      reply(cb, {width: width === '100%' ? '100%' : parseInt(width, 10), height: height > 0 ? height : frame.offsetHeight});
    },
    refreshAuth: function (p, cb) {
      post('/_sandbox/tokens', {user_id: SANDBOX.userId}).then(function (t) {
        init.AUTH_ID = t.access_token;
        init.REFRESH_ID = t.refresh_token;
        init.AUTH_EXPIRES = String(t.expires_in);
        reply(cb, {AUTH_ID: t.access_token, AUTH_EXPIRES: String(t.expires_in), REFRESH_ID: t.refresh_token});
      });
    },
    setTitle: function (p, cb) {
      var title = p && (p.title !== undefined ? p.title : p);
      if (typeof title === 'string') {
        document.getElementById('app-title').textContent = title;
        document.title = title;
      }
      reply(cb, {});
    },
    setAppOption: function (p, cb) { if (p) { Object.assign(init.APP_OPTIONS, p.options || p); } reply(cb, {}); },
    setUserOption: function (p, cb) { if (p) { Object.assign(init.USER_OPTIONS, p.options || p); } reply(cb, {}); },
    reloadWindow: function () { location.reload(); },
    setScroll: function (p, cb) { window.scrollTo(0, (p && parseInt(p.scroll, 10)) || 0); reply(cb, {}); },
    selectCRM: function (p, cb) { openPicker(p || {}, cb); }
  };
  window.addEventListener('message', function (e) {
    if (e.origin !== SANDBOX.appOrigin || e.source !== frame.contentWindow) { return; }
    var m = parse(e.data);
    if (!m || m.sid !== SANDBOX.appSid || !handlers[m.command]) { return; }
    window.SANDBOX_LOG.push({command: m.command, params: m.params, callback: m.callback});
    handlers[m.command](m.params, m.callback);
  });

  var PREFIX = {contact: 'C_', company: 'CO_'};
  function openPicker(p, cb) {
    var types = (p.entityType || ['contact', 'company']).filter(function (t) { return PREFIX[t]; });
    if (!types.length) { types = ['contact']; }
    var multiple = p.multiple !== false && p.multiple !== 'N';
    var chosen = {};
    var value = p.value || {};
    types.forEach(function (t) {
      chosen[t] = {};
      (value[t] || []).forEach(function (v) {
        var id = String(v).replace(/^(C|CO)_/, '');
        chosen[t][id] = {id: PREFIX[t] + id, type: t, title: ''};
      });
    });
    var active = types[0];
    var search = document.getElementById('crm-picker-search');
    var list = document.getElementById('crm-picker-list');
    var tabs = document.getElementById('crm-picker-tabs');
    document.getElementById('crm-picker-title').textContent = SANDBOX.texts.pick;
    search.placeholder = SANDBOX.texts.search;
    search.value = '';
    document.getElementById('crm-picker-ok').textContent = SANDBOX.texts.choose;
    document.getElementById('crm-picker-cancel').textContent = SANDBOX.texts.cancel;
    function load() {
      var url = '/_sandbox/crm-search?user=' + SANDBOX.userId + '&type=' + active + '&q=' + encodeURIComponent(search.value);
      fetch(url).then(function (r) { return r.json(); }).then(function (rows) {
        list.innerHTML = '';
        rows.forEach(function (row) {
          var li = document.createElement('li');
          var box = document.createElement('input');
          box.type = multiple ? 'checkbox' : 'radio';
          box.name = 'crm-picker-choice';
          box.className = 'crm-picker-item';
          box.dataset.id = PREFIX[active] + row.id;
          box.dataset.type = active;
          box.checked = !!chosen[active][row.id];
          box.addEventListener('change', function () {
            if (!multiple) { types.forEach(function (t) { chosen[t] = {}; }); }
            if (box.checked) {
              chosen[active][row.id] = {id: PREFIX[active] + row.id, type: active, place: active, title: row.title, desc: row.desc, url: row.url, image: ''};
            } else { delete chosen[active][row.id]; }
          });
          var label = document.createElement('label');
          label.appendChild(box);
          label.appendChild(document.createTextNode(' ' + row.title + (row.desc ? ' — ' + row.desc : '')));
          li.appendChild(label);
          list.appendChild(li);
        });
      });
    }
    tabs.innerHTML = '';
    types.forEach(function (t) {
      var b = document.createElement('button');
      b.type = 'button';
      b.id = 'crm-picker-tab-' + t;
      b.className = 'tab' + (t === active ? ' active' : '');
      b.textContent = t;
      b.onclick = function () {
        active = t;
        Array.prototype.forEach.call(tabs.children, function (c) { c.className = 'tab' + (c === b ? ' active' : ''); });
        load();
      };
      tabs.appendChild(b);
    });
    search.oninput = load;
    function close(result) {
      picker.hidden = true;
      reply(cb, result);
    }
    document.getElementById('crm-picker-ok').onclick = function () {
      var result = {};
      types.forEach(function (t) { result[t] = Object.keys(chosen[t]).map(function (k) { return chosen[t][k]; }); });
      close(result);
    };
    document.getElementById('crm-picker-cancel').onclick = function () { close({}); };
    picker.hidden = false;
    load();
  }

  form.submit();
})();
"#;
