DROP INDEX consultations_submitted;
DROP INDEX consultations_list_order;
DROP TRIGGER consultations_search_update;
DROP TRIGGER consultations_search_delete;
DROP TRIGGER consultations_search_insert;
DROP TABLE consultations_search;
