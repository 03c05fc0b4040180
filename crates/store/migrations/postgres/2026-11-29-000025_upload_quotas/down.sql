DROP INDEX uploads_user;
DROP INDEX attachments_uploader;
