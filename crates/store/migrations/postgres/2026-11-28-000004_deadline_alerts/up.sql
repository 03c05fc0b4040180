-- Which deadline alerts were sent, once per request and kind, whichever
-- instance's monitor got there first (the key makes a second send impossible).
CREATE TABLE deadline_alerts (
    consultation_id BIGINT NOT NULL REFERENCES consultations (id),
    kind TEXT NOT NULL,
    deadline_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (consultation_id, kind, deadline_at)
);
