//! Sealing secrets at rest with AES-256-GCM.
//!
//! A sealed value is text: `v1.<key id>.<base64url(nonce ‖ ciphertext)>`. The portal's `member_id` and the
//! field's name are the associated data, so a value copied to another portal or another column does not open.
//! The key id says which key sealed it; a value sealed with a former key still opens and is re-sealed with
//! the current key the next time it is written.

use aes_gcm::aead::{Aead, Generate, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::{ExposeSecret, SecretString};

use crate::domain::MemberId;
use crate::keys::{KeyId, Keyring, Purpose};

const VERSION: &str = "v1";
const NONCE_LEN: usize = 12;

/// Which secret a sealed value holds; part of the associated data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    AccessToken,
    RefreshToken,
    ApplicationToken,
    SessionAccessToken,
    SessionRefreshToken,
}

impl Field {
    pub fn name(self) -> &'static str {
        match self {
            Field::AccessToken => "access_token",
            Field::RefreshToken => "refresh_token",
            Field::ApplicationToken => "application_token",
            Field::SessionAccessToken => "session_access_token",
            Field::SessionRefreshToken => "session_refresh_token",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("is not a sealed value of this app (expected v1.KEYID.DATA)")]
    Malformed,
    #[error(
        "was sealed with key {0}, which is neither APP_SECRET_KEY nor in APP_PREVIOUS_SECRET_KEYS: add the key it was sealed with to APP_PREVIOUS_SECRET_KEYS"
    )]
    UnknownKey(String),
    #[error("does not open with key {0}: it was altered, or belongs to another portal or field")]
    Tampered(String),
}

/// An opened secret, and whether it was sealed with a former key.
#[derive(Debug)]
pub struct Opened {
    pub value: SecretString,
    pub sealed_with_former_key: bool,
}

/// Seals and opens with the token-sealing key derived from each key of the ring.
#[derive(Clone)]
pub struct Sealer {
    /// Current key first.
    ciphers: Vec<(KeyId, Aes256Gcm)>,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<String> = self.ciphers.iter().map(|(id, _)| id.to_string()).collect();
        write!(f, "Sealer({})", ids.join(","))
    }
}

fn aad(field: Field, member_id: &MemberId) -> Vec<u8> {
    let mut aad = Vec::with_capacity(32 + member_id.as_str().len());
    aad.extend_from_slice(field.name().as_bytes());
    aad.push(0);
    aad.extend_from_slice(member_id.as_str().as_bytes());
    aad
}

impl Sealer {
    pub fn new(keys: &Keyring) -> Self {
        let ciphers = keys
            .all()
            .map(|k| {
                let key = Key::<Aes256Gcm>::from(k.derive(Purpose::TokenSeal));
                (k.id(), Aes256Gcm::new(&key))
            })
            .collect();
        Sealer { ciphers }
    }

    pub fn current_key_id(&self) -> KeyId {
        self.ciphers[0].0
    }

    pub fn seal(&self, field: Field, member_id: &MemberId, secret: &SecretString) -> String {
        let (id, cipher) = &self.ciphers[0];
        let nonce = Nonce::generate();
        let ciphertext = cipher
            .encrypt(&nonce, Payload { msg: secret.expose_secret().as_bytes(), aad: &aad(field, member_id) })
            .expect("AES-GCM encryption of an in-memory buffer cannot fail");
        let mut data = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        data.extend_from_slice(nonce.as_slice());
        data.extend_from_slice(&ciphertext);
        format!("{VERSION}.{id}.{}", URL_SAFE_NO_PAD.encode(data))
    }

    pub fn open(&self, field: Field, member_id: &MemberId, sealed: &str) -> Result<Opened, SealError> {
        let mut parts = sealed.splitn(3, '.');
        let (Some(VERSION), Some(kid), Some(data)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(SealError::Malformed);
        };
        let kid: KeyId = kid.parse().map_err(|_| SealError::Malformed)?;
        let data = URL_SAFE_NO_PAD.decode(data).map_err(|_| SealError::Malformed)?;
        if data.len() < NONCE_LEN + 16 {
            return Err(SealError::Malformed);
        }
        let (position, (_, cipher)) = self
            .ciphers
            .iter()
            .enumerate()
            .find(|(_, (id, _))| *id == kid)
            .ok_or_else(|| SealError::UnknownKey(kid.to_string()))?;
        let (nonce, ciphertext) = data.split_at(NONCE_LEN);
        let nonce = Nonce::try_from(nonce).map_err(|_| SealError::Malformed)?;
        let plain = cipher
            .decrypt(&nonce, Payload { msg: ciphertext, aad: &aad(field, member_id) })
            .map_err(|_| SealError::Tampered(kid.to_string()))?;
        let text = String::from_utf8(plain).map_err(|_| SealError::Tampered(kid.to_string()))?;
        Ok(Opened { value: SecretString::from(text), sealed_with_former_key: position != 0 })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::SecretKey;

    fn member() -> MemberId {
        MemberId::parse("a223c6b3710f85df22e9377d6c4f7553").unwrap()
    }

    #[test]
    fn a_sealed_value_opens_and_hides_the_secret() {
        let sealer = Sealer::new(&Keyring::new(SecretKey::generate(), vec![]));
        let sealed = sealer.seal(Field::AccessToken, &member(), &SecretString::from("tok-123456"));
        assert!(!sealed.contains("tok-123456"));
        let opened = sealer.open(Field::AccessToken, &member(), &sealed).unwrap();
        assert_eq!(opened.value.expose_secret(), "tok-123456");
        assert!(!opened.sealed_with_former_key);
    }

    #[test]
    fn a_value_does_not_open_for_another_portal_or_field() {
        let sealer = Sealer::new(&Keyring::new(SecretKey::generate(), vec![]));
        let sealed = sealer.seal(Field::AccessToken, &member(), &SecretString::from("x"));
        let other = MemberId::parse("other").unwrap();
        assert!(matches!(sealer.open(Field::AccessToken, &other, &sealed), Err(SealError::Tampered(_))));
        assert!(matches!(sealer.open(Field::RefreshToken, &member(), &sealed), Err(SealError::Tampered(_))));
    }

    #[test]
    fn garbage_is_malformed_not_a_panic() {
        let sealer = Sealer::new(&Keyring::new(SecretKey::generate(), vec![]));
        for junk in ["", "v1", "v1.zz.abc", "v2.00000000.AAAA", "v1.00000000.!!!", "v1.0000.AAAA"] {
            assert!(sealer.open(Field::AccessToken, &member(), junk).is_err(), "{junk}");
        }
    }
}
