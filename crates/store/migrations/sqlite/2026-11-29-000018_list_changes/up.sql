-- A number that moves whenever a request or its consultants change, in the
-- writer's own transaction: a list keeps its counts while it stays the same
-- (store/src/counts.rs). Triggers, so that every writer raises it, another
-- process (`rtms admin`) or a hand-written statement included.
CREATE TABLE consultation_changes (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n INTEGER NOT NULL
);
INSERT INTO consultation_changes (id, n) VALUES (1, 0);

CREATE TRIGGER consultations_changes_insert AFTER INSERT ON consultations BEGIN
    UPDATE consultation_changes SET n = n + 1 WHERE id = 1;
END;
CREATE TRIGGER consultations_changes_update AFTER UPDATE ON consultations BEGIN
    UPDATE consultation_changes SET n = n + 1 WHERE id = 1;
END;
CREATE TRIGGER consultations_changes_delete AFTER DELETE ON consultations BEGIN
    UPDATE consultation_changes SET n = n + 1 WHERE id = 1;
END;
CREATE TRIGGER consultation_consultants_changes_insert AFTER INSERT ON consultation_consultants BEGIN
    UPDATE consultation_changes SET n = n + 1 WHERE id = 1;
END;
CREATE TRIGGER consultation_consultants_changes_update AFTER UPDATE ON consultation_consultants BEGIN
    UPDATE consultation_changes SET n = n + 1 WHERE id = 1;
END;
CREATE TRIGGER consultation_consultants_changes_delete AFTER DELETE ON consultation_consultants BEGIN
    UPDATE consultation_changes SET n = n + 1 WHERE id = 1;
END;
