//! The job queue: enqueue in any transaction, claim one due job at a time.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::models::Job;
use crate::schema::jobs;
use crate::{DbConn, StoreError};

type R<T> = Result<T, StoreError>;

pub fn enqueue(
    conn: &mut DbConn,
    kind: &str,
    payload: &str,
    run_at: NaiveDateTime,
    now: NaiveDateTime,
) -> R<i64> {
    Ok(diesel::insert_into(jobs::table)
        .values((
            jobs::kind.eq(kind),
            jobs::payload.eq(payload),
            jobs::run_at.eq(run_at),
            jobs::created_at.eq(now),
        ))
        .returning(jobs::id)
        .get_result(conn)?)
}

/// Claims the next due job for `worker` for `lease`; none when nothing is due.
/// On PostgreSQL concurrent workers skip each other's rows (SKIP LOCKED); on
/// SQLite the caller's write transaction is the only writer.
pub fn claim(
    conn: &mut DbConn,
    worker: &str,
    now: NaiveDateTime,
    lease: Duration,
) -> R<Option<Job>> {
    let until = now + lease;
    match conn {
        DbConn::Pg(c) => {
            let job = diesel::sql_query(
                "UPDATE jobs SET locked_by = $1, locked_until = $2, attempts = attempts + 1 \
                 WHERE id = (SELECT id FROM jobs WHERE done_at IS NULL AND run_at <= $3 \
                             AND (locked_until IS NULL OR locked_until < $3) \
                             ORDER BY run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED) \
                 RETURNING *",
            )
            .bind::<diesel::sql_types::Text, _>(worker)
            .bind::<diesel::sql_types::Timestamp, _>(until)
            .bind::<diesel::sql_types::Timestamp, _>(now)
            .get_result::<Job>(c)
            .optional()?;
            Ok(job)
        }
        DbConn::Sqlite(c) => {
            let next: Option<i64> = jobs::table
                .filter(jobs::done_at.is_null())
                .filter(jobs::run_at.le(now))
                .filter(jobs::locked_until.is_null().or(jobs::locked_until.lt(now)))
                .order((jobs::run_at.asc(), jobs::id.asc()))
                .select(jobs::id)
                .first(c)
                .optional()?;
            let Some(id) = next else {
                return Ok(None);
            };
            diesel::update(jobs::table.find(id))
                .set((
                    jobs::locked_by.eq(worker),
                    jobs::locked_until.eq(until),
                    jobs::attempts.eq(jobs::attempts + 1),
                ))
                .execute(c)?;
            Ok(Some(
                jobs::table.find(id).select(Job::as_select()).first(c)?,
            ))
        }
    }
}

pub fn complete(conn: &mut DbConn, id: i64, now: NaiveDateTime) -> R<()> {
    diesel::update(jobs::table.find(id))
        .set((
            jobs::done_at.eq(now),
            jobs::locked_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
    Ok(())
}

/// A failed attempt: retried at `retry_at`, or given up (done, with the error) after the last attempt.
pub fn fail(
    conn: &mut DbConn,
    job: &Job,
    error: &str,
    retry_at: NaiveDateTime,
    now: NaiveDateTime,
) -> R<()> {
    let error: String = error.chars().take(2000).collect();
    if job.attempts >= job.max_attempts {
        diesel::update(jobs::table.find(job.id))
            .set((
                jobs::done_at.eq(now),
                jobs::last_error.eq(error),
                jobs::locked_until.eq(None::<NaiveDateTime>),
            ))
            .execute(conn)?;
    } else {
        diesel::update(jobs::table.find(job.id))
            .set((
                jobs::run_at.eq(retry_at),
                jobs::last_error.eq(error),
                jobs::locked_until.eq(None::<NaiveDateTime>),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Jobs not done yet (the queue's depth, for the metrics).
pub fn pending(conn: &mut DbConn) -> R<i64> {
    Ok(jobs::table
        .filter(jobs::done_at.is_null())
        .count()
        .get_result(conn)?)
}
