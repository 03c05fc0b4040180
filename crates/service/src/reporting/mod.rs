//! Reports for the region: aggregates over requests, conclusions and video
//! sessions, with no patient in them.
//!
//! May call: lifecycle, scheduling, directory, access, platform.

pub mod reports;
