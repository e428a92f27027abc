//! CRM identifiers: which kind of entity a call list holds, and the positive integer ids of Bitrix24.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The two kinds of entity a call list can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EntityType {
    Contact,
    Company,
}

impl EntityType {
    /// The CRM type id (`ENTITY_TYPE_ID`, `entityTypeId`).
    pub fn type_id(self) -> u8 {
        match self {
            EntityType::Contact => 3,
            EntityType::Company => 4,
        }
    }

    /// The name `crm.calllist.*` expects: always upper-case, since Bitrix24 fails on other spellings.
    pub fn code(self) -> &'static str {
        match self {
            EntityType::Contact => "CONTACT",
            EntityType::Company => "COMPANY",
        }
    }

    pub fn from_type_id(id: i64) -> Option<EntityType> {
        match id {
            3 => Some(EntityType::Contact),
            4 => Some(EntityType::Company),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown entity type `{0}`: expected CONTACT or COMPANY")]
pub struct UnknownEntityType(pub String);

impl FromStr for EntityType {
    type Err = UnknownEntityType;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_uppercase().as_str() {
            "CONTACT" | "3" => Ok(EntityType::Contact),
            "COMPANY" | "4" => Ok(EntityType::Company),
            _ => Err(UnknownEntityType(s.chars().take(40).collect())),
        }
    }
}

impl fmt::Display for EntityType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} `{value}` is not valid: expected a positive whole number")]
pub struct BadId {
    pub what: &'static str,
    pub value: String,
}

macro_rules! positive_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "serde_json::Value", into = "u64")]
        pub struct $name(u64);

        impl $name {
            pub fn new(v: u64) -> Result<Self, BadId> {
                if v == 0 { Err(BadId { what: $what, value: "0".into() }) } else { Ok($name(v)) }
            }
            pub fn get(self) -> u64 {
                self.0
            }
        }

        impl FromStr for $name {
            type Err = BadId;
            fn from_str(s: &str) -> Result<Self, BadId> {
                let bad = || BadId { what: $what, value: s.chars().take(40).collect() };
                let t = s.trim();
                if t.is_empty() || t.len() > 19 || !t.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(bad());
                }
                t.parse::<u64>().ok().filter(|v| *v > 0).map($name).ok_or_else(bad)
            }
        }

        impl TryFrom<serde_json::Value> for $name {
            type Error = BadId;
            fn try_from(v: serde_json::Value) -> Result<Self, BadId> {
                match &v {
                    serde_json::Value::Number(n) => match n.as_u64() {
                        Some(x) => $name::new(x),
                        None => Err(BadId { what: $what, value: n.to_string() }),
                    },
                    serde_json::Value::String(s) => s.parse(),
                    other => Err(BadId { what: $what, value: other.to_string().chars().take(40).collect() }),
                }
            }
        }

        impl From<$name> for u64 {
            fn from(v: $name) -> u64 {
                v.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

positive_id!(
    /// A contact's or company's id.
    EntityId,
    "entity id"
);
positive_id!(
    /// A call list's id.
    ListId,
    "call list id"
);
positive_id!(
    /// A CRM web form's id.
    WebformId,
    "web form id"
);
positive_id!(
    /// A Bitrix24 user's id.
    UserId,
    "user id"
);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ids_parse_from_numbers_and_numeric_strings_only() {
        assert_eq!("12".parse::<EntityId>().unwrap().get(), 12);
        assert_eq!(EntityId::try_from(serde_json::json!("7")).unwrap().get(), 7);
        assert_eq!(EntityId::try_from(serde_json::json!(7)).unwrap().get(), 7);
        for bad in ["0", "-1", "1.5", "abc", "", " ", "99999999999999999999"] {
            assert!(bad.parse::<EntityId>().is_err(), "{bad}");
        }
        assert!(EntityId::try_from(serde_json::json!(null)).is_err());
        let e = "x".parse::<ListId>().unwrap_err();
        assert_eq!(e.to_string(), "call list id `x` is not valid: expected a positive whole number");
    }

    #[test]
    fn entity_types_speak_upper_case() {
        assert_eq!("contact".parse::<EntityType>().unwrap().code(), "CONTACT");
        assert_eq!(EntityType::from_type_id(4), Some(EntityType::Company));
        assert!("LEAD".parse::<EntityType>().is_err());
    }

    proptest! {
        #[test]
        fn id_parsing_never_panics(s in ".{0,30}") {
            let _ = s.parse::<EntityId>();
        }
    }
}
