//! Identity and app methods (reference 5.7, 3.6): `profile`, `app.info`, `event.bind`.

use serde_json::{Value, json};

use super::call::{Cx, MethodResult, RestError, Success};
use super::model::EventBinding;
use super::params::{PArr, PValue};

/// Events `event.bind` accepts (upper-cased names).
const KNOWN_EVENTS: [&str; 14] = [
    "ONAPPINSTALL",
    "ONAPPUNINSTALL",
    "ONAPPUPDATE",
    "ONAPPPAYMENT",
    "ONAPPTEST",
    "ONCRMCONTACTADD",
    "ONCRMCONTACTUPDATE",
    "ONCRMCONTACTDELETE",
    "ONCRMCOMPANYADD",
    "ONCRMCOMPANYUPDATE",
    "ONCRMCOMPANYDELETE",
    "ONCRMACTIVITYADD",
    "ONUSERADD",
    "ONOFFLINEEVENT",
];

fn is_admin(cx: &Cx<'_>) -> bool {
    cx.st.user(cx.caller.user_id).is_some_and(|u| u.permissions.admin)
}

fn argument_error(name: &str) -> RestError {
    RestError::new(400, "ERROR_ARGUMENT", format!("Argument '{name}' is null or empty")).with("argument", json!(name))
}

pub fn profile(cx: &mut Cx<'_>) -> MethodResult {
    let Some(u) = cx.st.user(cx.caller.user_id) else {
        return Err(RestError::new(403, "ACCESS_DENIED", "Access denied! User authorization required"));
    };
    Ok(Success::of(json!({
        "ID": u.id.to_string(),
        "ADMIN": u.permissions.admin,
        "NAME": u.name,
        "LAST_NAME": u.last_name,
        "PERSONAL_GENDER": "",
        "TIME_ZONE": "Europe/Moscow",
        "TIME_ZONE_OFFSET": 10800,
    })))
}

pub fn app_info(cx: &mut Cx<'_>) -> MethodResult {
    let lang = cx.info.config.lang.clone();
    let enterprise = cx.st.rt.limits.burst >= 250.0;
    let (license_type, family) = if enterprise { ("ent250", "ent") } else { ("basic", "basic") };
    Ok(Success::of(json!({
        "ID": 5,
        "CODE": cx.info.client_id,
        "VERSION": cx.st.app.version,
        "STATUS": cx.info.config.app_status,
        "INSTALLED": cx.st.app.installed,
        "PAYMENT_EXPIRED": "N",
        "DAYS": Value::Null,
        "LANGUAGE_ID": lang,
        "LICENSE": format!("{lang}_{license_type}"),
        "LICENSE_TYPE": license_type,
        "LICENSE_FAMILY": family,
    })))
}

/// reference 3.6; bindings are kept so the portal can deliver events to them.
pub fn event_bind(cx: &mut Cx<'_>, params: &PArr) -> MethodResult {
    let p = params.upper_keys();
    let text = |k: &str| p.get(k).and_then(PValue::php_string).unwrap_or_default();
    let event = text("EVENT").to_uppercase();
    if event.is_empty() {
        return Err(argument_error("EVENT"));
    }
    let handler = text("HANDLER");
    if handler.is_empty() {
        return Err(argument_error("HANDLER"));
    }
    if !KNOWN_EVENTS.contains(&event.as_str()) {
        return Err(RestError::new(400, "ERROR_EVENT_NOT_FOUND", "Event not found"));
    }
    let event_type = match text("EVENT_TYPE").to_lowercase().as_str() {
        "offline" => "offline",
        _ => "online",
    };
    if event_type == "offline" && !is_admin(cx) {
        return Err(RestError::new(
            403,
            "ACCESS_DENIED",
            "Access denied! Offline events binding requires administrator access rights",
        ));
    }
    let auth_type = match p.get("AUTH_TYPE") {
        Some(v) if v.php_int() > 0 => v.php_int() as u64,
        _ => 0,
    };
    if auth_type != 0 && auth_type != cx.caller.user_id && !is_admin(cx) {
        return Err(RestError::new(
            403,
            "ACCESS_DENIED",
            "Access denied! Event binding with AUTH_TYPE requires administrator access rights",
        ));
    }
    let b = EventBinding { event, handler, auth_type, event_type: event_type.into() };
    if !cx.st.app.events.contains(&b) {
        cx.st.app.events.push(b);
    }
    Ok(Success::of(json!(true)))
}
