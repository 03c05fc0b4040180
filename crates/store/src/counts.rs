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
//! On PostgreSQL nothing is kept. Several instances write there at once, and
//! a single counter row would make every two writers of different requests
//! wait for each other (and could deadlock the ones that change two).

use std::collections::HashMap;
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
        let DbConn::Sqlite(c) = conn else {
            return count(conn);
        };
        // Inside a transaction the number may count changes that are then
        // rolled back, and come to the same value again with other changes.
        if !matches!(
            AnsiTransactionManager::transaction_manager_status_mut(c).transaction_depth(),
            Ok(None)
        ) {
            return count(conn);
        }
        let mark: i64 = consultation_changes::table
            .find(1)
            .select(consultation_changes::n)
            .first(c)?;
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

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (i64, i64)>> {
        self.kept.lock().unwrap_or_else(|p| p.into_inner())
    }
}
