//! The request's lifecycle: create, edit, act on (the domain crate's
//! transition table decides), read, list, discuss, conclude, correct a signed
//! conclusion; who is told about each change; the deadline monitor; the
//! emergency call chain over the duty rosters (`duty_calls.rs`); and the
//! JSON shapes the API returns.
//!
//! Other capabilities react to a change through the hooks in
//! `crate::ChangeHooks` (the federal outbox, FHIR subscriptions), which the
//! crate root wires, so this folder never calls up into exchange.
//!
//! May call: directory, access, platform.

pub mod consultations;
pub mod corrections;
pub mod duty_calls;
pub mod monitor;
pub mod notifications;
pub mod rules;
pub mod views;

use chrono::NaiveDateTime;
use rtms_domain::Action;
use rtms_store::{DbConn, StoreError};

use crate::Services;

/// A change to a request, told to the other capabilities inside the
/// transaction that makes it (so what they queue is never lost).
#[derive(Debug, Clone, Copy)]
pub struct Change {
    pub consultation: i64,
    /// The lifecycle action; none for a change that is not one (a
    /// conclusion's correction).
    pub action: Option<Action>,
    pub at: NaiveDateTime,
}

/// What another capability does about a [`Change`], in its transaction.
pub type ChangeHook = fn(&Services, &mut DbConn, &Change) -> Result<(), StoreError>;

impl Services {
    /// Tells every hook of `crate::CHANGE_HOOKS` about `change`.
    pub(crate) fn announce(&self, conn: &mut DbConn, change: Change) -> Result<(), StoreError> {
        for hook in self.change_hooks {
            hook(self, conn, &change)?;
        }
        Ok(())
    }
}
