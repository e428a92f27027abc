//! What the audit log records: an action, how it ended, and its details, as stable codes and typed values.
//! Words are chosen when an entry is shown, in the viewer's language; the log never stores them.

use serde::{Deserialize, Serialize};

use super::{EntityId, ListId, PortalStatus, WebformId};

/// What was done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    PortalInstall,
    PortalReinstall,
    PortalStatus,
    PortalUninstall,
    /// The app bound (or could not bind) its places in the CRM.
    PortalPlacements,
    ListCreate,
    ListSave,
}

impl AuditAction {
    pub const ALL: [AuditAction; 7] = [
        AuditAction::PortalInstall,
        AuditAction::PortalReinstall,
        AuditAction::PortalStatus,
        AuditAction::PortalUninstall,
        AuditAction::PortalPlacements,
        AuditAction::ListCreate,
        AuditAction::ListSave,
    ];

    pub fn code(self) -> &'static str {
        match self {
            AuditAction::PortalInstall => "portal.install",
            AuditAction::PortalReinstall => "portal.reinstall",
            AuditAction::PortalStatus => "portal.status",
            AuditAction::PortalUninstall => "portal.uninstall",
            AuditAction::PortalPlacements => "portal.placements",
            AuditAction::ListCreate => "list.create",
            AuditAction::ListSave => "list.save",
        }
    }

    pub fn parse(code: &str) -> Option<AuditAction> {
        AuditAction::ALL.into_iter().find(|a| a.code() == code)
    }
}

/// How it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditOutcome {
    /// A portal change that took effect.
    Done,
    /// The change was saved in Bitrix24.
    Saved,
    /// The list had changed since the manager's review; nothing was sent.
    Conflict,
    /// Bitrix24 or the app refused; nothing was changed.
    Refused,
    /// The update is about to be sent, or was and its answer never came (the app stopped, the connection
    /// broke): settled when the list is next looked at.
    Pending,
    /// A pending save found, later, not to have reached the list.
    Interrupted,
}

impl AuditOutcome {
    pub fn code(self) -> &'static str {
        match self {
            AuditOutcome::Done => "ok",
            AuditOutcome::Saved => "saved",
            AuditOutcome::Conflict => "conflict",
            AuditOutcome::Refused => "refused",
            AuditOutcome::Pending => "pending",
            AuditOutcome::Interrupted => "interrupted",
        }
    }

    pub fn parse(code: &str) -> Option<AuditOutcome> {
        [
            AuditOutcome::Done,
            AuditOutcome::Saved,
            AuditOutcome::Conflict,
            AuditOutcome::Refused,
            AuditOutcome::Pending,
            AuditOutcome::Interrupted,
        ]
        .into_iter()
        .find(|o| o.code() == code)
    }
}

/// The details of an entry; which kind is decided by its action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditDetails {
    List(ListChange),
    Portal(PortalChange),
    Placements(PlacementsBound),
    /// Details this version cannot read (written by a later one, or damaged), kept as they were.
    Unreadable(serde_json::Value),
}

/// A change of a call list's membership or form, as it was made (or would have been).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListChange {
    #[serde(default)]
    pub added: Vec<EntityId>,
    #[serde(default)]
    pub removed: Vec<EntityId>,
    /// Members the update asked for that Bitrix24 did not keep.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dropped: Vec<EntityId>,
    #[serde(default)]
    pub form_before: Option<WebformId>,
    #[serde(default)]
    pub form_after: Option<WebformId>,
    /// The names of the forms when the entry was written, so history can name a form later deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form_before_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form_after_name: Option<String>,
    /// Why it was refused: the Bitrix24 error code or the kind of failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// REST requests the action cost.
    #[serde(default)]
    pub requests: u32,
}

/// The places the app bound itself to in the CRM, and why it could not, when it could not.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlacementsBound {
    /// Placement codes bound now or found bound before.
    #[serde(default)]
    pub bound: Vec<String>,
    /// The error code that stopped the others.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A change of the portal's lifecycle state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalChange {
    pub from: Option<String>,
    pub to: String,
    /// Why, for the operator (a refused refresh, say), when the app made the change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl PortalChange {
    pub fn new(from: Option<PortalStatus>, to: PortalStatus) -> PortalChange {
        PortalChange { from: from.map(|f| f.as_str().to_owned()), to: to.as_str().to_owned(), reason: None }
    }
}

impl AuditDetails {
    /// Reads the stored details of an entry of `action`; what cannot be read is kept as it was, not lost.
    pub fn from_json(action: AuditAction, text: &str) -> AuditDetails {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(text) else {
            return AuditDetails::Unreadable(serde_json::Value::String(text.to_owned()));
        };
        let typed = match action {
            AuditAction::ListCreate | AuditAction::ListSave => {
                serde_json::from_value(v.clone()).map(AuditDetails::List).ok()
            }
            AuditAction::PortalPlacements => serde_json::from_value(v.clone()).map(AuditDetails::Placements).ok(),
            _ => serde_json::from_value(v.clone()).map(AuditDetails::Portal).ok(),
        };
        typed.unwrap_or(AuditDetails::Unreadable(v))
    }

    pub fn to_json(&self) -> String {
        let v = match self {
            AuditDetails::List(l) => serde_json::to_value(l),
            AuditDetails::Portal(p) => serde_json::to_value(p),
            AuditDetails::Placements(p) => serde_json::to_value(p),
            AuditDetails::Unreadable(v) => Ok(v.clone()),
        };
        v.map(|v| v.to_string()).unwrap_or_else(|_| "{}".into())
    }
}

/// One entry of the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub action: AuditAction,
    pub outcome: AuditOutcome,
    /// Who did it: a manager, or nobody (the portal or the app itself).
    pub user: Option<(super::UserId, String)>,
    pub list_id: Option<ListId>,
    pub details: AuditDetails,
}

impl AuditEntry {
    /// A change of the portal itself (install, status, uninstall), made by the app or the portal.
    pub fn portal(action: AuditAction, from: Option<PortalStatus>, to: PortalStatus) -> AuditEntry {
        AuditEntry {
            action,
            outcome: AuditOutcome::Done,
            user: None,
            list_id: None,
            details: AuditDetails::Portal(PortalChange::new(from, to)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for a in AuditAction::ALL {
            assert_eq!(AuditAction::parse(a.code()), Some(a));
        }
        assert_eq!(AuditOutcome::parse("conflict"), Some(AuditOutcome::Conflict));
        assert_eq!(AuditOutcome::parse("сохранено"), None);
    }

    #[test]
    fn details_read_back_typed_and_unknown_ones_are_kept() {
        let d = AuditDetails::List(ListChange {
            added: vec![EntityId::new(7).unwrap()],
            form_after: WebformId::new(2).ok(),
            requests: 2,
            ..ListChange::default()
        });
        assert_eq!(AuditDetails::from_json(AuditAction::ListSave, &d.to_json()), d);
        let p = AuditDetails::Portal(PortalChange::new(None, PortalStatus::Active));
        assert_eq!(AuditDetails::from_json(AuditAction::PortalInstall, &p.to_json()), p);
        assert!(matches!(AuditDetails::from_json(AuditAction::ListSave, "not json"), AuditDetails::Unreadable(_)));
        // Entries written before the details were typed still read: unknown keys are ignored.
        let old = r#"{"intent":"add","requests":3}"#;
        assert_eq!(
            AuditDetails::from_json(AuditAction::ListSave, old),
            AuditDetails::List(ListChange { requests: 3, ..ListChange::default() })
        );
    }
}
