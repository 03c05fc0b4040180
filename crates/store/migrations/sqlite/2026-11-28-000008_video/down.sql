DROP TABLE calendar_tokens;
DROP TABLE video_log;
DROP TABLE video_consultations;
DROP TABLE video_participants;
DROP TABLE video_sessions;
