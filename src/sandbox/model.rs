//! The portal's records: users and their permissions, contacts, companies, web forms, call lists, the app's
//! install state, tokens, and the calls received. Plain data; the portal that holds them all is
//! the `State` of the `state` module.

use std::collections::BTreeSet;

use rand::Rng;
use serde::{Deserialize, Serialize};

/// Contacts (3) and companies (4): the two entity types a call list can hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EntityKind {
    Contact,
    Company,
}

impl EntityKind {
    pub fn type_id(self) -> u8 {
        match self {
            EntityKind::Contact => 3,
            EntityKind::Company => 4,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            EntityKind::Contact => "CONTACT",
            EntityKind::Company => "COMPANY",
        }
    }

    pub fn from_type_id(id: i64) -> Option<EntityKind> {
        match id {
            3 => Some(EntityKind::Contact),
            4 => Some(EntityKind::Company),
            _ => None,
        }
    }
}

/// A portal user and what CRM data they may read.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct User {
    pub id: u64,
    pub name: String,
    pub last_name: String,
    pub email: String,
    pub work_position: String,
    pub lang: String,
    pub permissions: Permissions,
    /// `ACTIVE`: false for a dismissed employee, whom `user.get` filters out with `ACTIVE: true`.
    #[serde(default = "active_by_default")]
    pub active: bool,
}

fn active_by_default() -> bool {
    true
}

/// CRM read rights. An administrator reads everything; others need the type-level flag, and even then
/// items in a deny set stay hidden. At Bitrix24's "own" level (`own_contacts_only`, `own_companies_only`) a
/// user reads only the items they are responsible for (`ASSIGNED_BY_ID` is their ID).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Permissions {
    pub admin: bool,
    pub read_contacts: bool,
    pub read_companies: bool,
    pub deny_contacts: BTreeSet<u64>,
    pub deny_companies: BTreeSet<u64>,
    /// Contacts are read at the "own" level: only those the user is responsible for.
    pub own_contacts_only: bool,
    /// Companies are read at the "own" level.
    pub own_companies_only: bool,
}

impl Permissions {
    pub fn administrator() -> Self {
        Permissions { admin: true, read_contacts: true, read_companies: true, ..Permissions::default() }
    }

    pub fn manager(read_contacts: bool, read_companies: bool) -> Self {
        Permissions { read_contacts, read_companies, ..Permissions::default() }
    }

    /// A manager who reads only the contacts and companies they are responsible for.
    pub fn own_items() -> Self {
        Permissions { own_contacts_only: true, own_companies_only: true, ..Permissions::manager(true, true) }
    }

    /// Whether items of a type are read at the "own" level.
    pub fn own_only(&self, kind: EntityKind) -> bool {
        !self.admin
            && match kind {
                EntityKind::Contact => self.own_contacts_only,
                EntityKind::Company => self.own_companies_only,
            }
    }

    /// Whether user `user_id` with these rights reads an item whose responsible user is `assigned_by_id`.
    pub fn can_read(&self, user_id: u64, kind: EntityKind, id: u64, assigned_by_id: u64) -> bool {
        self.can_read_item(kind, id) && (!self.own_only(kind) || assigned_by_id == user_id)
    }

    /// What the user may read, in a few words (the portal page's user switch, `sandbox --json`).
    pub fn summary(&self) -> &'static str {
        if self.admin {
            return "admin";
        }
        match (self.read_contacts, self.read_companies, self.own_contacts_only || self.own_companies_only) {
            (true, true, true) => "own contacts+companies",
            (true, true, false) => "contacts+companies",
            (true, false, true) => "own contacts",
            (true, false, false) => "contacts",
            (false, true, true) => "own companies",
            (false, true, false) => "companies",
            (false, false, _) => "no CRM",
        }
    }

    pub fn can_read_type(&self, kind: EntityKind) -> bool {
        self.admin
            || match kind {
                EntityKind::Contact => self.read_contacts,
                EntityKind::Company => self.read_companies,
            }
    }

    pub fn can_read_item(&self, kind: EntityKind, id: u64) -> bool {
        if self.admin {
            return true;
        }
        match kind {
            EntityKind::Contact => self.read_contacts && !self.deny_contacts.contains(&id),
            EntityKind::Company => self.read_companies && !self.deny_companies.contains(&id),
        }
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Contact {
    pub id: u64,
    pub name: String,
    pub last_name: String,
    pub second_name: String,
    pub honorific: String,
    pub post: String,
    pub company_id: Option<u64>,
    pub phones: Vec<String>,
    pub emails: Vec<String>,
    pub assigned_by_id: u64,
    pub created_time: String,
    /// `SOURCE_ID` of the `SOURCE` directory (`CALL`, `WEB`, …); empty when none.
    pub source_id: String,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Company {
    pub id: u64,
    pub title: String,
    pub phones: Vec<String>,
    pub emails: Vec<String>,
    pub contact_ids: Vec<u64>,
    pub assigned_by_id: u64,
    pub created_time: String,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Webform {
    pub id: u64,
    pub name: String,
    pub security_code: String,
    pub is_callback: bool,
    pub active: bool,
    pub xml_id: String,
    /// Forms of the default type are the ones `crm.webform.list` shows; `crm.calllist.update` takes any.
    pub default_type: bool,
}

/// A call list: its members are ranked; `STATUS_ID` per member.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CallList {
    pub id: u64,
    pub entity_type: EntityKind,
    pub webform_id: Option<u64>,
    pub created_by_id: u64,
    pub date_create: String,
    pub items: Vec<ListItem>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListItem {
    pub element_id: u64,
    pub status: String,
    pub rank: i64,
}

impl CallList {
    /// Items in `RANK` order, as `crm.calllist.items.get` reads them. Equal ranks (a hidden member and a new
    /// one can share one) are ordered by element ID, where the portal's database leaves the order open.
    pub fn ranked(&self) -> Vec<&ListItem> {
        let mut v: Vec<&ListItem> = self.items.iter().collect();
        if !self.is_ranked() {
            v.sort_by_key(|i| (i.rank, i.element_id));
        }
        v
    }

    /// Whether `items` is already stored in `RANK` order (writers keep it so, which spares readers a sort).
    pub fn is_ranked(&self) -> bool {
        self.items.is_sorted_by_key(|i| (i.rank, i.element_id))
    }

    /// Puts `items` in `RANK` order. Stable, so the order [`CallList::ranked`] gives is unchanged.
    pub fn store_ranked(&mut self) {
        if !self.is_ranked() {
            self.items.sort_by_key(|i| (i.rank, i.element_id));
        }
    }
}

/// A status of the `CALL_LIST` directory.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CallStatus {
    pub id: u64,
    pub status_id: String,
    pub name: String,
    pub sort: i64,
}

/// The `CALL_LIST` directory as a new portal has it (reference 1.6). Bitrix24 writes the names once, in the
/// portal's language, when the portal is made, so a Russian portal answers Russian names whoever asks. The
/// names are those of the official `crm.calllist.statuslist` page, English and Russian editions.
pub fn default_statuses(lang: &str) -> Vec<CallStatus> {
    let names: [(&str, &str, &str); 4] = [
        ("IN_WORK", "In Progress", "В работе"),
        ("SUCCESS", "Successful", "Успешно"),
        ("WRONG_NUMBER", "Wrong Number", "Неверный номер"),
        ("STOP_CALLING", "Do Not Call Again", "Больше не звонить"),
    ];
    names
        .iter()
        .enumerate()
        .map(|(i, (status_id, en, ru))| CallStatus {
            id: i as u64 + 1,
            status_id: status_id.to_string(),
            name: if lang == "ru" { ru } else { en }.to_string(),
            sort: (i as i64 + 1) * 10,
        })
        .collect()
}

/// An item of a CRM directory other than the call statuses: the `SOURCE` directory (`crm.status.list`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DirectoryItem {
    pub id: u64,
    pub entity_id: String,
    pub status_id: String,
    pub name: String,
    pub sort: i64,
    /// `SYSTEM = Y`: an item the portal made itself and keeps (its `NAME_INIT` is its first name).
    pub system: bool,
}

/// The `SOURCE` directory a new portal is made with, in the portal's language: the codes, sorts and system
/// flags of the crm module's `CCrmStatus::GetDefaultSources`, the names of its English and Russian language
/// files. IDs follow `first_id`.
pub fn default_sources(lang: &str, first_id: u64) -> Vec<DirectoryItem> {
    let rows: [(&str, i64, bool, &str, &str); 12] = [
        ("CALL", 10, true, "Call", "Звонок"),
        ("EMAIL", 20, false, "E-Mail", "Электронная почта"),
        ("WEB", 30, false, "Website", "Веб-сайт"),
        ("ADVERTISING", 40, false, "Advertising", "Реклама"),
        ("PARTNER", 50, false, "Existing Client", "Существующий клиент"),
        ("RECOMMENDATION", 60, false, "By Recommendation", "По рекомендации"),
        ("TRADE_SHOW", 70, false, "Show/Exhibition", "Выставка"),
        ("WEBFORM", 75, true, "CRM form", "CRM-форма"),
        ("CALLBACK", 77, true, "Callback", "Обратный звонок"),
        ("RC_GENERATOR", 78, true, "Sales boost", "Генератор продаж"),
        ("STORE", 79, true, "Online Store", "Интернет-магазин"),
        ("OTHER", 80, false, "Other", "Другое"),
    ];
    rows.iter()
        .enumerate()
        .map(|(i, (status_id, sort, system, en, ru))| DirectoryItem {
            id: first_id + i as u64,
            entity_id: "SOURCE".into(),
            status_id: status_id.to_string(),
            name: if lang == "ru" { ru } else { en }.to_string(),
            sort: *sort,
            system: *system,
        })
        .collect()
}

#[derive(Clone, Debug)]
pub struct AccessToken {
    pub user_id: u64,
    pub scope: Vec<String>,
    pub expires_at: f64,
    pub refresh_token: String,
}

#[derive(Clone, Debug)]
pub struct RefreshToken {
    pub user_id: u64,
    pub scope: Vec<String>,
    pub expires_at: f64,
    pub access_token: String,
    pub used: bool,
}

#[derive(Clone, Debug)]
pub struct AuthCode {
    pub user_id: u64,
    pub issued_at: f64,
    pub used: bool,
}

/// The token pair as the OAuth server returns it (reference 4.1, 4.2): no `token_type`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub client_endpoint: String,
    pub domain: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<i64>,
    pub expires_in: u64,
    pub member_id: String,
    pub refresh_token: String,
    pub scope: String,
    pub server_endpoint: String,
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<u64>,
}

/// The app as this portal knows it: whether it is installed, its bindings and options.
#[derive(Clone, Debug, Serialize)]
pub struct InstalledApp {
    /// The app is on the portal (its tokens work). False after an uninstall.
    pub present: bool,
    /// `app.info` `INSTALLED`: the install finished (`setInstallFinish`, or the `ONAPPINSTALL` flow).
    pub installed: bool,
    /// How many `setInstallFinish` messages the portal page received.
    pub install_finish_messages: u64,
    pub application_token: String,
    pub version: u32,
    pub events: Vec<EventBinding>,
    pub placements: Vec<PlacementBinding>,
    /// The last placement binding's ID.
    #[serde(skip)]
    pub placement_seq: u64,
    pub app_options: serde_json::Map<String, serde_json::Value>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EventBinding {
    pub event: String,
    pub handler: String,
    pub auth_type: u64,
    pub event_type: String,
}

/// A widget handler bound with `placement.bind` (the rest module's `b_rest_placement` row and its language
/// rows).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PlacementBinding {
    /// The row's ID: bindings are listed, and shown, in the order they were made.
    pub id: u64,
    pub placement: String,
    pub handler: String,
    /// The title in the portal's language when it was bound (the row's `TITLE`, `placement.get`'s `title`).
    pub title: String,
    /// The row's `COMMENT`, from `DESCRIPTION`.
    pub description: String,
    pub group_name: String,
    /// `TITLE`, `DESCRIPTION` and `GROUP_NAME` per language (`LANG_ALL`).
    pub lang_all: std::collections::BTreeMap<String, PlacementLang>,
    /// 0 for every user; `USER_ID` for a widget bound for one user.
    pub user_id: u64,
    pub options: serde_json::Map<String, serde_json::Value>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct PlacementLang {
    #[serde(rename = "TITLE")]
    pub title: String,
    #[serde(rename = "DESCRIPTION")]
    pub description: String,
    #[serde(rename = "GROUP_NAME")]
    pub group_name: String,
}

impl PlacementBinding {
    /// The title a user sees in the portal's interface: the one in their language, else the portal's, else
    /// any, else `fallback` (the app's name).
    pub fn title_for(&self, lang: &str, portal_lang: &str, fallback: &str) -> String {
        let named = |l: &str| self.lang_all.get(l).map(|x| x.title.clone()).filter(|t| !t.is_empty());
        named(lang)
            .or_else(|| named(portal_lang))
            .or_else(|| self.lang_all.values().map(|x| x.title.clone()).find(|t| !t.is_empty()))
            .or_else(|| Some(self.title.clone()).filter(|t| !t.is_empty()))
            .unwrap_or_else(|| fallback.to_owned())
    }
}

/// One REST call the portal (or the OAuth server's `/rest/`) received.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CallRecord {
    pub seq: u64,
    /// Unix seconds on the sandbox clock.
    pub time: f64,
    /// Lower-cased method name.
    pub method: String,
    /// Parameters as parsed, with `auth`/`access_token` removed.
    pub params: serde_json::Value,
    pub user_id: Option<u64>,
    pub token: Option<String>,
    pub status: u16,
    pub error: Option<String>,
    /// `portal`, `oauth` (the OAuth server's `/rest/`) or `batch` (a command inside a `batch` call).
    pub via: String,
    /// For a command inside a `batch`: the `seq` of the outer call.
    pub batch_seq: Option<u64>,
}

/// Counters of the OAuth server.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
pub struct OAuthStats {
    pub code_grants: u64,
    pub refresh_grants: u64,
    /// Refresh attempts with a refresh token that had already been used.
    pub rejected_refresh_reuse: u64,
    pub rejected_grants: u64,
}

/// Something the portal posted to the app, as sent.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Delivery {
    pub kind: String,
    pub url: String,
    pub fields: Vec<(String, String)>,
    pub status: Option<u16>,
}

pub fn unix_now() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

/// A token like Bitrix24's: 32 lower-case letters and digits.
pub fn random_token() -> String {
    random_chars(32, b"abcdefghijklmnopqrstuvwxyz0123456789")
}

/// 32 hex digits (`member_id`, `APP_SID`, `application_token`).
pub fn random_hex32() -> String {
    random_chars(32, b"0123456789abcdef")
}

fn random_chars(n: usize, set: &[u8]) -> String {
    let mut rng = rand::rng();
    (0..n).map(|_| set[rng.random_range(0..set.len())] as char).collect()
}

/// `Y-m-d H:i:s` in local server time, as the portal formats `DATE_CREATE`.
pub fn format_db_time(unix: f64) -> String {
    chrono::DateTime::from_timestamp(unix as i64, 0)
        .map(|t| t.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}

/// ISO 8601 with offset, as `time.date_start` and CRM timestamps.
pub fn format_iso(unix: f64) -> String {
    chrono::DateTime::from_timestamp(unix as i64, 0)
        .map(|t| t.with_timezone(&chrono::Local).format("%Y-%m-%dT%H:%M:%S%:z").to_string())
        .unwrap_or_default()
}
