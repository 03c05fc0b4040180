-- Search by patient name, СНИЛС or policy number at a million requests: a
-- trigram full-text index over consultations.search_text, kept in step by
-- triggers (PostgreSQL uses a pg_trgm index on the column itself).
CREATE VIRTUAL TABLE consultations_search USING fts5(
    search_text,
    content = 'consultations',
    content_rowid = 'id',
    tokenize = 'trigram'
);
INSERT INTO consultations_search (consultations_search) VALUES ('rebuild');

CREATE TRIGGER consultations_search_insert AFTER INSERT ON consultations BEGIN
    INSERT INTO consultations_search (rowid, search_text) VALUES (new.id, new.search_text);
END;
CREATE TRIGGER consultations_search_delete AFTER DELETE ON consultations BEGIN
    INSERT INTO consultations_search (consultations_search, rowid, search_text)
        VALUES ('delete', old.id, old.search_text);
END;
CREATE TRIGGER consultations_search_update AFTER UPDATE OF search_text ON consultations BEGIN
    INSERT INTO consultations_search (consultations_search, rowid, search_text)
        VALUES ('delete', old.id, old.search_text);
    INSERT INTO consultations_search (rowid, search_text) VALUES (new.id, new.search_text);
END;

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
