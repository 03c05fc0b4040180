-- Requests escalated to the federal level through its FHIR interface: what
-- the outbox did with each (pending, delivered, completed, failed and when it
-- tries again), for the dispatcher to see.
CREATE TABLE escalations (
    consultation_id BIGINT NOT NULL PRIMARY KEY REFERENCES consultations (id),
    state TEXT NOT NULL,
    federal_id TEXT,
    federal_status TEXT NOT NULL DEFAULT '',
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    next_attempt_at TIMESTAMP,
    updated_at TIMESTAMP NOT NULL
);
