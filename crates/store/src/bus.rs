//! Messages between the instances that share one PostgreSQL database, carried by
//! LISTEN/NOTIFY. A message longer than NOTIFY allows is kept in `bus_payloads`
//! and the notification carries its id. On SQLite there is one instance and
//! nothing to send.

use chrono::NaiveDateTime;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::Text;

use crate::schema::bus_payloads;
use crate::{DbConn, StoreError};

type R<T> = Result<T, StoreError>;

/// The one channel every instance listens on.
pub const CHANNEL: &str = "rtms_bus";

/// NOTIFY's payload limit is 8000 bytes; stay clear of it.
pub const INLINE_LIMIT: usize = 7900;

/// What a notification carries: the message itself, or where it was kept.
pub enum Payload {
    Inline(String),
    Stored(i64),
}

/// Prefix of a notification that points at a kept message.
const STORED: &str = "stored:";

/// Sends `message` to every instance listening (this one too). Outside a
/// transaction it is delivered at once; inside one, at commit.
pub fn send(conn: &mut DbConn, message: &str, now: NaiveDateTime) -> R<()> {
    let DbConn::Pg(pg) = conn else {
        return Ok(());
    };
    let payload = if message.len() <= INLINE_LIMIT {
        message.to_string()
    } else {
        let id: i64 = diesel::insert_into(bus_payloads::table)
            .values((
                bus_payloads::body.eq(message),
                bus_payloads::created_at.eq(now),
            ))
            .returning(bus_payloads::id)
            .get_result(pg)?;
        format!("{STORED}{id}")
    };
    diesel::sql_query("SELECT pg_notify($1, $2)")
        .bind::<Text, _>(CHANNEL)
        .bind::<Text, _>(payload)
        .execute(pg)?;
    Ok(())
}

/// Reads a notification's payload: the message, or the id of a kept one.
pub fn parse(payload: &str) -> Payload {
    match payload.strip_prefix(STORED).and_then(|id| id.parse().ok()) {
        Some(id) => Payload::Stored(id),
        None => Payload::Inline(payload.to_string()),
    }
}

/// A kept message (gone once pruned).
pub fn stored(conn: &mut DbConn, id: i64) -> R<Option<String>> {
    Ok(bus_payloads::table
        .find(id)
        .select(bus_payloads::body)
        .first(conn)
        .optional()?)
}

/// Forgets kept messages older than `before` (every listener has read them by then).
pub fn prune(conn: &mut DbConn, before: NaiveDateTime) -> R<usize> {
    Ok(
        diesel::delete(bus_payloads::table.filter(bus_payloads::created_at.lt(before)))
            .execute(conn)?,
    )
}

/// The channel PostgreSQL's triggers notify when a request or its consultants
/// change (PostgreSQL migration 21; see `counts.rs`).
pub const REQUESTS_CHANGED: &str = "rtms_requests_changed";

/// What a listener heard.
#[derive(Debug, PartialEq)]
pub enum Heard {
    /// A message on [`CHANNEL`]: its payload.
    Message(String),
    /// A request or its consultants changed.
    RequestsChanged,
}

/// A connection of its own that listens on the channel and on
/// [`REQUESTS_CHANGED`].
pub struct Listener {
    conn: diesel::PgConnection,
}

impl Listener {
    pub fn open(url: &str) -> R<Listener> {
        let mut conn =
            diesel::PgConnection::establish(url).map_err(|e| StoreError::Connect(e.to_string()))?;
        conn.batch_execute(&format!("LISTEN {CHANNEL}; LISTEN {REQUESTS_CHANGED}"))?;
        Ok(Listener { conn })
    }

    /// Notifications that have arrived since the last call, in order (none
    /// is not an error).
    pub fn poll(&mut self) -> R<Vec<Heard>> {
        let mut out = Vec::new();
        for n in self.conn.notifications_iter() {
            let n = n?;
            out.push(if n.channel == REQUESTS_CHANGED {
                Heard::RequestsChanged
            } else {
                Heard::Message(n.payload)
            });
        }
        Ok(out)
    }
}
