use rtms_domain::{Action, FieldError, Status};
use rtms_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("not signed in")]
    Unauthenticated,
    #[error("wrong login or password")]
    BadCredentials,
    /// Too many sign-in attempts from this address or for this login; try
    /// again in `retry_after` seconds. Said alike of existing and unknown logins.
    #[error("too many sign-in attempts; retry after {retry_after} s")]
    Throttled { retry_after: i64 },
    /// The session was idle too long.
    #[error("session expired")]
    SessionExpired,
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    /// The action is not possible in the request's current state.
    #[error("action {action} is not possible in state {status}")]
    WrongState { status: Status, action: Action },
    /// Somebody else changed the request since it was read.
    #[error("changed concurrently")]
    Concurrent,
    /// The request content is not acceptable; every bad field is named.
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    /// A file or upload refused, with the reason's message code
    /// (`file_type`, `file_too_large`, `upload_offset`, …).
    #[error("refused: {code}")]
    Refused { code: &'static str },
    /// An upload would take its user or organization past the upload quota
    /// (an administrator's setting). Sizes in bytes.
    #[error("upload quota of the {scope} exceeded")]
    QuotaExceeded {
        /// `organization` or `user`.
        scope: &'static str,
        limit: u64,
        used: u64,
        requested: u64,
    },
    /// A request cannot be submitted yet: the files its sender announced
    /// (by name) have not all arrived.
    #[error("files not received yet: {0:?}")]
    FilesMissing(Vec<String>),
    /// A body larger than the route takes, in bytes (`what` names the body).
    #[error("body over {limit} bytes")]
    BodyTooLarge { what: &'static str, limit: u64 },
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ServiceError::NotFound,
            StoreError::Conflict => ServiceError::Concurrent,
            other => ServiceError::Store(other),
        }
    }
}

impl ServiceError {
    pub fn refused(code: &'static str) -> Self {
        ServiceError::Refused { code }
    }

    pub fn field(field: &str, code: &'static str) -> Self {
        ServiceError::Invalid(vec![FieldError::new(field, code)])
    }
}

impl From<diesel::result::Error> for ServiceError {
    fn from(e: diesel::result::Error) -> Self {
        StoreError::from(e).into()
    }
}
