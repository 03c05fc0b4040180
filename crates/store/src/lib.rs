//! Storage for РТМС: one diesel schema over SQLite and PostgreSQL, embedded
//! migrations for each, and the repositories the services use.

pub mod audit;
pub mod bulk;
pub mod bus;
pub mod conn;
pub mod counts;
pub mod duty;
pub mod fhir;
pub mod files;
pub mod in_list;
pub mod jobs;
pub mod models;
pub mod reference;
pub mod repo;
pub mod schema;
pub mod signin;
pub mod stamp;
pub mod testing;
pub mod video;

pub use conn::{BackendKind, Db, DbConn};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot connect to the database: {0}")]
    Connect(String),
    #[error("migration failed: {0}")]
    Migration(String),
    #[error("not found")]
    NotFound,
    /// Somebody else changed the row since it was read.
    #[error("changed concurrently")]
    Conflict,
    #[error("unique value already taken")]
    Duplicate,
    #[error("database error: {0}")]
    Query(diesel::result::Error),
    #[error("{0}")]
    Other(String),
}

impl From<diesel::result::Error> for StoreError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match e {
            Error::NotFound => StoreError::NotFound,
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => StoreError::Duplicate,
            other => StoreError::Query(other),
        }
    }
}
