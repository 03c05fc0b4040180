ALTER TABLE escalations DROP COLUMN transfer;
ALTER TABLE escalations DROP COLUMN pending_since;
