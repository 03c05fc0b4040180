DROP TABLE notifications;
ALTER TABLE api_tokens DROP COLUMN kind;
ALTER TABLE api_tokens DROP COLUMN last_seen_at;
ALTER TABLE consultations DROP COLUMN unsaved_input;
