//! Attachments: resumable uploads, content checks, the object store, and the
//! DICOM studies among them (index, frames for the viewer, the worker process
//! that parses untrusted files).
//!
//! May call: lifecycle (a request's status and access), directory (quotas),
//! access, platform.

pub mod dicom;
pub mod files;
pub mod kinds;
