CREATE TABLE organizations (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    short_name TEXT NOT NULL,
    kind TEXT NOT NULL,
    level INTEGER,
    frmo_oid TEXT,
    time_zone TEXT NOT NULL,
    requires_head_approval BOOLEAN NOT NULL DEFAULT FALSE,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    login TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    last_name TEXT NOT NULL,
    first_name TEXT NOT NULL,
    middle_name TEXT NOT NULL DEFAULT '',
    position TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    email TEXT NOT NULL DEFAULT '',
    locale TEXT NOT NULL DEFAULT 'ru',
    active BOOLEAN NOT NULL DEFAULT TRUE,
    must_change_password BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE memberships (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    organization_id BIGINT NOT NULL REFERENCES organizations (id),
    role TEXT NOT NULL,
    UNIQUE (user_id, organization_id, role)
);
CREATE INDEX memberships_org ON memberships (organization_id, role);

CREATE TABLE profiles (
    code TEXT NOT NULL PRIMARY KEY,
    v002_code INTEGER,
    name_ru TEXT NOT NULL,
    name_en TEXT NOT NULL,
    hint_ru TEXT NOT NULL,
    hint_en TEXT NOT NULL
);

CREATE TABLE user_profiles (
    user_id BIGINT NOT NULL REFERENCES users (id),
    profile_code TEXT NOT NULL REFERENCES profiles (code),
    PRIMARY KEY (user_id, profile_code)
);

CREATE TABLE api_tokens (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);

CREATE TABLE purposes (
    code TEXT NOT NULL PRIMARY KEY,
    iemk_code INTEGER NOT NULL,
    name_ru TEXT NOT NULL,
    name_en TEXT NOT NULL
);

CREATE TABLE icd10 (
    code TEXT NOT NULL PRIMARY KEY,
    name TEXT NOT NULL,
    parent_code TEXT,
    search TEXT NOT NULL,
    actual BOOLEAN NOT NULL
);

CREATE TABLE deadline_policies (
    form_of_care TEXT NOT NULL PRIMARY KEY,
    minutes BIGINT NOT NULL
);

CREATE TABLE routes (
    id BIGSERIAL PRIMARY KEY,
    profile_code TEXT NOT NULL REFERENCES profiles (code),
    form_of_care TEXT NOT NULL,
    tkc_id BIGINT NOT NULL REFERENCES organizations (id),
    consultant_id BIGINT REFERENCES users (id),
    UNIQUE (profile_code, form_of_care)
);

CREATE TABLE consultations (
    id BIGSERIAL PRIMARY KEY,
    status TEXT NOT NULL,
    requesting_org_id BIGINT NOT NULL REFERENCES organizations (id),
    requester_id BIGINT NOT NULL REFERENCES users (id),
    assigned_tkc_id BIGINT REFERENCES organizations (id),
    form_of_care TEXT,
    mode TEXT,
    profile TEXT,
    purpose TEXT,
    patient_name TEXT NOT NULL,
    patient_birth_date DATE,
    patient_snils TEXT,
    patient_oms TEXT,
    diagnosis_main TEXT,
    search_text TEXT NOT NULL,
    clinical TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    submitted_at TIMESTAMP,
    deadline_at TIMESTAMP,
    budget_seconds BIGINT NOT NULL DEFAULT 0,
    paused_at TIMESTAMP,
    paused_seconds BIGINT NOT NULL DEFAULT 0,
    closed_at TIMESTAMP,
    scheduled_start TIMESTAMP,
    scheduled_minutes INTEGER,
    closeout_useful BOOLEAN,
    closeout_effect TEXT,
    version INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX consultations_queue ON consultations (status, deadline_at);
CREATE INDEX consultations_org ON consultations (requesting_org_id, deadline_at);
CREATE INDEX consultations_tkc ON consultations (assigned_tkc_id, deadline_at);
CREATE INDEX consultations_snils ON consultations (patient_snils);

CREATE TABLE consultation_consultants (
    consultation_id BIGINT NOT NULL REFERENCES consultations (id),
    user_id BIGINT NOT NULL REFERENCES users (id),
    assigned_at TIMESTAMP NOT NULL,
    signed_at TIMESTAMP,
    PRIMARY KEY (consultation_id, user_id)
);
CREATE INDEX consultation_consultants_user ON consultation_consultants (user_id);

CREATE TABLE consultation_events (
    id BIGSERIAL PRIMARY KEY,
    consultation_id BIGINT NOT NULL REFERENCES consultations (id),
    at TIMESTAMP NOT NULL,
    actor_user_id BIGINT REFERENCES users (id),
    actor_org_id BIGINT REFERENCES organizations (id),
    actor_role TEXT,
    action TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT NOT NULL,
    comment TEXT NOT NULL DEFAULT '',
    reason_code TEXT,
    details TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX consultation_events_case ON consultation_events (consultation_id, id);

CREATE TABLE messages (
    id BIGSERIAL PRIMARY KEY,
    consultation_id BIGINT NOT NULL REFERENCES consultations (id),
    author_id BIGINT NOT NULL REFERENCES users (id),
    author_role TEXT NOT NULL,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX messages_case ON messages (consultation_id, id);

CREATE TABLE conclusions (
    id BIGSERIAL PRIMARY KEY,
    consultation_id BIGINT NOT NULL REFERENCES consultations (id),
    version INTEGER NOT NULL,
    supersedes_id BIGINT REFERENCES conclusions (id),
    author_id BIGINT NOT NULL REFERENCES users (id),
    diagnosis_main TEXT NOT NULL,
    diagnosis_text TEXT NOT NULL,
    findings TEXT NOT NULL,
    recommendations TEXT NOT NULL,
    transfer TEXT NOT NULL,
    follow_up_needed BOOLEAN NOT NULL,
    follow_up TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    signed_at TIMESTAMP,
    content_hash TEXT,
    UNIQUE (consultation_id, version)
);

-- The event history is append-only, and a signed conclusion is never changed.
CREATE FUNCTION rtms_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'rtms: % on % is not allowed', TG_OP, TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER consultation_events_append_only
    BEFORE UPDATE OR DELETE ON consultation_events
    FOR EACH ROW EXECUTE FUNCTION rtms_refuse_change();

CREATE TRIGGER conclusions_signed_frozen
    BEFORE UPDATE OR DELETE ON conclusions
    FOR EACH ROW WHEN (OLD.signed_at IS NOT NULL)
    EXECUTE FUNCTION rtms_refuse_change();
