//! One request: everything about it, its timeline and thread, and the actions
//! the viewer may take now.

use rtms_i18n::Label;
use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use rtms_domain::{Action, Lang, OrgKind, Role};
use rtms_service::lifecycle::consultations::{
    ActionParams, ConclusionInput, CLOSEOUT_EFFECTS, ESCALATE_REASONS, REJECT_REASONS,
};
use rtms_service::lifecycle::views::{
    ConclusionView, ConsultantView, ConsultationView, EventView, MessageView, OrgRef,
};
use rtms_service::ServiceError;

use super::cms::{cms_lines, CmsLine};
use super::fmt;
use super::i18n::lbl;
use super::i18n::{tr, tr_count};
use super::shell::{error_page, with_error_status};
use super::shell::{render, Page};
use crate::session::UiUser;
use crate::{blocking, AppState};

pub struct Line {
    pub label: String,
    pub value: String,
}

pub struct TimelineItem {
    pub at: String,
    pub what: String,
    pub target: String,
    pub who: String,
    pub comment: String,
}

pub struct ThreadItem {
    pub id: i64,
    pub at: String,
    pub who: String,
    pub question: bool,
    pub body: String,
    pub files: Vec<FileItem>,
    /// The caller wrote it and may still attach files to it.
    pub attachable: bool,
}

/// A file in the request's list.
pub struct FileItem {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub size: String,
    pub sha256: String,
    pub who: String,
    pub at: String,
    pub dicom: bool,
    /// Why a DICOM file could not be read, in the user's language.
    pub dicom_error: String,
}

pub use rtms_i18n::human_size;

pub struct ActionButton {
    pub action: &'static str,
    pub label: String,
    /// Needs a small form (a comment, a reason, a choice) before it is sent.
    pub form: &'static str,
    pub primary: bool,
}

#[derive(Template)]
#[template(path = "request.html")]
struct RequestTpl {
    p: Page,
    /// The emergency call: (the caller acknowledges, the line to show).
    duty: Option<(bool, String)>,
    v: ConsultationView,
    patient: String,
    patient_meta: Vec<Line>,
    form_class: &'static str,
    form_label: String,
    countdown: String,
    urgency: &'static str,
    deadline: String,
    deadline_iso: String,
    budget: i64,
    paused: bool,
    people: Vec<Line>,
    sections: Vec<Line>,
    vitals: String,
    diagnosis: Vec<Line>,
    timeline: Vec<TimelineItem>,
    thread: Vec<ThreadItem>,
    can_write: bool,
    files: Vec<FileItem>,
    can_attach: bool,
    document_ready: bool,
    /// The signers' own CMS signatures: (signer, details, checked).
    /// Each signer's own signature: who, what, valid, and the separate verdicts (text, holds).
    cms: Vec<CmsLine>,
    /// The caller signed and may add their own CMS signature.
    can_add_cms: bool,
    /// CryptoPro's plug-in API is served here (`ui::assets::cadesplugin_api`).
    cades_api: bool,
    max_upload: u64,
    max_upload_h: String,
    actions: Vec<ActionButton>,
    action_error: String,
    field_errors: BTreeMap<String, String>,
    reject_reasons: Vec<(String, String)>,
    escalate_reasons: Vec<(String, String)>,
    closeout_effects: Vec<(String, String)>,
    tkcs: Vec<(String, String, bool)>,
    consultants: Vec<(String, String, bool)>,
    route_hint: String,
    conclusion: Option<ConclusionView>,
    conclusion_lines: Vec<Line>,
    conclusion_signatures: Vec<Line>,
    can_edit_conclusion: bool,
    can_correct: bool,
    can_sign_correction: bool,
    is_dispatcher: bool,
    /// The way to the federal level: (state, federal number, federal status, error, next attempt).
    /// (state, federal number, state there, last error, next attempt,
    /// undelivered since — when past the alarm time, may be re-sent now).
    escalation: Option<(String, String, String, String, String, String, bool)>,
    correction_open: bool,
    /// Every issued version of a corrected conclusion: (version, issued at).
    doc_versions: Vec<(i32, String)>,
    /// The current version's СЭМД: (status in words, SHA-256).
    semd: Option<(String, String)>,
    /// What the СЭМД still lacks before the last signature, in words.
    semd_missing: Vec<String>,
    /// НСИ 1006 codes and names for the patient's condition.
    conditions: &'static [(&'static str, &'static str)],
    cf: BTreeMap<String, String>,
    schedule_default: String,
    video: Vec<VideoCard>,
    can_video_now: bool,
}

/// A video session about this request, as its page shows it.
pub struct VideoCard {
    pub id: i64,
    pub when: String,
    pub who: String,
    pub can_enter: bool,
    /// The external video system's room, for organizations that use one.
    pub external: Option<String>,
    pub log: Vec<super::video_pages::LogLine>,
    pub attendance: Vec<super::video_pages::TimeInRoom>,
}

impl RequestTpl {
    fn err(&self, field: &str) -> String {
        self.field_errors.get(field).cloned().unwrap_or_default()
    }
    fn cf(&self, field: &str) -> String {
        self.cf.get(field).cloned().unwrap_or_default()
    }
}

/// Every reason and effect label, spelled out so the catalogue test sees them.
#[allow(dead_code)]
const REASON_KEYS: &[&str] = &[
    lbl("reason-not-telemedicine-case"),
    lbl("reason-duplicate"),
    lbl("reason-wrong-profile"),
    lbl("reason-insufficient-data"),
    lbl("reason-needs-in-person-care"),
    lbl("reason-other"),
    lbl("reason-no-specialist"),
    lbl("reason-insufficient-qualification"),
    lbl("reason-treatment-adjusted"),
    lbl("reason-transfer-avoided"),
    lbl("reason-transfer-arranged"),
    lbl("reason-in-person-visit-needed"),
    lbl("reason-no-change"),
    lbl("esc-pending"),
    lbl("esc-delivered"),
    lbl("esc-completed"),
    lbl("esc-failed"),
    lbl("esc-manual"),
];

fn action_form(a: Action) -> &'static str {
    match a {
        Action::Return | Action::SendBack | Action::Decline | Action::RecordFederalConclusion => {
            "comment"
        }
        Action::Reject => "reject",
        Action::Escalate => "escalate",
        Action::Assign => "assign",
        Action::Schedule => "schedule",
        Action::Acknowledge => "acknowledge",
        Action::Cancel => "confirm",
        _ => "",
    }
}

struct Loaded {
    v: ConsultationView,
    events: Vec<EventView>,
    messages: Vec<MessageView>,
    conclusion: Option<ConclusionView>,
    tkcs: Vec<OrgRef>,
    consultants: Vec<ConsultantView>,
    route: Option<(OrgRef, Option<i64>)>,
    profile_name: Option<String>,
    purpose_name: Option<String>,
    icd_names: BTreeMap<String, String>,
    unread: i64,
    attachments: Vec<rtms_service::attachments::files::AttachmentView>,
    /// What the caller may do now (the service's rules; the page only shows them).
    allowed: rtms_service::lifecycle::rules::Allowed,
    duty: Option<rtms_service::lifecycle::duty_calls::DutyState>,
    video: Vec<rtms_service::scheduling::video::VideoSessionView>,
    cms: Vec<rtms_service::documents::CmsSignatureView>,
    escalation: Option<rtms_service::exchange::federal::EscalationView>,
    correction_open: bool,
    /// Documents of the signed versions: (version, issued at).
    doc_versions: Vec<(i32, chrono::DateTime<chrono::Utc>)>,
    semd: Option<rtms_service::documents::semd::SemdView>,
    semd_missing: Vec<rtms_domain::FieldError>,
}

async fn load(state: &AppState, u: &UiUser, id: i64) -> Result<Loaded, ServiceError> {
    let svc = state.svc.clone();
    let actor = u.actor.clone();
    let lang = u.lang;
    blocking(move || {
        // The page is one read of the request, recorded once in the audit trail.
        let page = svc.consultation_page(&actor, id, lang)?;
        let (v, events, messages, conclusion, attachments, allowed, duty) = (
            page.view,
            page.events,
            page.messages,
            page.conclusion,
            page.attachments,
            page.allowed,
            page.duty,
        );
        let assigning = v.available_actions.contains(&Action::Assign);
        let tkcs = if assigning {
            svc.organizations(OrgKind::Tkc)?
        } else {
            Vec::new()
        };
        let consultants = if assigning {
            let tkc = if actor.has(Role::Coordinator) && !actor.is_dispatcher() {
                v.assigned_tkc.as_ref().map(|t| t.id)
            } else {
                None
            };
            let mut list = svc.consultants(&actor, v.data.profile.as_deref(), tkc)?;
            if list.is_empty() {
                list = svc.consultants(&actor, None, tkc)?;
            }
            list
        } else {
            Vec::new()
        };
        let route = match (assigning, &v.data.profile, v.data.form_of_care) {
            (true, Some(p), Some(f)) => svc.suggested_route(p, f)?,
            _ => None,
        };
        let profile_name = v.data.profile.as_ref().and_then(|c| {
            svc.profiles(lang)
                .ok()?
                .into_iter()
                .find(|p| &p.code == c)
                .map(|p| p.name)
        });
        let purpose_name = v.data.purpose.as_ref().and_then(|c| {
            svc.purposes(lang)
                .ok()?
                .into_iter()
                .find(|p| &p.code == c)
                .map(|p| p.name)
        });
        let mut codes: Vec<String> = v.data.icd10_codes().into_iter().map(|(_, c)| c).collect();
        if let Some(k) = &conclusion {
            codes.push(k.diagnosis_main.clone());
        }
        let icd_names: BTreeMap<String, String> = svc.icd10_names(&codes)?.into_iter().collect();
        let unread = svc.notifications(&actor, lang, 0)?.unread;
        let video = svc.video_sessions_of(&actor, id)?;
        let cms = match conclusion.as_ref().filter(|k| k.signed_at.is_some()) {
            Some(k) => svc.cms_signatures_of_conclusion(k.id)?,
            None => Vec::new(),
        };
        let (correction_open, doc_versions) = if conclusion.is_some() {
            (
                svc.correction_open(id)?,
                svc.document_versions_unaudited(id)?
                    .into_iter()
                    .map(|d| (d.version, d.created_at.and_utc()))
                    .collect(),
            )
        } else {
            (false, Vec::new())
        };
        let semd = match conclusion.as_ref().filter(|k| k.signed_at.is_some()) {
            Some(k) => svc
                .semd_versions_unaudited(id)?
                .into_iter()
                .find(|d| d.version == k.version),
            None => None,
        };
        // Before the last signature the consultant sees what the СЭМД lacks
        // (the condition has its own field in the form).
        let semd_missing = if v.available_actions.contains(&Action::Sign)
            && conclusion.as_ref().is_some_and(|k| k.signed_at.is_none())
        {
            svc.semd_missing(id)?
                .into_iter()
                .filter(|e| e.field != "patient_condition")
                .collect()
        } else {
            Vec::new()
        };
        let escalation = svc.escalation_state(&actor, id)?;
        Ok(Loaded {
            semd,
            semd_missing,
            escalation,
            correction_open,
            doc_versions,
            cms,
            video,
            v,
            events,
            messages,
            conclusion,
            tkcs,
            consultants,
            route,
            profile_name,
            purpose_name,
            icd_names,
            unread,
            attachments,
            allowed,
            duty,
        })
    })
    .await
    .map_err(|e| match e {
        crate::error::AppError::Service(s, _) => s,
        _ => ServiceError::NotFound,
    })
}

fn opt(label: String, value: String, out: &mut Vec<Line>) {
    if !value.trim().is_empty() {
        out.push(Line { label, value });
    }
}

/// The emergency call as one line: the called consultant's to acknowledge,
/// or who is awaited by when, or who acknowledged.
fn duty_line(
    duty: Option<&rtms_service::lifecycle::duty_calls::DutyState>,
    p: &Page,
) -> Option<(bool, String)> {
    let d = duty?;
    let when = |t| fmt::datetime(t, p.tz, None, p.lang);
    if let Some(open) = &d.open {
        let due = when(open.due_at);
        if d.may_ack {
            return Some((
                true,
                rtms_i18n::tr_args(p.lang, "duty-call-you", &[("due", due.into())]),
            ));
        }
        let who = open
            .name
            .clone()
            .unwrap_or_else(|| tr(p.lang, "duty-call-dispatchers"));
        return Some((
            false,
            rtms_i18n::tr_args(
                p.lang,
                "duty-call-waiting",
                &[("who", who.into()), ("due", due.into())],
            ),
        ));
    }
    let acked = d.calls.iter().find(|c| c.acked_at.is_some())?;
    let who = acked
        .name
        .clone()
        .unwrap_or_else(|| tr(p.lang, "duty-call-dispatchers"));
    Some((
        false,
        rtms_i18n::tr_args(
            p.lang,
            "duty-call-acked",
            &[("who", who.into()), ("at", when(acked.acked_at?).into())],
        ),
    ))
}

async fn render_page(
    state: &AppState,
    u: &UiUser,
    id: i64,
    action_error: String,
    field_errors: BTreeMap<String, String>,
    cf: BTreeMap<String, String>,
) -> Response {
    let lang = u.lang;
    let l = match load(state, u, id).await {
        Ok(l) => l,
        Err(e) => return error_page(u, &e),
    };
    let p = Page::for_user(u, String::new(), "queue", l.unread);
    let tz = p.tz;
    let req_tz = Some(fmt::tz(&l.v.requesting_organization.time_zone));
    let duty = duty_line(l.duty.as_ref(), &p);
    let v = l.v;
    let d = &v.data;
    let pt = &d.patient;
    let patient = if pt.unidentified && pt.last_name.is_empty() {
        tr(lang, "patient-unidentified")
    } else {
        let n = [&pt.last_name, &pt.first_name, &pt.middle_name]
            .iter()
            .filter(|s| !s.is_empty())
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        if n.is_empty() {
            tr(lang, "patient-unnamed")
        } else {
            n
        }
    };
    let mut patient_meta = Vec::new();
    if let Some(b) = pt.birth_date {
        opt(
            tr(lang, "f-patient-birth_date"),
            format!(
                "{} ({})",
                fmt::date(b, lang),
                tr_count(
                    lang,
                    "age-years",
                    i64::from(fmt::age(b, Utc::now().date_naive()))
                )
            ),
            &mut patient_meta,
        );
    }
    opt(
        tr(lang, "f-patient-sex"),
        pt.sex
            .map(|s| s.label(lang).to_string())
            .unwrap_or_default(),
        &mut patient_meta,
    );
    opt(
        tr(lang, "f-patient-snils"),
        pt.snils
            .as_ref()
            .and_then(|s| rtms_domain::validate::Snils::parse(s).ok())
            .map(|s| s.formatted())
            .unwrap_or_default(),
        &mut patient_meta,
    );
    opt(
        tr(lang, "f-patient-oms_policy"),
        match (
            pt.oms_policy.as_deref(),
            pt.oms_policy_type.as_deref().and_then(|c| {
                rtms_domain::nsi::name_of(
                    rtms_domain::nsi::in_lang(
                        &rtms_domain::nsi::POLICY_CODES,
                        &rtms_domain::nsi::POLICY_CODES_EN,
                        lang,
                    ),
                    c,
                )
            }),
        ) {
            (Some(n), Some(kind)) => format!("{n} ({kind})"),
            (Some(n), None) => n.to_string(),
            _ => String::new(),
        },
        &mut patient_meta,
    );
    if let Some(kind) = pt.id_doc_type.as_deref().and_then(|c| {
        rtms_domain::nsi::name_of(
            rtms_domain::nsi::in_lang(
                &rtms_domain::nsi::IDENTITY_DOC_CODES,
                &rtms_domain::nsi::IDENTITY_DOC_CODES_EN,
                lang,
            ),
            c,
        )
    }) {
        let issued = pt
            .id_doc_issued
            .map(|d| fmt::date(d, lang))
            .unwrap_or_default();
        opt(
            tr(lang, "f-patient-id_doc_type"),
            [
                kind.to_string(),
                pt.id_doc_series.clone(),
                pt.id_doc_number.clone(),
                issued,
                pt.id_doc_issuer.clone(),
            ]
            .into_iter()
            .filter(|s| !s.trim().is_empty())
            .collect::<Vec<_>>()
            .join(", "),
            &mut patient_meta,
        );
    }
    opt(
        tr(lang, "f-patient-address"),
        pt.address.clone(),
        &mut patient_meta,
    );
    opt(
        tr(lang, "f-patient-description"),
        pt.description.clone(),
        &mut patient_meta,
    );

    let (countdown, urgency) = fmt::countdown(
        v.remaining_seconds,
        v.budget_seconds,
        v.deadline_paused,
        lang,
    );
    let mut people = Vec::new();
    opt(
        tr(lang, "req-from"),
        format!("{} — {}", v.requesting_organization.name, v.requester.name),
        &mut people,
    );
    opt(
        tr(lang, "f-contact_phone"),
        d.contact_phone.clone(),
        &mut people,
    );
    opt(
        tr(lang, "req-tkc"),
        v.assigned_tkc
            .as_ref()
            .map(|t| t.name.clone())
            .unwrap_or_default(),
        &mut people,
    );
    opt(
        tr(lang, "req-consultants"),
        v.consultants
            .iter()
            .map(|c| c.name.clone())
            .collect::<Vec<_>>()
            .join(", "),
        &mut people,
    );
    opt(
        tr(lang, "f-profile"),
        l.profile_name.clone().unwrap_or_default(),
        &mut people,
    );
    opt(
        tr(lang, "f-purpose"),
        l.purpose_name.clone().unwrap_or_default(),
        &mut people,
    );
    opt(
        tr(lang, "f-mode"),
        d.mode
            .map(|m| m.label(lang).to_string())
            .unwrap_or_default(),
        &mut people,
    );
    if d.patient_present {
        opt(tr(lang, "f-patient_present"), tr(lang, "yes"), &mut people);
    }
    opt(
        tr(lang, "req-created"),
        fmt::datetime(v.created_at, tz, req_tz, lang),
        &mut people,
    );
    opt(
        tr(lang, "req-submitted"),
        v.submitted_at
            .map(|t| fmt::datetime(t, tz, req_tz, lang))
            .unwrap_or_default(),
        &mut people,
    );
    if let Some(s) = v.scheduled_start {
        opt(
            tr(lang, "req-scheduled"),
            format!(
                "{}, {}",
                fmt::datetime(s, tz, req_tz, lang),
                tr_count(
                    lang,
                    "duration-minutes",
                    i64::from(v.scheduled_minutes.unwrap_or(30))
                )
            ),
            &mut people,
        );
    }
    opt(
        tr(lang, "f-consent_given"),
        if d.consent_given {
            tr(lang, "yes")
        } else {
            format!("{} — {}", tr(lang, "no"), d.consent_ground)
        },
        &mut people,
    );

    let name_of = |c: &str| {
        l.icd_names
            .get(c)
            .map(|n| format!("{c} — {n}"))
            .unwrap_or_else(|| c.to_string())
    };
    let mut diagnosis = Vec::new();
    opt(
        tr(lang, "f-diagnosis-main"),
        d.diagnosis.main.as_deref().map(name_of).unwrap_or_default(),
        &mut diagnosis,
    );
    opt(
        tr(lang, "f-diagnosis-text"),
        d.diagnosis.text.clone(),
        &mut diagnosis,
    );
    opt(
        tr(lang, "f-diagnosis-complications"),
        d.diagnosis
            .complications
            .iter()
            .map(|c| name_of(c))
            .collect::<Vec<_>>()
            .join("; "),
        &mut diagnosis,
    );
    opt(
        tr(lang, "f-diagnosis-comorbidities"),
        d.diagnosis
            .comorbidities
            .iter()
            .map(|c| name_of(c))
            .collect::<Vec<_>>()
            .join("; "),
        &mut diagnosis,
    );

    let mut sections = Vec::new();
    for (key, value) in [
        (lbl("f-anamnesis_morbi"), &d.anamnesis_morbi),
        (lbl("f-anamnesis_vitae"), &d.anamnesis_vitae),
        (lbl("f-epidemiological_history"), &d.epidemiological_history),
        (lbl("f-objective_status"), &d.objective_status),
        (lbl("f-lab_results"), &d.lab_results),
        (lbl("f-instrumental_results"), &d.instrumental_results),
        (lbl("f-current_treatment"), &d.current_treatment),
        (lbl("f-previous_consultations"), &d.previous_consultations),
    ] {
        opt(tr(lang, key), value.clone(), &mut sections);
    }
    let vt = &d.vitals;
    let mut vitals = Vec::new();
    if let (Some(s), Some(di)) = (vt.bp_systolic, vt.bp_diastolic) {
        vitals.push(format!("{} {s}/{di}", tr(lang, "vital-bp")));
    }
    let per_min = tr(lang, "per-min");
    for (key, val, unit) in [
        (lbl("vital-hr"), vt.heart_rate, per_min.as_str()),
        (lbl("vital-rr"), vt.resp_rate, per_min.as_str()),
        (lbl("vital-spo2"), vt.spo2, "%"),
    ] {
        if let Some(x) = val {
            vitals.push(format!("{} {x}{unit}", tr(lang, key)));
        }
    }
    if let Some(t) = vt.temperature {
        // Russian writes a decimal comma, English a point.
        let t = if lang == Lang::Ru {
            t.to_string().replace('.', ",")
        } else {
            t.to_string()
        };
        vitals.push(format!("t° {t}"));
    }

    let timeline = l
        .events
        .iter()
        .map(|e| TimelineItem {
            at: fmt::datetime(e.at, tz, None, lang),
            what: e.action_label.clone(),
            target: e.target.clone().unwrap_or_default(),
            who: match (&e.actor, &e.actor_organization, e.actor_role) {
                (Some(a), Some(o), Some(r)) => {
                    format!("{} ({}, {})", a.name, r.label(lang), o.name)
                }
                (Some(a), _, _) => a.name.clone(),
                _ => String::new(),
            },
            comment: [
                e.comment.clone(),
                e.reason_code
                    .as_deref()
                    .map(|r| rtms_service::reporting::reports::reason_label(r, lang))
                    .unwrap_or_default(),
            ]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" — "),
        })
        .collect();
    let file_item = |a: &rtms_service::attachments::files::AttachmentView| FileItem {
        id: a.id,
        name: a.file_name.clone(),
        kind: a.kind.as_str().to_uppercase().replace("_ZIP", " ZIP"),
        size: human_size(a.size, lang),
        sha256: a.sha256.clone(),
        who: a.uploaded_by.name.clone(),
        at: fmt::datetime(a.created_at, tz, None, lang),
        dicom: a.kind.is_dicom(),
        dicom_error: a
            .dicom_error
            .as_deref()
            .map(|code| super::i18n::dicom_error_text(code, lang))
            .unwrap_or_default(),
    };
    let files: Vec<FileItem> = l
        .attachments
        .iter()
        .filter(|a| a.message_id.is_none())
        .map(file_item)
        .collect();
    let thread = l
        .messages
        .iter()
        .map(|m| ThreadItem {
            id: m.id,
            attachable: l.allowed.attach && m.author.id == u.actor.user.id,
            at: fmt::datetime(m.created_at, tz, None, lang),
            who: format!("{} ({})", m.author.name, m.author_role.label(lang)),
            question: m.kind == "question",
            body: m.body.clone(),
            files: l
                .attachments
                .iter()
                .filter(|a| a.message_id == Some(m.id))
                .map(file_item)
                .collect(),
        })
        .collect();
    let can_edit_conclusion = l.allowed.edit_conclusion;
    // A correction is signed in its form while it can still be edited (before
    // the first signature), then with a button of its own.
    let can_sign_correction = l.allowed.sign_correction && !can_edit_conclusion;
    let mut actions: Vec<ActionButton> = v
        .available_actions
        .iter()
        // Submitting is the form's job, signing the conclusion form's.
        .filter(|a| {
            !(matches!(a, Action::Submit | Action::Resubmit)
                || (**a == Action::Sign && can_edit_conclusion))
        })
        .map(|a| ActionButton {
            action: a.as_str(),
            label: a.label(lang).to_string(),
            form: action_form(*a),
            primary: matches!(
                a,
                Action::Take
                    | Action::Accept
                    | Action::Start
                    | Action::Sign
                    | Action::Approve
                    | Action::Assign
                    | Action::Acknowledge
            ),
        })
        .collect();
    actions.sort_by_key(|a| !a.primary);
    let route_tkc = l.route.as_ref().map(|(t, _)| t.id);
    let route_consultant = l.route.as_ref().and_then(|(_, c)| *c);
    let route_hint = l
        .route
        .as_ref()
        .map(|(t, _)| format!("{}: {}", tr(lang, "assign-route"), t.name))
        .unwrap_or_default();
    let mut cf = cf;
    // The conclusion form shows the saved draft unless this very post brought its fields.
    if !cf.contains_key("findings") {
        if let Some(k) = &l.conclusion {
            cf.insert("diagnosis_main".into(), k.diagnosis_main.clone());
            cf.insert("diagnosis_text".into(), k.diagnosis_text.clone());
            cf.insert("findings".into(), k.findings.clone());
            cf.insert("recommendations".into(), k.recommendations.clone());
            cf.insert("transfer".into(), k.transfer.clone());
            cf.insert("follow_up".into(), k.follow_up.clone());
            if let Some(c) = &k.patient_condition {
                cf.insert("patient_condition".into(), c.clone());
            }
            if k.follow_up_needed {
                cf.insert("follow_up_needed".into(), "on".into());
            }
        } else if let Some(main) = &d.diagnosis.main {
            cf.insert("diagnosis_main".into(), main.clone());
        }
    }
    let mut conclusion_lines = Vec::new();
    let mut conclusion_signatures = Vec::new();
    if let Some(k) = &l.conclusion {
        opt(
            tr(lang, "concl-diagnosis"),
            name_of(&k.diagnosis_main),
            &mut conclusion_lines,
        );
        opt(
            tr(lang, "f-diagnosis-text"),
            k.diagnosis_text.clone(),
            &mut conclusion_lines,
        );
        opt(
            tr(lang, "concl-findings"),
            k.findings.clone(),
            &mut conclusion_lines,
        );
        opt(
            tr(lang, "concl-recommendations"),
            k.recommendations.clone(),
            &mut conclusion_lines,
        );
        opt(
            tr(lang, "concl-transfer"),
            k.transfer.clone(),
            &mut conclusion_lines,
        );
        if k.follow_up_needed {
            opt(
                tr(lang, "concl-follow-up"),
                if k.follow_up.is_empty() {
                    tr(lang, "yes")
                } else {
                    k.follow_up.clone()
                },
                &mut conclusion_lines,
            );
        }
        for s in &k.signatures {
            conclusion_signatures.push(Line {
                label: s.name.clone(),
                value: s
                    .signed_at
                    .map(|t| fmt::datetime(t, tz, None, lang))
                    .unwrap_or_default(),
            });
        }
    }
    let me = u.actor.user.id;
    let can_video_now = l.allowed.video_now;
    let schedule_default = (Utc::now() + chrono::Duration::hours(2))
        .with_timezone(&tz)
        .format("%Y-%m-%dT%H:00")
        .to_string();
    let deadline = v
        .deadline
        .map(|t| fmt::datetime(t, tz, req_tz, lang))
        .unwrap_or_default();
    let deadline_iso = v.deadline.map(|t| t.to_rfc3339()).unwrap_or_default();
    let form_class = d.form_of_care.map(|f| f.as_str()).unwrap_or("");
    let form_label = d
        .form_of_care
        .map(|f| f.label(lang).to_string())
        .unwrap_or_default();
    let mut p = p;
    p.title = format!("{} {} · {}", tr(lang, "number-sign"), v.id, patient);
    let status = if action_error.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let tpl = RequestTpl {
        duty,
        patient,
        patient_meta,
        form_class,
        form_label,
        countdown,
        urgency,
        deadline,
        deadline_iso,
        budget: v.budget_seconds.unwrap_or(0),
        paused: v.deadline_paused,
        people,
        sections,
        vitals: vitals.join(" · "),
        diagnosis,
        timeline,
        thread,
        can_write: l.allowed.write_message,
        files,
        can_attach: l.allowed.attach,
        document_ready: l.conclusion.as_ref().is_some_and(|k| k.signed_at.is_some())
            && !v.consultants.is_empty()
            && v.consultants.iter().all(|c| c.signed_at.is_some()),
        cms: cms_lines(lang, &l.cms),
        cades_api: super::assets::cadesplugin_api().is_some(),
        can_add_cms: l.allowed.add_cms,
        max_upload: state.svc.files.max_bytes,
        max_upload_h: human_size(state.svc.files.max_bytes as i64, lang),
        actions,
        action_error,
        field_errors,
        reject_reasons: REJECT_REASONS
            .iter()
            .map(|r| {
                (
                    r.to_string(),
                    rtms_service::reporting::reports::reason_label(r, lang),
                )
            })
            .collect(),
        escalate_reasons: ESCALATE_REASONS
            .iter()
            .map(|r| {
                (
                    r.to_string(),
                    rtms_service::reporting::reports::reason_label(r, lang),
                )
            })
            .collect(),
        closeout_effects: CLOSEOUT_EFFECTS
            .iter()
            .map(|r| {
                (
                    r.to_string(),
                    rtms_service::reporting::reports::reason_label(r, lang),
                )
            })
            .collect(),
        tkcs: l
            .tkcs
            .iter()
            .map(|t| (t.id.to_string(), t.name.clone(), Some(t.id) == route_tkc))
            .collect(),
        consultants: l
            .consultants
            .iter()
            .map(|c| {
                let mut load = format!(
                    "{} — {} ({}: {})",
                    c.name,
                    c.organization.name,
                    tr(lang, "assign-load"),
                    c.open_consultations
                );
                if c.on_duty {
                    load.push_str(&format!(" · {}", tr(lang, "assign-on-duty")));
                }
                if c.absent {
                    load.push_str(&format!(" · {}", tr(lang, "duty-absent")));
                }
                if c.suggested {
                    load.push_str(&format!(" · {}", tr(lang, "assign-suggested")));
                }
                (c.id.to_string(), load, Some(c.id) == route_consultant)
            })
            .collect(),
        route_hint,
        conclusion: l.conclusion,
        conclusion_lines,
        conclusion_signatures,
        can_edit_conclusion,
        can_correct: l.allowed.correct,
        can_sign_correction,
        is_dispatcher: u.actor.is_dispatcher(),
        escalation: l.escalation.as_ref().map(|e| {
            (
                tr(lang, &format!("esc-{}", e.state)),
                e.federal_id.clone().unwrap_or_default(),
                e.federal_status.clone(),
                federal_error_text(&e.last_error, lang),
                e.next_attempt_at
                    .map(|t| fmt::datetime(t, tz, None, lang))
                    .unwrap_or_default(),
                if e.overdue {
                    e.pending_since
                        .map(|t| fmt::datetime(t, tz, None, lang))
                        .unwrap_or_default()
                } else {
                    String::new()
                },
                matches!(e.state.as_str(), "pending" | "failed" | "delivered"),
            )
        }),
        correction_open: l.correction_open,
        doc_versions: if l.doc_versions.len() > 1 {
            l.doc_versions
                .iter()
                .map(|(n, at)| (*n, fmt::datetime(*at, tz, None, lang)))
                .collect()
        } else {
            Vec::new()
        },
        semd: l.semd.as_ref().map(|d| {
            (
                tr(lang, &format!("semd-status-{}", d.status)),
                d.sha256.clone(),
            )
        }),
        semd_missing: {
            let mut m: Vec<String> = l
                .semd_missing
                .iter()
                .map(|e| rtms_i18n::refusal(e.code, lang).to_string())
                .collect();
            m.dedup();
            m
        },
        conditions: rtms_domain::nsi::in_lang(
            &rtms_domain::nsi::CONDITION_CODES,
            &rtms_domain::nsi::CONDITION_CODES_EN,
            lang,
        ),
        cf,
        schedule_default,
        can_video_now,
        video: l
            .video
            .iter()
            .map(|s| {
                let (log, attendance) = super::video_pages::log_lines(s, tz, lang);
                VideoCard {
                    id: s.id,
                    when: format!(
                        "{} — {}",
                        fmt::datetime(s.starts_at, tz, None, lang),
                        s.ends_at.with_timezone(&tz).format("%H:%M")
                    ),
                    who: s
                        .participants
                        .iter()
                        .map(|p| p.name.clone())
                        .collect::<Vec<_>>()
                        .join(", "),
                    can_enter: !s.cancelled && s.participants.iter().any(|p| p.id == me),
                    external: s.external_link.clone(),
                    log,
                    attendance,
                }
            })
            .collect(),
        p,
        v,
    };
    (status, render(tpl)).into_response()
}

pub async fn show(State(state): State<AppState>, u: UiUser, Path(id): Path<i64>) -> Response {
    render_page(
        &state,
        &u,
        id,
        String::new(),
        BTreeMap::new(),
        BTreeMap::new(),
    )
    .await
}

fn field_errors(e: &ServiceError, lang: Lang) -> BTreeMap<String, String> {
    match e {
        ServiceError::Invalid(list) => list
            .iter()
            .map(|f| {
                (
                    f.field.clone(),
                    rtms_i18n::refusal(f.code, lang).to_string(),
                )
            })
            .collect(),
        _ => BTreeMap::new(),
    }
}

/// The local time typed in a `datetime-local` field, in the viewer's zone.
fn parse_local(raw: &str, tz: chrono_tz::Tz) -> Option<DateTime<Utc>> {
    let naive = NaiveDateTime::parse_from_str(raw.trim(), "%Y-%m-%dT%H:%M").ok()?;
    tz.from_local_datetime(&naive)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

pub async fn act(
    State(state): State<AppState>,
    u: UiUser,
    Path((id, action)): Path<(i64, String)>,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    let lang = u.lang;
    let Some(action) = Action::parse(&action) else {
        return error_page(&u, &ServiceError::NotFound);
    };
    let tz = Page::for_user(&u, String::new(), "", 0).tz;
    let get = |k: &str| {
        form.get(k)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let mut params = ActionParams {
        comment: get("comment"),
        reason_code: get("reason_code"),
        tkc_id: get("tkc_id").and_then(|v| v.parse().ok()),
        consultant_id: get("consultant_id").and_then(|v| v.parse().ok()),
        consultant_ids: None,
        starts_at: None,
        duration_minutes: get("duration_minutes").and_then(|v| v.parse().ok()),
        useful: get("useful").map(|v| v == "yes"),
        effect: get("effect"),
    };
    if let Some(raw) = get("starts_at") {
        match parse_local(&raw, tz) {
            Some(t) => params.starts_at = Some(t),
            None => {
                let e = ServiceError::field("starts_at", "datetime_format");
                return with_error_status(
                    render_page(
                        &state,
                        &u,
                        id,
                        crate::error::message(&e, lang),
                        field_errors(&e, lang),
                        BTreeMap::new(),
                    )
                    .await,
                    &e,
                );
            }
        }
    }
    // Assigning to a consultant picks their centre; the centre list is then only a hint.
    if params.consultant_id.is_some() && action == Action::Assign {
        params.tkc_id = None;
    }
    // What was typed into the action's form comes back with the error.
    let typed: BTreeMap<String, String> = form
        .get("comment")
        .map(|c| ("comment".to_string(), c.clone()))
        .into_iter()
        .collect();
    let svc = state.svc.clone();
    let actor = u.actor.clone();
    // Scheduling from the request books the video session with its people.
    let done = blocking(move || match action {
        Action::Schedule => svc.schedule_video(&actor, id, &params).map(|_| ()),
        _ => svc.act(&actor, id, action, &params).map(|_| ()),
    });
    match done.await {
        Ok(_) => Redirect::to(&format!("/requests/{id}")).into_response(),
        Err(crate::error::AppError::Service(e, _)) => {
            let msg = format!(
                "{}: {}",
                action.label(lang),
                crate::error::message(&e, lang)
            );
            with_error_status(
                render_page(&state, &u, id, msg, field_errors(&e, lang), typed.clone()).await,
                &e,
            )
        }
        Err(_) => error_page(&u, &ServiceError::NotFound),
    }
}

pub async fn post_message(
    State(state): State<AppState>,
    u: UiUser,
    Path(id): Path<i64>,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    let lang = u.lang;
    let body = form.get("body").cloned().unwrap_or_default();
    let svc = state.svc.clone();
    let actor = u.actor.clone();
    let b = body.clone();
    match blocking(move || svc.post_message(&actor, id, &b)).await {
        Ok(_) => Redirect::to(&format!("/requests/{id}#thread")).into_response(),
        Err(crate::error::AppError::Service(e, _)) => {
            let mut cf = BTreeMap::new();
            cf.insert("message".to_string(), body);
            with_error_status(
                render_page(
                    &state,
                    &u,
                    id,
                    crate::error::message(&e, lang),
                    field_errors(&e, lang),
                    cf,
                )
                .await,
                &e,
            )
        }
        Err(_) => error_page(&u, &ServiceError::NotFound),
    }
}

/// Sends the escalation to the federal level again now (the dispatcher's button).
pub async fn resend_federal(
    State(state): State<AppState>,
    u: UiUser,
    Path(id): Path<i64>,
) -> Response {
    let svc = state.svc.clone();
    let actor = u.actor.clone();
    let lang = u.lang;
    match blocking(move || svc.federal_resend(&actor, id)).await {
        Ok(()) => Redirect::to(&format!("/requests/{id}#escalation")).into_response(),
        Err(crate::error::AppError::Service(e, _)) => {
            if matches!(e, ServiceError::Forbidden | ServiceError::NotFound) {
                return error_page(&u, &e);
            }
            with_error_status(
                render_page(
                    &state,
                    &u,
                    id,
                    crate::error::message(&e, lang),
                    BTreeMap::new(),
                    BTreeMap::new(),
                )
                .await,
                &e,
            )
        }
        Err(_) => error_page(&u, &ServiceError::NotFound),
    }
}

/// Manual mode: the federal number and state, from the request page.
pub async fn record_federal(
    State(state): State<AppState>,
    u: UiUser,
    Path(id): Path<i64>,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    let lang = u.lang;
    let number = form.get("federal_number").cloned().unwrap_or_default();
    let fstate = form.get("federal_state").cloned().unwrap_or_default();
    let svc = state.svc.clone();
    let actor = u.actor.clone();
    match blocking(move || svc.record_federal_manually(&actor, id, &number, &fstate)).await {
        Ok(()) => Redirect::to(&format!("/requests/{id}#escalation")).into_response(),
        Err(crate::error::AppError::Service(e, _)) => with_error_status(
            render_page(
                &state,
                &u,
                id,
                crate::error::message(&e, lang),
                field_errors(&e, lang),
                form,
            )
            .await,
            &e,
        ),
        Err(_) => error_page(&u, &ServiceError::NotFound),
    }
}

/// Opens a correction of the signed conclusion (`comment`: what and why), or
/// signs an open one (`intent=sign`), from the page.
pub async fn correct(
    State(state): State<AppState>,
    u: UiUser,
    Path(id): Path<i64>,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    let lang = u.lang;
    let result = if form.get("intent").map(String::as_str) == Some("sign") {
        let svc = state.svc.clone();
        let actor = u.actor.clone();
        blocking(move || svc.sign_correction(&actor, id))
            .await
            .map_err(|e| match e {
                crate::error::AppError::Service(e, _) => e,
                _ => ServiceError::NotFound,
            })
    } else {
        let comment = form.get("comment").cloned().unwrap_or_default();
        state.svc.start_correction(&u.actor, id, &comment).await
    };
    match result {
        Ok(()) => Redirect::to(&format!("/requests/{id}#conclusion")).into_response(),
        Err(e) => with_error_status(
            render_page(
                &state,
                &u,
                id,
                crate::error::message(&e, lang),
                field_errors(&e, lang),
                form,
            )
            .await,
            &e,
        ),
    }
}

/// A signer's own detached CMS signature of the conclusion PDF, uploaded from
/// the page (multipart, field `signature`).
pub async fn add_cms(
    State(state): State<AppState>,
    u: UiUser,
    Path(id): Path<i64>,
    form: Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let lang = u.lang;
    let mut bytes = Vec::new();
    let mut target = String::from("pdf");
    // No file (or not a form upload): the service says why in words.
    if let Ok(mut form) = form {
        while let Ok(Some(field)) = form.next_field().await {
            match field.name() {
                Some("signature") => {
                    bytes = field.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
                }
                Some("target") => {
                    target = field.text().await.unwrap_or_default();
                }
                _ => {}
            }
        }
    }
    match state
        .svc
        .add_cms_signature(&u.actor, id, bytes, &target)
        .await
    {
        Ok(_) => Redirect::to(&format!("/requests/{id}#conclusion")).into_response(),
        Err(e) => with_error_status(
            render_page(
                &state,
                &u,
                id,
                crate::error::message(&e, lang),
                field_errors(&e, lang),
                BTreeMap::new(),
            )
            .await,
            &e,
        ),
    }
}

pub async fn save_conclusion(
    State(state): State<AppState>,
    u: UiUser,
    Path(id): Path<i64>,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    let lang = u.lang;
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    let input = ConclusionInput {
        diagnosis_main: get("diagnosis_main"),
        diagnosis_text: get("diagnosis_text"),
        findings: get("findings"),
        recommendations: get("recommendations"),
        transfer: get("transfer"),
        follow_up_needed: form.get("follow_up_needed").is_some_and(|v| v == "on"),
        follow_up: get("follow_up"),
        patient_condition: form.get("patient_condition").cloned(),
    };
    let sign = form.get("intent").map(String::as_str) == Some("sign");
    let svc = state.svc.clone();
    let actor = u.actor.clone();
    let result = blocking(move || {
        svc.put_conclusion(&actor, id, &input)?;
        if sign {
            if svc.correction_open(id)? {
                svc.sign_correction(&actor, id)?;
            } else {
                svc.act(&actor, id, Action::Sign, &ActionParams::default())?;
            }
        }
        Ok(())
    })
    .await;
    match result {
        Ok(()) => Redirect::to(&format!("/requests/{id}#conclusion")).into_response(),
        Err(crate::error::AppError::Service(e, _)) => with_error_status(
            render_page(
                &state,
                &u,
                id,
                crate::error::message(&e, lang),
                field_errors(&e, lang),
                form,
            )
            .await,
            &e,
        ),
        Err(_) => error_page(&u, &ServiceError::NotFound),
    }
}

/// The outbox's last error as a dispatcher reads it: the known causes in
/// the page's language, the technical detail after them as it came.
pub(crate) fn federal_error_text(error: &str, lang: Lang) -> String {
    if lang == Lang::En {
        return error.to_string();
    }
    const CAUSES: &[(&str, &str)] = &[
        (
            "the federal level is unreachable",
            "federal-cause-unreachable",
        ),
        ("the federal level answered", "federal-cause-answered"),
        ("the federal level refused", "federal-cause-refused"),
        ("the federal level gave no", "federal-cause-gave-no"),
        ("the federal level lost", "federal-cause-lost"),
        (
            "the federal level took no bytes",
            "federal-cause-took-no-bytes",
        ),
        ("the file cannot be read here", "federal-cause-unreadable"),
        ("the federal protocol", "federal-cause-protocol"),
    ];
    for (en, key) in CAUSES {
        if let Some(rest) = error.strip_prefix(en) {
            return format!("{}{rest}", tr(lang, key));
        }
    }
    error.to_string()
}

/// The СЭМД's print form: the stored document with the Ministry's XSLT
/// named in front of it, rendered by the browser. The XSLT writes one inline
/// `<style>`, so this answer's policy allows inline styles (and still no
/// script of any kind); the signed bytes are `/api/v1/consultations/{id}/semd`.
pub async fn semd_print(State(state): State<AppState>, u: UiUser, Path(id): Path<i64>) -> Response {
    let svc = state.svc.clone();
    let actor = u.actor.clone();
    let made = blocking(move || svc.semd(&actor, id, None)).await;
    let xml = match made {
        Ok((_, xml)) => xml,
        Err(crate::error::AppError::Service(e, _)) => return super::shell::error_page(&u, &e),
        Err(_) => return super::shell::error_page(&u, &ServiceError::NotFound),
    };
    let body = match xml.split_once('\n') {
        Some((decl, rest)) if decl.starts_with("<?xml") => format!(
            "{decl}\n<?xml-stylesheet type=\"text/xsl\" href=\"/static/semd-print.xsl\"?>\n{rest}"
        ),
        _ => xml,
    };
    (
        [
            (axum::http::header::CONTENT_TYPE, "application/xml; charset=utf-8"),
            (
                axum::http::header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; report-uri /browser-report",
            ),
        ],
        body,
    )
        .into_response()
}
