-- Duty rosters and the emergency call chain (issue 25).
--
-- A shift: one consultation centre × one medical profile, from `starts_at`
-- to `ends_at` (UTC; the coordinator enters them in the centre's time zone),
-- a primary consultant and backups in order (a JSON array of user ids).
CREATE TABLE duty_shifts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tkc_id BIGINT NOT NULL REFERENCES organizations (id),
    profile_code TEXT NOT NULL REFERENCES profiles (code),
    kind TEXT NOT NULL CHECK (kind IN ('day', 'night', 'full', 'weekend')),
    starts_at TIMESTAMP NOT NULL,
    ends_at TIMESTAMP NOT NULL,
    primary_user_id BIGINT NOT NULL REFERENCES users (id),
    backup_user_ids TEXT NOT NULL DEFAULT '[]',
    created_by BIGINT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    CHECK (ends_at > starts_at)
);
CREATE INDEX duty_shifts_when ON duty_shifts (profile_code, starts_at, ends_at);
CREATE INDEX duty_shifts_centre ON duty_shifts (tkc_id, starts_at);

-- Leave and sick leave: the consultant is skipped on these days (inclusive).
CREATE TABLE duty_absences (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users (id),
    kind TEXT NOT NULL CHECK (kind IN ('leave', 'sick', 'other')),
    from_date DATE NOT NULL,
    to_date DATE NOT NULL,
    created_by BIGINT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    CHECK (to_date >= from_date)
);
CREATE INDEX duty_absences_user ON duty_absences (user_id, from_date);

-- The production calendar: days off that are not Saturday or Sunday
-- ('holiday') and Saturdays or Sundays that are working days ('workday'),
-- loaded from a file with its source.
CREATE TABLE calendar_days (
    day DATE PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('holiday', 'workday')),
    source TEXT NOT NULL DEFAULT ''
);

-- Each call of the chain for an automatically assigned request: step 0 is
-- the primary, then the backups, then the dispatchers (`user_id` empty).
-- A call is open until acknowledged or passed on; `due_at` is when it passes.
CREATE TABLE duty_calls (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    consultation_id BIGINT NOT NULL REFERENCES consultations (id),
    shift_id BIGINT REFERENCES duty_shifts (id),
    step INTEGER NOT NULL,
    user_id BIGINT REFERENCES users (id),
    called_at TIMESTAMP NOT NULL,
    due_at TIMESTAMP NOT NULL,
    acked_at TIMESTAMP,
    acked_by BIGINT REFERENCES users (id),
    passed_at TIMESTAMP
);
CREATE INDEX duty_calls_consultation ON duty_calls (consultation_id, step);
CREATE INDEX duty_calls_open ON duty_calls (due_at) WHERE acked_at IS NULL AND passed_at IS NULL;
