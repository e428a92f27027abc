//! What the change form carries, parsed once: the kind of change, the IDs (bad ones named, not dropped),
//! the form choice, and the search it was made from.

use super::super::session::Fields;
use crate::domain::{ChangeKind, EntityId, EntityType, WebformId};
use crate::editor::FormIntent;

/// What the form's form-choice radio says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FormChoice {
    #[default]
    Keep,
    Set,
    Clear,
}

impl FormChoice {
    pub fn code(self) -> &'static str {
        match self {
            FormChoice::Keep => "keep",
            FormChoice::Set => "set",
            FormChoice::Clear => "clear",
        }
    }
}

pub struct ChangeForm {
    pub kind: ChangeKind,
    pub ids: Vec<EntityId>,
    pub bad: Vec<String>,
    pub form: FormIntent,
    pub form_choice: FormChoice,
    pub all_matching: bool,
    /// The count the search page showed, so reading every match can start with a batch.
    pub match_total: Option<u64>,
    pub q: String,
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

/// The kind of change a form names; "add" when it names none.
pub fn change_kind(fields: &Fields) -> ChangeKind {
    fields.get("intent").and_then(ChangeKind::parse).unwrap_or_default()
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

/// The IDs of the `ids` field alone.
pub fn ids_field(fields: &Fields) -> (Vec<EntityId>, Vec<String>) {
    let mut ids = Vec::new();
    let mut bad = Vec::new();
    split_ids(fields.get("ids").unwrap_or_default(), &mut ids, &mut bad);
    (ids, bad)
}

pub fn parse(fields: &Fields) -> ChangeForm {
    let kind = change_kind(fields);
    let mut ids = Vec::new();
    let mut bad = Vec::new();
    let source = if kind == ChangeKind::Remove { "member" } else { "pick" };
    for v in fields.all(source) {
        split_ids(v, &mut ids, &mut bad);
    }
    split_ids(fields.get("ids").unwrap_or_default(), &mut ids, &mut bad);
    let (form, form_choice) = match fields.get("form") {
        Some("clear") => (FormIntent::Clear, FormChoice::Clear),
        Some("set") => match fields.get("webform").and_then(|w| w.parse::<WebformId>().ok()) {
            Some(id) => (FormIntent::Set(id), FormChoice::Set),
            None => (FormIntent::Keep, FormChoice::Keep),
        },
        _ => (FormIntent::Keep, FormChoice::Keep),
    };
    ChangeForm {
        kind,
        ids,
        bad,
        form,
        form_choice,
        all_matching: fields.get("all_matching") == Some("1"),
        match_total: fields.get("match_total").and_then(|t| t.parse().ok()).filter(|t: &u64| *t > 0),
        q: fields.get("q").unwrap_or_default().chars().take(100).collect(),
    }
}

/// The form intent as the review's hidden field carries it to the save.
pub fn form_field(intent: FormIntent) -> String {
    match intent {
        FormIntent::Keep => "keep".into(),
        FormIntent::Clear => "clear".into(),
        FormIntent::Set(id) => format!("set:{id}"),
    }
}

pub fn parse_form_field(v: Option<&str>) -> FormIntent {
    match v {
        Some("clear") => FormIntent::Clear,
        Some(s) if s.starts_with("set:") => s[4..].parse().map(FormIntent::Set).unwrap_or(FormIntent::Keep),
        _ => FormIntent::Keep,
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
    fn the_form_field_round_trips() {
        for f in [FormIntent::Keep, FormIntent::Clear, FormIntent::Set("4".parse().unwrap())] {
            assert_eq!(parse_form_field(Some(&form_field(f))), f);
        }
    }
}
