//! Duty rosters (shifts, absences, the production calendar) and the call
//! chain of automatically assigned requests. Rows only; the service decides
//! who is on duty and when a call passes on.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::schema::{calendar_days, duty_absences, duty_calls, duty_shifts};
use crate::{DbConn, StoreError};

type R<T> = Result<T, StoreError>;

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = duty_shifts, check_for_backend(crate::conn::MultiBackend))]
pub struct Shift {
    pub id: i64,
    pub tkc_id: i64,
    pub profile_code: String,
    pub kind: String,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub primary_user_id: i64,
    /// A JSON array of user ids, in the order they are called.
    pub backup_user_ids: String,
    pub created_by: Option<i64>,
    pub created_at: NaiveDateTime,
}

impl Shift {
    /// The backups, in the order they are called.
    pub fn backups(&self) -> Vec<i64> {
        serde_json::from_str(&self.backup_user_ids).unwrap_or_default()
    }
}

/// A shift to write.
#[derive(Debug, Clone, PartialEq)]
pub struct NewShift {
    pub tkc_id: i64,
    pub profile_code: String,
    pub kind: String,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub primary_user_id: i64,
    pub backups: Vec<i64>,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = duty_absences, check_for_backend(crate::conn::MultiBackend))]
pub struct Absence {
    pub id: i64,
    pub user_id: i64,
    pub kind: String,
    pub from_date: NaiveDate,
    pub to_date: NaiveDate,
    pub created_by: Option<i64>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = duty_calls, check_for_backend(crate::conn::MultiBackend))]
pub struct Call {
    pub id: i64,
    pub consultation_id: i64,
    pub shift_id: Option<i64>,
    pub step: i32,
    /// Empty for the last step: the dispatchers.
    pub user_id: Option<i64>,
    pub called_at: NaiveDateTime,
    pub due_at: NaiveDateTime,
    pub acked_at: Option<NaiveDateTime>,
    pub acked_by: Option<i64>,
    pub passed_at: Option<NaiveDateTime>,
}

/// Writes a shift; returns its id.
pub fn insert_shift(
    conn: &mut DbConn,
    s: &NewShift,
    by: Option<i64>,
    now: NaiveDateTime,
) -> R<i64> {
    let backups = serde_json::to_string(&s.backups).unwrap_or_else(|_| "[]".into());
    Ok(diesel::insert_into(duty_shifts::table)
        .values((
            duty_shifts::tkc_id.eq(s.tkc_id),
            duty_shifts::profile_code.eq(&s.profile_code),
            duty_shifts::kind.eq(&s.kind),
            duty_shifts::starts_at.eq(s.starts_at),
            duty_shifts::ends_at.eq(s.ends_at),
            duty_shifts::primary_user_id.eq(s.primary_user_id),
            duty_shifts::backup_user_ids.eq(backups),
            duty_shifts::created_by.eq(by),
            duty_shifts::created_at.eq(now),
        ))
        .returning(duty_shifts::id)
        .get_result(conn)?)
}

pub fn shift(conn: &mut DbConn, id: i64) -> R<Shift> {
    Ok(duty_shifts::table
        .find(id)
        .select(Shift::as_select())
        .first(conn)?)
}

pub fn delete_shift(conn: &mut DbConn, id: i64) -> R<()> {
    // A call keeps its place in the history without the shift behind it.
    diesel::update(duty_calls::table.filter(duty_calls::shift_id.eq(id)))
        .set(duty_calls::shift_id.eq(None::<i64>))
        .execute(conn)?;
    diesel::delete(duty_shifts::table.find(id)).execute(conn)?;
    Ok(())
}

/// Shifts of the centre (every centre when `tkc` is none) overlapping
/// `[from, to)`, by start.
pub fn shifts_between(
    conn: &mut DbConn,
    tkc: Option<i64>,
    profile: Option<&str>,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> R<Vec<Shift>> {
    let mut q = duty_shifts::table
        .filter(duty_shifts::starts_at.lt(to))
        .filter(duty_shifts::ends_at.gt(from))
        .select(Shift::as_select())
        .order((duty_shifts::starts_at, duty_shifts::id))
        .into_boxed();
    if let Some(t) = tkc {
        q = q.filter(duty_shifts::tkc_id.eq(t));
    }
    if let Some(p) = profile {
        q = q.filter(duty_shifts::profile_code.eq(p.to_string()));
    }
    Ok(q.load(conn)?)
}

/// The shifts of a profile running at `at` (in one centre, or any).
pub fn shifts_at(
    conn: &mut DbConn,
    tkc: Option<i64>,
    profile: &str,
    at: NaiveDateTime,
) -> R<Vec<Shift>> {
    let mut q = duty_shifts::table
        .filter(duty_shifts::profile_code.eq(profile.to_string()))
        .filter(duty_shifts::starts_at.le(at))
        .filter(duty_shifts::ends_at.gt(at))
        .select(Shift::as_select())
        .order((duty_shifts::starts_at.desc(), duty_shifts::id))
        .into_boxed();
    if let Some(t) = tkc {
        q = q.filter(duty_shifts::tkc_id.eq(t));
    }
    Ok(q.load(conn)?)
}

/// Replaces every shift of `tkc` for `profiles` that starts in `[from, to)`
/// with `shifts` (an import of a period). Run inside a write transaction.
#[allow(clippy::too_many_arguments)]
pub fn replace_shifts(
    conn: &mut DbConn,
    tkc: i64,
    profiles: &[String],
    from: NaiveDateTime,
    to: NaiveDateTime,
    shifts: &[NewShift],
    by: Option<i64>,
    now: NaiveDateTime,
) -> R<usize> {
    let old: Vec<i64> = duty_shifts::table
        .filter(duty_shifts::tkc_id.eq(tkc))
        .filter(duty_shifts::profile_code.eq_any(profiles.to_vec()))
        .filter(duty_shifts::starts_at.ge(from))
        .filter(duty_shifts::starts_at.lt(to))
        .select(duty_shifts::id)
        .load(conn)?;
    for id in old {
        delete_shift(conn, id)?;
    }
    for s in shifts {
        insert_shift(conn, s, by, now)?;
    }
    Ok(shifts.len())
}

pub fn insert_absence(
    conn: &mut DbConn,
    user_id: i64,
    kind: &str,
    from: NaiveDate,
    to: NaiveDate,
    by: Option<i64>,
    now: NaiveDateTime,
) -> R<i64> {
    Ok(diesel::insert_into(duty_absences::table)
        .values((
            duty_absences::user_id.eq(user_id),
            duty_absences::kind.eq(kind),
            duty_absences::from_date.eq(from),
            duty_absences::to_date.eq(to),
            duty_absences::created_by.eq(by),
            duty_absences::created_at.eq(now),
        ))
        .returning(duty_absences::id)
        .get_result(conn)?)
}

pub fn absence(conn: &mut DbConn, id: i64) -> R<Absence> {
    Ok(duty_absences::table
        .find(id)
        .select(Absence::as_select())
        .first(conn)?)
}

pub fn delete_absence(conn: &mut DbConn, id: i64) -> R<()> {
    diesel::delete(duty_absences::table.find(id)).execute(conn)?;
    Ok(())
}

/// Absences of these users touching `[from, to]`.
pub fn absences_between(
    conn: &mut DbConn,
    users: &[i64],
    from: NaiveDate,
    to: NaiveDate,
) -> R<Vec<Absence>> {
    Ok(duty_absences::table
        .filter(duty_absences::user_id.eq_any(users.to_vec()))
        .filter(duty_absences::from_date.le(to))
        .filter(duty_absences::to_date.ge(from))
        .select(Absence::as_select())
        .order((duty_absences::from_date, duty_absences::id))
        .load(conn)?)
}

/// Replaces the calendar's days of `year` with `days` (day, kind).
pub fn replace_calendar_year(
    conn: &mut DbConn,
    year: i32,
    days: &[(NaiveDate, String)],
    source: &str,
) -> R<usize> {
    let first = NaiveDate::from_ymd_opt(year, 1, 1).ok_or(StoreError::NotFound)?;
    let last = NaiveDate::from_ymd_opt(year, 12, 31).ok_or(StoreError::NotFound)?;
    diesel::delete(
        calendar_days::table
            .filter(calendar_days::day.ge(first))
            .filter(calendar_days::day.le(last)),
    )
    .execute(conn)?;
    for (day, kind) in days {
        diesel::insert_into(calendar_days::table)
            .values((
                calendar_days::day.eq(day),
                calendar_days::kind.eq(kind),
                calendar_days::source.eq(source),
            ))
            .execute(conn)?;
    }
    Ok(days.len())
}

/// The calendar's exceptions in `[from, to]`: (day, 'holiday' | 'workday').
pub fn calendar_between(
    conn: &mut DbConn,
    from: NaiveDate,
    to: NaiveDate,
) -> R<Vec<(NaiveDate, String)>> {
    Ok(calendar_days::table
        .filter(calendar_days::day.ge(from))
        .filter(calendar_days::day.le(to))
        .select((calendar_days::day, calendar_days::kind))
        .order(calendar_days::day)
        .load(conn)?)
}

/// Where the loaded calendar came from, one line per source.
pub fn calendar_sources(conn: &mut DbConn) -> R<Vec<String>> {
    Ok(calendar_days::table
        .select(calendar_days::source)
        .distinct()
        .order(calendar_days::source)
        .load(conn)?)
}

pub fn insert_call(
    conn: &mut DbConn,
    consultation_id: i64,
    shift_id: Option<i64>,
    step: i32,
    user_id: Option<i64>,
    now: NaiveDateTime,
    due: NaiveDateTime,
) -> R<i64> {
    Ok(diesel::insert_into(duty_calls::table)
        .values((
            duty_calls::consultation_id.eq(consultation_id),
            duty_calls::shift_id.eq(shift_id),
            duty_calls::step.eq(step),
            duty_calls::user_id.eq(user_id),
            duty_calls::called_at.eq(now),
            duty_calls::due_at.eq(due),
        ))
        .returning(duty_calls::id)
        .get_result(conn)?)
}

/// The calls of one request, in order.
pub fn calls_of(conn: &mut DbConn, consultation_id: i64) -> R<Vec<Call>> {
    Ok(duty_calls::table
        .filter(duty_calls::consultation_id.eq(consultation_id))
        .select(Call::as_select())
        .order((duty_calls::step, duty_calls::id))
        .load(conn)?)
}

/// Open calls of a consultant whose time ran out at `now`, oldest first
/// (the dispatchers' alarm, the last step, stays open until answered).
pub fn overdue_calls(conn: &mut DbConn, now: NaiveDateTime, limit: i64) -> R<Vec<Call>> {
    Ok(duty_calls::table
        .filter(duty_calls::user_id.is_not_null())
        .filter(duty_calls::acked_at.is_null())
        .filter(duty_calls::passed_at.is_null())
        .filter(duty_calls::due_at.le(now))
        .select(Call::as_select())
        .order((duty_calls::due_at, duty_calls::id))
        .limit(limit)
        .load(conn)?)
}

/// Marks an open call passed on; false when somebody acknowledged it or
/// another instance passed it first.
pub fn pass_call(conn: &mut DbConn, id: i64, now: NaiveDateTime) -> R<bool> {
    let n = diesel::update(
        duty_calls::table
            .find(id)
            .filter(duty_calls::acked_at.is_null())
            .filter(duty_calls::passed_at.is_null()),
    )
    .set(duty_calls::passed_at.eq(now))
    .execute(conn)?;
    Ok(n == 1)
}

/// Acknowledges every open call of a request; returns how many were open.
pub fn ack_calls(conn: &mut DbConn, consultation_id: i64, by: i64, now: NaiveDateTime) -> R<usize> {
    Ok(diesel::update(
        duty_calls::table
            .filter(duty_calls::consultation_id.eq(consultation_id))
            .filter(duty_calls::acked_at.is_null())
            .filter(duty_calls::passed_at.is_null()),
    )
    .set((duty_calls::acked_at.eq(now), duty_calls::acked_by.eq(by)))
    .execute(conn)?)
}

/// Every call of requests submitted in `[from, to)`, for the reports.
pub fn calls_between(conn: &mut DbConn, from: NaiveDateTime, to: NaiveDateTime) -> R<Vec<Call>> {
    Ok(duty_calls::table
        .filter(duty_calls::called_at.ge(from))
        .filter(duty_calls::called_at.lt(to))
        .select(Call::as_select())
        .order((duty_calls::consultation_id, duty_calls::step))
        .load(conn)?)
}

/// One call with what the reports group it by.
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct CallFact {
    pub consultation_id: i64,
    pub form_of_care: Option<String>,
    pub profile: Option<String>,
    pub tkc_id: Option<i64>,
    pub step: i32,
    pub user_id: Option<i64>,
    pub called_at: NaiveDateTime,
    pub acked_at: Option<NaiveDateTime>,
}

/// The calls of the requests submitted in the scope's period that match
/// its filters, by request and step.
pub fn report_calls(conn: &mut DbConn, scope: &crate::repo::ReportScope) -> R<Vec<CallFact>> {
    let (from, to) = (scope.from, scope.to);
    use crate::schema::consultations;
    let mut q = duty_calls::table
        .inner_join(consultations::table)
        .filter(consultations::submitted_at.ge(from))
        .filter(consultations::submitted_at.lt(to))
        .select((
            duty_calls::consultation_id,
            consultations::form_of_care,
            consultations::profile,
            consultations::assigned_tkc_id,
            duty_calls::step,
            duty_calls::user_id,
            duty_calls::called_at,
            duty_calls::acked_at,
        ))
        .order((
            duty_calls::consultation_id,
            duty_calls::step,
            duty_calls::id,
        ))
        .into_boxed();
    if let Some(f) = &scope.form_of_care {
        q = q.filter(consultations::form_of_care.eq(f.clone()));
    }
    if let Some(p) = &scope.profile {
        q = q.filter(consultations::profile.eq(p.clone()));
    }
    if let Some(o) = scope.organization {
        q = q.filter(consultations::requesting_org_id.eq(o));
    }
    if let Some(t) = scope.tkc {
        q = q.filter(consultations::assigned_tkc_id.eq(t));
    }
    Ok(q.load(conn)?)
}
