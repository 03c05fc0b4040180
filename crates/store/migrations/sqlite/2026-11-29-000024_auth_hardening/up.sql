-- Sign-in attempts counted per client address (scope 'address') and per login
-- (scope 'login') in fixed windows: the throttle read before a password is hashed.
CREATE TABLE login_attempts (
    scope TEXT NOT NULL,
    subject TEXT NOT NULL,
    window_start TIMESTAMP NOT NULL,
    attempts INTEGER NOT NULL,
    PRIMARY KEY (scope, subject)
);
CREATE INDEX login_attempts_window ON login_attempts (window_start);

-- The last TOTP time step accepted per user: a code is good once.
CREATE TABLE totp_steps (
    user_id BIGINT NOT NULL PRIMARY KEY REFERENCES users (id),
    last_step BIGINT NOT NULL
);

-- Calendar feed tokens are kept as their SHA-256 and expire. SQLite has no
-- SHA-256 in SQL: the raw tokens copied here (48 hex characters) are hashed
-- by `Db::migrate` right after the migrations (`hash_legacy_calendar_tokens`).
CREATE TABLE calendar_tokens_new (
    user_id BIGINT NOT NULL PRIMARY KEY REFERENCES users (id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
INSERT INTO calendar_tokens_new (user_id, token_hash, created_at, expires_at)
    SELECT user_id, token, created_at, datetime(created_at, '+365 days') FROM calendar_tokens;
DROP TABLE calendar_tokens;
ALTER TABLE calendar_tokens_new RENAME TO calendar_tokens;
