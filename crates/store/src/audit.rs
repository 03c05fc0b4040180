//! The hash-chained audit log: append under a lock, read with filters, verify.
//!
//! The chain is keyed: from the row recorded in the setting `audit.keyed_from`
//! on, each row's hash is an HMAC-SHA256 under a key kept outside the database
//! (`ChainKey`), so whoever can write the database cannot re-chain it. Rows
//! before that (a log written before keying) keep their plain SHA-256 links.
//! Heads of the chain are anchored outside the database (`Anchor`): deleting
//! the newest rows, or rebuilding the chain, leaves an anchor without its row.

use chrono::NaiveDateTime;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use hmac::{Hmac, Mac};
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

/// The setting naming the first row hashed with the key.
pub const KEYED_FROM_SETTING: &str = "audit.keyed_from";

/// The length of the chain key, in bytes.
pub const CHAIN_KEY_BYTES: usize = 32;

/// The secret the chain is keyed with (kept outside the database).
pub struct ChainKey {
    secret: [u8; CHAIN_KEY_BYTES],
}

impl ChainKey {
    pub fn from_bytes(secret: [u8; CHAIN_KEY_BYTES]) -> Self {
        ChainKey { secret }
    }

    pub fn generate() -> Self {
        ChainKey::from_bytes(rand::random())
    }

    pub fn to_bytes(&self) -> [u8; CHAIN_KEY_BYTES] {
        self.secret
    }

    /// Reads the hex form written by `to_hex`.
    pub fn from_hex(text: &str) -> Option<Self> {
        let bytes: [u8; CHAIN_KEY_BYTES] = hex::decode(text.trim()).ok()?.try_into().ok()?;
        Some(ChainKey::from_bytes(bytes))
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.secret)
    }
}

impl std::fmt::Debug for ChainKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChainKey(…)")
    }
}

/// Feeds the previous hash and every field of the row, unambiguously
/// separated (lengths before values), so no two rows hash alike by accident.
fn feed_row(prev_hash: &str, r: &AuditRow, mut update: impl FnMut(&[u8])) {
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
        update(&(part.len() as u64).to_be_bytes());
        update(part.as_bytes());
    }
}

/// The unkeyed link (rows written before the chain was keyed).
pub fn chain_hash(prev_hash: &str, r: &AuditRow) -> String {
    let mut h = Sha256::new();
    feed_row(prev_hash, r, |b| h.update(b));
    hex::encode(h.finalize())
}

/// The keyed link: HMAC-SHA256 under the chain key.
pub fn keyed_hash(key: &ChainKey, prev_hash: &str, r: &AuditRow) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(&key.secret).expect("HMAC takes any key length");
    feed_row(prev_hash, r, |b| mac.update(b));
    hex::encode(mac.finalize().into_bytes())
}

/// Records where keyed rows begin (the next row), unless recorded already;
/// returns the first keyed row. Call once, before appending with a key.
pub fn start_keyed(conn: &mut DbConn) -> Result<i64, StoreError> {
    if let DbConn::Pg(c) = conn {
        c.batch_execute("SELECT pg_advisory_xact_lock(7270011)")?;
    }
    if let Some(from) = keyed_from(conn)? {
        return Ok(from);
    }
    let last: Option<i64> = audit_log::table
        .select(diesel::dsl::max(audit_log::id))
        .first(conn)?;
    let from = last.unwrap_or(0) + 1;
    crate::repo::set_setting(conn, KEYED_FROM_SETTING, &from.to_string())?;
    Ok(from)
}

/// The first keyed row, if the chain is keyed.
pub fn keyed_from(conn: &mut DbConn) -> Result<Option<i64>, StoreError> {
    Ok(crate::repo::setting(conn, KEYED_FROM_SETTING)?.and_then(|v| v.trim().parse().ok()))
}

/// Appends one entry at the end of the chain. Call inside a write transaction.
/// With a key, the row is linked with an HMAC (`start_keyed` must have
/// recorded where keyed rows begin).
pub fn append(
    conn: &mut DbConn,
    entry: &AuditEntry,
    now: NaiveDateTime,
    key: Option<&ChainKey>,
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
    row.hash = match key {
        Some(k) => keyed_hash(k, &prev_hash, &row),
        None => chain_hash(&prev_hash, &row),
    };
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

/// A head of the chain as recorded outside the database: the newest row's
/// id and hash at a moment, and where keyed rows began. One line of the
/// anchor file: `<time> <id> <hash> <keyed_from>` (0: not keyed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    pub at: String,
    pub id: i64,
    pub hash: String,
    pub keyed_from: i64,
}

impl Anchor {
    pub fn line(&self) -> String {
        format!("{} {} {} {}", self.at, self.id, self.hash, self.keyed_from)
    }

    pub fn parse(line: &str) -> Option<Anchor> {
        let mut parts = line.split_whitespace();
        let at = parts.next()?.to_string();
        let id = parts.next()?.parse().ok()?;
        let hash = parts.next()?.to_string();
        let keyed_from = parts.next()?.parse().ok()?;
        Some(Anchor {
            at,
            id,
            hash,
            keyed_from,
        })
    }
}

/// The chain's head now, as an anchor (None while the log is empty).
pub fn head(conn: &mut DbConn, at: NaiveDateTime) -> Result<Option<Anchor>, StoreError> {
    let last: Option<(i64, String)> = audit_log::table
        .select((audit_log::id, audit_log::hash))
        .order(audit_log::id.desc())
        .first(conn)
        .optional()?;
    let keyed = keyed_from(conn)?.unwrap_or(0);
    Ok(last.map(|(id, hash)| Anchor {
        at: at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        id,
        hash,
        keyed_from: keyed,
    }))
}

/// The newest rows of the given actions (at most `limit`), newest first.
pub fn recent_actions(
    conn: &mut DbConn,
    actions: &[&str],
    limit: i64,
) -> Result<Vec<AuditRow>, StoreError> {
    let mut rows = Vec::new();
    for a in actions {
        rows.extend(
            audit_log::table
                .filter(audit_log::action.eq(*a))
                .order(audit_log::id.desc())
                .limit(limit)
                .select(AuditRow::as_select())
                .load(conn)?,
        );
    }
    rows.sort_by_key(|r| std::cmp::Reverse(r.id));
    rows.truncate(limit.max(0) as usize);
    Ok(rows)
}

/// The result of checking the whole chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Intact {
        rows: i64,
        /// The first row linked with the key (None: no row is keyed).
        keyed_from: Option<i64>,
        /// Anchors found in place.
        anchors: usize,
    },
    /// The first row whose hash, link or id does not fit the chain, or an
    /// anchored row that is gone or changed.
    Broken { row_id: i64, reason: String },
}

/// Recomputes every link, in batches, oldest first; keyed rows with `key`.
/// Then every anchor must find its row with the hash it recorded.
pub fn verify(
    conn: &mut DbConn,
    key: Option<&ChainKey>,
    anchors: &[Anchor],
) -> Result<Verdict, StoreError> {
    let keyed = keyed_from(conn)?;
    if keyed.is_some() && key.is_none() {
        return Err(StoreError::Other(format!(
            "the audit log is keyed from row {}: its key is needed to check it",
            keyed.unwrap_or_default()
        )));
    }
    let first_keyed = keyed.unwrap_or(i64::MAX);
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
            break;
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
            let expected = match key {
                Some(k) if r.id >= first_keyed => keyed_hash(k, &prev_hash, &r),
                _ => chain_hash(&prev_hash, &r),
            };
            if expected != r.hash {
                return Ok(Verdict::Broken {
                    row_id: r.id,
                    reason: if r.id >= first_keyed {
                        "its content does not match its keyed hash (changed, or chained with another key)".into()
                    } else {
                        "its content does not match its hash".into()
                    },
                });
            }
            prev_id = r.id;
            prev_hash = r.hash;
            count += 1;
        }
    }
    for a in anchors {
        let reason = if a.keyed_from != 0 && Some(a.keyed_from) != keyed {
            Some(format!(
                "anchored at {} with keyed rows from {}, the database now says {}",
                a.at,
                a.keyed_from,
                keyed
                    .map(|k| k.to_string())
                    .unwrap_or_else(|| "none".into())
            ))
        } else {
            let found: Option<String> = audit_log::table
                .find(a.id)
                .select(audit_log::hash)
                .first(conn)
                .optional()?;
            match found {
                None => Some(format!(
                    "anchored at {} but gone (rows deleted from the end of the log?)",
                    a.at
                )),
                Some(h) if h != a.hash => Some(format!(
                    "its hash differs from the one anchored at {} (the chain was rebuilt)",
                    a.at
                )),
                Some(_) => None,
            }
        };
        if let Some(reason) = reason {
            return Ok(Verdict::Broken {
                row_id: a.id,
                reason,
            });
        }
    }
    Ok(Verdict::Intact {
        rows: count,
        keyed_from: keyed,
        anchors: anchors.len(),
    })
}
