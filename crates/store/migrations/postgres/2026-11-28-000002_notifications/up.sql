-- What a user is told: a new request, an assignment, a question, a conclusion…
CREATE TABLE notifications (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    consultation_id BIGINT NOT NULL REFERENCES consultations (id),
    kind TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    read_at TIMESTAMP
);
CREATE INDEX notifications_user ON notifications (user_id, id);

-- Web sessions are tokens too; `kind` tells them from API tokens.
ALTER TABLE api_tokens ADD COLUMN kind TEXT NOT NULL DEFAULT 'api';
ALTER TABLE api_tokens ADD COLUMN last_seen_at TIMESTAMP;

-- What the doctor typed that did not pass validation yet, so nothing is lost.
ALTER TABLE consultations ADD COLUMN unsaved_input TEXT NOT NULL DEFAULT '{}';
