-- The closed part of a list, newest first: walked, filtered and counted
-- ("более 1 000") from this index alone, without reading the requests.
CREATE INDEX consultations_closed
    ON consultations (id, status, form_of_care, profile, requesting_org_id, assigned_tkc_id)
    WHERE closed_at IS NOT NULL;
-- The archive of one state, newest first, with the usual filters (form,
-- profile, organizations) answered from the index alone.
DROP INDEX consultations_status_id;
CREATE INDEX consultations_status_id
    ON consultations (status, id, form_of_care, profile, requesting_org_id, assigned_tkc_id);
