-- The escalation outbox never gives up (issue 22):
-- * `pending_since`: when the case was last handed to the outbox and not yet
--   delivered; past the alarm time the coordinator is told;
-- * `transfer`: the tus uploads at the federal level, one per attachment
--   (JSON {"<attachment id>": "<upload path>"}), so a restarted sender
--   resumes each file where it stopped;
-- * federal jobs retry for as long as their request is open; those an
--   earlier version gave up on go back in the queue (sending is idempotent,
--   and a request no longer escalated is skipped).
ALTER TABLE escalations ADD COLUMN pending_since TIMESTAMP;
ALTER TABLE escalations ADD COLUMN transfer TEXT NOT NULL DEFAULT '{}';
UPDATE escalations SET pending_since = updated_at WHERE state IN ('pending', 'failed');
UPDATE jobs SET done_at = NULL, run_at = CURRENT_TIMESTAMP, locked_until = NULL
 WHERE kind = 'federal_send' AND done_at IS NOT NULL AND attempts >= max_attempts;
UPDATE jobs SET max_attempts = 2147483647 WHERE kind IN ('federal_send', 'federal_poll');
