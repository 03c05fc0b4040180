ALTER TABLE document_signatures DROP COLUMN target;
DROP TABLE semd_documents;
ALTER TABLE conclusions DROP COLUMN patient_condition;
ALTER TABLE organizations DROP COLUMN phone;
ALTER TABLE organizations DROP COLUMN address;
ALTER TABLE users DROP COLUMN position_code;
ALTER TABLE users DROP COLUMN snils;
