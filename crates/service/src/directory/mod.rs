//! The region's directory: organizations, users and their roles, the route
//! table, duty rosters (`duty.rs`: shifts, absences, the production
//! calendar, who is on duty), deadlines, upload quotas, region settings and
//! reference updates.
//! Administrators change it; every other capability reads it.
//!
//! May call: access, platform.

pub mod admin;
pub mod duty;
