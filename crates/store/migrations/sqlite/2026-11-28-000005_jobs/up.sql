-- Background jobs (e-mail now; the federal outbox later): durable, retried with
-- backoff, claimed by one worker at a time (FOR UPDATE SKIP LOCKED on PostgreSQL,
-- the single writer on SQLite). A claim is a lease: a worker that dies loses it.
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    run_at TIMESTAMP NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL DEFAULT 8,
    locked_by TEXT,
    locked_until TIMESTAMP,
    last_error TEXT NOT NULL DEFAULT '',
    done_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX jobs_due ON jobs (done_at, run_at);

-- How a user wants their notifications by e-mail: off, or instant.
ALTER TABLE users ADD COLUMN email_mode TEXT NOT NULL DEFAULT 'instant';
