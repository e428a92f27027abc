//! Who is calling and what the app is on this portal: `user.current`, `profile`, `app.info` (reference
//! 5.7), and the install-time bindings `event.bind` and `placement.bind` (3.6).

use serde_json::{Value, json};

use super::{bad, field_u64, text};
use crate::bitrix::batch::Command;
use crate::bitrix::error::BitrixError;
use crate::bitrix::rest::Caller;
use crate::bitrix::tokens::TokenStore;
use crate::domain::UserId;

/// The user a token belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrentUser {
    pub id: UserId,
    pub name: String,
    pub last_name: String,
    pub email: String,
}

impl CurrentUser {
    pub fn display_name(&self) -> String {
        let full = format!("{} {}", self.name.trim(), self.last_name.trim());
        let full = full.trim();
        if full.is_empty() { format!("#{}", self.id) } else { full.to_owned() }
    }
}

/// `profile`: who, and whether they administer the portal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub id: UserId,
    pub admin: bool,
    pub name: String,
    pub last_name: String,
}

/// `app.info`: the app on this portal, as the portal or the OAuth server sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppInfo {
    pub id: u64,
    pub code: String,
    pub status: String,
    pub installed: bool,
    pub payment_expired: bool,
    pub language_id: String,
    pub license: String,
    /// Present when the OAuth server answers for an app token: whose portal it is.
    pub member_id: Option<String>,
}

fn user_id(method: &str, v: &Value) -> Result<UserId, BitrixError> {
    UserId::new(field_u64(method, v, "ID")?).map_err(|e| bad(method, e.to_string()))
}

pub fn parse_app_info(result: &Value) -> AppInfo {
    let flag = |k: &str| match result.get(k) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("Y") || s == "1" || s.eq_ignore_ascii_case("true"),
        Some(Value::Number(n)) => n.as_u64() == Some(1),
        _ => false,
    };
    AppInfo {
        id: result.get("ID").and_then(crate::bitrix::rest::as_u64).unwrap_or(0),
        code: text(result, "CODE"),
        status: text(result, "STATUS"),
        installed: flag("INSTALLED"),
        payment_expired: flag("PAYMENT_EXPIRED"),
        language_id: text(result, "LANGUAGE_ID"),
        license: text(result, "LICENSE"),
        member_id: result
            .get("MEMBER_ID")
            .or_else(|| result.get("member_id"))
            .and_then(Value::as_str)
            .map(str::to_owned),
    }
}

pub fn parse_user(r: &Value) -> Result<CurrentUser, BitrixError> {
    Ok(CurrentUser {
        id: user_id("user.current", r)?,
        name: text(r, "NAME"),
        last_name: text(r, "LAST_NAME"),
        email: text(r, "EMAIL"),
    })
}

pub fn parse_profile(r: &Value) -> Result<Profile, BitrixError> {
    Ok(Profile {
        id: user_id("profile", r)?,
        admin: matches!(r.get("ADMIN"), Some(Value::Bool(true))),
        name: text(r, "NAME"),
        last_name: text(r, "LAST_NAME"),
    })
}

impl<S: TokenStore> Caller<'_, S> {
    pub async fn user_current(&self) -> Result<CurrentUser, BitrixError> {
        parse_user(&self.call("user.current", json!({})).await?.result)
    }

    pub async fn profile(&self) -> Result<Profile, BitrixError> {
        parse_profile(&self.call("profile", json!({})).await?.result)
    }

    pub async fn app_info(&self) -> Result<AppInfo, BitrixError> {
        let env = self.call("app.info", json!({})).await?;
        Ok(parse_app_info(&env.result))
    }

    pub async fn event_bind(&self, event: &str, handler: &str) -> Result<(), BitrixError> {
        self.call("event.bind", json!({ "event": event, "handler": handler })).await.map(|_| ())
    }

    /// The app's placement handlers on the portal, as `(placement code, handler URL)`.
    pub async fn placement_get(&self) -> Result<Vec<(String, String)>, BitrixError> {
        let env = self.call("placement.get", json!({})).await?;
        let rows = super::array("placement.get", env.result)?;
        Ok(rows
            .iter()
            .map(|r| {
                let field =
                    |a: &str, b: &str| r.get(a).or_else(|| r.get(b)).and_then(Value::as_str).unwrap_or("").to_owned();
                (field("placement", "PLACEMENT"), field("handler", "HANDLER"))
            })
            .collect())
    }
}

/// A `placement.bind` command: the place, the handler, and the title in Russian and English (`LANG_ALL`), the
/// English one also as the default `TITLE`.
pub fn placement_bind_command(key: &str, placement: &str, handler: &str, title_en: &str, title_ru: &str) -> Command {
    Command::new(
        key,
        "placement.bind",
        json!({
            "PLACEMENT": placement,
            "HANDLER": handler,
            "TITLE": title_en,
            "LANG_ALL": { "en": { "TITLE": title_en }, "ru": { "TITLE": title_ru } },
        }),
    )
}
