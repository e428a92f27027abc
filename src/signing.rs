//! Signed values the app hands to the browser: the iframe session reference, its CSRF proof, the OAuth
//! `state`. HMAC-SHA256 with keys derived per purpose from `APP_SECRET_KEY`; values signed with a former
//! key still verify after a rotation.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::keys::{Keyring, Purpose};

type HmacSha256 = Hmac<Sha256>;

/// What a signature is for; a value signed for one purpose never verifies for another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Use {
    Session,
    Csrf,
    OAuthState,
}

impl Use {
    fn purpose(self) -> Purpose {
        match self {
            Use::Session | Use::Csrf => Purpose::Session,
            Use::OAuthState => Purpose::OAuthState,
        }
    }
    fn label(self) -> &'static [u8] {
        match self {
            Use::Session => b"session\0",
            Use::Csrf => b"csrf\0",
            Use::OAuthState => b"oauth-state\0",
        }
    }
}

#[derive(Clone)]
pub struct Signer {
    /// Current key first.
    keys: Vec<(Purpose, [u8; 32])>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signer")
    }
}

impl Signer {
    pub fn new(ring: &Keyring) -> Signer {
        let mut keys = Vec::new();
        for key in ring.all() {
            for p in [Purpose::Session, Purpose::OAuthState] {
                keys.push((p, key.derive(p)));
            }
        }
        Signer { keys }
    }

    fn mac(key: &[u8; 32], usage: Use, payload: &str) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
        mac.update(usage.label());
        mac.update(payload.as_bytes());
        mac
    }

    /// `payload.signature`. The payload must not contain what it is signed for (it is public).
    pub fn sign(&self, usage: Use, payload: &str) -> String {
        let key = self.keys.iter().find(|(p, _)| *p == usage.purpose()).map(|(_, k)| k).expect("a current key");
        let tag = Self::mac(key, usage, payload).finalize().into_bytes();
        format!("{payload}.{}", URL_SAFE_NO_PAD.encode(tag))
    }

    /// The payload of a value this app signed for `usage`, with any key of the ring; `None` otherwise.
    pub fn verify<'a>(&self, usage: Use, signed: &'a str) -> Option<&'a str> {
        let (payload, tag) = signed.rsplit_once('.')?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        self.keys
            .iter()
            .filter(|(p, _)| *p == usage.purpose())
            .any(|(_, key)| Self::mac(key, usage, payload).verify_slice(&tag).is_ok())
            .then_some(payload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::SecretKey;

    #[test]
    fn a_signed_value_verifies_only_for_its_use_and_untampered() {
        let s = Signer::new(&Keyring::new(SecretKey::generate(), vec![]));
        let v = s.sign(Use::Session, "abc");
        assert_eq!(s.verify(Use::Session, &v), Some("abc"));
        assert_eq!(s.verify(Use::Csrf, &v), None);
        assert_eq!(s.verify(Use::Session, &v.replace("abc", "abd")), None);
        assert_eq!(s.verify(Use::Session, "abc"), None);
        assert_eq!(s.verify(Use::Session, "abc.!!!"), None);
    }

    #[test]
    fn a_value_signed_before_a_rotation_still_verifies() {
        let old = SecretKey::generate();
        let before = Signer::new(&Keyring::new(old.clone(), vec![])).sign(Use::OAuthState, "x");
        let after = Signer::new(&Keyring::new(SecretKey::generate(), vec![old]));
        assert_eq!(after.verify(Use::OAuthState, &before), Some("x"));
        let stranger = Signer::new(&Keyring::new(SecretKey::generate(), vec![]));
        assert_eq!(stranger.verify(Use::OAuthState, &before), None);
    }
}
