-- The business identifier a sending system (a МИС, a regional instance) gave
-- a request, as `system|value`: a repeated submission finds the request it
-- created instead of making a second one.
ALTER TABLE consultations ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX consultations_external_id ON consultations (external_id);
