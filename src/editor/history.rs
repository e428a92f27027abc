//! A list's history: the audit entry each create and save leaves, and reading them back for the list's
//! page. Entries hold codes and IDs; the page words them in the viewer's language.
//!
//! A save writes its entry as pending just before it sends the update, and settles it with the answer. If
//! the app stops in between (a crash, a lost connection), the entry stays pending, and the next look at the
//! list settles it from what the list holds then: this needs no recovery run at start-up, works whichever
//! instance looks next, and tells the manager the truth where they look for it.

use super::{Preview, SaveError, SaveOutcome};
use crate::bitrix::methods::crm::Webform;
use crate::bitrix::{BitrixError, Caller, TokenStore};
use crate::domain::{
    AuditAction, AuditDetails, AuditEntry, AuditOutcome, EntityId, ListChange, ListId, MemberId, UserId, WebformId,
};
use crate::store::{Store, StoreError};

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
        Err(SaveError::Conflict(p)) => (AuditOutcome::Conflict, ListChange { requests, ..planned(p) }),
        Err(e) => (AuditOutcome::Refused, ListChange { error: Some(e.kind()), requests, ..ListChange::default() }),
    };
    entry(author, AuditAction::ListSave, list, outcome, details)
}

/// The change a reviewed save meant to make: what a conflict records, and a pending entry until it settles.
fn planned(p: &Preview) -> ListChange {
    ListChange {
        added: p.plan.added.clone(),
        removed: p.plan.removed.clone(),
        form_before: p.form_before,
        form_after: p.form_after,
        form_before_name: form_name(&p.forms, p.form_before),
        form_after_name: form_name(&p.forms, p.form_after),
        ..ListChange::default()
    }
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

/// Where a save writes its history: the store, the portal, and who saves.
pub struct Journal<'a> {
    pub store: &'a Store,
    pub member_id: &'a MemberId,
    pub author: &'a Author,
}

impl Journal<'_> {
    /// Writes the entry of a save about to send its update; its id, to settle it afterwards.
    pub(super) async fn pending(&self, list: ListId, p: &Preview) -> Result<i64, StoreError> {
        let entry = entry(self.author, AuditAction::ListSave, list, AuditOutcome::Pending, planned(p));
        self.store.record_pending(self.member_id, &entry).await
    }

    /// Settles a pending entry with the save's result. A result that leaves it unknown whether the update
    /// arrived (no answer after sending) leaves it pending, for the next look at the list.
    pub(super) async fn settle(&self, id: i64, list: ListId, result: &Result<SaveOutcome, SaveError>, requests: u32) {
        if let Err(SaveError::Bitrix(e)) = result
            && maybe_arrived(e)
        {
            return;
        }
        let done = save_entry(self.author, list, result, requests);
        if let Err(e) = self.store.settle(self.member_id, id, done.outcome, &done.details).await {
            tracing::error!(error = %e, "cannot settle a save's history entry; the next look at the list will");
        }
    }

    /// Records a save that ended before it sent anything (a conflict, a refusal).
    pub(super) async fn record(&self, list: ListId, result: &Result<SaveOutcome, SaveError>, requests: u32) {
        if let Err(e) = self.store.record(self.member_id, &save_entry(self.author, list, result, requests)).await {
            tracing::error!(error = %e, "cannot write the audit log");
        }
    }
}

/// True for failures after which the update may have been applied.
fn maybe_arrived(e: &BitrixError) -> bool {
    matches!(e, BitrixError::Ambiguous { .. } | BitrixError::Timeout { .. })
}

/// Settles the pending saves of `list` that no save is running for any more (its lease is free): from what
/// the list holds now, each is found saved or interrupted. Costs a read of the list's members.
pub async fn reconcile<S: TokenStore>(
    caller: &Caller<'_, S>,
    store: &Store,
    member_id: &MemberId,
    list: ListId,
) -> Result<usize, BitrixError> {
    let store_failed = |e: StoreError| BitrixError::Store(crate::bitrix::StoreFailure::new(e));
    let records = store.audit(member_id, Some(list), 50).await.map_err(store_failed)?;
    let pending: Vec<_> = records.into_iter().filter(|r| r.entry.outcome == AuditOutcome::Pending).collect();
    if pending.is_empty() {
        return Ok(0);
    }
    let lease = store.take_list_lease(member_id, list, super::LEASE, std::time::Duration::ZERO).await;
    let Some(lease) = lease.map_err(store_failed)? else { return Ok(0) };
    let now = caller.calllist_get(list).await;
    let members = caller.calllist_members(list, None).await;
    let result = match (now, members) {
        (Ok(now), Ok(members)) => {
            let ids: std::collections::HashSet<EntityId> = members.iter().map(|m| m.id).collect();
            for r in &pending {
                let AuditDetails::List(planned) = &r.entry.details else { continue };
                let landed = planned.removed.iter().all(|id| !ids.contains(id))
                    && (planned.added.is_empty() || planned.added.iter().any(|id| ids.contains(id)))
                    && now.webform == planned.form_after;
                let outcome = if landed { AuditOutcome::Saved } else { AuditOutcome::Interrupted };
                if let Err(e) = store.settle(member_id, r.id, outcome, &r.entry.details).await {
                    tracing::error!(error = %e, "cannot settle a pending save");
                }
                tracing::info!(member_id = %member_id, list = list.get(), outcome = outcome.code(), "a pending save was settled");
            }
            Ok(pending.len())
        }
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    lease.release().await;
    result
}

fn form_name(forms: &[Webform], id: Option<WebformId>) -> Option<String> {
    let id = id?;
    forms.iter().find(|f| f.id == id).map(|f| f.name.clone())
}
