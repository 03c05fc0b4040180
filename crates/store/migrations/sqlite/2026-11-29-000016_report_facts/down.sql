CREATE INDEX consultations_submitted ON consultations (submitted_at);
DROP INDEX consultations_report;
DROP INDEX consultation_events_reasons;
ALTER TABLE consultations DROP COLUMN acknowledged;
ALTER TABLE consultations DROP COLUMN escalated;
ALTER TABLE consultations DROP COLUMN answered_at;
