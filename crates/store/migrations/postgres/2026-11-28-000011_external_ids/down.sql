DROP INDEX consultations_external_id;
ALTER TABLE consultations DROP COLUMN external_id;
