//! A list's history: the audit entry each create and save leaves, and reading them back for the list's
//! page. Entries hold codes and IDs; the page words them in the viewer's language.

use super::{SaveError, SaveOutcome};
use crate::domain::{
    AuditAction, AuditDetails, AuditEntry, AuditOutcome, EntityId, ListChange, ListId, UserId, WebformId,
};

/// Who made a change.
#[derive(Debug, Clone)]
pub struct Author {
    pub user: UserId,
    pub name: String,
}

/// The entry a save leaves, whatever its outcome.
pub fn save_entry(author: &Author, list: ListId, result: &Result<SaveOutcome, SaveError>, requests: u32) -> AuditEntry {
    let (outcome, details) = match result {
        Ok(done) => (
            AuditOutcome::Saved,
            ListChange {
                added: done.added.clone(),
                removed: done.removed.clone(),
                dropped: done.dropped.clone(),
                form_before: done.form_before,
                form_after: done.form_after,
                form_before_name: form_name(&done.forms, done.form_before),
                form_after_name: form_name(&done.forms, done.form_after),
                requests,
                ..ListChange::default()
            },
        ),
        Err(SaveError::Conflict(p)) => (
            AuditOutcome::Conflict,
            ListChange {
                added: p.plan.added.clone(),
                removed: p.plan.removed.clone(),
                form_before: p.form_before,
                form_after: p.form_after,
                form_before_name: form_name(&p.forms, p.form_before),
                form_after_name: form_name(&p.forms, p.form_after),
                requests,
                ..ListChange::default()
            },
        ),
        Err(e) => (AuditOutcome::Refused, ListChange { error: Some(e.kind()), requests, ..ListChange::default() }),
    };
    entry(author, AuditAction::ListSave, list, outcome, details)
}

/// The entry a new list leaves.
pub fn create_entry(author: &Author, list: ListId, added: Vec<EntityId>, form: Option<WebformId>) -> AuditEntry {
    let details = ListChange { added, form_after: form, requests: 0, ..ListChange::default() };
    entry(author, AuditAction::ListCreate, list, AuditOutcome::Saved, details)
}

fn entry(author: &Author, action: AuditAction, list: ListId, outcome: AuditOutcome, d: ListChange) -> AuditEntry {
    AuditEntry {
        action,
        outcome,
        user: Some((author.user, author.name.clone())),
        list_id: Some(list),
        details: AuditDetails::List(d),
    }
}

fn form_name(forms: &[crate::bitrix::methods::crm::Webform], id: Option<WebformId>) -> Option<String> {
    let id = id?;
    forms.iter().find(|f| f.id == id).map(|f| f.name.clone())
}
