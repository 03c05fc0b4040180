-- The unread count every page shows in its header, from the index alone: a
-- dispatcher is told of every submitted request and may leave hundreds
-- unread.
CREATE INDEX notifications_unread ON notifications (user_id) WHERE read_at IS NULL;
