DROP INDEX audit_log_action;
DROP TABLE document_snapshots;
DROP FUNCTION document_snapshots_refuse();
