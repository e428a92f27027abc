//! The membership arithmetic of a call list. `crm.calllist.update` replaces the whole membership and fails
//! on duplicates and on an empty list, so every change a manager asks for (add, remove, replace) becomes
//! the complete new set here, checked before anything is sent.

use std::collections::HashSet;

use super::EntityId;

/// A call list's complete membership: at least one member, none twice, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership(Vec<EntityId>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MembershipError {
    #[error("the call list would be empty, and Bitrix24 cannot empty a call list")]
    Empty,
}

impl Membership {
    /// Keeps the first occurrence of each id; refuses an empty result.
    pub fn new(ids: impl IntoIterator<Item = EntityId>) -> Result<Membership, MembershipError> {
        let mut seen = HashSet::new();
        let ids: Vec<EntityId> = ids.into_iter().filter(|id| seen.insert(*id)).collect();
        if ids.is_empty() { Err(MembershipError::Empty) } else { Ok(Membership(ids)) }
    }

    pub fn ids(&self) -> &[EntityId] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, id: EntityId) -> bool {
        self.0.contains(&id)
    }
}

/// What a manager asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Add these and remove those; everyone else stays. An ID named on both sides changes nothing.
    Edit { add: Vec<EntityId>, remove: Vec<EntityId> },
    /// The list holds exactly these afterwards.
    Replace(Vec<EntityId>),
}

/// Which kind of change, without its members: what a form names and the audit log keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ChangeKind {
    #[default]
    Edit,
    Replace,
}

impl ChangeKind {
    /// The kind a form field names; anything else is not a change kind.
    pub fn parse(code: &str) -> Option<ChangeKind> {
        match code {
            "edit" => Some(ChangeKind::Edit),
            "replace" => Some(ChangeKind::Replace),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            ChangeKind::Edit => "edit",
            ChangeKind::Replace => "replace",
        }
    }
}

impl Change {
    pub fn add(ids: Vec<EntityId>) -> Change {
        Change::Edit { add: ids, remove: Vec::new() }
    }

    pub fn remove(ids: Vec<EntityId>) -> Change {
        Change::Edit { add: Vec::new(), remove: ids }
    }

    pub fn kind(&self) -> ChangeKind {
        match self {
            Change::Edit { .. } => ChangeKind::Edit,
            Change::Replace(_) => ChangeKind::Replace,
        }
    }

    /// The IDs to be in the list: added ones, or the whole replacement.
    pub fn wanted(&self) -> &[EntityId] {
        match self {
            Change::Edit { add, .. } => add,
            Change::Replace(ids) => ids,
        }
    }

    /// The IDs to be taken out (none for a replace, which names who stays).
    pub fn unwanted(&self) -> &[EntityId] {
        match self {
            Change::Edit { remove, .. } => remove,
            Change::Replace(_) => &[],
        }
    }

    /// True when the change names nobody to add or remove (a replace always means something).
    pub fn names_nobody(&self) -> bool {
        match self {
            Change::Edit { add, remove } => add.is_empty() && remove.is_empty(),
            Change::Replace(_) => false,
        }
    }
}

/// The complete new membership and what it changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub membership: Membership,
    pub added: Vec<EntityId>,
    pub removed: Vec<EntityId>,
}

impl Plan {
    pub fn changes_members(&self) -> bool {
        !self.added.is_empty() || !self.removed.is_empty()
    }
}

/// Applies `change` to the `current` members (in their order). New members go after existing ones, as
/// Bitrix24 appends them.
pub fn plan(current: &[EntityId], change: &Change) -> Result<Plan, MembershipError> {
    let current_set: HashSet<EntityId> = current.iter().copied().collect();
    let wanted: Vec<EntityId> = match change {
        Change::Edit { add, remove } => {
            let both: HashSet<EntityId> = add.iter().filter(|id| remove.contains(id)).copied().collect();
            let gone: HashSet<EntityId> = remove.iter().copied().filter(|id| !both.contains(id)).collect();
            let kept = current.iter().copied().filter(|id| !gone.contains(id));
            kept.chain(add.iter().copied().filter(|id| !both.contains(id))).collect()
        }
        Change::Replace(ids) => ids.clone(),
    };
    let membership = Membership::new(wanted)?;
    let new_set: HashSet<EntityId> = membership.ids().iter().copied().collect();
    let added = membership.ids().iter().copied().filter(|id| !current_set.contains(id)).collect();
    let mut seen = HashSet::new();
    let removed = current.iter().copied().filter(|id| !new_set.contains(id) && seen.insert(*id)).collect();
    Ok(Plan { membership, added, removed })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ids(v: &[u64]) -> Vec<EntityId> {
        v.iter().map(|x| EntityId::new(*x).unwrap()).collect()
    }

    #[test]
    fn adding_keeps_everyone_and_skips_duplicates() {
        let p = plan(&ids(&[1, 2, 3]), &Change::add(ids(&[3, 4, 4, 5]))).unwrap();
        assert_eq!(p.membership.ids(), ids(&[1, 2, 3, 4, 5]).as_slice());
        assert_eq!(p.added, ids(&[4, 5]));
        assert!(p.removed.is_empty());
    }

    #[test]
    fn removing_everyone_is_refused() {
        assert_eq!(plan(&ids(&[1, 2]), &Change::remove(ids(&[1, 2]))), Err(MembershipError::Empty));
        assert_eq!(plan(&ids(&[1]), &Change::Replace(vec![])), Err(MembershipError::Empty));
    }

    #[test]
    fn one_change_adds_and_removes_and_a_name_on_both_sides_changes_nothing() {
        let change = Change::Edit { add: ids(&[7, 8, 2]), remove: ids(&[1, 8, 2]) };
        let p = plan(&ids(&[1, 2, 3]), &change).unwrap();
        assert_eq!(p.membership.ids(), ids(&[2, 3, 7]).as_slice());
        assert_eq!(p.added, ids(&[7]));
        assert_eq!(p.removed, ids(&[1]));
    }

    #[test]
    fn replacing_reports_both_sides() {
        let p = plan(&ids(&[1, 2, 3]), &Change::Replace(ids(&[3, 9]))).unwrap();
        assert_eq!(p.added, ids(&[9]));
        assert_eq!(p.removed, ids(&[1, 2]));
    }

    proptest! {
        #[test]
        fn a_plan_never_holds_duplicates_and_accounts_for_every_change(
            current in proptest::collection::vec(1u64..40, 0..30),
            given in proptest::collection::vec(1u64..40, 0..30),
            taken in proptest::collection::vec(1u64..40, 0..30),
            replace in proptest::bool::ANY,
        ) {
            let current = ids(&current);
            let change = if replace { Change::Replace(ids(&given)) } else { Change::Edit { add: ids(&given), remove: ids(&taken) } };
            if let Ok(p) = plan(&current, &change) {
                let set: HashSet<_> = p.membership.ids().iter().collect();
                prop_assert_eq!(set.len(), p.membership.len());
                for id in &p.added { prop_assert!(!current.contains(id) && p.membership.contains(*id)); }
                for id in &p.removed { prop_assert!(current.contains(id) && !p.membership.contains(*id)); }
                for id in &current {
                    prop_assert!(p.membership.contains(*id) || p.removed.contains(id));
                }
            }
        }
    }
}
