-- The open part of a list in its own order (deadline, then newest first),
-- with the columns its filters read: a page is the index's first entries,
-- and the count reads the index alone. On PostgreSQL the page's statement is
-- prepared once and runs on a generic plan, which does not know the page is
-- small: with only the deadline in the index's order it read every open
-- request and sorted them (0.9 ms at a million; 0.03 ms now).
DROP INDEX consultations_open;
CREATE INDEX consultations_open
    ON consultations (deadline_at, id DESC, status, requesting_org_id, assigned_tkc_id, form_of_care, profile)
    WHERE closed_at IS NULL;
