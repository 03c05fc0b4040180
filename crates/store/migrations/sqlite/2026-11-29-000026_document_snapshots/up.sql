-- What a conclusion's document prints, fixed in the transaction of its last
-- signature: the PDF is rendered from this, never from data as it is later.
CREATE TABLE document_snapshots (
    conclusion_id BIGINT PRIMARY KEY NOT NULL REFERENCES conclusions (id),
    consultation_id BIGINT NOT NULL REFERENCES consultations (id),
    content TEXT NOT NULL,
    sealed_at TIMESTAMP NOT NULL
);
CREATE TRIGGER document_snapshots_no_update BEFORE UPDATE ON document_snapshots
BEGIN SELECT RAISE(ABORT, 'rtms: UPDATE on document_snapshots is not allowed'); END;
CREATE TRIGGER document_snapshots_no_delete BEFORE DELETE ON document_snapshots
BEGIN SELECT RAISE(ABORT, 'rtms: DELETE on document_snapshots is not allowed'); END;

-- The administrators' list of recent role changes reads the audit log by action.
CREATE INDEX audit_log_action ON audit_log (action, id);
