DROP INDEX consultations_status_id;
DROP INDEX consultations_submitted;
DROP INDEX consultations_open;
DROP INDEX consultations_search_trgm;
