//! The Bitrix24 protocol client: OAuth, REST calls with refresh, pacing and retries, `batch` and paging,
//! typed methods, and parsers for what the portal posts to the app. No web framework here.

pub mod batch;
pub mod endpoint;
pub mod error;
pub mod incoming;
pub mod log;
pub mod methods;
pub mod oauth;
pub mod pacing;
pub mod paging;
pub mod query;
pub mod rest;
pub mod tokens;

pub use error::{ApiError, BitrixError, ErrorCode, GaveUp, StoreFailure};
pub use log::CallObserver;
pub use oauth::{OAuthClient, TokenGrant};
pub use pacing::RateLimit;
pub use rest::{Auth, Bitrix, Caller, ClientConfig, Envelope, RestClient};
pub use tokens::{TokenManager, TokenOwner, TokenStore};
