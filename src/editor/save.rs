//! Planning and saving a change. The manager states an intent; the plan is the complete new membership
//! computed against the list as it is now, with IDs Bitrix24 would refuse taken out beforehand. Saving
//! re-reads the list, refuses if it changed since the preview, and sends the update together with the read
//! of what Bitrix24 kept, in one batch.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use serde_json::json;

use super::fingerprint;
use super::history::Journal;
use crate::bitrix::batch::Command;
use crate::bitrix::methods::calllist::{
    CallList, CallStatus, FormChoice, Member, MemberRead, NewList, Update, parse_list, parse_statuses,
};
use crate::bitrix::methods::crm::{CrmItem, Webform, lookup_commands, parse_lookup, parse_webforms, take_lookup};
use crate::bitrix::{BitrixError, Caller, TokenStore};
use crate::domain::{Change, EntityId, EntityType, ListId, Membership, Plan, WebformId, membership};
use crate::store::ListLease;

/// What the manager wants done with the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FormIntent {
    /// Whatever form the list has when the change is saved.
    #[default]
    Keep,
    Set(WebformId),
    Clear,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Intent {
    pub change: Change,
    pub form: FormIntent,
}

/// The change as it would be made now.
#[derive(Debug, Clone)]
pub struct Preview {
    pub list: CallList,
    pub plan: Plan,
    pub form_before: Option<WebformId>,
    pub form_after: Option<WebformId>,
    /// Requested IDs that are not among the contacts or companies of the list's type the manager can see
    /// (they do not exist, are of the other type, or are hidden): left out, since Bitrix24 refuses unknown
    /// IDs and silently drops hidden ones.
    pub skipped: Vec<EntityId>,
    /// IDs asked to be removed that are not members.
    pub not_members: Vec<EntityId>,
    pub names: HashMap<EntityId, String>,
    pub forms: Vec<Webform>,
    pub statuses: Vec<CallStatus>,
    pub members: Vec<Member>,
    pub fingerprint: String,
    pub requests: u32,
}

#[derive(Debug)]
pub enum SaveError {
    Bitrix(BitrixError),
    /// Bitrix24 cannot empty a call list.
    WouldEmpty,
    /// The change would change nothing; these of the IDs asked for are why (hidden, unknown, not members).
    NothingToDo {
        skipped: Vec<EntityId>,
        not_members: Vec<EntityId>,
    },
    /// The chosen form is not among the portal's forms.
    UnknownForm(WebformId),
    /// Someone changed the list since the preview: here is the change as it would be made now.
    Conflict(Box<Preview>),
    /// Another save holds the list (on this instance or another) and did not finish in time.
    Busy,
    /// The list's lease ran out before the update was sent, so it was not sent.
    LeaseLost,
    /// The store could not be reached to coordinate the save, so nothing was sent.
    Storage(String),
}

impl SaveError {
    /// A short, stable label for the audit log and metrics.
    pub fn kind(&self) -> String {
        match self {
            SaveError::Bitrix(b) => b.kind(),
            SaveError::WouldEmpty => "WOULD_EMPTY".into(),
            SaveError::NothingToDo { .. } => "NOTHING_TO_DO".into(),
            SaveError::UnknownForm(_) => "UNKNOWN_FORM".into(),
            SaveError::Conflict(_) => "CONFLICT".into(),
            SaveError::Busy => "BUSY".into(),
            SaveError::LeaseLost => "LEASE_LOST".into(),
            SaveError::Storage(_) => "STORAGE".into(),
        }
    }
}

impl From<BitrixError> for SaveError {
    fn from(e: BitrixError) -> Self {
        SaveError::Bitrix(e)
    }
}

/// What a save did, as Bitrix24 reports it afterwards.
#[derive(Debug, Clone)]
pub struct SaveOutcome {
    pub list: CallList,
    pub added: Vec<EntityId>,
    pub removed: Vec<EntityId>,
    /// Members the update asked for that Bitrix24 did not keep (it drops those the user may not read).
    pub dropped: Vec<EntityId>,
    /// IDs to add that were left out when the change was planned again at saving (hidden from the manager
    /// or deleted since the review), so Bitrix24 never had the chance to drop them silently.
    pub skipped: Vec<EntityId>,
    pub form_before: Option<WebformId>,
    pub form_after: Option<WebformId>,
    pub members: Vec<Member>,
    pub statuses: Vec<CallStatus>,
    pub forms: Vec<Webform>,
    pub names: HashMap<EntityId, String>,
    /// Contacts or companies of the list's first page after the save, looked up in the same batch as the
    /// update, so showing the list afterwards costs no request.
    pub first_page: HashMap<EntityId, CrmItem>,
    pub requests: u32,
}

impl SaveOutcome {
    /// The first screen of the list as it stands after the save (no need to read it again).
    pub fn screen(&self) -> super::Screen {
        let members: Vec<Member> = self.members.iter().take(super::read::PAGE as usize).cloned().collect();
        super::Screen {
            list: self.list.clone(),
            statuses: self.statuses.clone(),
            forms: self.forms.clone(),
            page: 0,
            status: None,
            full: members.len() as u64 >= super::read::PAGE,
            nothing_visible: members.is_empty(),
            names: members.iter().filter_map(|m| self.first_page.get(&m.id).map(|i| (m.id, i.clone()))).collect(),
            members,
            choices: None,
            requests: 0,
        }
    }

    /// Every member after the save, counted by status.
    pub fn tally(&self) -> super::Tally {
        super::Tally {
            by_status: super::read::by_status(&self.members, &self.statuses),
            members: self.members.clone(),
            requests: 0,
        }
    }
}

/// Reads the list and what planning needs (forms, statuses, the requested IDs) in one batch, and plans.
async fn plan_now<S: TokenStore>(
    caller: &Caller<'_, S>,
    list_id: ListId,
    entity_hint: EntityType,
    intent: &Intent,
    expected: Option<u64>,
) -> Result<Preview, SaveError> {
    let before = caller.requests_sent();
    // Only the IDs to be in the list are looked up: those to go are checked against the members.
    let ids = intent.change.wanted();
    let mut extra = vec![
        Command::new("list", "crm.calllist.get", json!({ "ID": list_id.get() })),
        Command::new("forms", "crm.webform.list", json!({ "GET_INACTIVE": "Y" })),
        Command::new("statuses", "crm.calllist.statuslist", json!({})),
    ];
    // Members to be removed are looked up too, so the review can name them.
    let named: Vec<EntityId> = ids.iter().chain(intent.change.unwanted()).copied().collect();
    let lookups = lookup_commands(entity_hint, &named, "q");
    extra.extend(lookups.iter().cloned());
    if extra.len() > 40 {
        // A very large selection is looked up in batches of its own.
        extra.truncate(3);
    }
    let looked_up_inline = extra.len() > 3;
    let (members, mut out) = caller.read_members(MemberRead::new(list_id).expecting(expected).before(extra)).await?;
    let list = parse_list("crm.calllist.get", &out.take("list")?)?;
    let forms = parse_webforms(out.take("forms")?)?;
    let statuses = parse_statuses("crm.calllist.statuslist", out.take("statuses")?)?;
    let mut names = HashMap::new();
    if looked_up_inline && list.entity_type == entity_hint {
        for c in &lookups {
            for item in take_lookup(&mut out, &c.key, entity_hint)? {
                names.insert(item.id, item.name);
            }
        }
    } else {
        for (id, item) in super::resolve_names(caller, list.entity_type, &named).await? {
            names.insert(id, item.name);
        }
    }
    let current: Vec<EntityId> = members.iter().map(|m| m.id).collect();
    let current_set: HashSet<EntityId> = current.iter().copied().collect();
    // Members already in the list stay valid even when a lookup misses them; other IDs the manager cannot
    // see are left out, since Bitrix24 refuses unknown IDs and silently drops hidden ones.
    let visible = |id: &EntityId| names.contains_key(id) || current_set.contains(id);
    let wanted = intent.change.wanted();
    let skipped: Vec<EntityId> = wanted.iter().copied().filter(|id| !visible(id)).collect();
    let ok: Vec<EntityId> = wanted.iter().copied().filter(|id| visible(id)).collect();
    let not_members: Vec<EntityId> =
        intent.change.unwanted().iter().copied().filter(|id| !current_set.contains(id)).collect();
    let change = match &intent.change {
        Change::Edit { remove, .. } => Change::Edit { add: ok, remove: remove.clone() },
        Change::Replace(_) => Change::Replace(ok),
    };
    let plan = membership::plan(&current, &change).map_err(|_| SaveError::WouldEmpty)?;
    let form_after = match intent.form {
        FormIntent::Keep => list.webform,
        FormIntent::Clear => None,
        FormIntent::Set(id) if forms.iter().any(|f| f.id == id) => Some(id),
        FormIntent::Set(id) => return Err(SaveError::UnknownForm(id)),
    };
    for m in &members {
        names.entry(m.id).or_default();
    }
    Ok(Preview {
        fingerprint: fingerprint(&current, list.webform),
        form_before: list.webform,
        form_after,
        list,
        plan,
        skipped,
        not_members,
        names,
        forms,
        statuses,
        members,
        requests: caller.requests_sent() - before,
    })
}

/// The change as it would be made now; nothing is written.
pub async fn preview<S: TokenStore>(
    caller: &Caller<'_, S>,
    list_id: ListId,
    entity_hint: EntityType,
    intent: &Intent,
    expected: Option<u64>,
) -> Result<Preview, SaveError> {
    let p = plan_now(caller, list_id, entity_hint, intent, expected).await?;
    if !p.plan.changes_members() && p.form_after == p.form_before {
        return Err(SaveError::NothingToDo { skipped: p.skipped, not_members: p.not_members });
    }
    Ok(p)
}

/// Saves the change previewed as `base`: refuses if the list changed since; otherwise one batch sends the
/// complete update (with the intended form, always) and reads back what Bitrix24 kept. True beside the
/// result when the save wrote (and settled, or left pending) its own history entry.
async fn save<S: TokenStore>(
    caller: &Caller<'_, S>,
    journal: &Journal<'_>,
    list_id: ListId,
    entity_hint: EntityType,
    intent: &Intent,
    base: &str,
    lease: &ListLease,
) -> (Result<SaveOutcome, SaveError>, bool) {
    let before = caller.requests_sent();
    let p = match plan_now(caller, list_id, entity_hint, intent, None).await {
        Ok(p) => p,
        Err(e) => return (Err(e), false),
    };
    if p.fingerprint != base {
        return (Err(SaveError::Conflict(Box::new(p))), false);
    }
    if !p.plan.changes_members() && p.form_after == p.form_before {
        return (Err(SaveError::NothingToDo { skipped: p.skipped, not_members: p.not_members }), false);
    }
    // The update is sent only while the lease is held: a save that outlived it must not overwrite the save
    // that took the list over.
    match lease.renew().await {
        Ok(true) => {}
        Ok(false) => return (Err(SaveError::LeaseLost), false),
        Err(e) => return (Err(SaveError::Storage(e.to_string())), false),
    }
    let pending = match journal.pending(list_id, &p).await {
        Ok(id) => id,
        Err(e) => return (Err(SaveError::Storage(e.to_string())), false),
    };
    let result = send_update(caller, list_id, p, before).await;
    journal.settle(pending, list_id, &result, caller.requests_sent() - before).await;
    (result, true)
}

/// Sends the planned update and reads back what Bitrix24 kept, in one batch.
async fn send_update<S: TokenStore>(
    caller: &Caller<'_, S>,
    list_id: ListId,
    p: Preview,
    before: u32,
) -> Result<SaveOutcome, SaveError> {
    let update = Update {
        list: list_id,
        entity_type: p.list.entity_type,
        members: p.plan.membership.clone(),
        form: FormChoice::from_current(p.form_after),
    };
    // After the update Bitrix24 keeps the existing members it was sent (re-ranked by call status) and
    // appends the new ones it accepted. Only the new ones can go missing (it drops those the user may not
    // read), so only the tail of the list, from where they start, is read back; in the same batch.
    let existing = kept_existing_in_new_order(&p.members, &p.plan);
    let first_page: Vec<EntityId> =
        existing.iter().map(|m| m.id).chain(p.plan.added.iter().copied()).take(50).collect();
    let mut before_pages = vec![
        Command::new("update", "crm.calllist.update", update.params()),
        Command::new("after", "crm.calllist.get", json!({ "ID": list_id.get() })),
    ];
    before_pages.extend(lookup_commands(p.list.entity_type, &first_page, "names"));
    let from_page = existing.len() as u64 / 50;
    let read = MemberRead::new(list_id)
        .from_page(from_page)
        .expecting(Some(existing.len() as u64 - from_page * 50 + p.plan.added.len() as u64))
        .before(before_pages);
    let (tail, mut out) = caller.read_members(read).await?;
    out.take("update")?;
    let mut looked_up = HashMap::new();
    if let Ok(rows) = out.take("names0") {
        for item in parse_lookup(p.list.entity_type, rows)? {
            looked_up.insert(item.id, item);
        }
    }
    let list = parse_list("crm.calllist.get", &out.take("after")?)?;
    let in_tail: HashSet<EntityId> = tail.iter().map(|m| m.id).collect();
    let added: Vec<EntityId> = p.plan.added.iter().copied().filter(|id| in_tail.contains(id)).collect();
    let dropped: Vec<EntityId> = p.plan.added.iter().copied().filter(|id| !in_tail.contains(id)).collect();
    let added_set: HashSet<EntityId> = added.iter().copied().collect();
    let mut members = existing;
    members.extend(tail.into_iter().filter(|m| added_set.contains(&m.id)));
    Ok(SaveOutcome {
        added,
        removed: p.plan.removed.clone(),
        dropped,
        skipped: p.skipped.clone(),
        form_before: p.form_before,
        form_after: list.webform,
        list,
        members,
        statuses: p.statuses,
        forms: p.forms,
        names: p.names,
        first_page: looked_up,
        requests: caller.requests_sent() - before,
    })
}

/// How long a save's lease on its list lasts unless renewed (it is, every third of that, while the save runs):
/// a crashed holder blocks the list this long, less than a waiting save waits.
pub const LEASE: Duration = Duration::from_secs(8);
/// How long a save waits for another save of the same list before showing the list as it is then.
pub const LEASE_WAIT: Duration = Duration::from_secs(10);

/// Saves as [`save`] does, holding the list's lease in the store: one save of a list at a time on any
/// instance. A save that cannot have the lease in time re-reads the list and answers with the change as it
/// would be made now (a conflict), never writes without it.
/// Every save leaves its history entry: settled here, or (when the update was sent) pending until its
/// answer, or the next look at the list, settles it.
pub async fn save_leased<S: TokenStore>(
    caller: &Caller<'_, S>,
    journal: &Journal<'_>,
    list_id: ListId,
    entity_hint: EntityType,
    intent: &Intent,
    base: &str,
) -> Result<SaveOutcome, SaveError> {
    let before = caller.requests_sent();
    let leased = journal.store.take_list_lease(journal.member_id, list_id, LEASE, LEASE_WAIT).await;
    let result = match leased {
        Ok(Some(lease)) => {
            let renewing = lease.keep_alive();
            let result = save(caller, journal, list_id, entity_hint, intent, base, &lease).await;
            drop(renewing);
            lease.release().await;
            result
        }
        Ok(None) => match plan_now(caller, list_id, entity_hint, intent, None).await {
            Ok(now) => (Err(SaveError::Conflict(Box::new(now))), false),
            Err(e) => (Err(e), false),
        },
        Err(e) => (Err(SaveError::Storage(e.to_string())), false),
    };
    let (result, settled) = result;
    // A save that reached its update settled its own entry; every other ending is recorded here.
    if !settled && !matches!(result, Err(SaveError::Storage(_))) {
        journal.record(list_id, &result, caller.requests_sent() - before).await;
    }
    result
}

/// The members an update keeps, in the order Bitrix24 gives them afterwards: sorted by call status, then
/// by their old order, as it re-ranks them (reference 1.1 step 10).
fn kept_existing_in_new_order(current: &[Member], plan: &Plan) -> Vec<Member> {
    let removed: HashSet<EntityId> = plan.removed.iter().copied().collect();
    let mut kept: Vec<(usize, &Member)> =
        current.iter().enumerate().filter(|(_, m)| !removed.contains(&m.id)).collect();
    kept.sort_by(|(i, a), (j, b)| a.status.cmp(&b.status).then(i.cmp(j)));
    kept.into_iter().map(|(_, m)| m.clone()).collect()
}

/// Creates a call list with a first selection; IDs the manager cannot see are left out beforehand.
pub async fn create_list<S: TokenStore>(
    caller: &Caller<'_, S>,
    entity_type: EntityType,
    ids: &[EntityId],
    webform: Option<WebformId>,
) -> Result<(ListId, Vec<EntityId>), SaveError> {
    let found = super::resolve_names(caller, entity_type, ids).await?;
    let (ok, skipped): (Vec<EntityId>, Vec<EntityId>) = ids.iter().partition(|id| found.contains_key(id));
    let members = Membership::new(ok).map_err(|_| SaveError::WouldEmpty)?;
    let id = caller.calllist_add(&NewList { entity_type, members, webform }).await?;
    Ok((id, skipped))
}
