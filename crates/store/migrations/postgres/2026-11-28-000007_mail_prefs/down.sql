DROP TABLE mail_digests;
ALTER TABLE users DROP COLUMN email_kinds;
