DROP INDEX consultations_status_id;
DROP INDEX consultations_submitted;
DROP INDEX consultations_open;
DROP TRIGGER consultations_search_update;
DROP TRIGGER consultations_search_delete;
DROP TRIGGER consultations_search_insert;
DROP TABLE consultations_search;
