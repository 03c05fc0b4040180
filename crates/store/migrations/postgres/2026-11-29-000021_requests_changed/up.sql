-- A notification whenever a request or its consultants change: instances
-- listening on `rtms_requests_changed` forget the list counts they keep
-- (store/src/counts.rs). Sent at the writer's commit, by every writer (another
-- instance, `rtms admin`, a statement typed by hand); once per statement, and
-- PostgreSQL folds the same notification sent twice in one transaction.
CREATE FUNCTION rtms_requests_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('rtms_requests_changed', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER consultations_announce
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON consultations
    FOR EACH STATEMENT EXECUTE FUNCTION rtms_requests_changed();

CREATE TRIGGER consultation_consultants_announce
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON consultation_consultants
    FOR EACH STATEMENT EXECUTE FUNCTION rtms_requests_changed();
