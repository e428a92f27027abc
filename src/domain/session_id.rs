//! A manager's session id: what the page's signed reference points at.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;

/// A session's public id: 128 random bits. On its own it opens nothing; the page's token is signed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SessionId(String);

impl SessionId {
    pub fn generate() -> SessionId {
        let mut bytes = [0u8; 16];
        rand::rng().fill_bytes(&mut bytes);
        SessionId(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Accepts only what [`SessionId::generate`] makes.
    pub fn parse(s: &str) -> Option<SessionId> {
        (s.len() == 22 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
            .then(|| SessionId(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for SessionId {
    /// Never the id itself: with a signature it opens a session, so it stays out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[session]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_generated_ids_parse() {
        let id = SessionId::generate();
        assert_eq!(SessionId::parse(id.as_str()), Some(id.clone()));
        assert_eq!(SessionId::parse("short"), None);
        assert_eq!(SessionId::parse("aaaaaaaaaaaaaaaaaaaaa!"), None);
        assert_eq!(id.to_string(), "[session]");
    }
}
