-- FHIR R4 rest-hook subscriptions: a hospital system (or another instance)
-- asks to be told when a Task changes. Each change queues a job per active
-- subscription; the job posts the Task as it is then, retrying with backoff.
CREATE TABLE fhir_subscriptions (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    criteria TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    headers TEXT NOT NULL DEFAULT '[]',
    reason TEXT NOT NULL DEFAULT '',
    active BOOLEAN NOT NULL DEFAULT TRUE,
    last_error TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL
);
