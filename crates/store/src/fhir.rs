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
