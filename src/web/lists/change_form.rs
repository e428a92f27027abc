//! What the list page's form carries, parsed once: who to add and who to remove (bad IDs named, not
//! dropped), whether to replace the list, the web form, and the state of the screen (search, paste, filter,
//! page, status) so that every round trip, and the way back from the review, keeps it all.

use super::super::session::Fields;
use crate::domain::{Change, EntityId, EntityType, UserId, WebformId};
use crate::editor::FormIntent;

/// Which action the form was sent for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Go {
    /// Show the list (and the change so far).
    View,
    /// A page of the members.
    Members(u64),
    /// A page of search results.
    Search(u64),
    /// Find what the paste box names.
    Paste,
    /// A page of contacts or companies matching the CRM filter.
    Filter(u64),
    /// Count every member.
    Count,
    Review,
}

impl Go {
    pub fn parse(v: Option<&str>) -> Go {
        let page = |n: &str| n.parse::<u64>().unwrap_or(0).min(10_000);
        match v.unwrap_or("view").split_once(':') {
            Some(("members", n)) => Go::Members(page(n)),
            Some(("search", n)) => Go::Search(page(n)),
            Some(("filter", n)) => Go::Filter(page(n)),
            _ => match v {
                Some("review") => Go::Review,
                Some("paste") => Go::Paste,
                Some("count") => Go::Count,
                Some("search") => Go::Search(0),
                Some("filter") => Go::Filter(0),
                _ => Go::View,
            },
        }
    }
}

/// The company a contact filter names: by its ID, or by (part of) its name, looked up when the filter runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompanyPick {
    Id(EntityId),
    Name(String),
}

impl CompanyPick {
    fn parse(v: &str) -> CompanyPick {
        match v.parse::<u64>().ok().and_then(|n| EntityId::new(n).ok()) {
            Some(id) => CompanyPick::Id(id),
            None => CompanyPick::Name(v.chars().take(100).collect()),
        }
    }
}

impl std::fmt::Display for CompanyPick {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CompanyPick::Id(id) => write!(f, "{id}"),
            CompanyPick::Name(name) => f.write_str(name),
        }
    }
}

/// The CRM filter a manager picks people by.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CrmFilter {
    pub responsible: Option<UserId>,
    pub company: Option<CompanyPick>,
    pub source: Option<String>,
    /// `YYYY-MM-DD`, as a date input sends it.
    pub from: Option<String>,
    pub to: Option<String>,
}

impl CrmFilter {
    pub fn is_empty(&self) -> bool {
        *self == CrmFilter::default()
    }
}

/// A date as a date input sends it, or nothing.
fn date(v: Option<&str>) -> Option<String> {
    let v = v?.trim();
    let ok = v.len() == 10
        && v.bytes().enumerate().all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() });
    ok.then(|| v.to_owned())
}

#[derive(Debug, Clone, Default)]
pub struct ChangeForm {
    pub add: Vec<EntityId>,
    pub remove: Vec<EntityId>,
    pub replace: bool,
    pub bad: Vec<String>,
    pub form: FormIntent,
    pub show_inactive: bool,
    pub all_matching: bool,
    /// The count the search page showed, so reading every match can start with a batch.
    pub match_total: Option<u64>,
    pub q: String,
    pub paste: String,
    pub filter: CrmFilter,
    /// The call status the members table is filtered by.
    pub status: Option<String>,
    pub mpage: u64,
}

impl ChangeForm {
    pub fn change(&self) -> Change {
        if self.replace {
            Change::Replace(self.add.clone())
        } else {
            Change::Edit { add: self.add.clone(), remove: self.remove.clone() }
        }
    }
}

pub fn entity_type(fields: &Fields) -> EntityType {
    match fields.get("etype") {
        Some("company") => EntityType::Company,
        _ => EntityType::Contact,
    }
}

pub fn entity_code(e: EntityType) -> &'static str {
    match e {
        EntityType::Contact => "contact",
        EntityType::Company => "company",
    }
}

pub fn split_ids(text: &str, into: &mut Vec<EntityId>, bad: &mut Vec<String>) {
    for part in text.split([',', ' ', ';', '\n', '\r', '\t']).map(str::trim).filter(|p| !p.is_empty()) {
        // BX24.selectCRM answers prefixed IDs (C_12, CO_3).
        let bare = part.trim_start_matches("CO_").trim_start_matches("C_");
        match bare.parse::<EntityId>() {
            Ok(id) if !into.contains(&id) => into.push(id),
            Ok(_) => {}
            Err(_) => bad.push(part.chars().take(30).collect()),
        }
    }
}

fn ids_of<'a>(values: impl Iterator<Item = &'a str>, bad: &mut Vec<String>) -> Vec<EntityId> {
    let mut ids = Vec::new();
    for v in values {
        split_ids(v, &mut ids, bad);
    }
    ids
}

/// The form choice as the select sends it: `keep`, `none`, or a form's ID.
pub fn parse_form(v: Option<&str>) -> FormIntent {
    match v {
        Some("none") | Some("clear") => FormIntent::Clear,
        Some(id) => id.parse::<WebformId>().map(FormIntent::Set).unwrap_or(FormIntent::Keep),
        None => FormIntent::Keep,
    }
}

/// The form choice as the select and the hidden fields carry it.
pub fn form_value(intent: FormIntent) -> String {
    match intent {
        FormIntent::Keep => "keep".into(),
        FormIntent::Clear => "none".into(),
        FormIntent::Set(id) => id.to_string(),
    }
}

pub fn parse(fields: &Fields) -> ChangeForm {
    let mut bad = Vec::new();
    // `pick` is the "+ Add" button of a search result: a field of its own, because a form library that sends
    // the clicked button may let its value replace the other `add` fields.
    let add = ids_of(fields.all("add").chain(fields.all("pick")), &mut bad);
    let remove = ids_of(fields.all("remove"), &mut bad);
    let nonempty = |name: &str| fields.get(name).map(str::trim).filter(|v| !v.is_empty());
    ChangeForm {
        add,
        remove,
        replace: fields.get("replace") == Some("1"),
        bad,
        form: parse_form(fields.get("form")),
        show_inactive: fields.get("show_inactive") == Some("1"),
        all_matching: fields.get("all_matching") == Some("1"),
        match_total: fields.get("match_total").and_then(|t| t.parse().ok()).filter(|t: &u64| *t > 0),
        q: fields.get("q").unwrap_or_default().chars().take(100).collect(),
        paste: fields.get("paste").unwrap_or_default().chars().take(20_000).collect(),
        filter: CrmFilter {
            responsible: nonempty("f_user").and_then(|v| v.parse::<u64>().ok()).and_then(|v| UserId::new(v).ok()),
            company: nonempty("f_company").map(CompanyPick::parse),
            source: nonempty("f_source")
                .filter(|v| v.len() <= 50 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'|'))
                .map(str::to_owned),
            from: date(fields.get("f_from")),
            to: date(fields.get("f_to")),
        },
        status: nonempty("status")
            .filter(|v| v.len() <= 50 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
            .map(str::to_owned),
        mpage: fields.get("mpage").and_then(|p| p.parse().ok()).unwrap_or(0).min(10_000),
    }
}

pub fn join_ids(ids: &[EntityId]) -> String {
    ids.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_from_the_form_and_the_crm_picker_parse_and_bad_ones_are_named() {
        let mut ids = Vec::new();
        let mut bad = Vec::new();
        split_ids("12, C_7 CO_3;12\n abc, -4", &mut ids, &mut bad);
        assert_eq!(ids.iter().map(|i| i.get()).collect::<Vec<_>>(), [12, 7, 3]);
        assert_eq!(bad, ["abc", "-4"]);
    }

    #[test]
    fn the_form_choice_round_trips() {
        for f in [FormIntent::Keep, FormIntent::Clear, FormIntent::Set("4".parse().unwrap())] {
            assert_eq!(parse_form(Some(&form_value(f))), f);
        }
    }

    #[test]
    fn one_form_adds_and_removes() {
        let fields = Fields::parse(b"add=7&add=8&remove=1&form=keep&go=review");
        let c = parse(&fields);
        let id = |n: u64| EntityId::new(n).unwrap();
        assert_eq!(c.change(), Change::Edit { add: vec![id(7), id(8)], remove: vec![id(1)] });
        assert_eq!(Go::parse(fields.get("go")), Go::Review);
    }
}
