-- The raw feed tokens cannot be recovered from their hashes: the old links stop working.
CREATE TABLE calendar_tokens_old (
    user_id BIGINT NOT NULL PRIMARY KEY REFERENCES users (id),
    token TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL
);
INSERT INTO calendar_tokens_old (user_id, token, created_at)
    SELECT user_id, token_hash, created_at FROM calendar_tokens;
DROP TABLE calendar_tokens;
ALTER TABLE calendar_tokens_old RENAME TO calendar_tokens;
DROP TABLE totp_steps;
DROP TABLE login_attempts;
