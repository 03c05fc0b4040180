-- The audit trail of every read and change of patient data (152-ФЗ). Rows are
-- hash-chained: `hash` = SHA-256 over the previous row's hash and this row's
-- content, so changing or deleting a row breaks the chain. Ids are given by the
-- writer (the previous id + 1, under a lock), not by a sequence, so a gap is a
-- deletion.
CREATE TABLE audit_log (
    id BIGINT PRIMARY KEY,
    at TIMESTAMP NOT NULL,
    user_id BIGINT,
    login TEXT NOT NULL DEFAULT '',
    org_id BIGINT,
    role TEXT NOT NULL DEFAULT '',
    ip TEXT NOT NULL DEFAULT '',
    action TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id TEXT NOT NULL DEFAULT '',
    details TEXT NOT NULL DEFAULT '',
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_object ON audit_log (object_type, object_id);
CREATE INDEX audit_log_user ON audit_log (user_id, at);

CREATE TRIGGER audit_log_append_only
    BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION rtms_refuse_change();

-- Sign-in protection and the second factor.
ALTER TABLE users ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN locked_until TIMESTAMP;
ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_enabled BOOLEAN NOT NULL DEFAULT FALSE;

-- Tokens: a name, scopes (API tokens), where a session began.
ALTER TABLE api_tokens ADD COLUMN name TEXT NOT NULL DEFAULT '';
ALTER TABLE api_tokens ADD COLUMN scopes TEXT NOT NULL DEFAULT '*';
ALTER TABLE api_tokens ADD COLUMN ip TEXT NOT NULL DEFAULT '';
ALTER TABLE api_tokens ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';
CREATE INDEX api_tokens_user ON api_tokens (user_id, kind);

-- Region-wide settings the administrator changes (key → value).
CREATE TABLE settings (
    key TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL
);
