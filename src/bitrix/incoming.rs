//! What the portal posts to the app (reference 3.1, 3.3, 3.4): the install and iframe form, and events,
//! all form-encoded with PHP bracket keys. Parsed into typed values at the edge; anything missing, too long
//! or malformed becomes a [`FormError`] that names the field and what was expected. Nothing here is
//! trusted yet: the web layer checks tokens with the OAuth server or the stored portal before acting.

use secrecy::SecretString;
use serde::Deserialize;
use serde_json::Value;

use crate::domain::{Lang, MemberId};

/// The longest form body accepted from a portal.
pub const MAX_FORM_BYTES: usize = 64 * 1024;
/// The longest single value (tokens are 32 to 70 characters; placement options are small JSON).
const MAX_VALUE: usize = 8 * 1024;

/// A field of a portal's form that cannot be used, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct FormError {
    pub field: &'static str,
    pub problem: FormProblem,
}

/// What is wrong with a field. `Display` is for logs; pages say it in the viewer's language.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormProblem {
    #[error("is missing")]
    Missing,
    #[error("is larger than {kib} KiB")]
    TooLarge { kib: usize },
    #[error("is not UTF-8")]
    NotUtf8,
    #[error("is not a valid form ({0})")]
    Malformed(String),
    #[error("is longer than {max} characters")]
    TooLong { max: usize },
    #[error("is not a portal's member_id ({0})")]
    NotAMemberId(String),
    #[error("is not a token")]
    NotAToken,
    #[error("is not a number of seconds")]
    NotSeconds,
    #[error("is not JSON")]
    NotJson,
}

fn missing(field: &'static str) -> FormError {
    FormError { field, problem: FormProblem::Missing }
}

fn qs() -> serde_qs::Config {
    serde_qs::Config::new().max_depth(3).use_form_encoding(true)
}

fn parse_form<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, FormError> {
    if body.len() > MAX_FORM_BYTES {
        return Err(FormError { field: "body", problem: FormProblem::TooLarge { kib: MAX_FORM_BYTES / 1024 } });
    }
    if std::str::from_utf8(body).is_err() {
        return Err(FormError { field: "body", problem: FormProblem::NotUtf8 });
    }
    qs().deserialize_bytes(body)
        .map_err(|e| FormError { field: "body", problem: FormProblem::Malformed(e.to_string()) })
}

fn required(field: &'static str, v: Option<String>) -> Result<String, FormError> {
    let v = v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).ok_or_else(|| missing(field))?;
    bounded(field, v)
}

fn bounded(field: &'static str, v: String) -> Result<String, FormError> {
    if v.len() > MAX_VALUE {
        return Err(FormError { field, problem: FormProblem::TooLong { max: MAX_VALUE } });
    }
    Ok(v)
}

fn optional(field: &'static str, v: Option<String>) -> Result<Option<String>, FormError> {
    v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).map(|s| bounded(field, s)).transpose()
}

fn member_id(field: &'static str, v: Option<String>) -> Result<MemberId, FormError> {
    let raw = required(field, v)?;
    MemberId::parse(&raw).map_err(|e| FormError { field, problem: FormProblem::NotAMemberId(e.to_string()) })
}

/// A token that looks like one: printable ASCII without spaces, of a sane length.
fn token(field: &'static str, v: Option<String>) -> Result<SecretString, FormError> {
    let raw = required(field, v)?;
    if raw.len() > 512 || !raw.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(FormError { field, problem: FormProblem::NotAToken });
    }
    Ok(SecretString::from(raw))
}

fn optional_token(field: &'static str, v: Option<String>) -> Result<Option<SecretString>, FormError> {
    match optional(field, v)? {
        Some(t) => token(field, Some(t)).map(Some),
        None => Ok(None),
    }
}

/// The query string the portal adds to the app's URL (reference 3.1).
#[derive(Debug, Clone, Default)]
pub struct FrameQuery {
    /// The host the request claims to come from: informational only, never called.
    pub domain: String,
    pub https: bool,
    pub lang: Lang,
    pub app_sid: String,
}

#[derive(Deserialize, Default)]
#[allow(non_snake_case)]
struct RawQuery {
    DOMAIN: Option<String>,
    PROTOCOL: Option<String>,
    LANG: Option<String>,
    APP_SID: Option<String>,
}

impl FrameQuery {
    /// Reads what it can; a missing or odd value falls back to a harmless default.
    pub fn parse(query: &str) -> FrameQuery {
        let raw: RawQuery = qs().deserialize_str(query).unwrap_or_default();
        FrameQuery {
            domain: raw.DOMAIN.unwrap_or_default().chars().take(255).collect(),
            https: raw.PROTOCOL.as_deref() != Some("0"),
            lang: Lang::from_portal(raw.LANG.as_deref().unwrap_or("en")),
            app_sid: raw.APP_SID.unwrap_or_default().chars().filter(char::is_ascii_alphanumeric).take(64).collect(),
        }
    }
}

/// The form posted to the install page and to the app's handler in the iframe.
#[derive(Debug, Clone)]
pub struct FrameForm {
    pub auth_id: SecretString,
    pub auth_expires: u64,
    pub refresh_id: Option<SecretString>,
    pub member_id: MemberId,
    pub server_endpoint: Option<String>,
    pub application_token: Option<SecretString>,
    pub scope: Option<String>,
    pub status: Option<String>,
    pub placement: String,
    pub placement_options: Value,
}

#[derive(Deserialize)]
#[allow(non_snake_case)]
struct RawFrameForm {
    AUTH_ID: Option<String>,
    AUTH_EXPIRES: Option<String>,
    REFRESH_ID: Option<String>,
    SERVER_ENDPOINT: Option<String>,
    APPLICATION_TOKEN: Option<String>,
    APPLICATION_SCOPE: Option<String>,
    member_id: Option<String>,
    status: Option<String>,
    PLACEMENT: Option<String>,
    PLACEMENT_OPTIONS: Option<String>,
}

impl FrameForm {
    pub fn parse(body: &[u8]) -> Result<FrameForm, FormError> {
        let raw: RawFrameForm = parse_form(body)?;
        let auth_expires = match optional("AUTH_EXPIRES", raw.AUTH_EXPIRES)? {
            None => 3600,
            Some(s) => {
                s.parse::<u64>().map_err(|_| FormError { field: "AUTH_EXPIRES", problem: FormProblem::NotSeconds })?
            }
        };
        let placement_options = match optional("PLACEMENT_OPTIONS", raw.PLACEMENT_OPTIONS)? {
            None => Value::Object(Default::default()),
            Some(s) => serde_json::from_str::<Value>(&s)
                .map_err(|_| FormError { field: "PLACEMENT_OPTIONS", problem: FormProblem::NotJson })?,
        };
        Ok(FrameForm {
            auth_id: token("AUTH_ID", raw.AUTH_ID)?,
            auth_expires,
            refresh_id: optional_token("REFRESH_ID", raw.REFRESH_ID)?,
            member_id: member_id("member_id", raw.member_id)?,
            server_endpoint: optional("SERVER_ENDPOINT", raw.SERVER_ENDPOINT)?,
            application_token: optional_token("APPLICATION_TOKEN", raw.APPLICATION_TOKEN)?,
            scope: optional("APPLICATION_SCOPE", raw.APPLICATION_SCOPE)?,
            status: optional("status", raw.status)?,
            placement: optional("PLACEMENT", raw.PLACEMENT)?.unwrap_or_else(|| "DEFAULT".into()),
            placement_options,
        })
    }
}

/// The `auth` block of an event.
#[derive(Debug, Clone)]
pub struct EventAuth {
    pub member_id: MemberId,
    pub application_token: Option<SecretString>,
    pub access_token: Option<SecretString>,
    pub refresh_token: Option<SecretString>,
    pub expires_in: Option<u64>,
    pub domain: Option<String>,
    pub client_endpoint: Option<String>,
    pub server_endpoint: Option<String>,
    pub scope: Option<String>,
    pub status: Option<String>,
}

/// An event the portal posted.
#[derive(Debug, Clone)]
pub enum PortalEvent {
    AppInstall { auth: EventAuth, language: Lang },
    AppUninstall { auth: EventAuth, clean: bool },
    Other { name: String, auth: Option<EventAuth> },
}

#[derive(Deserialize, Default)]
struct RawAuth {
    member_id: Option<String>,
    application_token: Option<String>,
    access_token: Option<String>,
    refresh_token: Option<String>,
    expires_in: Option<String>,
    domain: Option<String>,
    client_endpoint: Option<String>,
    server_endpoint: Option<String>,
    scope: Option<String>,
    status: Option<String>,
}

#[derive(Deserialize, Default)]
#[allow(non_snake_case)]
struct RawData {
    LANGUAGE_ID: Option<String>,
    CLEAN: Option<String>,
}

#[derive(Deserialize)]
struct RawEvent {
    event: Option<String>,
    #[serde(default)]
    data: Option<RawData>,
    #[serde(default)]
    auth: Option<RawAuth>,
}

impl EventAuth {
    fn parse(raw: RawAuth) -> Result<EventAuth, FormError> {
        Ok(EventAuth {
            member_id: member_id("auth[member_id]", raw.member_id)?,
            application_token: optional_token("auth[application_token]", raw.application_token)?,
            access_token: optional_token("auth[access_token]", raw.access_token)?,
            refresh_token: optional_token("auth[refresh_token]", raw.refresh_token)?,
            expires_in: optional("auth[expires_in]", raw.expires_in)?.and_then(|s| s.parse().ok()),
            domain: optional("auth[domain]", raw.domain)?,
            client_endpoint: optional("auth[client_endpoint]", raw.client_endpoint)?,
            server_endpoint: optional("auth[server_endpoint]", raw.server_endpoint)?,
            scope: optional("auth[scope]", raw.scope)?,
            status: optional("auth[status]", raw.status)?,
        })
    }
}

impl PortalEvent {
    pub fn parse(body: &[u8]) -> Result<PortalEvent, FormError> {
        let raw: RawEvent = parse_form(body)?;
        let name = required("event", raw.event)?.to_ascii_uppercase();
        let data = raw.data.unwrap_or_default();
        let auth = raw.auth.ok_or_else(|| missing("auth"));
        match name.as_str() {
            "ONAPPINSTALL" => Ok(PortalEvent::AppInstall {
                auth: EventAuth::parse(auth?)?,
                language: Lang::from_portal(data.LANGUAGE_ID.as_deref().unwrap_or("en")),
            }),
            "ONAPPUNINSTALL" => Ok(PortalEvent::AppUninstall {
                auth: EventAuth::parse(auth?)?,
                clean: matches!(data.CLEAN.as_deref().map(str::trim), Some("1") | Some("Y") | Some("true")),
            }),
            _ => Ok(PortalEvent::Other { name, auth: auth.ok().and_then(|a| EventAuth::parse(a).ok()) }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use secrecy::ExposeSecret;

    #[test]
    fn the_documented_install_event_parses() {
        let body = "event=ONAPPINSTALL&data%5BVERSION%5D=1&data%5BACTIVE%5D=Y&data%5BINSTALLED%5D=Y&data%5BLANGUAGE_ID%5D=ru\
            &ts=1696527000&auth%5Bdomain%5D=some.bitrix24.com&auth%5Bscope%5D=crm&auth%5Baccess_token%5D=s6p6eclrvim6da22\
            &auth%5Brefresh_token%5D=4s386p3q0tr8dy89&auth%5Bexpires_in%5D=3600\
            &auth%5Bserver_endpoint%5D=https%3A%2F%2Foauth.bitrix.info%2Frest%2F&auth%5Bstatus%5D=F\
            &auth%5Bclient_endpoint%5D=https%3A%2F%2Fsome.bitrix24.com%2Frest%2F\
            &auth%5Bmember_id%5D=a223c6b3710f85df22e9377d6c4f7553&auth%5Bapplication_token%5D=51856fefc120afa4";
        let PortalEvent::AppInstall { auth, language } = PortalEvent::parse(body.as_bytes()).unwrap() else {
            panic!("an install event");
        };
        assert_eq!(language, Lang::Ru);
        assert_eq!(auth.member_id.as_str(), "a223c6b3710f85df22e9377d6c4f7553");
        assert_eq!(auth.access_token.unwrap().expose_secret(), "s6p6eclrvim6da22");
        assert_eq!(auth.application_token.unwrap().expose_secret(), "51856fefc120afa4");
    }

    #[test]
    fn uninstall_reads_clean() {
        let body = "event=ONAPPUNINSTALL&data[CLEAN]=1&auth[member_id]=abc&auth[application_token]=tok";
        let PortalEvent::AppUninstall { clean, .. } = PortalEvent::parse(body.as_bytes()).unwrap() else {
            panic!("an uninstall event");
        };
        assert!(clean);
    }

    #[test]
    fn a_frame_form_names_what_is_wrong() {
        let e = FrameForm::parse(b"member_id=abc").unwrap_err();
        assert_eq!(e.to_string(), "AUTH_ID: is missing");
        let e = FrameForm::parse(b"AUTH_ID=x&member_id=abc&PLACEMENT_OPTIONS=%7Bnot").unwrap_err();
        assert_eq!(e.field, "PLACEMENT_OPTIONS");
        let ok = FrameForm::parse(b"AUTH_ID=x&member_id=abc&PLACEMENT_OPTIONS=%7B%22a%22%3A1%7D").unwrap();
        assert_eq!(ok.placement_options["a"], 1);
        assert_eq!(FrameForm::parse(&[0xff, 0xfe]).unwrap_err().problem, FormProblem::NotUtf8);
    }

    proptest! {
        #[test]
        fn parsers_never_panic(body in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = FrameForm::parse(&body);
            let _ = PortalEvent::parse(&body);
            let _ = FrameQuery::parse(&String::from_utf8_lossy(&body));
        }
    }
}
