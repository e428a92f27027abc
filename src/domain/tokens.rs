//! OAuth token pairs as the app keeps them, and the versioning that makes their replacement safe.

use secrecy::SecretString;

/// An access token, the refresh token issued with it, and when the access token expires (unix seconds).
/// Bitrix24's refresh tokens are single-use: a pair is replaced whole, never half.
#[derive(Debug, Clone)]
pub struct TokenPair {
    pub access_token: SecretString,
    pub refresh_token: SecretString,
    pub expires_at: i64,
}

/// A stored pair and the version it carries; every replacement moves the version on.
#[derive(Debug, Clone)]
pub struct StoredTokens {
    pub tokens: TokenPair,
    pub version: i64,
    /// True when a former key sealed them: the next write re-seals them with the current key.
    pub sealed_with_former_key: bool,
}

/// The result of replacing a pair only if its version is still the one read (compare-and-swap).
#[derive(Debug)]
pub enum SwapOutcome {
    /// This caller's pair is stored, under the new version.
    Won { version: i64 },
    /// Someone else stored a pair first; here it is, to use instead of spending a dead refresh token.
    Lost(StoredTokens),
}
