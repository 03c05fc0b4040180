//! Platform: what every capability stands on and nothing above it. The clock
//! (real or set by tests), live events between the services and the browsers
//! (and between instances), the job queue with its typed jobs and the
//! periodic tasks, e-mail out through an SMTP relay, and key files kept
//! outside the database.
//!
//! May call: the store and the error type. Nothing else in this crate.

pub mod clock;
pub mod jobs;
pub mod keys;
pub mod live;
pub mod mail;
pub mod outbound;
pub mod periodic;
