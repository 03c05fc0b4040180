-- FHIR subscriptions under control (issue 21, item 1):
-- * no caller-chosen headers are kept or sent on;
-- * a change is noted once per (subscription, request) in `fhir_changes`,
--   and one delivery per subscription carries every noted change (ids only);
-- * the subscription row is its own delivery lease: `next_at` (not before),
--   `locked_until` (a worker holds it), `failures` (in a row, for the backoff).
ALTER TABLE fhir_subscriptions DROP COLUMN headers;
ALTER TABLE fhir_subscriptions ADD COLUMN next_at TIMESTAMP NOT NULL DEFAULT '1970-01-01 00:00:00';
ALTER TABLE fhir_subscriptions ADD COLUMN locked_until TIMESTAMP;
ALTER TABLE fhir_subscriptions ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;

CREATE TABLE fhir_changes (
    subscription_id BIGINT NOT NULL REFERENCES fhir_subscriptions (id) ON DELETE CASCADE,
    consultation_id BIGINT NOT NULL,
    changed_at TIMESTAMP NOT NULL,
    PRIMARY KEY (subscription_id, consultation_id)
);

-- The one-job-per-change notifications are replaced by the above.
UPDATE jobs SET done_at = CURRENT_TIMESTAMP, last_error = 'replaced by fhir_changes'
WHERE kind = 'fhir_notify' AND done_at IS NULL;
