//! The СЭМД «Протокол консультации» (ред. 7) of a signed conclusion: the
//! data gathered here (consultation, conclusion, people, organizations,
//! region settings), mapped to CDA by `rtms_documents::semd`, built and
//! stored unchanged in the transaction of the last signature, beside the
//! PDF's snapshot (`semd_documents`, with its SHA-256).
//!
//! What the document cannot do without — a signer's СНИЛС and position code,
//! the consulting organization's ФРМО OID and address, the region's code,
//! the МИС number, the patient's condition — is listed by [`Services::semd_missing`];
//! while the region requires a СЭМД (setting `semd.required`, on unless
//! switched off) the last signature is refused until it is given. What only
//! the patient's side may lack (СНИЛС, identity document, policy) is written
//! as not given (`nullFlavor`), never invented.
//!
//! Status of a document (the seam for registration in РЭМД): `created` when
//! built, `signed` once every consultant who signed the conclusion has added
//! a CMS signature over these exact bytes, then `sent`, `registered` or
//! `rejected` (with РЭМД's error code, НСИ 1.2.643.5.1.13.13.99.2.305) —
//! the last three belong to a registration outbox that does not exist yet.

use chrono::{DateTime, NaiveDateTime, Utc};
use rtms_documents::semd::{
    self, Coded, IdentityDoc, Name, Org, Patient, Referral, SemdDoc, Staff,
};
use rtms_domain::request::ClinicalData;
use rtms_domain::{nsi, FieldError, FormOfCare, Role, Sex};
use rtms_store::models::{Organization, User};
use rtms_store::{files as repo_files, repo, DbConn};
use serde::Serialize;
use sha2::Digest;
use utoipa::ToSchema;

use crate::error::ServiceError;
use crate::{Actor, Services};

type SResult<T> = Result<T, ServiceError>;

pub use crate::directory::admin::{
    valid_mis_number, SEMD_MIS_NUMBER_SETTING as MIS_NUMBER_SETTING,
    SEMD_REGION_CODE_SETTING as REGION_CODE_SETTING,
    SEMD_REGION_NAME_SETTING as REGION_NAME_SETTING, SEMD_REQUIRED_SETTING as REQUIRED_SETTING,
};

/// A СЭМД as the API shows it (the XML itself is served as is).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SemdView {
    pub consultation_id: i64,
    pub version: i32,
    /// `ClinicalDocument/id/@extension`.
    pub document_id: String,
    /// Hex SHA-256 of the stored bytes: what a signature covers.
    pub sha256: String,
    /// `created`, `signed`, `sent`, `registered` or `rejected`.
    pub status: String,
    /// РЭМД's error code when rejected.
    pub remd_error_code: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<&repo_files::SemdDocument> for SemdView {
    fn from(d: &repo_files::SemdDocument) -> Self {
        SemdView {
            consultation_id: d.consultation_id,
            version: d.version,
            document_id: d.document_id.clone(),
            sha256: d.sha256.clone(),
            status: d.status.clone(),
            remd_error_code: d.remd_error_code.clone(),
            created_at: DateTime::from_naive_utc_and_offset(d.created_at, Utc),
        }
    }
}

fn snils_ok(s: &Option<String>) -> Option<String> {
    s.as_ref()
        .filter(|s| rtms_domain::validate::Snils::parse(s).is_ok())
        .cloned()
}

fn split_name(u: &User) -> Name {
    Name {
        family: u.last_name.clone(),
        given: u.first_name.clone(),
        patronymic: u.middle_name.clone(),
    }
}

fn org_of(o: &Organization) -> Org {
    Org {
        oid: o.frmo_oid.clone().unwrap_or_default(),
        name: o.name.clone(),
        address: o.address.clone(),
        phone: o.phone.clone(),
    }
}

impl Services {
    fn semd_setting(&self, conn: &mut DbConn, key: &str) -> SResult<String> {
        Ok(repo::setting(conn, key)?
            .map(|v| v.trim().to_string())
            .unwrap_or_default())
    }

    /// Whether the region refuses a last signature whose СЭМД cannot be built.
    pub(crate) fn semd_required(&self, conn: &mut DbConn) -> SResult<bool> {
        Ok(self.semd_setting(conn, REQUIRED_SETTING)? != "false")
    }

    /// The document of the consultation's current conclusion as it would be
    /// built now, or what it lacks (field → code, as form errors).
    pub(crate) fn semd_build(
        &self,
        conn: &mut DbConn,
        consultation_id: i64,
    ) -> SResult<Result<(SemdDoc, i64), Vec<FieldError>>> {
        let c = repo::consultation(conn, consultation_id)?;
        let k = repo::current_conclusion(conn, consultation_id)?.ok_or(ServiceError::NotFound)?;
        let data: ClinicalData = serde_json::from_str(&c.clinical).unwrap_or_default();
        let members = repo::assigned_consultants(conn, consultation_id)?;
        let mut missing = Vec::new();

        let mis = self.semd_setting(conn, MIS_NUMBER_SETTING)?;
        if !valid_mis_number(&mis) {
            missing.push(FieldError::new("semd.mis_number", "semd_mis_number"));
        }
        let region = Coded::new(
            self.semd_setting(conn, REGION_CODE_SETTING)?,
            self.semd_setting(conn, REGION_NAME_SETTING)?,
        );
        if region.code.is_empty() || region.name.is_empty() {
            missing.push(FieldError::new("semd.region", "semd_region"));
        }

        // The author first, then the other members in the order they joined.
        let mut ids: Vec<i64> = members.iter().map(|m| m.user_id).collect();
        ids.sort_by_key(|id| *id != k.author_id);
        let users = repo::users_by_ids(conn, &ids)?;
        let mut consultants = Vec::new();
        let mut custodian: Option<Organization> = None;
        for id in &ids {
            let Some(u) = users.iter().find(|u| u.id == *id) else {
                continue;
            };
            let snils = snils_ok(&u.snils);
            if snils.is_none() {
                missing.push(FieldError::new(
                    format!("semd.staff.{}.snils", u.id),
                    "semd_staff_snils",
                ));
            }
            let code = u.position_code.clone().unwrap_or_default();
            if code.trim().is_empty() || u.position.trim().is_empty() {
                missing.push(FieldError::new(
                    format!("semd.staff.{}.position", u.id),
                    "semd_staff_position",
                ));
            }
            if custodian.is_none() {
                custodian = repo::memberships_of(conn, u.id)?
                    .into_iter()
                    .find(|ms| ms.role == Role::Consultant.as_str())
                    .map(|ms| repo::organization(conn, ms.organization_id))
                    .transpose()?;
            }
            consultants.push(Staff {
                staff_id: u.id.to_string(),
                snils,
                position: Coded::new(code.trim(), u.position.trim()),
                name: split_name(u),
            });
        }
        let custodian = match custodian.or_else(|| {
            c.assigned_tkc_id
                .and_then(|t| repo::organization(conn, t).ok())
        }) {
            Some(o) => o,
            None => return Err(ServiceError::refused("document_not_ready")),
        };
        let oid_ok = custodian.frmo_oid.as_deref().is_some_and(valid_oid);
        if !oid_ok {
            missing.push(FieldError::new("semd.organization.oid", "semd_org_oid"));
        }
        if custodian.address.trim().is_empty() {
            missing.push(FieldError::new(
                "semd.organization.address",
                "semd_org_address",
            ));
        }
        let condition = k.patient_condition.as_deref().and_then(|code| {
            nsi::name_of(&nsi::CONDITION_CODES, code).map(|n| Coded::new(code, n))
        });
        if condition.is_none() {
            missing.push(FieldError::new("patient_condition", "semd_condition"));
        }
        if consultants.is_empty() {
            return Err(ServiceError::refused("document_not_ready"));
        }
        if !missing.is_empty() {
            return Ok(Err(missing));
        }

        let tz: chrono_tz::Tz = custodian
            .time_zone
            .parse()
            .unwrap_or(chrono_tz::Europe::Moscow);
        let at = |t: NaiveDateTime| {
            let local = DateTime::<Utc>::from_naive_utc_and_offset(t, Utc).with_timezone(&tz);
            semd::cda_time(local.fixed_offset())
        };
        let signed = k
            .signed_at
            .or_else(|| members.iter().filter_map(|m| m.signed_at).max())
            .unwrap_or_else(|| self.clock.now().naive_utc());
        let received = c.submitted_at.unwrap_or(c.created_at);
        let started = members
            .iter()
            .map(|m| m.assigned_at)
            .min()
            .unwrap_or(received)
            .min(signed);
        let mis_root = format!(
            "{}.100.{mis}",
            custodian.frmo_oid.clone().unwrap_or_default()
        );
        let requesting = repo::organization(conn, c.requesting_org_id)?;
        let referring_root = requesting
            .frmo_oid
            .as_deref()
            .filter(|o| valid_oid(o))
            .map(|o| format!("{o}.100.{mis}"));
        let requester = repo::user(conn, c.requester_id)?;
        let doctor = requester
            .position_code
            .as_deref()
            .filter(|p| !p.trim().is_empty() && !requester.position.trim().is_empty())
            .map(|code| Staff {
                staff_id: requester.id.to_string(),
                snils: snils_ok(&requester.snils),
                position: Coded::new(code.trim(), requester.position.trim()),
                name: split_name(&requester),
            });

        let mut codes = vec![k.diagnosis_main.clone()];
        if let Some(m) = &data.diagnosis.main {
            codes.push(m.clone());
        }
        let names = rtms_store::reference::icd10_names(conn, &codes)?;
        let name_of = |code: &str| {
            names
                .iter()
                .find(|(c, _)| c == code)
                .map(|(_, n)| n.clone())
                .unwrap_or_default()
        };
        let mut note = Vec::new();
        if let Some(m) = data.diagnosis.main.as_deref() {
            note.push(format!(
                "Диагноз при направлении: {m} {}",
                if data.diagnosis.text.trim().is_empty() {
                    name_of(m)
                } else {
                    data.diagnosis.text.trim().to_string()
                }
            ));
        }
        if !data.question.trim().is_empty() {
            note.push(format!(
                "Вопрос направившего врача: {}",
                data.question.trim()
            ));
        }

        // The first version's document id is the set's id.
        let versions = repo::conclusion_versions(conn, consultation_id)?;
        let first = versions
            .iter()
            .min_by_key(|v| v.version)
            .map(|v| v.id)
            .unwrap_or(k.id);
        let earlier = repo::earlier_consultations_of_patient(
            conn,
            c.patient_snils.as_deref(),
            custodian.id,
            consultation_id,
        )?;
        let p = &data.patient;
        let patient = Patient {
            id: consultation_id.to_string(),
            name: Name {
                family: p.last_name.clone(),
                given: p.first_name.clone(),
                patronymic: p.middle_name.clone(),
            },
            sex: p.sex.and_then(|s| match s {
                Sex::Male => Some(Coded::new("1", "Мужской")),
                Sex::Female => Some(Coded::new("2", "Женский")),
                Sex::Unknown => None,
            }),
            birth_date: p.birth_date.map(|d| d.format("%Y%m%d").to_string()),
            snils: snils_ok(&p.snils),
            identity_doc: p
                .id_doc_type
                .as_deref()
                .and_then(|t| nsi::name_of(&nsi::IDENTITY_DOC_CODES, t).map(|n| (t, n)))
                .filter(|_| !p.id_doc_number.trim().is_empty())
                .and_then(|(t, n)| {
                    p.id_doc_issued.map(|issued| IdentityDoc {
                        kind: Coded::new(t, n),
                        series: p.id_doc_series.clone(),
                        number: p.id_doc_number.clone(),
                        issuer: p.id_doc_issuer.clone(),
                        issued: issued.format("%Y%m%d").to_string(),
                    })
                }),
            policy: p
                .oms_policy_type
                .as_deref()
                .and_then(|t| nsi::name_of(&nsi::POLICY_CODES, t).map(|n| Coded::new(t, n)))
                .zip(p.oms_policy.clone()),
        };
        let doc = SemdDoc {
            mis_root,
            referring_root,
            document_id: k.id.to_string(),
            set_id: first.to_string(),
            version: k.version,
            created: at(signed),
            started: at(started),
            region,
            patient,
            custodian: org_of(&custodian),
            consultants,
            referral: Referral {
                number: consultation_id.to_string(),
                created: at(received.min(started)),
                organization: requesting
                    .frmo_oid
                    .as_deref()
                    .filter(|o| valid_oid(o))
                    .map(|_| org_of(&requesting))
                    .filter(|_| doctor.is_some()),
                doctor,
                note: note.join("\n"),
            },
            form_of_care: data.form_of_care.map(|f| match f {
                FormOfCare::Planned => Coded::new("1", "плановая"),
                FormOfCare::Emergency => Coded::new("2", "экстренная"),
                FormOfCare::Urgent => Coded::new("3", "неотложная"),
            }),
            visit_kind: if earlier {
                Coded::new("2", "Повторный")
            } else {
                Coded::new("1", "Первичный")
            },
            condition: condition.expect("checked above"),
            complaints: String::new(),
            anamnesis: data.anamnesis_morbi.clone(),
            diagnosis: Coded::new(&k.diagnosis_main, name_of(&k.diagnosis_main)),
            diagnosis_wording: k.diagnosis_text.clone(),
            conclusion: k.findings.clone(),
            recommendations: k.recommendations.clone(),
        };
        Ok(Ok((doc, k.id)))
    }

    /// In the transaction of the last signature: builds and stores the
    /// СЭМД of the conclusion just signed. When it cannot be built, the
    /// signature is refused while the region requires the document.
    pub(crate) fn store_semd(&self, conn: &mut DbConn, consultation_id: i64) -> SResult<()> {
        match self.semd_build(conn, consultation_id)? {
            Ok((doc, conclusion_id)) => {
                let xml = semd::render(&doc);
                let sha = hex::encode(sha2::Sha256::digest(xml.as_bytes()));
                let now = self.clock.now().naive_utc();
                repo_files::insert_semd(
                    conn,
                    &repo_files::NewSemdDocument {
                        conclusion_id,
                        consultation_id,
                        version: doc.version,
                        document_id: &doc.document_id,
                        xml: &xml,
                        sha256: &sha,
                        status: "created",
                        status_at: now,
                        created_at: now,
                    },
                )?;
                Ok(())
            }
            Err(missing) if self.semd_required(conn)? => Err(ServiceError::Invalid(missing)),
            Err(missing) => {
                tracing::warn!(
                    consultation_id,
                    missing = ?missing.iter().map(|m| m.code).collect::<Vec<_>>(),
                    "conclusion signed without a СЭМД"
                );
                Ok(())
            }
        }
    }

    /// What the СЭМД of this request's conclusion still lacks (empty: it can
    /// be built). For the consultant's page, before they sign.
    pub fn semd_missing(&self, consultation_id: i64) -> SResult<Vec<FieldError>> {
        let mut conn = self.db.conn()?;
        match self.semd_build(&mut conn, consultation_id) {
            Ok(Ok(_)) => Ok(Vec::new()),
            Ok(Err(missing)) => Ok(missing),
            Err(ServiceError::NotFound) | Err(ServiceError::Refused { .. }) => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    /// The stored СЭМД of the current conclusion (or of a version), with its
    /// bytes. Whoever may read the conclusion may read it (audited there).
    pub fn semd(
        &self,
        actor: &Actor,
        consultation_id: i64,
        version: Option<i32>,
    ) -> SResult<(SemdView, String)> {
        let current = self.conclusion(actor, consultation_id)?;
        let mut conn = self.db.conn()?;
        let conclusion_id = match version {
            None => current.id,
            Some(v) => repo::conclusion_versions(&mut conn, consultation_id)?
                .into_iter()
                .find(|k| k.version == v && k.signed_at.is_some())
                .map(|k| k.id)
                .ok_or(ServiceError::NotFound)?,
        };
        let d = repo_files::semd_of_conclusion(&mut conn, conclusion_id)?
            .ok_or(ServiceError::refused("semd_not_ready"))?;
        Ok((SemdView::from(&d), d.xml))
    }

    /// Every stored СЭМД of a request (for a page that has checked access).
    pub fn semd_versions_unaudited(&self, consultation_id: i64) -> SResult<Vec<SemdView>> {
        let mut conn = self.db.conn()?;
        Ok(
            repo_files::semd_of_consultation(&mut conn, consultation_id)?
                .iter()
                .map(SemdView::from)
                .collect(),
        )
    }

    /// After a CMS signature over a СЭМД was kept: `signed` once every
    /// consultant who signed the conclusion has signed the document too.
    pub(crate) fn semd_mark_signed(
        &self,
        conn: &mut DbConn,
        consultation_id: i64,
        conclusion_id: i64,
        document_id: i64,
    ) -> SResult<()> {
        let Some(d) = repo_files::semd_of_conclusion(conn, conclusion_id)? else {
            return Ok(());
        };
        if d.status != "created" {
            return Ok(());
        }
        let signers = repo_files::semd_signers(conn, document_id)?;
        let all = repo::assigned_consultants(conn, consultation_id)?
            .iter()
            .filter(|m| m.signed_at.is_some())
            .all(|m| signers.contains(&m.user_id));
        if all {
            repo_files::set_semd_status(
                conn,
                conclusion_id,
                "signed",
                None,
                self.clock.now().naive_utc(),
            )?;
        }
        Ok(())
    }
}

/// The OID syntax the Schematron checks.
pub fn valid_oid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() >= 2
        && matches!(parts[0], "0" | "1" | "2")
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars().all(|c| c.is_ascii_digit())
                && (p == &"0" || !p.starts_with('0'))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mis_numbers_and_oids_are_checked_as_the_schematron_does() {
        assert!(valid_mis_number("1.1"));
        assert!(valid_mis_number("12.3"));
        assert!(!valid_mis_number("1"));
        assert!(!valid_mis_number("1.01"));
        assert!(!valid_mis_number("a.1"));
        assert!(valid_oid("1.2.643.5.1.13.13.12.2.69.6901"));
        assert!(!valid_oid("1.2.643.05"));
        assert!(!valid_oid("3.2"));
        assert!(!valid_oid("1..2"));
    }
}
