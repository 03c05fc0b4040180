//! The audit log read as sentences: «Диспетчер Орлова М. И. открыла запрос
//! № 9». The stored record stays structured (action, object, details as JSON
//! for the kinds that carry more than an id); this module only words it, in
//! the reader's language, from the `audit-*` messages of the catalogues
//! (`crates/i18n/locales/*/audit.ftl`). Rows written before the details became
//! JSON still read as a sentence, with their old details text after it.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rtms_domain::{FormOfCare, Lang, Role, Status};
use rtms_i18n::{tr, tr_args, tr_count, FluentValue, Label};
use rtms_store::repo::{ConsultationFilter, FhirSearch};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One row of the audit log as its readers get it (API, journal page, CSV).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditView {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub login: String,
    pub user_id: Option<i64>,
    pub organization_id: Option<i64>,
    pub role: String,
    pub ip: String,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    /// Structured: JSON for the kinds that carry more than an id (a list's
    /// filter and what it showed, the fields a change touched, a file).
    pub details: String,
    /// The person's name as the journal shows it («Орлова М. И.»).
    pub actor_name: String,
    /// The short name of the organization they acted for.
    pub organization_name: String,
    /// The row as a sentence in the reader's language (`Accept-Language`).
    pub text: String,
}

/// What a list read keeps: the filter in its parts (a typed search only by its
/// kind and length, never its text) and the ids it showed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ListRead {
    /// `fhir` for a FHIR search; absent for the queue and the list API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub statuses: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form_of_care: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requesting_org: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assigned_tkc: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overdue: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search: Option<SearchShape>,
    /// FHIR `_lastUpdated`: comparison and time (UTC, ISO 8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<(String, String)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub practitioner: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<i64>,
    pub found: Vec<i64>,
}

/// A typed search as the log keeps it: by name (words, characters) or by
/// number (digits).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchShape {
    /// `name` or `number`.
    pub by: String,
    #[serde(default)]
    pub words: usize,
    #[serde(default)]
    pub chars: usize,
    #[serde(default)]
    pub digits: usize,
}

impl SearchShape {
    pub fn of(q: &str) -> SearchShape {
        let q = q.trim();
        let digits = q.chars().filter(|c| c.is_ascii_digit()).count();
        if digits > 0 && digits * 2 >= q.chars().filter(|c| !c.is_whitespace()).count() {
            SearchShape {
                by: "number".into(),
                words: 0,
                chars: 0,
                digits,
            }
        } else {
            SearchShape {
                by: "name".into(),
                words: q.split_whitespace().count(),
                chars: q.chars().count(),
                digits: 0,
            }
        }
    }
}

impl ListRead {
    pub fn of(f: &ConsultationFilter, fhir: Option<&FhirSearch>, found: Vec<i64>) -> ListRead {
        ListRead {
            via: fhir.map(|_| "fhir".to_string()),
            statuses: f.statuses.clone(),
            form_of_care: f.form_of_care.clone(),
            profile: f.profile.clone(),
            requesting_org: f.requesting_org,
            assigned_tkc: f.assigned_tkc,
            overdue: f.overdue,
            search: f.q.as_deref().map(SearchShape::of),
            updated: fhir.and_then(|x| {
                x.updated
                    .as_ref()
                    .map(|(op, t)| (op.clone(), t.and_utc().to_rfc3339()))
            }),
            practitioner: fhir.and_then(|x| x.practitioner),
            organization: fhir.and_then(|x| x.organization),
            request: fhir.and_then(|x| x.id),
            found,
        }
    }

    pub fn json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// A person in the log, as the sentences name them.
#[derive(Debug, Clone, Default)]
pub struct Person {
    /// «Орлова М. И.»
    pub short_name: String,
    pub login: String,
    pub gender: Gender,
}

/// Chooses the verb's form in Russian («открыл» / «открыла»).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Gender {
    Female,
    Male,
    #[default]
    Unknown,
}

impl Gender {
    /// From a Russian patronymic (its ending says it: -вна/-чна/-кызы for a
    /// woman, -ич/-оглы for a man); anything else is unknown, and the
    /// sentences then use the masculine form, as Russian forms do.
    pub fn of_patronymic(middle_name: &str) -> Gender {
        let m = middle_name.trim().to_lowercase();
        if ["вна", "чна", "кызы", "vna", "chna"]
            .iter()
            .any(|e| m.ends_with(e))
        {
            Gender::Female
        } else if ["ич", "оглы", "ich"].iter().any(|e| m.ends_with(e)) {
            Gender::Male
        } else {
            Gender::Unknown
        }
    }

    fn code(self) -> &'static str {
        match self {
            Gender::Female => "female",
            Gender::Male => "male",
            Gender::Unknown => "other",
        }
    }
}

/// What the sentences look names up in.
#[derive(Debug, Default)]
pub struct Names {
    pub users: HashMap<i64, Person>,
    pub orgs: HashMap<i64, String>,
    /// Organization id → its short name, as the journal's column shows it.
    pub org_short_names: HashMap<i64, String>,
    /// Profile code → its name in the reader's language.
    pub profiles: HashMap<String, String>,
}

fn text(s: impl Into<String>) -> FluentValue<'static> {
    FluentValue::from(s.into())
}

/// The row as one sentence in `lang`.
pub fn sentence(v: &AuditView, names: &Names, lang: Lang) -> String {
    let person = v.user_id.and_then(|id| names.users.get(&id));
    let gender = person.map(|p| p.gender).unwrap_or_default();
    let name = match person {
        Some(p) if !p.short_name.trim().is_empty() => p.short_name.clone(),
        _ => v.login.clone(),
    };
    let role = Role::parse(&v.role).map(|r| r.label(lang));
    let who = match role {
        Some(r) => tr_args(
            lang,
            "audit-who",
            &[("role", text(r)), ("name", text(name))],
        ),
        None => name,
    };
    let object = object_name(v, names, lang);
    let key = message_key(v);
    let main = if rtms_i18n::has_key(lang, &key) {
        tr_args(
            lang,
            &key,
            &[
                ("who", text(who.clone())),
                ("gender", text(gender.code())),
                ("id", text(v.object_id.clone())),
                ("object", text(object)),
                ("login", text(v.login.clone())),
            ],
        )
    } else {
        tr_args(
            lang,
            "audit-other",
            &[
                ("who", text(who.clone())),
                ("action", text(v.action.clone())),
                ("object", text(format!("{} {}", v.object_type, v.object_id))),
            ],
        )
    };
    match details(v, names, lang) {
        Some(d) if !d.is_empty() => format!("{main}: {d}"),
        _ => main,
    }
}

/// The message of a row: `audit-view-<object>` for reads, `audit-<action>` else.
fn message_key(v: &AuditView) -> String {
    if v.action == "read" {
        format!("audit-view-{}", v.object_type.replace('_', "-"))
    } else {
        format!("audit-{}", v.action.replace('_', "-"))
    }
}

/// The object a row names beyond its number: a user by name and login.
fn object_name(v: &AuditView, names: &Names, lang: Lang) -> String {
    match v.object_type.as_str() {
        "user" => match v
            .object_id
            .parse::<i64>()
            .ok()
            .and_then(|id| names.users.get(&id))
        {
            Some(p) => tr_args(
                lang,
                "audit-user-named",
                &[
                    ("name", text(p.short_name.clone())),
                    ("login", text(p.login.clone())),
                ],
            ),
            None => tr_args(lang, "audit-user-id", &[("id", text(v.object_id.clone()))]),
        },
        "organization" => v
            .object_id
            .parse::<i64>()
            .ok()
            .and_then(|id| names.orgs.get(&id).cloned())
            .unwrap_or_else(|| v.details.clone()),
        "route" => {
            let (profile, form) = v.object_id.split_once('/').unwrap_or((&v.object_id, ""));
            let profile = names
                .profiles
                .get(profile)
                .cloned()
                .unwrap_or_else(|| profile.to_string());
            match FormOfCare::parse(form) {
                Some(f) => format!("{profile}, {}", f.label(lang)),
                None => profile,
            }
        }
        _ => v.object_id.clone(),
    }
}

fn ids(list: &[i64], lang: Lang) -> String {
    const SHOWN: usize = 20;
    let mut s = list
        .iter()
        .take(SHOWN)
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    if list.len() > SHOWN {
        s.push_str(&tr_args(
            lang,
            "audit-and-more",
            &[("count", FluentValue::from((list.len() - SHOWN) as i64))],
        ));
    }
    s
}

fn status_label(code: &str, lang: Lang) -> String {
    Status::parse(code)
        .map(|s| s.label(lang))
        .unwrap_or_else(|| code.to_string())
}

fn org_name(id: i64, names: &Names, lang: Lang) -> String {
    names
        .orgs
        .get(&id)
        .cloned()
        .unwrap_or_else(|| tr_args(lang, "audit-org-id", &[("id", text(id.to_string()))]))
}

/// The list's filter in words: «статус: Назначен, Принят; форма: экстренная;
/// поиск по имени: 2 слова, 12 знаков».
pub fn filter_words(r: &ListRead, names: &Names, lang: Lang) -> String {
    let mut parts = Vec::new();
    // Most parts are one message with one text argument.
    let one =
        |key: &str, arg: &'static str, value: String| tr_args(lang, key, &[(arg, text(value))]);
    if r.via.as_deref() == Some("fhir") {
        parts.push(tr(lang, "audit-list-fhir"));
    }
    let mut open: Vec<&str> = rtms_store::repo::OPEN_STATES.to_vec();
    open.sort_unstable();
    let mut asked: Vec<&str> = r.statuses.iter().map(|s| s.as_str()).collect();
    asked.sort_unstable();
    if asked == open {
        parts.push(tr(lang, "audit-list-open"));
    } else if !r.statuses.is_empty() {
        let labels: Vec<String> = r.statuses.iter().map(|s| status_label(s, lang)).collect();
        parts.push(one("audit-list-statuses", "list", labels.join(", ")));
    }
    if let Some(f) = &r.form_of_care {
        let label = FormOfCare::parse(f)
            .map(|x| x.label(lang))
            .unwrap_or_else(|| f.clone());
        parts.push(one("audit-list-form", "form", label));
    }
    if let Some(p) = &r.profile {
        let name = names.profiles.get(p).cloned().unwrap_or_else(|| p.clone());
        parts.push(one("audit-list-profile", "profile", name));
    }
    if let Some(o) = r.requesting_org {
        parts.push(one("audit-list-org", "org", org_name(o, names, lang)));
    }
    if let Some(o) = r.assigned_tkc {
        parts.push(one("audit-list-tkc", "org", org_name(o, names, lang)));
    }
    match r.overdue {
        Some(true) => parts.push(tr(lang, "audit-list-overdue")),
        Some(false) => parts.push(tr(lang, "audit-list-not-overdue")),
        None => {}
    }
    if let Some(s) = &r.search {
        parts.push(if s.by == "number" {
            tr_args(
                lang,
                "audit-list-search-number",
                &[("digits", FluentValue::from(s.digits as i64))],
            )
        } else {
            tr_args(
                lang,
                "audit-list-search-name",
                &[
                    ("words", FluentValue::from(s.words as i64)),
                    ("chars", FluentValue::from(s.chars as i64)),
                ],
            )
        });
    }
    if let Some((op, at)) = &r.updated {
        parts.push(tr_args(
            lang,
            "audit-list-updated",
            &[("op", text(op.clone())), ("at", text(at.clone()))],
        ));
    }
    if let Some(p) = r.practitioner {
        let name = names
            .users
            .get(&p)
            .map(|x| x.short_name.clone())
            .unwrap_or_else(|| p.to_string());
        parts.push(one("audit-list-practitioner", "name", name));
    }
    if let Some(o) = r.organization {
        parts.push(one("audit-list-owner", "org", org_name(o, names, lang)));
    }
    if let Some(id) = r.request {
        parts.push(one("audit-list-request", "id", id.to_string()));
    }
    if parts.is_empty() {
        parts.push(tr(lang, "audit-list-no-filter"));
    }
    parts.join("; ")
}

#[derive(Deserialize)]
struct Transition {
    from: String,
    to: String,
    #[serde(default)]
    message: Option<i64>,
}

#[derive(Deserialize)]
struct Attached {
    attachment: i64,
    name: String,
    bytes: i64,
}

#[derive(Deserialize)]
struct Frames {
    attachment: i64,
    study: usize,
    series: usize,
    #[serde(default)]
    title: String,
}

#[derive(Deserialize)]
struct Fields {
    fields: Vec<String>,
}

#[derive(Deserialize)]
struct Booked {
    starts: String,
    minutes: i64,
    #[serde(default)]
    people: Vec<i64>,
}

#[derive(Deserialize)]
struct Settings {
    changed: Vec<(String, serde_json::Value, serde_json::Value)>,
}

/// The label of a field of the request form (`patient.last_name` → «Фамилия»).
fn field_label(path: &str, lang: Lang) -> String {
    let key = format!("f-{}", path.replace('.', "-"));
    if rtms_i18n::has_key(lang, &key) {
        tr(lang, &key)
    } else {
        path.to_string()
    }
}

/// The label of a region setting, as its page names it.
fn setting_label(name: &str, lang: Lang) -> String {
    let key = match name {
        "emergency_minutes" => "settings-emergency",
        "urgent_minutes" => "settings-urgent",
        "planned_minutes" => "settings-planned",
        "require_totp_admins" => "settings-totp",
        "session_idle_minutes" => "settings-idle",
        "escalate_head_minutes" => "settings-escalate-head",
        "region_name" => "settings-region-name",
        "upload_quota_org_mb" => "settings-quota-org",
        "upload_quota_user_mb" => "settings-quota-user",
        "semd_mis_number" => "settings-semd-mis",
        "semd_region_code" => "settings-semd-region-code",
        "semd_region_name" => "settings-semd-region-name",
        "semd_required" => "settings-semd-required",
        other => return other.to_string(),
    };
    tr(lang, key)
}

fn setting_value(v: &serde_json::Value, lang: Lang) -> String {
    match v {
        serde_json::Value::Bool(true) => tr(lang, "audit-yes"),
        serde_json::Value::Bool(false) => tr(lang, "audit-no"),
        serde_json::Value::Null => "—".into(),
        serde_json::Value::String(s) if s.is_empty() => "—".into(),
        serde_json::Value::String(s) => format!("«{s}»"),
        serde_json::Value::Number(n) => n
            .as_i64()
            .map(|n| rtms_i18n::number(n, lang))
            .unwrap_or_else(|| n.to_string()),
        other => other.to_string(),
    }
}

/// What follows the sentence's colon, if anything: the details in words, or,
/// for a row whose details are not of a shape known here, the stored text.
fn details(v: &AuditView, names: &Names, lang: Lang) -> Option<String> {
    let d = v.details.trim();
    if d.is_empty() {
        return None;
    }
    let json = d.starts_with('{');
    let words = match (v.action.as_str(), v.object_type.as_str()) {
        ("read", "consultation_list") if json => {
            let r: ListRead = serde_json::from_str(d).ok()?;
            let found = tr_args(
                lang,
                "audit-list-found",
                &[
                    ("count", FluentValue::from(r.found.len() as i64)),
                    ("ids", text(ids(&r.found, lang))),
                ],
            );
            Some(format!("{} — {found}", filter_words(&r, names, lang)))
        }
        ("read", "attachment") if json => {
            let f: Frames = serde_json::from_str(d).ok()?;
            Some(tr_args(
                lang,
                "audit-frames",
                &[
                    ("attachment", text(f.attachment.to_string())),
                    ("study", FluentValue::from(f.study as i64 + 1)),
                    ("series", FluentValue::from(f.series as i64 + 1)),
                    ("title", text(f.title)),
                ],
            ))
        }
        ("read", "consultation") => Some(page_read(d, lang)),
        ("read", "attachment_list") => {
            let list = bracketed_ids(d)?;
            Some(tr_args(
                lang,
                "audit-files-shown",
                &[
                    ("count", FluentValue::from(list.len() as i64)),
                    ("ids", text(ids(&list, lang))),
                ],
            ))
        }
        // `version 2`, or `version 2 supersedes 7` for a correction.
        ("read", "conclusion") | ("conclusion_correct" | "conclusion_correct_sign", _) => {
            let n = d
                .strip_prefix("version ")?
                .split_whitespace()
                .next()?
                .parse::<i64>()
                .ok()?;
            Some(tr_args(
                lang,
                "audit-version",
                &[("version", FluentValue::from(n))],
            ))
        }
        ("read_attachment", _) => {
            let n = d.strip_prefix("attachment ")?.trim().to_string();
            Some(tr_args(lang, "audit-file-no", &[("id", text(n))]))
        }
        ("attach", _) if json => {
            let a: Attached = serde_json::from_str(d).ok()?;
            Some(tr_args(
                lang,
                "audit-attached",
                &[
                    ("attachment", text(a.attachment.to_string())),
                    ("name", text(a.name)),
                    ("size", text(rtms_i18n::human_size(a.bytes, lang))),
                ],
            ))
        }
        ("update", "consultation") if json => {
            let f: Fields = serde_json::from_str(d).ok()?;
            let labels: Vec<String> = f.fields.iter().map(|p| field_label(p, lang)).collect();
            Some(tr_args(
                lang,
                "audit-fields",
                &[("list", text(labels.join(", ")))],
            ))
        }
        ("settings_update", _) if json => {
            let s: Settings = serde_json::from_str(d).ok()?;
            if s.changed.is_empty() {
                return Some(tr(lang, "audit-nothing-changed"));
            }
            Some(
                s.changed
                    .iter()
                    .map(|(name, old, new)| {
                        format!(
                            "{} {} → {}",
                            setting_label(name, lang),
                            setting_value(old, lang),
                            setting_value(new, lang)
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        }
        ("video_book", _) if json => {
            let b: Booked = serde_json::from_str(d).ok()?;
            let who: Vec<String> = b
                .people
                .iter()
                .map(|id| {
                    names
                        .users
                        .get(id)
                        .map(|p| p.short_name.clone())
                        .unwrap_or_else(|| id.to_string())
                })
                .collect();
            Some(tr_args(
                lang,
                "audit-video-booked",
                &[
                    ("starts", text(b.starts)),
                    ("minutes", FluentValue::from(b.minutes)),
                    ("people", text(who.join(", "))),
                ],
            ))
        }
        ("role_add" | "role_remove", _) => {
            let (role, org) = d.split_once('@')?;
            let role = Role::parse(role)?.label(lang);
            let org = org.parse::<i64>().ok().map(|o| org_name(o, names, lang))?;
            Some(tr_args(
                lang,
                "audit-role-in",
                &[("role", text(role)), ("org", text(org))],
            ))
        }
        ("login_failed" | "login_refused" | "demo_account_disabled", _) => {
            let reason = match d {
                "unknown or inactive login" => "audit-reason-unknown-login",
                "wrong password" => "audit-reason-wrong-password",
                "wrong second-factor code" => "audit-reason-wrong-code",
                "locked" => "audit-reason-locked",
                "second factor required" => "audit-reason-needs-code",
                "demo password at start" => "audit-reason-demo-password",
                _ => return Some(d.to_string()),
            };
            Some(tr(lang, reason))
        }
        ("icd10_import", _) => {
            let n = d.parse::<i64>().ok()?;
            Some(tr_count(lang, "audit-records", n))
        }
        ("session_end_others", _) => {
            let n = d.parse::<i64>().ok()?;
            Some(tr_count(lang, "audit-sessions", n))
        }
        ("escalation_package", _) => {
            let n = d.strip_suffix(" files")?.parse::<i64>().ok()?;
            Some(tr_count(lang, "audit-files", n))
        }
        ("org_create" | "org_update" | "user_create", _) => None,
        (action, "consultation") if rtms_domain::Action::parse(action).is_some() => {
            if json {
                let t: Transition = serde_json::from_str(d).ok()?;
                Some(transition(&t.from, &t.to, t.message, lang))
            } else if let Some((from, to)) = d.split_once(" -> ") {
                Some(transition(from, to, None, lang))
            } else {
                let m = d.strip_prefix("message ")?.parse::<i64>().ok()?;
                Some(tr_args(
                    lang,
                    "audit-message-no",
                    &[("id", text(m.to_string()))],
                ))
            }
        }
        _ => None,
    };
    Some(words.unwrap_or_else(|| d.to_string()))
}

fn transition(from: &str, to: &str, message: Option<i64>, lang: Lang) -> String {
    let mut s = tr_args(
        lang,
        "audit-transition",
        &[
            ("from", text(status_label(from, lang))),
            ("to", text(status_label(to, lang))),
        ],
    );
    if let Some(m) = message {
        s.push_str(", ");
        s.push_str(&tr_args(
            lang,
            "audit-message-no",
            &[("id", text(m.to_string()))],
        ));
    }
    s
}

/// `[1,2,3]` at the end of a legacy details text.
fn bracketed_ids(d: &str) -> Option<Vec<i64>> {
    let inner = d.rsplit_once('[')?.1.strip_suffix(']')?;
    Some(
        inner
            .split(',')
            .filter_map(|x| x.trim().parse::<i64>().ok())
            .collect(),
    )
}

/// The request page's read: «вместе с заключением (версия 2) и файлами № 4, 5».
fn page_read(d: &str, lang: Lang) -> String {
    let version = d
        .split(", ")
        .find_map(|p| p.strip_prefix("conclusion version "))
        .and_then(|n| n.trim().parse::<i64>().ok());
    let files = bracketed_ids(d).unwrap_or_default();
    let mut parts = Vec::new();
    if let Some(v) = version {
        parts.push(tr_args(
            lang,
            "audit-page-conclusion",
            &[("version", FluentValue::from(v))],
        ));
    }
    if !files.is_empty() {
        parts.push(tr_args(
            lang,
            "audit-files-shown",
            &[
                ("count", FluentValue::from(files.len() as i64)),
                ("ids", text(ids(&files, lang))),
            ],
        ));
    }
    if parts.is_empty() {
        tr(lang, "audit-page-only")
    } else {
        parts.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn row(action: &str, object: (&str, &str), details: &str) -> AuditView {
        AuditView {
            id: 1,
            at: Utc::now(),
            login: "dispatcher".into(),
            user_id: Some(7),
            organization_id: None,
            role: "dispatcher".into(),
            ip: String::new(),
            action: action.into(),
            object_type: object.0.into(),
            object_id: object.1.into(),
            details: details.into(),
            actor_name: String::new(),
            organization_name: String::new(),
            text: String::new(),
        }
    }

    fn names(middle_name: &str) -> Names {
        let mut n = Names::default();
        n.users.insert(
            7,
            Person {
                short_name: "Орлова М. И.".into(),
                login: "dispatcher".into(),
                gender: Gender::of_patronymic(middle_name),
            },
        );
        n
    }

    #[test]
    fn the_patronymic_tells_the_verb_form() {
        assert_eq!(Gender::of_patronymic("Игоревна"), Gender::Female);
        assert_eq!(Gender::of_patronymic("Ильинична"), Gender::Female);
        assert_eq!(Gender::of_patronymic("Петрович"), Gender::Male);
        assert_eq!(Gender::of_patronymic("Ильич"), Gender::Male);
        assert_eq!(Gender::of_patronymic("Мамед оглы"), Gender::Male);
        assert_eq!(Gender::of_patronymic(""), Gender::Unknown);
        let opened = row("read", ("consultation", "9"), "page");
        assert_eq!(
            sentence(&opened, &names("Игоревна"), Lang::Ru),
            "Диспетчер КТЦ Орлова М. И. открыла запрос № 9: страница запроса"
        );
        // Without a patronymic, the masculine form, as Russian forms use.
        assert!(sentence(&opened, &names(""), Lang::Ru).contains(" открыл запрос № 9"));
        assert_eq!(
            sentence(&opened, &names(""), Lang::En),
            "Dispatcher Орлова М. И. opened request No. 9: the request page"
        );
    }

    /// Rows written before the details became JSON still read as sentences.
    #[test]
    fn older_rows_read_too() {
        let n = names("Игоревна");
        let moved = row("assign", ("consultation", "5"), "in_review -> assigned");
        assert_eq!(
            sentence(&moved, &n, Lang::Ru),
            "Диспетчер КТЦ Орлова М. И. назначила консультанта по запросу № 5: «На проверке у диспетчера» → «Назначен»"
        );
        // A details text of no known shape follows the sentence as it was.
        let list = row(
            "read",
            ("consultation_list", ""),
            "ConsultationFilter { statuses: [] } -> [1,2]",
        );
        assert!(sentence(&list, &n, Lang::Ru).starts_with(
            "Диспетчер КТЦ Орлова М. И. просмотрела список запросов: ConsultationFilter"
        ));
        // An action this module does not know yet is named by its code.
        let unknown = row("rota_publish", ("rota", "3"), "");
        assert_eq!(
            sentence(&unknown, &n, Lang::En),
            "Dispatcher Орлова М. И.: rota_publish rota 3"
        );
    }

    #[test]
    fn a_list_read_keeps_no_search_text_and_reads_in_words() {
        let f = ConsultationFilter {
            form_of_care: Some("emergency".into()),
            overdue: Some(true),
            q: Some("Пржевальская Анна".into()),
            ..Default::default()
        };
        let kept = ListRead::of(&f, None, vec![3, 1]).json();
        assert!(!kept.to_lowercase().contains("пржевальская"), "{kept}");
        let v = row("read", ("consultation_list", ""), &kept);
        assert_eq!(
            sentence(&v, &names("Игоревна"), Lang::Ru),
            "Диспетчер КТЦ Орлова М. И. просмотрела список запросов: форма помощи: Экстренная; \
             только просроченные; поиск по имени: 2 слова, 17 знаков — показаны 2 запроса: № 3, 1"
        );
    }
}
