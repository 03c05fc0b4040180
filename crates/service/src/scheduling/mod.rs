//! Scheduling: video sessions (booking, calendars, invitations, reminders,
//! the rooms' ICE servers and the join/leave log).
//!
//! May call: lifecycle, directory, access, platform.

pub mod video;
