//! A list's history as its page shows it: the audit entries, worded in the viewer's language.

use super::super::i18n::Texts;
use crate::domain::{AuditAction, AuditDetails, AuditOutcome, Lang, ListChange, WebformId};
use crate::store::AuditRecord;

pub struct HistoryRow {
    pub at: String,
    pub who: String,
    pub what: String,
    pub outcome: &'static str,
}

pub fn rows(t: &Texts, lang: Lang, records: &[AuditRecord]) -> Vec<HistoryRow> {
    records
        .iter()
        .map(|r| HistoryRow {
            at: chrono::DateTime::from_timestamp(r.at, 0)
                .map(|t| t.format("%d.%m %H:%M").to_string())
                .unwrap_or_default(),
            who: r.entry.user.as_ref().map(|(_, name)| name.clone()).unwrap_or_default(),
            what: match &r.entry.details {
                AuditDetails::List(c) => what(t, lang, r.entry.action, c),
                _ => String::new(),
            },
            outcome: match r.entry.outcome {
                AuditOutcome::Saved | AuditOutcome::Done => t.outcome_saved,
                AuditOutcome::Conflict => t.outcome_conflict,
                AuditOutcome::Refused => t.outcome_refused,
                AuditOutcome::Pending => t.outcome_pending,
                AuditOutcome::Interrupted => t.outcome_interrupted,
            },
        })
        .collect()
}

fn what(t: &Texts, lang: Lang, action: AuditAction, c: &ListChange) -> String {
    let members = format!("+{} / −{}", c.added.len(), c.removed.len());
    let form = |id: Option<WebformId>, name: &Option<String>| match (id, name) {
        (None, _) => t.no_form.to_owned(),
        (Some(_), Some(n)) => format!("«{n}»"),
        (Some(id), None) => format!("#{id}"),
    };
    let created = action == AuditAction::ListCreate;
    match (c.form_before == c.form_after && !created, lang) {
        (true, _) => members,
        (false, Lang::En) => format!(
            "{members}; form {} → {}",
            form(c.form_before, &c.form_before_name),
            form(c.form_after, &c.form_after_name)
        ),
        (false, Lang::Ru) => format!(
            "{members}; форма {} → {}",
            form(c.form_before, &c.form_before_name),
            form(c.form_after, &c.form_after_name)
        ),
    }
}
