DROP TABLE conclusions, messages, consultation_events, consultation_consultants, consultations,
    routes, deadline_policies, icd10, purposes, api_tokens, user_profiles, profiles, memberships,
    users, organizations;
DROP FUNCTION rtms_refuse_change();
