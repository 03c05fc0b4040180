-- Search by patient name, СНИЛС or policy number at a million requests:
-- `search_text LIKE '%…%'` served by a trigram index (SQLite has an FTS5
-- trigram table instead). pg_trgm is a trusted extension: the database's
-- owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX consultations_search_trgm ON consultations USING gin (search_text gin_trgm_ops);

-- The list's order (open first by deadline, then the rest) walked from an
-- index instead of sorting every row.
CREATE INDEX consultations_list_order ON consultations (
    (closed_at IS NOT NULL), (deadline_at IS NULL), deadline_at, id DESC
);
-- Reports select by submission time.
CREATE INDEX consultations_submitted ON consultations (submitted_at);
