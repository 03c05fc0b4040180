-- Reports over a year of a federal level (a few hundred thousand requests)
-- read one row per request: what its history says a report counts is kept on
-- the request itself, in step with `repo::append_event`, instead of being
-- looked up among its events (seven or more each).
--   answered_at   the first event that completed it (a signed conclusion,
--                 or the federal level's);
--   escalated     it was escalated at some point;
--   acknowledged  the requesting doctor acknowledged the conclusion.
ALTER TABLE consultations ADD COLUMN answered_at TIMESTAMP;
ALTER TABLE consultations ADD COLUMN escalated BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE consultations ADD COLUMN acknowledged BOOLEAN NOT NULL DEFAULT FALSE;

UPDATE consultations SET
    answered_at = (SELECT MIN(e.at) FROM consultation_events e
                   WHERE e.consultation_id = consultations.id
                     AND e.action IN ('sign', 'record_federal_conclusion')
                     AND e.to_status = 'completed'),
    escalated = EXISTS (SELECT 1 FROM consultation_events e
                        WHERE e.consultation_id = consultations.id AND e.action = 'escalate'),
    acknowledged = EXISTS (SELECT 1 FROM consultation_events e
                           WHERE e.consultation_id = consultations.id AND e.action = 'acknowledge')
WHERE submitted_at IS NOT NULL;

-- Returns, rejections and escalations by reason, found by when they happened
-- (after the request's submission), not by walking every request's events.
CREATE INDEX consultation_events_reasons ON consultation_events (action, at, consultation_id, reason_code)
    WHERE action IN ('return', 'reject', 'escalate');

-- A report's rows come from this index alone, never from the table (on
-- PostgreSQL a year is 200,000 rows on as many 8 KB pages of wide rows). It
-- starts with the submission time, so it also serves what
-- `consultations_submitted` did.
CREATE INDEX consultations_report ON consultations (submitted_at, status, form_of_care, profile,
    requesting_org_id, assigned_tkc_id, deadline_at, paused_at, answered_at, escalated,
    acknowledged, closeout_useful, closeout_effect, id);
DROP INDEX consultations_submitted;
