//! One error type for every handler, answered as `application/problem+json`
//! (RFC 9457) in the caller's language, with a field list for validation errors.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use rtms_domain::{FieldError, Lang};
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
            message: e.message(lang).to_string(),
        })
        .collect()
}

fn t(lang: Lang, ru: &str, en: &str) -> String {
    match lang {
        Lang::Ru => ru.to_string(),
        Lang::En => en.to_string(),
    }
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
    match (lang, scope) {
        (Lang::Ru, "organization") => format!(
            "Превышена квота загрузок организации: {} МБ, уже занято {} МБ, файл {} МБ. Обратитесь к администратору",
            mb(limit), mb(used), mb(requested)
        ),
        (Lang::Ru, _) => format!(
            "Превышена ваша квота загрузок: {} МБ, уже занято {} МБ, файл {} МБ. Обратитесь к администратору",
            mb(limit), mb(used), mb(requested)
        ),
        (Lang::En, "organization") => format!(
            "The organization's upload quota is exceeded: {} MB, {} MB already used, the file is {} MB. Ask an administrator",
            mb(limit), mb(used), mb(requested)
        ),
        (Lang::En, _) => format!(
            "Your upload quota is exceeded: {} MB, {} MB already used, the file is {} MB. Ask an administrator",
            mb(limit), mb(used), mb(requested)
        ),
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let retry_after = match &self {
            AppError::Service(ServiceError::Throttled { retry_after }, _) => Some(*retry_after),
            _ => None,
        };
        let (status, kind, title, detail, errors) = match self {
            AppError::Service(e, lang) => match e {
                ServiceError::Unauthenticated => (
                    StatusCode::UNAUTHORIZED,
                    "unauthenticated",
                    t(lang, "Требуется вход в систему", "Sign-in required"),
                    None,
                    vec![],
                ),
                ServiceError::BadCredentials => (
                    StatusCode::UNAUTHORIZED,
                    "bad-credentials",
                    t(lang, "Неверный логин или пароль", "Wrong login or password"),
                    None,
                    vec![],
                ),
                ServiceError::SessionExpired => (
                    StatusCode::UNAUTHORIZED,
                    "session-expired",
                    t(
                        lang,
                        "Сеанс истёк — войдите снова",
                        "The session expired; sign in again",
                    ),
                    None,
                    vec![],
                ),
                ServiceError::Throttled { retry_after } => (
                    StatusCode::TOO_MANY_REQUESTS,
                    "throttled",
                    t(
                        lang,
                        "Слишком много попыток входа",
                        "Too many sign-in attempts",
                    ),
                    Some(format!(
                        "{} {} {}",
                        t(lang, "Повторите через", "Try again in"),
                        (retry_after + 59) / 60,
                        t(lang, "мин.", "min.")
                    )),
                    vec![],
                ),
                ServiceError::NotFound => (
                    StatusCode::NOT_FOUND,
                    "not-found",
                    t(lang, "Не найдено", "Not found"),
                    None,
                    vec![],
                ),
                ServiceError::Forbidden => (
                    StatusCode::FORBIDDEN,
                    "forbidden",
                    t(
                        lang,
                        "Недостаточно прав для этого действия",
                        "You may not do this",
                    ),
                    None,
                    vec![],
                ),
                ServiceError::WrongState { status, action } => (
                    StatusCode::CONFLICT,
                    "wrong-state",
                    t(
                        lang,
                        "Действие невозможно в текущем статусе запроса",
                        "This action is not possible in the request's current state",
                    ),
                    Some(format!(
                        "{}: «{}» — {}",
                        t(lang, "Статус", "Status"),
                        status.label(lang),
                        action.label(lang)
                    )),
                    vec![],
                ),
                ServiceError::Concurrent => (
                    StatusCode::CONFLICT,
                    "concurrent-change",
                    t(
                        lang,
                        "Запрос только что изменил другой пользователь — обновите страницу",
                        "Someone else just changed this request; reload it",
                    ),
                    None,
                    vec![],
                ),
                ServiceError::Invalid(errors) => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "validation",
                    t(
                        lang,
                        "Проверьте заполнение полей",
                        "Please check the fields",
                    ),
                    None,
                    field_problems(&errors, lang),
                ),
                ServiceError::Refused { code } => (
                    match code {
                        "file_too_large" | "verify_too_large" => StatusCode::PAYLOAD_TOO_LARGE,
                        "file_type"
                        | "zip_without_dicom"
                        | "zip_broken"
                        | "file_active_content"
                        | "file_extension_mismatch"
                        | "file_macro" => StatusCode::UNSUPPORTED_MEDIA_TYPE,
                        "upload_offset" | "upload_busy" | "video_conflict" | "semd_not_ready" => {
                            StatusCode::CONFLICT
                        }
                        "upload_gone" => StatusCode::NOT_FOUND,
                        "role_self_grant" => StatusCode::FORBIDDEN,
                        "scan_unavailable" => StatusCode::SERVICE_UNAVAILABLE,
                        "upload_interrupted" => StatusCode::BAD_REQUEST,
                        "password_change_first" | "totp_enrolment_first" => StatusCode::FORBIDDEN,
                        _ => StatusCode::UNPROCESSABLE_ENTITY,
                    },
                    code,
                    rtms_domain::validate::message(code, lang).to_string(),
                    None,
                    vec![],
                ),
                ServiceError::QuotaExceeded {
                    scope,
                    limit,
                    used,
                    requested,
                } => (
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "upload-quota",
                    quota_text(lang, scope, limit, used, requested),
                    None,
                    vec![],
                ),
                ServiceError::FilesMissing(names) => (
                    StatusCode::CONFLICT,
                    "files-missing",
                    match lang {
                        Lang::Ru => format!(
                            "Запрос не отправлен: ещё не получены файлы ({}): {}. Передайте их (tus, /api/v1/uploads) и повторите",
                            names.len(),
                            names.join(", ")
                        ),
                        Lang::En => format!(
                            "The request is not submitted: files not received yet ({}): {}. Send them (tus, /api/v1/uploads) and repeat",
                            names.len(),
                            names.join(", ")
                        ),
                    },
                    None,
                    vec![],
                ),
                ServiceError::BodyTooLarge { what, limit } => (
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "body-too-large",
                    crate::limits::too_large_text(lang, what, limit),
                    None,
                    vec![],
                ),
                ServiceError::Store(e) => {
                    tracing::error!(error = %e, "storage error");
                    (
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "internal",
                        t(lang, "Внутренняя ошибка сервера", "Internal server error"),
                        None,
                        vec![],
                    )
                }
            },
            AppError::BadRequest(detail, lang) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "bad-request",
                t(
                    lang,
                    "Запрос не удалось разобрать",
                    "The request could not be read",
                ),
                Some(detail),
                vec![],
            ),
            AppError::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Внутренняя ошибка сервера".to_string(),
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
