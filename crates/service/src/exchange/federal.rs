//! Escalation to the federal level (docs/adr/0002). When the dispatcher
//! escalates a request and a federal endpoint is configured, the transaction
//! that escalates it also queues a job that is retried for as long as the
//! request stays escalated. The job
//! 1. sends the case as a FHIR transaction Bundle with no file bytes
//!    (patient, request, one DocumentReference per file with its size and
//!    SHA-256) marked `draft`, identified by this region's business
//!    identifier, so a retry never makes a second request there;
//! 2. pushes every file the federal draft lacks with tus
//!    (`/api/v1/uploads`), in pieces streamed from the store, resuming each
//!    from the offset the federal side reports (the uploads' addresses are
//!    kept in `escalations.transfer`);
//! 3. sends the Bundle again marked `active`: the federal side submits the
//!    request only when every announced file is there with its hash.
//!
//! Then it polls the federal Task; when the federal consultants have signed,
//! their conclusion is recorded in the regional case (its timeline says so)
//! and the request is completed here.
//!
//! Every attempt is recorded in `escalations` for the dispatcher: pending,
//! delivered, completed, or failed with the reason and the true time of the
//! next attempt (the job's own). Past `alarm_minutes` undelivered, the
//! dashboard and `/metrics` say so; a dispatcher can re-send at once.

use std::sync::Arc;

use base64::Engine;
use chrono::{Duration, NaiveDateTime};
use rtms_domain::{Action, Lang, Status};
use rtms_i18n::tr_args;
use rtms_store::{jobs, repo};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::ToSchema;

use crate::exchange::fhir;
use crate::lifecycle::consultations::ActionParams;
use crate::lifecycle::Change;
use crate::platform::jobs::{enqueue, Job, JobRow};
use crate::{Actor, ServiceError, Services};

type SResult<T> = Result<T, ServiceError>;

pub const SEND_JOB: &str = SendEscalation::KIND;
pub const POLL_JOB: &str = PollEscalation::KIND;
/// How often a delivered case's federal Task is read.
const POLL_MINUTES: i64 = 1;
/// One tus PATCH carries at most this much; the job's lease is renewed
/// between pieces, and a broken connection costs at most one piece.
pub const TUS_PIECE_BYTES: u64 = 64 << 20;
/// The largest federal protocol (PDF) brought home.
const MAX_PROTOCOL_BYTES: usize = 50 << 20;
/// How long one piece may take before the attempt is abandoned (and resumed).
const PIECE_TIMEOUT_SECONDS: u64 = 600;

/// Where the federal level's FHIR interface is, and the region's token there.
#[derive(Debug, Clone)]
pub struct FederalConfig {
    /// Base address of the federal instance (its FHIR interface is `/fhir/r4` under it).
    pub url: String,
    /// An API token with the `fhir`, `read` and `write` scopes, issued to the
    /// region at the federal level.
    pub token: String,
    /// The longest wait between two attempts (the delay doubles up to it).
    pub retry_cap_minutes: i64,
    /// Undelivered this long, an escalation raises the coordinator's alarm.
    pub alarm_minutes: i64,
}

/// Default `--federal-retry-cap-minutes`.
pub const DEFAULT_RETRY_CAP_MINUTES: i64 = 15;
/// Default `--federal-alarm-minutes`.
pub const DEFAULT_ALARM_MINUTES: i64 = 60;

impl FederalConfig {
    pub fn new(url: impl Into<String>, token: impl Into<String>) -> FederalConfig {
        FederalConfig {
            url: url.into(),
            token: token.into(),
            retry_cap_minutes: DEFAULT_RETRY_CAP_MINUTES,
            alarm_minutes: DEFAULT_ALARM_MINUTES,
        }
    }

    /// The wait after the `attempts`-th failed attempt: 1, 2, 4… minutes, capped.
    pub fn retry_delay(&self, attempts: i32) -> Duration {
        Duration::minutes((1i64 << attempts.clamp(0, 20)).min(self.retry_cap_minutes.max(1)))
    }
}

/// A file of the case, as the outbox sends it.
struct OutFile {
    id: i64,
    name: String,
    content_type: String,
    size: u64,
    sha256: String,
    key: String,
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
    /// Since when it waits to be delivered (none once delivered).
    pub pending_since: Option<chrono::DateTime<chrono::Utc>>,
    /// Undelivered past the alarm time (`--federal-alarm-minutes`).
    pub overdue: bool,
}

/// An escalation undelivered past the alarm time, for the coordinator.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FederalAlarm {
    pub consultation_id: i64,
    pub pending_since: chrono::DateTime<chrono::Utc>,
    pub last_error: String,
}

/// The outbox's first job: send an escalated request to the federal level.
/// Retried for as long as the request stays escalated.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SendEscalation {
    pub consultation: i64,
}

/// The outbox's second job: read the federal Task until it is done, then
/// bring the conclusion home.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PollEscalation {
    pub consultation: i64,
    pub federal: String,
}

impl Job for SendEscalation {
    const KIND: &'static str = "federal_send";
    const OUTBOX: bool = true;
    const PERSISTENT: bool = true;

    fn run(self, svc: &Services, row: &JobRow) -> Result<(), String> {
        svc.federal_send(row, self.consultation)
    }

    fn retry_delay(svc: &Services, attempts: i32) -> Duration {
        outbox_delay(svc, attempts)
    }

    fn failed(
        &self,
        conn: &mut rtms_store::DbConn,
        retry_at: NaiveDateTime,
    ) -> Result<(), rtms_store::StoreError> {
        // The request's page says when the outbox tries again: this time.
        rtms_store::fhir::escalation_next_attempt(conn, self.consultation, retry_at)
    }
}

impl Job for PollEscalation {
    const KIND: &'static str = "federal_poll";
    const OUTBOX: bool = true;
    const PERSISTENT: bool = true;

    fn run(self, svc: &Services, _row: &JobRow) -> Result<(), String> {
        svc.federal_poll(self)
    }

    fn retry_delay(svc: &Services, attempts: i32) -> Duration {
        outbox_delay(svc, attempts)
    }

    fn failed(
        &self,
        conn: &mut rtms_store::DbConn,
        retry_at: NaiveDateTime,
    ) -> Result<(), rtms_store::StoreError> {
        rtms_store::fhir::escalation_next_attempt(conn, self.consultation, retry_at)
    }
}

fn outbox_delay(svc: &Services, attempts: i32) -> Duration {
    match &svc.federal {
        Some(f) => f.retry_delay(attempts),
        None => crate::platform::jobs::backoff(attempts),
    }
}

/// A change hook (`crate::CHANGE_HOOKS`): the transaction that escalates a
/// request also queues its sending, when a federal endpoint is configured.
pub(crate) fn on_change(
    svc: &Services,
    conn: &mut rtms_store::DbConn,
    change: &Change,
) -> Result<(), rtms_store::StoreError> {
    if change.action == Some(Action::Escalate) {
        queue_escalation(svc, conn, change.consultation, change.at)?;
    }
    Ok(())
}

/// Queues the sending of an escalated request (in the escalation's transaction).
fn queue_escalation(
    svc: &Services,
    conn: &mut rtms_store::DbConn,
    consultation_id: i64,
    now: NaiveDateTime,
) -> Result<(), rtms_store::StoreError> {
    if svc.federal.is_none() {
        return Ok(());
    }
    rtms_store::fhir::escalation_pending(conn, consultation_id, now)?;
    enqueue(
        conn,
        &SendEscalation {
            consultation: consultation_id,
        },
        now,
        now,
    )?;
    Ok(())
}

/// An HTTP client for the federal level: no proxy, a connect timeout, and
/// `seconds` for a whole exchange.
fn client(seconds: u64) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(10))
        .timeout(std::time::Duration::from_secs(seconds))
        .build()
        .map_err(|e| e.to_string())
}

use crate::platform::outbound::block_on;

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
        id: i64,
        state: &str,
        fid: Option<&str>,
        fstatus: Option<&str>,
        error: &str,
    ) {
        let now = self.clock.now().naive_utc();
        // The next attempt is the job queue's to say: `run_jobs` writes the
        // failed job's `run_at` here in the transaction that records it.
        if let Ok(mut c) = self.db.conn() {
            let _ = rtms_store::fhir::escalation_update(
                &mut c, id, state, fid, fstatus, error, None, now,
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
    fn federal_send(&self, job: &JobRow, id: i64) -> Result<(), String> {
        // Only while the request is escalated: a cancelled or answered one
        // has nothing more to send.
        let status = {
            let mut c = self.db.conn().map_err(|e| e.to_string())?;
            repo::consultation(&mut c, id)
                .map_err(|e| e.to_string())?
                .status
        };
        if status != Status::Escalated.as_str() {
            self.record_attempt(id, "stopped", None, None, "");
            return Ok(());
        }
        let outcome = self.federal_send_inner(job, id);
        match &outcome {
            Ok(fid) => {
                self.record_attempt(id, "delivered", Some(fid), None, "");
                self.federal_event(id, "federal_delivered", &format!("№ {fid}"))?;
                let now = self.clock.now().naive_utc();
                self.db
                    .write(|c| {
                        enqueue(
                            c,
                            &PollEscalation {
                                consultation: id,
                                federal: fid.clone(),
                            },
                            now + Duration::minutes(POLL_MINUTES),
                            now,
                        )
                    })
                    .map_err(|e| e.to_string())?;
            }
            Err(e) => self.record_attempt(id, "failed", None, None, e),
        }
        outcome.map(|_| ())
    }

    fn federal_send_inner(&self, job: &JobRow, id: i64) -> Result<String, String> {
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
        // Every file of the case, announced by size and hash: the bytes go by tus.
        let mut files = Vec::new();
        {
            let listed = self.attachments(&actor, id).map_err(|e| e.to_string())?;
            let mut conn = self.db.conn().map_err(|e| e.to_string())?;
            for f in listed {
                let Some(row) =
                    rtms_store::files::attachment(&mut conn, f.id).map_err(|e| e.to_string())?
                else {
                    continue;
                };
                files.push(OutFile {
                    id: f.id,
                    name: f.file_name,
                    content_type: f.content_type,
                    size: f.size.max(0) as u64,
                    sha256: row.sha256,
                    key: row.storage_key,
                });
            }
        }
        let bundle = |status: &str| {
            let mut sr = sr.clone();
            sr["status"] = json!(status);
            let mut entries = vec![
                json!({"fullUrl": "urn:uuid:patient", "resource": patient, "request": {"method": "POST", "url": "Patient"}}),
                json!({"fullUrl": "urn:uuid:requester", "resource": {
                    "resourceType": "Practitioner",
                    "name": [{"text": v.requester.name}],
                    "telecom": [{"system": "phone", "value": v.data.contact_phone}]
                }, "request": {"method": "POST", "url": "Practitioner"}}),
                json!({"fullUrl": "urn:uuid:request", "resource": sr, "request": {"method": "POST", "url": "ServiceRequest"}}),
            ];
            for (i, f) in files.iter().enumerate() {
                entries.push(
                    json!({"fullUrl": format!("urn:uuid:file-{i}"), "resource": {
                    "resourceType": "DocumentReference",
                    "status": "current",
                    "content": [{"attachment": {
                        "contentType": f.content_type,
                        "title": f.name,
                        "size": f.size,
                        "extension": [{"url": fhir::EXT_SHA256, "valueString": f.sha256}],
                    }}]
                }, "request": {"method": "POST", "url": "DocumentReference"}}),
                );
            }
            let mut b = json!({"resourceType": "Bundle", "type": "transaction", "entry": entries});
            fhir::prune(&mut b);
            b
        };
        let base = fed.url.trim_end_matches('/').to_string();
        // 1. The draft at the federal level (or the one made by an earlier attempt).
        let fid = self.post_bundle(&fed, &bundle("draft"))?;
        // 2. The files it lacks.
        let have: Vec<String> = block_on(async {
            let r = client(60)?
                .get(format!("{base}/api/v1/consultations/{fid}/attachments"))
                .bearer_auth(&fed.token)
                .send()
                .await
                .map_err(|e| format!("the federal level is unreachable: {e}"))?;
            if !r.status().is_success() {
                return Err(format!(
                    "the federal level answered {} to the list of files",
                    r.status()
                ));
            }
            let list: Value = r.json().await.map_err(|e| e.to_string())?;
            Ok(list
                .as_array()
                .or(list["items"].as_array())
                .map(|l| {
                    l.iter()
                        .filter_map(|a| a["sha256"].as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default())
        })?;
        let mut transfer: serde_json::Map<String, Value> = {
            let mut c = self.db.conn().map_err(|e| e.to_string())?;
            rtms_store::fhir::escalation(&mut c, id)
                .map_err(|e| e.to_string())?
                .and_then(|e| serde_json::from_str(&e.transfer).ok())
                .unwrap_or_default()
        };
        for f in files.iter().filter(|f| !have.contains(&f.sha256)) {
            let known = transfer
                .get(&f.id.to_string())
                .and_then(Value::as_str)
                .map(str::to_string);
            let path = self.push_file(job, &fed, &fid, f, known, |path| {
                transfer.insert(f.id.to_string(), json!(path));
                let text = Value::Object(transfer.clone()).to_string();
                self.db
                    .write(|c| rtms_store::fhir::escalation_set_transfer(c, id, &text))
                    .map_err(|e| e.to_string())
            })?;
            tracing::info!(consultation = id, file = f.id, %path, "file sent to the federal level");
        }
        // 3. Submitted there once every file is.
        self.post_bundle(&fed, &bundle("active"))
    }

    /// Posts a transaction Bundle; the federal request's id from the answer.
    fn post_bundle(&self, fed: &FederalConfig, bundle: &Value) -> Result<String, String> {
        let url = format!("{}/fhir/r4", fed.url.trim_end_matches('/'));
        let answer: Value = block_on(async {
            let r = client(60)?
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

    /// Sends one file to the federal draft `fid` with tus, from where the
    /// federal side says its upload stands; `saved` keeps a new upload's
    /// address before any byte goes. Returns the upload's address.
    fn push_file(
        &self,
        job: &JobRow,
        fed: &FederalConfig,
        fid: &str,
        f: &OutFile,
        known: Option<String>,
        mut saved: impl FnMut(&str) -> Result<(), String>,
    ) -> Result<String, String> {
        use base64::engine::general_purpose::STANDARD as B64;
        let base = fed.url.trim_end_matches('/').to_string();
        let store = self.files.clone();
        let mut path = known;
        let mut fresh = false;
        loop {
            let p = match &path {
                Some(p) => p.clone(),
                None => {
                    let meta = format!(
                        "consultation {},filename {}",
                        B64.encode(fid),
                        B64.encode(&f.name)
                    );
                    let made = block_on(async {
                        let r = client(60)?
                            .post(format!("{base}/api/v1/uploads"))
                            .bearer_auth(&fed.token)
                            .header("tus-resumable", "1.0.0")
                            .header("upload-length", f.size.to_string())
                            .header("upload-metadata", meta)
                            .header("accept-language", "ru")
                            .send()
                            .await
                            .map_err(|e| format!("the federal level is unreachable: {e}"))?;
                        if r.status() != reqwest::StatusCode::CREATED {
                            let status = r.status();
                            let body: Value = r.json().await.unwrap_or(Value::Null);
                            return Err(format!(
                                "the federal level refused the file «{}» ({status}): {}",
                                f.name,
                                body["title"].as_str().unwrap_or("")
                            ));
                        }
                        r.headers()
                            .get("location")
                            .and_then(|v| v.to_str().ok())
                            .map(str::to_string)
                            .ok_or_else(|| "the federal level gave no upload address".to_string())
                    })?;
                    saved(&made)?;
                    fresh = true;
                    made
                }
            };
            let url = if p.starts_with("http") {
                p.clone()
            } else {
                format!("{base}{p}")
            };
            // Where it stands there.
            let head = block_on(async {
                let r = client(60)?
                    .head(&url)
                    .bearer_auth(&fed.token)
                    .header("tus-resumable", "1.0.0")
                    .send()
                    .await
                    .map_err(|e| format!("the federal level is unreachable: {e}"))?;
                if r.status() == reqwest::StatusCode::NOT_FOUND {
                    return Ok(None);
                }
                if !r.status().is_success() {
                    return Err(format!(
                        "the federal level answered {} about an upload",
                        r.status()
                    ));
                }
                let h = |k: &str| {
                    r.headers()
                        .get(k)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.parse::<u64>().ok())
                };
                Ok(Some((h("upload-offset").unwrap_or(0), h("attachment-id"))))
            })?;
            let Some((mut offset, done)) = head else {
                // Gone there (swept after a long outage): start it again, once.
                if fresh {
                    return Err("the federal level lost a new upload".into());
                }
                path = None;
                continue;
            };
            if done.is_some() {
                return Ok(p);
            }
            while offset < f.size {
                let end = (offset + TUS_PIECE_BYTES).min(f.size);
                let key = f.key.clone();
                let st = store.clone();
                let token = fed.token.clone();
                let url2 = url.clone();
                let (next, attached) = block_on(async move {
                    let (_, stream) = st
                        .open(&key, Some(offset..end))
                        .await
                        .map_err(|e| format!("the file cannot be read here: {e}"))?;
                    let r = client(PIECE_TIMEOUT_SECONDS)?
                        .patch(&url2)
                        .bearer_auth(token)
                        .header("tus-resumable", "1.0.0")
                        .header("upload-offset", offset.to_string())
                        .header("content-type", "application/offset+octet-stream")
                        .header("content-length", (end - offset).to_string())
                        .body(reqwest::Body::wrap_stream(stream))
                        .send()
                        .await
                        .map_err(|e| format!("the federal level is unreachable: {e}"))?;
                    if !r.status().is_success() {
                        let status = r.status();
                        let body: Value = r.json().await.unwrap_or(Value::Null);
                        return Err(format!(
                            "the federal level refused a piece of «{}» ({status}): {}",
                            f.name,
                            body["title"].as_str().unwrap_or("")
                        ));
                    }
                    let h = |k: &str| {
                        r.headers()
                            .get(k)
                            .and_then(|v| v.to_str().ok())
                            .and_then(|v| v.parse::<u64>().ok())
                    };
                    Ok((h("upload-offset").unwrap_or(end), h("attachment-id")))
                })?;
                if attached.is_some() {
                    return Ok(p);
                }
                if next <= offset {
                    return Err("the federal level took no bytes".into());
                }
                offset = next;
                // Still ours: no other worker takes the job mid-transfer.
                let until = self.clock.now().naive_utc()
                    + Duration::minutes(crate::platform::jobs::LEASE_MINUTES);
                let _ = self.db.write(|c| jobs::extend_lease(c, job.id, until));
            }
            return Err(format!(
                "«{}» sent whole but the federal level has not accepted it",
                f.name
            ));
        }
    }

    /// Reads the federal Task; when it is done, brings the conclusion home.
    fn federal_poll(&self, job: PollEscalation) -> Result<(), String> {
        let (id, fid) = (job.consultation, job.federal.clone());
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
                self.record_attempt(id, "delivered", None, None, &e);
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
            self.record_attempt(id, "delivered", None, Some(&fstatus), "");
            // Not yet: read again in a while.
            return self
                .db
                .write(|c| enqueue(c, &job, now + Duration::minutes(POLL_MINUTES), now))
                .map(|_| ())
                .map_err(|e| e.to_string());
        }
        let report = get(format!("{base}/DiagnosticReport/{fid}"))?;
        let mut text = format!(
            "{}\n{}",
            tr_args(
                Lang::Ru,
                "federal-conclusion-heading",
                &[("id", fid.to_string().into())]
            ),
            report["conclusion"].as_str().unwrap_or("")
        );
        if let Some(code) = report["conclusionCode"][0]["coding"][0]["code"].as_str() {
            let line = tr_args(
                Lang::Ru,
                "federal-conclusion-icd",
                &[("code", code.to_string().into())],
            );
            text.push_str(&format!("\n{line}"));
        }
        let actor = self.escalator(id)?;
        if let Some(url) = report["presentedForm"][0]["url"].as_str() {
            // The signed protocol itself comes home, not only its address:
            // attached to the regional case (once, by its hash) before the
            // conclusion is recorded; a failure is retried like the rest.
            self.fetch_federal_pdf(&fed, &actor, id, &fid, url)?;
            let line = tr_args(
                Lang::Ru,
                "federal-conclusion-protocol",
                &[("url", url.to_string().into())],
            );
            text.push_str(&format!("\n{line}"));
        }
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
        self.record_attempt(id, "completed", None, Some(&fstatus), "");
        Ok(())
    }

    /// Downloads the federal protocol (a PDF of at most `MAX_PROTOCOL_BYTES`)
    /// and attaches it to the regional request, unless a file with its
    /// SHA-256 is there already.
    fn fetch_federal_pdf(
        &self,
        fed: &FederalConfig,
        actor: &Actor,
        id: i64,
        fid: &str,
        url: &str,
    ) -> Result<(), String> {
        use sha2::Digest;
        // Only from the configured federal address: the answer names it, we do not follow elsewhere.
        if !url.starts_with(fed.url.trim_end_matches('/')) {
            return Err("the federal protocol is not at the federal address".into());
        }
        let token = fed.token.clone();
        let bytes = block_on(async {
            let mut r = client(120)?
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .map_err(|e| format!("the federal level is unreachable: {e}"))?;
            if !r.status().is_success() {
                return Err(format!(
                    "the federal level answered {} for the protocol",
                    r.status()
                ));
            }
            let mut out = Vec::new();
            while let Some(chunk) = r.chunk().await.map_err(|e| e.to_string())? {
                out.extend_from_slice(&chunk);
                if out.len() > MAX_PROTOCOL_BYTES {
                    return Err("the federal protocol is over 50 MB".into());
                }
            }
            Ok(out)
        })?;
        let sha = hex::encode(sha2::Sha256::digest(&bytes));
        let have = self.attachments(actor, id).map_err(|e| e.to_string())?;
        if have.iter().any(|f| f.sha256 == sha) {
            return Ok(());
        }
        let name = tr_args(
            Lang::Ru,
            "file-federal-protocol",
            &[("id", fid.to_string().into())],
        );
        block_on(async {
            self.attach_bytes(actor, id, &name, bytes)
                .await
                .map(|_| ())
                .map_err(|e| format!("the federal protocol was not attached: {e}"))
        })
    }

    /// How the escalation of a request stands (whoever sees the request).
    pub fn escalation_state(&self, actor: &Actor, id: i64) -> SResult<Option<EscalationView>> {
        let mut conn = self.db.conn()?;
        self.visible(&mut conn, actor, id)?;
        let alarm_after = self.federal_alarm_after();
        let now = self.clock.now().naive_utc();
        Ok(
            rtms_store::fhir::escalation(&mut conn, id)?.map(|e| EscalationView {
                overdue: matches!(e.state.as_str(), "pending" | "failed")
                    && e.pending_since.is_some_and(|t| t + alarm_after <= now),
                state: e.state,
                federal_id: e.federal_id,
                federal_status: e.federal_status,
                attempts: e.attempts,
                last_error: e.last_error,
                next_attempt_at: e.next_attempt_at.map(|t| t.and_utc()),
                updated_at: e.updated_at.and_utc(),
                pending_since: e.pending_since.map(|t| t.and_utc()),
            }),
        )
    }

    fn federal_alarm_after(&self) -> Duration {
        Duration::minutes(
            self.federal
                .as_ref()
                .map(|f| f.alarm_minutes)
                .unwrap_or(DEFAULT_ALARM_MINUTES),
        )
    }

    /// Escalations undelivered past the alarm time, oldest first: the
    /// coordinator's alarm (dispatchers only; none for others).
    pub fn federal_alarms(&self, actor: &Actor) -> SResult<Vec<FederalAlarm>> {
        if !actor.is_dispatcher() {
            return Ok(Vec::new());
        }
        self.federal_overdue()
    }

    /// Every escalation undelivered past the alarm time (for `/metrics`).
    pub fn federal_overdue(&self) -> SResult<Vec<FederalAlarm>> {
        let before = self.clock.now().naive_utc() - self.federal_alarm_after();
        let mut conn = self.db.conn()?;
        Ok(rtms_store::fhir::escalations_overdue(&mut conn, before)?
            .into_iter()
            .map(|(id, since, err)| FederalAlarm {
                consultation_id: id,
                pending_since: since.and_utc(),
                last_error: err,
            })
            .collect())
    }

    /// A dispatcher sends an escalation again now: the outbox's job runs at
    /// once (a new one is queued if none is open). Audited and written in
    /// the timeline.
    pub fn federal_resend(&self, actor: &Actor, id: i64) -> SResult<()> {
        if !actor.is_dispatcher() {
            return Err(ServiceError::Forbidden);
        }
        if self.federal.is_none() {
            return Err(ServiceError::refused("federal_not_connected"));
        }
        let now = self.clock.now().naive_utc();
        self.db.write(|c| {
            let v = self.visible(c, actor, id)?;
            if v.status != Status::Escalated.as_str() {
                return Err(ServiceError::refused("federal_not_escalated"));
            }
            let open = match jobs::open_job_for(c, SEND_JOB, id)? {
                Some(j) => Some(j),
                None => jobs::open_job_for(c, POLL_JOB, id)?,
            };
            match open {
                Some(j) => jobs::run_now(c, j.id, now)?,
                None => {
                    rtms_store::fhir::escalation_pending(c, id, now)?;
                    enqueue(c, &SendEscalation { consultation: id }, now, now)?;
                }
            }
            rtms_store::fhir::escalation_next_attempt(c, id, now)?;
            self.audit_in(
                c,
                actor,
                Some(rtms_domain::Role::Dispatcher),
                "federal_resend",
                ("consultation", &id.to_string()),
                "",
            )
        })
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
        zip.start_file(
            tr_args(
                Lang::Ru,
                "file-request-pdf",
                &[("id", id.to_string().into())],
            ),
            opts,
        )
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
