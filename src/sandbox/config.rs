//! What a sandbox is started with, and the knobs that tests and the control API turn while it runs.
//!
//! Behaviours the reference marks [UNCONFIRMED] are settings here, defaulting to the likeliest reading.

use std::collections::HashMap;
use std::net::SocketAddr;

use serde::{Deserialize, Serialize};
use url::Url;

use super::model::EntityKind;

/// Everything a sandbox starts with. `Default` gives loopback on free ports, real-portal limits, no faults.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct SandboxConfig {
    /// The portal (REST, `/oauth/authorize/`, the portal page, `/_sandbox/`).
    pub listen: SocketAddr,
    /// The OAuth server (`/oauth/token/`, its own `/rest/`).
    pub oauth_listen: SocketAddr,
    /// The app under test: handler `{app}/app`, install page `{app}/install`, events `{app}/events`,
    /// OAuth redirect `{app}/oauth/callback`.
    pub app_url: Option<Url>,
    /// The registered app's credentials; generated from the seed when absent.
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    /// Scopes granted to the app, comma-separated as Bitrix24 writes them. Without `placement` the app may
    /// not call `placement.*`; without `crm` it may not bind the CRM widgets.
    pub scope: String,
    /// The app's name (`APP_NAME`): the title of a widget bound without one.
    pub app_name: String,
    /// `app.info` `STATUS` and the `status` of the token response and iframe POST (`F`, `D`, `T`, `P`, `L`).
    pub app_status: String,
    /// Whether the app starts installed (`INSTALLED = Y`); otherwise an administrator opening it gets the
    /// install page first.
    pub app_installed: bool,
    /// Access-token lifetime in seconds.
    pub access_ttl_secs: u64,
    /// Refresh-token lifetime in seconds (180 days).
    pub refresh_ttl_secs: u64,
    /// Authorization-code lifetime in seconds.
    pub code_ttl_secs: u64,
    pub seed: SeedConfig,
    pub limits: LimitsConfig,
    pub faults: FaultsConfig,
    pub quirks: Quirks,
    /// Largest request body accepted (bytes); larger ones get 413.
    pub max_body_bytes: usize,
    /// How many REST calls the inspection log keeps (oldest dropped first).
    pub call_log_capacity: usize,
    /// actix workers per listener.
    pub workers: usize,
    /// The portal's language (`ru` or `en`): `app.info`'s `LANGUAGE_ID` and license prefix, the names of the
    /// call statuses (`crm.calllist.statuslist`), and the portal page's language by default. Also read as
    /// `language`.
    #[serde(alias = "language")]
    pub lang: String,
    /// How many portals the sandbox hosts (at least one), each with its own `member_id`, REST endpoint
    /// (`/portal/{i}/rest/` after the first), tokens, data, request bucket and call log; one OAuth server
    /// answers for all of them.
    pub portals: usize,
    /// The seed of every portal after the first (its `seed` number offset by the portal's index, so that
    /// each holds other data): small by default, as a test with many portals wants many, not big, ones.
    pub portal_seed: SeedConfig,
    /// How long the token endpoint keeps a request it was told to hang ([`OAuthFault::Hang`]) before
    /// closing it: longer than a client waits.
    pub oauth_hang_secs: u64,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            oauth_listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            app_url: None,
            client_id: None,
            client_secret: None,
            scope: "crm,user,placement".into(),
            app_name: "b24-calllist".into(),
            app_status: "F".into(),
            app_installed: true,
            access_ttl_secs: 3600,
            refresh_ttl_secs: 180 * 24 * 3600,
            code_ttl_secs: 30,
            seed: SeedConfig::default(),
            limits: LimitsConfig::default(),
            faults: FaultsConfig::default(),
            quirks: Quirks::default(),
            max_body_bytes: 32 * 1024 * 1024,
            call_log_capacity: 10_000,
            workers: 2,
            lang: "ru".into(),
            portals: 1,
            portal_seed: SeedConfig::small(),
            oauth_hang_secs: 600,
        }
    }
}

/// The deterministic seed: same numbers, same portal.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct SeedConfig {
    pub seed: u64,
    /// Contacts to generate (raised to the largest contact list if that is bigger).
    pub contacts: usize,
    /// Companies to generate (raised to the largest company list if that is bigger).
    pub companies: usize,
    /// Active web forms of the default type.
    pub active_webforms: usize,
    /// Inactive web forms of the default type.
    pub inactive_webforms: usize,
    /// Call lists to create, in order (IDs 1, 2, …).
    pub lists: Vec<ListSeed>,
}

impl Default for SeedConfig {
    fn default() -> Self {
        SeedConfig {
            seed: 24,
            contacts: 200,
            companies: 50,
            active_webforms: 3,
            inactive_webforms: 1,
            lists: vec![
                ListSeed { entity_type: EntityKind::Contact, members: 25 },
                ListSeed { entity_type: EntityKind::Company, members: 10 },
                ListSeed { entity_type: EntityKind::Contact, members: 1_000 },
                ListSeed { entity_type: EntityKind::Contact, members: 0 },
            ],
        }
    }
}

impl SeedConfig {
    /// A small portal: 20 contacts, 5 companies, two active forms and an inactive one, a contact list of 5 and
    /// a company list of 3.
    pub fn small() -> Self {
        SeedConfig {
            seed: 24,
            contacts: 20,
            companies: 5,
            active_webforms: 2,
            inactive_webforms: 1,
            lists: vec![
                ListSeed { entity_type: EntityKind::Contact, members: 5 },
                ListSeed { entity_type: EntityKind::Company, members: 3 },
            ],
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ListSeed {
    pub entity_type: EntityKind,
    pub members: usize,
}

/// The portal's limits (reference 5.5). On by default, as on a real portal.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct LimitsConfig {
    /// The leaky bucket: 503 `QUERY_LIMIT_EXCEEDED` when it overflows.
    pub bucket: bool,
    /// Requests the bucket holds (50; Enterprise 250).
    pub burst: f64,
    /// Requests drained per second (2; Enterprise 5).
    pub drain_per_sec: f64,
    /// The per-method `operating` budget: 429 `OPERATION_TIME_LIMIT` when exceeded.
    pub operating: bool,
    /// Seconds of execution time per method over the rolling 10 minutes (420 in the source).
    pub operating_limit_secs: f64,
    /// Execution time charged per call of a method, in seconds, added to the real time (the sandbox is much
    /// faster than a portal, so tests that want the budget to bite set a cost here).
    pub operating_costs: HashMap<String, f64>,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            bucket: true,
            burst: 50.0,
            drain_per_sec: 2.0,
            operating: true,
            operating_limit_secs: 420.0,
            operating_costs: HashMap::new(),
        }
    }
}

impl LimitsConfig {
    /// Enterprise plans: burst 250, draining 5 a second.
    pub fn enterprise() -> Self {
        LimitsConfig { burst: 250.0, drain_per_sec: 5.0, ..LimitsConfig::default() }
    }

    pub fn off() -> Self {
        LimitsConfig { bucket: false, operating: false, ..LimitsConfig::default() }
    }
}

/// Added latency and injected failures, for tests and benchmarks.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct FaultsConfig {
    pub latency: Latency,
    /// Fraction (0.0–1.0) of portal REST calls that fail with one of `kinds`, chosen at random.
    pub rate: f64,
    pub kinds: Vec<FaultKind>,
    /// Seed of the fault dice, so a failing run can be replayed.
    pub seed: u64,
    /// The methods the dice apply to (lower-case); empty for every request. When set, the dice also roll
    /// for each command of a `batch` calling one of them: a kind that refuses whole requests
    /// ([`FaultKind::refuses_whole_request`]) refuses the batch, the others fail the command alone.
    pub methods: Vec<String>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Latency {
    #[default]
    None,
    Fixed {
        ms: u64,
    },
    Random {
        min_ms: u64,
        max_ms: u64,
    },
}

/// One injected failure: an error of the reference's table (5.3) with its status and description. Where the
/// source and the official page disagree on them, `quirks.system_errors` chooses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// 503 `QUERY_LIMIT_EXCEEDED`, as if the bucket overflowed.
    QueryLimit,
    /// 429 `OPERATION_TIME_LIMIT`.
    OperationLimit,
    /// 500 `INTERNAL_SERVER_ERROR`.
    ServerError,
    /// 401 `expired_token`.
    ExpiredToken,
    /// The connection is closed without an answer.
    Drop,
    /// 401 `authorization_error` "Unable to authorize user".
    AuthorizationError,
    /// `user_access_error`: the app is limited to some users (403 documented, 401 source).
    UserAccessError,
    /// 401 `APPLICATION_NOT_FOUND` "Application not found".
    ApplicationNotFound,
    /// `PORTAL_DELETED` "Portal was deleted" (500 documented, 403 source).
    PortalDeleted,
    /// `OVERLOAD_LIMIT`: the REST API is blocked by hand (503 documented, 401 source).
    OverloadLimit,
    /// `insufficient_scope`, with the status of `quirks.insufficient_scope_status`.
    InsufficientScope,
    /// `invalid_scope`, as `insufficient_scope` (the OAuth server's error-codes page names both).
    InvalidScope,
    /// 401 `PAYMENT_REQUIRED` "Payment required" (the trial or paid period ended).
    PaymentRequired,
    /// 401 `wrong_client`, a code the official PHP SDK knows.
    WrongClient,
    /// 401 `METHOD_CONFIRM_WAITING` "Waiting for confirmation".
    MethodConfirmWaiting,
    /// 403 `METHOD_CONFIRM_DENIED` "Method call denied".
    MethodConfirmDenied,
    /// `ACCESS_DENIED`: REST only on commercial plans (403 documented, 401 source).
    AccessDenied,
    /// `INVALID_CREDENTIALS` "Invalid request credentials" (403 documented, 401 source).
    InvalidCredentials,
}

impl FaultKind {
    /// Faults a front end gives a whole HTTP request, never one command of a `batch`: the leaky bucket's
    /// 503 and a closed connection.
    pub fn refuses_whole_request(self) -> bool {
        matches!(self, FaultKind::QueryLimit | FaultKind::Drop)
    }
}

/// A fault of the OAuth server's token endpoint (reference 4.2, `settings/oauth/error-codes.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OAuthFault {
    /// No answer: the request waits until the client gives up (or `oauth_hang_secs` pass).
    Hang,
    /// A server error with this status and an HTML body, as the proxy in front of the server gives it.
    ServerError(u16),
    /// 400 `invalid_grant`: the code or refresh token is refused (it is not spent).
    InvalidGrant,
    /// 401 `invalid_client`.
    InvalidClient,
    /// `PAYMENT_REQUIRED` "Payment required", with `quirks.oauth_error_status`.
    PaymentRequired,
    /// `invalid_scope`, with `quirks.oauth_error_status`.
    InvalidScope,
    /// `{"error": "wrong_client"}` without a description, with `quirks.oauth_error_status`.
    WrongClient,
}

/// Which statuses and descriptions the system errors get where the portal's source and the official page
/// (`_includes/system-errors.md`) differ.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SystemErrors {
    /// The official page's.
    #[default]
    Documented,
    /// The source's (`OAuthException` defaults to 401).
    Source,
}

/// Readings of the reference that it marks [UNCONFIRMED], as switches.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct Quirks {
    /// HTTP status of `insufficient_scope` (source 401, docs 403).
    pub insufficient_scope_status: u16,
    /// `error_description` of `invalid_token`.
    pub invalid_token_description: String,
    /// What a PHP runtime error (lower-case `ENTITY_TYPE`, non-numeric `WEBFORM_ID`) answers.
    pub php_error: PhpErrorMode,
    /// Whether the authorization-code token response also carries `expires` and `user_id`.
    pub code_response_has_expires_and_user_id: bool,
    /// Whether `ONAPPINSTALL`'s `auth` carries `expires`, `user_id` and `client_id`.
    pub install_event_auth_extras: bool,
    /// Whether a used refresh token is dead (single use); if false, it keeps working until it expires.
    pub single_use_refresh_tokens: bool,
    /// `app.info` without an app context: source 403, docs 400.
    pub app_context_status: u16,
    /// The errors of `crm.duplicate.findbycomm`: as its official page shows them, or as the source throws them.
    pub duplicate_errors: DuplicateErrors,
    /// HTTP status of the errors `placement.bind` lists (`ERROR_ARGUMENT`, `ERROR_PLACEMENT_MAX_COUNT`,
    /// `ERROR_PLACEMENT_USER_MODE`): the source's `RestException` and `ArgumentException` give 400, the official
    /// page's table says 200.
    pub placement_bind_error_status: u16,
    /// Whether `crm.item.list` takes the UPPER_CASE field names of the older methods (`ID`, `LAST_NAME`) in
    /// `filter` and `order` as the camelCase ones its page documents, or refuses them as unknown fields.
    pub item_list_upper_case_fields: UpperCaseFields,
    /// Whether deleting a web form clears it from the call lists that named it (`WEBFORM_ID` becomes null), or
    /// leaves the lists naming a form that no longer exists.
    pub deleted_webform_clears_lists: bool,
    /// Statuses and descriptions of the injected system errors where the source and the page differ.
    pub system_errors: SystemErrors,
    /// HTTP status of the token endpoint's `PAYMENT_REQUIRED`, `invalid_scope` and `wrong_client`, which no
    /// page gives.
    pub oauth_error_status: u16,
    /// Whether the token endpoint reads a POST form body as it reads the query (the pages show GET only).
    pub token_endpoint_reads_post_body: bool,
}

/// How `crm.item.list` reads `ID`, `LAST_NAME`, … in `filter` and `order`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UpperCaseFields {
    /// 400 `INVALID_ARG_VALUE` "Invalid filter: field 'ID' is not allowed in filter" (and the order's
    /// counterpart), as for any field the method does not know.
    #[default]
    Refused,
    /// Read as the camelCase field (`LAST_NAME` as `lastName`).
    Accepted,
}

impl Default for Quirks {
    fn default() -> Self {
        Quirks {
            insufficient_scope_status: 401,
            invalid_token_description: "The access token provided is invalid".into(),
            php_error: PhpErrorMode::Json500,
            code_response_has_expires_and_user_id: true,
            install_event_auth_extras: true,
            single_use_refresh_tokens: true,
            app_context_status: 403,
            duplicate_errors: DuplicateErrors::Documented,
            placement_bind_error_status: 400,
            item_list_upper_case_fields: UpperCaseFields::Refused,
            deleted_webform_clears_lists: false,
            system_errors: SystemErrors::Documented,
            oauth_error_status: 400,
            token_endpoint_reads_post_body: true,
        }
    }
}

/// How `crm.duplicate.findbycomm` writes its errors. The official page shows the message as `error` with a
/// longer `error_description` (`{"error": "Communication type is not defined", "error_description":
/// "Parameter 'type' is required."}`) and 403 for a user without CRM read access; the portal's source throws
/// the message with an empty `error` code, always with status 400.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DuplicateErrors {
    #[default]
    Documented,
    Source,
}

/// The answer to a PHP `Error` the REST server does not catch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhpErrorMode {
    /// 500 with `{"error":"INTERNAL_SERVER_ERROR","error_description":"Internal server error"}`.
    #[default]
    Json500,
    /// 500 with an empty HTML body, as a bare PHP fatal error gives.
    Html500,
}

/// A fault or limit change sent over the control API.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct FaultsPatch {
    pub latency: Option<Latency>,
    pub rate: Option<f64>,
    pub kinds: Option<Vec<FaultKind>>,
    pub seed: Option<u64>,
}
