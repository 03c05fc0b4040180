DROP INDEX consultations_submitted;
DROP INDEX consultations_list_order;
DROP INDEX consultations_search_trgm;
