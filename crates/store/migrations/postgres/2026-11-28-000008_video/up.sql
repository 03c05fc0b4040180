-- Video sessions (ВКС): when, how long, where (an optional hardware room),
-- who takes part and which requests they discuss. Times are UTC.
CREATE TABLE video_sessions (
    id BIGSERIAL PRIMARY KEY,
    starts_at TIMESTAMP NOT NULL,
    ends_at TIMESTAMP NOT NULL,
    duration_minutes INTEGER NOT NULL,
    room TEXT NOT NULL DEFAULT '',
    title TEXT NOT NULL DEFAULT '',
    created_by BIGINT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    cancelled_at TIMESTAMP,
    -- Set once, by whichever instance sends the reminder first.
    reminded_at TIMESTAMP
);
CREATE INDEX video_sessions_time ON video_sessions (starts_at, ends_at);

CREATE TABLE video_participants (
    session_id BIGINT NOT NULL REFERENCES video_sessions (id),
    user_id BIGINT NOT NULL REFERENCES users (id),
    PRIMARY KEY (session_id, user_id)
);
CREATE INDEX video_participants_user ON video_participants (user_id);

CREATE TABLE video_consultations (
    session_id BIGINT NOT NULL REFERENCES video_sessions (id),
    consultation_id BIGINT NOT NULL REFERENCES consultations (id),
    PRIMARY KEY (session_id, consultation_id)
);

-- Who joined and left a room, and when.
CREATE TABLE video_log (
    id BIGSERIAL PRIMARY KEY,
    session_id BIGINT NOT NULL REFERENCES video_sessions (id),
    user_id BIGINT NOT NULL REFERENCES users (id),
    event TEXT NOT NULL,
    at TIMESTAMP NOT NULL
);
CREATE INDEX video_log_session ON video_log (session_id, id);

-- The secret of each user's calendar feed URL.
CREATE TABLE calendar_tokens (
    user_id BIGINT NOT NULL PRIMARY KEY REFERENCES users (id),
    token TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL
);
