//! One error type for every handler, answered as `application/problem+json`
//! (RFC 9457) in the caller's language, with a field list for validation errors.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use rtms_domain::{FieldError, Lang};
use rtms_i18n::{tr, tr_args, Label};
use rtms_service::ServiceError;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug)]
pub enum AppError {
    Service(ServiceError, Lang),
    BadRequest(String, Lang),
    Internal(String),
}

impl From<ServiceError> for AppError {
    fn from(e: ServiceError) -> Self {
        AppError::Service(e, Lang::Ru)
    }
}

impl AppError {
    pub fn in_lang(self, lang: Lang) -> Self {
        match self {
            AppError::Service(e, _) => AppError::Service(e, lang),
            AppError::BadRequest(m, _) => AppError::BadRequest(m, lang),
            other => other,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FieldProblem {
    /// Dotted path of the field, e.g. `patient.snils`.
    pub field: String,
    pub code: String,
    /// For the person who typed it, in their language.
    pub message: String,
}

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
}

fn field_problems(errors: &[FieldError], lang: Lang) -> Vec<FieldProblem> {
    errors
        .iter()
        .map(|e| FieldProblem {
            field: e.field.clone(),
            code: e.code.to_string(),
            message: rtms_i18n::refusal(e.code, lang).to_string(),
        })
        .collect()
}

/// A problem document made here (not from a service error): status, kind, title.
pub fn problem(status: StatusCode, kind: &str, title: String) -> Response {
    let body = Problem {
        kind: format!("https://rtms.example/problems/{kind}"),
        title,
        status: status.as_u16(),
        detail: None,
        errors: vec![],
    };
    let mut resp = (status, axum::Json(body)).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/problem+json"),
    );
    resp
}

/// Megabytes for people, rounded up: a byte over is not "0 MB".
fn mb(bytes: u64) -> u64 {
    bytes.div_ceil(1 << 20)
}

/// The quota refused, with its size, what is held and what was asked for.
pub(crate) fn quota_text(lang: Lang, scope: &str, limit: u64, used: u64, requested: u64) -> String {
    let key = if scope == "organization" {
        "problem-quota-organization"
    } else {
        "problem-quota-user"
    };
    tr_args(
        lang,
        key,
        &[
            ("limit", mb(limit).into()),
            ("used", mb(used).into()),
            ("requested", mb(requested).into()),
        ],
    )
}

/// The HTTP status a service error means: one map for the API and the pages.
pub fn status_of(e: &ServiceError) -> StatusCode {
    match e {
        ServiceError::NotFound => StatusCode::NOT_FOUND,
        ServiceError::Forbidden => StatusCode::FORBIDDEN,
        ServiceError::WrongState { .. } | ServiceError::Concurrent => StatusCode::CONFLICT,
        ServiceError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
        ServiceError::Unauthenticated
        | ServiceError::BadCredentials
        | ServiceError::SessionExpired => StatusCode::UNAUTHORIZED,
        ServiceError::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
        ServiceError::Refused { code } => refusal_status(code),
        ServiceError::QuotaExceeded { .. } | ServiceError::BodyTooLarge { .. } => {
            StatusCode::PAYLOAD_TOO_LARGE
        }
        ServiceError::FilesMissing(_) => StatusCode::CONFLICT,
        ServiceError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The status of a refusal, by its code.
fn refusal_status(code: &str) -> StatusCode {
    match code {
        "file_too_large" | "verify_too_large" => StatusCode::PAYLOAD_TOO_LARGE,
        "file_type"
        | "zip_without_dicom"
        | "zip_broken"
        | "file_active_content"
        | "file_extension_mismatch"
        | "file_macro" => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        // The request or the region is not in the state the
        // action needs: a conflict with the present state.
        "upload_offset"
        | "upload_busy"
        | "video_conflict"
        | "video_not_now"
        | "video_over"
        | "semd_not_ready"
        | "federal_not_escalated"
        | "federal_not_connected"
        | "document_not_ready"
        | "correction_none"
        | "duty_nothing_to_ack" => StatusCode::CONFLICT,
        "upload_gone" => StatusCode::NOT_FOUND,
        "role_self_grant" => StatusCode::FORBIDDEN,
        "scan_unavailable" => StatusCode::SERVICE_UNAVAILABLE,
        "upload_interrupted" => StatusCode::BAD_REQUEST,
        "password_change_first" | "totp_enrolment_first" => StatusCode::FORBIDDEN,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

/// A service error's message in `lang`, as a page shows it (the API's
/// problem title says the same from the same catalogue).
pub fn message(e: &ServiceError, lang: Lang) -> String {
    match e {
        ServiceError::Forbidden => tr(lang, "err-forbidden"),
        ServiceError::NotFound => tr(lang, "err-not-found"),
        ServiceError::WrongState { status, .. } => {
            format!(
                "{} \u{ab}{}\u{bb}",
                tr(lang, "err-wrong-state"),
                status.label(lang)
            )
        }
        ServiceError::Concurrent => tr(lang, "err-concurrent"),
        ServiceError::Refused { code } => rtms_i18n::refusal(code, lang).to_string(),
        ServiceError::QuotaExceeded {
            scope,
            limit,
            used,
            requested,
        } => quota_text(lang, scope, *limit, *used, *requested),
        ServiceError::Invalid(errors) => errors
            .iter()
            .map(|e| rtms_i18n::refusal(e.code, lang))
            .collect::<Vec<_>>()
            .join("; "),
        ServiceError::BodyTooLarge { what, limit } => {
            crate::limits::too_large_text(lang, what, *limit)
        }
        _ => tr(lang, "err-internal"),
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let retry_after = match &self {
            AppError::Service(ServiceError::Throttled { retry_after }, _) => Some(*retry_after),
            _ => None,
        };
        let (status, kind, title, detail, errors) = match self {
            AppError::Service(e, lang) => {
                let status = status_of(&e);
                let (kind, title, detail, errors) = match e {
                    ServiceError::Unauthenticated => (
                        "unauthenticated",
                        tr(lang, "problem-unauthenticated"),
                        None,
                        vec![],
                    ),
                    ServiceError::BadCredentials => (
                        "bad-credentials",
                        tr(lang, "problem-bad-credentials"),
                        None,
                        vec![],
                    ),
                    ServiceError::SessionExpired => (
                        "session-expired",
                        tr(lang, "problem-session-expired"),
                        None,
                        vec![],
                    ),
                    ServiceError::Throttled { retry_after } => (
                        "throttled",
                        tr(lang, "problem-throttled"),
                        Some(tr_args(
                            lang,
                            "problem-throttled-detail",
                            &[("minutes", ((retry_after + 59) / 60).into())],
                        )),
                        vec![],
                    ),
                    ServiceError::NotFound => {
                        ("not-found", tr(lang, "problem-not-found"), None, vec![])
                    }
                    ServiceError::Forbidden => {
                        ("forbidden", tr(lang, "problem-forbidden"), None, vec![])
                    }
                    ServiceError::WrongState { status, action } => (
                        "wrong-state",
                        tr(lang, "problem-wrong-state"),
                        Some(tr_args(
                            lang,
                            "problem-wrong-state-detail",
                            &[
                                ("status", status.label(lang).into()),
                                ("action", action.label(lang).into()),
                            ],
                        )),
                        vec![],
                    ),
                    ServiceError::Concurrent => (
                        "concurrent-change",
                        tr(lang, "problem-concurrent-change"),
                        None,
                        vec![],
                    ),
                    ServiceError::Invalid(errors) => (
                        "validation",
                        tr(lang, "problem-validation"),
                        None,
                        field_problems(&errors, lang),
                    ),
                    ServiceError::Refused { code } => (
                        code,
                        rtms_i18n::refusal(code, lang).to_string(),
                        None,
                        vec![],
                    ),
                    ServiceError::QuotaExceeded {
                        scope,
                        limit,
                        used,
                        requested,
                    } => (
                        "upload-quota",
                        quota_text(lang, scope, limit, used, requested),
                        None,
                        vec![],
                    ),
                    ServiceError::FilesMissing(names) => (
                        "files-missing",
                        tr_args(
                            lang,
                            "problem-files-missing",
                            &[
                                ("count", names.len().into()),
                                ("names", names.join(", ").into()),
                            ],
                        ),
                        None,
                        vec![],
                    ),
                    ServiceError::BodyTooLarge { what, limit } => (
                        "body-too-large",
                        crate::limits::too_large_text(lang, what, limit),
                        None,
                        vec![],
                    ),
                    ServiceError::Store(e) => {
                        tracing::error!(error = %e, "storage error");
                        ("internal", tr(lang, "problem-internal"), None, vec![])
                    }
                };
                (status, kind, title, detail, errors)
            }
            AppError::BadRequest(detail, lang) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "bad-request",
                tr(lang, "problem-bad-request"),
                Some(detail),
                vec![],
            ),
            AppError::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    tr(Lang::Ru, "problem-internal"),
                    None,
                    vec![],
                )
            }
        };
        let body = Problem {
            kind: format!("https://rtms.example/problems/{kind}"),
            title,
            status: status.as_u16(),
            detail,
            errors,
        };
        let mut resp = (status, axum::Json(body)).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("application/problem+json"),
        );
        if let Some(seconds) = retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(seconds));
        }
        resp
    }
}
