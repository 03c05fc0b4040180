//! The job queue's workers and the `Job` trait. A job is a type: its kind
//! (the name stored with the row), its payload (the type itself, stored as
//! JSON) and what running it does. Each capability defines its own jobs
//! beside the code they serve (`platform::mail::SendEmail`,
//! `exchange::federal::{SendEscalation, PollEscalation}`); the crate root
//! lists them in one registry (`crate::JOB_TYPES`), which the workers read.
//!
//! Workers on any number of instances claim jobs one at a time (a lease of
//! [`LEASE_MINUTES`]); a failure is retried with a growing delay.

use chrono::{Duration, NaiveDateTime};
use rtms_store::{jobs, DbConn, StoreError};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::{ServiceError, Services};

/// A job as stored: id, kind, payload, attempts so far.
pub type JobRow = rtms_store::models::Job;

/// A kind of background work. The payload is `Self`, stored as JSON.
pub trait Job: Serialize + DeserializeOwned {
    /// The kind stored with the row; never change one that has been stored.
    const KIND: &'static str;
    /// Run by a worker of its own (the federal outbox: a transfer of
    /// gigabytes holds up no e-mail).
    const OUTBOX: bool = false;
    /// Retried for as long as it fails: its `run` decides when there is
    /// nothing left to do. Otherwise the queue gives up after a few attempts.
    const PERSISTENT: bool = false;

    /// Does the work. An `Err` is kept as the job's last error and retried.
    fn run(self, svc: &Services, row: &JobRow) -> Result<(), String>;

    /// How long after `attempts` failed attempts the job runs again.
    fn retry_delay(_svc: &Services, attempts: i32) -> Duration {
        backoff(attempts)
    }

    /// After a failed attempt, in the transaction that schedules the retry
    /// at `retry_at` (the outbox shows that time on the request's page).
    fn failed(&self, _conn: &mut DbConn, _retry_at: NaiveDateTime) -> Result<(), StoreError> {
        Ok(())
    }
}

/// Queues `job` to run at `run_at`, in the caller's transaction.
pub fn enqueue<J: Job>(
    conn: &mut DbConn,
    job: &J,
    run_at: NaiveDateTime,
    now: NaiveDateTime,
) -> Result<i64, StoreError> {
    let payload = serde_json::to_string(job).unwrap_or_default();
    if J::PERSISTENT {
        jobs::enqueue_persistent(conn, J::KIND, &payload, run_at, now)
    } else {
        jobs::enqueue(conn, J::KIND, &payload, run_at, now)
    }
}

/// One entry of the registry: a job type with its payload type erased.
pub struct JobType {
    pub kind: &'static str,
    pub outbox: bool,
    run: fn(&Services, &JobRow) -> Result<(), String>,
    retry_delay: fn(&Services, i32) -> Duration,
    failed: fn(&JobRow, &mut DbConn, NaiveDateTime) -> Result<(), StoreError>,
}

impl JobType {
    pub const fn of<J: Job>() -> JobType {
        JobType {
            kind: J::KIND,
            outbox: J::OUTBOX,
            run: run_stored::<J>,
            retry_delay: J::retry_delay,
            failed: failed_stored::<J>,
        }
    }
}

fn run_stored<J: Job>(svc: &Services, row: &JobRow) -> Result<(), String> {
    let job: J = serde_json::from_str(&row.payload)
        .map_err(|e| format!("a malformed {} job: {e}", J::KIND))?;
    job.run(svc, row)
}

fn failed_stored<J: Job>(
    row: &JobRow,
    conn: &mut DbConn,
    retry_at: NaiveDateTime,
) -> Result<(), StoreError> {
    match serde_json::from_str::<J>(&row.payload) {
        Ok(job) => job.failed(conn, retry_at),
        Err(_) => Ok(()),
    }
}

/// How long a worker holds a claimed job before another may take it.
pub(crate) const LEASE_MINUTES: i64 = 5;

/// How long a finished job (done or given up) stays in the table, for whoever
/// looks into a delivery afterwards.
pub const KEEP_FINISHED_DAYS: i64 = 30;

/// The default delay after `attempts` failures: 2, 4, 8 … minutes, at most six hours.
pub(crate) fn backoff(attempts: i32) -> Duration {
    Duration::minutes((1i64 << attempts.clamp(0, 9)).min(360))
}

impl Services {
    fn job_type(&self, kind: &str) -> Option<&'static JobType> {
        self.job_types.iter().find(|t| t.kind == kind)
    }

    fn outbox_kinds(&self) -> Vec<&'static str> {
        self.job_types
            .iter()
            .filter(|t| t.outbox)
            .map(|t| t.kind)
            .collect()
    }

    /// Deletes jobs finished more than [`KEEP_FINISHED_DAYS`] ago.
    pub fn prune_jobs(&self) -> Result<usize, ServiceError> {
        let before = self.clock.now().naive_utc() - Duration::days(KEEP_FINISHED_DAYS);
        Ok(self.db.write(|c| jobs::prune(c, before))?)
    }

    /// Runs due jobs until none is left (or `max` ran); returns how many ran.
    pub fn run_jobs(&self, worker: &str, max: usize) -> Result<usize, ServiceError> {
        self.run_jobs_of(worker, max, jobs::Kinds::All)
    }

    /// Runs due jobs of the federal outbox only: `rtms serve` gives it a
    /// worker of its own, so a transfer of gigabytes holds up no e-mail.
    pub fn run_outbox(&self, worker: &str, max: usize) -> Result<usize, ServiceError> {
        let kinds = self.outbox_kinds();
        self.run_jobs_of(worker, max, jobs::Kinds::Only(&kinds))
    }

    /// Runs due jobs other than the federal outbox's.
    pub fn run_other_jobs(&self, worker: &str, max: usize) -> Result<usize, ServiceError> {
        let kinds = self.outbox_kinds();
        self.run_jobs_of(worker, max, jobs::Kinds::Except(&kinds))
    }

    fn run_jobs_of(
        &self,
        worker: &str,
        max: usize,
        kinds: jobs::Kinds,
    ) -> Result<usize, ServiceError> {
        let mut ran = 0;
        while ran < max {
            let now = self.clock.now().naive_utc();
            let Some(job) = self.db.write(|c| {
                jobs::claim_of(c, worker, now, Duration::minutes(LEASE_MINUTES), kinds)
            })?
            else {
                break;
            };
            let kind = self.job_type(&job.kind);
            let outcome = match kind {
                Some(t) => (t.run)(self, &job),
                None => Err(format!("unknown job kind {}", job.kind)),
            };
            let now = self.clock.now().naive_utc();
            match outcome {
                Ok(()) => self.db.write(|c| jobs::complete(c, job.id, now))?,
                Err(error) => {
                    tracing::warn!(job = job.id, kind = %job.kind, attempt = job.attempts, %error, "job failed");
                    let delay = match kind {
                        Some(t) => (t.retry_delay)(self, job.attempts),
                        None => backoff(job.attempts),
                    };
                    let retry_at = now + delay;
                    self.db.write(|c| -> Result<(), ServiceError> {
                        jobs::fail(c, &job, &error, retry_at, now)?;
                        if let Some(t) = kind {
                            (t.failed)(&job, c, retry_at)?;
                        }
                        Ok(())
                    })?
                }
            }
            ran += 1;
        }
        Ok(ran)
    }
}
