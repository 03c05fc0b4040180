//! HL7 FHIR R4 views of a request, after the FHIR Workflow pattern of
//! referral and consultation guides: the request is a ServiceRequest, its
//! workflow a Task (`status` from FHIR's value set, `businessStatus` our
//! lifecycle state, `owner` who holds it now, `restriction.period.end` the
//! deadline), the signed conclusion a DiagnosticReport, the patient a Patient.
//! And the other way: a МИС's transaction Bundle becomes a request.
//!
//! Resources are plain JSON built here (no FHIR model crate); the tests check
//! every one of them with an independent R4 validator.

use base64::Engine;
use chrono::{DateTime, SecondsFormat, Utc};
use rtms_domain::request::{ConsultationPatch, DiagnosisPatch, PatientPatch};
use rtms_domain::{FormOfCare, Lang, Sex, Status};
use rtms_i18n::Label;
use serde_json::{json, Value};

use crate::lifecycle::views::{ConclusionView, ConsultationView};
use crate::{Actor, ServiceError, Services};

type SResult<T> = Result<T, ServiceError>;

/// Our lifecycle states, as `Task.businessStatus`.
pub const SYS_STATUS: &str = "urn:rtms:consultation-status";
/// Our specialty profiles.
pub const SYS_PROFILE: &str = "urn:rtms:profile";
/// The region's request numbers (`ServiceRequest.identifier`).
pub const SYS_REQUEST: &str = "urn:rtms:request";
pub const SYS_ICD10: &str = "http://hl7.org/fhir/sid/icd-10";
/// СНИЛС.
pub const SYS_SNILS: &str = "urn:oid:1.2.643.100.3";
/// Полис ОМС / ЕНП.
pub const SYS_OMS: &str = "urn:rtms:oms-policy";
/// ЕГИСЗ ИЭМК: the purpose of a telemedicine consultation.
pub const SYS_PURPOSE: &str = "urn:oid:1.2.643.2.69.1.1.1.128";
/// Our purpose slugs (the same purposes as the ИЭМК codes).
pub const SYS_PURPOSE_SLUG: &str = "urn:rtms:purpose";
/// ЕГИСЗ ИЭМК: the form of a telemedicine consultation (1 routine, 2 urgent, 3 emergency).
pub const SYS_FORM: &str = "urn:oid:1.2.643.2.69.1.1.1.54";

fn instant(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// FHIR's Task.status for one of our states.
pub fn task_status(s: Status) -> &'static str {
    match s {
        Status::Draft => "draft",
        Status::AwaitingApproval | Status::Submitted => "requested",
        Status::InReview | Status::Assigned => "received",
        Status::Returned => "on-hold",
        Status::Accepted | Status::Scheduled => "accepted",
        Status::InProgress | Status::Escalated => "in-progress",
        Status::Completed | Status::Closed => "completed",
        Status::Cancelled => "cancelled",
        Status::Rejected => "rejected",
    }
}

/// FHIR's ServiceRequest.status for one of our states.
pub fn request_status(s: Status) -> &'static str {
    match s {
        Status::Draft => "draft",
        Status::Completed | Status::Closed => "completed",
        Status::Cancelled | Status::Rejected => "revoked",
        Status::Returned => "on-hold",
        _ => "active",
    }
}

fn priority(f: Option<FormOfCare>) -> &'static str {
    match f {
        Some(FormOfCare::Emergency) => "stat",
        Some(FormOfCare::Urgent) => "urgent",
        _ => "routine",
    }
}

/// The id of a request's patient: by СНИЛС where known (so that a person's
/// requests share one Patient), else by the request.
pub fn patient_id(v: &ConsultationView) -> String {
    match v.data.patient.snils.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => format!(
            "snils-{}",
            s.chars().filter(char::is_ascii_digit).collect::<String>()
        ),
        None => format!("req-{}", v.id),
    }
}

pub fn patient(v: &ConsultationView) -> Value {
    let p = &v.data.patient;
    let mut identifier = Vec::new();
    if let Some(s) = p.snils.as_deref().filter(|s| !s.is_empty()) {
        identifier.push(json!({"system": SYS_SNILS, "value": s}));
    }
    if let Some(o) = p.oms_policy.as_deref().filter(|s| !s.is_empty()) {
        identifier.push(json!({"system": SYS_OMS, "value": o}));
    }
    let given: Vec<&str> = [p.first_name.as_str(), p.middle_name.as_str()]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect();
    let mut r = json!({
        "resourceType": "Patient",
        "id": patient_id(v),
        "active": true,
    });
    if !identifier.is_empty() {
        r["identifier"] = json!(identifier);
    }
    if !p.last_name.is_empty() || !given.is_empty() {
        let mut name = json!({"use": "official"});
        if !p.last_name.is_empty() {
            name["family"] = json!(p.last_name);
        }
        if !given.is_empty() {
            name["given"] = json!(given);
        }
        r["name"] = json!([name]);
    }
    if let Some(s) = p.sex {
        r["gender"] = json!(match s {
            Sex::Male => "male",
            Sex::Female => "female",
            Sex::Unknown => "unknown",
        });
    }
    if let Some(b) = p.birth_date {
        r["birthDate"] = json!(b.to_string());
    }
    if !p.address.is_empty() {
        r["address"] = json!([{"text": p.address}]);
    }
    r
}

pub fn service_request(v: &ConsultationView, profile_name: Option<&str>) -> Value {
    let d = &v.data;
    let mut r = json!({
        "resourceType": "ServiceRequest",
        "id": v.id.to_string(),
        "meta": {"lastUpdated": instant(v.updated_at), "versionId": v.version.to_string()},
        "identifier": [{"system": SYS_REQUEST, "value": v.id.to_string()}],
        "status": request_status(v.status),
        "intent": "order",
        "priority": priority(d.form_of_care),
        "category": [{"coding": [{"system": "http://snomed.info/sct", "code": "11429006", "display": "Consultation"}]}],
        "subject": {"reference": format!("Patient/{}", patient_id(v))},
        "authoredOn": instant(v.submitted_at.unwrap_or(v.created_at)),
        "requester": {"reference": format!("Practitioner/{}", v.requester.id), "display": v.requester.name},
    });
    if let Some(p) = &d.purpose {
        if let Some(c) = r["category"].as_array_mut() {
            c.push(json!({"coding": [{"system": SYS_PURPOSE_SLUG, "code": p}]}));
        }
    }
    if let Some(p) = &d.profile {
        let mut coding = json!({"system": SYS_PROFILE, "code": p});
        if let Some(n) = profile_name {
            coding["display"] = json!(n);
        }
        r["code"] = json!({"coding": [coding]});
    }
    if let Some(t) = &v.assigned_tkc {
        r["performer"] =
            json!([{"reference": format!("Organization/{}", t.id), "display": t.name}]);
    }
    let codes: Vec<Value> = d
        .diagnosis
        .main
        .iter()
        .chain(d.diagnosis.comorbidities.iter())
        .map(|c| json!({"coding": [{"system": SYS_ICD10, "code": c}]}))
        .collect();
    if !codes.is_empty() {
        r["reasonCode"] = json!(codes);
    }
    let mut notes = Vec::new();
    if !d.question.is_empty() {
        notes.push(json!({"text": d.question}));
    }
    if !d.anamnesis_morbi.is_empty() {
        notes.push(json!({"text": d.anamnesis_morbi}));
    }
    if !notes.is_empty() {
        r["note"] = json!(notes);
    }
    r
}

/// Who holds the request now: its consultant, else its consultation centre,
/// else the region's dispatchers (the requesting organization while a draft).
fn owner(v: &ConsultationView) -> Value {
    if let Some(c) = v.consultants.first() {
        return json!({"reference": format!("Practitioner/{}", c.id), "display": c.name});
    }
    if let Some(t) = &v.assigned_tkc {
        return json!({"reference": format!("Organization/{}", t.id), "display": t.name});
    }
    if v.status == Status::Draft || v.status == Status::Returned {
        let o = &v.requesting_organization;
        return json!({"reference": format!("Organization/{}", o.id), "display": o.name});
    }
    json!({"display": ru("fhir-ktc-dispatch")})
}

/// FHIR resources carry their display texts in Russian, the language of the
/// records they stand for, whoever asks.
fn ru(key: &str) -> String {
    rtms_i18n::tr(Lang::Ru, key)
}

/// A text naming a conclusion's version (and its request).
fn ru_args(key: &str, version: i32, id: i64) -> String {
    rtms_i18n::tr_args(
        Lang::Ru,
        key,
        &[
            ("version", rtms_i18n::FluentValue::from(version)),
            ("id", rtms_i18n::FluentValue::from(id.to_string())),
        ],
    )
}

pub fn task(v: &ConsultationView, conclusion: Option<&ConclusionView>) -> Value {
    let mut r = json!({
        "resourceType": "Task",
        "id": v.id.to_string(),
        "meta": {"lastUpdated": instant(v.updated_at), "versionId": v.version.to_string()},
        "identifier": [{"system": SYS_REQUEST, "value": v.id.to_string()}],
        "basedOn": [{"reference": format!("ServiceRequest/{}", v.id)}],
        "status": task_status(v.status),
        "businessStatus": {"coding": [{"system": SYS_STATUS, "code": v.status.as_str(), "display": v.status.label(Lang::Ru)}], "text": v.status_label},
        "intent": "order",
        "priority": priority(v.data.form_of_care),
        "focus": {"reference": format!("ServiceRequest/{}", v.id)},
        "for": {"reference": format!("Patient/{}", patient_id(v))},
        "authoredOn": instant(v.created_at),
        "lastModified": instant(v.updated_at),
        "requester": {"reference": format!("Practitioner/{}", v.requester.id), "display": v.requester.name},
        "owner": owner(v),
    });
    if let Some(d) = v.deadline {
        let start = v.submitted_at.unwrap_or(v.created_at);
        r["restriction"] = json!({"period": {"start": instant(start), "end": instant(d)}});
    }
    if let Some(k) = conclusion.filter(|k| k.signed_at.is_some()) {
        r["output"] = json!([{
            "type": {"text": ru("fhir-protocol")},
            "valueReference": {"reference": format!("DiagnosticReport/{}", v.id), "display": ru_args("fhir-version", k.version, v.id)}
        }]);
    }
    r
}

pub fn diagnostic_report(v: &ConsultationView, k: &ConclusionView, base: &str) -> Value {
    let mut text = k.findings.clone();
    if !k.recommendations.is_empty() {
        text.push_str(&format!("\n\n{}: ", ru("fhir-recommendations")));
        text.push_str(&k.recommendations);
    }
    let mut r = json!({
        "resourceType": "DiagnosticReport",
        "id": v.id.to_string(),
        "meta": {"versionId": k.version.to_string()},
        "identifier": [{"system": SYS_REQUEST, "value": format!("{}/conclusion/{}", v.id, k.version)}],
        "basedOn": [{"reference": format!("ServiceRequest/{}", v.id)}],
        "status": if k.version > 1 { "amended" } else { "final" },
        "code": {"text": ru("fhir-protocol")},
        "subject": {"reference": format!("Patient/{}", patient_id(v))},
        "performer": k.signatures.iter().map(|s| json!({"reference": format!("Practitioner/{}", s.id), "display": s.name})).collect::<Vec<_>>(),
        "conclusion": text,
        "conclusionCode": [{"coding": [{"system": SYS_ICD10, "code": k.diagnosis_main}], "text": k.diagnosis_text}],
        "presentedForm": [{
            "contentType": "application/pdf",
            "url": format!("{}/api/v1/consultations/{}/conclusion/pdf?version={}", base.trim_end_matches('/'), v.id, k.version),
            "title": ru_args("fhir-protocol-title", k.version, v.id)
        }],
    });
    if let Some(t) = k.signed_at {
        r["issued"] = json!(instant(t));
        r["effectiveDateTime"] = json!(instant(t));
    }
    r
}

/// FHIR allows no empty strings, arrays or objects: drops them, deepest first.
pub fn prune(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for x in map.values_mut() {
                prune(x);
            }
            map.retain(|_, x| !is_empty(x));
        }
        Value::Array(list) => {
            for x in list.iter_mut() {
                prune(x);
            }
            list.retain(|x| !is_empty(x));
        }
        _ => {}
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

/// A searchset Bundle of `resources`.
pub fn searchset(resources: Vec<Value>, total: i64, base: &str) -> Value {
    json!({
        "resourceType": "Bundle",
        "type": "searchset",
        "total": total,
        "entry": resources.into_iter().map(|r| {
            let url = format!("{}/fhir/r4/{}/{}", base.trim_end_matches('/'), r["resourceType"].as_str().unwrap_or(""), r["id"].as_str().unwrap_or(""));
            json!({"fullUrl": url, "resource": r, "search": {"mode": "match"}})
        }).collect::<Vec<_>>(),
    })
}

/// An OperationOutcome with one issue.
pub fn outcome(severity: &str, code: &str, text: &str) -> Value {
    json!({
        "resourceType": "OperationOutcome",
        "issue": [{"severity": severity, "code": code, "diagnostics": text}],
    })
}

/// What the server supports, and nothing more.
pub fn capability_statement(base: &str, version: &str, now: DateTime<Utc>) -> Value {
    let read_search = |t: &str, params: Vec<(&str, &str)>| {
        json!({
            "type": t,
            "interaction": if params.is_empty() {
                json!([{"code": "read"}])
            } else {
                json!([{"code": "read"}, {"code": "search-type"}])
            },
            "searchParam": params.into_iter().map(|(n, ty)| json!({"name": n, "type": ty})).collect::<Vec<_>>(),
        })
    };
    let mut resources = vec![
        read_search("Patient", vec![]),
        read_search(
            "ServiceRequest",
            vec![
                ("patient", "reference"),
                ("status", "token"),
                ("_count", "number"),
                ("_offset", "number"),
            ],
        ),
        read_search(
            "Task",
            vec![
                ("status", "token"),
                ("owner", "reference"),
                ("_lastUpdated", "date"),
                ("_count", "number"),
                ("_offset", "number"),
            ],
        ),
        read_search("DiagnosticReport", vec![]),
        read_search("Practitioner", vec![]),
        read_search("Organization", vec![]),
        read_search("Communication", vec![("based-on", "reference")]),
        read_search("DocumentReference", vec![("related", "reference")]),
        json!({"type": "Binary", "interaction": [{"code": "read"}]}),
        json!({"type": "Subscription", "interaction": [{"code": "read"}, {"code": "create"}, {"code": "delete"}],
               "documentation": "rest-hook to an origin the administrator allowed; criteria Task or Task?status=…; notifications are a history Bundle naming the changed Tasks (ids only), coalesced per subscription; no channel.header"}),
    ];
    for r in resources.iter_mut() {
        if r["searchParam"].as_array().is_some_and(|a| a.is_empty()) {
            if let Some(o) = r.as_object_mut() {
                o.remove("searchParam");
            }
        }
    }
    json!({
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": instant(now),
        "publisher": ru("app-name"),
        "kind": "instance",
        "software": {"name": ru("app-name"), "version": version},
        "implementation": {"description": ru("fhir-implementation"), "url": format!("{}/fhir/r4", base.trim_end_matches('/'))},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json"],
        "rest": [{
            "mode": "server",
            "documentation": "Bearer API token with the scope `fhir`. A request is created by a transaction Bundle (Patient, ServiceRequest, DocumentReference with inline attachments).",
            "security": {"cors": false, "service": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/restful-security-service", "code": "OAuth"}], "text": "Bearer token"}]},
            "resource": resources,
            "interaction": [{"code": "transaction"}],
        }],
    })
}

/// The extension a DocumentReference's attachment names its file's SHA-256
/// with (hex), when the file travels outside the Bundle (FHIR's own
/// `attachment.hash` is SHA-1).
pub const EXT_SHA256: &str = "urn:rtms:attachment-sha256";

/// A file a transaction Bundle brings or announces
/// (DocumentReference.content.attachment).
pub struct InlineFile {
    pub name: String,
    /// The bytes, when a МИС sends them inside the Bundle (`attachment.data`);
    /// none when they travel by tus (an escalation), announced by hash and size.
    pub bytes: Option<Vec<u8>>,
    /// Hex SHA-256 of the bytes.
    pub sha256: String,
    pub size: u64,
}

/// A request as a МИС sends it in a transaction Bundle.
pub struct IncomingRequest {
    pub patch: ConsultationPatch,
    /// The sender's business identifier (system|value): a repeat is the same request.
    pub external_id: Option<String>,
    /// `active`: submit at once; `draft`: keep as a draft.
    pub submit: bool,
    pub files: Vec<InlineFile>,
}

fn bad(code: &'static str) -> ServiceError {
    ServiceError::field("bundle", code)
}

/// Reads a transaction Bundle: one Patient, one ServiceRequest (its subject the
/// Patient), any DocumentReferences with inline data.
pub fn parse_transaction(bundle: &Value) -> SResult<IncomingRequest> {
    if bundle["resourceType"] != "Bundle" || bundle["type"] != "transaction" {
        return Err(bad("fhir_not_transaction"));
    }
    let entries = bundle["entry"]
        .as_array()
        .ok_or_else(|| bad("fhir_need_patient_and_request"))?;
    let of = |t: &str| -> Vec<&Value> {
        entries
            .iter()
            .map(|e| &e["resource"])
            .filter(|r| r["resourceType"] == t)
            .collect()
    };
    let (patients, requests) = (of("Patient"), of("ServiceRequest"));
    let (Some(p), Some(sr)) = (patients.first(), requests.first()) else {
        return Err(bad("fhir_need_patient_and_request"));
    };
    if patients.len() > 1 || requests.len() > 1 {
        return Err(bad("fhir_one_each"));
    }
    let ident = |r: &Value, system: &str| -> Option<String> {
        r["identifier"]
            .as_array()?
            .iter()
            .find(|i| i["system"] == system)
            .and_then(|i| i["value"].as_str())
            .map(str::to_string)
    };
    let name = &p["name"][0];
    let given: Vec<String> = name["given"]
        .as_array()
        .map(|g| {
            g.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let patient = PatientPatch {
        last_name: name["family"].as_str().map(str::to_string),
        first_name: given.first().cloned(),
        middle_name: given.get(1).cloned(),
        birth_date: p["birthDate"].as_str().map(str::to_string),
        sex: p["gender"].as_str().map(|g| match g {
            "male" => "male".to_string(),
            "female" => "female".to_string(),
            other => other.to_string(),
        }),
        snils: ident(p, SYS_SNILS),
        oms_policy: ident(p, SYS_OMS),
        address: p["address"][0]["text"].as_str().map(str::to_string),
        unidentified: None,
        description: None,
        ..Default::default()
    };
    let form = match sr["priority"].as_str() {
        Some("stat") => "emergency",
        Some("urgent") | Some("asap") => "urgent",
        _ => "planned",
    };
    let coding_of = |r: &Value, field: &str, system: &str| -> Option<String> {
        let list = r[field]
            .as_array()
            .cloned()
            .unwrap_or_else(|| vec![r[field].clone()]);
        list.iter()
            .flat_map(|cc| cc["coding"].as_array().cloned().unwrap_or_default())
            .find(|c| c["system"] == system)
            .and_then(|c| c["code"].as_str().map(str::to_string))
    };
    let icd: Vec<String> = sr["reasonCode"]
        .as_array()
        .map(|l| {
            l.iter()
                .flat_map(|cc| cc["coding"].as_array().cloned().unwrap_or_default())
                .filter(|c| c["system"] == SYS_ICD10)
                .filter_map(|c| c["code"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let notes: Vec<String> = sr["note"]
        .as_array()
        .map(|n| {
            n.iter()
                .filter_map(|x| x["text"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let phone = entries
        .iter()
        .map(|e| &e["resource"])
        .filter(|r| r["resourceType"] == "Practitioner")
        .flat_map(|r| r["telecom"].as_array().cloned().unwrap_or_default())
        .find(|t| t["system"] == "phone")
        .and_then(|t| t["value"].as_str().map(str::to_string));
    let patch = ConsultationPatch {
        patient: Some(patient),
        form_of_care: Some(form.into()),
        mode: Some("deferred".into()),
        purpose: coding_of(sr, "category", SYS_PURPOSE)
            .or_else(|| coding_of(sr, "category", SYS_PURPOSE_SLUG)),
        profile: coding_of(sr, "code", SYS_PROFILE),
        diagnosis: Some(DiagnosisPatch {
            main: icd.first().cloned(),
            complications: None,
            comorbidities: Some(icd.iter().skip(1).cloned().collect()),
            text: sr["reasonCode"][0]["text"].as_str().map(str::to_string),
        }),
        question: notes.first().cloned(),
        anamnesis_morbi: notes.get(1).cloned(),
        // Sending a request on the patient's behalf is the МИС's statement
        // that the consent is on file there.
        consent_given: Some(true),
        contact_phone: phone,
        ..Default::default()
    };
    let external_id = sr["identifier"].as_array().and_then(|l| {
        l.iter().find_map(|i| {
            Some(format!(
                "{}|{}",
                i["system"].as_str()?,
                i["value"].as_str()?
            ))
        })
    });
    let mut files = Vec::new();
    for d in of("DocumentReference") {
        for c in d["content"].as_array().cloned().unwrap_or_default() {
            let a = &c["attachment"];
            let name = a["title"].as_str().unwrap_or("document").to_string();
            match a["data"].as_str() {
                Some(data) => {
                    let bytes = base64::engine::general_purpose::STANDARD
                        .decode(data.trim())
                        .map_err(|_| bad("fhir_base64"))?;
                    use sha2::Digest;
                    files.push(InlineFile {
                        name,
                        sha256: hex::encode(sha2::Sha256::digest(&bytes)),
                        size: bytes.len() as u64,
                        bytes: Some(bytes),
                    });
                }
                None => {
                    // Announced: the bytes come by tus before the request is submitted.
                    let sha256 = a["extension"]
                        .as_array()
                        .and_then(|l| {
                            l.iter().find(|e| e["url"] == EXT_SHA256)?["valueString"].as_str()
                        })
                        .map(str::to_ascii_lowercase)
                        .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()));
                    let (Some(sha256), Some(size)) = (sha256, a["size"].as_u64()) else {
                        return Err(bad("fhir_inline_data"));
                    };
                    files.push(InlineFile {
                        name,
                        bytes: None,
                        sha256,
                        size,
                    });
                }
            }
        }
    }
    Ok(IncomingRequest {
        patch,
        external_id,
        submit: sr["status"] != "draft",
        files,
    })
}

impl Services {
    /// The request's resources as the caller may see them (reads are audited).
    pub fn fhir_views(
        &self,
        actor: &Actor,
        id: i64,
    ) -> SResult<(ConsultationView, Option<ConclusionView>, Option<String>)> {
        let v = self.consultation(actor, id, Lang::Ru)?;
        let k = match self.conclusion(actor, id) {
            Ok(k) if k.signed_at.is_some() => Some(k),
            _ => None,
        };
        let profile = match &v.data.profile {
            Some(p) => {
                let mut conn = self.db.conn()?;
                rtms_store::reference::profile(&mut conn, p)?.map(|x| x.name_ru)
            }
            None => None,
        };
        Ok((v, k, profile))
    }
}

impl Services {
    /// Creates (and, unless sent as a draft, submits) a request from a МИС's
    /// transaction Bundle, with its files. A Bundle whose ServiceRequest
    /// identifier was seen before answers with the request made then: files
    /// it brings inline that are not attached yet are attached, and the
    /// request is submitted if it is still a draft. A request is submitted
    /// only once every file the Bundle names (inline, or announced by SHA-256
    /// and sent by tus) is attached with that hash; until then it is a draft
    /// only its sender sees, and the answer says which files are missing.
    /// The request and its identifier are made in one transaction, so a
    /// crash leaves either nothing or a draft the next attempt finds.
    /// Returns (id, created now).
    pub async fn fhir_create(&self, actor: &Actor, bundle: &Value) -> SResult<(i64, bool)> {
        let mut incoming = parse_transaction(bundle)?;
        // The purpose comes as the ЕГИСЗ ИЭМК code (1–9): our slug for it.
        if let Some(code) = incoming
            .patch
            .purpose
            .as_deref()
            .and_then(|c| c.parse::<i32>().ok())
        {
            let mut conn = self.db.conn()?;
            incoming.patch.purpose = rtms_store::reference::purposes(&mut conn)?
                .into_iter()
                .find(|p| p.iemk_code == code)
                .map(|p| p.code)
                .or(incoming.patch.purpose.take());
        }
        let svc = self.clone();
        let a = actor.clone();
        let patch = incoming.patch.clone();
        let external = incoming.external_id.clone();
        let (id, created) = tokio::task::spawn_blocking(move || -> SResult<(i64, bool)> {
            if let Some(ext) = &external {
                let found = {
                    let mut conn = svc.db.conn()?;
                    rtms_store::repo::consultation_by_external_id(&mut conn, ext)?
                };
                if let Some(id) = found {
                    // Only the sender's own organization finds it.
                    svc.consultation(&a, id, Lang::Ru)?;
                    return Ok((id, false));
                }
            }
            match svc.create_consultation_as(&a, &patch, external.as_deref()) {
                Ok(id) => Ok((id, true)),
                Err(ServiceError::Concurrent) if external.is_some() => {
                    // Sent twice at once: the other copy won (nothing of this one was kept).
                    let mut conn = svc.db.conn()?;
                    let other = rtms_store::repo::consultation_by_external_id(
                        &mut conn,
                        external.as_deref().unwrap_or_default(),
                    )?
                    .ok_or(ServiceError::Concurrent)?;
                    drop(conn);
                    svc.consultation(&a, other, Lang::Ru)?;
                    Ok((other, false))
                }
                Err(e) => Err(e),
            }
        })
        .await
        .map_err(|e| ServiceError::Store(rtms_store::StoreError::Other(e.to_string())))??;
        // What is attached already, by hash: a repeat attaches only what is missing.
        let mut have: Vec<String> = {
            let svc = self.clone();
            let a = actor.clone();
            tokio::task::spawn_blocking(move || svc.attachments(&a, id))
                .await
                .map_err(|e| ServiceError::Store(rtms_store::StoreError::Other(e.to_string())))??
                .into_iter()
                .map(|f| f.sha256)
                .collect()
        };
        let mut missing = Vec::new();
        for f in incoming.files {
            if have.contains(&f.sha256) {
                continue;
            }
            match f.bytes {
                Some(bytes) => {
                    self.attach_bytes(actor, id, &f.name, bytes).await?;
                    have.push(f.sha256);
                }
                None => missing.push(f.name),
            }
        }
        if incoming.submit {
            if !missing.is_empty() {
                return Err(ServiceError::FilesMissing(missing));
            }
            let svc = self.clone();
            let a = actor.clone();
            tokio::task::spawn_blocking(move || -> SResult<()> {
                let v = svc.consultation(&a, id, Lang::Ru)?;
                if matches!(v.status, Status::Draft) {
                    svc.act(
                        &a,
                        id,
                        rtms_domain::Action::Submit,
                        &crate::lifecycle::consultations::ActionParams::default(),
                    )?;
                }
                Ok(())
            })
            .await
            .map_err(|e| ServiceError::Store(rtms_store::StoreError::Other(e.to_string())))??;
        }
        Ok((id, created))
    }
}

/// A user as a FHIR Practitioner: name and position only.
pub fn practitioner(u: &rtms_store::models::User) -> Value {
    let given: Vec<&str> = [u.first_name.as_str(), u.middle_name.as_str()]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect();
    json!({
        "resourceType": "Practitioner",
        "id": u.id.to_string(),
        "active": u.active,
        "name": [{"family": u.last_name, "given": given, "text": u.full_name()}],
        "qualification": [{"code": {"text": u.position}}],
    })
}

/// An organization (МО, ТКЦ, КТЦ or federal centre).
pub fn organization(o: &rtms_store::models::Organization) -> Value {
    let mut r = json!({
        "resourceType": "Organization",
        "id": o.id.to_string(),
        "active": o.active,
        "name": o.name,
        "alias": [o.short_name],
        "type": [{"coding": [{"system": "urn:rtms:organization-kind", "code": o.kind}]}],
    });
    if let Some(oid) = &o.frmo_oid {
        r["identifier"] =
            json!([{"system": "urn:ietf:rfc:3986", "value": format!("urn:oid:{oid}")}]);
    }
    r
}

/// A message of the questions-and-answers thread.
pub fn communication(v: &ConsultationView, m: &crate::lifecycle::views::MessageView) -> Value {
    json!({
        "resourceType": "Communication",
        "id": m.id.to_string(),
        "basedOn": [{"reference": format!("ServiceRequest/{}", v.id)}],
        "partOf": [{"reference": format!("Task/{}", v.id)}],
        "status": "completed",
        "category": [{"coding": [{"system": "urn:rtms:message-kind", "code": m.kind}]}],
        "subject": {"reference": format!("Patient/{}", patient_id(v))},
        "sent": instant(m.created_at),
        "sender": {"reference": format!("Practitioner/{}", m.author.id), "display": m.author.name},
        "payload": [{"contentString": m.body}],
    })
}

/// An attachment: its metadata, and where its bytes are (`Binary`).
pub fn document_reference(
    v: &ConsultationView,
    a: &crate::attachments::files::AttachmentView,
) -> Value {
    json!({
        "resourceType": "DocumentReference",
        "id": a.id.to_string(),
        "status": "current",
        "date": instant(a.created_at),
        "subject": {"reference": format!("Patient/{}", patient_id(v))},
        "author": [{"reference": format!("Practitioner/{}", a.uploaded_by.id), "display": a.uploaded_by.name}],
        "description": format!("SHA-256 {}", a.sha256),
        "content": [{"attachment": {
            "contentType": a.content_type,
            "url": format!("Binary/{}", a.id),
            "size": a.size,
            "title": a.file_name,
            "creation": instant(a.created_at),
        }}],
        "context": {"related": [{"reference": format!("ServiceRequest/{}", v.id)}]},
    })
}

impl Services {
    /// A practitioner, for whoever uses the FHIR interface (names and
    /// positions are what the documents print anyway).
    pub fn fhir_practitioner(&self, actor: &Actor, id: i64) -> SResult<Value> {
        if !actor.has_clinical_role() {
            return Err(ServiceError::Forbidden);
        }
        let mut conn = self.db.conn()?;
        Ok(practitioner(&rtms_store::repo::user(&mut conn, id)?))
    }

    pub fn fhir_organization(&self, actor: &Actor, id: i64) -> SResult<Value> {
        if !actor.has_clinical_role() {
            return Err(ServiceError::Forbidden);
        }
        let mut conn = self.db.conn()?;
        Ok(organization(&rtms_store::repo::organization(
            &mut conn, id,
        )?))
    }

    /// The thread of a request as Communications (the read is audited).
    pub fn fhir_communications(&self, actor: &Actor, id: i64) -> SResult<Vec<Value>> {
        let v = self.consultation(actor, id, Lang::Ru)?;
        Ok(self
            .messages(actor, id)?
            .iter()
            .map(|m| communication(&v, m))
            .collect())
    }

    /// The files of a request as DocumentReferences.
    pub fn fhir_documents(&self, actor: &Actor, id: i64) -> SResult<Vec<Value>> {
        let v = self.consultation(actor, id, Lang::Ru)?;
        Ok(self
            .attachments(actor, id)?
            .iter()
            .map(|a| document_reference(&v, a))
            .collect())
    }

    /// The request one message or one file belongs to (for reads by id).
    pub fn fhir_owner_of(&self, kind: &str, id: i64) -> SResult<i64> {
        let mut conn = self.db.conn()?;
        match kind {
            "Communication" => {
                rtms_store::repo::message_consultation(&mut conn, id)?.ok_or(ServiceError::NotFound)
            }
            _ => rtms_store::files::attachment(&mut conn, id)?
                .map(|a| a.consultation_id)
                .ok_or(ServiceError::NotFound),
        }
    }
}
