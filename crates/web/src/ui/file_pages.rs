//! The DICOM study viewer page. The frames come from the API
//! (`/api/v1/attachments/{id}/frame`); static/files.js pages through them.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;

use super::i18n::tr;
use super::shell::error_page;
use super::shell::{render, Page};
use crate::session::UiUser;
use crate::{blocking, AppState};

pub struct SeriesItem {
    pub key: String,
    pub study: usize,
    pub series: usize,
    pub title: String,
    pub count: usize,
}

pub struct StudyItem {
    pub patient: String,
    pub summary: String,
}

#[derive(Template)]
#[template(path = "dicom.html")]
struct ViewerTpl {
    p: Page,
    attachment_id: i64,
    consultation_id: i64,
    file_name: String,
    error: String,
    studies: Vec<StudyItem>,
    series: Vec<SeriesItem>,
    study_json: String,
    presets: Vec<(&'static str, String)>,
}

pub async fn viewer(State(state): State<AppState>, u: UiUser, Path(id): Path<i64>) -> Response {
    let svc = state.svc.clone();
    let actor = u.actor.clone();
    let study = match blocking(move || svc.study(&actor, id)).await {
        Ok(s) => s,
        Err(crate::error::AppError::Service(e, _)) => return error_page(&u, &e),
        Err(_) => return error_page(&u, &rtms_service::ServiceError::NotFound),
    };
    let lang = u.lang;
    let mut studies = Vec::new();
    let mut series = Vec::new();
    if let Some(index) = &study.index {
        for (si, s) in index.studies.iter().enumerate() {
            let mut patient = s.patient_name.clone();
            if let Some(b) = &s.patient_birth_date {
                patient.push_str(&format!(", {}", iso_to_ru(b)));
            }
            let summary = [
                s.study_date.as_deref().map(iso_to_ru).unwrap_or_default(),
                s.study_description.clone().unwrap_or_default(),
            ]
            .into_iter()
            .filter(|x| !x.is_empty())
            .collect::<Vec<_>>()
            .join(", ");
            studies.push(StudyItem { patient, summary });
            for (ri, r) in s.series.iter().enumerate() {
                let title = [
                    r.modality.clone().unwrap_or_default(),
                    r.number.map(|n| format!("#{n}")).unwrap_or_default(),
                    r.description.clone().unwrap_or_default(),
                ]
                .into_iter()
                .filter(|x| !x.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
                series.push(SeriesItem {
                    key: format!("{si}:{ri}"),
                    study: si,
                    series: ri,
                    title,
                    count: r.instances.iter().map(|i| i.frames.max(1) as usize).sum(),
                });
            }
        }
    }
    let error = study
        .error
        .as_deref()
        .map(|c| super::i18n::dicom_error_text(c, lang))
        .unwrap_or_default();
    let presets = rtms_dicom::Preset::ALL
        .iter()
        .map(|p| {
            let key = format!("viewer-preset-{}", p.as_str());
            (p.as_str(), tr(lang, &key))
        })
        .collect();
    let p = Page::for_user(&u, tr(lang, "viewer-title"), "queue", 0);
    render(ViewerTpl {
        p,
        attachment_id: study.attachment_id,
        consultation_id: study.consultation_id,
        file_name: study.file_name,
        error,
        studies,
        series,
        study_json: study
            .index
            .as_ref()
            .and_then(|i| serde_json::to_string(i).ok())
            .unwrap_or_else(|| "null".into()),
        presets,
    })
}

/// `2026-11-28` → `28.11.2026`.
fn iso_to_ru(iso: &str) -> String {
    let parts: Vec<&str> = iso.split('-').collect();
    match parts.as_slice() {
        [y, m, d] => format!("{d}.{m}.{y}"),
        _ => iso.to_string(),
    }
}

#[derive(Template)]
#[template(path = "verify.html")]
struct VerifyTpl {
    p: Page,
    result: Option<rtms_service::documents::Verification>,
    /// The signers' own signatures of the PDF, with their verdicts.
    cms: Vec<super::cms::CmsLine>,
    error: String,
}

/// The public verification page: anyone holding a conclusion PDF checks it.
pub async fn verify_form(headers: axum::http::HeaderMap) -> Response {
    let lang = crate::session::request_lang(&headers);
    render(VerifyTpl {
        p: Page::public(lang, "verify-title", "/verify"),
        result: None,
        cms: Vec::new(),
        error: String::new(),
    })
}

/// The PDF of the verification form, read piece by piece up to
/// `limits::VERIFY_MAX_BYTES`; `Err` when the file (or the form) is larger.
/// Public for the `multipart_verify` fuzz target: the form is the one body
/// anyone may post without signing in.
pub async fn verify_file(form: &mut axum::extract::Multipart) -> Result<Vec<u8>, ()> {
    let mut pdf = Vec::new();
    loop {
        let mut field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => return Ok(pdf),
            Err(e) if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => return Err(()),
            Err(_) => return Ok(pdf),
        };
        if field.name() != Some("file") {
            continue;
        }
        loop {
            match field.chunk().await {
                Ok(Some(chunk)) => {
                    if pdf.len() + chunk.len() > crate::limits::VERIFY_MAX_BYTES {
                        return Err(());
                    }
                    pdf.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => return Err(()),
                Err(_) => return Ok(Vec::new()),
            }
        }
    }
}

pub async fn verify_upload(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    mut form: axum::extract::Multipart,
) -> Response {
    use axum::response::IntoResponse;
    let lang = crate::session::request_lang(&headers);
    let p = Page::public(lang, "verify-title", "/verify");
    let declared = headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let too_large = declared
        .is_some_and(|n| n > crate::limits::VERIFY_MAX_BYTES + crate::limits::FORM_OVERHEAD_BYTES);
    let read = if too_large {
        Err(())
    } else {
        verify_file(&mut form).await
    };
    let Ok(pdf) = read else {
        let mb = (crate::limits::VERIFY_MAX_BYTES >> 20).to_string();
        let error = super::i18n::tr_args(
            lang,
            "verify-too-large",
            &[("mb", fluent_templates::fluent_bundle::FluentValue::from(mb))],
        );
        return (
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            render(VerifyTpl {
                p,
                result: None,
                cms: Vec::new(),
                error,
            }),
        )
            .into_response();
    };
    if pdf.is_empty() {
        return render(VerifyTpl {
            p,
            result: None,
            cms: Vec::new(),
            error: tr(lang, "verify-no-file"),
        });
    }
    let svc = state.svc.clone();
    match blocking(move || svc.verify_pdf(&pdf, lang)).await {
        Ok(r) => render(VerifyTpl {
            p,
            cms: super::cms::cms_lines(lang, &r.signatures),
            result: Some(r),
            error: String::new(),
        }),
        Err(_) => render(VerifyTpl {
            p,
            result: None,
            cms: Vec::new(),
            error: tr(lang, "err-internal"),
        }),
    }
}
