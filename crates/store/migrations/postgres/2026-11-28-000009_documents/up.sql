-- The signed conclusion as a document: the PDF kept in the object store, the
-- canonical content it was rendered from, and the server's seal over both.
-- One document per signed conclusion version; a correction is a new version.
CREATE TABLE documents (
    id BIGSERIAL PRIMARY KEY,
    consultation_id BIGINT NOT NULL REFERENCES consultations (id),
    conclusion_id BIGINT NOT NULL REFERENCES conclusions (id),
    version INTEGER NOT NULL,
    storage_key TEXT NOT NULL,
    pdf_sha256 TEXT NOT NULL,
    content TEXT NOT NULL,
    seal TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX documents_conclusion ON documents (conclusion_id);
CREATE INDEX documents_pdf ON documents (pdf_sha256);

-- Detached CMS (PKCS#7) signatures a signer made with their own certificate.
CREATE TABLE document_signatures (
    id BIGSERIAL PRIMARY KEY,
    document_id BIGINT NOT NULL REFERENCES documents (id),
    user_id BIGINT NOT NULL REFERENCES users (id),
    cms TEXT NOT NULL,
    status TEXT NOT NULL,
    detail TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX document_signatures_doc ON document_signatures (document_id);
