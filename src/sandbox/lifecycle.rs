//! The portal's side of the app's lifecycle (reference 3.1–3.4): the form it posts into the app's iframe
//! (the install page until the install finishes, then the handler), and the `ONAPPINSTALL` and
//! `ONAPPUNINSTALL` events with their bracket-key bodies.

use serde::Serialize;

use super::model::{Delivery, random_hex32};
use super::state::State;
use super::{Info, Inner, SandboxError, oauth, placements};

/// The iframe POST of reference 3.1: where it goes, the frame's name, and the body fields in order.
#[derive(Clone, Debug, Serialize)]
pub struct LaunchForm {
    /// The app URL with `DOMAIN`, `PROTOCOL`, `LANG`, `APP_SID` in the query.
    pub action: String,
    /// `DOMAIN|PROTOCOL|APP_SID`.
    pub frame_name: String,
    pub app_sid: String,
    pub fields: Vec<(String, String)>,
    /// True when this opens the install page.
    pub install: bool,
    pub user_id: u64,
    pub lang: String,
    pub is_admin: bool,
    pub auth_expires: u64,
    /// `PLACEMENT`: `DEFAULT` for the app's page, else the widget's code.
    pub placement: String,
    /// `PLACEMENT_OPTIONS` as an object (`{}` when the form carries none), as `getInitData` gives it.
    pub placement_options: serde_json::Value,
}

impl LaunchForm {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

fn app_base(inner: &Inner) -> Result<url::Url, SandboxError> {
    inner.info.config.app_url.clone().ok_or_else(|| SandboxError::Invalid("no app URL configured (--app-url)".into()))
}

fn join(base: &url::Url, leaf: &str) -> String {
    let mut u = base.clone();
    let path = format!("{}/{leaf}", u.path().trim_end_matches('/'));
    u.set_path(&path);
    u.to_string()
}

/// Builds the iframe form for a user, issuing a fresh pair. An administrator opening an app that is not on
/// the portal puts it back (as installing it from the market would) and gets the install page.
pub(crate) fn launch_form(
    inner: &Inner,
    user_id: u64,
    lang: Option<&str>,
    placement_options: Option<serde_json::Value>,
) -> Result<LaunchForm, SandboxError> {
    let base = app_base(inner)?;
    let mut st = inner.lock();
    let user = st.users.get(&user_id).cloned().ok_or_else(|| SandboxError::Invalid(format!("no user {user_id}")))?;
    let is_admin = user.permissions.admin;
    if !st.app.present {
        if !is_admin {
            return Err(SandboxError::Invalid("The application is not installed on this portal".into()));
        }
        st.app.present = true;
        st.app.installed = false;
        st.app.application_token = random_hex32();
    }
    if !st.app.installed && !is_admin {
        return Err(SandboxError::Invalid(NOT_INSTALLED.into()));
    }
    let install = !st.app.installed;
    let action = join(&base, if install { "install" } else { "app" });
    let lang = lang.unwrap_or(&user.lang).to_owned();
    let target = Target { action: &action, placement: "DEFAULT", options: placement_options, install };
    frame_form(&mut st, &inner.info, user_id, lang, target)
}

const NOT_INSTALLED: &str = "The application is not fully installed yet. Please contact your administrator.";

/// The form the portal posts when a user opens a widget: the handler bound with `placement.bind` (binding
/// `binding_id`), the placement's code in `PLACEMENT` and its context in `PLACEMENT_OPTIONS` (none for a
/// toolbar item). Widgets appear only once the install has finished, and only on objects the user may read.
pub(crate) fn widget_form(
    inner: &Inner,
    user_id: u64,
    lang: Option<&str>,
    binding_id: u64,
    entity_id: Option<u64>,
) -> Result<LaunchForm, SandboxError> {
    let mut st = inner.lock();
    let user = st.users.get(&user_id).cloned().ok_or_else(|| SandboxError::Invalid(format!("no user {user_id}")))?;
    if !st.app.present || !st.app.installed {
        return Err(SandboxError::Invalid(NOT_INSTALLED.into()));
    }
    let binding = st.app.placements.iter().find(|b| b.id == binding_id).cloned();
    let binding = binding.ok_or_else(|| SandboxError::Invalid(format!("no widget {binding_id} is bound")))?;
    if placements::needs_object(&binding.placement) && entity_id.is_none() {
        return Err(SandboxError::Invalid(format!("{} opens for an object: give its ID", binding.placement)));
    }
    if let (Some((kind, _)), Some(id)) = (placements::crm_widget(&binding.placement), entity_id)
        && !st.can_read(user_id, &user.permissions, kind, id)
    {
        return Err(SandboxError::Invalid(format!("user {user_id} cannot see {} {id}", kind.name())));
    }
    let options = placements::widget_options(&binding.placement, entity_id);
    let lang = lang.unwrap_or(&user.lang).to_owned();
    let target = Target { action: &binding.handler, placement: &binding.placement, options, install: false };
    frame_form(&mut st, &inner.info, user_id, lang, target)
}

/// JSON as the portal's PHP writes it into `PLACEMENT_OPTIONS`: `/` escaped as `\/` (the widget pages show
/// `{"ID":"8061","URI":"\/crm\/deal\/list\/"}`). A `/` can only stand inside a JSON string, so the
/// replacement keeps the JSON valid and equal once parsed.
fn php_json(v: &serde_json::Value) -> String {
    v.to_string().replace('/', "\\/")
}

/// What a frame opens: the page (the app's install page or handler, or a widget's handler), the placement and
/// its context.
struct Target<'a> {
    action: &'a str,
    placement: &'a str,
    options: Option<serde_json::Value>,
    install: bool,
}

/// The frame form itself (reference 3.1): the action with `DOMAIN`, `PROTOCOL`, `LANG`, `APP_SID` in its
/// query, a fresh pair for the user, the app's token and scopes, the placement and its options.
fn frame_form(
    st: &mut State,
    info: &Info,
    user_id: u64,
    lang: String,
    target: Target<'_>,
) -> Result<LaunchForm, SandboxError> {
    let Target { action, placement, options, install } = target;
    let is_admin = st.users.get(&user_id).is_some_and(|u| u.permissions.admin);
    let app_sid = random_hex32();
    let mut action = url::Url::parse(action).map_err(|e| SandboxError::Invalid(e.to_string()))?;
    action
        .query_pairs_mut()
        .append_pair("DOMAIN", &info.domain)
        .append_pair("PROTOCOL", "0")
        .append_pair("LANG", &lang)
        .append_pair("APP_SID", &app_sid);
    let tokens = oauth::issue(st, info, user_id, None);
    let mut fields = vec![
        ("AUTH_ID".to_owned(), tokens.access_token.clone()),
        ("AUTH_EXPIRES".to_owned(), info.config.access_ttl_secs.to_string()),
        ("REFRESH_ID".to_owned(), tokens.refresh_token.clone()),
        ("SERVER_ENDPOINT".to_owned(), info.server_endpoint.clone()),
        ("APPLICATION_TOKEN".to_owned(), st.app.application_token.clone()),
        ("APPLICATION_SCOPE".to_owned(), info.scope.join(",")),
        ("member_id".to_owned(), info.member_id.clone()),
        ("status".to_owned(), info.config.app_status.clone()),
        ("PLACEMENT".to_owned(), placement.to_owned()),
    ];
    // Sent only when there is something to send (reference 3.1).
    let options = options.filter(|o| o.as_object().is_some_and(|m| !m.is_empty()));
    if let Some(opts) = &options {
        fields.push(("PLACEMENT_OPTIONS".to_owned(), php_json(opts)));
    }
    st.current_user = user_id;
    Ok(LaunchForm {
        action: action.to_string(),
        frame_name: format!("{}|0|{app_sid}", info.domain),
        app_sid,
        fields,
        install,
        user_id,
        lang,
        is_admin,
        auth_expires: info.config.access_ttl_secs,
        placement: placement.to_owned(),
        placement_options: options.unwrap_or_else(|| serde_json::json!({})),
    })
}

/// Posts a form-encoded body to the app and records the delivery.
async fn deliver(
    inner: &Inner,
    kind: &str,
    url: &str,
    fields: Vec<(String, String)>,
) -> Result<(u16, String), SandboxError> {
    let sent = inner.http.post(url).form(&fields).send().await;
    let (status, body, err) = match sent {
        Ok(r) => {
            let s = r.status().as_u16();
            (Some(s), r.text().await.unwrap_or_default(), None)
        }
        Err(e) => (None, String::new(), Some(e.to_string())),
    };
    inner.lock().deliveries.push(Delivery { kind: kind.into(), url: url.into(), fields, status });
    match (status, err) {
        (Some(s), _) => Ok((s, body)),
        (None, e) => Err(SandboxError::App(e.unwrap_or_default())),
    }
}

pub(crate) async fn post_form(inner: &Inner, form: &LaunchForm, kind: &str) -> Result<(u16, String), SandboxError> {
    deliver(inner, kind, &form.action, form.fields.clone()).await
}

/// reference 3.3: `ONAPPINSTALL` with the installing administrator's tokens; the install completes.
pub(crate) async fn install_app(inner: &Inner) -> Result<u16, SandboxError> {
    let base = app_base(inner)?;
    let info = &inner.info;
    let fields = {
        let mut st = inner.lock();
        if !st.app.present {
            st.app.application_token = random_hex32();
        }
        st.app.present = true;
        st.app.installed = true;
        let admin = st.users.values().find(|u| u.permissions.admin).map(|u| u.id).unwrap_or(1);
        let t = oauth::issue(&mut st, info, admin, None);
        let lang = st.users.get(&admin).map(|u| u.lang.clone()).unwrap_or_else(|| info.config.lang.clone());
        let mut f: Vec<(String, String)> = vec![
            ("event".into(), "ONAPPINSTALL".into()),
            ("data[VERSION]".into(), st.app.version.to_string()),
            ("data[ACTIVE]".into(), "Y".into()),
            ("data[INSTALLED]".into(), "Y".into()),
            ("data[LANGUAGE_ID]".into(), lang),
            ("ts".into(), (st.now() as i64).to_string()),
            ("auth[domain]".into(), info.domain.clone()),
            ("auth[scope]".into(), t.scope.clone()),
            ("auth[access_token]".into(), t.access_token.clone()),
            ("auth[refresh_token]".into(), t.refresh_token.clone()),
            ("auth[expires_in]".into(), t.expires_in.to_string()),
            ("auth[server_endpoint]".into(), info.server_endpoint.clone()),
            ("auth[status]".into(), info.config.app_status.clone()),
            ("auth[client_endpoint]".into(), info.rest_url.clone()),
            ("auth[member_id]".into(), info.member_id.clone()),
            ("auth[application_token]".into(), st.app.application_token.clone()),
        ];
        if info.config.quirks.install_event_auth_extras {
            f.push(("auth[expires]".into(), t.expires.unwrap_or_default().to_string()));
            f.push(("auth[user_id]".into(), admin.to_string()));
            f.push(("auth[client_id]".into(), info.client_id.clone()));
        }
        f
    };
    deliver(inner, "ONAPPINSTALL", &join(&base, "events"), fields).await.map(|(s, _)| s)
}

/// reference 3.4: `ONAPPUNINSTALL` without tokens, to the bound handlers (or the app's event URL), then
/// the app is gone: tokens, bindings and the install flag.
pub(crate) async fn uninstall_app(inner: &Inner, clean: bool) -> Result<u16, SandboxError> {
    let base = app_base(inner)?;
    let info = &inner.info;
    let (targets, fields, was_installed) = {
        let st = inner.lock();
        let mut targets: Vec<String> =
            st.app.events.iter().filter(|b| b.event == "ONAPPUNINSTALL").map(|b| b.handler.clone()).collect();
        if targets.is_empty() {
            targets.push(join(&base, "events"));
        }
        let lang = st.users.values().find(|u| u.permissions.admin).map(|u| u.lang.clone()).unwrap_or_default();
        let fields: Vec<(String, String)> = vec![
            ("event".into(), "ONAPPUNINSTALL".into()),
            ("data[LANGUAGE_ID]".into(), lang),
            ("data[CLEAN]".into(), if clean { "1" } else { "0" }.into()),
            ("ts".into(), (st.now() as i64).to_string()),
            ("auth[domain]".into(), info.domain.clone()),
            ("auth[server_endpoint]".into(), info.server_endpoint.clone()),
            ("auth[client_endpoint]".into(), info.rest_url.clone()),
            ("auth[member_id]".into(), info.member_id.clone()),
            ("auth[application_token]".into(), st.app.application_token.clone()),
        ];
        (targets, fields, st.app.installed)
    };
    {
        let mut st = inner.lock();
        st.app.present = false;
        st.app.installed = false;
        st.app.events.clear();
        st.app.placements.clear();
        st.access.clear();
        st.refresh.clear();
        st.codes.clear();
    }
    // Events reach an app only once its install has finished.
    if !was_installed {
        return Ok(0);
    }
    let mut last = 0;
    for t in targets {
        last = deliver(inner, "ONAPPUNINSTALL", &t, fields.clone()).await?.0;
    }
    Ok(last)
}
