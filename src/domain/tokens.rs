//! An OAuth token pair as the app keeps it.

use secrecy::SecretString;

/// An access token, the refresh token issued with it, and when the access token expires (unix seconds).
/// Bitrix24's refresh tokens are single-use: a pair is replaced whole, never half.
#[derive(Debug, Clone)]
pub struct TokenPair {
    pub access_token: SecretString,
    pub refresh_token: SecretString,
    pub expires_at: i64,
}
