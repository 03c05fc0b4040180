//! Access: who the caller is and what they did. Passwords, API tokens,
//! sign-in with lockout and the second factor, sessions, and the audit trail
//! (recorded here, hash-chained by the store, read back as sentences).
//!
//! May call: platform.

pub mod audit;
pub mod audit_text;
pub mod auth;
pub mod sessions;
pub mod totp;
