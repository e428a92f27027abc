//! Where in Bitrix24 the app was opened from: its own menu item, or one of the places it binds itself to in
//! the CRM (a row's menu and the toolbar of the contact and company lists, a tab of a contact's or a
//! company's card). Parsed from the iframe's `PLACEMENT` and `PLACEMENT_OPTIONS` once, at the edge.

use super::{EntityId, EntityType};

/// The places the app binds itself to, as Bitrix24 names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PlacementKind {
    /// "Add to a call list" in a row's menu of the contact or company list.
    ListMenu,
    /// A "Call lists" tab on a contact's or a company's card.
    DetailTab,
    /// A button above the contact or company list.
    ListToolbar,
}

/// A place the app binds itself to: what kind, in which list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Placement {
    pub kind: PlacementKind,
    pub entity: EntityType,
}

impl Placement {
    pub const ALL: [Placement; 6] = [
        Placement { kind: PlacementKind::ListMenu, entity: EntityType::Contact },
        Placement { kind: PlacementKind::ListMenu, entity: EntityType::Company },
        Placement { kind: PlacementKind::DetailTab, entity: EntityType::Contact },
        Placement { kind: PlacementKind::DetailTab, entity: EntityType::Company },
        Placement { kind: PlacementKind::ListToolbar, entity: EntityType::Contact },
        Placement { kind: PlacementKind::ListToolbar, entity: EntityType::Company },
    ];

    /// `CRM_CONTACT_LIST_MENU` and so on.
    pub fn code(self) -> &'static str {
        match (self.kind, self.entity) {
            (PlacementKind::ListMenu, EntityType::Contact) => "CRM_CONTACT_LIST_MENU",
            (PlacementKind::ListMenu, EntityType::Company) => "CRM_COMPANY_LIST_MENU",
            (PlacementKind::DetailTab, EntityType::Contact) => "CRM_CONTACT_DETAIL_TAB",
            (PlacementKind::DetailTab, EntityType::Company) => "CRM_COMPANY_DETAIL_TAB",
            (PlacementKind::ListToolbar, EntityType::Contact) => "CRM_CONTACT_LIST_TOOLBAR",
            (PlacementKind::ListToolbar, EntityType::Company) => "CRM_COMPANY_LIST_TOOLBAR",
        }
    }

    pub fn parse(code: &str) -> Option<Placement> {
        Placement::ALL.into_iter().find(|p| p.code().eq_ignore_ascii_case(code.trim()))
    }
}

/// What the app was opened for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opened {
    /// From the app's own menu item (`DEFAULT`), or a list's toolbar: the call lists.
    Lists,
    /// For one contact or company: from its row's menu, or its card's tab.
    Record { kind: PlacementKind, entity: EntityType, id: EntityId },
}

/// Why `PLACEMENT` and `PLACEMENT_OPTIONS` do not make sense together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadPlacement {
    #[error("the app does not bind itself to `{0}`")]
    Unknown(String),
    #[error("PLACEMENT_OPTIONS has no ID")]
    NoId,
    #[error("PLACEMENT_OPTIONS has an ID that is not a positive whole number")]
    BadId,
}

impl Opened {
    /// Reads the iframe's `PLACEMENT` and its options (already parsed as JSON).
    pub fn parse(placement: &str, options: &serde_json::Value) -> Result<Opened, BadPlacement> {
        if placement.trim().is_empty() || placement.eq_ignore_ascii_case("DEFAULT") {
            return Ok(Opened::Lists);
        }
        let p =
            Placement::parse(placement).ok_or_else(|| BadPlacement::Unknown(placement.chars().take(60).collect()))?;
        if p.kind == PlacementKind::ListToolbar {
            return Ok(Opened::Lists);
        }
        let id = match options.get("ID").or_else(|| options.get("id")) {
            None | Some(serde_json::Value::Null) => return Err(BadPlacement::NoId),
            Some(serde_json::Value::String(s)) => s.parse::<EntityId>().map_err(|_| BadPlacement::BadId)?,
            Some(serde_json::Value::Number(n)) => {
                n.as_u64().and_then(|v| EntityId::new(v).ok()).ok_or(BadPlacement::BadId)?
            }
            Some(_) => return Err(BadPlacement::BadId),
        };
        Ok(Opened::Record { kind: p.kind, entity: p.entity, id })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn placements_read_as_the_pages_describe_them() {
        let id = EntityId::new(8061).unwrap();
        let menu = Opened::parse("CRM_CONTACT_LIST_MENU", &json!({"ID": "8061", "URI": "/crm/contact/list/"}));
        assert_eq!(menu, Ok(Opened::Record { kind: PlacementKind::ListMenu, entity: EntityType::Contact, id }));
        let tab = Opened::parse("CRM_COMPANY_DETAIL_TAB", &json!({"ID": 8061}));
        assert_eq!(tab, Ok(Opened::Record { kind: PlacementKind::DetailTab, entity: EntityType::Company, id }));
        assert_eq!(Opened::parse("CRM_CONTACT_LIST_TOOLBAR", &json!({})), Ok(Opened::Lists));
        assert_eq!(Opened::parse("DEFAULT", &json!({})), Ok(Opened::Lists));
        assert_eq!(
            Opened::parse("CRM_DEAL_LIST_MENU", &json!({"ID": "1"})),
            Err(BadPlacement::Unknown("CRM_DEAL_LIST_MENU".into()))
        );
        assert_eq!(Opened::parse("CRM_CONTACT_LIST_MENU", &json!({})), Err(BadPlacement::NoId));
        assert_eq!(Opened::parse("CRM_CONTACT_LIST_MENU", &json!({"ID": "abc"})), Err(BadPlacement::BadId));
        assert_eq!(Opened::parse("CRM_CONTACT_LIST_MENU", &json!({"ID": -3})), Err(BadPlacement::BadId));
    }
}
