-- What a conclusion's document prints, fixed in the transaction of its last
-- signature: the PDF is rendered from this, never from data as it is later.
CREATE TABLE document_snapshots (
    conclusion_id BIGINT PRIMARY KEY NOT NULL REFERENCES conclusions (id),
    consultation_id BIGINT NOT NULL REFERENCES consultations (id),
    content TEXT NOT NULL,
    sealed_at TIMESTAMP NOT NULL
);
CREATE FUNCTION document_snapshots_refuse() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'rtms: % on document_snapshots is not allowed', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER document_snapshots_append_only
    BEFORE UPDATE OR DELETE ON document_snapshots
    FOR EACH ROW EXECUTE FUNCTION document_snapshots_refuse();

-- The administrators' list of recent role changes reads the audit log by action.
CREATE INDEX audit_log_action ON audit_log (action, id);
