//! Settings: read from the environment (and an optional `.env`) by clap, then parsed into typed values.
//!
//! Every variable is declared once: [`SettingsArgs`] holds what `serve` reads, built from [`CommonArgs`] (the
//! database and the logs, all `migrate` reads) and [`KeyArgs`] (which `portals` reads too), so each command's
//! `--help` lists exactly its own. A command asks for the typed settings it needs; a missing or malformed one becomes a [`SettingError`] that names the variable
//! and says what is expected, and the command stops before doing anything.

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;

use secrecy::SecretString;
use url::Url;

use crate::bitrix::RateLimit;
use crate::keys::{Keyring, SecretKey};
pub use crate::store::DatabaseUrl;

/// Where the data is and how to log: all `migrate` reads, and part of what `portals` and `serve` read.
/// Strings, so that parsing (and its error messages) stays ours. `global`, so that `portals list` and its
/// siblings take them after their own name.
#[derive(clap::Args, Debug, Clone)]
pub struct CommonArgs {
    /// `sqlite://PATH` or `postgres://…`.
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true, value_name = "URL",
          default_value = DEFAULT_DATABASE_URL)]
    pub database_url: String,

    /// Log format: `text` or `json`.
    #[arg(long, env = "APP_LOG_FORMAT", global = true, value_name = "FORMAT", default_value = "text")]
    pub log_format: String,
}

impl Default for CommonArgs {
    fn default() -> Self {
        CommonArgs { database_url: DEFAULT_DATABASE_URL.into(), log_format: "text".into() }
    }
}

/// The key ring: what `portals` needs to open sealed tokens, and `serve` to seal and sign.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct KeyArgs {
    /// 32 random bytes in base64: seals tokens, signs sessions and OAuth state (required by `serve`).
    #[arg(long, env = "APP_SECRET_KEY", global = true, hide_env_values = true, value_name = "BASE64")]
    pub secret_key: Option<String>,

    /// Older keys, comma-separated, still accepted for reading after a key rotation.
    #[arg(long, env = "APP_PREVIOUS_SECRET_KEYS", global = true, hide_env_values = true, value_name = "BASE64,…")]
    pub previous_secret_keys: Option<String>,
}

/// Every setting `serve` reads. The other commands take only their part ([`CommonArgs`], [`KeyArgs`]), and
/// `demo` and `sandbox` none, so each `--help` lists what that command reads.
#[derive(clap::Args, Debug, Clone)]
pub struct SettingsArgs {
    /// The app's client id from the Bitrix24 partner or local-app form (required by `serve`).
    #[arg(long, env = "B24_CLIENT_ID", value_name = "ID")]
    pub client_id: Option<String>,

    /// The app's client secret from the same form (required by `serve`).
    #[arg(long, env = "B24_CLIENT_SECRET", hide_env_values = true, value_name = "SECRET")]
    pub client_secret: Option<String>,

    /// Public address of the app: https, or http on a loopback address for local runs (required by `serve`).
    #[arg(long, env = "APP_BASE_URL", value_name = "URL")]
    pub base_url: Option<String>,

    /// Address to bind.
    #[arg(long, env = "APP_LISTEN", value_name = "ADDR", default_value = DEFAULT_LISTEN)]
    pub listen: String,

    #[command(flatten)]
    pub common: CommonArgs,

    #[command(flatten)]
    pub keys: KeyArgs,

    /// The Bitrix24 OAuth server (token endpoint and app-level REST).
    #[arg(long, env = "B24_OAUTH_SERVER", value_name = "URL", default_value = DEFAULT_OAUTH_SERVER)]
    pub oauth_server: String,

    /// Accept `http://` and loopback portal endpoints: for the sandbox, tests and on-premise portals without TLS.
    #[arg(long, env = "APP_ALLOW_INSECURE_PORTALS", value_name = "BOOL", default_value = "false")]
    pub allow_insecure_portals: String,

    /// Each portal's request budget: `standard` (burst 50, then 2 a second), `enterprise` (250, then 5) or
    /// `BURST/PER_SECOND`.
    #[arg(long, env = "B24_RATE_LIMIT", value_name = "PLAN", default_value = "standard")]
    pub rate_limit: String,

    /// Days the log of REST calls is kept (at least 3, as Bitrix24's marketplace rules require).
    #[arg(long, env = "APP_REST_LOG_RETENTION_DAYS", value_name = "DAYS", default_value = "7")]
    pub rest_log_retention_days: String,
}

impl Default for SettingsArgs {
    /// The defaults clap fills in, and nothing that `serve` requires.
    fn default() -> Self {
        SettingsArgs {
            client_id: None,
            client_secret: None,
            base_url: None,
            listen: DEFAULT_LISTEN.into(),
            common: CommonArgs::default(),
            keys: KeyArgs::default(),
            oauth_server: DEFAULT_OAUTH_SERVER.into(),
            allow_insecure_portals: "false".into(),
            rate_limit: "standard".into(),
            rest_log_retention_days: "7".into(),
        }
    }
}

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/b24-calllist.db";
pub const DEFAULT_OAUTH_SERVER: &str = "https://oauth.bitrix.info";

/// A setting that is missing or malformed. Its `Display` is the one line the operator reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{var} {problem}: expected {expected}")]
pub struct SettingError {
    pub var: &'static str,
    pub problem: String,
    pub expected: &'static str,
}

impl SettingError {
    fn missing(var: &'static str, expected: &'static str) -> Self {
        SettingError { var, problem: "is not set".into(), expected }
    }
    fn invalid(var: &'static str, problem: impl Into<String>, expected: &'static str) -> Self {
        SettingError { var, problem: problem.into(), expected }
    }
}

/// Several setting errors at once, so an operator fixes them in one go. One line each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingErrors(pub Vec<SettingError>);

impl fmt::Display for SettingErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for SettingErrors {}

const EXPECT_CLIENT_ID: &str = "the application's client_id from the Bitrix24 partner or local-application form";
const EXPECT_CLIENT_SECRET: &str =
    "the application's client_secret from the Bitrix24 partner or local-application form";
const EXPECT_BASE_URL: &str =
    "the app's public address, https://… (http:// only on a loopback address), e.g. https://calllist.example.com";
const EXPECT_LISTEN: &str = "HOST:PORT, e.g. 127.0.0.1:8080";
const EXPECT_DATABASE_URL: &str = "sqlite://PATH (e.g. sqlite://data/b24-calllist.db) or postgres://USER@HOST/DB";
pub const EXPECT_SECRET_KEY: &str = "32 random bytes in base64; generate one with: head -c 32 /dev/urandom | base64";
const EXPECT_PREVIOUS_KEYS: &str = "a comma-separated list of former APP_SECRET_KEY values (32 bytes in base64 each)";
const EXPECT_OAUTH_SERVER: &str = "the OAuth server's https:// address, e.g. https://oauth.bitrix.info (http:// only with APP_ALLOW_INSECURE_PORTALS=true)";
const EXPECT_BOOL: &str = "true or false";
const EXPECT_LOG_FORMAT: &str = "text or json";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// What every command needs: where the data is and how to log.
#[derive(Debug, Clone)]
pub struct CommonSettings {
    pub database: DatabaseUrl,
    pub log_format: LogFormat,
}

/// What `serve` needs on top of [`CommonSettings`].
#[derive(Debug, Clone)]
pub struct Settings {
    pub common: CommonSettings,
    pub client_id: String,
    pub client_secret: SecretString,
    pub base_url: Url,
    pub listen: SocketAddr,
    pub keys: Keyring,
    pub oauth_server: Url,
    pub allow_insecure_portals: bool,
    pub rate_limit: RateLimit,
    pub rest_log_retention_days: u32,
}

/// The parts of a local app's settings that differ from one local run to another.
#[derive(Debug, Clone)]
pub struct LocalApp {
    pub database: DatabaseUrl,
    /// Where the app listens; its public address is `http://` this address.
    pub listen: SocketAddr,
    pub client_id: String,
    pub client_secret: SecretString,
    pub oauth_server: Url,
    pub keys: Keyring,
}

impl Settings {
    /// Settings for an app on loopback, next to a sandbox portal (the demo, tests and benchmarks): plain
    /// HTTP portals allowed, the standard request budget, the default log retention and text logs.
    pub fn local(app: LocalApp) -> Settings {
        let base_url = Url::parse(&format!("http://{}/", app.listen)).expect("a socket address makes a URL");
        Settings {
            common: CommonSettings { database: app.database, log_format: LogFormat::Text },
            client_id: app.client_id,
            client_secret: app.client_secret,
            base_url,
            listen: app.listen,
            keys: app.keys,
            oauth_server: app.oauth_server,
            allow_insecure_portals: true,
            rate_limit: RateLimit::STANDARD,
            rest_log_retention_days: 7,
        }
    }
}

impl CommonArgs {
    /// Where the data is and how to log.
    pub fn common(&self) -> Result<CommonSettings, SettingErrors> {
        let mut errors = Vec::new();
        let database = collect(
            &mut errors,
            DatabaseUrl::parse(&self.database_url)
                .map_err(|e| SettingError::invalid("DATABASE_URL", e.to_string(), EXPECT_DATABASE_URL)),
        );
        let log_format = collect(&mut errors, parse_log_format(&self.log_format));
        match (database, log_format) {
            (Some(database), Some(log_format)) if errors.is_empty() => Ok(CommonSettings { database, log_format }),
            _ => Err(SettingErrors(errors)),
        }
    }
}

impl KeyArgs {
    /// The key ring; `APP_SECRET_KEY` is required.
    pub fn keys(&self) -> Result<Keyring, SettingErrors> {
        parse_keys(self.secret_key.as_deref(), self.previous_secret_keys.as_deref()).map_err(|e| SettingErrors(vec![e]))
    }

    /// The key ring when `APP_SECRET_KEY` is set, for commands that can do without opening sealed values.
    /// A key that is set but malformed is still an error: the operator meant to give one.
    pub fn keys_if_given(&self) -> Result<Option<Keyring>, SettingErrors> {
        match self.secret_key.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(_) => self.keys().map(Some),
        }
    }
}

impl SettingsArgs {
    /// Where the data is and how to log.
    pub fn common(&self) -> Result<CommonSettings, SettingErrors> {
        self.common.common()
    }

    /// Everything `serve` needs; every problem is reported, one line each.
    pub fn for_serve(&self) -> Result<Settings, SettingErrors> {
        let mut errors = Vec::new();
        let common = match self.common() {
            Ok(c) => Some(c),
            Err(SettingErrors(e)) => {
                errors.extend(e);
                None
            }
        };
        let client_id = collect(&mut errors, required(&self.client_id, "B24_CLIENT_ID", EXPECT_CLIENT_ID));
        let client_secret =
            collect(&mut errors, required(&self.client_secret, "B24_CLIENT_SECRET", EXPECT_CLIENT_SECRET));
        let allow_insecure =
            collect(&mut errors, parse_bool(&self.allow_insecure_portals, "APP_ALLOW_INSECURE_PORTALS"));
        let base_url = collect(&mut errors, parse_base_url(self.base_url.as_deref()));
        let listen = collect(
            &mut errors,
            self.listen.trim().parse::<SocketAddr>().map_err(|_| {
                SettingError::invalid("APP_LISTEN", format!("`{}` is not an address", self.listen), EXPECT_LISTEN)
            }),
        );
        let keys = collect(
            &mut errors,
            parse_keys(self.keys.secret_key.as_deref(), self.keys.previous_secret_keys.as_deref()),
        );
        let oauth_server =
            collect(&mut errors, parse_oauth_server(&self.oauth_server, allow_insecure.unwrap_or(false)));
        let rate_limit = collect(&mut errors, parse_rate_limit(&self.rate_limit));
        let retention = collect(&mut errors, parse_retention(&self.rest_log_retention_days));
        if !errors.is_empty() {
            return Err(SettingErrors(errors));
        }
        match (
            common,
            client_id,
            client_secret,
            base_url,
            listen,
            keys,
            oauth_server,
            allow_insecure,
            rate_limit,
            retention,
        ) {
            (
                Some(common),
                Some(client_id),
                Some(client_secret),
                Some(base_url),
                Some(listen),
                Some(keys),
                Some(oauth_server),
                Some(allow_insecure_portals),
                Some(rate_limit),
                Some(rest_log_retention_days),
            ) => Ok(Settings {
                common,
                client_id,
                client_secret: SecretString::from(client_secret),
                base_url,
                listen,
                keys,
                oauth_server,
                allow_insecure_portals,
                rate_limit,
                rest_log_retention_days,
            }),
            _ => unreachable!("every missing value pushed an error"),
        }
    }
}

fn collect<T>(errors: &mut Vec<SettingError>, r: Result<T, SettingError>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(e) => {
            errors.push(e);
            None
        }
    }
}

fn required(value: &Option<String>, var: &'static str, expected: &'static str) -> Result<String, SettingError> {
    match value.as_deref().map(str::trim) {
        None | Some("") => Err(SettingError::missing(var, expected)),
        Some(v) => Ok(v.to_owned()),
    }
}

fn parse_bool(value: &str, var: &'static str) -> Result<bool, SettingError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" | "" => Ok(false),
        other => Err(SettingError::invalid(var, format!("is `{other}`"), EXPECT_BOOL)),
    }
}

fn parse_log_format(value: &str) -> Result<LogFormat, SettingError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "text" | "" => Ok(LogFormat::Text),
        "json" => Ok(LogFormat::Json),
        other => Err(SettingError::invalid("APP_LOG_FORMAT", format!("is `{other}`"), EXPECT_LOG_FORMAT)),
    }
}

/// True when the URL's host is a loopback address or `localhost`.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

fn parse_base_url(value: Option<&str>) -> Result<Url, SettingError> {
    let raw = match value.map(str::trim) {
        None | Some("") => return Err(SettingError::missing("APP_BASE_URL", EXPECT_BASE_URL)),
        Some(v) => v,
    };
    let url = Url::parse(raw)
        .map_err(|e| SettingError::invalid("APP_BASE_URL", format!("`{raw}` is not a URL ({e})"), EXPECT_BASE_URL))?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(SettingError::invalid("APP_BASE_URL", "uses http:// on a public address", EXPECT_BASE_URL));
        }
        other => {
            return Err(SettingError::invalid("APP_BASE_URL", format!("has the scheme `{other}`"), EXPECT_BASE_URL));
        }
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(SettingError::invalid("APP_BASE_URL", "has a query or fragment", EXPECT_BASE_URL));
    }
    Ok(url)
}

fn parse_oauth_server(value: &str, allow_insecure: bool) -> Result<Url, SettingError> {
    let raw = value.trim();
    let url = Url::parse(raw).map_err(|e| {
        SettingError::invalid("B24_OAUTH_SERVER", format!("`{raw}` is not a URL ({e})"), EXPECT_OAUTH_SERVER)
    })?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if allow_insecure => Ok(url),
        "http" => Err(SettingError::invalid("B24_OAUTH_SERVER", "uses http://", EXPECT_OAUTH_SERVER)),
        other => {
            Err(SettingError::invalid("B24_OAUTH_SERVER", format!("has the scheme `{other}`"), EXPECT_OAUTH_SERVER))
        }
    }
}

const EXPECT_RATE_LIMIT: &str = "standard, enterprise, or BURST/PER_SECOND such as 50/2";

fn parse_rate_limit(value: &str) -> Result<RateLimit, SettingError> {
    let v = value.trim().to_ascii_lowercase();
    match v.as_str() {
        "standard" | "" => return Ok(RateLimit::STANDARD),
        "enterprise" => return Ok(RateLimit::ENTERPRISE),
        _ => {}
    }
    let parsed =
        v.split_once('/').and_then(|(b, r)| Some((b.trim().parse::<u32>().ok()?, r.trim().parse::<f64>().ok()?)));
    match parsed {
        Some((burst, per_second)) if burst > 0 && per_second > 0.0 && per_second.is_finite() => {
            Ok(RateLimit { burst, per_second })
        }
        _ => Err(SettingError::invalid("B24_RATE_LIMIT", format!("is `{value}`"), EXPECT_RATE_LIMIT)),
    }
}

const EXPECT_RETENTION: &str = "a whole number of days, at least 3";

fn parse_retention(value: &str) -> Result<u32, SettingError> {
    match value.trim().parse::<u32>() {
        Ok(days) if days >= 3 => Ok(days),
        _ => Err(SettingError::invalid("APP_REST_LOG_RETENTION_DAYS", format!("is `{value}`"), EXPECT_RETENTION)),
    }
}

fn parse_keys(current: Option<&str>, previous: Option<&str>) -> Result<Keyring, SettingError> {
    let current = match current.map(str::trim) {
        None | Some("") => return Err(SettingError::missing("APP_SECRET_KEY", EXPECT_SECRET_KEY)),
        Some(v) => v,
    };
    let current = SecretKey::from_str(current)
        .map_err(|problem| SettingError::invalid("APP_SECRET_KEY", problem.to_string(), EXPECT_SECRET_KEY))?;
    let mut older = Vec::new();
    for (i, part) in previous.unwrap_or_default().split(',').map(str::trim).enumerate() {
        if part.is_empty() {
            continue;
        }
        let key = SecretKey::from_str(part).map_err(|problem| {
            SettingError::invalid(
                "APP_PREVIOUS_SECRET_KEYS",
                format!("entry {}: {problem}", i + 1),
                EXPECT_PREVIOUS_KEYS,
            )
        })?;
        older.push(key);
    }
    Ok(Keyring::new(current, older))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full() -> SettingsArgs {
        SettingsArgs {
            client_id: Some("local.abc".into()),
            client_secret: Some("secret".into()),
            base_url: Some("https://app.example.com".into()),
            keys: KeyArgs {
                secret_key: Some(crate::keys::SecretKey::generate().to_base64()),
                previous_secret_keys: None,
            },
            ..SettingsArgs::default()
        }
    }

    #[test]
    fn a_complete_set_parses() {
        let s = full().for_serve().expect("valid settings");
        assert_eq!(s.base_url.as_str(), "https://app.example.com/");
        assert_eq!(s.common.database, DatabaseUrl::Sqlite { path: "data/b24-calllist.db".into() });
    }

    #[test]
    fn every_missing_required_setting_is_named() {
        let args = SettingsArgs::default();
        let errors = args.for_serve().unwrap_err();
        let vars: Vec<_> = errors.0.iter().map(|e| e.var).collect();
        assert_eq!(vars, ["B24_CLIENT_ID", "B24_CLIENT_SECRET", "APP_BASE_URL", "APP_SECRET_KEY"]);
        assert!(errors.to_string().contains("head -c 32 /dev/urandom | base64"));
    }

    #[test]
    fn a_key_is_optional_where_asked_for_if_given_but_must_be_valid_when_set() {
        assert!(KeyArgs::default().keys_if_given().unwrap().is_none());
        let blank = KeyArgs { secret_key: Some("  ".into()), previous_secret_keys: None };
        assert!(blank.keys_if_given().unwrap().is_none());
        let bad = KeyArgs { secret_key: Some("c2hvcnQ=".into()), previous_secret_keys: None };
        assert_eq!(bad.keys_if_given().unwrap_err().0[0].var, "APP_SECRET_KEY");
        assert!(full().keys.keys_if_given().unwrap().is_some());
    }

    #[test]
    fn a_short_key_is_refused_with_its_length() {
        let mut args = full();
        args.keys.secret_key = Some("c2hvcnQ=".into());
        let e = args.for_serve().unwrap_err();
        assert_eq!(e.0[0].var, "APP_SECRET_KEY");
        assert!(e.0[0].problem.contains("5 bytes"), "{}", e.0[0].problem);
    }

    #[test]
    fn plain_http_is_refused_for_a_public_base_url_but_allowed_on_loopback() {
        let mut args = full();
        args.base_url = Some("http://app.example.com".into());
        assert_eq!(args.for_serve().unwrap_err().0[0].var, "APP_BASE_URL");
        args.base_url = Some("http://127.0.0.1:8080".into());
        assert!(args.for_serve().is_ok());
    }

    #[test]
    fn an_unknown_database_scheme_is_named() {
        let mut args = full();
        args.common.database_url = "mysql://x".into();
        let e = args.common().unwrap_err();
        assert_eq!(e.0[0].var, "DATABASE_URL");
        assert!(e.0[0].problem.contains("`mysql`"));
    }

    #[test]
    fn rate_limits_and_retention_parse_or_are_named() {
        let mut args = full();
        args.rate_limit = "enterprise".into();
        assert_eq!(args.for_serve().unwrap().rate_limit, RateLimit::ENTERPRISE);
        args.rate_limit = "100/4".into();
        assert_eq!(args.for_serve().unwrap().rate_limit, RateLimit { burst: 100, per_second: 4.0 });
        args.rate_limit = "fast".into();
        assert_eq!(args.for_serve().unwrap_err().0[0].var, "B24_RATE_LIMIT");
        args.rate_limit = "standard".into();
        args.rest_log_retention_days = "2".into();
        assert_eq!(args.for_serve().unwrap_err().0[0].var, "APP_REST_LOG_RETENTION_DAYS");
    }

    #[test]
    fn an_http_oauth_server_needs_the_insecure_allowance() {
        let mut args = full();
        args.oauth_server = "http://127.0.0.1:9".into();
        assert_eq!(args.for_serve().unwrap_err().0[0].var, "B24_OAUTH_SERVER");
        args.allow_insecure_portals = "true".into();
        assert!(args.for_serve().unwrap().allow_insecure_portals);
    }
}
