DROP TABLE document_signatures;
DROP TABLE documents;
