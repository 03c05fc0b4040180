-- СЭМД «Протокол консультации» (CDA, ред. 7; issue 23).
-- What the document needs that the product did not keep:
-- * a signer's СНИЛС and position code (НСИ 1.2.643.5.1.13.13.11.1002);
-- * an organization's address and phone (the region, НСИ 1.2.643.5.1.13.13.99.2.206, is a setting);
-- * the patient's condition at the consultation (НСИ 1.2.643.5.1.13.13.11.1006),
--   chosen by the consultant with the conclusion.
ALTER TABLE users ADD COLUMN snils TEXT;
ALTER TABLE users ADD COLUMN position_code TEXT;
ALTER TABLE organizations ADD COLUMN address TEXT NOT NULL DEFAULT '';
ALTER TABLE organizations ADD COLUMN phone TEXT NOT NULL DEFAULT '';
ALTER TABLE conclusions ADD COLUMN patient_condition TEXT;

-- One СЭМД per signed conclusion version, built in the transaction of the last
-- signature and never changed: `xml` and `sha256` are what signatures cover.
-- `status` is the seam for the РЭМД registration: created → signed → sent →
-- registered | rejected (with the РЭМД error code, НСИ 1.2.643.5.1.13.13.99.2.305).
CREATE TABLE semd_documents (
    conclusion_id BIGINT PRIMARY KEY NOT NULL REFERENCES conclusions (id),
    consultation_id BIGINT NOT NULL REFERENCES consultations (id),
    version INTEGER NOT NULL,
    document_id TEXT NOT NULL,
    xml TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'created'
        CHECK (status IN ('created', 'signed', 'sent', 'registered', 'rejected')),
    remd_error_code TEXT,
    status_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX semd_documents_consultation ON semd_documents (consultation_id);
CREATE TRIGGER semd_documents_content_fixed BEFORE UPDATE OF conclusion_id, consultation_id, version, document_id, xml, sha256, created_at ON semd_documents
BEGIN SELECT RAISE(ABORT, 'rtms: the content of a СЭМД never changes'); END;
CREATE TRIGGER semd_documents_no_delete BEFORE DELETE ON semd_documents
BEGIN SELECT RAISE(ABORT, 'rtms: DELETE on semd_documents is not allowed'); END;

-- A signer's CMS signature covers the conclusion's PDF or its СЭМД.
ALTER TABLE document_signatures ADD COLUMN target TEXT NOT NULL DEFAULT 'pdf';
