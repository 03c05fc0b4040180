//! The counts a list shows, kept between requests on SQLite until a request
//! changes.
//!
//! Counting the open queue walks every open request in its index, and the
//! archive's "more than 1,000" walks 1,001: at a million requests that is
//! most of a list's cost, while a dispatcher's screen asks the same counts
//! again and again with nothing changed in between.
//!
//! "Nothing changed" is `consultation_changes.n` (SQLite migration 18). The
//! triggers on `consultations` and `consultation_consultants` raise it in the
//! writer's own transaction, so every writer does: this process, another one
//! (`rtms admin`), a statement typed by hand. A count is read after the number,
//! so a change committed between the two makes the kept count stale only
//! under a number that is already old, and the next list counts again.
//!
//! On PostgreSQL a counter row would make every two writers of different
//! requests wait for each other. There, statement triggers (PostgreSQL
//! migration 21) send a notification on `rtms_requests_changed` at the writer's
//! commit; the instance's bus listener (`service/src/platform/live.rs`) hears it and
//! calls [`ListCounts::changed`], which moves a number kept in memory. This
//! instance's own writes move it at once ([`crate::Db::write`]), so a request
//! just created is counted on the next list; another instance's change is
//! seen once its notification arrives (the listener looks every 20 ms). While
//! no listener is connected ([`ListCounts::listening`]), nothing is kept.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Mutex;

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::prelude::*;

use crate::{DbConn, StoreError};

diesel::table! {
    consultation_changes (id) {
        id -> BigInt,
        n -> BigInt,
    }
}

/// Beyond this many kept counts (filters × callers), all are forgotten.
const KEPT_LIMIT: usize = 4096;

/// Counts by what was counted (a key naming the query), each with the change
/// number it was read under. One per database.
#[derive(Default)]
pub struct ListCounts {
    kept: Mutex<HashMap<String, (i64, i64)>>,
    /// PostgreSQL: moves with every change heard of or made here.
    changes: AtomicI64,
    /// PostgreSQL: a listener hears the triggers' notifications.
    heard: AtomicBool,
}

impl ListCounts {
    pub fn new() -> ListCounts {
        ListCounts::default()
    }

    /// The count under `key`: kept, while no request changed since it was
    /// read; else `count` runs and its answer is kept.
    pub fn get(
        &self,
        conn: &mut DbConn,
        key: &str,
        count: impl FnOnce(&mut DbConn) -> Result<i64, StoreError>,
    ) -> Result<i64, StoreError> {
        // Inside a transaction a count may see changes that are then rolled
        // back (and SQLite's number come to the same value again with others).
        let idle = crate::on_backend!(&mut *conn, c =>
            AnsiTransactionManager::transaction_manager_status_mut(c).transaction_depth());
        if !matches!(idle, Ok(None)) {
            return count(conn);
        }
        // The mark is read before the count: a change committed in between
        // leaves the count under a mark that is already old.
        let mark: i64 = match conn {
            DbConn::Sqlite(c) => consultation_changes::table
                .find(1)
                .select(consultation_changes::n)
                .first(c)?,
            DbConn::Pg(_) if self.heard.load(Ordering::SeqCst) => {
                self.changes.load(Ordering::SeqCst)
            }
            DbConn::Pg(_) => return count(conn),
        };
        let kept = self.lock().get(key).copied();
        if let Some((at, n)) = kept {
            if at == mark {
                return Ok(n);
            }
        }
        let n = count(conn)?;
        let mut kept = self.lock();
        if kept.len() >= KEPT_LIMIT {
            kept.clear();
        }
        kept.insert(key.to_string(), (mark, n));
        Ok(n)
    }

    /// PostgreSQL: a request or its consultants changed (heard from the
    /// triggers, or written here); the counts kept so far are old.
    pub fn changed(&self) {
        self.changes.fetch_add(1, Ordering::SeqCst);
    }

    /// PostgreSQL: whether a listener hears every change from now on. Counts
    /// are kept only while one does. The number moves first: a count kept
    /// before the listener was lost must not be taken for current once
    /// another listens (what changed in between was not heard).
    pub fn listening(&self, on: bool) {
        self.changed();
        self.heard.store(on, Ordering::SeqCst);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (i64, i64)>> {
        self.kept.lock().unwrap_or_else(|p| p.into_inner())
    }
}
