DROP TABLE jobs;
ALTER TABLE users DROP COLUMN email_mode;
