//! Rows as stored. Times are UTC `NaiveDateTime` (the portable `Timestamp` type).

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::schema::*;

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = organizations)]
pub struct Organization {
    pub id: i64,
    pub name: String,
    pub short_name: String,
    pub kind: String,
    pub level: Option<i32>,
    pub frmo_oid: Option<String>,
    pub time_zone: String,
    pub requires_head_approval: bool,
    pub active: bool,
    pub created_at: NaiveDateTime,
    /// Postal address as text (printed on documents; the СЭМД needs it).
    pub address: String,
    pub phone: String,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = organizations)]
pub struct NewOrganization<'a> {
    pub name: &'a str,
    pub short_name: &'a str,
    pub kind: &'a str,
    pub level: Option<i32>,
    pub frmo_oid: Option<&'a str>,
    pub time_zone: &'a str,
    pub requires_head_approval: bool,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub address: &'a str,
    pub phone: &'a str,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: i64,
    pub login: String,
    pub password_hash: String,
    pub last_name: String,
    pub first_name: String,
    pub middle_name: String,
    pub position: String,
    pub phone: String,
    pub email: String,
    pub locale: String,
    pub active: bool,
    pub must_change_password: bool,
    pub created_at: NaiveDateTime,
    pub failed_logins: i32,
    pub locked_until: Option<NaiveDateTime>,
    pub totp_secret: Option<String>,
    pub totp_enabled: bool,
    pub email_mode: String,
    /// Kinds of notification that go by e-mail, comma-separated, or `*`.
    pub email_kinds: String,
    /// СНИЛС, 11 digits: a signer of a СЭМД is named by it.
    pub snils: Option<String>,
    /// Position code (НСИ 1.2.643.5.1.13.13.11.1002); `position` is its name.
    pub position_code: Option<String>,
}

impl User {
    /// «Иванов Иван Иванович»
    pub fn full_name(&self) -> String {
        [&self.last_name, &self.first_name, &self.middle_name]
            .iter()
            .filter(|s| !s.is_empty())
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// «Иванов И. И.»
    pub fn short_name(&self) -> String {
        let mut s = self.last_name.clone();
        for part in [&self.first_name, &self.middle_name] {
            if let Some(c) = part.chars().next() {
                s.push(' ');
                s.push(c);
                s.push('.');
            }
        }
        s
    }
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub login: &'a str,
    pub password_hash: &'a str,
    pub last_name: &'a str,
    pub first_name: &'a str,
    pub middle_name: &'a str,
    pub position: &'a str,
    pub phone: &'a str,
    pub email: &'a str,
    pub locale: &'a str,
    pub active: bool,
    pub must_change_password: bool,
    pub created_at: NaiveDateTime,
    pub snils: Option<&'a str>,
    pub position_code: Option<&'a str>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = memberships)]
pub struct Membership {
    pub id: i64,
    pub user_id: i64,
    pub organization_id: i64,
    pub role: String,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = profiles)]
pub struct Profile {
    pub code: String,
    pub v002_code: Option<i32>,
    pub name_ru: String,
    pub name_en: String,
    pub hint_ru: String,
    pub hint_en: String,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = purposes)]
pub struct Purpose {
    pub code: String,
    pub iemk_code: i32,
    pub name_ru: String,
    pub name_en: String,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = icd10)]
pub struct Icd10 {
    pub code: String,
    pub name: String,
    pub parent_code: Option<String>,
    pub search: String,
    pub actual: bool,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = routes)]
pub struct Route {
    pub id: i64,
    pub profile_code: String,
    pub form_of_care: String,
    pub tkc_id: i64,
    pub consultant_id: Option<i64>,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = consultations, check_for_backend(crate::conn::MultiBackend))]
pub struct Consultation {
    pub id: i64,
    pub status: String,
    pub requesting_org_id: i64,
    pub requester_id: i64,
    pub assigned_tkc_id: Option<i64>,
    pub form_of_care: Option<String>,
    pub mode: Option<String>,
    pub profile: Option<String>,
    pub purpose: Option<String>,
    pub patient_name: String,
    #[diesel(deserialize_as = crate::stamp::MaybeDay)]
    pub patient_birth_date: Option<NaiveDate>,
    pub patient_snils: Option<String>,
    pub patient_oms: Option<String>,
    pub diagnosis_main: Option<String>,
    pub search_text: String,
    pub clinical: String,
    #[diesel(deserialize_as = crate::stamp::Stamp)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = crate::stamp::Stamp)]
    pub updated_at: NaiveDateTime,
    #[diesel(deserialize_as = crate::stamp::MaybeStamp)]
    pub submitted_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = crate::stamp::MaybeStamp)]
    pub deadline_at: Option<NaiveDateTime>,
    pub budget_seconds: i64,
    #[diesel(deserialize_as = crate::stamp::MaybeStamp)]
    pub paused_at: Option<NaiveDateTime>,
    pub paused_seconds: i64,
    #[diesel(deserialize_as = crate::stamp::MaybeStamp)]
    pub closed_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = crate::stamp::MaybeStamp)]
    pub scheduled_start: Option<NaiveDateTime>,
    pub scheduled_minutes: Option<i32>,
    pub closeout_useful: Option<bool>,
    pub closeout_effect: Option<String>,
    pub version: i32,
    pub unsaved_input: String,
}

/// Everything about a consultation that changes after creation. Written whole,
/// guarded by `version` (optimistic locking).
#[derive(Debug, Clone, AsChangeset, Insertable)]
#[diesel(table_name = consultations, treat_none_as_null = true)]
pub struct ConsultationWrite {
    pub status: String,
    pub requesting_org_id: i64,
    pub requester_id: i64,
    pub assigned_tkc_id: Option<i64>,
    pub form_of_care: Option<String>,
    pub mode: Option<String>,
    pub profile: Option<String>,
    pub purpose: Option<String>,
    pub patient_name: String,
    pub patient_birth_date: Option<NaiveDate>,
    pub patient_snils: Option<String>,
    pub patient_oms: Option<String>,
    pub diagnosis_main: Option<String>,
    pub search_text: String,
    pub clinical: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub submitted_at: Option<NaiveDateTime>,
    pub deadline_at: Option<NaiveDateTime>,
    pub budget_seconds: i64,
    pub paused_at: Option<NaiveDateTime>,
    pub paused_seconds: i64,
    pub closed_at: Option<NaiveDateTime>,
    pub scheduled_start: Option<NaiveDateTime>,
    pub scheduled_minutes: Option<i32>,
    pub closeout_useful: Option<bool>,
    pub closeout_effect: Option<String>,
    pub version: i32,
    pub unsaved_input: String,
}

impl Consultation {
    pub fn to_write(&self) -> ConsultationWrite {
        ConsultationWrite {
            status: self.status.clone(),
            requesting_org_id: self.requesting_org_id,
            requester_id: self.requester_id,
            assigned_tkc_id: self.assigned_tkc_id,
            form_of_care: self.form_of_care.clone(),
            mode: self.mode.clone(),
            profile: self.profile.clone(),
            purpose: self.purpose.clone(),
            patient_name: self.patient_name.clone(),
            patient_birth_date: self.patient_birth_date,
            patient_snils: self.patient_snils.clone(),
            patient_oms: self.patient_oms.clone(),
            diagnosis_main: self.diagnosis_main.clone(),
            search_text: self.search_text.clone(),
            clinical: self.clinical.clone(),
            created_at: self.created_at,
            updated_at: self.updated_at,
            submitted_at: self.submitted_at,
            deadline_at: self.deadline_at,
            budget_seconds: self.budget_seconds,
            paused_at: self.paused_at,
            paused_seconds: self.paused_seconds,
            closed_at: self.closed_at,
            scheduled_start: self.scheduled_start,
            scheduled_minutes: self.scheduled_minutes,
            closeout_useful: self.closeout_useful,
            closeout_effect: self.closeout_effect.clone(),
            version: self.version,
            unsaved_input: self.unsaved_input.clone(),
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = consultation_consultants)]
pub struct AssignedConsultant {
    pub consultation_id: i64,
    pub user_id: i64,
    pub assigned_at: NaiveDateTime,
    pub signed_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = consultation_events)]
pub struct Event {
    pub id: i64,
    pub consultation_id: i64,
    pub at: NaiveDateTime,
    pub actor_user_id: Option<i64>,
    pub actor_org_id: Option<i64>,
    pub actor_role: Option<String>,
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub comment: String,
    pub reason_code: Option<String>,
    pub details: String,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = consultation_events, treat_none_as_null = true)]
pub struct NewEvent {
    pub consultation_id: i64,
    pub at: NaiveDateTime,
    pub actor_user_id: Option<i64>,
    pub actor_org_id: Option<i64>,
    pub actor_role: Option<String>,
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub comment: String,
    pub reason_code: Option<String>,
    pub details: String,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = messages)]
pub struct Message {
    pub id: i64,
    pub consultation_id: i64,
    pub author_id: i64,
    pub author_role: String,
    pub kind: String,
    pub body: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = conclusions)]
pub struct Conclusion {
    pub id: i64,
    pub consultation_id: i64,
    pub version: i32,
    pub supersedes_id: Option<i64>,
    pub author_id: i64,
    pub diagnosis_main: String,
    pub diagnosis_text: String,
    pub findings: String,
    pub recommendations: String,
    pub transfer: String,
    pub follow_up_needed: bool,
    pub follow_up: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub signed_at: Option<NaiveDateTime>,
    pub content_hash: Option<String>,
    /// The patient's condition (НСИ 1.2.643.5.1.13.13.11.1006 code).
    pub patient_condition: Option<String>,
}

/// The consultant's text of a conclusion.
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = conclusions)]
pub struct ConclusionContent {
    pub author_id: i64,
    pub diagnosis_main: String,
    pub diagnosis_text: String,
    pub findings: String,
    pub recommendations: String,
    pub transfer: String,
    pub follow_up_needed: bool,
    pub follow_up: String,
    pub patient_condition: Option<String>,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = notifications)]
pub struct Notification {
    pub id: i64,
    pub user_id: i64,
    pub consultation_id: i64,
    pub kind: String,
    pub created_at: NaiveDateTime,
    pub read_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = api_tokens)]
pub struct Token {
    pub id: i64,
    pub user_id: i64,
    pub token_hash: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
    pub kind: String,
    pub last_seen_at: Option<NaiveDateTime>,
    pub name: String,
    pub scopes: String,
    pub ip: String,
    pub user_agent: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_log)]
// A missing user or organization is bound as NULL rather than written as
// DEFAULT: the statement's text is then the same for every entry, so
// PostgreSQL keeps it prepared instead of parsing it for each read audited.
#[diesel(treat_none_as_default_value = false)]
pub struct AuditRow {
    pub id: i64,
    pub at: NaiveDateTime,
    pub user_id: Option<i64>,
    pub login: String,
    pub org_id: Option<i64>,
    pub role: String,
    pub ip: String,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    pub details: String,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Debug, Clone, Queryable, Selectable, QueryableByName)]
#[diesel(table_name = jobs)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub payload: String,
    pub run_at: NaiveDateTime,
    pub attempts: i32,
    pub max_attempts: i32,
    pub locked_by: Option<String>,
    pub locked_until: Option<NaiveDateTime>,
    pub last_error: String,
    pub done_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = attachments)]
pub struct Attachment {
    pub id: i64,
    pub consultation_id: i64,
    pub message_id: Option<i64>,
    pub uploaded_by: i64,
    pub file_name: String,
    pub kind: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub storage_key: String,
    pub scan: String,
    pub details: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = attachments, treat_none_as_null = true)]
pub struct NewAttachment {
    pub consultation_id: i64,
    pub message_id: Option<i64>,
    pub uploaded_by: i64,
    pub file_name: String,
    pub kind: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub storage_key: String,
    pub scan: String,
    pub details: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = uploads)]
pub struct Upload {
    pub id: String,
    pub consultation_id: i64,
    pub message_id: Option<i64>,
    pub user_id: i64,
    pub file_name: String,
    pub length: i64,
    pub sha256: Option<String>,
    pub kind: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = documents)]
pub struct Document {
    pub id: i64,
    pub consultation_id: i64,
    pub conclusion_id: i64,
    pub version: i32,
    pub storage_key: String,
    pub pdf_sha256: String,
    pub content: String,
    pub seal: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = documents)]
pub struct NewDocument {
    pub consultation_id: i64,
    pub conclusion_id: i64,
    pub version: i32,
    pub storage_key: String,
    pub pdf_sha256: String,
    pub content: String,
    pub seal: String,
    pub created_at: NaiveDateTime,
}
