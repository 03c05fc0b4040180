//! FHIR rest-hook subscriptions.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::fhir_subscriptions;
use crate::{DbConn, StoreError};

type R<T> = Result<T, StoreError>;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = fhir_subscriptions)]
pub struct Subscription {
    pub id: i64,
    /// Whose eyes the notifications see with: only their requests are named.
    pub user_id: i64,
    /// `Task` or `Task?status=…`.
    pub criteria: String,
    pub endpoint: String,
    pub reason: String,
    pub active: bool,
    /// What the last delivery found, in generic words (never the answer's body).
    pub last_error: String,
    pub created_at: NaiveDateTime,
    /// No delivery before this (the backoff after a failure).
    pub next_at: NaiveDateTime,
    /// A worker delivers to it until then.
    pub locked_until: Option<NaiveDateTime>,
    /// Failed deliveries in a row.
    pub failures: i32,
}

pub fn insert(
    conn: &mut DbConn,
    user_id: i64,
    criteria: &str,
    endpoint: &str,
    reason: &str,
    now: NaiveDateTime,
) -> R<i64> {
    Ok(diesel::insert_into(fhir_subscriptions::table)
        .values((
            fhir_subscriptions::user_id.eq(user_id),
            fhir_subscriptions::criteria.eq(criteria),
            fhir_subscriptions::endpoint.eq(endpoint),
            fhir_subscriptions::reason.eq(reason),
            fhir_subscriptions::created_at.eq(now),
            fhir_subscriptions::next_at.eq(now),
        ))
        .returning(fhir_subscriptions::id)
        .get_result(conn)?)
}

pub fn get(conn: &mut DbConn, id: i64) -> R<Subscription> {
    Ok(fhir_subscriptions::table
        .find(id)
        .select(Subscription::as_select())
        .first(conn)?)
}

pub fn active_ids(conn: &mut DbConn) -> R<Vec<i64>> {
    Ok(fhir_subscriptions::table
        .filter(fhir_subscriptions::active.eq(true))
        .select(fhir_subscriptions::id)
        .load(conn)?)
}

/// How many active subscriptions a user holds.
pub fn active_count_of(conn: &mut DbConn, user_id: i64) -> R<i64> {
    Ok(fhir_subscriptions::table
        .filter(fhir_subscriptions::user_id.eq(user_id))
        .filter(fhir_subscriptions::active.eq(true))
        .count()
        .get_result(conn)?)
}

/// Notes that a request changed, for one subscription: one row per
/// (subscription, request) however often it changes before the delivery.
pub fn note_change(
    conn: &mut DbConn,
    subscription_id: i64,
    consultation_id: i64,
    now: NaiveDateTime,
) -> R<()> {
    use diesel::sql_types::{BigInt, Timestamp};
    const UPSERT: &str = "ON CONFLICT (subscription_id, consultation_id) \
                          DO UPDATE SET changed_at = excluded.changed_at";
    match conn {
        DbConn::Pg(c) => diesel::sql_query(format!(
            "INSERT INTO fhir_changes (subscription_id, consultation_id, changed_at) \
             VALUES ($1, $2, $3) {UPSERT}"
        ))
        .bind::<BigInt, _>(subscription_id)
        .bind::<BigInt, _>(consultation_id)
        .bind::<Timestamp, _>(now)
        .execute(c)?,
        DbConn::Sqlite(c) => diesel::sql_query(format!(
            "INSERT INTO fhir_changes (subscription_id, consultation_id, changed_at) \
             VALUES (?, ?, ?) {UPSERT}"
        ))
        .bind::<BigInt, _>(subscription_id)
        .bind::<BigInt, _>(consultation_id)
        .bind::<Timestamp, _>(now)
        .execute(c)?,
    };
    Ok(())
}

/// Takes the next subscription with changes to deliver, for `lease`: none
/// when nothing is due. On PostgreSQL concurrent workers skip each other's
/// rows (SKIP LOCKED); on SQLite the caller's write transaction is the only writer.
pub fn claim_due(
    conn: &mut DbConn,
    now: NaiveDateTime,
    lease: chrono::Duration,
) -> R<Option<Subscription>> {
    use crate::schema::fhir_changes;
    use fhir_subscriptions::dsl as s;
    let due = s::fhir_subscriptions
        .filter(s::active.eq(true))
        .filter(s::next_at.le(now))
        .filter(s::locked_until.is_null().or(s::locked_until.lt(now)))
        .filter(s::id.eq_any(fhir_changes::table.select(fhir_changes::subscription_id)))
        .order((s::next_at.asc(), s::id.asc()))
        .select(s::id);
    let id: Option<i64> = match conn {
        DbConn::Pg(c) => due.for_update().skip_locked().first(c).optional()?,
        DbConn::Sqlite(c) => due.first(c).optional()?,
    };
    let Some(id) = id else {
        return Ok(None);
    };
    diesel::update(s::fhir_subscriptions.find(id))
        .set(s::locked_until.eq(now + lease))
        .execute(conn)?;
    Ok(Some(get(conn, id)?))
}

/// The oldest noted changes of a subscription: (request, when), at most `limit`.
pub fn changes(
    conn: &mut DbConn,
    subscription_id: i64,
    limit: i64,
) -> R<Vec<(i64, NaiveDateTime)>> {
    use crate::schema::fhir_changes::dsl as c;
    Ok(c::fhir_changes
        .filter(c::subscription_id.eq(subscription_id))
        .order((c::changed_at.asc(), c::consultation_id.asc()))
        .limit(limit)
        .select((c::consultation_id, c::changed_at))
        .load(conn)?)
}

/// Forgets the changes a delivery told of, unless they changed again since.
pub fn forget_changes(
    conn: &mut DbConn,
    subscription_id: i64,
    told: &[(i64, NaiveDateTime)],
) -> R<()> {
    use crate::schema::fhir_changes::dsl as c;
    for (consultation_id, at) in told {
        diesel::delete(
            c::fhir_changes
                .filter(c::subscription_id.eq(subscription_id))
                .filter(c::consultation_id.eq(consultation_id))
                .filter(c::changed_at.le(at)),
        )
        .execute(conn)?;
    }
    Ok(())
}

/// Ends a delivery: what it found (empty: delivered), failures in a row, and
/// when the next one may start. The lease is given back.
pub fn finish(
    conn: &mut DbConn,
    id: i64,
    error: &str,
    failures: i32,
    next_at: NaiveDateTime,
) -> R<()> {
    use fhir_subscriptions::dsl as s;
    diesel::update(s::fhir_subscriptions.find(id))
        .set((
            s::last_error.eq(error),
            s::failures.eq(failures),
            s::next_at.eq(next_at),
            s::locked_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
    Ok(())
}

/// Switches a subscription off for good (status `off`) and forgets its changes.
pub fn switch_off(conn: &mut DbConn, id: i64, error: &str) -> R<()> {
    use crate::schema::fhir_changes::dsl as c;
    use fhir_subscriptions::dsl as s;
    diesel::update(s::fhir_subscriptions.find(id))
        .set((
            s::active.eq(false),
            s::last_error.eq(error),
            s::locked_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
    diesel::delete(c::fhir_changes.filter(c::subscription_id.eq(id))).execute(conn)?;
    Ok(())
}

/// Switches off every subscription of a user (deactivated); returns how many.
pub fn switch_off_of_user(conn: &mut DbConn, user_id: i64, error: &str) -> R<usize> {
    let ids: Vec<i64> = fhir_subscriptions::table
        .filter(fhir_subscriptions::user_id.eq(user_id))
        .filter(fhir_subscriptions::active.eq(true))
        .select(fhir_subscriptions::id)
        .load(conn)?;
    for id in &ids {
        switch_off(conn, *id, error)?;
    }
    Ok(ids.len())
}

/// Deletes a subscription with its noted changes.
pub fn delete(conn: &mut DbConn, id: i64) -> R<()> {
    use crate::schema::fhir_changes::dsl as c;
    diesel::delete(c::fhir_changes.filter(c::subscription_id.eq(id))).execute(conn)?;
    diesel::delete(fhir_subscriptions::table.find(id)).execute(conn)?;
    Ok(())
}

/// A request's way to the federal level.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = crate::schema::escalations)]
pub struct Escalation {
    pub consultation_id: i64,
    /// `pending`, `delivered`, `completed` or `failed` (retrying).
    pub state: String,
    /// The request's id at the federal level, once delivered.
    pub federal_id: Option<String>,
    /// The federal Task's status, as last read.
    pub federal_status: String,
    pub attempts: i32,
    pub last_error: String,
    pub next_attempt_at: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
    /// Since when the case waits to be delivered (none once delivered).
    pub pending_since: Option<NaiveDateTime>,
    /// The tus uploads at the federal level: {"<attachment id>": "<path>"}.
    pub transfer: String,
}

pub fn escalation(conn: &mut DbConn, consultation_id: i64) -> R<Option<Escalation>> {
    use crate::schema::escalations::dsl as e;
    Ok(e::escalations
        .find(consultation_id)
        .select(Escalation::as_select())
        .first(conn)
        .optional()?)
}

/// Starts (or restarts) the record of an escalation.
pub fn escalation_pending(conn: &mut DbConn, consultation_id: i64, now: NaiveDateTime) -> R<()> {
    use crate::schema::escalations::dsl as e;
    if escalation(conn, consultation_id)?.is_some() {
        diesel::update(e::escalations.find(consultation_id))
            .set((
                e::state.eq("pending"),
                e::updated_at.eq(now),
                e::pending_since.eq(Some(now)),
            ))
            .execute(conn)?;
    } else {
        diesel::insert_into(e::escalations)
            .values((
                e::consultation_id.eq(consultation_id),
                e::state.eq("pending"),
                e::updated_at.eq(now),
                e::pending_since.eq(Some(now)),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Records what an attempt found.
#[allow(clippy::too_many_arguments)]
pub fn escalation_update(
    conn: &mut DbConn,
    consultation_id: i64,
    state: &str,
    federal_id: Option<&str>,
    federal_status: Option<&str>,
    error: &str,
    next_attempt_at: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> R<()> {
    use crate::schema::escalations::dsl as e;
    let Some(old) = escalation(conn, consultation_id)? else {
        return Ok(());
    };
    diesel::update(e::escalations.find(consultation_id))
        .set((
            e::state.eq(state),
            e::federal_id.eq(federal_id.map(str::to_string).or(old.federal_id)),
            e::federal_status.eq(federal_status
                .map(str::to_string)
                .unwrap_or(old.federal_status)),
            e::attempts.eq(old.attempts + i32::from(!error.is_empty())),
            e::last_error.eq(error),
            e::next_attempt_at.eq(next_attempt_at),
            e::updated_at.eq(now),
            // Delivered (or answered): no longer waiting to go out.
            e::pending_since.eq(
                if matches!(state, "delivered" | "completed" | "manual" | "stopped") {
                    None
                } else {
                    old.pending_since.or(Some(now))
                },
            ),
        ))
        .execute(conn)?;
    Ok(())
}

/// The outbox's next attempt, as the job queue set it.
pub fn escalation_next_attempt(
    conn: &mut DbConn,
    consultation_id: i64,
    at: NaiveDateTime,
) -> R<()> {
    use crate::schema::escalations::dsl as e;
    diesel::update(e::escalations.find(consultation_id))
        .set(e::next_attempt_at.eq(Some(at)))
        .execute(conn)?;
    Ok(())
}

/// Keeps where each file's upload at the federal level is (JSON).
pub fn escalation_set_transfer(conn: &mut DbConn, consultation_id: i64, transfer: &str) -> R<()> {
    use crate::schema::escalations::dsl as e;
    diesel::update(e::escalations.find(consultation_id))
        .set(e::transfer.eq(transfer))
        .execute(conn)?;
    Ok(())
}

/// Escalations waiting to go out since before `before` (the coordinator's
/// alarm): (request id, waiting since, last error).
pub fn escalations_overdue(
    conn: &mut DbConn,
    before: NaiveDateTime,
) -> R<Vec<(i64, NaiveDateTime, String)>> {
    use crate::schema::escalations::dsl as e;
    let rows: Vec<(i64, Option<NaiveDateTime>, String)> = e::escalations
        .filter(e::pending_since.le(before))
        .filter(e::state.eq_any(["pending", "failed"]))
        // Only requests still escalated: one answered by other means is no alarm.
        .filter(
            e::consultation_id.eq_any(
                crate::schema::consultations::table
                    .filter(crate::schema::consultations::status.eq("escalated"))
                    .select(crate::schema::consultations::id),
            ),
        )
        .order(e::pending_since.asc())
        .select((e::consultation_id, e::pending_since, e::last_error))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, since, err)| Some((id, since?, err)))
        .collect())
}
