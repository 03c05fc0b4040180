//! What the API returns: the public shape of a consultation and its parts.
//! These types are the JSON contract (and the OpenAPI schemas).

use chrono::{DateTime, NaiveDate, Utc};
use rtms_domain::request::ClinicalData;
use rtms_domain::{Action, FormOfCare, Role, Status};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrgRef {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub time_zone: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserRef {
    pub id: i64,
    /// «Иванов И. И.»
    pub name: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConsultantRef {
    pub id: i64,
    pub name: String,
    pub signed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MembershipView {
    pub role: Role,
    pub organization: OrgRef,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserView {
    pub id: i64,
    pub login: String,
    pub last_name: String,
    pub first_name: String,
    pub middle_name: String,
    pub position: String,
    pub locale: String,
    pub must_change_password: bool,
    pub roles: Vec<MembershipView>,
}

/// One consultation request, whole.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConsultationView {
    pub id: i64,
    pub status: Status,
    /// The status in the caller's language.
    pub status_label: String,
    #[serde(flatten)]
    pub data: ClinicalData,
    pub requesting_organization: OrgRef,
    pub requester: UserRef,
    pub assigned_tkc: Option<OrgRef>,
    pub consultants: Vec<ConsultantRef>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub submitted_at: Option<DateTime<Utc>>,
    /// When the answer is due (pauses for revision included).
    pub deadline: Option<DateTime<Utc>>,
    pub overdue: bool,
    /// Seconds left until the deadline; negative when overdue.
    pub remaining_seconds: Option<i64>,
    /// The time allowed for this form of care, in seconds.
    pub budget_seconds: Option<i64>,
    /// The clock is paused while the request is returned for revision.
    pub deadline_paused: bool,
    pub scheduled_start: Option<DateTime<Utc>>,
    pub scheduled_minutes: Option<i32>,
    /// What the caller may do now.
    pub available_actions: Vec<Action>,
    /// For optimistic locking by clients that want it.
    pub version: i32,
}

/// A line of a list or queue.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConsultationSummary {
    pub id: i64,
    pub status: Status,
    pub status_label: String,
    pub form_of_care: Option<FormOfCare>,
    pub profile: Option<String>,
    pub patient_name: String,
    pub patient_birth_date: Option<NaiveDate>,
    pub diagnosis_main: Option<String>,
    pub requesting_organization: OrgRef,
    pub assigned_tkc: Option<OrgRef>,
    #[serde(serialize_with = "rfc3339::serialize")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "rfc3339::option::serialize")]
    pub deadline: Option<DateTime<Utc>>,
    pub overdue: bool,
    pub remaining_seconds: Option<i64>,
    pub budget_seconds: Option<i64>,
    pub deadline_paused: bool,
    /// Awaited from the caller: their next step is due.
    pub awaits_me: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConsultationPage {
    pub items: Vec<ConsultationSummary>,
    /// How many requests match. The open ones are always counted exactly;
    /// when `total_exact` is false, more than 1,000 closed ones matched and
    /// counting stopped at 1,001 of them.
    pub total: i64,
    pub total_exact: bool,
    pub page: i64,
    pub per_page: i64,
}

/// One entry of the case timeline.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventView {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub action: String,
    pub action_label: String,
    /// Where an assignment went: the centre and consultants.
    pub target: Option<String>,
    pub from_status: Option<Status>,
    pub to_status: Status,
    pub actor: Option<UserRef>,
    pub actor_organization: Option<OrgRef>,
    pub actor_role: Option<Role>,
    pub comment: String,
    pub reason_code: Option<String>,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MessageView {
    pub id: i64,
    /// `question` (consultant to doctor) or `answer`.
    pub kind: String,
    pub author: UserRef,
    pub author_role: Role,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConclusionView {
    pub id: i64,
    pub version: i32,
    pub supersedes_id: Option<i64>,
    pub author: UserRef,
    pub diagnosis_main: String,
    pub diagnosis_main_name: Option<String>,
    pub diagnosis_text: String,
    pub findings: String,
    pub recommendations: String,
    pub transfer: String,
    pub follow_up_needed: bool,
    pub follow_up: String,
    /// The patient's condition (НСИ 1.2.643.5.1.13.13.11.1006 code).
    pub patient_condition: Option<String>,
    pub updated_at: DateTime<Utc>,
    pub signed_at: Option<DateTime<Utc>>,
    /// SHA-256 of the signed content.
    pub content_hash: Option<String>,
    pub signatures: Vec<ConsultantRef>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConsultantView {
    pub id: i64,
    pub name: String,
    pub organization: OrgRef,
    pub profiles: Vec<String>,
    /// Open consultations assigned to this consultant now.
    pub open_consultations: i64,
    /// On a duty shift now (as primary or backup).
    #[serde(default)]
    pub on_duty: bool,
    /// On leave or sick leave today (`directory::duty`).
    #[serde(default)]
    pub absent: bool,
    /// The one to suggest: the least loaded of those not absent.
    #[serde(default)]
    pub suggested: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Icd10View {
    pub code: String,
    pub name: String,
    pub parent_code: Option<String>,
    pub actual: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProfileView {
    pub code: String,
    pub name: String,
    /// What a good request for this profile includes.
    pub hint: String,
    pub v002_code: Option<i32>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PurposeView {
    pub code: String,
    pub iemk_code: i32,
    pub name: String,
}

/// Dates and times written out as chrono writes them (RFC 3339 in UTC with
/// `Z`, and a fraction of 3, 6 or 9 digits only when there is one), without
/// going through `Display` and `collect_str`: a list of 50 requests wrote 100
/// of them at about 3,500 instructions each.
pub mod rfc3339 {
    use chrono::{DateTime, Datelike, Timelike, Utc};
    use serde::Serializer;

    /// The text of `t`, or `None` where chrono's own writer is needed (years
    /// outside 0–9999, leap seconds).
    fn format(t: &DateTime<Utc>, buf: &mut [u8; 30]) -> Option<usize> {
        let (year, nanos) = (t.year(), t.nanosecond());
        if !(0..=9999).contains(&year) || nanos >= 1_000_000_000 {
            return None;
        }
        let mut put = |at: usize, value: u32, digits: usize| {
            let mut v = value;
            for i in (0..digits).rev() {
                buf[at + i] = b'0' + (v % 10) as u8;
                v /= 10;
            }
        };
        put(0, year as u32, 4);
        put(5, t.month(), 2);
        put(8, t.day(), 2);
        put(11, t.hour(), 2);
        put(14, t.minute(), 2);
        put(17, t.second(), 2);
        let digits = match nanos {
            0 => 0,
            n if n % 1_000_000 == 0 => 3,
            n if n % 1_000 == 0 => 6,
            _ => 9,
        };
        if digits > 0 {
            put(20, nanos / 10u32.pow(9 - digits as u32), digits);
        }
        buf[4] = b'-';
        buf[7] = b'-';
        buf[10] = b'T';
        buf[13] = b':';
        buf[16] = b':';
        buf[19] = b'.';
        let end = if digits > 0 { 20 + digits } else { 19 };
        buf[end] = b'Z';
        Some(end + 1)
    }

    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        let mut buf = [0u8; 30];
        match format(t, &mut buf) {
            // Only ASCII digits and separators were written.
            Some(n) => s.serialize_str(std::str::from_utf8(&buf[..n]).unwrap_or_default()),
            None => serde::Serialize::serialize(t, s),
        }
    }

    pub mod option {
        use chrono::{DateTime, Utc};
        use serde::Serializer;

        pub fn serialize<S: Serializer>(
            t: &Option<DateTime<Utc>>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match t {
                Some(t) => super::serialize(t, s),
                None => s.serialize_none(),
            }
        }
    }

    #[cfg(test)]
    mod tests {
        use chrono::{DateTime, TimeZone, Utc};

        fn ours(t: &DateTime<Utc>) -> String {
            let mut out = Vec::new();
            super::serialize(t, &mut serde_json::Serializer::new(&mut out)).unwrap();
            String::from_utf8(out).unwrap()
        }

        #[test]
        fn writes_what_chrono_writes() {
            let base = Utc.with_ymd_and_hms(2026, 11, 29, 9, 6, 14).unwrap();
            for nanos in [
                0,
                500_000_000,
                123_000_000,
                123_456_000,
                380_903_216,
                1,
                999_999_999,
            ] {
                let t = base + chrono::Duration::nanoseconds(nanos);
                assert_eq!(ours(&t), serde_json::to_string(&t).unwrap(), "{nanos}");
            }
            for t in [
                Utc.with_ymd_and_hms(1, 1, 1, 0, 0, 0).unwrap(),
                Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap(),
                Utc.with_ymd_and_hms(-5, 3, 1, 0, 0, 0).unwrap(),
                Utc.with_ymd_and_hms(12345, 3, 1, 0, 0, 0).unwrap(),
            ] {
                assert_eq!(ours(&t), serde_json::to_string(&t).unwrap(), "{t:?}");
            }
        }
    }
}
