-- Per-user e-mail preferences: users.email_mode may now also be 'digest' (one
-- e-mail a day listing the day's notifications), and email_kinds names the kinds
-- of notification that go by e-mail, comma-separated, or '*' for every kind.
ALTER TABLE users ADD COLUMN email_kinds TEXT NOT NULL DEFAULT '*';

-- One daily digest per user and day (YYYY-MM-DD, Moscow time). The row is
-- written in the transaction that queues the digest's e-mail, so however many
-- workers look, the digest is queued once.
CREATE TABLE mail_digests (
    user_id BIGINT NOT NULL REFERENCES users (id),
    day TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, day)
);
