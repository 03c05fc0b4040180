DROP INDEX consultations_status_id;
CREATE INDEX consultations_status_id ON consultations (status, id);
DROP INDEX consultations_closed;
