//! The consultation request: create, edit, act on, read, list, discuss, conclude.

use rtms_i18n::Label;
use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use rtms_domain::lifecycle::{self, ClockEffect, GuardContext, TransitionError};
use rtms_domain::request::{ClinicalData, ConsultationPatch};
use rtms_domain::{
    Action, DeadlineClock, DeadlinePolicy, FieldError, FormOfCare, Lang, OrgKind, Role, Status,
};
use rtms_store::models::{
    AssignedConsultant, ConclusionContent, Consultation, ConsultationWrite, NewEvent, Organization,
};
use rtms_store::repo::{self, ConsultationFilter};
use rtms_store::{reference, DbConn};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::lifecycle::duty_calls;
use crate::lifecycle::notifications;
use crate::lifecycle::views::*;
use crate::platform::live::LiveEvent;
use crate::{Actor, ServiceError, Services};

type SResult<T> = Result<T, ServiceError>;

/// Why a dispatcher rejects a request.
pub const REJECT_REASONS: &[&str] = &[
    "not_telemedicine_case",
    "duplicate",
    "wrong_profile",
    "insufficient_data",
    "needs_in_person_care",
    "other",
];
/// Why a request goes to the federal level.
pub const ESCALATE_REASONS: &[&str] = &["no_specialist", "insufficient_qualification", "other"];
/// What the conclusion changed, as the requesting doctor says at close-out.
pub const CLOSEOUT_EFFECTS: &[&str] = &[
    "treatment_adjusted",
    "transfer_avoided",
    "transfer_arranged",
    "in_person_visit_needed",
    "no_change",
];

/// The parameters of an action; each action reads the ones it needs.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionParams {
    /// `return`, `decline`, `send_back`, `record_federal_conclusion`: required; others: optional.
    pub comment: Option<String>,
    /// `reject`: one of the reject reasons; `escalate`: one of the escalation reasons.
    pub reason_code: Option<String>,
    /// `assign`: a consultation centre.
    pub tkc_id: Option<i64>,
    /// `assign`: one consultant.
    pub consultant_id: Option<i64>,
    /// `assign`: a consilium, the first is the lead.
    pub consultant_ids: Option<Vec<i64>>,
    /// `schedule`: start of the video session (RFC 3339).
    pub starts_at: Option<DateTime<Utc>>,
    /// `schedule`: duration in minutes (default 30).
    pub duration_minutes: Option<i32>,
    /// `acknowledge`: was the answer useful.
    pub useful: Option<bool>,
    /// `acknowledge`: what it changed.
    pub effect: Option<String>,
}

/// The consultant's conclusion, as written.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConclusionInput {
    /// МКБ-10 code of the consultant's diagnosis.
    pub diagnosis_main: String,
    #[serde(default)]
    pub diagnosis_text: String,
    /// Not blank; at most 50,000 characters.
    #[schema(pattern = "\\S", max_length = 50000)]
    pub findings: String,
    /// Not blank; at most 50,000 characters.
    #[schema(pattern = "\\S", max_length = 50000)]
    pub recommendations: String,
    /// Transfer or hospitalization recommended, and where.
    #[serde(default)]
    pub transfer: String,
    #[serde(default)]
    pub follow_up_needed: bool,
    #[serde(default)]
    pub follow_up: String,
    /// The patient's condition, НСИ 1.2.643.5.1.13.13.11.1006 code: `1`
    /// удовлетворительное, `2` средней тяжести, `3` тяжелое, `4` крайне
    /// тяжелое, `5` клиническая смерть, `6` терминальное. The СЭМД needs it.
    #[serde(default)]
    pub patient_condition: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// One status or several separated by commas; `open` for every open state.
    #[param(
        pattern = "^(open|(draft|awaiting_approval|submitted|in_review|returned|rejected|assigned|accepted|scheduled|in_progress|completed|closed|cancelled|escalated)(,(draft|awaiting_approval|submitted|in_review|returned|rejected|assigned|accepted|scheduled|in_progress|completed|closed|cancelled|escalated))*)?$"
    )]
    pub status: Option<String>,
    /// `planned`, `urgent` or `emergency`; empty: any.
    #[param(pattern = "^(planned|urgent|emergency)?$")]
    pub form_of_care: Option<String>,
    pub profile: Option<String>,
    /// Requesting organization id.
    pub organization: Option<i64>,
    /// Assigned consultation centre id.
    pub tkc: Option<i64>,
    pub overdue: Option<bool>,
    /// Patient name words, СНИЛС or полис digits.
    pub q: Option<String>,
    /// From 1.
    pub page: Option<i64>,
    /// Default 50, at most 200.
    pub per_page: Option<i64>,
}

fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

fn org_ref(o: &Organization) -> OrgRef {
    OrgRef {
        id: o.id,
        name: o.short_name.clone(),
        kind: o.kind.clone(),
        time_zone: o.time_zone.clone(),
    }
}

pub(crate) fn status_of(c: &Consultation) -> Status {
    Status::parse(&c.status).unwrap_or(Status::Draft)
}

fn clock_of(c: &Consultation) -> Option<DeadlineClock> {
    c.submitted_at.map(|s| DeadlineClock {
        started_at: utc(s),
        budget_seconds: c.budget_seconds,
        paused_seconds: c.paused_seconds,
        paused_at: c.paused_at.map(utc),
    })
}

/// (overdue, remaining seconds) at `now`.
fn deadline_state(c: &Consultation, now: DateTime<Utc>) -> (bool, Option<i64>) {
    match clock_of(c) {
        Some(clock) if status_of(c).is_open() => (
            clock.is_overdue(now),
            Some(clock.remaining(now).num_seconds()),
        ),
        _ => (false, None),
    }
}

fn clinical_of(c: &Consultation) -> ClinicalData {
    serde_json::from_str(&c.clinical).unwrap_or_default()
}

/// A new draft of `requester` at `org`, created at `at`, before its clinical
/// data is stored.
pub(crate) fn draft_row(org: i64, requester: i64, at: NaiveDateTime) -> ConsultationWrite {
    ConsultationWrite {
        status: Status::Draft.as_str().into(),
        requesting_org_id: org,
        requester_id: requester,
        assigned_tkc_id: None,
        form_of_care: None,
        mode: None,
        profile: None,
        purpose: None,
        patient_name: String::new(),
        patient_birth_date: None,
        patient_snils: None,
        patient_oms: None,
        diagnosis_main: None,
        search_text: String::new(),
        clinical: String::new(),
        created_at: at,
        updated_at: at,
        submitted_at: None,
        deadline_at: None,
        budget_seconds: 0,
        paused_at: None,
        paused_seconds: 0,
        closed_at: None,
        scheduled_start: None,
        scheduled_minutes: None,
        closeout_useful: None,
        closeout_effect: None,
        version: 0,
        unsaved_input: "{}".into(),
    }
}

/// Writes the clinical data and the columns derived from it for queries.
pub(crate) fn store_clinical(row: &mut ConsultationWrite, data: &ClinicalData) {
    let p = &data.patient;
    row.form_of_care = data.form_of_care.map(|f| f.as_str().to_string());
    row.mode = data.mode.map(|m| m.as_str().to_string());
    row.profile = data.profile.clone();
    row.purpose = data.purpose.clone();
    row.patient_name = [&p.last_name, &p.first_name, &p.middle_name]
        .iter()
        .filter(|s| !s.is_empty())
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    row.patient_birth_date = p.birth_date;
    row.patient_snils = p.snils.clone();
    row.patient_oms = p.oms_policy.clone();
    row.diagnosis_main = data.diagnosis.main.clone();
    row.search_text = format!(
        "{} {} {}",
        searchable(&row.patient_name),
        p.snils.as_deref().unwrap_or(""),
        p.oms_policy.as_deref().unwrap_or("")
    );
    row.clinical = serde_json::to_string(data).unwrap_or_else(|_| "{}".into());
}

/// Text as the search index holds it: lower case, `ё` as `е` (people type
/// Федоров for Фёдоров).
fn searchable(text: &str) -> String {
    text.to_lowercase().replace('ё', "е")
}

/// Reference data read whole at most every [`KEPT_FOR`]: organizations and
/// medical profiles. A page of fifty requests names a few dozen
/// organizations, and the queue page lists every organization and profile in
/// its filters; reading them each time was a quarter of the page's cost.
/// Editing an organization clears it here; another instance (or a reference
/// load by `rtms admin`) is seen within the interval.
pub struct Kept<T> {
    read: std::sync::Mutex<Option<(std::time::Instant, Arc<T>)>>,
}

impl<T> Default for Kept<T> {
    fn default() -> Self {
        Kept {
            read: std::sync::Mutex::new(None),
        }
    }
}

pub const KEPT_FOR: std::time::Duration = std::time::Duration::from_secs(30);

impl<T> Kept<T> {
    fn get(&self, load: impl FnOnce() -> SResult<T>) -> SResult<Arc<T>> {
        if let Some((at, kept)) = self.read.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            if at.elapsed() < KEPT_FOR {
                return Ok(kept.clone());
            }
        }
        let kept = Arc::new(load()?);
        *self.read.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((std::time::Instant::now(), kept.clone()));
        Ok(kept)
    }

    pub fn clear(&self) {
        *self.read.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

/// Every organization: by id, and in the order of their full names.
pub struct Orgs {
    by_id: HashMap<i64, OrgRef>,
    by_name: Vec<OrgRef>,
}

impl Orgs {
    fn read(conn: &mut DbConn) -> SResult<Orgs> {
        let by_name: Vec<OrgRef> = repo::organizations(conn, None)?
            .iter()
            .map(org_ref)
            .collect();
        let by_id = by_name.iter().map(|o| (o.id, o.clone())).collect();
        Ok(Orgs { by_id, by_name })
    }
}

/// Today as the latest time zone of Russia sees it, so a birth today is never "in the future".
fn today(now: DateTime<Utc>) -> NaiveDate {
    (now + Duration::hours(12)).date_naive()
}

/// A write transaction whose body fails with service errors.
fn write_tx<T>(svc: &Services, f: impl FnOnce(&mut DbConn) -> SResult<T>) -> SResult<T> {
    svc.db.write(f)
}

impl Services {
    fn policy(&self, conn: &mut DbConn) -> SResult<DeadlinePolicy> {
        let mut p = DeadlinePolicy::default();
        for (form, minutes) in repo::deadline_minutes(conn)? {
            match FormOfCare::parse(&form) {
                Some(FormOfCare::Emergency) => p.emergency_minutes = minutes,
                Some(FormOfCare::Urgent) => p.urgent_minutes = minutes,
                Some(FormOfCare::Planned) => p.planned_minutes = minutes,
                None => {}
            }
        }
        Ok(p)
    }

    /// Checks the values that need the reference tables: МКБ-10 codes, profile, purpose.
    fn check_reference(&self, conn: &mut DbConn, data: &ClinicalData) -> SResult<Vec<FieldError>> {
        let mut errors = Vec::new();
        let codes = data.icd10_codes();
        let unknown = reference::unknown_icd10(
            conn,
            &codes.iter().map(|(_, c)| c.clone()).collect::<Vec<_>>(),
        )?;
        for (field, code) in codes {
            if unknown.contains(&code) {
                errors.push(FieldError::new(field, "icd10_unknown"));
            }
        }
        if let Some(p) = &data.profile {
            if reference::profile(conn, p)?.is_none() {
                errors.push(FieldError::new("profile", "unknown_profile"));
            }
        }
        if let Some(p) = &data.purpose {
            if reference::purpose(conn, p)?.is_none() {
                errors.push(FieldError::new("purpose", "unknown_value"));
            }
        }
        Ok(errors)
    }

    pub(crate) fn visible(
        &self,
        conn: &mut DbConn,
        actor: &Actor,
        id: i64,
    ) -> SResult<Consultation> {
        if !repo::is_visible(conn, &actor.visibility(), id)? {
            return Err(ServiceError::NotFound);
        }
        Ok(repo::consultation(conn, id)?)
    }

    /// The roles the actor holds on this particular request.
    pub(crate) fn roles_on(
        &self,
        actor: &Actor,
        c: &Consultation,
        consultants: &[AssignedConsultant],
        action: Option<Action>,
    ) -> Vec<Role> {
        let own_only = matches!(
            action,
            Some(Action::Submit | Action::Resubmit | Action::Cancel)
        );
        let mut roles = Vec::new();
        for r in &actor.roles {
            let applies = match r.role {
                Role::Doctor => {
                    r.org.id == c.requesting_org_id
                        && (!own_only || c.requester_id == actor.user.id)
                }
                Role::Head => r.org.id == c.requesting_org_id,
                Role::Dispatcher => actor.is_dispatcher(),
                Role::Coordinator => Some(r.org.id) == c.assigned_tkc_id,
                Role::Consultant => consultants.iter().any(|a| a.user_id == actor.user.id),
                Role::Admin | Role::Analyst | Role::Auditor => false,
            };
            if applies && !roles.contains(&r.role) {
                roles.push(r.role);
            }
        }
        roles
    }

    pub(crate) fn guard_context(
        &self,
        conn: &mut DbConn,
        c: &Consultation,
        consultants: &[AssignedConsultant],
    ) -> SResult<GuardContext> {
        let org = repo::organization(conn, c.requesting_org_id)?;
        let form = c
            .form_of_care
            .as_deref()
            .and_then(FormOfCare::parse)
            .unwrap_or(FormOfCare::Planned);
        // An emergency (an urgent request too, where the region says so) goes
        // straight to a centre when the route table names one, or when some
        // centre's duty roster has someone on duty now.
        let urgent_routed = form == FormOfCare::Urgent
            && repo::setting(conn, crate::directory::duty::AUTO_URGENT_SETTING)?.as_deref()
                == Some("true");
        let route_found = match (&c.profile, form) {
            (Some(p), FormOfCare::Emergency | FormOfCare::Urgent)
                if form == FormOfCare::Emergency || urgent_routed =>
            {
                repo::route(conn, p, form.as_str())?
                    .is_some_and(|r| r.consultant_id.is_some() || form == FormOfCare::Emergency)
                    || duty_calls::on_duty_for(conn, None, p, self.clock.now().naive_utc())?
                        .is_some()
            }
            _ => false,
        };
        Ok(GuardContext {
            form,
            requires_head_approval: org.requires_head_approval,
            route_found,
            urgent_routed,
            unsigned_members: consultants.iter().filter(|a| a.signed_at.is_none()).count(),
        })
    }

    /// Creates a draft in the caller's organization (as a requesting doctor).
    pub fn create_consultation(&self, actor: &Actor, patch: &ConsultationPatch) -> SResult<i64> {
        self.create_consultation_as(actor, patch, None)
    }

    /// Creates a draft that carries the sender's business identifier
    /// (`system|value`), in the same transaction: a crash leaves neither or
    /// both. An identifier another request holds already answers
    /// `Concurrent` and keeps nothing.
    pub fn create_consultation_as(
        &self,
        actor: &Actor,
        patch: &ConsultationPatch,
        external_id: Option<&str>,
    ) -> SResult<i64> {
        let org = actor
            .org_for(Role::Doctor)
            .ok_or(ServiceError::Forbidden)?
            .clone();
        let now = self.clock.now();
        let mut data = ClinicalData::default();
        data.apply(patch, today(now))
            .map_err(ServiceError::Invalid)?;
        if data.contact_phone.is_empty() && !actor.user.phone.is_empty() {
            data.contact_phone = actor.user.phone.clone();
        }
        write_tx(self, |conn| {
            let errors = self.check_reference(conn, &data)?;
            if !errors.is_empty() {
                return Err(ServiceError::Invalid(errors));
            }
            let mut row = draft_row(org.id, actor.user.id, now.naive_utc());
            store_clinical(&mut row, &data);
            let id = repo::insert_consultation(conn, &row)?;
            if let Some(ext) = external_id {
                if repo::consultation_by_external_id(conn, ext)?.is_some()
                    || !repo::set_external_id(conn, id, ext)?
                {
                    return Err(ServiceError::Concurrent);
                }
            }
            repo::append_event(
                conn,
                &NewEvent {
                    consultation_id: id,
                    at: now.naive_utc(),
                    actor_user_id: Some(actor.user.id),
                    actor_org_id: Some(org.id),
                    actor_role: Some(Role::Doctor.as_str().into()),
                    action: "create".into(),
                    from_status: None,
                    to_status: Status::Draft.as_str().into(),
                    comment: String::new(),
                    reason_code: None,
                    details: "{}".into(),
                },
            )?;
            self.audit_in(
                conn,
                actor,
                Some(Role::Doctor),
                "create",
                ("consultation", &id.to_string()),
                "",
            )?;
            Ok(id)
        })
    }

    /// Edits a draft or a returned request (its requesting doctor only).
    pub fn update_consultation(
        &self,
        actor: &Actor,
        id: i64,
        patch: &ConsultationPatch,
    ) -> SResult<()> {
        let now = self.clock.now();
        write_tx(self, |conn| {
            let c = self.visible(conn, actor, id)?;
            let consultants = repo::assigned_consultants(conn, id)?;
            if !self
                .roles_on(actor, &c, &consultants, Some(Action::Submit))
                .contains(&Role::Doctor)
            {
                return Err(ServiceError::Forbidden);
            }
            let status = status_of(&c);
            if !lifecycle::editable_by_requester(status) {
                return Err(ServiceError::WrongState {
                    status,
                    action: Action::Submit,
                });
            }
            let mut data = clinical_of(&c);
            let before = data.clone();
            data.apply(patch, today(now))
                .map_err(ServiceError::Invalid)?;
            let errors = self.check_reference(conn, &data)?;
            if !errors.is_empty() {
                return Err(ServiceError::Invalid(errors));
            }
            let mut row = c.to_write();
            store_clinical(&mut row, &data);
            row.updated_at = now.naive_utc();
            repo::update_consultation(conn, id, c.version, &row)?;
            self.audit_in(
                conn,
                actor,
                Some(Role::Doctor),
                "update",
                ("consultation", &id.to_string()),
                &serde_json::json!({ "fields": changed_fields(&before, &data) }).to_string(),
            )?;
            Ok(())
        })
    }

    /// Takes a lifecycle action. The transition table decides; this applies it.
    pub fn act(
        &self,
        actor: &Actor,
        id: i64,
        action: Action,
        params: &ActionParams,
    ) -> SResult<Status> {
        if matches!(action, Action::Ask | Action::Answer) {
            return Err(ServiceError::field("action", "unknown_value"));
        }
        let now = self.clock.now();
        let mut issued = None;
        let (to, outbox) = write_tx(self, |conn| {
            let c = self.visible(conn, actor, id)?;
            let status = status_of(&c);
            let consultants = repo::assigned_consultants(conn, id)?;
            let roles = self.roles_on(actor, &c, &consultants, Some(action));
            let ctx = self.guard_context(conn, &c, &consultants)?;
            let decision =
                lifecycle::decide(status, action, &roles, &ctx).map_err(|e| match e {
                    TransitionError::NotInThisState { status, action } => {
                        ServiceError::WrongState { status, action }
                    }
                    TransitionError::Forbidden { .. } => ServiceError::Forbidden,
                })?;
            let mut row = c.to_write();
            let mut comment = params
                .comment
                .clone()
                .unwrap_or_default()
                .trim()
                .to_string();
            let mut reason = None;
            let mut details = serde_json::json!({});
            let data = clinical_of(&c);
            let mut members_after: Vec<i64> = consultants.iter().map(|a| a.user_id).collect();

            // What each action needs beyond the table.
            match action {
                Action::Submit | Action::Resubmit => {
                    let mut errors = data.missing_for_submit();
                    errors.extend(self.check_reference(conn, &data)?);
                    if !errors.is_empty() {
                        return Err(ServiceError::Invalid(errors));
                    }
                }
                Action::Return
                | Action::Decline
                | Action::SendBack
                | Action::RecordFederalConclusion
                    if comment.is_empty() =>
                {
                    return Err(ServiceError::field("comment", "required"));
                }
                Action::Escalate if self.federal_level => {
                    return Err(ServiceError::refused("escalate_federal"));
                }
                Action::Reject | Action::Escalate => {
                    let allowed = if action == Action::Reject {
                        REJECT_REASONS
                    } else {
                        ESCALATE_REASONS
                    };
                    match params.reason_code.as_deref() {
                        None | Some("") => {
                            return Err(ServiceError::field("reason_code", "required"))
                        }
                        Some(r) if !allowed.contains(&r) => {
                            return Err(ServiceError::field("reason_code", "unknown_value"))
                        }
                        Some(r) => reason = Some(r.to_string()),
                    }
                }
                Action::Assign => {
                    let (tkc, members) = self.assignment_target(conn, &c, decision.role, params)?;
                    row.assigned_tkc_id = Some(tkc);
                    repo::set_consultants(conn, id, &members, now.naive_utc())?;
                    details = serde_json::json!({"tkc_id": tkc, "consultant_ids": members});
                    members_after = members;
                }
                Action::Schedule => {
                    let Some(starts) = params.starts_at else {
                        return Err(ServiceError::field("starts_at", "required"));
                    };
                    if starts < now - Duration::minutes(5) {
                        return Err(ServiceError::field("starts_at", "datetime_in_past"));
                    }
                    let minutes = params.duration_minutes.unwrap_or(30);
                    if !(5..=480).contains(&minutes) {
                        return Err(ServiceError::field("duration_minutes", "out_of_range"));
                    }
                    row.scheduled_start = Some(starts.naive_utc());
                    row.scheduled_minutes = Some(minutes);
                    details = serde_json::json!({"starts_at": starts, "duration_minutes": minutes});
                }
                Action::Sign => {
                    let conclusion = repo::current_conclusion(conn, id)?
                        .filter(|k| !k.findings.is_empty() && !k.recommendations.is_empty())
                        .ok_or_else(|| ServiceError::field("conclusion", "conclusion_missing"))?;
                    if consultants
                        .iter()
                        .any(|a| a.user_id == actor.user.id && a.signed_at.is_some())
                    {
                        return Err(ServiceError::WrongState { status, action });
                    }
                    if conclusion.signed_at.is_none() {
                        let hash = conclusion_hash(&conclusion);
                        // Seals exactly the text read here: a save in between makes this fail.
                        repo::seal_conclusion(
                            conn,
                            conclusion.id,
                            &hash,
                            conclusion.updated_at,
                            now.naive_utc(),
                        )?;
                        details = serde_json::json!({"conclusion_id": conclusion.id, "content_hash": hash});
                    }
                    repo::mark_signed(conn, id, actor.user.id, now.naive_utc())?;
                    // The last signature fixes what the document prints,
                    // and its СЭМД.
                    issued = self.snapshot_document(conn, id)?;
                    if issued.is_some() {
                        self.store_semd(conn, id)?;
                    }
                }
                Action::Acknowledge => {
                    if let Some(effect) = params.effect.as_deref() {
                        if !CLOSEOUT_EFFECTS.contains(&effect) {
                            return Err(ServiceError::field("effect", "unknown_value"));
                        }
                    }
                    row.closeout_useful = params.useful;
                    row.closeout_effect = params.effect.clone();
                    details = serde_json::json!({"useful": params.useful, "effect": params.effect, "skipped": params.useful.is_none() && params.effect.is_none()});
                }
                _ => {}
            }
            if action == Action::Decline {
                repo::set_consultants(conn, id, &[], now.naive_utc())?;
                row.assigned_tkc_id = None;
                members_after.clear();
            }

            // The emergency route: the table said "assigned"; the route
            // table says which centre, its duty roster who (the route's
            // consultant when the roster has nobody now).
            let mut call = None;
            if action == Action::Submit && decision.to == Status::Assigned {
                let profile = c.profile.as_deref().unwrap_or("");
                let form = data.form_of_care.unwrap_or(FormOfCare::Emergency);
                let route = repo::route(conn, profile, form.as_str())?;
                let tkc = route.as_ref().map(|r| r.tkc_id);
                let routed = match duty_calls::on_duty_for(conn, tkc, profile, now.naive_utc())? {
                    Some((centre, shift, step, user)) => {
                        call = Some((Some(shift), step as i32, user));
                        Some((centre, vec![user]))
                    }
                    None => route.map(|r| {
                        if let Some(u) = r.consultant_id {
                            call = Some((None, 0, u));
                        }
                        (r.tkc_id, r.consultant_id.into_iter().collect())
                    }),
                };
                if let Some((centre, members)) = routed {
                    row.assigned_tkc_id = Some(centre);
                    repo::set_consultants(conn, id, &members, now.naive_utc())?;
                    details = serde_json::json!({"routed": true, "tkc_id": centre, "consultant_ids": members, "on_duty": call.is_some_and(|(s, _, _)| s.is_some()), "alert": ["dispatcher", "tkc"]});
                    members_after = members;
                }
            }
            // The consultant called for an emergency answers by acting on it
            // (calls wait only while the request is assigned).
            if status == Status::Assigned {
                self.duty_ack_by_action(conn, actor, id, now.naive_utc())?;
            }

            // The deadline clock.
            let mut clock = clock_of(&c);
            match decision.clock {
                ClockEffect::Start => {
                    let form = data.form_of_care.unwrap_or(FormOfCare::Planned);
                    clock = Some(DeadlineClock::start(now, self.policy(conn)?.budget(form)));
                }
                ClockEffect::Pause => {
                    if let Some(k) = clock.as_mut() {
                        k.pause(now)
                    }
                }
                ClockEffect::Resume => {
                    if let Some(k) = clock.as_mut() {
                        k.resume(now)
                    }
                }
                ClockEffect::None => {}
            }
            if let Some(k) = clock {
                row.submitted_at = Some(k.started_at.naive_utc());
                row.budget_seconds = k.budget_seconds;
                row.paused_seconds = k.paused_seconds;
                row.paused_at = k.paused_at.map(|t| t.naive_utc());
                row.deadline_at = Some(k.deadline().naive_utc());
            }

            row.status = decision.to.as_str().into();
            row.updated_at = now.naive_utc();
            if !decision.to.is_open() && decision.to != Status::Draft {
                row.closed_at.get_or_insert(now.naive_utc());
            }
            repo::update_consultation(conn, id, c.version, &row)?;
            // At most 5000 characters (not bytes: a cut inside a letter would panic).
            if let Some((cut, _)) = comment.char_indices().nth(5000) {
                comment.truncate(cut);
            }
            record_event(
                self, conn, actor, id, action, &decision, comment, reason, details, now,
            )?;
            // The call that waits for the on-duty consultant's acknowledgement
            // (its notification is the emergency's own, below).
            if let Some((shift, step, user)) = call {
                self.duty_call(conn, id, shift, step, Some(user), now.naive_utc(), false)?;
            }
            // A decline is news for the centre it leaves, and for the consilium it breaks up.
            let (told, tkc) = if action == Action::Decline {
                (
                    consultants.iter().map(|a| a.user_id).collect(),
                    c.assigned_tkc_id,
                )
            } else {
                (members_after.clone(), row.assigned_tkc_id)
            };
            let outbox =
                notifications::recipients(conn, &c, action, decision.to, &told, tkc, actor)?;
            self.deliver(conn, &outbox.users, id, &outbox.kind)?;
            self.audit_in(
                conn,
                actor,
                Some(decision.role),
                action.as_str(),
                ("consultation", &id.to_string()),
                &format!("{} -> {}", status.as_str(), decision.to.as_str()),
            )?;
            Ok((decision.to, outbox))
        })?;
        if let Some(conclusion_id) = issued {
            self.issue_document_soon(id, conclusion_id);
        }
        self.live.publish(LiveEvent {
            consultation_id: id,
            users: outbox.users,
            kind: outbox.kind,
            queue_changed: true,
        });
        Ok(to)
    }

    /// Where an `assign` sends the request: (consultation centre, consultants).
    fn assignment_target(
        &self,
        conn: &mut DbConn,
        c: &Consultation,
        role: Role,
        params: &ActionParams,
    ) -> SResult<(i64, Vec<i64>)> {
        let mut members: Vec<i64> = params.consultant_ids.clone().unwrap_or_default();
        if let Some(one) = params.consultant_id {
            members.insert(0, one);
        }
        // Each consultant once, in the order given (the first is the lead).
        let mut seen = std::collections::HashSet::new();
        members.retain(|m| seen.insert(*m));
        // A coordinator assigns within their own centre only.
        let tkc = if role == Role::Coordinator {
            c.assigned_tkc_id
        } else {
            params.tkc_id
        };
        let tkc = match (tkc, members.first()) {
            (Some(t), _) => t,
            (None, Some(first)) => {
                let m = repo::memberships_of(conn, *first)?;
                m.iter()
                    .find(|m| m.role == Role::Consultant.as_str())
                    .map(|m| m.organization_id)
                    .ok_or_else(|| ServiceError::field("consultant_id", "not_a_consultant"))?
            }
            (None, None) => return Err(ServiceError::field("tkc_id", "assign_target")),
        };
        let org = repo::organization(conn, tkc)
            .map_err(|_| ServiceError::field("tkc_id", "unknown_organization"))?;
        if !matches!(
            OrgKind::parse(&org.kind),
            Some(OrgKind::Tkc | OrgKind::Federal)
        ) {
            return Err(ServiceError::field("tkc_id", "not_a_tkc"));
        }
        if role == Role::Coordinator && members.is_empty() {
            return Err(ServiceError::field("consultant_id", "required"));
        }
        for (i, user_id) in members.iter().enumerate() {
            let field = if params.consultant_id.is_some() && i == 0 {
                "consultant_id".to_string()
            } else {
                format!("consultant_ids[{i}]")
            };
            let m = repo::memberships_of(conn, *user_id)?;
            if m.is_empty() {
                return Err(ServiceError::field(&field, "unknown_user"));
            }
            if !m
                .iter()
                .any(|m| m.role == Role::Consultant.as_str() && m.organization_id == tkc)
            {
                return Err(ServiceError::field(&field, "not_in_tkc"));
            }
        }
        Ok((tkc, members))
    }

    pub(crate) fn consultation_unaudited(
        &self,
        actor: &Actor,
        id: i64,
        lang: Lang,
    ) -> SResult<ConsultationView> {
        let mut conn = self.db.conn()?;
        let c = self.visible(&mut conn, actor, id)?;
        let view = self.view(&mut conn, actor, &c, lang)?;
        Ok(view)
    }

    fn view(
        &self,
        conn: &mut DbConn,
        actor: &Actor,
        c: &Consultation,
        lang: Lang,
    ) -> SResult<ConsultationView> {
        let now = self.clock.now();
        let status = status_of(c);
        let consultants = repo::assigned_consultants(conn, c.id)?;
        let users = repo::users_by_ids(
            conn,
            &consultants
                .iter()
                .map(|a| a.user_id)
                .chain([c.requester_id])
                .collect::<Vec<_>>(),
        )?;
        let name_of = |id: i64| {
            users
                .iter()
                .find(|u| u.id == id)
                .map(|u| u.short_name())
                .unwrap_or_default()
        };
        let roles = self.roles_on(actor, c, &consultants, None);
        let ctx = self.guard_context(conn, c, &consultants)?;
        let mut actions = lifecycle::available_actions(status, &roles, &ctx);
        // Own-only actions: a colleague of the requester sees them but may not take them.
        let own_roles = self.roles_on(actor, c, &consultants, Some(Action::Submit));
        actions.retain(|a| {
            !matches!(a, Action::Submit | Action::Resubmit | Action::Cancel)
                || own_roles.contains(&Role::Doctor)
        });
        actions.retain(|a| !matches!(a, Action::Ask | Action::Answer));
        if actions.contains(&Action::Sign)
            && consultants
                .iter()
                .any(|a| a.user_id == actor.user.id && a.signed_at.is_some())
        {
            actions.retain(|a| *a != Action::Sign);
        }
        let (overdue, remaining) = deadline_state(c, now);
        Ok(ConsultationView {
            id: c.id,
            status,
            status_label: status.label(lang).to_string(),
            data: clinical_of(c),
            requesting_organization: org_ref(&repo::organization(conn, c.requesting_org_id)?),
            requester: UserRef {
                id: c.requester_id,
                name: name_of(c.requester_id),
            },
            assigned_tkc: match c.assigned_tkc_id {
                Some(t) => Some(org_ref(&repo::organization(conn, t)?)),
                None => None,
            },
            consultants: consultants
                .iter()
                .map(|a| ConsultantRef {
                    id: a.user_id,
                    name: name_of(a.user_id),
                    signed_at: a.signed_at.map(utc),
                })
                .collect(),
            created_at: utc(c.created_at),
            updated_at: utc(c.updated_at),
            submitted_at: c.submitted_at.map(utc),
            deadline: c.deadline_at.map(utc),
            overdue,
            remaining_seconds: remaining,
            budget_seconds: c.submitted_at.map(|_| c.budget_seconds),
            deadline_paused: c.paused_at.is_some(),
            scheduled_start: c.scheduled_start.map(utc),
            scheduled_minutes: c.scheduled_minutes,
            available_actions: actions,
            version: c.version,
        })
    }

    pub fn list_consultations(
        &self,
        actor: &Actor,
        q: &ListQuery,
        lang: Lang,
    ) -> SResult<ConsultationPage> {
        if !actor.has_clinical_role() {
            return Err(ServiceError::Forbidden);
        }
        let now = self.clock.now();
        let mut errors = Vec::new();
        let statuses: Vec<String> = match q.status.as_deref() {
            None | Some("") => Vec::new(),
            Some("open") => repo::OPEN_STATES.iter().map(|s| s.to_string()).collect(),
            Some(list) => list
                .split(',')
                .filter_map(|s| match Status::parse(s) {
                    Some(st) => Some(st.as_str().to_string()),
                    None => {
                        errors.push(FieldError::new("status", "unknown_value"));
                        None
                    }
                })
                .collect(),
        };
        // An empty value is "any", as a form's empty choice sends it.
        let form_of_care = q.form_of_care.clone().filter(|f| !f.is_empty());
        if let Some(f) = form_of_care.as_deref() {
            if FormOfCare::parse(f).is_none() {
                errors.push(FieldError::new("form_of_care", "unknown_value"));
            }
        }
        if !errors.is_empty() {
            return Err(ServiceError::Invalid(errors));
        }
        let per_page = q.per_page.unwrap_or(50).clamp(1, 200);
        let page = q.page.unwrap_or(1).max(1);
        let filter = ConsultationFilter {
            statuses,
            form_of_care,
            profile: q.profile.clone().filter(|p| !p.is_empty()),
            requesting_org: q.organization,
            assigned_tkc: q.tkc,
            overdue: q.overdue,
            q: q.q
                .as_ref()
                .map(|s| searchable(s).replace(['-'], ""))
                .filter(|s| !s.trim().is_empty()),
            now: Some(now.naive_utc()),
        };
        let mut conn = self.db.conn()?;
        let (rows, total, total_exact) = repo::list_consultations_counted(
            &mut conn,
            Some(self.db.list_counts()),
            &actor.visibility(),
            &filter,
            // A page far past the end is an empty page, not an overflow.
            (page - 1).saturating_mul(per_page),
            per_page,
        )?;
        let orgs = self.org_cache.get(|| Orgs::read(&mut conn))?;
        let org = |conn: &mut DbConn, id: i64| -> SResult<OrgRef> {
            match orgs.by_id.get(&id) {
                Some(o) => Ok(o.clone()),
                // Added on another instance since the cache was read.
                None => Ok(org_ref(&repo::organization(conn, id)?)),
            }
        };
        let mut items = Vec::with_capacity(rows.len());
        for c in &rows {
            let status = status_of(c);
            let (overdue, remaining) = deadline_state(c, now);
            items.push(ConsultationSummary {
                id: c.id,
                status,
                status_label: status.label(lang).to_string(),
                form_of_care: c.form_of_care.as_deref().and_then(FormOfCare::parse),
                profile: c.profile.clone(),
                patient_name: c.patient_name.clone(),
                patient_birth_date: c.patient_birth_date,
                diagnosis_main: c.diagnosis_main.clone(),
                requesting_organization: org(&mut conn, c.requesting_org_id)?,
                assigned_tkc: match c.assigned_tkc_id {
                    Some(t) => Some(org(&mut conn, t)?),
                    None => None,
                },
                created_at: utc(c.created_at),
                deadline: c.deadline_at.map(utc),
                overdue,
                remaining_seconds: remaining,
                budget_seconds: c.submitted_at.map(|_| c.budget_seconds),
                deadline_paused: c.paused_at.is_some(),
                awaits_me: awaits(actor, c, status),
            });
        }
        let shown = crate::access::audit_text::ListRead::of(
            &filter,
            None,
            items.iter().map(|i| i.id).collect(),
        );
        // One connection at a time: the audit write takes its own.
        drop(conn);
        self.audit_read(
            actor,
            list_role(actor),
            ("consultation_list", ""),
            &shown.json(),
        )?;
        Ok(ConsultationPage {
            items,
            total,
            total_exact,
            page,
            per_page,
        })
    }

    /// A FHIR search over the requests the actor may see: one page of ids,
    /// newest first, and the exact total, both from SQL. `statuses` empty
    /// means any; `patient` is a СНИЛС or policy number. Audited like a list.
    pub fn fhir_search_ids(
        &self,
        actor: &Actor,
        statuses: &[Status],
        patient: Option<&str>,
        extra: &repo::FhirSearch,
        offset: i64,
        count: i64,
    ) -> SResult<(Vec<i64>, i64)> {
        if !actor.has_clinical_role() {
            return Err(ServiceError::Forbidden);
        }
        let filter = ConsultationFilter {
            statuses: statuses.iter().map(|s| s.as_str().to_string()).collect(),
            form_of_care: None,
            profile: None,
            requesting_org: None,
            assigned_tkc: None,
            overdue: None,
            q: patient
                .map(|s| searchable(s).replace(['-'], ""))
                .filter(|s| !s.trim().is_empty()),
            now: Some(self.clock.now().naive_utc()),
        };
        let mut conn = self.db.conn()?;
        let (ids, total) = repo::fhir_search(
            &mut conn,
            &actor.visibility(),
            &filter,
            extra,
            offset.max(0),
            count.clamp(1, 200),
        )?;
        drop(conn);
        self.audit_read(
            actor,
            list_role(actor),
            ("consultation_list", ""),
            &crate::access::audit_text::ListRead::of(&filter, Some(extra), ids.clone()).json(),
        )?;
        Ok((ids, total))
    }

    pub(crate) fn events_unaudited(
        &self,
        actor: &Actor,
        id: i64,
        lang: Lang,
    ) -> SResult<Vec<EventView>> {
        let mut conn = self.db.conn()?;
        self.visible(&mut conn, actor, id)?;
        let events = repo::events(&mut conn, id)?;
        let users = repo::users_by_ids(
            &mut conn,
            &events
                .iter()
                .filter_map(|e| e.actor_user_id)
                .collect::<Vec<_>>(),
        )?;
        let mut out = Vec::with_capacity(events.len());
        for e in events {
            let label = event_label(&e.action, lang);
            // Where an assignment went (names are data, kept apart from the label).
            let mut target = None;
            if e.action == "assign" || e.action == "duty_pass" || e.details.contains("\"routed\"") {
                let details: serde_json::Value =
                    serde_json::from_str(&e.details).unwrap_or_default();
                let mut to = Vec::new();
                if let Some(t) = details["tkc_id"].as_i64() {
                    if let Ok(o) = repo::organization(&mut conn, t) {
                        to.push(o.short_name);
                    }
                }
                let ids: Vec<i64> = details["consultant_ids"]
                    .as_array()
                    .map(|a| a.iter().filter_map(|v| v.as_i64()).collect())
                    .unwrap_or_default();
                for u in repo::users_by_ids(&mut conn, &ids)? {
                    to.push(u.short_name());
                }
                target = Some(to.join(", ")).filter(|t| !t.is_empty());
            }
            out.push(EventView {
                id: e.id,
                at: utc(e.at),
                action: e.action.clone(),
                action_label: label,
                target,
                from_status: e.from_status.as_deref().and_then(Status::parse),
                to_status: Status::parse(&e.to_status).unwrap_or(Status::Draft),
                actor: e
                    .actor_user_id
                    .and_then(|id| users.iter().find(|u| u.id == id))
                    .map(|u| UserRef {
                        id: u.id,
                        name: u.short_name(),
                    }),
                actor_organization: match e.actor_org_id {
                    Some(o) => Some(org_ref(&repo::organization(&mut conn, o)?)),
                    None => None,
                },
                actor_role: e.actor_role.as_deref().and_then(Role::parse),
                comment: e.comment,
                reason_code: e.reason_code,
                details: serde_json::from_str(&e.details).unwrap_or(serde_json::Value::Null),
            });
        }
        Ok(out)
    }

    /// A question (from a consultant) or an answer (from the requesting side).
    pub fn post_message(&self, actor: &Actor, id: i64, body: &str) -> SResult<i64> {
        let body = body.trim();
        let now = self.clock.now();
        let (msg, outbox) = write_tx(self, |conn| {
            let c = self.visible(conn, actor, id)?;
            let status = status_of(&c);
            let consultants = repo::assigned_consultants(conn, id)?;
            let roles = self.roles_on(actor, &c, &consultants, None);
            let action = if roles.contains(&Role::Consultant) {
                Action::Ask
            } else {
                Action::Answer
            };
            let ctx = self.guard_context(conn, &c, &consultants)?;
            let decision =
                lifecycle::decide(status, action, &roles, &ctx).map_err(|e| match e {
                    TransitionError::NotInThisState { status, action } => {
                        ServiceError::WrongState { status, action }
                    }
                    TransitionError::Forbidden { .. } => ServiceError::Forbidden,
                })?;
            // Access first, then content: a stranger learns nothing from the validation.
            if body.is_empty() {
                return Err(ServiceError::field("body", "required"));
            }
            if body.chars().count() > 20_000 {
                return Err(ServiceError::field("body", "too_long"));
            }
            let kind = if action == Action::Ask {
                "question"
            } else {
                "answer"
            };
            let msg = repo::insert_message(
                conn,
                id,
                actor.user.id,
                decision.role.as_str(),
                kind,
                body,
                now.naive_utc(),
            )?;
            record_event(
                self,
                conn,
                actor,
                id,
                action,
                &decision,
                String::new(),
                None,
                serde_json::json!({"message_id": msg}),
                now,
            )?;
            let members: Vec<i64> = consultants.iter().map(|a| a.user_id).collect();
            let outbox = notifications::recipients(
                conn,
                &c,
                action,
                decision.to,
                &members,
                c.assigned_tkc_id,
                actor,
            )?;
            self.deliver(conn, &outbox.users, id, &outbox.kind)?;
            self.audit_in(
                conn,
                actor,
                Some(decision.role),
                action.as_str(),
                ("consultation", &id.to_string()),
                &format!("message {msg}"),
            )?;
            Ok((msg, outbox))
        })?;
        self.live.publish(LiveEvent {
            consultation_id: id,
            users: outbox.users,
            kind: outbox.kind,
            queue_changed: false,
        });
        Ok(msg)
    }

    pub(crate) fn messages_unaudited(&self, actor: &Actor, id: i64) -> SResult<Vec<MessageView>> {
        let mut conn = self.db.conn()?;
        self.visible(&mut conn, actor, id)?;
        let msgs = repo::messages(&mut conn, id)?;
        let users = repo::users_by_ids(
            &mut conn,
            &msgs.iter().map(|m| m.author_id).collect::<Vec<_>>(),
        )?;
        Ok(msgs
            .into_iter()
            .map(|m| MessageView {
                id: m.id,
                kind: m.kind,
                author: UserRef {
                    id: m.author_id,
                    name: users
                        .iter()
                        .find(|u| u.id == m.author_id)
                        .map(|u| u.short_name())
                        .unwrap_or_default(),
                },
                author_role: Role::parse(&m.author_role).unwrap_or(Role::Doctor),
                body: m.body,
                created_at: utc(m.created_at),
            })
            .collect())
    }

    /// Writes the consultant's draft conclusion. A signed one is never changed.
    pub fn put_conclusion(&self, actor: &Actor, id: i64, input: &ConclusionInput) -> SResult<()> {
        let now = self.clock.now();
        let mut errors = Vec::new();
        let code = match rtms_domain::validate::Icd10Code::parse(&input.diagnosis_main) {
            Ok(c) => Some(c.as_str().to_string()),
            Err(e) => {
                errors.push(FieldError::new("diagnosis_main", e));
                None
            }
        };
        for (field, value) in [
            ("findings", &input.findings),
            ("recommendations", &input.recommendations),
        ] {
            if value.trim().is_empty() {
                errors.push(FieldError::new(field, "required"));
            } else if value.chars().count() > 50_000 {
                errors.push(FieldError::new(field, "too_long"));
            }
        }
        let condition = match input
            .patient_condition
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => None,
            Some(code)
                if rtms_domain::nsi::name_of(&rtms_domain::nsi::CONDITION_CODES, code)
                    .is_some() =>
            {
                Some(code.to_string())
            }
            Some(_) => {
                errors.push(FieldError::new("patient_condition", "unknown_value"));
                None
            }
        };
        write_tx(self, |conn| {
            let c = self.visible(conn, actor, id)?;
            let consultants = repo::assigned_consultants(conn, id)?;
            let roles = self.roles_on(actor, &c, &consultants, None);
            let current = repo::current_conclusion(conn, id)?;
            // An open correction of a signed conclusion is edited like the first version.
            super::rules::may_edit_conclusion(&super::rules::Facts {
                status: status_of(&c),
                roles: &roles,
                me: actor.user.id,
                members: &consultants,
                current: current.as_ref(),
            })?;
            if let Some(code) = &code {
                if !reference::unknown_icd10(conn, std::slice::from_ref(code))?.is_empty() {
                    errors.push(FieldError::new("diagnosis_main", "icd10_unknown"));
                }
            }
            if !errors.is_empty() {
                return Err(ServiceError::Invalid(errors.clone()));
            }
            let content = ConclusionContent {
                author_id: actor.user.id,
                diagnosis_main: code.clone().unwrap_or_default(),
                diagnosis_text: input.diagnosis_text.trim().to_string(),
                findings: input.findings.trim().to_string(),
                recommendations: input.recommendations.trim().to_string(),
                transfer: input.transfer.trim().to_string(),
                follow_up_needed: input.follow_up_needed,
                follow_up: input.follow_up.trim().to_string(),
                patient_condition: condition.clone(),
                updated_at: now.naive_utc(),
            };
            match repo::current_conclusion(conn, id)? {
                Some(existing) => repo::update_conclusion(conn, existing.id, &content)?,
                None => {
                    repo::insert_conclusion(conn, id, 1, &content)?;
                }
            }
            self.audit_in(
                conn,
                actor,
                Some(Role::Consultant),
                "conclusion_write",
                ("consultation", &id.to_string()),
                "",
            )?;
            Ok(())
        })
    }

    pub(crate) fn conclusion_unaudited(&self, actor: &Actor, id: i64) -> SResult<ConclusionView> {
        let mut conn = self.db.conn()?;
        let c = self.visible(&mut conn, actor, id)?;
        let mut k = repo::current_conclusion(&mut conn, id)?.ok_or(ServiceError::NotFound)?;
        let consultants = repo::assigned_consultants(&mut conn, id)?;
        // The requesting side reads a conclusion only once it is signed (while a
        // correction is open, the version it corrects).
        let consultant = self
            .roles_on(actor, &c, &consultants, None)
            .contains(&Role::Consultant);
        let correcting =
            k.supersedes_id.is_some() && consultants.iter().any(|a| a.signed_at.is_none());
        let mut fallback = false;
        if !consultant {
            if correcting {
                let corrected = k.supersedes_id;
                k = repo::conclusion_versions(&mut conn, id)?
                    .into_iter()
                    .find(|v| Some(v.id) == corrected)
                    .ok_or(ServiceError::NotFound)?;
                fallback = true;
            } else if k.signed_at.is_none() {
                return Err(ServiceError::NotFound);
            }
        }
        let users = repo::users_by_ids(
            &mut conn,
            &consultants
                .iter()
                .map(|a| a.user_id)
                .chain([k.author_id])
                .collect::<Vec<_>>(),
        )?;
        let name_of = |id: i64| {
            users
                .iter()
                .find(|u| u.id == id)
                .map(|u| u.short_name())
                .unwrap_or_default()
        };
        let name = reference::icd10_names(&mut conn, std::slice::from_ref(&k.diagnosis_main))?
            .into_iter()
            .next()
            .map(|(_, n)| n);
        Ok(ConclusionView {
            id: k.id,
            version: k.version,
            supersedes_id: k.supersedes_id,
            author: UserRef {
                id: k.author_id,
                name: name_of(k.author_id),
            },
            diagnosis_main_name: name,
            diagnosis_main: k.diagnosis_main,
            diagnosis_text: k.diagnosis_text,
            findings: k.findings,
            recommendations: k.recommendations,
            transfer: k.transfer,
            follow_up_needed: k.follow_up_needed,
            follow_up: k.follow_up,
            patient_condition: k.patient_condition,
            updated_at: utc(k.updated_at),
            signed_at: k.signed_at.map(utc),
            content_hash: k.content_hash,
            // A corrected version was signed by every member (their new
            // signatures belong to the correction).
            signatures: consultants
                .iter()
                .filter(|a| fallback || a.signed_at.is_some())
                .map(|a| ConsultantRef {
                    id: a.user_id,
                    name: name_of(a.user_id),
                    signed_at: if fallback { k.signed_at } else { a.signed_at }.map(utc),
                })
                .collect(),
        })
    }

    pub fn consultants(
        &self,
        actor: &Actor,
        profile: Option<&str>,
        tkc: Option<i64>,
    ) -> SResult<Vec<ConsultantView>> {
        if !actor.has_clinical_role() && !actor.has(Role::Admin) {
            return Err(ServiceError::Forbidden);
        }
        let mut conn = self.db.conn()?;
        let rows = repo::consultants(&mut conn, profile, tkc)?;
        let now = self.clock.now().naive_utc();
        let ids: Vec<i64> = rows.iter().map(|r| r.user.id).collect();
        let (on_duty, absent) = crate::directory::duty::availability(&mut conn, &ids, now)?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            out.push(ConsultantView {
                id: r.user.id,
                name: r.user.short_name(),
                organization: org_ref(&repo::organization(&mut conn, r.organization_id)?),
                profiles: r.profiles,
                open_consultations: r.open_consultations,
                on_duty: on_duty.contains(&r.user.id),
                absent: absent.contains(&r.user.id),
                suggested: false,
            });
        }
        // Those here first, the least loaded first among them.
        out.sort_by_key(|c| (c.absent, c.open_consultations));
        if let Some(first) = out.first_mut().filter(|c| !c.absent) {
            first.suggested = true;
        }
        Ok(out)
    }

    pub fn search_icd10(&self, q: &str, limit: i64) -> SResult<Vec<Icd10View>> {
        let mut conn = self.db.conn()?;
        Ok(reference::search_icd10(&mut conn, q, limit.clamp(1, 100))?
            .into_iter()
            .map(|r| Icd10View {
                code: r.code,
                name: r.name,
                parent_code: r.parent_code,
                actual: r.actual,
            })
            .collect())
    }

    pub fn profiles(&self, lang: Lang) -> SResult<Vec<ProfileView>> {
        let profiles = self.profile_cache.get(|| {
            let mut conn = self.db.conn()?;
            Ok(reference::profiles(&mut conn)?)
        })?;
        Ok(profiles
            .iter()
            .map(|p| {
                let (name, hint) = match lang {
                    Lang::En => (&p.name_en, &p.hint_en),
                    Lang::Ru => (&p.name_ru, &p.hint_ru),
                };
                ProfileView {
                    name: name.clone(),
                    hint: hint.clone(),
                    code: p.code.clone(),
                    v002_code: p.v002_code,
                }
            })
            .collect())
    }

    pub fn purposes(&self, lang: Lang) -> SResult<Vec<PurposeView>> {
        let mut conn = self.db.conn()?;
        Ok(reference::purposes(&mut conn)?
            .into_iter()
            .map(|p| PurposeView {
                name: if lang == Lang::En {
                    p.name_en
                } else {
                    p.name_ru
                },
                code: p.code,
                iemk_code: p.iemk_code,
            })
            .collect())
    }

    pub fn user_view(&self, actor: &Actor) -> UserView {
        let u = &actor.user;
        UserView {
            id: u.id,
            login: u.login.clone(),
            last_name: u.last_name.clone(),
            first_name: u.first_name.clone(),
            middle_name: u.middle_name.clone(),
            position: u.position.clone(),
            locale: u.locale.clone(),
            must_change_password: u.must_change_password,
            roles: actor
                .roles
                .iter()
                .map(|r| MembershipView {
                    role: r.role,
                    organization: org_ref(&r.org),
                })
                .collect(),
        }
    }
}

/// Appends the event of a decided action: who, under which role and organization, why.
#[allow(clippy::too_many_arguments)]
fn record_event(
    svc: &Services,
    conn: &mut DbConn,
    actor: &Actor,
    id: i64,
    action: Action,
    decision: &lifecycle::Decision,
    comment: String,
    reason_code: Option<String>,
    details: serde_json::Value,
    now: DateTime<Utc>,
) -> SResult<()> {
    let actor_org = actor
        .roles
        .iter()
        .find(|r| r.role == decision.role)
        .map(|r| r.org.id);
    repo::append_event(
        conn,
        &NewEvent {
            consultation_id: id,
            at: now.naive_utc(),
            actor_user_id: Some(actor.user.id),
            actor_org_id: actor_org,
            actor_role: Some(decision.role.as_str().into()),
            action: action.as_str().into(),
            from_status: Some(decision.from.as_str().into()),
            to_status: decision.to.as_str().into(),
            comment,
            reason_code,
            details: details.to_string(),
        },
    )?;
    // The federal outbox, FHIR subscribers (a МИС, another instance): each
    // hears of every change in its transaction.
    svc.announce(
        conn,
        super::Change {
            consultation: id,
            action: Some(action),
            at: now.naive_utc(),
        },
    )?;
    Ok(())
}

/// The role that lets the caller see lists: the region's for a dispatcher, else the first clinical one.
fn list_role(actor: &Actor) -> Option<Role> {
    if actor.is_dispatcher() {
        return Some(Role::Dispatcher);
    }
    actor.roles.iter().map(|r| r.role).find(|r| r.is_clinical())
}

/// What happened, in the past tense, for the timeline.
fn event_label(action: &str, lang: Lang) -> String {
    let text = rtms_i18n::tr(lang, &format!("event-{action}"));
    if text.starts_with('⟦') {
        action.to_string()
    } else {
        text
    }
}

/// Whether the caller's next step is due on this request, as a list can tell
/// without loading each request whole.
fn awaits(actor: &Actor, c: &Consultation, status: Status) -> bool {
    actor.roles.iter().any(|r| match r.role {
        Role::Doctor => {
            r.org.id == c.requesting_org_id
                && (matches!(status, Status::Completed)
                    || (c.requester_id == actor.user.id
                        && matches!(status, Status::Draft | Status::Returned)))
        }
        Role::Head => r.org.id == c.requesting_org_id && status == Status::AwaitingApproval,
        Role::Dispatcher => matches!(status, Status::Submitted | Status::InReview),
        Role::Coordinator => Some(r.org.id) == c.assigned_tkc_id && status == Status::Assigned,
        Role::Consultant => matches!(
            status,
            Status::Assigned | Status::Accepted | Status::Scheduled | Status::InProgress
        ),
        _ => false,
    })
}

/// SHA-256 over the conclusion's content in a fixed order: what a signature covers.
pub fn conclusion_hash(k: &rtms_store::models::Conclusion) -> String {
    let canonical = serde_json::json!({
        "consultation_id": k.consultation_id,
        "version": k.version,
        "author_id": k.author_id,
        "diagnosis_main": k.diagnosis_main,
        "diagnosis_text": k.diagnosis_text,
        "findings": k.findings,
        "recommendations": k.recommendations,
        "transfer": k.transfer,
        "follow_up_needed": k.follow_up_needed,
        "follow_up": k.follow_up,
    });
    // Added later: covered when given, so older conclusions keep their hash.
    let mut canonical = canonical;
    if let Some(c) = &k.patient_condition {
        canonical["patient_condition"] = serde_json::json!(c);
    }
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}

impl Services {
    /// The web form's save: every valid field is applied; what did not pass is
    /// kept as typed (`unsaved_input`) so nothing the doctor wrote is lost, and
    /// the problems are returned to be shown next to the fields.
    pub fn save_form(
        &self,
        actor: &Actor,
        id: i64,
        mut patch: ConsultationPatch,
        raw: &std::collections::BTreeMap<String, String>,
        unreadable: Vec<FieldError>,
    ) -> SResult<Vec<FieldError>> {
        // Fields the form could not even read (a number with letters) arrive as errors already.
        let mut problems: Vec<FieldError> = unreadable;
        // Format errors first, then reference errors on what is left: at most a few rounds.
        for _ in 0..3 {
            match self.update_consultation(actor, id, &patch) {
                Ok(()) => break,
                Err(ServiceError::Invalid(errors)) => {
                    for e in &errors {
                        patch.clear_field(&e.field);
                    }
                    problems.extend(errors);
                }
                Err(other) => return Err(other),
            }
        }
        let unsaved: std::collections::BTreeMap<&str, &str> = problems
            .iter()
            .filter_map(|e| {
                let key = e.field.split('[').next().unwrap_or(&e.field);
                raw.get_key_value(key)
                    .map(|(k, v)| (k.as_str(), v.as_str()))
            })
            .collect();
        let json = serde_json::to_string(&unsaved).unwrap_or_else(|_| "{}".into());
        self.db.write(|c| repo::set_unsaved_input(c, id, &json))?;
        Ok(problems)
    }

    /// What the doctor typed that has not passed validation yet (field → text).
    pub fn unsaved_input(
        &self,
        actor: &Actor,
        id: i64,
    ) -> SResult<std::collections::BTreeMap<String, String>> {
        let mut conn = self.db.conn()?;
        let c = self.visible(&mut conn, actor, id)?;
        Ok(serde_json::from_str(&c.unsaved_input).unwrap_or_default())
    }
}

impl Services {
    /// What the route table suggests for a request: (consultation centre, on-duty consultant).
    pub fn suggested_route(
        &self,
        profile: &str,
        form: FormOfCare,
    ) -> SResult<Option<(OrgRef, Option<i64>)>> {
        let mut conn = self.db.conn()?;
        match repo::route(&mut conn, profile, form.as_str())? {
            Some(r) => Ok(Some((
                org_ref(&repo::organization(&mut conn, r.tkc_id)?),
                r.consultant_id,
            ))),
            None => Ok(None),
        }
    }

    /// Organizations of a kind (`mo`, `tkc`, `ktc`, `federal`), by name.
    pub fn organizations(&self, kind: OrgKind) -> SResult<Vec<OrgRef>> {
        // A connection only when the kept ones are old.
        let orgs = self.org_cache.get(|| Orgs::read(&mut *self.db.conn()?))?;
        Ok(orgs
            .by_name
            .iter()
            .filter(|o| o.kind == kind.as_str())
            .cloned()
            .collect())
    }
}

impl Services {
    /// One request, whole, with the actions the caller may take now.
    pub fn consultation(&self, actor: &Actor, id: i64, lang: Lang) -> SResult<ConsultationView> {
        let view = self.consultation_unaudited(actor, id, lang)?;
        self.audit_read(
            actor,
            self.acting_role(actor, id)?,
            ("consultation", &id.to_string()),
            "",
        )?;
        Ok(view)
    }

    /// The case timeline.
    pub fn events(&self, actor: &Actor, id: i64, lang: Lang) -> SResult<Vec<EventView>> {
        let events = self.events_unaudited(actor, id, lang)?;
        self.audit_read(
            actor,
            self.acting_role(actor, id)?,
            ("consultation_events", &id.to_string()),
            "",
        )?;
        Ok(events)
    }

    /// The questions-and-answers thread.
    pub fn messages(&self, actor: &Actor, id: i64) -> SResult<Vec<MessageView>> {
        let messages = self.messages_unaudited(actor, id)?;
        self.audit_read(
            actor,
            self.acting_role(actor, id)?,
            ("consultation_messages", &id.to_string()),
            "",
        )?;
        Ok(messages)
    }

    /// The current conclusion (the requesting side sees it once signed).
    pub fn conclusion(&self, actor: &Actor, id: i64) -> SResult<ConclusionView> {
        let conclusion = self.conclusion_unaudited(actor, id)?;
        self.audit_read(
            actor,
            self.acting_role(actor, id)?,
            ("conclusion", &id.to_string()),
            &format!("version {}", conclusion.version),
        )?;
        Ok(conclusion)
    }

    /// The role under which the caller sees this request, for the audit trail.
    pub(crate) fn acting_role(&self, actor: &Actor, id: i64) -> SResult<Option<Role>> {
        let mut conn = self.db.conn()?;
        let c = repo::consultation(&mut conn, id)?;
        let consultants = repo::assigned_consultants(&mut conn, id)?;
        Ok(self
            .roles_on(actor, &c, &consultants, None)
            .first()
            .copied())
    }

    /// Names of МКБ-10 codes, in one query.
    pub fn icd10_names(&self, codes: &[String]) -> SResult<Vec<(String, String)>> {
        let mut conn = self.db.conn()?;
        Ok(reference::icd10_names(&mut conn, codes)?)
    }
}

/// The form's fields a change touched, by their paths (`patient.last_name`):
/// what the audit log names, never the values.
fn changed_fields(before: &ClinicalData, after: &ClinicalData) -> Vec<String> {
    fn walk(path: &str, a: &serde_json::Value, b: &serde_json::Value, out: &mut Vec<String>) {
        match (a, b) {
            (serde_json::Value::Object(x), serde_json::Value::Object(y)) => {
                let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
                keys.sort();
                keys.dedup();
                for k in keys {
                    let null = serde_json::Value::Null;
                    let p = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    walk(
                        &p,
                        x.get(k).unwrap_or(&null),
                        y.get(k).unwrap_or(&null),
                        out,
                    );
                }
            }
            (a, b) if a != b => out.push(path.to_string()),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(
        "",
        &serde_json::to_value(before).unwrap_or_default(),
        &serde_json::to_value(after).unwrap_or_default(),
        &mut out,
    );
    out
}
