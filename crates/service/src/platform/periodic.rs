//! Periodic work, in one table (`crate::PERIODIC`): what runs, how often,
//! and how a run is logged. `rtms serve` starts every entry with
//! [`spawn_all`]; every instance runs them, and each task makes sure its
//! effect happens once however many instances run it (claims in the
//! database, SKIP LOCKED on PostgreSQL).

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use crate::{ServiceError, Services};

/// A run's future, for tasks that are async themselves.
pub type TaskFuture = Pin<Box<dyn Future<Output = Result<usize, ServiceError>> + Send>>;

/// What one run does; returns how many things it did.
pub enum Task {
    /// Database work, on a blocking thread.
    Blocking(fn(&Services) -> Result<usize, ServiceError>),
    /// Work that awaits (file stores).
    Async(fn(Services) -> TaskFuture),
}

/// One periodic task.
pub struct Periodic {
    /// For the log.
    pub name: &'static str,
    pub every: Duration,
    pub task: Task,
    /// Log each run that did something (at INFO), not only failures.
    pub log_count: bool,
}

/// A name for this process's job workers, the same for all its tasks.
pub fn worker_name() -> &'static str {
    static NAME: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    NAME.get_or_init(|| format!("{}-{}", std::process::id(), rand::random::<u32>()))
}

/// Starts every task of `table` on the current Tokio runtime.
pub fn spawn_all(svc: &Services, table: &'static [Periodic]) {
    for p in table {
        let svc = svc.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(p.every);
            loop {
                every.tick().await;
                let outcome = match p.task {
                    Task::Blocking(run) => {
                        let svc = svc.clone();
                        match tokio::task::spawn_blocking(move || run(&svc)).await {
                            Ok(r) => r,
                            Err(e) => {
                                tracing::warn!(task = p.name, error = %e, "periodic task panicked");
                                continue;
                            }
                        }
                    }
                    Task::Async(run) => run(svc.clone()).await,
                };
                match outcome {
                    Ok(n) if n > 0 && p.log_count => {
                        tracing::info!(task = p.name, count = n, "periodic task done")
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(task = p.name, error = %e, "periodic task failed"),
                }
            }
        });
    }
}
