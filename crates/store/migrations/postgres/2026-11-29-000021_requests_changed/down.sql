DROP TRIGGER consultation_consultants_announce ON consultation_consultants;
DROP TRIGGER consultations_announce ON consultations;
DROP FUNCTION rtms_requests_changed();
