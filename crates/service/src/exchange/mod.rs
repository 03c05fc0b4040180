//! Exchange with other systems: escalation to the federal level (an outbox of
//! typed jobs), the FHIR R4 views and transaction Bundles a МИС sends, and
//! FHIR rest-hook subscriptions. Nothing here is called by the lifecycle
//! directly: it subscribes to changes through `crate::ChangeHooks`.
//!
//! May call: lifecycle, attachments, documents, directory, access, platform.

pub mod federal;
pub mod fhir;
pub mod fhir_hooks;
