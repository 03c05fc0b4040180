DROP INDEX consultation_events_reasons;
ALTER TABLE consultations DROP COLUMN acknowledged;
ALTER TABLE consultations DROP COLUMN escalated;
ALTER TABLE consultations DROP COLUMN answered_at;
