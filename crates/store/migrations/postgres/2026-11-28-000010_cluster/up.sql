-- Several instances on one database. A message between instances travels by
-- NOTIFY (PostgreSQL); one too long for NOTIFY's 8000 bytes waits here and the
-- notification carries its id.
CREATE TABLE bus_payloads (
    id BIGSERIAL PRIMARY KEY,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX bus_payloads_created ON bus_payloads (created_at);

-- Who is connected to which video room, on whichever instance. Each instance
-- refreshes seen_at of its own peers; a peer not seen for a while is gone
-- (its instance stopped without saying so).
CREATE TABLE video_peers (
    peer_id BIGINT NOT NULL PRIMARY KEY,
    session_id BIGINT NOT NULL REFERENCES video_sessions (id),
    user_id BIGINT NOT NULL REFERENCES users (id),
    name TEXT NOT NULL,
    seen_at TIMESTAMP NOT NULL
);
CREATE INDEX video_peers_session ON video_peers (session_id);
