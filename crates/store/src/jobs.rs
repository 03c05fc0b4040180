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

/// Queues a job retried for as long as it fails (its handler decides when
/// there is nothing left to do): the federal outbox.
pub fn enqueue_persistent(
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
            jobs::max_attempts.eq(i32::MAX),
        ))
        .returning(jobs::id)
        .get_result(conn)?)
}

/// Holds a claimed job longer (a long transfer renews its lease as it goes).
pub fn extend_lease(conn: &mut DbConn, id: i64, until: NaiveDateTime) -> R<()> {
    diesel::update(jobs::table.find(id))
        .set(jobs::locked_until.eq(until))
        .execute(conn)?;
    Ok(())
}

/// The unfinished job of `kind` whose payload names `consultation` (the
/// outbox's own jobs), for a re-send by hand.
pub fn open_job_for(conn: &mut DbConn, kind: &str, consultation: i64) -> R<Option<Job>> {
    let all: Vec<Job> = jobs::table
        .filter(jobs::kind.eq(kind))
        .filter(jobs::done_at.is_null())
        .select(Job::as_select())
        .load(conn)?;
    Ok(all.into_iter().find(|j| {
        serde_json::from_str::<serde_json::Value>(&j.payload)
            .ok()
            .and_then(|v| v["consultation"].as_i64())
            == Some(consultation)
    }))
}

/// Moves a job's next run to `at` (a re-send by hand).
pub fn run_now(conn: &mut DbConn, id: i64, at: NaiveDateTime) -> R<()> {
    diesel::update(jobs::table.find(id))
        .set(jobs::run_at.eq(at))
        .execute(conn)?;
    Ok(())
}

/// Which jobs a worker takes.
#[derive(Debug, Clone, Copy)]
pub enum Kinds<'a> {
    All,
    Only(&'a [&'a str]),
    Except(&'a [&'a str]),
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
    claim_of(conn, worker, now, lease, Kinds::All)
}

/// [`claim`], of the given kinds only.
pub fn claim_of(
    conn: &mut DbConn,
    worker: &str,
    now: NaiveDateTime,
    lease: Duration,
    kinds: Kinds,
) -> R<Option<Job>> {
    let until = now + lease;
    match conn {
        DbConn::Pg(c) => {
            let (cond, list): (&str, Vec<String>) = match kinds {
                Kinds::All => ("TRUE OR $4::text[] IS NULL", Vec::new()),
                Kinds::Only(l) => ("kind = ANY($4)", l.iter().map(|s| s.to_string()).collect()),
                Kinds::Except(l) => ("kind <> ALL($4)", l.iter().map(|s| s.to_string()).collect()),
            };
            let job = diesel::sql_query(format!(
                "UPDATE jobs SET locked_by = $1, locked_until = $2, attempts = attempts + 1 \
                 WHERE id = (SELECT id FROM jobs WHERE done_at IS NULL AND run_at <= $3 \
                             AND (locked_until IS NULL OR locked_until < $3) AND ({cond}) \
                             ORDER BY run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED) \
                 RETURNING *"
            ))
            .bind::<diesel::sql_types::Text, _>(worker)
            .bind::<diesel::sql_types::Timestamp, _>(until)
            .bind::<diesel::sql_types::Timestamp, _>(now)
            .bind::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(list)
            .get_result::<Job>(c)
            .optional()?;
            Ok(job)
        }
        DbConn::Sqlite(c) => {
            let mut q = jobs::table
                .filter(jobs::done_at.is_null())
                .filter(jobs::run_at.le(now))
                .filter(jobs::locked_until.is_null().or(jobs::locked_until.lt(now)))
                .into_boxed();
            match kinds {
                Kinds::All => {}
                Kinds::Only(l) => q = q.filter(jobs::kind.eq_any(l.to_vec())),
                Kinds::Except(l) => q = q.filter(jobs::kind.ne_all(l.to_vec())),
            }
            let next: Option<i64> = q
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

/// Frees every lease (at the start of the only instance of a SQLite
/// database: a worker that died held them, and none other can).
pub fn release_leases(conn: &mut DbConn) -> R<usize> {
    Ok(diesel::update(jobs::table.filter(jobs::done_at.is_null()))
        .set(jobs::locked_until.eq(None::<NaiveDateTime>))
        .execute(conn)?)
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

/// Deletes jobs finished (done, or given up) before `before`; returns how many.
/// Unfinished jobs stay whatever their age: the outbox's are kept until done.
pub fn prune(conn: &mut DbConn, before: NaiveDateTime) -> R<usize> {
    Ok(diesel::delete(
        jobs::table
            .filter(jobs::done_at.is_not_null())
            .filter(jobs::done_at.lt(before)),
    )
    .execute(conn)?)
}
