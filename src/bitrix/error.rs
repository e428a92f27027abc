//! Typed errors. Bitrix24 mixes upper and lower case in its codes and sends the same HTTP status for
//! unrelated failures, so errors are matched on the `error` code, case-insensitively, never on the status.

use std::fmt;

/// Every error code the reference knows, plus `Other` for the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorCode {
    // Authorisation (reference 5.3).
    ExpiredToken,
    InvalidToken,
    NoAuthFound,
    InsufficientScope,
    AuthorizationError,
    UserAccessError,
    ApplicationNotFound,
    ConnectionError,
    AccessDenied,
    InvalidCredentials,
    InvalidRequest,
    MethodConfirmWaiting,
    MethodConfirmDenied,
    PortalDeleted,
    // Limits (reference 5.5).
    QueryLimitExceeded,
    OperationTimeLimit,
    OverloadLimit,
    // Server and dispatch.
    MethodNotFound,
    InternalServerError,
    UnexpectedAnswer,
    ErrorCore,
    WrongEncoding,
    // batch (reference 5.6).
    BatchLengthExceeded,
    BatchMethodNotAllowed,
    // crm.calllist.* (reference 1.1 to 1.6).
    Argument,
    EntityTypeError,
    EntitiesError,
    EntityError,
    ListIdError,
    WebformError,
    AccessError,
    StatusError,
    // crm.item.list (reference 2.2).
    NotFound,
    InvalidArgValue,
    AllowedOnlyIntranetUser,
    // event.bind / placement.bind (reference 3.6).
    EventNotFound,
    PlacementMaxCount,
    PlacementUserMode,
    WrongAuthType,
    // OAuth token endpoint (reference 4.2).
    InvalidGrant,
    InvalidClient,
    InvalidScope,
    PaymentRequired,
    WrongClient,
    /// A code the reference does not list, kept as sent.
    Other(String),
}

impl ErrorCode {
    pub fn parse(code: &str) -> ErrorCode {
        use ErrorCode::*;
        match code.trim().to_ascii_lowercase().as_str() {
            "expired_token" => ExpiredToken,
            "invalid_token" => InvalidToken,
            "no_auth_found" => NoAuthFound,
            "insufficient_scope" => InsufficientScope,
            "authorization_error" => AuthorizationError,
            "user_access_error" => UserAccessError,
            "application_not_found" => ApplicationNotFound,
            "connection_error" => ConnectionError,
            "access_denied" => AccessDenied,
            "invalid_credentials" => InvalidCredentials,
            "invalid_request" => InvalidRequest,
            "method_confirm_waiting" => MethodConfirmWaiting,
            "method_confirm_denied" => MethodConfirmDenied,
            "portal_deleted" => PortalDeleted,
            "query_limit_exceeded" => QueryLimitExceeded,
            "operation_time_limit" => OperationTimeLimit,
            "overload_limit" => OverloadLimit,
            "error_method_not_found" => MethodNotFound,
            "internal_server_error" => InternalServerError,
            "error_unexpected_answer" => UnexpectedAnswer,
            "error_core" => ErrorCore,
            "wrong_encoding" => WrongEncoding,
            "error_batch_length_exceeded" => BatchLengthExceeded,
            "error_batch_method_not_allowed" => BatchMethodNotAllowed,
            "error_argument" => Argument,
            "entity_type_error" => EntityTypeError,
            "entities_error" => EntitiesError,
            "entity_error" => EntityError,
            "list_id_error" => ListIdError,
            "webform_error" => WebformError,
            "access_error" => AccessError,
            "status_error" => StatusError,
            "not_found" => NotFound,
            "invalid_arg_value" => InvalidArgValue,
            "allowed_only_intranet_user" => AllowedOnlyIntranetUser,
            "error_event_not_found" => EventNotFound,
            "error_placement_max_count" => PlacementMaxCount,
            "error_placement_user_mode" => PlacementUserMode,
            "wrong_auth_type" => WrongAuthType,
            "invalid_grant" | "bad_verification_code" => InvalidGrant,
            "invalid_client" => InvalidClient,
            "invalid_scope" => InvalidScope,
            "payment_required" => PaymentRequired,
            "wrong_client" => WrongClient,
            _ => Other(code.to_owned()),
        }
    }

    /// Failures of the token itself; `expired_token` alone is cured by a refresh.
    pub fn is_auth(&self) -> bool {
        use ErrorCode::*;
        matches!(
            self,
            ExpiredToken
                | InvalidToken
                | NoAuthFound
                | InsufficientScope
                | AuthorizationError
                | UserAccessError
                | ApplicationNotFound
                | InvalidCredentials
                | PortalDeleted
        )
    }

    /// The user's token itself was not accepted (expired, unknown, missing, not confirmed), as against the
    /// portal refusing the app or this user the app: only these mean "sign in again".
    pub fn refuses_the_token(&self) -> bool {
        use ErrorCode::*;
        matches!(self, ExpiredToken | InvalidToken | NoAuthFound | AuthorizationError)
    }

    /// The portal refused the request before running it and the refusal passes by itself: safe to send
    /// again after a pause. Not `OVERLOAD_LIMIT`: the official page (`system-errors.md`) calls it a manual
    /// block that only Bitrix24's support lifts, so waiting for it would only make the caller wait.
    pub fn is_limit(&self) -> bool {
        matches!(self, ErrorCode::QueryLimitExceeded | ErrorCode::OperationTimeLimit)
    }

    /// The portal refuses the app itself, for every user and every method, until an administrator acts:
    /// `PAYMENT_REQUIRED` (the trial or paid period ended; reference 4.2 gives it as the OAuth server's answer
    /// too, "or app removed") and `APPLICATION_NOT_FOUND` (the app is inactive or unknown on the portal,
    /// reference 5.3). The stored pair will not work again as it is: the portal needs re-authorisation.
    pub fn refuses_the_app(&self) -> bool {
        matches!(self, ErrorCode::PaymentRequired | ErrorCode::ApplicationNotFound)
    }
}

/// An error envelope from the portal or the OAuth server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: ErrorCode,
    /// The code exactly as sent.
    pub raw_code: String,
    pub description: String,
    pub http_status: u16,
    /// The method that failed (for a batch, the sub-command's method).
    pub method: String,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} answered {} ({})", self.method, self.raw_code, self.description)?;
        if self.http_status != 0 {
            write!(f, " with HTTP {}", self.http_status)?;
        }
        Ok(())
    }
}

/// What can go wrong talking to Bitrix24.
#[derive(Debug, Clone, thiserror::Error)]
pub enum BitrixError {
    /// The portal or OAuth server answered with an error envelope.
    #[error("{0}")]
    Api(ApiError),
    /// The refresh token is dead (`invalid_grant`, `PAYMENT_REQUIRED`, …): an administrator must re-authorise.
    #[error("the portal needs re-authorisation: {reason}")]
    NeedsReauthorisation { reason: String },
    /// The request may or may not have run (timeout or lost connection after sending) and the method is not
    /// safe to repeat, so it was not repeated.
    #[error(
        "{method}: the outcome is unknown ({cause}); it was not repeated because repeating it could apply it twice"
    )]
    Ambiguous { method: String, cause: String },
    /// No connection could be made, or it broke before an answer came.
    #[error("{method}: cannot reach the portal: {cause}")]
    Transport { method: String, cause: String },
    #[error("{method}: no answer within {seconds} s")]
    Timeout { method: String, seconds: u64 },
    /// The access token expired and the OAuth server did not renew it now (no answer in time, a server
    /// error, a lost connection). The call itself did not run; the stored pair is kept, and the next call
    /// tries the refresh again.
    #[error("the access token could not be renewed now: {cause}")]
    RenewalFailed { cause: Box<BitrixError> },
    /// Limits or faults persisted beyond the time the caller allowed.
    #[error("{method}: gave up after {attempts} attempts within the time allowed; last error: {last}")]
    BudgetExhausted { method: String, attempts: u32, why: GaveUp, last: String },
    /// An answer that is not what Bitrix24 sends: not JSON, truncated, the wrong shape, too large.
    #[error("{method}: unexpected answer (HTTP {status}): {problem}")]
    BadResponse { method: String, status: u16, problem: String },
    /// A redirect that is not a renamed portal, or more than one.
    #[error("{method}: refused redirect: {problem}")]
    Redirect { method: String, problem: String },
    /// The portal address is not one the app may call.
    #[error("portal address refused: {0}")]
    Endpoint(String),
    /// The token store failed, or holds something it should not.
    #[error("token store: {0}")]
    Store(#[source] StoreFailure),
    /// The caller asked for something that cannot be sent (caught before any request).
    #[error("{0}")]
    Invalid(String),
}

/// What kept failing until the time allowed for a call ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GaveUp {
    /// The portal kept refusing for its limits (`QUERY_LIMIT_EXCEEDED`, `OPERATION_TIME_LIMIT`, …).
    Limits,
    /// The portal answered with server errors, or lost or timed out requests that were safe to repeat.
    Faults,
}

/// A failure of the token store, its cause kept. Shared so that [`BitrixError`] stays `Clone`.
#[derive(Debug, Clone)]
pub struct StoreFailure(std::sync::Arc<dyn std::error::Error + Send + Sync>);

impl StoreFailure {
    pub fn new(e: impl std::error::Error + Send + Sync + 'static) -> StoreFailure {
        StoreFailure(std::sync::Arc::new(e))
    }

    /// A failure described in words (an inconsistency found, no underlying error).
    pub fn message(text: impl Into<String>) -> StoreFailure {
        #[derive(Debug, thiserror::Error)]
        #[error("{0}")]
        struct Message(String);
        StoreFailure::new(Message(text.into()))
    }
}

impl fmt::Display for StoreFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for StoreFailure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

impl BitrixError {
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            BitrixError::Api(e) => Some(e),
            _ => None,
        }
    }

    pub fn code(&self) -> Option<&ErrorCode> {
        self.api().map(|e| &e.code)
    }

    /// A short label for logs and metrics: the error code, or the kind of failure.
    pub fn kind(&self) -> String {
        match self {
            BitrixError::Api(e) => e.raw_code.to_ascii_uppercase(),
            BitrixError::NeedsReauthorisation { .. } => "NEEDS_REAUTHORISATION".into(),
            BitrixError::Ambiguous { .. } => "AMBIGUOUS".into(),
            BitrixError::Transport { .. } => "TRANSPORT".into(),
            BitrixError::Timeout { .. } => "TIMEOUT".into(),
            BitrixError::RenewalFailed { .. } => "RENEWAL_FAILED".into(),
            BitrixError::BudgetExhausted { .. } => "BUDGET_EXHAUSTED".into(),
            BitrixError::BadResponse { .. } => "BAD_RESPONSE".into(),
            BitrixError::Redirect { .. } => "REDIRECT".into(),
            BitrixError::Endpoint(_) => "ENDPOINT".into(),
            BitrixError::Store(_) => "STORE".into(),
            BitrixError::Invalid(_) => "INVALID".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_case_insensitively() {
        assert_eq!(ErrorCode::parse("EXPIRED_TOKEN"), ErrorCode::ExpiredToken);
        assert_eq!(ErrorCode::parse("Query_Limit_Exceeded"), ErrorCode::QueryLimitExceeded);
        assert_eq!(ErrorCode::parse("100"), ErrorCode::Other("100".into()));
        assert!(ErrorCode::parse("operation_time_limit").is_limit());
        assert!(ErrorCode::parse("invalid_token").is_auth());
        assert!(!ErrorCode::parse("OVERLOAD_LIMIT").is_limit(), "a manual block is not waited for");
        assert!(ErrorCode::parse("payment_required").refuses_the_app());
        assert!(!ErrorCode::parse("PORTAL_DELETED").refuses_the_app());
    }
}
