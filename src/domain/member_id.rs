//! `member_id`: Bitrix24's identifier of a portal (32 hex characters on the cloud).

use std::fmt;
use std::str::FromStr;

/// The longest `member_id` accepted. Cloud portals use 32 characters; anything far longer is not a portal.
pub const MAX_LEN: usize = 64;

/// A portal's `member_id`, valid by construction: 1 to 64 ASCII letters, digits, `-`, `_` or `.`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MemberId(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MemberIdError {
    #[error("member_id is empty: expected the portal's member_id, 32 hexadecimal characters")]
    Empty,
    #[error("member_id is {0} characters long: expected at most {MAX_LEN} (a portal's member_id has 32)")]
    TooLong(usize),
    #[error("member_id contains characters other than letters, digits, `-`, `_` and `.`")]
    BadCharacters,
}

impl MemberId {
    pub fn parse(s: &str) -> Result<Self, MemberIdError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(MemberIdError::Empty);
        }
        if s.len() > MAX_LEN {
            return Err(MemberIdError::TooLong(s.chars().count()));
        }
        if !s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')) {
            return Err(MemberIdError::BadCharacters);
        }
        Ok(MemberId(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for MemberId {
    type Err = MemberIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        MemberId::parse(s)
    }
}

impl fmt::Display for MemberId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for MemberId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MemberId({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_cloud_member_id_parses() {
        assert_eq!(MemberId::parse("a223c6b3710f85df22e9377d6c4f7553").unwrap().as_str().len(), 32);
    }

    #[test]
    fn empty_long_and_odd_values_are_refused_with_a_reason() {
        assert_eq!(MemberId::parse("  "), Err(MemberIdError::Empty));
        assert_eq!(MemberId::parse(&"a".repeat(65)), Err(MemberIdError::TooLong(65)));
        assert_eq!(MemberId::parse("abc/../x"), Err(MemberIdError::BadCharacters));
        assert_eq!(MemberId::parse("abc def"), Err(MemberIdError::BadCharacters));
    }

    proptest! {
        #[test]
        fn parsing_never_panics_and_accepts_only_what_it_keeps(s in ".{0,80}") {
            if let Ok(id) = MemberId::parse(&s) {
                prop_assert_eq!(id.as_str(), s.trim());
                prop_assert!(id.as_str().len() <= MAX_LEN);
            }
        }
    }
}
