// One schema for both backends. Keep in step with migrations/sqlite and
// migrations/postgres; tests/schema_parity.rs proves the two agree.

diesel::table! {
    organizations (id) {
        id -> BigInt,
        name -> Text,
        short_name -> Text,
        kind -> Text,
        level -> Nullable<Integer>,
        frmo_oid -> Nullable<Text>,
        time_zone -> Text,
        requires_head_approval -> Bool,
        active -> Bool,
        created_at -> Timestamp,
        address -> Text,
        phone -> Text,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        login -> Text,
        password_hash -> Text,
        last_name -> Text,
        first_name -> Text,
        middle_name -> Text,
        position -> Text,
        phone -> Text,
        email -> Text,
        locale -> Text,
        active -> Bool,
        must_change_password -> Bool,
        created_at -> Timestamp,
        failed_logins -> Integer,
        locked_until -> Nullable<Timestamp>,
        totp_secret -> Nullable<Text>,
        totp_enabled -> Bool,
        email_mode -> Text,
        email_kinds -> Text,
        snils -> Nullable<Text>,
        position_code -> Nullable<Text>,
    }
}

diesel::table! {
    jobs (id) {
        id -> BigInt,
        kind -> Text,
        payload -> Text,
        run_at -> Timestamp,
        attempts -> Integer,
        max_attempts -> Integer,
        locked_by -> Nullable<Text>,
        locked_until -> Nullable<Timestamp>,
        last_error -> Text,
        done_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    memberships (id) {
        id -> BigInt,
        user_id -> BigInt,
        organization_id -> BigInt,
        role -> Text,
    }
}

diesel::table! {
    user_profiles (user_id, profile_code) {
        user_id -> BigInt,
        profile_code -> Text,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> BigInt,
        user_id -> BigInt,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        kind -> Text,
        last_seen_at -> Nullable<Timestamp>,
        name -> Text,
        scopes -> Text,
        ip -> Text,
        user_agent -> Text,
    }
}

diesel::table! {
    audit_log (id) {
        id -> BigInt,
        at -> Timestamp,
        user_id -> Nullable<BigInt>,
        login -> Text,
        org_id -> Nullable<BigInt>,
        role -> Text,
        ip -> Text,
        action -> Text,
        object_type -> Text,
        object_id -> Text,
        details -> Text,
        prev_hash -> Text,
        hash -> Text,
    }
}

diesel::table! {
    deadline_alerts (consultation_id, kind, deadline_at) {
        consultation_id -> BigInt,
        kind -> Text,
        deadline_at -> Timestamp,
        created_at -> Timestamp,
    }
}

diesel::table! {
    mail_digests (user_id, day) {
        user_id -> BigInt,
        day -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    settings (key) {
        key -> Text,
        value -> Text,
    }
}

diesel::table! {
    notifications (id) {
        id -> BigInt,
        user_id -> BigInt,
        consultation_id -> BigInt,
        kind -> Text,
        created_at -> Timestamp,
        read_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    profiles (code) {
        code -> Text,
        v002_code -> Nullable<Integer>,
        name_ru -> Text,
        name_en -> Text,
        hint_ru -> Text,
        hint_en -> Text,
    }
}

diesel::table! {
    purposes (code) {
        code -> Text,
        iemk_code -> Integer,
        name_ru -> Text,
        name_en -> Text,
    }
}

diesel::table! {
    icd10 (code) {
        code -> Text,
        name -> Text,
        parent_code -> Nullable<Text>,
        search -> Text,
        actual -> Bool,
    }
}

diesel::table! {
    deadline_policies (form_of_care) {
        form_of_care -> Text,
        minutes -> BigInt,
    }
}

diesel::table! {
    routes (id) {
        id -> BigInt,
        profile_code -> Text,
        form_of_care -> Text,
        tkc_id -> BigInt,
        consultant_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    consultations (id) {
        id -> BigInt,
        status -> Text,
        requesting_org_id -> BigInt,
        requester_id -> BigInt,
        assigned_tkc_id -> Nullable<BigInt>,
        form_of_care -> Nullable<Text>,
        mode -> Nullable<Text>,
        profile -> Nullable<Text>,
        purpose -> Nullable<Text>,
        patient_name -> Text,
        patient_birth_date -> Nullable<Date>,
        patient_snils -> Nullable<Text>,
        patient_oms -> Nullable<Text>,
        diagnosis_main -> Nullable<Text>,
        search_text -> Text,
        clinical -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        submitted_at -> Nullable<Timestamp>,
        deadline_at -> Nullable<Timestamp>,
        budget_seconds -> BigInt,
        paused_at -> Nullable<Timestamp>,
        paused_seconds -> BigInt,
        closed_at -> Nullable<Timestamp>,
        scheduled_start -> Nullable<Timestamp>,
        scheduled_minutes -> Nullable<Integer>,
        closeout_useful -> Nullable<Bool>,
        closeout_effect -> Nullable<Text>,
        version -> Integer,
        unsaved_input -> Text,
        external_id -> Nullable<Text>,
    }
}

// What a request's history says reports count (migration 16), declared
// apart so that `consultations` stays within diesel's 32-column tables.
diesel::table! {
    #[sql_name = "consultations"]
    consultation_facts (id) {
        id -> BigInt,
        answered_at -> Nullable<Timestamp>,
        escalated -> Bool,
        acknowledged -> Bool,
    }
}

diesel::table! {
    consultation_consultants (consultation_id, user_id) {
        consultation_id -> BigInt,
        user_id -> BigInt,
        assigned_at -> Timestamp,
        signed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    consultation_events (id) {
        id -> BigInt,
        consultation_id -> BigInt,
        at -> Timestamp,
        actor_user_id -> Nullable<BigInt>,
        actor_org_id -> Nullable<BigInt>,
        actor_role -> Nullable<Text>,
        action -> Text,
        from_status -> Nullable<Text>,
        to_status -> Text,
        comment -> Text,
        reason_code -> Nullable<Text>,
        details -> Text,
    }
}

diesel::table! {
    messages (id) {
        id -> BigInt,
        consultation_id -> BigInt,
        author_id -> BigInt,
        author_role -> Text,
        kind -> Text,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    conclusions (id) {
        id -> BigInt,
        consultation_id -> BigInt,
        version -> Integer,
        supersedes_id -> Nullable<BigInt>,
        author_id -> BigInt,
        diagnosis_main -> Text,
        diagnosis_text -> Text,
        findings -> Text,
        recommendations -> Text,
        transfer -> Text,
        follow_up_needed -> Bool,
        follow_up -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        signed_at -> Nullable<Timestamp>,
        content_hash -> Nullable<Text>,
        patient_condition -> Nullable<Text>,
    }
}

diesel::table! {
    attachments (id) {
        id -> BigInt,
        consultation_id -> BigInt,
        message_id -> Nullable<BigInt>,
        uploaded_by -> BigInt,
        file_name -> Text,
        kind -> Text,
        content_type -> Text,
        size -> BigInt,
        sha256 -> Text,
        storage_key -> Text,
        scan -> Text,
        details -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    uploads (id) {
        id -> Text,
        consultation_id -> BigInt,
        message_id -> Nullable<BigInt>,
        user_id -> BigInt,
        file_name -> Text,
        length -> BigInt,
        sha256 -> Nullable<Text>,
        kind -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    document_snapshots (conclusion_id) {
        conclusion_id -> BigInt,
        consultation_id -> BigInt,
        content -> Text,
        sealed_at -> Timestamp,
    }
}

diesel::table! {
    documents (id) {
        id -> BigInt,
        consultation_id -> BigInt,
        conclusion_id -> BigInt,
        version -> Integer,
        storage_key -> Text,
        pdf_sha256 -> Text,
        content -> Text,
        seal -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    document_signatures (id) {
        id -> BigInt,
        document_id -> BigInt,
        user_id -> BigInt,
        cms -> Text,
        status -> Text,
        detail -> Text,
        created_at -> Timestamp,
        target -> Text,
    }
}

diesel::table! {
    semd_documents (conclusion_id) {
        conclusion_id -> BigInt,
        consultation_id -> BigInt,
        version -> Integer,
        document_id -> Text,
        xml -> Text,
        sha256 -> Text,
        status -> Text,
        remd_error_code -> Nullable<Text>,
        status_at -> Timestamp,
        created_at -> Timestamp,
    }
}

diesel::table! {
    video_sessions (id) {
        id -> BigInt,
        starts_at -> Timestamp,
        ends_at -> Timestamp,
        duration_minutes -> Integer,
        room -> Text,
        title -> Text,
        created_by -> BigInt,
        created_at -> Timestamp,
        cancelled_at -> Nullable<Timestamp>,
        reminded_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    video_participants (session_id, user_id) {
        session_id -> BigInt,
        user_id -> BigInt,
    }
}

diesel::table! {
    video_consultations (session_id, consultation_id) {
        session_id -> BigInt,
        consultation_id -> BigInt,
    }
}

diesel::table! {
    video_log (id) {
        id -> BigInt,
        session_id -> BigInt,
        user_id -> BigInt,
        event -> Text,
        at -> Timestamp,
    }
}

diesel::table! {
    bus_payloads (id) {
        id -> BigInt,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    video_peers (peer_id) {
        peer_id -> BigInt,
        session_id -> BigInt,
        user_id -> BigInt,
        name -> Text,
        seen_at -> Timestamp,
    }
}

diesel::table! {
    fhir_subscriptions (id) {
        id -> BigInt,
        user_id -> BigInt,
        criteria -> Text,
        endpoint -> Text,
        reason -> Text,
        active -> Bool,
        last_error -> Text,
        created_at -> Timestamp,
        next_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        failures -> Integer,
    }
}

diesel::table! {
    fhir_changes (subscription_id, consultation_id) {
        subscription_id -> BigInt,
        consultation_id -> BigInt,
        changed_at -> Timestamp,
    }
}

diesel::table! {
    escalations (consultation_id) {
        consultation_id -> BigInt,
        state -> Text,
        federal_id -> Nullable<Text>,
        federal_status -> Text,
        attempts -> Integer,
        last_error -> Text,
        next_attempt_at -> Nullable<Timestamp>,
        updated_at -> Timestamp,
        pending_since -> Nullable<Timestamp>,
        transfer -> Text,
    }
}

diesel::table! {
    calendar_tokens (user_id) {
        user_id -> BigInt,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    login_attempts (scope, subject) {
        scope -> Text,
        subject -> Text,
        window_start -> Timestamp,
        attempts -> Integer,
    }
}

diesel::table! {
    totp_steps (user_id) {
        user_id -> BigInt,
        last_step -> BigInt,
    }
}

diesel::joinable!(memberships -> users (user_id));
diesel::joinable!(api_tokens -> users (user_id));
diesel::joinable!(fhir_changes -> fhir_subscriptions (subscription_id));
diesel::joinable!(memberships -> organizations (organization_id));
diesel::joinable!(consultation_consultants -> users (user_id));
diesel::joinable!(consultation_consultants -> consultations (consultation_id));
diesel::joinable!(consultation_events -> consultations (consultation_id));
diesel::joinable!(messages -> consultations (consultation_id));
diesel::joinable!(conclusions -> consultations (consultation_id));
diesel::joinable!(notifications -> consultations (consultation_id));

diesel::joinable!(video_participants -> video_sessions (session_id));
diesel::joinable!(video_consultations -> video_sessions (session_id));
diesel::joinable!(video_log -> video_sessions (session_id));

diesel::table! {
    duty_shifts (id) {
        id -> BigInt,
        tkc_id -> BigInt,
        profile_code -> Text,
        kind -> Text,
        starts_at -> Timestamp,
        ends_at -> Timestamp,
        primary_user_id -> BigInt,
        backup_user_ids -> Text,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    duty_absences (id) {
        id -> BigInt,
        user_id -> BigInt,
        kind -> Text,
        from_date -> Date,
        to_date -> Date,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    calendar_days (day) {
        day -> Date,
        kind -> Text,
        source -> Text,
    }
}

diesel::table! {
    duty_calls (id) {
        id -> BigInt,
        consultation_id -> BigInt,
        shift_id -> Nullable<BigInt>,
        step -> Integer,
        user_id -> Nullable<BigInt>,
        called_at -> Timestamp,
        due_at -> Timestamp,
        acked_at -> Nullable<Timestamp>,
        acked_by -> Nullable<BigInt>,
        passed_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(duty_shifts -> organizations (tkc_id));
diesel::joinable!(duty_absences -> users (user_id));
diesel::joinable!(duty_calls -> consultations (consultation_id));

diesel::allow_tables_to_appear_in_same_query!(
    organizations,
    users,
    memberships,
    user_profiles,
    api_tokens,
    profiles,
    purposes,
    icd10,
    deadline_policies,
    routes,
    consultations,
    consultation_consultants,
    consultation_events,
    messages,
    conclusions,
    notifications,
    audit_log,
    settings,
    deadline_alerts,
    mail_digests,
    jobs,
    attachments,
    uploads,
    documents,
    document_snapshots,
    document_signatures,
    semd_documents,
    video_sessions,
    video_participants,
    video_consultations,
    video_log,
    bus_payloads,
    fhir_subscriptions,
    fhir_changes,
    escalations,
    video_peers,
    calendar_tokens,
    login_attempts,
    totp_steps,
    duty_shifts,
    duty_absences,
    calendar_days,
    duty_calls,
);
