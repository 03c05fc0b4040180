-- Search by patient name, СНИЛС or policy number at a million requests:
-- `search_text LIKE '%…%'` served by a trigram index (SQLite has an FTS5
-- trigram table instead). pg_trgm is a trusted extension: the database's
-- owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX consultations_search_trgm ON consultations USING gin (search_text gin_trgm_ops);

-- The open part of a list (a few thousand of a million requests), by deadline,
-- with the columns its filters and visibility read (counted from the index);
-- the closed part walks the primary key.
CREATE INDEX consultations_open ON consultations (deadline_at, status, requesting_org_id, assigned_tkc_id)
    WHERE closed_at IS NULL;
-- The closed part filtered by a state (the archive of completed, of rejected…),
-- newest first without sorting.
CREATE INDEX consultations_status_id ON consultations (status, id);
-- Reports select by submission time.
CREATE INDEX consultations_submitted ON consultations (submitted_at);
