DROP TABLE fhir_subscriptions;
