//! The conclusion as a document: a PDF/A rendered from the signed conclusion
//! (crate `rtms-documents`, typst), kept in the object store, and sealed by
//! the server with an Ed25519 key whose public part is published. Anyone
//! holding the PDF can have it verified; `rtms verify` does the same offline.
//!
//! What the document prints is fixed in the transaction of the last signature
//! (`document_snapshots`), and the PDF is rendered from that and stored right
//! after the commit; a download serves the stored bytes (or, after a crash in
//! between, renders the same snapshot: rendering is deterministic). Data
//! changed after signing never reaches a sealed document.
//!
//! The seal key lives outside the database (`--seal-key-file`, mode 0600);
//! a key an earlier version kept in `settings` is moved there on start.

use chrono::{DateTime, Utc};
use rtms_documents::seal::{self, PublicKey, Seal, SealKey};
use rtms_documents::{
    ConclusionDoc, Diagnosis, Party, Person, RequestSummaryDoc, SealMark, Signer,
};
use rtms_domain::{Lang, Role};
use rtms_i18n::Label;
use rtms_store::models::{Document, NewDocument};
use rtms_store::{files as repo_files, repo};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ServiceError;
use crate::{Actor, Services};

pub use rtms_documents::cms::TrustRoots;

type SResult<T> = Result<T, ServiceError>;

/// Where versions before the key file kept the seal's secret key.
pub const LEGACY_SEAL_SETTING: &str = "seal.secret_key";

fn other(e: impl std::fmt::Display) -> ServiceError {
    ServiceError::Store(rtms_store::StoreError::Other(e.to_string()))
}

/// The server's seal key, as published.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SealKeyView {
    pub key_id: String,
    pub algorithm: String,
    /// The Ed25519 public key, base64.
    pub public_key: String,
}

/// What verifying a PDF found.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Verification {
    pub valid: bool,
    /// Why not, in the caller's language.
    pub reason: Option<String>,
    pub consultation_id: Option<i64>,
    pub version: Option<i32>,
    pub key_id: Option<String>,
    pub sealed_at: Option<String>,
    pub pdf_sha256: String,
    /// The signers' own signatures of this PDF (УКЭП), each with its verdicts.
    pub signatures: Vec<CmsSignatureView>,
}

/// The patient as a document prints them.
fn person(p: &rtms_domain::request::Patient) -> Person {
    Person {
        full_name: [&p.last_name, &p.first_name, &p.middle_name]
            .iter()
            .filter(|s| !s.is_empty())
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" "),
        birth_date: p.birth_date.map(ddmmyyyy).unwrap_or_default(),
        sex: p
            .sex
            .map(|s| s.label(Lang::Ru).to_string())
            .unwrap_or_default(),
        snils: p.snils.as_deref().map(snils_printed),
        oms_policy: p.oms_policy.clone(),
    }
}

/// СНИЛС as it is printed: `123-456-789 01` (anything else as typed).
fn snils_printed(s: &str) -> String {
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    if digits.len() == 11 {
        format!(
            "{}-{}-{} {}",
            &digits[0..3],
            &digits[3..6],
            &digits[6..9],
            &digits[9..11]
        )
    } else {
        s.to_string()
    }
}

fn ddmmyyyy(d: chrono::NaiveDate) -> String {
    d.format("%d.%m.%Y").to_string()
}

/// The documents are printed in Russian (see `doc-*` in the catalogues).
const DOC: Lang = Lang::Ru;

fn doc_text(key: &str, args: &[(&'static str, String)]) -> String {
    let args: Vec<_> = args.iter().map(|(k, v)| (*k, v.clone().into())).collect();
    rtms_i18n::tr_args(DOC, key, &args)
}

fn moscow(t: DateTime<Utc>) -> String {
    let at = t
        .with_timezone(&chrono_tz::Europe::Moscow)
        .format("%d.%m.%Y %H:%M")
        .to_string();
    doc_text("doc-moscow-time", &[("at", at)])
}

impl Services {
    /// The seal key (from `--seal-key-file`; a fresh one per process unless set).
    pub fn seal_key(&self) -> SResult<SealKey> {
        Ok(self.seal.as_ref().clone())
    }

    /// Seals with this key from now on.
    pub fn with_seal_key(mut self, key: SealKey) -> Self {
        self.seal = std::sync::Arc::new(key);
        self
    }

    /// The seal key from its file: created (mode 0600) if absent. A key an
    /// earlier version kept in the `settings` table is written to the file
    /// and removed from the database; a file and a database key that differ
    /// are refused (documents sealed with either must keep verifying).
    pub fn load_seal_key(&self, path: &std::path::Path) -> SResult<SealKey> {
        use crate::platform::keys;
        let shown = path.display().to_string();
        let parse = |text: &str| -> SResult<SealKey> {
            let bytes: [u8; 32] = hex::decode(text.trim())
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| {
                    other(keys::KeyFileError::Malformed {
                        path: shown.clone(),
                    })
                })?;
            Ok(SealKey::from_bytes(&bytes))
        };
        let in_db = {
            let mut conn = self.db.conn()?;
            repo::setting(&mut conn, LEGACY_SEAL_SETTING)?
        };
        let key = match keys::read_key_file(path).map_err(other)? {
            Some(text) => {
                let key = parse(&text)?;
                if let Some(old) = &in_db {
                    if parse(old)?.to_bytes() != key.to_bytes() {
                        return Err(other(format!(
                            "the database holds a seal key other than {shown}; keep one of them (documents sealed with the other stop verifying) and remove the setting {LEGACY_SEAL_SETTING}"
                        )));
                    }
                }
                key
            }
            None => {
                let key = match &in_db {
                    Some(old) => parse(old)?,
                    None => SealKey::generate(),
                };
                match keys::create_key_file(path, &hex::encode(key.to_bytes())) {
                    Ok(()) => {
                        tracing::info!(file = %shown, moved_from_database = in_db.is_some(), "seal key file created");
                        key
                    }
                    // Another process made it first: use theirs.
                    Err(keys::KeyFileError::Create { source, .. })
                        if source.kind() == std::io::ErrorKind::AlreadyExists
                            && in_db.is_none() =>
                    {
                        parse(
                            &keys::read_key_file(path)
                                .map_err(other)?
                                .unwrap_or_default(),
                        )?
                    }
                    Err(e) => return Err(other(e)),
                }
            }
        };
        if in_db.is_some() {
            self.db
                .write(|conn| repo::delete_setting(conn, LEGACY_SEAL_SETTING))?;
            tracing::info!(file = %shown, "seal key removed from the database");
        }
        Ok(key)
    }

    pub fn seal_public_key(&self) -> SResult<SealKeyView> {
        let key = self.seal_key()?;
        Ok(SealKeyView {
            key_id: key.key_id(),
            algorithm: seal::ALGORITHM.to_string(),
            public_key: key.public().to_base64(),
        })
    }

    /// The document's content, as rendered and sealed: everything printed.
    fn conclusion_content(
        &self,
        conn: &mut rtms_store::DbConn,
        consultation_id: i64,
    ) -> SResult<(ConclusionDoc, i64, i32)> {
        let c = repo::consultation(conn, consultation_id)?;
        let k = repo::current_conclusion(conn, consultation_id)?.ok_or(ServiceError::NotFound)?;
        let signed_at = k
            .signed_at
            .ok_or(ServiceError::refused("document_not_ready"))?;
        let members = repo::assigned_consultants(conn, consultation_id)?;
        // A consilium's document exists once every participant has signed.
        if members.is_empty() || members.iter().any(|m| m.signed_at.is_none()) {
            return Err(ServiceError::refused("document_not_ready"));
        }
        let data: rtms_domain::request::ClinicalData =
            serde_json::from_str(&c.clinical).unwrap_or_default();
        let requesting = repo::organization(conn, c.requesting_org_id)?;
        let requester = repo::user(conn, c.requester_id)?;
        let users =
            repo::users_by_ids(conn, &members.iter().map(|m| m.user_id).collect::<Vec<_>>())?;
        let mut consulting_org = None;
        let mut signers = Vec::new();
        for m in &members {
            let Some(u) = users.iter().find(|u| u.id == m.user_id) else {
                continue;
            };
            let org = repo::memberships_of(conn, u.id)?
                .into_iter()
                .find(|ms| ms.role == Role::Consultant.as_str())
                .map(|ms| repo::organization(conn, ms.organization_id))
                .transpose()?;
            if consulting_org.is_none() {
                consulting_org = org.clone();
            }
            signers.push(Signer {
                full_name: u.full_name(),
                position: u.position.clone(),
                organization: org.map(|o| o.short_name).unwrap_or_default(),
                signed_at: m
                    .signed_at
                    .map(|t| moscow(DateTime::from_naive_utc_and_offset(t, Utc))),
            });
        }
        let consulting = consulting_org
            .or_else(|| {
                c.assigned_tkc_id
                    .and_then(|t| repo::organization(conn, t).ok())
            })
            .map(|o| Party {
                name: o.name,
                details: None,
            })
            .unwrap_or(Party {
                name: String::new(),
                details: None,
            });
        let mut codes = vec![k.diagnosis_main.clone()];
        codes.extend(data.diagnosis.complications.iter().cloned());
        codes.extend(data.diagnosis.comorbidities.iter().cloned());
        let names = rtms_store::reference::icd10_names(conn, &codes)?;
        let name_of = |code: &str| {
            names
                .iter()
                .find(|(c, _)| c == code)
                .map(|(_, n)| n.clone())
                .unwrap_or_default()
        };
        let p = &data.patient;
        let doc = ConclusionDoc {
            title: rtms_i18n::tr(DOC, "doc-conclusion-title"),
            number: format!("{}", c.id),
            version: k.version,
            supersedes: match k.supersedes_id {
                Some(prev) => repo::conclusion_versions(conn, consultation_id)?
                    .into_iter()
                    .find(|v| v.id == prev)
                    .map(|v| {
                        doc_text(
                            "doc-corrected-version",
                            &[
                                ("version", k.version.to_string()),
                                ("previous", v.version.to_string()),
                                (
                                    "signed",
                                    v.signed_at
                                        .map(|t| {
                                            moscow(DateTime::from_naive_utc_and_offset(t, Utc))
                                        })
                                        .unwrap_or_default(),
                                ),
                            ],
                        )
                    }),
                None => None,
            },
            region: self.region_name(conn)?,
            requesting: Party {
                name: requesting.name,
                details: None,
            },
            consulting,
            form_of_care: data
                .form_of_care
                .map(|f| f.label(Lang::Ru).to_string())
                .unwrap_or_default(),
            mode: data
                .mode
                .map(|m| m.label(Lang::Ru).to_string())
                .unwrap_or_default(),
            patient: person(p),
            diagnosis: Diagnosis {
                code: k.diagnosis_main.clone(),
                title: if k.diagnosis_text.is_empty() {
                    name_of(&k.diagnosis_main)
                } else {
                    k.diagnosis_text.clone()
                },
            },
            other_diagnoses: data
                .diagnosis
                .complications
                .iter()
                .chain(data.diagnosis.comorbidities.iter())
                .map(|code| Diagnosis {
                    code: code.clone(),
                    title: name_of(code),
                })
                .collect(),
            question: data.question.clone(),
            findings: k.findings.clone(),
            recommendations: k.recommendations.clone(),
            transfer: Some(k.transfer.clone()).filter(|t| !t.is_empty()),
            follow_up: Some(k.follow_up.clone()).filter(|t| !t.is_empty()),
            consultants: signers,
            requested_by: format!("{}, {}", requester.full_name(), requester.position)
                .trim_end_matches(", ")
                .to_string(),
            issued_at: moscow(DateTime::from_naive_utc_and_offset(signed_at, Utc)),
            seal: None,
        };
        Ok((doc, k.id, k.version))
    }

    /// The request as a printable PDF/A summary, for the consultant who answers
    /// it (and anyone else who may read the request; the read is audited).
    pub fn request_summary_pdf(&self, actor: &Actor, id: i64) -> SResult<Vec<u8>> {
        let v = self.consultation(actor, id, Lang::Ru)?;
        let files = self.attachments(actor, id)?;
        let mut conn = self.db.conn()?;
        let d = &v.data;
        let mut codes: Vec<String> = d.diagnosis.main.iter().cloned().collect();
        codes.extend(d.diagnosis.complications.iter().cloned());
        let names = rtms_store::reference::icd10_names(&mut conn, &codes)?;
        let profile = match &d.profile {
            Some(p) => rtms_store::reference::profile(&mut conn, p)?
                .map(|p| p.name_ru)
                .unwrap_or_default(),
            None => String::new(),
        };
        let purpose = match &d.purpose {
            Some(p) => rtms_store::reference::purpose(&mut conn, p)?
                .map(|p| p.name_ru)
                .unwrap_or_default(),
            None => String::new(),
        };
        let p = &d.patient;
        let main = d.diagnosis.main.clone().unwrap_or_default();
        let vt = &d.vitals;
        let vitals: Vec<String> = [
            vt.bp_systolic.zip(vt.bp_diastolic).map(|(s, di)| {
                doc_text(
                    "doc-vitals-bp",
                    &[("systolic", s.to_string()), ("diastolic", di.to_string())],
                )
            }),
            vt.heart_rate
                .map(|x| doc_text("doc-vitals-hr", &[("value", x.to_string())])),
            vt.resp_rate
                .map(|x| doc_text("doc-vitals-rr", &[("value", x.to_string())])),
            vt.spo2.map(|x| format!("SpO₂ {x} %")),
            vt.temperature
                .map(|x| format!("t {} °C", format!("{x:.1}").replace('.', ","))),
        ]
        .into_iter()
        .flatten()
        .collect();
        let paragraphs = |parts: &[(&str, &str)]| {
            parts
                .iter()
                .filter(|(_, t)| !t.trim().is_empty())
                .map(|(key, t)| format!("{}: {}", rtms_i18n::tr(DOC, key), t.trim()))
                .collect::<Vec<_>>()
                .join("\n\n")
        };
        let vitals = vitals.join(", ");
        let doc = RequestSummaryDoc {
            number: v.id.to_string(),
            region: self.region_name(&mut conn)?,
            requesting: Party {
                name: repo::organization(&mut conn, v.requesting_organization.id)?.name,
                details: None,
            },
            form_of_care: d
                .form_of_care
                .map(|f| f.label(Lang::Ru).to_string())
                .unwrap_or_default(),
            mode: d
                .mode
                .map(|m| m.label(Lang::Ru).to_string())
                .unwrap_or_default(),
            profile,
            purpose,
            patient: person(p),
            diagnosis: Diagnosis {
                title: if d.diagnosis.text.is_empty() {
                    names
                        .iter()
                        .find(|(c, _)| *c == main)
                        .map(|(_, n)| n.clone())
                        .unwrap_or_default()
                } else {
                    d.diagnosis.text.clone()
                },
                code: main,
            },
            question: d.question.clone(),
            anamnesis: paragraphs(&[
                ("doc-anamnesis-morbi", &d.anamnesis_morbi),
                ("doc-anamnesis-vitae", &d.anamnesis_vitae),
                ("doc-epidemiological-history", &d.epidemiological_history),
            ]),
            examinations: paragraphs(&[
                ("doc-objective-status", &d.objective_status),
                ("doc-vitals", &vitals),
                ("doc-lab-results", &d.lab_results),
                ("doc-instrumental-results", &d.instrumental_results),
                ("doc-current-treatment", &d.current_treatment),
                ("doc-previous-consultations", &d.previous_consultations),
            ]),
            attachments: files
                .iter()
                .map(|f| {
                    doc_text(
                        "doc-attachment",
                        &[
                            ("name", f.file_name.clone()),
                            ("kb", ((f.size + 1023) / 1024).to_string()),
                            ("sha", f.sha256[..f.sha256.len().min(16)].to_string()),
                        ],
                    )
                })
                .collect(),
            requested_by: {
                let u = repo::user(&mut conn, v.requester.id)?;
                format!("{}, {}", u.full_name(), u.position)
                    .trim_end_matches(", ")
                    .to_string()
            },
            submitted_at: v
                .submitted_at
                .map(moscow)
                .unwrap_or_else(|| moscow(v.created_at)),
            deadline: v.deadline.map(moscow).unwrap_or_default(),
        };
        rtms_documents::render_request_summary(&doc).map_err(other)
    }

    /// The region as the administrator named it; the system's own name otherwise.
    fn region_name(&self, conn: &mut rtms_store::DbConn) -> SResult<String> {
        Ok(
            repo::setting(conn, crate::directory::admin::REGION_NAME_SETTING)?
                .filter(|n| !n.trim().is_empty())
                .unwrap_or_else(|| rtms_i18n::tr(DOC, "doc-region-default")),
        )
    }

    /// Fixes what the document of the consultation's current conclusion
    /// prints, in the transaction of its last signature. Nothing while a
    /// signature is still missing. Returns the conclusion fixed, if any.
    pub(crate) fn snapshot_document(
        &self,
        conn: &mut rtms_store::DbConn,
        consultation_id: i64,
    ) -> SResult<Option<i64>> {
        let (mut doc, conclusion_id, _) = match self.conclusion_content(conn, consultation_id) {
            Ok(made) => made,
            Err(ServiceError::Refused {
                code: "document_not_ready",
            }) => return Ok(None),
            Err(e) => return Err(e),
        };
        let key = self.seal_key()?;
        let content = serde_json::to_value(&doc).map_err(other)?;
        let content_sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(
            seal::canonical_json(&content),
        ));
        doc.seal = Some(SealMark {
            key_id: key.key_id(),
            content_sha256: content_sha,
            verify_url: format!(
                "{}/verify",
                self.public_url
                    .clone()
                    .or_else(|| self.mail.as_ref().map(|m| m.public_url.clone()))
                    .unwrap_or_default()
                    .trim_end_matches('/')
            ),
        });
        let sealed_at = repo::current_conclusion(conn, consultation_id)?
            .and_then(|k| k.signed_at)
            .unwrap_or_else(|| self.clock.now().naive_utc());
        repo_files::insert_snapshot(
            conn,
            conclusion_id,
            consultation_id,
            &serde_json::to_string(&doc).map_err(other)?,
            sealed_at,
        )?;
        Ok(Some(conclusion_id))
    }

    /// After the commit of a last signature: renders and stores the document
    /// now, in the background (a download meanwhile renders the same snapshot).
    pub(crate) fn issue_document_soon(&self, consultation_id: i64, conclusion_id: i64) {
        if !self.render_at_signing {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let svc = self.clone();
        runtime.spawn(async move {
            if let Err(e) = svc
                .issue_document(consultation_id, Some(conclusion_id))
                .await
            {
                tracing::warn!(consultation_id, error = %e, "conclusion document not issued");
            }
        });
    }

    /// The signed conclusion's PDF and its seal (stored at signing).
    /// Who may read the conclusion may read the document (the read is audited).
    pub async fn conclusion_document(
        &self,
        actor: &Actor,
        consultation_id: i64,
    ) -> SResult<(Document, Vec<u8>)> {
        // Access exactly as the conclusion itself (audited there).
        let svc = self.clone();
        let a = actor.clone();
        let view = tokio::task::spawn_blocking(move || svc.conclusion(&a, consultation_id))
            .await
            .map_err(other)??;
        self.issue_document(consultation_id, Some(view.id)).await
    }

    /// A conclusion's document (the current conclusion's unless named): the
    /// stored one, else rendered from the content fixed at signing, sealed
    /// and stored. No access check.
    pub async fn issue_document(
        &self,
        consultation_id: i64,
        conclusion_id: Option<i64>,
    ) -> SResult<(Document, Vec<u8>)> {
        // One rendering at a time in this process: a download right after the
        // signature waits for the document being made instead of making another.
        let _one = self.documents_lock.lock().await;
        let svc = self.clone();
        let (existing, k) =
            tokio::task::spawn_blocking(move || -> SResult<(Option<Document>, _)> {
                let mut conn = svc.db.conn()?;
                let versions = repo::conclusion_versions(&mut conn, consultation_id)?;
                let k = match conclusion_id {
                    Some(cid) => versions.into_iter().find(|v| v.id == cid),
                    None => repo::current_conclusion(&mut conn, consultation_id)?,
                }
                .ok_or(ServiceError::NotFound)?;
                Ok((repo_files::document_of_conclusion(&mut conn, k.id)?, k))
            })
            .await
            .map_err(other)??;
        if let Some(d) = existing {
            let bytes = self.read_all(&d.storage_key).await?;
            return Ok((d, bytes));
        }
        let svc = self.clone();
        let made = tokio::task::spawn_blocking(move || -> SResult<(NewDocument, Vec<u8>)> {
            let key = svc.seal_key()?;
            let mut conn = svc.db.conn()?;
            // Signed before snapshots existed: fix it now (the old behaviour).
            let snapshot = match repo_files::snapshot_of(&mut conn, k.id)? {
                Some(s) => s,
                None => {
                    let current = repo::current_conclusion(&mut conn, consultation_id)?;
                    if current.map(|c| c.id) != Some(k.id) {
                        return Err(ServiceError::refused("document_not_ready"));
                    }
                    svc.db.write(|c| {
                        svc.snapshot_document(c, consultation_id)?
                            .ok_or(ServiceError::refused("document_not_ready"))
                    })?;
                    repo_files::snapshot_of(&mut conn, k.id)?.ok_or(ServiceError::NotFound)?
                }
            };
            let (text, sealed_at) = snapshot;
            let doc: ConclusionDoc = serde_json::from_str(&text).map_err(other)?;
            let mut unsealed = doc.clone();
            unsealed.seal = None;
            let content = serde_json::to_value(&unsealed).map_err(other)?;
            let pdf = rtms_documents::render_conclusion(&doc).map_err(other)?;
            let s = seal::seal(
                &key,
                &content,
                &pdf,
                DateTime::from_naive_utc_and_offset(sealed_at, Utc),
            );
            let pdf_sha = s.pdf_sha256.clone();
            let (conclusion_id, version) = (k.id, k.version);
            Ok((
                NewDocument {
                    consultation_id,
                    conclusion_id,
                    version,
                    storage_key: format!(
                        "documents/{consultation_id}/conclusion-{conclusion_id}-v{version}-{}.pdf",
                        &pdf_sha[..16]
                    ),
                    pdf_sha256: pdf_sha,
                    content: String::from_utf8(seal::canonical_json(&content)).map_err(other)?,
                    seal: serde_json::to_string(&s).map_err(other)?,
                    created_at: svc.clock.now().naive_utc(),
                },
                pdf,
            ))
        })
        .await
        .map_err(other)??;
        let (new, pdf) = made;
        let our_sha = new.pdf_sha256.clone();
        self.files
            .put_bytes(&new.storage_key, pdf.clone())
            .await
            .map_err(other)?;
        let svc = self.clone();
        let kept = tokio::task::spawn_blocking(move || {
            let inserted = svc.db.write(|conn| -> SResult<Document> {
                Ok(repo_files::insert_document(conn, &new)?)
            });
            match inserted {
                // Another instance inserted its copy between our look and our insert.
                Err(ServiceError::Store(rtms_store::StoreError::Duplicate)) => {
                    let mut conn = svc.db.conn()?;
                    repo_files::document_of_conclusion(&mut conn, new.conclusion_id)?
                        .ok_or(ServiceError::NotFound)
                }
                other => other,
            }
        })
        .await
        .map_err(other)??;
        if kept.pdf_sha256 != our_sha {
            // Another instance stored its (identical by construction) copy first.
            let bytes = self.read_all(&kept.storage_key).await?;
            return Ok((kept, bytes));
        }
        Ok((kept, pdf))
    }

    /// The documents of every signed version, oldest first (whoever may read
    /// the conclusion may read them all).
    pub fn document_versions(&self, actor: &Actor, consultation_id: i64) -> SResult<Vec<Document>> {
        self.conclusion(actor, consultation_id)?;
        self.document_versions_unaudited(consultation_id)
    }

    /// The same, for a page that has checked access already.
    pub fn document_versions_unaudited(&self, consultation_id: i64) -> SResult<Vec<Document>> {
        let mut conn = self.db.conn()?;
        Ok(repo_files::documents_of(&mut conn, consultation_id)?)
    }

    /// One earlier (or the current) version's document, as it was issued.
    pub async fn document_version(
        &self,
        actor: &Actor,
        consultation_id: i64,
        version: i32,
    ) -> SResult<(Document, Vec<u8>)> {
        let svc = self.clone();
        let a = actor.clone();
        let docs = tokio::task::spawn_blocking(move || svc.document_versions(&a, consultation_id))
            .await
            .map_err(other)??;
        let doc = docs
            .into_iter()
            .find(|d| d.version == version)
            .ok_or(ServiceError::NotFound)?;
        let bytes = self.read_all(&doc.storage_key).await?;
        Ok((doc, bytes))
    }

    async fn read_all(&self, key: &str) -> SResult<Vec<u8>> {
        use futures_util::StreamExt;
        let (_, mut stream) = self.files.open(key, None).await.map_err(other)?;
        let mut out = Vec::new();
        while let Some(chunk) = stream.next().await {
            out.extend_from_slice(&chunk.map_err(other)?);
        }
        Ok(out)
    }

    /// Checks a PDF: is it a document this region sealed, unchanged?
    pub fn verify_pdf(&self, pdf: &[u8], lang: Lang) -> SResult<Verification> {
        let pdf_sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(pdf));
        let docs = {
            let mut conn = self.db.conn()?;
            repo_files::documents_by_pdf(&mut conn, &pdf_sha)?
        };
        let msg = |code: &str| Some(rtms_i18n::refusal(code, lang).to_string());
        let Some(d) = docs.into_iter().next() else {
            return Ok(Verification {
                valid: false,
                reason: msg("seal_unknown_pdf"),
                consultation_id: None,
                version: None,
                key_id: None,
                sealed_at: None,
                pdf_sha256: pdf_sha,
                signatures: Vec::new(),
            });
        };
        let signatures = {
            let mut conn = self.db.conn()?;
            signature_views(&mut conn, d.id)?
                .into_iter()
                .filter(|s| s.target == "pdf")
                .collect()
        };
        let s: Seal = serde_json::from_str(&d.seal).map_err(other)?;
        let content: serde_json::Value = serde_json::from_str(&d.content).map_err(other)?;
        let key = self.seal_key()?.public();
        let verdict = seal::verify(&key, &s, Some(&content), Some(pdf));
        Ok(Verification {
            valid: verdict.is_ok(),
            reason: verdict.err().and_then(|_| msg("seal_broken")),
            consultation_id: Some(d.consultation_id),
            version: Some(d.version),
            key_id: Some(s.key_id),
            sealed_at: Some(s.sealed_at),
            pdf_sha256: pdf_sha,
            signatures,
        })
    }
}

/// Offline verification (`rtms verify`): a PDF against its detached seal and
/// the published key. Says which check failed.
pub fn verify_detached(pdf: &[u8], seal_json: &str, public_key_b64: &str) -> Result<Seal, String> {
    let s: Seal = serde_json::from_str(seal_json).map_err(|e| format!("the seal file: {e}"))?;
    let key = PublicKey::from_base64(public_key_b64).map_err(|e| format!("the key: {e}"))?;
    seal::verify(&key, &s, None, Some(pdf)).map_err(|e| e.to_string())?;
    Ok(s)
}

/// A signer's own CMS signature of the conclusion document, as shown.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CmsSignatureView {
    pub id: i64,
    pub user_id: i64,
    /// What it signs: `pdf` or `semd`.
    pub target: String,
    /// `valid` only when all the verdicts below hold: it matches the
    /// document, the certificate chains up to a configured trust root, was
    /// valid at signing, is on no revocation list of its issuer, and names
    /// the user who added it (СНИЛС and name); `untrusted` (mathematically
    /// sound, but one of the others fails); `unsupported` (kept; the
    /// algorithm could not be checked on this server).
    pub status: String,
    /// `ok` or `unchecked`: does the signature match the document?
    pub integrity: String,
    /// `trusted`, `untrusted`, `unknown_root` or `unchecked`.
    pub trust: String,
    /// `valid_at_signing`, `expired` or `not_yet_valid`.
    pub time_validity: String,
    /// `not_revoked`, `revoked` or `unknown` (no revocation list of the
    /// issuer loaded, or the chain itself does not hold).
    pub revocation: String,
    /// `matches` (the certificate's СНИЛС and name are the user's),
    /// `mismatch` or `unknown` (the certificate or the user has no СНИЛС).
    pub signer_match: String,
    /// The signing time the signature claims, if any.
    pub signed_at: Option<String>,
    /// The signer as their certificate names them.
    pub signer: String,
    pub algorithm: String,
    pub serial: String,
    pub issuer: String,
    pub not_after: String,
    pub created_at: DateTime<Utc>,
}

impl Services {
    /// A consultant who signed the conclusion adds their own detached CMS
    /// signature of its PDF (`target` `pdf`) or of its СЭМД (`semd`). One
    /// that does not match the document is refused; one whose algorithm is
    /// not checked here (ГОСТ) is kept as such.
    pub async fn add_cms_signature(
        &self,
        actor: &Actor,
        consultation_id: i64,
        signature: Vec<u8>,
        target: &str,
    ) -> SResult<CmsSignatureView> {
        let target = match target {
            "" | "pdf" => "pdf",
            "semd" => "semd",
            _ => return Err(ServiceError::field("target", "semd_target")),
        };
        let (doc, pdf) = self.conclusion_document(actor, consultation_id).await?;
        // The read of the conclusion above is the audited one.
        let signed_bytes = if target == "semd" {
            let mut conn = self.db.conn()?;
            repo_files::semd_of_conclusion(&mut conn, doc.conclusion_id)?
                .ok_or(ServiceError::refused("semd_not_ready"))?
                .xml
                .into_bytes()
        } else {
            pdf
        };
        let svc = self.clone();
        let actor = actor.clone();
        tokio::task::spawn_blocking(move || {
            let (c, members) = {
                let mut conn = svc.db.conn()?;
                (
                    repo::consultation(&mut conn, consultation_id)?,
                    repo::assigned_consultants(&mut conn, consultation_id)?,
                )
            };
            crate::lifecycle::rules::may_add_cms(&crate::lifecycle::rules::Facts {
                status: crate::lifecycle::consultations::status_of(&c),
                roles: &[],
                me: actor.user.id,
                members: &members,
                current: None,
            })?;
            if signature.len() > 1024 * 1024 {
                return Err(ServiceError::field("signature", "cms_malformed"));
            }
            let check = rtms_documents::cms::check_detached(
                &signature,
                &signed_bytes,
                &svc.trust_roots,
                svc.clock.now(),
            )
            .map_err(|_| ServiceError::field("signature", "cms_malformed"))?;
            if check.status == rtms_documents::cms::CmsStatus::Invalid {
                return Err(ServiceError::field("signature", "cms_mismatch"));
            }
            let signer_match = signer_match(&check, &actor.user);
            let status = match (check.status, signer_match) {
                (rtms_documents::cms::CmsStatus::Valid, "matches") => "valid",
                (rtms_documents::cms::CmsStatus::Valid, _) => "untrusted",
                (other, _) => other.as_str(),
            };
            use base64::Engine;
            let now = svc.clock.now();
            let id = svc.db.write(|conn| -> SResult<i64> {
                let cms = base64::engine::general_purpose::STANDARD.encode(&signature);
                let mut detail = serde_json::to_value(&check).map_err(other)?;
                detail["signer_match"] = signer_match.into();
                let detail = detail.to_string();
                let id = repo_files::insert_signature(
                    conn,
                    &repo_files::NewSignature {
                        document_id: doc.id,
                        user_id: actor.user.id,
                        cms: &cms,
                        status,
                        detail: &detail,
                        target,
                        created_at: now.naive_utc(),
                    },
                )?;
                if target == "semd" {
                    svc.semd_mark_signed(conn, consultation_id, doc.conclusion_id, doc.id)?;
                }
                svc.audit_in(
                    conn,
                    &actor,
                    Some(Role::Consultant),
                    "cms_signature_add",
                    ("document", &doc.id.to_string()),
                    &format!("{target} {} {} {}", status, check.algorithm, check.serial),
                )?;
                Ok(id)
            })?;
            Ok(CmsSignatureView {
                id,
                user_id: actor.user.id,
                target: target.into(),
                status: status.into(),
                integrity: check.integrity.as_str().into(),
                trust: check.trust.as_str().into(),
                time_validity: check.time_validity.as_str().into(),
                revocation: check.revocation.as_str().into(),
                signer_match: signer_match.into(),
                signed_at: check.signed_at,
                signer: check.signer,
                algorithm: check.algorithm,
                serial: check.serial,
                issuer: check.issuer,
                not_after: check.not_after,
                created_at: now,
            })
        })
        .await
        .map_err(other)?
    }

    /// The signers' own signatures of the conclusion document (whoever may
    /// read the conclusion may read them). None until the document exists.
    pub fn cms_signatures(
        &self,
        actor: &Actor,
        consultation_id: i64,
    ) -> SResult<Vec<CmsSignatureView>> {
        let view = self.conclusion(actor, consultation_id)?;
        self.cms_signatures_of_conclusion(view.id)
    }

    /// The same for a conclusion the caller has been allowed to read already.
    pub fn cms_signatures_of_conclusion(
        &self,
        conclusion_id: i64,
    ) -> SResult<Vec<CmsSignatureView>> {
        let mut conn = self.db.conn()?;
        let Some(doc) = repo_files::document_of_conclusion(&mut conn, conclusion_id)? else {
            return Ok(Vec::new());
        };
        signature_views(&mut conn, doc.id)
    }
}

/// Letters compared as a person would: case, `ё`/`е` and spaces aside.
fn name_key(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
        .replace('\u{0451}', "\u{0435}")
}

/// Does the certificate name the user who adds the signature? `matches`
/// when its СНИЛС is the user's and its surname and given names are theirs;
/// `mismatch` when either differs; `unknown` when the certificate or the
/// user lacks what to compare.
pub fn signer_match(
    check: &rtms_documents::cms::CmsCheck,
    user: &rtms_store::models::User,
) -> &'static str {
    let user_snils: Option<String> = user
        .snils
        .as_deref()
        .map(|s| s.chars().filter(char::is_ascii_digit).collect());
    let snils = match (check.signer_snils.as_deref(), user_snils.as_deref()) {
        (Some(a), Some(b)) => Some(a == b),
        _ => None,
    };
    let name = match (
        check.signer_surname.as_deref(),
        check.signer_given_name.as_deref(),
    ) {
        (Some(sn), Some(gn)) => Some(
            name_key(sn) == name_key(&user.last_name)
                && name_key(gn) == name_key(&format!("{} {}", user.first_name, user.middle_name)),
        ),
        _ => None,
    };
    match (snils, name) {
        (Some(false), _) | (_, Some(false)) => "mismatch",
        (Some(true), Some(true)) => "matches",
        _ => "unknown",
    }
}

/// The signers' own signatures of a document, as shown (signatures kept
/// before a verdict existed read as what they then were: never `valid`).
fn signature_views(
    conn: &mut rtms_store::DbConn,
    document_id: i64,
) -> SResult<Vec<CmsSignatureView>> {
    Ok(repo_files::signatures_of(conn, document_id)?
        .into_iter()
        .map(|s| {
            let d: serde_json::Value = serde_json::from_str(&s.detail).unwrap_or_default();
            let field = |k: &str| d[k].as_str().unwrap_or_default().to_string();
            // Kept before trust was checked: nothing vouched for the signer.
            let legacy = d.get("trust").is_none();
            // Kept before revocation and the signer's identity were checked:
            // not every verdict holds, so not valid.
            let before_revocation = d.get("revocation").is_none();
            CmsSignatureView {
                id: s.id,
                user_id: s.user_id,
                target: s.target.clone(),
                status: if (legacy || before_revocation) && s.status == "valid" {
                    "untrusted".into()
                } else {
                    s.status.clone()
                },
                integrity: if legacy {
                    if s.status == "valid" {
                        "ok"
                    } else {
                        "unchecked"
                    }
                    .into()
                } else {
                    field("integrity")
                },
                trust: if legacy {
                    "unchecked".into()
                } else {
                    field("trust")
                },
                time_validity: if legacy {
                    "valid_at_signing".into()
                } else {
                    field("time_validity")
                },
                revocation: d["revocation"].as_str().unwrap_or("unknown").into(),
                signer_match: d["signer_match"].as_str().unwrap_or("unknown").into(),
                signed_at: d["signed_at"].as_str().map(str::to_string),
                signer: field("signer"),
                algorithm: field("algorithm"),
                serial: field("serial"),
                issuer: field("issuer"),
                not_after: field("not_after"),
                created_at: DateTime::from_naive_utc_and_offset(s.created_at, Utc),
            }
        })
        .collect())
}
