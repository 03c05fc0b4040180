//! The hash-chained audit log: append under a lock, read with filters, verify.

use chrono::NaiveDateTime;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use crate::conn::MultiBackend;
use crate::models::AuditRow;
use crate::schema::audit_log;
use crate::{DbConn, StoreError};

/// The hash of the chain's start (before the first row).
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What a caller records; id and hashes are the log's business.
#[derive(Debug, Clone, Default)]
pub struct AuditEntry {
    pub at: Option<NaiveDateTime>,
    pub user_id: Option<i64>,
    pub login: String,
    pub org_id: Option<i64>,
    pub role: String,
    pub ip: String,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    pub details: String,
}

/// SHA-256 over the previous hash and every field of the row, unambiguously
/// separated (lengths before values), so no two rows hash alike by accident.
pub fn chain_hash(prev_hash: &str, r: &AuditRow) -> String {
    let mut h = Sha256::new();
    let at = r.at.format("%Y-%m-%dT%H:%M:%S%.6f").to_string();
    let user = r.user_id.map(|u| u.to_string()).unwrap_or_default();
    let org = r.org_id.map(|o| o.to_string()).unwrap_or_default();
    let id = r.id.to_string();
    for part in [
        prev_hash,
        &id,
        &at,
        &user,
        &r.login,
        &org,
        &r.role,
        &r.ip,
        &r.action,
        &r.object_type,
        &r.object_id,
        &r.details,
    ] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Appends one entry at the end of the chain. Call inside a write transaction.
pub fn append(
    conn: &mut DbConn,
    entry: &AuditEntry,
    now: NaiveDateTime,
) -> Result<i64, StoreError> {
    // One appender at a time across instances (PostgreSQL); SQLite has one writer anyway.
    if let DbConn::Pg(c) = conn {
        c.batch_execute("SELECT pg_advisory_xact_lock(7270011)")?;
    }
    // Every audited read appends: both statements on the backend's own connection.
    let last: Option<(i64, String)> = crate::on_backend!(&mut *conn, c => audit_log::table
        .select((audit_log::id, audit_log::hash))
        .order(audit_log::id.desc())
        .first(c)
        .optional())?;
    let (prev_id, prev_hash) = last.unwrap_or((0, GENESIS.to_string()));
    let mut row = AuditRow {
        id: prev_id + 1,
        at: entry.at.unwrap_or(now),
        user_id: entry.user_id,
        login: entry.login.clone(),
        org_id: entry.org_id,
        role: entry.role.clone(),
        ip: entry.ip.clone(),
        action: entry.action.clone(),
        object_type: entry.object_type.clone(),
        object_id: entry.object_id.clone(),
        details: entry.details.clone(),
        prev_hash: prev_hash.clone(),
        hash: String::new(),
    };
    row.hash = chain_hash(&prev_hash, &row);
    crate::on_backend!(conn, c => diesel::insert_into(audit_log::table)
        .values(&row)
        .execute(c))?;
    Ok(row.id)
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub login: Option<String>,
    pub action: Option<String>,
    pub object_type: Option<String>,
    pub object_id: Option<String>,
    pub from: Option<NaiveDateTime>,
    pub to: Option<NaiveDateTime>,
}

fn filtered<'a>(f: &AuditFilter) -> audit_log::BoxedQuery<'a, MultiBackend> {
    let mut q = audit_log::table.into_boxed::<MultiBackend>();
    if let Some(v) = &f.login {
        q = q.filter(audit_log::login.eq(v.clone()));
    }
    if let Some(v) = &f.action {
        q = q.filter(audit_log::action.eq(v.clone()));
    }
    if let Some(v) = &f.object_type {
        q = q.filter(audit_log::object_type.eq(v.clone()));
    }
    if let Some(v) = &f.object_id {
        q = q.filter(audit_log::object_id.eq(v.clone()));
    }
    if let Some(v) = f.from {
        q = q.filter(audit_log::at.ge(v));
    }
    if let Some(v) = f.to {
        q = q.filter(audit_log::at.lt(v));
    }
    q
}

/// Newest first, with the total count.
pub fn search(
    conn: &mut DbConn,
    f: &AuditFilter,
    offset: i64,
    limit: i64,
) -> Result<(Vec<AuditRow>, i64), StoreError> {
    let total = filtered(f).count().get_result(conn)?;
    let rows = filtered(f)
        .select(AuditRow::as_select())
        .order(audit_log::id.desc())
        .offset(offset)
        .limit(limit)
        .load(conn)?;
    Ok((rows, total))
}

/// The result of checking the whole chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Intact {
        rows: i64,
    },
    /// The first row whose hash, link or id does not fit the chain.
    Broken {
        row_id: i64,
        reason: String,
    },
}

/// Recomputes every link, in batches, oldest first.
pub fn verify(conn: &mut DbConn) -> Result<Verdict, StoreError> {
    let mut prev_id = 0i64;
    let mut prev_hash = GENESIS.to_string();
    let mut count = 0i64;
    loop {
        let batch: Vec<AuditRow> = audit_log::table
            .filter(audit_log::id.gt(prev_id))
            .select(AuditRow::as_select())
            .order(audit_log::id.asc())
            .limit(5000)
            .load(conn)?;
        if batch.is_empty() {
            return Ok(Verdict::Intact { rows: count });
        }
        for r in batch {
            if r.id != prev_id + 1 {
                return Ok(Verdict::Broken {
                    row_id: r.id,
                    reason: format!("row {} is missing before it", prev_id + 1),
                });
            }
            if r.prev_hash != prev_hash {
                return Ok(Verdict::Broken {
                    row_id: r.id,
                    reason: "its link to the previous row does not match".into(),
                });
            }
            if chain_hash(&prev_hash, &r) != r.hash {
                return Ok(Verdict::Broken {
                    row_id: r.id,
                    reason: "its content does not match its hash".into(),
                });
            }
            prev_id = r.id;
            prev_hash = r.hash;
            count += 1;
        }
    }
}
