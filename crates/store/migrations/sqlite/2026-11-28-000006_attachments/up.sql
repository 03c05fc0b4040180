-- Files attached to a request or to a message of its thread. A row exists only
-- once the file is complete, checked and stored: nothing is half-visible.
CREATE TABLE attachments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    consultation_id BIGINT NOT NULL REFERENCES consultations (id),
    message_id BIGINT REFERENCES messages (id),
    uploaded_by BIGINT NOT NULL REFERENCES users (id),
    file_name TEXT NOT NULL,
    kind TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    storage_key TEXT NOT NULL,
    scan TEXT NOT NULL,
    details TEXT NOT NULL DEFAULT '{}',
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX attachments_case ON attachments (consultation_id, id);

-- Resumable (tus) uploads in progress. The received bytes live in a file on
-- the instance's disk; its length is the offset. Finished or abandoned rows go.
CREATE TABLE uploads (
    id TEXT NOT NULL PRIMARY KEY,
    consultation_id BIGINT NOT NULL REFERENCES consultations (id),
    message_id BIGINT REFERENCES messages (id),
    user_id BIGINT NOT NULL REFERENCES users (id),
    file_name TEXT NOT NULL,
    length BIGINT NOT NULL,
    sha256 TEXT,
    kind TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
