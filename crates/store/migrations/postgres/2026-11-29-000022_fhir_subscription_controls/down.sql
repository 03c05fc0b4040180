DROP TABLE fhir_changes;
ALTER TABLE fhir_subscriptions DROP COLUMN failures;
ALTER TABLE fhir_subscriptions DROP COLUMN locked_until;
ALTER TABLE fhir_subscriptions DROP COLUMN next_at;
ALTER TABLE fhir_subscriptions ADD COLUMN headers TEXT NOT NULL DEFAULT '[]';
