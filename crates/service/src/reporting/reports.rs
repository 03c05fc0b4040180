//! Reports for the region: volumes, deadline compliance, time to conclusion,
//! returns and rejections, escalations, what the close-out says, workload.
//! Aggregates only: no patient appears in a report.

use rtms_i18n::Label;
use std::collections::{BTreeMap, HashMap};

use chrono::{NaiveDate, NaiveDateTime};
use rtms_domain::{FormOfCare, Lang, OrgKind, Role, Status};
use rtms_store::repo;
use serde::Serialize;
use utoipa::ToSchema;

use crate::lifecycle::consultations::{CLOSEOUT_EFFECTS, ESCALATE_REASONS, REJECT_REASONS};
use crate::{Actor, ServiceError, Services};

#[derive(Debug, Clone, Default)]
pub struct ReportFilter {
    /// First day, inclusive.
    pub from: Option<NaiveDate>,
    /// Last day, inclusive.
    pub to: Option<NaiveDate>,
    pub form_of_care: Option<FormOfCare>,
    pub profile: Option<String>,
    pub organization: Option<i64>,
    pub tkc: Option<i64>,
}

/// One line of a table: a name and its numbers.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Line {
    pub name: String,
    pub count: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Compliance {
    pub form: String,
    /// Requests that got a conclusion.
    pub answered: i64,
    pub in_time: i64,
    /// Share answered in time, 0–100.
    pub in_time_percent: f64,
    /// Hours from submission to the signed conclusion.
    pub median_hours: Option<f64>,
    pub p90_hours: Option<f64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Workload {
    pub consultant: String,
    pub assigned: i64,
    pub answered: i64,
}

/// The emergency call chain for one form of care, centre and profile: how
/// fast the consultants on duty acknowledged, and how often a backup or the
/// dispatchers had to.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DutyFigures {
    pub form_of_care: String,
    pub centre: String,
    pub profile: String,
    /// Requests whose chain called somebody.
    pub called: i64,
    /// Of them, acknowledged (by anyone in the chain).
    pub acknowledged: i64,
    /// Minutes from the first call to the first acknowledgement: median, 90th percentile.
    pub ack_minutes_median: Option<f64>,
    pub ack_minutes_p90: Option<f64>,
    /// Acknowledged by a backup (the primary did not answer in time).
    pub by_backup: i64,
    /// Reached the dispatchers' alarm.
    pub alarms: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Report {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub submitted: i64,
    pub answered: i64,
    pub open: i64,
    pub overdue_open: i64,
    pub by_form: Vec<Line>,
    pub by_profile: Vec<Line>,
    pub by_organization: Vec<Line>,
    pub by_tkc: Vec<Line>,
    pub by_status: Vec<Line>,
    pub compliance: Vec<Compliance>,
    pub returned: i64,
    pub rejections: Vec<Line>,
    pub escalations: Vec<Line>,
    pub escalations_answered: i64,
    pub acknowledged: i64,
    pub useful_yes: i64,
    pub useful_no: i64,
    pub closeout_skipped: i64,
    pub effects: Vec<Line>,
    pub workload: Vec<Workload>,
    pub video: VideoFigures,
    /// The emergency call chain (`lifecycle::duty_calls`), per form of care,
    /// centre and profile.
    pub duty: Vec<DutyFigures>,
}

/// Video sessions that started in the period.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct VideoFigures {
    /// Booked and not cancelled.
    pub booked: i64,
    pub cancelled: i64,
    /// Someone entered the room.
    pub held: i64,
    /// Minutes the rooms were in use (someone in them).
    pub minutes: i64,
    /// Minutes summed over every participant.
    pub participant_minutes: i64,
}

/// The value at rank `round(p × (n − 1))` of the values a histogram of
/// (value, how many) holds, sorted by value.
/// The call chain's figures per (form of care, centre, profile), from the
/// calls ordered by request and step.
fn duty_figures(
    calls: &[rtms_store::duty::CallFact],
    form: &dyn Fn(Option<&str>) -> String,
    centre: &dyn Fn(Option<i64>) -> String,
    profile: &dyn Fn(Option<&str>) -> String,
) -> Vec<DutyFigures> {
    // Per group: (called, acknowledged, seconds → count, by backup, alarms).
    type Sums = (i64, i64, BTreeMap<i64, i64>, i64, i64);
    let mut groups: BTreeMap<(String, String, String), Sums> = BTreeMap::new();
    for one in calls.chunk_by(|a, b| a.consultation_id == b.consultation_id) {
        let first = &one[0];
        let key = (
            form(first.form_of_care.as_deref()),
            centre(first.tkc_id),
            profile(first.profile.as_deref()),
        );
        let g = groups.entry(key).or_default();
        g.0 += 1;
        if let Some(acked) = one.iter().find(|c| c.acked_at.is_some()) {
            g.1 += 1;
            let at = acked.acked_at.unwrap_or(acked.called_at);
            let seconds = (at - first.called_at).num_seconds().max(0);
            *g.2.entry(seconds).or_insert(0) += 1;
            if acked.step > 0 && acked.user_id.is_some() {
                g.3 += 1;
            }
        }
        if one.iter().any(|c| c.user_id.is_none()) {
            g.4 += 1;
        }
    }
    groups
        .into_iter()
        .map(
            |(
                (form_of_care, centre, profile),
                (called, acknowledged, minutes, by_backup, alarms),
            )| {
                let histogram: Vec<(i64, i64)> = minutes.into_iter().collect();
                // Minutes to a tenth.
                let minutes =
                    |p: f64| percentile(&histogram, p).map(|s| (s as f64 / 6.0).round() / 10.0);
                DutyFigures {
                    form_of_care,
                    centre,
                    profile,
                    called,
                    acknowledged,
                    ack_minutes_median: minutes(0.5),
                    ack_minutes_p90: minutes(0.9),
                    by_backup,
                    alarms,
                }
            },
        )
        .collect()
}

fn percentile(histogram: &[(i64, i64)], p: f64) -> Option<i64> {
    let n: i64 = histogram.iter().map(|h| h.1).sum();
    if n == 0 {
        return None;
    }
    let rank = (p * (n - 1) as f64).round() as i64;
    let mut seen = 0;
    for (value, count) in histogram {
        seen += count;
        if rank < seen {
            return Some(*value);
        }
    }
    histogram.last().map(|h| h.0)
}

fn lines(map: BTreeMap<String, i64>) -> Vec<Line> {
    let mut v: Vec<Line> = map
        .into_iter()
        .map(|(name, count)| Line { name, count })
        .collect();
    v.sort_by(|a, b| b.count.cmp(&a.count).then(a.name.cmp(&b.name)));
    v
}

/// Label of a reason or close-out code (the same words the interface uses).
pub fn reason_label(code: &str, lang: Lang) -> String {
    let text = rtms_i18n::tr(lang, &format!("reason-{}", code.replace('_', "-")));
    if text.starts_with('⟦') {
        rtms_i18n::tr(lang, "reason-other")
    } else {
        text
    }
}

/// The head of the КТЦ answers for the whole region.
fn heads_ktc(actor: &Actor) -> bool {
    actor
        .roles
        .iter()
        .any(|r| r.role == Role::Head && OrgKind::parse(&r.org.kind) == Some(OrgKind::Ktc))
}

impl Services {
    /// Whom a report is about, for its title: a head's own organization, or the
    /// region's name as set by the admin (`region_name`), if any.
    pub fn report_scope(&self, actor: &Actor) -> Result<Option<String>, ServiceError> {
        if !(actor.has(Role::Analyst) || actor.is_dispatcher() || heads_ktc(actor)) {
            if let Some(org) = actor.org_for(Role::Head) {
                return Ok(Some(org.name.clone()));
            }
        }
        let mut conn = self.db.conn()?;
        Ok(
            repo::setting(&mut conn, crate::directory::admin::REGION_NAME_SETTING)?
                .filter(|n| !n.trim().is_empty()),
        )
    }

    /// The report over requests submitted in the period. Analysts, dispatchers
    /// and heads (their organization only) may read it.
    pub fn report(
        &self,
        actor: &Actor,
        f: &ReportFilter,
        lang: Lang,
    ) -> Result<Report, ServiceError> {
        let head_org = actor.org_for(Role::Head).map(|o| o.id);
        let region = actor.has(Role::Analyst) || actor.is_dispatcher() || heads_ktc(actor);
        if !region && head_org.is_none() {
            return Err(ServiceError::Forbidden);
        }
        let now = self.clock.now();
        let today = now.date_naive();
        let to = f.to.unwrap_or(today);
        let from = f.from.unwrap_or_else(|| to.with_day0(0).unwrap_or(to));
        if from > to {
            return Err(ServiceError::field("from", "out_of_range"));
        }
        let start: NaiveDateTime = from.and_hms_opt(0, 0, 0).unwrap_or_default();
        let end: NaiveDateTime =
            to.and_hms_opt(0, 0, 0).unwrap_or_default() + chrono::Duration::days(1);
        // A head sees their own organization's numbers, whatever the filter says.
        let organization = if region { f.organization } else { head_org };

        let mut conn = self.db.conn()?;
        let orgs: HashMap<i64, String> = repo::organizations(&mut conn, None)?
            .into_iter()
            .map(|o| (o.id, o.short_name))
            .collect();
        let org_name = |id: i64| orgs.get(&id).cloned().unwrap_or_else(|| id.to_string());
        let profiles: HashMap<String, String> = rtms_store::reference::profiles(&mut conn)?
            .into_iter()
            .map(|p| {
                let name = if lang == Lang::En {
                    p.name_en
                } else {
                    p.name_ru
                };
                (p.code, name)
            })
            .collect();
        // Only the columns counted, filtered in the database: a year of a
        // federal level is a few hundred thousand requests.
        let scope = repo::ReportScope {
            from: start,
            to: end,
            form_of_care: f.form_of_care.map(|x| x.as_str().to_string()),
            profile: f.profile.clone(),
            organization,
            tkc: f.tkc,
        };
        let rows = repo::report_rows(&mut conn, &scope, now.naive_utc())?;
        let reasons = repo::report_reasons(&mut conn, &scope)?;
        let mut assigned = repo::report_workload(&mut conn, &scope)?;
        assigned.sort_by_key(|w| w.user_id);
        let consultant_ids: Vec<i64> = assigned.iter().map(|a| a.user_id).collect();
        let users = repo::users_by_ids(&mut conn, &consultant_ids)?;

        // Counted by code first (a few dozen distinct values), labelled after.
        let mut by_form: HashMap<Option<&str>, i64> = HashMap::new();
        let mut by_profile: HashMap<Option<&str>, i64> = HashMap::new();
        let mut by_org: HashMap<i64, i64> = HashMap::new();
        let mut by_tkc: HashMap<i64, i64> = HashMap::new();
        let mut by_status: HashMap<&str, i64> = HashMap::new();
        // Time to the conclusion per form: minutes → how many, and in time.
        let mut minutes_by_form: HashMap<Option<&str>, (HashMap<i64, i64>, i64)> = HashMap::new();
        let mut effects_by_code: HashMap<&str, i64> = HashMap::new();
        let (mut open, mut overdue_open, mut answered, mut escalations_answered) = (0, 0, 0, 0);
        let (mut closed, mut useful_yes, mut useful_no, mut closeout_skipped) = (0, 0, 0, 0);
        for r in &rows {
            let form = r.form_of_care.as_deref();
            *by_form.entry(form).or_insert(0) += 1;
            *by_profile.entry(r.profile.as_deref()).or_insert(0) += 1;
            *by_org.entry(r.requesting_org_id).or_insert(0) += 1;
            if let Some(t) = r.assigned_tkc_id {
                *by_tkc.entry(t).or_insert(0) += 1;
            }
            *by_status.entry(r.status.as_str()).or_insert(0) += 1;
            let flag = |bit: i32| r.flags & bit != 0;
            if Status::parse(&r.status).is_some_and(|s| s.is_open()) {
                open += 1;
                if flag(repo::REPORT_OVERDUE) {
                    overdue_open += 1;
                }
            }
            if let Some(m) = r.minutes {
                answered += 1;
                let entry = minutes_by_form.entry(form).or_default();
                *entry.0.entry(m).or_insert(0) += 1;
                if flag(repo::REPORT_IN_TIME) {
                    entry.1 += 1;
                }
                if flag(repo::REPORT_ESCALATED) {
                    escalations_answered += 1;
                }
            }
            if flag(repo::REPORT_ACKNOWLEDGED) {
                closed += 1;
                if flag(repo::REPORT_USEFUL) {
                    useful_yes += 1;
                } else if flag(repo::REPORT_NOT_USEFUL) {
                    useful_no += 1;
                } else if r.closeout_effect.is_none() {
                    closeout_skipped += 1;
                }
                if let Some(e) = r
                    .closeout_effect
                    .as_deref()
                    .filter(|e| CLOSEOUT_EFFECTS.contains(e))
                {
                    *effects_by_code.entry(e).or_insert(0) += 1;
                }
            }
        }
        let form_label = |form: Option<&str>| {
            form.and_then(FormOfCare::parse)
                .map(|x| x.label(lang).to_string())
                .unwrap_or_default()
        };
        let relabel = |counts: Vec<(String, i64)>| {
            let mut m = BTreeMap::new();
            for (name, n) in counts {
                *m.entry(name).or_insert(0) += n;
            }
            lines(m)
        };
        let by_form = relabel(
            by_form
                .into_iter()
                .map(|(f, n)| (form_label(f), n))
                .collect(),
        );
        let by_profile = relabel(
            by_profile
                .into_iter()
                .map(|(p, n)| {
                    let name = p.and_then(|p| profiles.get(p).cloned()).unwrap_or_default();
                    (name, n)
                })
                .collect(),
        );
        let by_org = relabel(by_org.into_iter().map(|(o, n)| (org_name(o), n)).collect());
        let by_tkc = relabel(by_tkc.into_iter().map(|(t, n)| (org_name(t), n)).collect());
        let by_status = relabel(
            by_status
                .into_iter()
                .map(|(s, n)| {
                    let status = Status::parse(s).unwrap_or(Status::Draft);
                    (status.label(lang).to_string(), n)
                })
                .collect(),
        );
        let effects = relabel(
            effects_by_code
                .into_iter()
                .map(|(e, n)| (reason_label(e, lang), n))
                .collect(),
        );
        let mut per_form: BTreeMap<String, (Vec<(i64, i64)>, i64)> = BTreeMap::new();
        for (form, (minutes, in_time)) in minutes_by_form {
            let entry = per_form.entry(form_label(form)).or_default();
            entry.0.extend(minutes);
            entry.1 += in_time;
        }
        let compliance = per_form
            .into_iter()
            .map(|(form, (mut minutes, in_time))| {
                minutes.sort_unstable();
                let n: i64 = minutes.iter().map(|m| m.1).sum();
                let hours =
                    |p: f64| percentile(&minutes, p).map(|m| (m as f64 / 6.0).round() / 10.0);
                Compliance {
                    form,
                    answered: n,
                    in_time,
                    in_time_percent: if n > 0 {
                        (in_time as f64 * 1000.0 / n as f64).round() / 10.0
                    } else {
                        0.0
                    },
                    median_hours: hours(0.5),
                    p90_hours: hours(0.9),
                }
            })
            .collect();

        let count_reasons = |action: &str, codes: &[&str]| {
            let mut m = BTreeMap::new();
            for r in reasons.iter().filter(|r| r.action == action) {
                let code = r
                    .reason_code
                    .clone()
                    .filter(|c| codes.contains(&c.as_str()))
                    .unwrap_or_else(|| "other".into());
                *m.entry(reason_label(&code, lang)).or_insert(0) += r.count;
            }
            lines(m)
        };
        let returned = reasons
            .iter()
            .filter(|r| r.action == "return")
            .map(|r| r.count)
            .sum();

        let names: HashMap<i64, String> = users.iter().map(|u| (u.id, u.short_name())).collect();
        let mut workload: Vec<Workload> = assigned
            .iter()
            .map(|w| Workload {
                consultant: names.get(&w.user_id).cloned().unwrap_or_default(),
                assigned: w.assigned,
                answered: w.answered,
            })
            .collect();
        workload.sort_by_key(|w| std::cmp::Reverse(w.assigned));
        let video = self.video_figures(&mut conn, f, organization, start, end)?;
        let duty = duty_figures(
            &rtms_store::duty::report_calls(&mut conn, &scope)?,
            &|f| form_label(f),
            &|t| t.map(org_name).unwrap_or_default(),
            &|p| p.and_then(|p| profiles.get(p).cloned()).unwrap_or_default(),
        );
        Ok(Report {
            from,
            to,
            submitted: rows.len() as i64,
            answered,
            open,
            overdue_open,
            by_form,
            by_profile,
            by_organization: by_org,
            by_tkc,
            by_status,
            compliance,
            returned,
            rejections: count_reasons("reject", REJECT_REASONS),
            escalations: count_reasons("escalate", ESCALATE_REASONS),
            escalations_answered,
            acknowledged: closed,
            useful_yes,
            useful_no,
            closeout_skipped,
            effects,
            workload,
            video,
            duty,
        })
    }

    /// Sessions starting in [start, end). With a filter on the requests, only
    /// sessions about a request that passes it count.
    fn video_figures(
        &self,
        conn: &mut rtms_store::DbConn,
        f: &ReportFilter,
        organization: Option<i64>,
        start: NaiveDateTime,
        end: NaiveDateTime,
    ) -> Result<VideoFigures, ServiceError> {
        let now = self.clock.now().naive_utc();
        let sessions = rtms_store::video::sessions_for_report(conn, start, end)?;
        let filtered = f.form_of_care.is_some()
            || f.profile.is_some()
            || organization.is_some()
            || f.tkc.is_some();
        let passing: Vec<i64> = if filtered {
            let ids: Vec<i64> = sessions.iter().flat_map(|s| s.1.iter().copied()).collect();
            repo::consultations_by_ids(conn, &ids)?
                .into_iter()
                .filter(|c| {
                    f.form_of_care
                        .is_none_or(|x| c.form_of_care.as_deref() == Some(x.as_str()))
                        && f.profile
                            .as_ref()
                            .is_none_or(|p| c.profile.as_ref() == Some(p))
                        && organization.is_none_or(|o| c.requesting_org_id == o)
                        && f.tkc.is_none_or(|t| c.assigned_tkc_id == Some(t))
                })
                .map(|c| c.id)
                .collect()
        } else {
            Vec::new()
        };
        let mut v = VideoFigures::default();
        for (s, consultations, log) in &sessions {
            if filtered && !consultations.iter().any(|c| passing.contains(c)) {
                continue;
            }
            if s.cancelled_at.is_some() {
                v.cancelled += 1;
                continue;
            }
            v.booked += 1;
            if !log.iter().any(|e| e.event == "join") {
                continue;
            }
            v.held += 1;
            // An open join (a browser that never said goodbye) counts until the
            // booking's end, or now if that is earlier.
            let last = log.iter().map(|e| e.at).max().unwrap_or(s.starts_at);
            let until = now.min(s.ends_at).max(last);
            let secs = crate::scheduling::video::room_seconds(log, until);
            let people: i64 = crate::scheduling::video::attendance(log, until)
                .values()
                .sum();
            v.minutes += (secs + 30) / 60;
            v.participant_minutes += (people + 30) / 60;
        }
        Ok(v)
    }
}

use chrono::Datelike;
