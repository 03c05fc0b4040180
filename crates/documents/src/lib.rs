//! PDF documents of the regional telemedicine system (РТМС).
//!
//! Documents are rendered with [typst](https://typst.app) used as a library:
//! the templates in `templates/` are compiled into the binary, the document
//! data is serialized to JSON and handed to the template as the virtual file
//! `/data.json`, and the result is exported as PDF/A-2b with all fonts
//! embedded. User text is never spliced into typst markup, so characters such
//! as `#`, `*`, `$` or `]` are printed literally.
//!
//! Rendering is deterministic: the PDF creation date and the template's
//! "today" are taken from the document's own date (`issued_at` or
//! `submitted_at`), never from the clock, so the same input always yields the
//! same bytes.
//!
//! # Fonts
//!
//! The fonts come from the `typst-assets` crate and are compiled into the
//! binary: Libertinus Serif for the text (SIL Open Font License 1.1; covers
//! Cyrillic) and DejaVu Sans Mono for hashes and key ids (Bitstream Vera /
//! DejaVu licence). Only the glyphs used are embedded in each PDF. See
//! `FONTS.md` beside this crate's `Cargo.toml`.
//!
//! The [`seal`] module signs a rendered document (its canonical JSON content
//! and its PDF bytes) with Ed25519 and verifies such detached seals.

pub mod cms;
pub mod openssl;
pub mod seal;
pub mod semd;
mod world;

use serde::{Deserialize, Serialize};
use typst::diag::{SourceDiagnostic, Warned};
use typst::ecow::EcoVec;
use typst::foundations::{Datetime, Smart};
use typst_layout::PagedDocument;
use typst_pdf::{PdfOptions, PdfStandard, PdfStandards, Timestamp};

use crate::world::DocWorld;

const CONCLUSION_TEMPLATE: &str = include_str!("../templates/conclusion.typ");
const REQUEST_SUMMARY_TEMPLATE: &str = include_str!("../templates/request_summary.typ");
const REPORT_TEMPLATE: &str = include_str!("../templates/report.typ");

/// Offset of Moscow time from UTC in minutes; document dates are written in
/// Moscow time ("МСК").
const MSK_OFFSET_MINUTES: i32 = 180;

/// How many compilations an unused memoized result survives in typst's
/// global cache before it is evicted (keeps a long-running server bounded).
const CACHE_MAX_AGE: usize = 10;

/// A medical organization (or a department of one).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Party {
    /// Full name of the organization as it should be printed.
    pub name: String,
    /// Further details printed under the name: address, phone and so on.
    pub details: Option<String>,
}

/// The patient.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Person {
    /// Surname, given name and patronymic.
    pub full_name: String,
    /// Date of birth as `ДД.ММ.ГГГГ`.
    pub birth_date: String,
    /// Sex, already localized (e.g. "женский").
    pub sex: String,
    /// СНИЛС (insurance account number), if known.
    pub snils: Option<String>,
    /// Полис ОМС (compulsory medical insurance policy number), if known.
    pub oms_policy: Option<String>,
}

/// A diagnosis coded with МКБ-10 (ICD-10).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Diagnosis {
    /// The МКБ-10 code, e.g. "I21.4"; printed in bold.
    pub code: String,
    /// The wording of the diagnosis.
    pub title: String,
}

/// A consultant who signs the conclusion.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Signer {
    /// Surname, given name and patronymic.
    pub full_name: String,
    /// Position, e.g. "врач-кардиолог".
    pub position: String,
    /// The consultant's organization.
    pub organization: String,
    /// When the consultant signed with an electronic signature, as
    /// `ДД.ММ.ГГГГ ЧЧ:ММ (МСК)`; `None` prints a line to sign by hand.
    pub signed_at: Option<String>,
}

/// The seal mark printed at the bottom of a sealed conclusion.
///
/// A PDF cannot contain its own hash, so the mark shows the hash of the
/// document's content; the detached [`seal::Seal`] covers the PDF bytes too.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct SealMark {
    /// Identifier of the sealing key ([`seal::SealKey::key_id`]).
    pub key_id: String,
    /// Hex SHA-256 of the canonical content ([`seal::Seal::content_sha256`]);
    /// the mark prints its first 16 characters.
    pub content_sha256: String,
    /// Where anyone can check the document's authenticity.
    pub verify_url: String,
}

/// A telemedicine consultation conclusion (протокол / заключение).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ConclusionDoc {
    /// Document title, e.g. "Протокол телемедицинской консультации".
    pub title: String,
    /// Registration number of the consultation.
    pub number: String,
    /// Version of the conclusion, starting at 1.
    pub version: i32,
    /// Set on a correction, e.g. "Исправляет версию 1 от 12.11.2026 14:05".
    pub supersedes: Option<String>,
    /// Region (субъект Российской Федерации).
    pub region: String,
    /// The organization that requested the consultation.
    pub requesting: Party,
    /// The organization that gave the consultation; its name heads the page.
    pub consulting: Party,
    /// Form of medical care (экстренная, неотложная, плановая).
    pub form_of_care: String,
    /// Consultation mode (e.g. "в режиме реального времени").
    pub mode: String,
    /// The patient.
    pub patient: Person,
    /// Main diagnosis.
    pub diagnosis: Diagnosis,
    /// Other (concomitant) diagnoses.
    pub other_diagnoses: Vec<Diagnosis>,
    /// The question put to the consultants.
    pub question: String,
    /// Findings: the conclusion proper. Blank lines separate paragraphs.
    pub findings: String,
    /// Recommendations. Blank lines separate paragraphs.
    pub recommendations: String,
    /// Recommendation on transfer / medical evacuation, if any.
    pub transfer: Option<String>,
    /// Follow-up (repeat consultation, monitoring), if any.
    pub follow_up: Option<String>,
    /// The consultants who sign the conclusion.
    pub consultants: Vec<Signer>,
    /// Who requested the consultation (name, position).
    pub requested_by: String,
    /// When the conclusion was issued, `ДД.ММ.ГГГГ ЧЧ:ММ (МСК)`; also the
    /// PDF's creation date, so it must start with `ДД.ММ.ГГГГ`.
    pub issued_at: String,
    /// Seal mark printed at the bottom, if the document is sealed.
    pub seal: Option<SealMark>,
}

/// A summary of a consultation request, printed for the requesting side.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct RequestSummaryDoc {
    /// Registration number of the request.
    pub number: String,
    /// Region (субъект Российской Федерации).
    pub region: String,
    /// The organization that requests the consultation; heads the page.
    pub requesting: Party,
    /// Form of medical care (экстренная, неотложная, плановая).
    pub form_of_care: String,
    /// Consultation mode.
    pub mode: String,
    /// Medical profile of the consultation (e.g. "кардиология").
    pub profile: String,
    /// Purpose of the consultation.
    pub purpose: String,
    /// The patient.
    pub patient: Person,
    /// Main diagnosis.
    pub diagnosis: Diagnosis,
    /// The question put to the consultants.
    pub question: String,
    /// Anamnesis. Blank lines separate paragraphs.
    pub anamnesis: String,
    /// Examinations, free text. Blank lines separate paragraphs.
    pub examinations: String,
    /// Attached files, one line each: "name — size — sha256 short".
    pub attachments: Vec<String>,
    /// Who requested the consultation (name, position).
    pub requested_by: String,
    /// When the request was submitted, `ДД.ММ.ГГГГ ЧЧ:ММ (МСК)`; also the
    /// PDF's creation date, so it must start with `ДД.ММ.ГГГГ`.
    pub submitted_at: String,
    /// Deadline for the answer.
    pub deadline: String,
}

/// A key figure of a report, printed large on the first page.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ReportFigure {
    pub label: String,
    /// Already formatted for print.
    pub value: String,
}

/// One bar of a chart.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ReportBar {
    pub label: String,
    /// The length of the bar, in the chart's own unit.
    pub value: f64,
    /// The value as printed at the end of the bar.
    pub text: String,
}

/// A table of a report, with an optional bar chart above it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ReportTable {
    pub title: String,
    pub columns: Vec<String>,
    /// Cells already formatted for print.
    pub rows: Vec<Vec<String>>,
    /// Bars of the chart; none draws no chart.
    pub bars: Vec<ReportBar>,
    /// The value of a full-width bar; `None` scales to the largest bar.
    pub bar_max: Option<f64>,
}

/// The printable report of a region for a period (usually a month).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ReportDoc {
    /// Title, e.g. "Отчёт по телемедицинским консультациям".
    pub title: String,
    /// The region (or organization) the figures are about.
    pub region: String,
    /// Label of the period, e.g. "Период".
    pub period_label: String,
    /// The period, e.g. "01.11.2026 — 30.11.2026".
    pub period: String,
    /// When the report was printed, `ДД.ММ.ГГГГ ЧЧ:ММ`; also the PDF's
    /// creation date, so it must start with `ДД.ММ.ГГГГ`.
    pub printed_at: String,
    /// Label of the printing time, e.g. "Сформирован".
    pub printed_label: String,
    /// Key figures shown as tiles at the top.
    pub figures: Vec<ReportFigure>,
    /// The tables, each with its chart.
    pub tables: Vec<ReportTable>,
    /// Printed in place of an empty table, e.g. "Нет данных за период.".
    pub empty: String,
}

/// Why a document could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    /// The document data could not be serialized to JSON.
    #[error("document data could not be serialized: {0}")]
    Data(String),
    /// The template failed to compile (a bug in a template).
    #[error("template failed: {0}")]
    Template(String),
    /// The document's date (`issued_at`, `submitted_at`) does not start with
    /// `ДД.ММ.ГГГГ`; PDF/A needs it as the creation date.
    #[error("the document date {0:?} does not start with ДД.ММ.ГГГГ")]
    Date(String),
    /// The PDF export failed (e.g. a PDF/A requirement was not met).
    #[error("PDF export failed: {0}")]
    Pdf(String),
}

/// Renders a consultation conclusion as a PDF/A-2b document.
pub fn render_conclusion(doc: &ConclusionDoc) -> Result<Vec<u8>, DocumentError> {
    let mut data = serde_json::to_value(doc).map_err(|e| DocumentError::Data(e.to_string()))?;
    if let Some(seal) = &doc.seal {
        let short: String = seal.content_sha256.chars().take(16).collect();
        data["seal"]["content_sha256_short"] = serde_json::Value::String(short);
    }
    render(
        "/conclusion.typ",
        CONCLUSION_TEMPLATE,
        &data,
        &doc.issued_at,
        format!("rtms-conclusion/{}/{}", doc.number, doc.version),
    )
}

/// Renders the summary of a consultation request as a PDF/A-2b document.
pub fn render_request_summary(doc: &RequestSummaryDoc) -> Result<Vec<u8>, DocumentError> {
    let data = serde_json::to_value(doc).map_err(|e| DocumentError::Data(e.to_string()))?;
    render(
        "/request_summary.typ",
        REQUEST_SUMMARY_TEMPLATE,
        &data,
        &doc.submitted_at,
        format!("rtms-request/{}", doc.number),
    )
}

/// Renders the printable report of a period as a PDF/A-2b document.
pub fn render_report(doc: &ReportDoc) -> Result<Vec<u8>, DocumentError> {
    let data = serde_json::to_value(doc).map_err(|e| DocumentError::Data(e.to_string()))?;
    render(
        "/report.typ",
        REPORT_TEMPLATE,
        &data,
        &doc.printed_at,
        format!("rtms-report/{}/{}", doc.region, doc.period),
    )
}

/// Compiles `template` with `data` as `/data.json` and exports PDF/A-2b.
///
/// `stamp` is the document's own date (`ДД.ММ.ГГГГ ЧЧ:ММ`, Moscow time); it
/// becomes the PDF creation date and the template's "today". `ident` is a stable identifier from which the PDF
/// document ID is derived.
fn render(
    main_path: &str,
    template: &str,
    data: &serde_json::Value,
    stamp: &str,
    ident: String,
) -> Result<Vec<u8>, DocumentError> {
    let mut data = data.clone();
    world::make_printable(&mut data);
    let json = serde_json::to_vec(&data).map_err(|e| DocumentError::Data(e.to_string()))?;
    let moment = parse_moment(stamp).ok_or_else(|| DocumentError::Date(stamp.to_owned()))?;
    let today = Datetime::from_ymd(moment.year, moment.month, moment.day);
    let world = DocWorld::new(main_path, template, json, today);

    let Warned { output, .. } = typst::compile::<PagedDocument>(&world);
    let result = output
        .map_err(|diags| DocumentError::Template(describe(&diags)))
        .and_then(|document| {
            let standards = PdfStandards::new(&[PdfStandard::A_2b])
                .map_err(|e| DocumentError::Pdf(e.message().to_string()))?;
            let m = moment;
            let timestamp = Datetime::from_ymd_hms(m.year, m.month, m.day, m.hour, m.minute, 0)
                .and_then(|dt| Timestamp::new_local(dt, MSK_OFFSET_MINUTES));
            let options = PdfOptions {
                ident: Smart::Custom(ident),
                creator: Smart::Custom(Some("РТМС".to_owned())),
                timestamp,
                standards,
                ..PdfOptions::default()
            };
            typst_pdf::pdf(&document, &options).map_err(|d| DocumentError::Pdf(describe(&d)))
        });
    typst::comemo::evict(CACHE_MAX_AGE);
    result
}

/// Joins typst diagnostics into one readable message.
fn describe(diags: &EcoVec<SourceDiagnostic>) -> String {
    diags
        .iter()
        .map(|d| {
            let mut text = d.message.to_string();
            for hint in &d.hints {
                text.push_str(" (hint: ");
                text.push_str(hint.v.as_str());
                text.push(')');
            }
            text
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// A date and time read from the start of a document date string.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Moment {
    year: i32,
    month: u8,
    day: u8,
    hour: u8,
    minute: u8,
}

/// Reads `ДД.ММ.ГГГГ` and an optional following ` ЧЧ:ММ` from the start of
/// `text`; anything after that (such as "(МСК)") is ignored. Returns `None`
/// when the text does not start with a valid date.
fn parse_moment(text: &str) -> Option<Moment> {
    let text = text.trim();
    let number = |s: &str| -> Option<u32> {
        if s.bytes().all(|b| b.is_ascii_digit()) {
            s.parse().ok()
        } else {
            None
        }
    };
    let date = text.get(..10)?;
    let (day, month, year) = (
        number(date.get(0..2)?)?,
        number(date.get(3..5)?)?,
        number(date.get(6..10)?)?,
    );
    if &date[2..3] != "." || &date[5..6] != "." {
        return None;
    }
    let time = text.get(10..).unwrap_or("").trim_start();
    let (hour, minute) = match (time.get(0..2), time.get(2..3), time.get(3..5)) {
        (Some(h), Some(":"), Some(m)) => match (number(h), number(m)) {
            (Some(h), Some(m)) if h < 24 && m < 60 => (h, m),
            _ => (0, 0),
        },
        _ => (0, 0),
    };
    let moment = Moment {
        year: i32::try_from(year).ok()?,
        month: u8::try_from(month).ok()?,
        day: u8::try_from(day).ok()?,
        hour: u8::try_from(hour).ok()?,
        minute: u8::try_from(minute).ok()?,
    };
    // Rejects impossible dates such as 31.02.
    Datetime::from_ymd(moment.year, moment.month, moment.day)?;
    Some(moment)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_document_dates() {
        assert_eq!(
            parse_moment("12.11.2026 14:05 (МСК)"),
            Some(Moment {
                year: 2026,
                month: 11,
                day: 12,
                hour: 14,
                minute: 5
            })
        );
        assert_eq!(
            parse_moment("01.02.2026"),
            Some(Moment {
                year: 2026,
                month: 2,
                day: 1,
                hour: 0,
                minute: 0
            })
        );
        assert_eq!(parse_moment("31.02.2026"), None);
        assert_eq!(parse_moment("2026-11-12"), None);
        assert_eq!(parse_moment("сегодня"), None);
        assert_eq!(parse_moment(""), None);
    }
}
