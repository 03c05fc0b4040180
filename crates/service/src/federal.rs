//! Escalation to the federal level. When the dispatcher escalates a request and
//! a federal endpoint is configured, the transaction that escalates it also
//! queues a job: the job sends the case as a FHIR transaction Bundle (patient,
//! request, files inline) to the federal instance's `/fhir/r4`, identified by
//! this region's business identifier, so a retry never makes a second request
//! there. Then it polls the federal Task; when the federal consultants have
//! signed, their conclusion is recorded in the regional case (its timeline
//! says so) and the request is completed here.
//!
//! Every attempt is recorded in `escalations` for the dispatcher: pending,
//! delivered, completed, or failed with the reason and the next attempt.

use std::sync::Arc;

use base64::Engine;
use chrono::{Duration, NaiveDateTime};
use rtms_domain::{Action, Lang, Status};
use rtms_store::models::Job;
use rtms_store::{jobs, repo};
use serde::Serialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

use crate::consultations::ActionParams;
use crate::{fhir, Actor, ServiceError, Services};

type SResult<T> = Result<T, ServiceError>;

pub const SEND_JOB: &str = "federal_send";
pub const POLL_JOB: &str = "federal_poll";
/// How often a delivered case's federal Task is read.
const POLL_MINUTES: i64 = 1;
/// Files larger than this stay in the region (the federal side gets the list).
const INLINE_LIMIT: i64 = 20 * 1024 * 1024;

/// Where the federal level's FHIR interface is, and the region's token there.
#[derive(Debug, Clone)]
pub struct FederalConfig {
    /// Base address of the federal instance (its FHIR interface is `/fhir/r4` under it).
    pub url: String,
    /// An API token with the `fhir` scope, issued to the region at the federal level.
    pub token: String,
}

/// The state of a request's escalation, for its page and the API.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EscalationView {
    /// `pending`, `delivered`, `completed` or `failed`.
    pub state: String,
    pub federal_id: Option<String>,
    pub federal_status: String,
    pub attempts: i32,
    pub last_error: String,
    pub next_attempt_at: Option<chrono::DateTime<chrono::Utc>>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

/// Queues the sending of an escalated request (in the escalation's transaction).
pub(crate) fn queue_escalation(
    svc: &Services,
    conn: &mut rtms_store::DbConn,
    consultation_id: i64,
    now: NaiveDateTime,
) -> Result<(), rtms_store::StoreError> {
    if svc.federal.is_none() {
        return Ok(());
    }
    rtms_store::fhir::escalation_pending(conn, consultation_id, now)?;
    jobs::enqueue(
        conn,
        SEND_JOB,
        &json!({"consultation": consultation_id}).to_string(),
        now,
        now,
    )?;
    Ok(())
}

fn block_on<T>(f: impl std::future::Future<Output = Result<T, String>>) -> Result<T, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?
        .block_on(f)
}

impl Services {
    pub fn with_federal(mut self, f: FederalConfig) -> Self {
        self.federal = Some(Arc::new(f));
        self
    }

    /// This instance's own name for its requests at the federal level.
    fn region_system(&self) -> SResult<String> {
        let key = "instance.id";
        let id = self.db.write(|c| -> SResult<String> {
            if let Some(v) = repo::setting(c, key)?.filter(|v| !v.is_empty()) {
                return Ok(v);
            }
            let v = hex::encode(rand::random::<[u8; 16]>());
            repo::set_setting(c, key, &v)?;
            Ok(v)
        })?;
        Ok(format!("urn:rtms:region:{id}"))
    }

    /// The dispatcher who escalated: the outbox acts in their name.
    fn escalator(&self, id: i64) -> Result<Actor, String> {
        let mut conn = self.db.conn().map_err(|e| e.to_string())?;
        let events = repo::events_of(&mut conn, &[id], &["escalate"]).map_err(|e| e.to_string())?;
        let user = events
            .last()
            .and_then(|e| e.actor_user_id)
            .ok_or("no escalation event")?;
        Actor::load(&mut conn, user).map_err(|e| e.to_string())
    }

    fn record_attempt(
        &self,
        job: &Job,
        id: i64,
        state: &str,
        fid: Option<&str>,
        fstatus: Option<&str>,
        error: &str,
    ) {
        let now = self.clock.now().naive_utc();
        let next = (!error.is_empty()).then(|| now + crate::jobs::backoff(job.attempts));
        if let Ok(mut c) = self.db.conn() {
            let _ = rtms_store::fhir::escalation_update(
                &mut c, id, state, fid, fstatus, error, next, now,
            );
        }
    }

    /// Writes what the federal level did into the regional case's timeline.
    fn federal_event(&self, id: i64, action: &str, comment: &str) -> Result<(), String> {
        let actor = self.escalator(id)?;
        let now = self.clock.now().naive_utc();
        self.db
            .write(|c| -> Result<(), rtms_store::StoreError> {
                let status = repo::consultation(c, id)?.status;
                repo::append_event(
                    c,
                    &rtms_store::models::NewEvent {
                        consultation_id: id,
                        at: now,
                        actor_user_id: Some(actor.user.id),
                        actor_org_id: actor.org_for(rtms_domain::Role::Dispatcher).map(|o| o.id),
                        actor_role: Some(rtms_domain::Role::Dispatcher.as_str().into()),
                        action: action.into(),
                        from_status: Some(status.clone()),
                        to_status: status,
                        comment: comment.into(),
                        reason_code: None,
                        details: "{}".into(),
                    },
                )?;
                Ok(())
            })
            .map_err(|e| e.to_string())
    }

    /// Sends an escalated case to the federal level (a job; retried on failure).
    pub(crate) fn federal_send(&self, job: &Job) -> Result<(), String> {
        let p: Value = serde_json::from_str(&job.payload).map_err(|e| e.to_string())?;
        let id = p["consultation"].as_i64().ok_or("malformed job")?;
        let outcome = self.federal_send_inner(id);
        match &outcome {
            Ok(fid) => {
                self.record_attempt(job, id, "delivered", Some(fid), None, "");
                self.federal_event(id, "federal_delivered", &format!("№ {fid}"))?;
                let now = self.clock.now().naive_utc();
                self.db
                    .write(|c| {
                        jobs::enqueue(
                            c,
                            POLL_JOB,
                            &json!({"consultation": id, "federal": fid}).to_string(),
                            now + Duration::minutes(POLL_MINUTES),
                            now,
                        )
                    })
                    .map_err(|e| e.to_string())?;
            }
            Err(e) => self.record_attempt(job, id, "failed", None, None, e),
        }
        outcome.map(|_| ())
    }

    fn federal_send_inner(&self, id: i64) -> Result<String, String> {
        let fed = self
            .federal
            .clone()
            .ok_or("no federal endpoint configured")?;
        let actor = self.escalator(id)?;
        let (v, _, profile) = self.fhir_views(&actor, id).map_err(|e| e.to_string())?;
        let system = self.region_system().map_err(|e| e.to_string())?;
        let mut sr = fhir::service_request(&v, profile.as_deref());
        sr["identifier"] = json!([{"system": system, "value": v.id.to_string()}]);
        sr["subject"] = json!({"reference": "urn:uuid:patient"});
        sr["status"] = json!("active");
        if let Some(p) = &v.data.purpose {
            let mut conn = self.db.conn().map_err(|e| e.to_string())?;
            if let Some(code) = rtms_store::reference::purpose(&mut conn, p)
                .map_err(|e| e.to_string())?
                .map(|p| p.iemk_code)
            {
                sr["category"] =
                    json!([{"coding": [{"system": fhir::SYS_PURPOSE, "code": code.to_string()}]}]);
            }
        }
        let mut patient = fhir::patient(&v);
        if let Some(o) = patient.as_object_mut() {
            o.remove("id");
        }
        let mut entries = vec![
            json!({"fullUrl": "urn:uuid:patient", "resource": patient, "request": {"method": "POST", "url": "Patient"}}),
            json!({"fullUrl": "urn:uuid:requester", "resource": {
                "resourceType": "Practitioner",
                "name": [{"text": v.requester.name}],
                "telecom": [{"system": "phone", "value": v.data.contact_phone}]
            }, "request": {"method": "POST", "url": "Practitioner"}}),
            json!({"fullUrl": "urn:uuid:request", "resource": sr, "request": {"method": "POST", "url": "ServiceRequest"}}),
        ];
        let files = self.attachments(&actor, id).map_err(|e| e.to_string())?;
        let store = self.files.clone();
        let mut conn = self.db.conn().map_err(|e| e.to_string())?;
        for (i, f) in files.iter().filter(|f| f.size <= INLINE_LIMIT).enumerate() {
            let Some(row) =
                rtms_store::files::attachment(&mut conn, f.id).map_err(|e| e.to_string())?
            else {
                continue;
            };
            let key = row.storage_key;
            let bytes = block_on(async {
                use futures_util::StreamExt;
                let (_, mut s) = store.open(&key, None).await.map_err(|e| e.to_string())?;
                let mut out = Vec::new();
                while let Some(chunk) = s.next().await {
                    out.extend_from_slice(&chunk.map_err(|e| e.to_string())?);
                }
                Ok(out)
            })?;
            entries.push(
                json!({"fullUrl": format!("urn:uuid:file-{i}"), "resource": {
                "resourceType": "DocumentReference",
                "status": "current",
                "content": [{"attachment": {"contentType": f.content_type, "title": f.file_name,
                    "data": base64::engine::general_purpose::STANDARD.encode(bytes)}}]
            }, "request": {"method": "POST", "url": "DocumentReference"}}),
            );
        }
        drop(conn);
        let mut bundle = json!({"resourceType": "Bundle", "type": "transaction", "entry": entries});
        fhir::prune(&mut bundle);
        let url = format!("{}/fhir/r4", fed.url.trim_end_matches('/'));
        let answer: Value = block_on(async {
            let r = reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(60))
                .build()
                .map_err(|e| e.to_string())?
                .post(&url)
                .bearer_auth(&fed.token)
                .header("content-type", "application/fhir+json")
                .header("accept-language", "ru")
                .body(bundle.to_string())
                .send()
                .await
                .map_err(|e| format!("the federal level is unreachable: {e}"))?;
            let status = r.status();
            let body: Value = r.json().await.unwrap_or(Value::Null);
            if !status.is_success() {
                let why = body["issue"][0]["diagnostics"]
                    .as_str()
                    .unwrap_or("")
                    .to_string();
                return Err(format!("the federal level answered {status}: {why}"));
            }
            Ok(body)
        })?;
        answer["entry"]
            .as_array()
            .and_then(|l| {
                l.iter().find_map(|e| {
                    e["response"]["location"]
                        .as_str()?
                        .strip_prefix("ServiceRequest/")
                        .map(str::to_string)
                })
            })
            .ok_or_else(|| "the federal level gave no request id".to_string())
    }

    /// Reads the federal Task; when it is done, brings the conclusion home.
    pub(crate) fn federal_poll(&self, job: &Job) -> Result<(), String> {
        let p: Value = serde_json::from_str(&job.payload).map_err(|e| e.to_string())?;
        let id = p["consultation"].as_i64().ok_or("malformed job")?;
        let fid = p["federal"].as_str().ok_or("malformed job")?.to_string();
        let fed = self
            .federal
            .clone()
            .ok_or("no federal endpoint configured")?;
        let base = format!("{}/fhir/r4", fed.url.trim_end_matches('/'));
        let get = |path: String| {
            let token = fed.token.clone();
            block_on(async move {
                let r = reqwest::Client::builder()
                    .timeout(std::time::Duration::from_secs(30))
                    .build()
                    .map_err(|e| e.to_string())?
                    .get(path)
                    .bearer_auth(token)
                    .send()
                    .await
                    .map_err(|e| format!("the federal level is unreachable: {e}"))?;
                if !r.status().is_success() {
                    return Err(format!("the federal level answered {}", r.status()));
                }
                r.json::<Value>().await.map_err(|e| e.to_string())
            })
        };
        let task = match get(format!("{base}/Task/{fid}")) {
            Ok(t) => t,
            Err(e) => {
                self.record_attempt(job, id, "delivered", None, None, &e);
                return Err(e);
            }
        };
        let fstatus = task["businessStatus"]["text"]
            .as_str()
            .or(task["status"].as_str())
            .unwrap_or("")
            .to_string();
        let now = self.clock.now().naive_utc();
        let before = {
            let mut c = self.db.conn().map_err(|e| e.to_string())?;
            rtms_store::fhir::escalation(&mut c, id)
                .map_err(|e| e.to_string())?
                .map(|e| e.federal_status)
                .unwrap_or_default()
        };
        if !fstatus.is_empty() && fstatus != before {
            self.federal_event(id, "federal_status", &fstatus)?;
        }
        if task["status"] != "completed" {
            self.record_attempt(job, id, "delivered", None, Some(&fstatus), "");
            // Not yet: read again in a while.
            return self
                .db
                .write(|c| {
                    jobs::enqueue(
                        c,
                        POLL_JOB,
                        &job.payload,
                        now + Duration::minutes(POLL_MINUTES),
                        now,
                    )
                })
                .map(|_| ())
                .map_err(|e| e.to_string());
        }
        let report = get(format!("{base}/DiagnosticReport/{fid}"))?;
        let mut text = format!(
            "Заключение федерального уровня (запрос № {fid}):\n{}",
            report["conclusion"].as_str().unwrap_or("")
        );
        if let Some(code) = report["conclusionCode"][0]["coding"][0]["code"].as_str() {
            text.push_str(&format!("\nДиагноз по МКБ-10: {code}"));
        }
        if let Some(url) = report["presentedForm"][0]["url"].as_str() {
            text.push_str(&format!("\nПротокол: {url}"));
        }
        let actor = self.escalator(id)?;
        let v = self
            .consultation(&actor, id, Lang::Ru)
            .map_err(|e| e.to_string())?;
        if v.status == Status::Escalated {
            self.act(
                &actor,
                id,
                Action::RecordFederalConclusion,
                &ActionParams {
                    comment: Some(text),
                    ..Default::default()
                },
            )
            .map_err(|e| e.to_string())?;
        }
        self.record_attempt(job, id, "completed", None, Some(&fstatus), "");
        Ok(())
    }

    /// How the escalation of a request stands (whoever sees the request).
    pub fn escalation_state(&self, actor: &Actor, id: i64) -> SResult<Option<EscalationView>> {
        let mut conn = self.db.conn()?;
        self.visible(&mut conn, actor, id)?;
        Ok(
            rtms_store::fhir::escalation(&mut conn, id)?.map(|e| EscalationView {
                state: e.state,
                federal_id: e.federal_id,
                federal_status: e.federal_status,
                attempts: e.attempts,
                last_error: e.last_error,
                next_attempt_at: e.next_attempt_at.map(|t| t.and_utc()),
                updated_at: e.updated_at.and_utc(),
            }),
        )
    }
}

impl Services {
    /// Manual mode, for a region not connected to the federal system: the case
    /// as a ZIP for the dispatcher to send by other means. It holds the request
    /// summary PDF, a FHIR Bundle (`bundle.json`) and every file under
    /// `files/`. Written to a temporary file (studies are large); the caller
    /// streams it and it is gone once closed.
    pub async fn escalation_package(&self, actor: &Actor, id: i64) -> SResult<std::fs::File> {
        if !actor.is_dispatcher() {
            return Err(ServiceError::Forbidden);
        }
        let svc = self.clone();
        let a = actor.clone();
        let (pdf, views, files) = tokio::task::spawn_blocking(move || -> SResult<_> {
            let pdf = svc.request_summary_pdf(&a, id)?;
            let views = svc.fhir_views(&a, id)?;
            let files = svc.attachments(&a, id)?;
            Ok((pdf, views, files))
        })
        .await
        .map_err(|e| ServiceError::Store(rtms_store::StoreError::Other(e.to_string())))??;
        let (v, k, profile) = views;
        let mut entries = vec![
            json!({"resource": fhir::patient(&v)}),
            json!({"resource": fhir::service_request(&v, profile.as_deref())}),
            json!({"resource": fhir::task(&v, k.as_ref())}),
        ];
        let mut names = Vec::new();
        for f in &files {
            // Unique names inside the archive, as the doctor named the files.
            let mut name = f.file_name.replace(['/', '\\'], "_");
            if names.contains(&name) {
                name = format!("{}-{name}", f.id);
            }
            names.push(name.clone());
            entries.push(json!({"resource": {
                "resourceType": "DocumentReference",
                "id": f.id.to_string(),
                "status": "current",
                "content": [{"attachment": {"contentType": f.content_type, "title": f.file_name,
                    "url": format!("files/{name}"), "size": f.size}}]
            }}));
        }
        let mut bundle = json!({"resourceType": "Bundle", "type": "collection", "entry": entries});
        fhir::prune(&mut bundle);
        let tmp = std::env::temp_dir().join(format!(
            "rtms-package-{}.zip",
            hex::encode(rand::random::<[u8; 8]>())
        ));
        let file = std::fs::File::create(&tmp)
            .map_err(|e| ServiceError::Store(rtms_store::StoreError::Other(e.to_string())))?;
        let io =
            |e: std::io::Error| ServiceError::Store(rtms_store::StoreError::Other(e.to_string()));
        let zerr = |e: zip::result::ZipError| {
            ServiceError::Store(rtms_store::StoreError::Other(e.to_string()))
        };
        let mut zip = zip::ZipWriter::new(file);
        let opts = zip::write::SimpleFileOptions::default();
        let stored = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .large_file(true);
        zip.start_file(format!("Запрос № {id}.pdf"), opts)
            .map_err(zerr)?;
        std::io::Write::write_all(&mut zip, &pdf).map_err(io)?;
        zip.start_file("bundle.json", opts).map_err(zerr)?;
        std::io::Write::write_all(
            &mut zip,
            serde_json::to_string_pretty(&bundle)
                .unwrap_or_default()
                .as_bytes(),
        )
        .map_err(io)?;
        let mut conn = self.db.conn()?;
        for (f, name) in files.iter().zip(&names) {
            let Some(row) = rtms_store::files::attachment(&mut conn, f.id)? else {
                continue;
            };
            zip.start_file(format!("files/{name}"), stored)
                .map_err(zerr)?;
            use futures_util::StreamExt;
            let (_, mut s) =
                self.files.open(&row.storage_key, None).await.map_err(|e| {
                    ServiceError::Store(rtms_store::StoreError::Other(e.to_string()))
                })?;
            while let Some(chunk) = s.next().await {
                std::io::Write::write_all(&mut zip, &chunk.map_err(io)?).map_err(io)?;
            }
        }
        drop(conn);
        zip.finish().map_err(zerr)?;
        let out = std::fs::File::open(&tmp).map_err(io)?;
        // Open and unlinked: the bytes live until the stream is done.
        let _ = std::fs::remove_file(&tmp);
        self.db.write(|c| {
            self.audit_in(
                c,
                actor,
                Some(rtms_domain::Role::Dispatcher),
                "escalation_package",
                ("consultation", &id.to_string()),
                &format!("{} files", files.len()),
            )
        })?;
        Ok(out)
    }
}

impl Services {
    /// Manual mode: the dispatcher records the request's number and state at
    /// the federal level as the federal system reported them (by phone, on its
    /// portal). Written in the timeline and shown on the request.
    pub fn record_federal_manually(
        &self,
        actor: &Actor,
        id: i64,
        number: &str,
        state: &str,
    ) -> SResult<()> {
        if !actor.is_dispatcher() {
            return Err(ServiceError::Forbidden);
        }
        let (number, state) = (number.trim(), state.trim());
        let mut errors = Vec::new();
        if number.is_empty() {
            errors.push(rtms_domain::FieldError::new("federal_number", "required"));
        }
        if number.chars().count() > 100 {
            errors.push(rtms_domain::FieldError::new("federal_number", "too_long"));
        }
        if state.chars().count() > 500 {
            errors.push(rtms_domain::FieldError::new("federal_state", "too_long"));
        }
        if !errors.is_empty() {
            return Err(ServiceError::Invalid(errors));
        }
        let now = self.clock.now().naive_utc();
        self.db.write(|c| {
            let v = self.visible(c, actor, id)?;
            if v.status != Status::Escalated.as_str() {
                return Err(ServiceError::refused("federal_not_escalated"));
            }
            rtms_store::fhir::escalation_pending(c, id, now)?;
            rtms_store::fhir::escalation_update(
                c,
                id,
                "manual",
                Some(number),
                Some(state),
                "",
                None,
                now,
            )?;
            repo::append_event(
                c,
                &rtms_store::models::NewEvent {
                    consultation_id: id,
                    at: now,
                    actor_user_id: Some(actor.user.id),
                    actor_org_id: actor.org_for(rtms_domain::Role::Dispatcher).map(|o| o.id),
                    actor_role: Some(rtms_domain::Role::Dispatcher.as_str().into()),
                    action: "federal_status".into(),
                    from_status: Some(v.status.clone()),
                    to_status: v.status.clone(),
                    comment: if state.is_empty() {
                        format!("№ {number}")
                    } else {
                        format!("№ {number}: {state}")
                    },
                    reason_code: None,
                    details: "{}".into(),
                },
            )?;
            self.audit_in(
                c,
                actor,
                Some(rtms_domain::Role::Dispatcher),
                "federal_manual",
                ("consultation", &id.to_string()),
                &format!("{number} {state}"),
            )
        })
    }
}
