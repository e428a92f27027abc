//! The app's secret keys: `APP_SECRET_KEY` and the former keys kept for reading after a rotation.
//!
//! One operator-supplied key yields a separate key per purpose (HKDF-SHA256), so a value signed for one
//! purpose can never be replayed as another. Each key has a short public id, stored beside what it sealed,
//! so old rows stay readable after a rotation and can be re-sealed with the current key.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use hkdf::Hkdf;
use rand::RngCore;
use sha2::Sha256;

pub const KEY_LEN: usize = 32;

/// What a derived key is for. The label is part of the derivation, so changing one invalidates its values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Sealing tokens and `application_token` at rest.
    TokenSeal,
    /// Signing the iframe session.
    Session,
    /// Signing the OAuth `state`.
    OAuthState,
}

impl Purpose {
    fn label(self) -> &'static [u8] {
        match self {
            Purpose::TokenSeal => b"b24-calllist/token-seal/v1",
            Purpose::Session => b"b24-calllist/session/v1",
            Purpose::OAuthState => b"b24-calllist/oauth-state/v1",
        }
    }
}

/// A short public name for a key: the first four bytes of a derivation that reveals nothing of the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyId(pub [u8; 4]);

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl FromStr for KeyId {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        if s.len() != 8 || !s.is_ascii() {
            return Err(());
        }
        let mut out = [0u8; 4];
        for (i, b) in out.iter_mut().enumerate() {
            *b = u8::from_str_radix(&s[i * 2..i * 2 + 2], 16).map_err(|_| ())?;
        }
        Ok(KeyId(out))
    }
}

/// 32 secret bytes. Never printed.
#[derive(Clone)]
pub struct SecretKey([u8; KEY_LEN]);

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey({})", self.id())
    }
}

/// Why a key text was refused. Says what was wrong, never the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("is not valid base64")]
    NotBase64,
    #[error("decodes to {0} bytes, not {KEY_LEN}")]
    WrongLength(usize),
}

impl FromStr for SecretKey {
    type Err = KeyError;

    fn from_str(s: &str) -> Result<Self, KeyError> {
        let s = s.trim();
        let bytes = [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
            .iter()
            .find_map(|engine| engine.decode(s).ok())
            .ok_or(KeyError::NotBase64)?;
        let arr: [u8; KEY_LEN] = bytes.as_slice().try_into().map_err(|_| KeyError::WrongLength(bytes.len()))?;
        Ok(SecretKey(arr))
    }
}

impl SecretKey {
    /// A fresh random key (for the demo, the sandbox and tests).
    pub fn generate() -> Self {
        let mut k = [0u8; KEY_LEN];
        rand::rng().fill_bytes(&mut k);
        SecretKey(k)
    }

    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }

    pub fn id(&self) -> KeyId {
        let mut id = [0u8; 4];
        Hkdf::<Sha256>::new(None, &self.0)
            .expand(b"b24-calllist/key-id/v1", &mut id)
            .expect("4 bytes is a valid HKDF output length");
        KeyId(id)
    }

    /// The key for one purpose.
    pub fn derive(&self, purpose: Purpose) -> [u8; KEY_LEN] {
        let mut out = [0u8; KEY_LEN];
        Hkdf::<Sha256>::new(None, &self.0)
            .expand(purpose.label(), &mut out)
            .expect("32 bytes is a valid HKDF output length");
        out
    }
}

/// The current key, used for every new value, and the former keys, used only to read old ones.
#[derive(Debug, Clone)]
pub struct Keyring {
    current: SecretKey,
    previous: Vec<SecretKey>,
}

impl Keyring {
    pub fn new(current: SecretKey, previous: Vec<SecretKey>) -> Self {
        Keyring { current, previous }
    }

    pub fn current(&self) -> &SecretKey {
        &self.current
    }

    /// Every key, current first.
    pub fn all(&self) -> impl Iterator<Item = &SecretKey> {
        std::iter::once(&self.current).chain(self.previous.iter())
    }

    pub fn find(&self, id: KeyId) -> Option<&SecretKey> {
        self.all().find(|k| k.id() == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_round_trips_through_base64_and_keeps_its_id() {
        let k = SecretKey::generate();
        let back: SecretKey = k.to_base64().parse().unwrap();
        assert_eq!(k.id(), back.id());
        assert_eq!(k.id().to_string().parse::<KeyId>().unwrap(), k.id());
    }

    #[test]
    fn purposes_yield_different_keys() {
        let k = SecretKey::generate();
        assert_ne!(k.derive(Purpose::TokenSeal), k.derive(Purpose::Session));
        assert_ne!(k.derive(Purpose::Session), k.derive(Purpose::OAuthState));
    }

    #[test]
    fn bad_key_texts_say_what_is_wrong() {
        assert_eq!("not base64 at all!".parse::<SecretKey>().unwrap_err(), KeyError::NotBase64);
        assert_eq!("AAAA".parse::<SecretKey>().unwrap_err(), KeyError::WrongLength(3));
    }

    #[test]
    fn debug_output_shows_the_id_not_the_key() {
        let k = SecretKey::generate();
        let shown = format!("{k:?}");
        assert!(!shown.contains(&k.to_base64()));
        assert!(shown.contains(&k.id().to_string()));
    }
}
