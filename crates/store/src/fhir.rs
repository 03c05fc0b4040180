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
    /// Whose eyes the notifications see with: only their requests are sent.
    pub user_id: i64,
    /// `Task` or `Task?status=…`.
    pub criteria: String,
    pub endpoint: String,
    /// JSON array of `Name: value` lines sent with each notification.
    pub headers: String,
    pub reason: String,
    pub active: bool,
    pub last_error: String,
    pub created_at: NaiveDateTime,
}

pub fn insert(
    conn: &mut DbConn,
    user_id: i64,
    criteria: &str,
    endpoint: &str,
    headers: &str,
    reason: &str,
    now: NaiveDateTime,
) -> R<i64> {
    Ok(diesel::insert_into(fhir_subscriptions::table)
        .values((
            fhir_subscriptions::user_id.eq(user_id),
            fhir_subscriptions::criteria.eq(criteria),
            fhir_subscriptions::endpoint.eq(endpoint),
            fhir_subscriptions::headers.eq(headers),
            fhir_subscriptions::reason.eq(reason),
            fhir_subscriptions::created_at.eq(now),
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

pub fn set_error(conn: &mut DbConn, id: i64, error: &str) -> R<()> {
    diesel::update(fhir_subscriptions::table.find(id))
        .set(fhir_subscriptions::last_error.eq(error))
        .execute(conn)?;
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
            .set((e::state.eq("pending"), e::updated_at.eq(now)))
            .execute(conn)?;
    } else {
        diesel::insert_into(e::escalations)
            .values((
                e::consultation_id.eq(consultation_id),
                e::state.eq("pending"),
                e::updated_at.eq(now),
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
        ))
        .execute(conn)?;
    Ok(())
}
