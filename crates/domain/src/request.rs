//! The consultation request's content: the patient, the clinical summary and
//! what is asked. A draft may be incomplete; a patch is checked field by field
//! for form, and [`ClinicalData::missing_for_submit`] says what submission needs.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::validate::{self, Icd10Code, OmsPolicy, Snils, Validation};
use crate::{FieldError, FormOfCare, Mode, Sex};

const NAME_MAX: usize = 100;
const TEXT_MAX: usize = 20_000;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Patient {
    pub last_name: String,
    pub first_name: String,
    pub middle_name: String,
    #[schema(value_type = Option<String>, format = Date)]
    pub birth_date: Option<NaiveDate>,
    pub sex: Option<Sex>,
    /// 11 digits.
    pub snils: Option<String>,
    /// 16 digits (полис ОМС / ЕНП).
    pub oms_policy: Option<String>,
    pub address: String,
    /// An emergency patient whose identity is not known yet.
    pub unidentified: bool,
    /// For an unidentified patient: apparent age, signs, where found.
    pub description: String,
    /// Identity document kind (НСИ 1.2.643.5.1.13.13.99.2.48 code).
    #[serde(default)]
    pub id_doc_type: Option<String>,
    #[serde(default)]
    pub id_doc_series: String,
    #[serde(default)]
    pub id_doc_number: String,
    /// Who issued it.
    #[serde(default)]
    pub id_doc_issuer: String,
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date)]
    pub id_doc_issued: Option<NaiveDate>,
    /// Kind of the ОМС policy (НСИ 1.2.643.5.1.13.13.11.1035 code).
    #[serde(default)]
    pub oms_policy_type: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Diagnosis {
    /// Main diagnosis, МКБ-10 code.
    pub main: Option<String>,
    pub complications: Vec<String>,
    pub comorbidities: Vec<String>,
    /// The diagnosis in words.
    pub text: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Vitals {
    /// mm Hg.
    #[schema(minimum = 30, maximum = 300)]
    pub bp_systolic: Option<i32>,
    /// mm Hg.
    #[schema(minimum = 10, maximum = 200)]
    pub bp_diastolic: Option<i32>,
    /// Beats a minute.
    #[schema(minimum = 10, maximum = 300)]
    pub heart_rate: Option<i32>,
    /// Breaths a minute.
    #[schema(minimum = 2, maximum = 100)]
    pub resp_rate: Option<i32>,
    /// %.
    #[schema(minimum = 30, maximum = 100)]
    pub spo2: Option<i32>,
    /// °C.
    #[schema(minimum = 25.0, maximum = 45.0)]
    pub temperature: Option<f64>,
}

/// Everything the requesting doctor writes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ClinicalData {
    pub patient: Patient,
    pub form_of_care: Option<FormOfCare>,
    pub mode: Option<Mode>,
    pub patient_present: bool,
    /// Purpose slug (reference `purposes`).
    pub purpose: Option<String>,
    /// Specialty profile code (reference `profiles`).
    pub profile: Option<String>,
    pub wished_tkc_id: Option<i64>,
    pub wished_consultant_id: Option<i64>,
    pub diagnosis: Diagnosis,
    pub question: String,
    pub anamnesis_morbi: String,
    pub anamnesis_vitae: String,
    pub epidemiological_history: String,
    pub objective_status: String,
    pub vitals: Vitals,
    pub lab_results: String,
    pub instrumental_results: String,
    pub current_treatment: String,
    pub previous_consultations: String,
    pub consent_given: bool,
    /// The legal ground for proceeding without consent.
    pub consent_ground: String,
    pub contact_phone: String,
}

/// A change to a draft, as sent by a client: every field optional, values as
/// typed. Absent fields stay as they are; an empty string clears a text.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsultationPatch {
    pub patient: Option<PatientPatch>,
    pub form_of_care: Option<String>,
    pub mode: Option<String>,
    pub patient_present: Option<bool>,
    pub purpose: Option<String>,
    pub profile: Option<String>,
    pub wished_tkc_id: Option<i64>,
    pub wished_consultant_id: Option<i64>,
    pub diagnosis: Option<DiagnosisPatch>,
    pub question: Option<String>,
    pub anamnesis_morbi: Option<String>,
    pub anamnesis_vitae: Option<String>,
    pub epidemiological_history: Option<String>,
    pub objective_status: Option<String>,
    pub vitals: Option<Vitals>,
    pub lab_results: Option<String>,
    pub instrumental_results: Option<String>,
    pub current_treatment: Option<String>,
    pub previous_consultations: Option<String>,
    pub consent_given: Option<bool>,
    pub consent_ground: Option<String>,
    pub contact_phone: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatientPatch {
    pub last_name: Option<String>,
    pub first_name: Option<String>,
    pub middle_name: Option<String>,
    /// `ДД.ММ.ГГГГ` or `ГГГГ-ММ-ДД`.
    pub birth_date: Option<String>,
    pub sex: Option<String>,
    pub snils: Option<String>,
    pub oms_policy: Option<String>,
    pub address: Option<String>,
    pub unidentified: Option<bool>,
    pub description: Option<String>,
    /// Identity document kind, НСИ 1.2.643.5.1.13.13.99.2.48 code (`1` passport…).
    #[serde(default)]
    pub id_doc_type: Option<String>,
    #[serde(default)]
    pub id_doc_series: Option<String>,
    #[serde(default)]
    pub id_doc_number: Option<String>,
    #[serde(default)]
    pub id_doc_issuer: Option<String>,
    /// `ДД.ММ.ГГГГ` or `ГГГГ-ММ-ДД`.
    #[serde(default)]
    pub id_doc_issued: Option<String>,
    /// ОМС policy kind, НСИ 1.2.643.5.1.13.13.11.1035 code (`1`–`4`).
    #[serde(default)]
    pub oms_policy_type: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DiagnosisPatch {
    pub main: Option<String>,
    pub complications: Option<Vec<String>>,
    pub comorbidities: Option<Vec<String>>,
    pub text: Option<String>,
}

fn text(v: &mut Validation, field: &str, value: &Option<String>, max: usize, target: &mut String) {
    if let Some(value) = value {
        // The limit counts what was sent, surrounding whitespace included
        // (as the API's schema says).
        if value.chars().count() > max {
            v.push(field, "too_long");
        } else {
            *target = value.trim().to_string();
        }
    }
}

/// Applies an optional, possibly empty, value through a parser.
fn parsed<T>(
    v: &mut Validation,
    field: &str,
    value: &Option<String>,
    parse: impl Fn(&str) -> Result<T, &'static str>,
    target: &mut Option<T>,
) {
    if let Some(raw) = value {
        if raw.trim().is_empty() {
            *target = None;
        } else if let Some(parsed) = v.check(field, parse(raw)) {
            *target = Some(parsed);
        }
    }
}

fn in_range(v: &mut Validation, field: &str, value: Option<i32>, lo: i32, hi: i32) {
    if let Some(x) = value {
        if !(lo..=hi).contains(&x) {
            v.push(field, "out_of_range");
        }
    }
}

fn icd_list(v: &mut Validation, field: &str, codes: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for (i, raw) in codes.iter().enumerate() {
        if raw.trim().is_empty() {
            continue;
        }
        if let Some(code) = v.check(&format!("{field}[{i}]"), Icd10Code::parse(raw)) {
            out.push(code.as_str().to_string());
        }
    }
    out
}

impl ClinicalData {
    /// Applies a patch. Either every field is well-formed and the whole patch is
    /// applied, or nothing changes and every problem is reported.
    pub fn apply(
        &mut self,
        patch: &ConsultationPatch,
        today: NaiveDate,
    ) -> Result<(), Vec<FieldError>> {
        let mut v = Validation::default();
        let mut next = self.clone();
        if let Some(p) = &patch.patient {
            let t = &mut next.patient;
            text(
                &mut v,
                "patient.last_name",
                &p.last_name,
                NAME_MAX,
                &mut t.last_name,
            );
            text(
                &mut v,
                "patient.first_name",
                &p.first_name,
                NAME_MAX,
                &mut t.first_name,
            );
            text(
                &mut v,
                "patient.middle_name",
                &p.middle_name,
                NAME_MAX,
                &mut t.middle_name,
            );
            parsed(
                &mut v,
                "patient.birth_date",
                &p.birth_date,
                |s| validate::parse_birth_date(s, today),
                &mut t.birth_date,
            );
            parsed(
                &mut v,
                "patient.sex",
                &p.sex,
                |s| Sex::parse(s).ok_or("unknown_value"),
                &mut t.sex,
            );
            parsed(
                &mut v,
                "patient.snils",
                &p.snils,
                |s| Snils::parse(s).map(|s| s.as_str().to_string()),
                &mut t.snils,
            );
            parsed(
                &mut v,
                "patient.oms_policy",
                &p.oms_policy,
                |s| OmsPolicy::parse(s).map(|s| s.as_str().to_string()),
                &mut t.oms_policy,
            );
            text(&mut v, "patient.address", &p.address, 500, &mut t.address);
            text(
                &mut v,
                "patient.description",
                &p.description,
                2000,
                &mut t.description,
            );
            if let Some(u) = p.unidentified {
                t.unidentified = u;
            }
            let listed = |list: &'static [(&'static str, &'static str)]| {
                move |s: &str| {
                    crate::nsi::name_of(list, s.trim())
                        .map(|_| s.trim().to_string())
                        .ok_or("unknown_value")
                }
            };
            parsed(
                &mut v,
                "patient.id_doc_type",
                &p.id_doc_type,
                listed(&crate::nsi::IDENTITY_DOC_CODES),
                &mut t.id_doc_type,
            );
            text(
                &mut v,
                "patient.id_doc_series",
                &p.id_doc_series,
                20,
                &mut t.id_doc_series,
            );
            text(
                &mut v,
                "patient.id_doc_number",
                &p.id_doc_number,
                30,
                &mut t.id_doc_number,
            );
            text(
                &mut v,
                "patient.id_doc_issuer",
                &p.id_doc_issuer,
                300,
                &mut t.id_doc_issuer,
            );
            parsed(
                &mut v,
                "patient.id_doc_issued",
                &p.id_doc_issued,
                |s| validate::parse_past_date(s, today),
                &mut t.id_doc_issued,
            );
            parsed(
                &mut v,
                "patient.oms_policy_type",
                &p.oms_policy_type,
                listed(&crate::nsi::POLICY_CODES),
                &mut t.oms_policy_type,
            );
        }
        parsed(
            &mut v,
            "form_of_care",
            &patch.form_of_care,
            |s| FormOfCare::parse(s).ok_or("unknown_value"),
            &mut next.form_of_care,
        );
        parsed(
            &mut v,
            "mode",
            &patch.mode,
            |s| Mode::parse(s).ok_or("unknown_value"),
            &mut next.mode,
        );
        parsed(
            &mut v,
            "purpose",
            &patch.purpose,
            |s| Ok(s.trim().to_string()),
            &mut next.purpose,
        );
        parsed(
            &mut v,
            "profile",
            &patch.profile,
            |s| Ok(s.trim().to_string()),
            &mut next.profile,
        );
        if let Some(x) = patch.patient_present {
            next.patient_present = x;
        }
        if patch.wished_tkc_id.is_some() {
            next.wished_tkc_id = patch.wished_tkc_id;
        }
        if patch.wished_consultant_id.is_some() {
            next.wished_consultant_id = patch.wished_consultant_id;
        }
        if let Some(d) = &patch.diagnosis {
            parsed(
                &mut v,
                "diagnosis.main",
                &d.main,
                |s| Icd10Code::parse(s).map(|c| c.as_str().to_string()),
                &mut next.diagnosis.main,
            );
            if let Some(list) = &d.complications {
                next.diagnosis.complications = icd_list(&mut v, "diagnosis.complications", list);
            }
            if let Some(list) = &d.comorbidities {
                next.diagnosis.comorbidities = icd_list(&mut v, "diagnosis.comorbidities", list);
            }
            text(
                &mut v,
                "diagnosis.text",
                &d.text,
                2000,
                &mut next.diagnosis.text,
            );
        }
        text(
            &mut v,
            "question",
            &patch.question,
            TEXT_MAX,
            &mut next.question,
        );
        text(
            &mut v,
            "anamnesis_morbi",
            &patch.anamnesis_morbi,
            TEXT_MAX,
            &mut next.anamnesis_morbi,
        );
        text(
            &mut v,
            "anamnesis_vitae",
            &patch.anamnesis_vitae,
            TEXT_MAX,
            &mut next.anamnesis_vitae,
        );
        text(
            &mut v,
            "epidemiological_history",
            &patch.epidemiological_history,
            TEXT_MAX,
            &mut next.epidemiological_history,
        );
        text(
            &mut v,
            "objective_status",
            &patch.objective_status,
            TEXT_MAX,
            &mut next.objective_status,
        );
        text(
            &mut v,
            "lab_results",
            &patch.lab_results,
            TEXT_MAX,
            &mut next.lab_results,
        );
        text(
            &mut v,
            "instrumental_results",
            &patch.instrumental_results,
            TEXT_MAX,
            &mut next.instrumental_results,
        );
        text(
            &mut v,
            "current_treatment",
            &patch.current_treatment,
            TEXT_MAX,
            &mut next.current_treatment,
        );
        text(
            &mut v,
            "previous_consultations",
            &patch.previous_consultations,
            TEXT_MAX,
            &mut next.previous_consultations,
        );
        text(
            &mut v,
            "consent_ground",
            &patch.consent_ground,
            1000,
            &mut next.consent_ground,
        );
        if let Some(x) = patch.consent_given {
            next.consent_given = x;
        }
        if let Some(raw) = &patch.contact_phone {
            if raw.trim().is_empty() {
                next.contact_phone.clear();
            } else if let Some(p) = v.check("contact_phone", validate::parse_phone(raw)) {
                next.contact_phone = p;
            }
        }
        // The ranges are also in `Vitals`'s schema (the API's document).
        if let Some(vitals) = &patch.vitals {
            in_range(&mut v, "vitals.bp_systolic", vitals.bp_systolic, 30, 300);
            in_range(&mut v, "vitals.bp_diastolic", vitals.bp_diastolic, 10, 200);
            in_range(&mut v, "vitals.heart_rate", vitals.heart_rate, 10, 300);
            in_range(&mut v, "vitals.resp_rate", vitals.resp_rate, 2, 100);
            in_range(&mut v, "vitals.spo2", vitals.spo2, 30, 100);
            if let Some(t) = vitals.temperature {
                if !(25.0..=45.0).contains(&t) {
                    v.push("vitals.temperature", "out_of_range");
                }
            }
            next.vitals = vitals.clone();
        }
        v.into_result()?;
        *self = next;
        Ok(())
    }

    /// What submission needs that is still missing or inconsistent.
    pub fn missing_for_submit(&self) -> Vec<FieldError> {
        let mut v = Validation::default();
        let p = &self.patient;
        let emergency = self.form_of_care == Some(FormOfCare::Emergency);
        if p.unidentified {
            if !emergency {
                v.push("patient.unidentified", "unidentified_only_emergency");
            }
            if p.description.is_empty() {
                v.push("patient.description", "required");
            }
        } else {
            for (field, value) in [
                ("patient.last_name", &p.last_name),
                ("patient.first_name", &p.first_name),
            ] {
                if value.is_empty() {
                    v.push(field, "required");
                }
            }
            if p.birth_date.is_none() {
                v.push("patient.birth_date", "required");
            }
            if p.sex.is_none() {
                v.push("patient.sex", "required");
            }
        }
        if self.form_of_care.is_none() {
            v.push("form_of_care", "required");
        }
        if self.mode.is_none() {
            v.push("mode", "required");
        }
        if self.purpose.is_none() {
            v.push("purpose", "required");
        }
        if self.profile.is_none() {
            v.push("profile", "required");
        }
        if self.diagnosis.main.is_none() {
            v.push("diagnosis.main", "required");
        }
        if self.question.is_empty() {
            v.push("question", "required");
        }
        if !self.consent_given && self.consent_ground.is_empty() {
            v.push("consent_ground", "consent_ground_required");
        }
        if self.contact_phone.is_empty() {
            v.push("contact_phone", "required");
        }
        v.errors
    }

    /// Every МКБ-10 code in the request, with its field, for a check against the reference.
    pub fn icd10_codes(&self) -> Vec<(String, String)> {
        let d = &self.diagnosis;
        let mut out = Vec::new();
        if let Some(main) = &d.main {
            out.push(("diagnosis.main".to_string(), main.clone()));
        }
        for (i, c) in d.complications.iter().enumerate() {
            out.push((format!("diagnosis.complications[{i}]"), c.clone()));
        }
        for (i, c) in d.comorbidities.iter().enumerate() {
            out.push((format!("diagnosis.comorbidities[{i}]"), c.clone()));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 28).unwrap()
    }

    #[test]
    fn a_bad_patch_changes_nothing_and_names_every_bad_field() {
        let mut data = ClinicalData::default();
        let patch: ConsultationPatch = serde_json::from_value(serde_json::json!({
            "patient": {"last_name": "Иванов", "snils": "112-233-445 96", "birth_date": "01.01.2030"},
            "diagnosis": {"main": "I2"}
        }))
        .unwrap();
        let errors = data.apply(&patch, today()).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["patient.birth_date", "patient.snils", "diagnosis.main"]
        );
        assert_eq!(data, ClinicalData::default());
    }

    #[test]
    fn a_good_patch_normalizes_what_was_typed() {
        let mut data = ClinicalData::default();
        let patch: ConsultationPatch = serde_json::from_value(serde_json::json!({
            "patient": {"last_name": " Иванов ", "snils": "112-233-445 95", "birth_date": "1960-02-01"},
            "form_of_care": "urgent",
            "diagnosis": {"main": "i21,0", "comorbidities": ["е11.9"]}
        }))
        .unwrap();
        data.apply(&patch, today()).unwrap();
        assert_eq!(data.patient.last_name, "Иванов");
        assert_eq!(data.patient.snils.as_deref(), Some("11223344595"));
        assert_eq!(data.diagnosis.main.as_deref(), Some("I21.0"));
        assert_eq!(data.diagnosis.comorbidities, ["E11.9"]);
        assert_eq!(data.form_of_care, Some(FormOfCare::Urgent));
    }

    #[test]
    fn an_unidentified_patient_is_allowed_only_in_an_emergency() {
        let mut data = ClinicalData {
            form_of_care: Some(FormOfCare::Planned),
            ..Default::default()
        };
        data.patient.unidentified = true;
        let missing = data.missing_for_submit();
        assert!(missing
            .iter()
            .any(|e| e.code == "unidentified_only_emergency"));
        assert!(!missing.iter().any(|e| e.field == "patient.last_name"));
    }
}

impl ConsultationPatch {
    /// Drops the change to one field (by its error path), so that the rest of a
    /// partly invalid form can still be saved.
    pub fn clear_field(&mut self, path: &str) {
        let base = path.split('[').next().unwrap_or(path);
        match base {
            "form_of_care" => self.form_of_care = None,
            "mode" => self.mode = None,
            "patient_present" => self.patient_present = None,
            "purpose" => self.purpose = None,
            "profile" => self.profile = None,
            "wished_tkc_id" => self.wished_tkc_id = None,
            "wished_consultant_id" => self.wished_consultant_id = None,
            "question" => self.question = None,
            "anamnesis_morbi" => self.anamnesis_morbi = None,
            "anamnesis_vitae" => self.anamnesis_vitae = None,
            "epidemiological_history" => self.epidemiological_history = None,
            "objective_status" => self.objective_status = None,
            "lab_results" => self.lab_results = None,
            "instrumental_results" => self.instrumental_results = None,
            "current_treatment" => self.current_treatment = None,
            "previous_consultations" => self.previous_consultations = None,
            "consent_given" => self.consent_given = None,
            "consent_ground" => self.consent_ground = None,
            "contact_phone" => self.contact_phone = None,
            b if b.starts_with("vitals.") => {
                // Only the bad value: the other vital signs typed with it are kept.
                if let Some(v) = self.vitals.as_mut() {
                    match &b["vitals.".len()..] {
                        "bp_systolic" => v.bp_systolic = None,
                        "bp_diastolic" => v.bp_diastolic = None,
                        "heart_rate" => v.heart_rate = None,
                        "resp_rate" => v.resp_rate = None,
                        "spo2" => v.spo2 = None,
                        "temperature" => v.temperature = None,
                        _ => {}
                    }
                }
            }
            b if b.starts_with("diagnosis.") => {
                if let Some(d) = self.diagnosis.as_mut() {
                    match &b["diagnosis.".len()..] {
                        "main" => d.main = None,
                        "complications" => d.complications = None,
                        "comorbidities" => d.comorbidities = None,
                        "text" => d.text = None,
                        _ => {}
                    }
                }
            }
            b if b.starts_with("patient.") => {
                if let Some(p) = self.patient.as_mut() {
                    match &b["patient.".len()..] {
                        "last_name" => p.last_name = None,
                        "first_name" => p.first_name = None,
                        "middle_name" => p.middle_name = None,
                        "birth_date" => p.birth_date = None,
                        "sex" => p.sex = None,
                        "snils" => p.snils = None,
                        "oms_policy" => p.oms_policy = None,
                        "address" => p.address = None,
                        "unidentified" => p.unidentified = None,
                        "description" => p.description = None,
                        "id_doc_type" => p.id_doc_type = None,
                        "id_doc_series" => p.id_doc_series = None,
                        "id_doc_number" => p.id_doc_number = None,
                        "id_doc_issuer" => p.id_doc_issuer = None,
                        "id_doc_issued" => p.id_doc_issued = None,
                        "oms_policy_type" => p.oms_policy_type = None,
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod clear_field_tests {
    use super::*;

    #[test]
    fn clearing_the_bad_fields_lets_the_rest_apply() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
        let mut patch: ConsultationPatch = serde_json::from_value(serde_json::json!({
            "patient": {"last_name": "Иванов", "snils": "bad"},
            "diagnosis": {"main": "I21.0", "comorbidities": ["E11.9", "nope"]},
            "vitals": {"spo2": 300, "heart_rate": 88}
        }))
        .unwrap();
        let mut data = ClinicalData::default();
        let errors = data.apply(&patch, today).unwrap_err();
        for e in &errors {
            patch.clear_field(&e.field);
        }
        data.apply(&patch, today).unwrap();
        assert_eq!(data.patient.last_name, "Иванов");
        assert_eq!(data.diagnosis.main.as_deref(), Some("I21.0"));
        assert!(data.patient.snils.is_none());
        assert!(data.diagnosis.comorbidities.is_empty());
        assert_eq!(data.vitals.spo2, None);
        assert_eq!(
            data.vitals.heart_rate,
            Some(88),
            "a good vital sign typed with a bad one is kept"
        );
    }
}
