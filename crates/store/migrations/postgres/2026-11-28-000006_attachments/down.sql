DROP TABLE uploads;
DROP TABLE attachments;
