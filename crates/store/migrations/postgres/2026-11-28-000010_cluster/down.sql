DROP TABLE video_peers;
DROP TABLE bus_payloads;
