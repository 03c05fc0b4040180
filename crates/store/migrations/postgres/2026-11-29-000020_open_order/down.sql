DROP INDEX consultations_open;
CREATE INDEX consultations_open ON consultations (deadline_at, status, requesting_org_id, assigned_tkc_id)
    WHERE closed_at IS NULL;
