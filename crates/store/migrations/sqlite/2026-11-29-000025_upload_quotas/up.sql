-- Upload quotas (per user and per organization) add up what a user has
-- stored and is staging before an upload is accepted: these indexes keep
-- that sum to the user's own rows.
CREATE INDEX attachments_uploader ON attachments (uploaded_by, size);
CREATE INDEX uploads_user ON uploads (user_id, length);
