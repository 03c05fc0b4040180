//! The conclusion document: its PDF and seal, the published key, and
//! verification of a PDF by anyone who holds one.

use super::{Path, Query};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use rtms_service::documents::semd::SemdView;
use rtms_service::documents::{CmsSignatureView, SealKeyView, Verification};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::files::{disposition, FileCaller};
use super::{Caller, ReqLang};
use crate::error::{AppError, Problem};
use crate::{blocking, AppState};

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VersionQuery {
    /// An earlier version of a corrected conclusion (1, 2…); the current one by default.
    pub version: Option<i32>,
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(conclusion_pdf))
        .routes(routes!(conclusion_seal))
        .routes(routes!(semd_xml))
        .routes(routes!(semd_info))
        .routes(routes!(summary_pdf))
        .routes(routes!(package_zip))
        .routes(routes!(add_signature, signatures))
        .routes(routes!(seal_key))
        .routes(routes!(verify))
        // A signature's body (a CMS file) is small; `verify` reads its own
        // body up to `limits::VERIFY_MAX_BYTES`.
        .layer(DefaultBodyLimit::max(crate::limits::VERIFY_MAX_BYTES))
}

/// The signed conclusion as PDF/A, sealed by the server. Made once every
/// participant has signed.
#[utoipa::path(get, path = "/api/v1/consultations/{id}/conclusion/pdf", tag = "documents", params(("id" = i64, Path), VersionQuery), security(("bearer" = [])),
    responses((status = 409, body = Problem, description = "The document is not ready yet (not every participant has signed), or a correction is open or missing"), (status = 200, content_type = "application/pdf", description = "The document"), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn conclusion_pdf(
    State(state): State<AppState>,
    caller: FileCaller,
    Path(id): Path<i64>,
    Query(q): Query<VersionQuery>,
) -> Result<Response, AppError> {
    let made = match q.version {
        Some(v) => state.svc.document_version(&caller.actor, id, v).await,
        None => state.svc.conclusion_document(&caller.actor, id).await,
    };
    let (doc, pdf) = made.map_err(|e| AppError::from(e).in_lang(caller.lang))?;
    let name = rtms_i18n::tr_args(
        caller.lang,
        "file-conclusion-pdf",
        &[
            ("id", id.to_string().into()),
            ("version", doc.version.to_string().into()),
        ],
    );
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        [(header::CONTENT_DISPOSITION, disposition("inline", &name))],
        pdf,
    )
        .into_response())
}

/// The СЭМД «Протокол консультации» (CDA, ред. 7; НСИ 1520 code 290) of the
/// signed conclusion: the exact bytes stored at signing, which a signature
/// over the СЭМД covers (`X-Content-SHA256` gives their SHA-256). 409 when the
/// conclusion was signed without one (the region allowed it).
#[utoipa::path(get, path = "/api/v1/consultations/{id}/semd", tag = "documents", params(("id" = i64, Path), VersionQuery), security(("bearer" = [])),
    responses((status = 200, content_type = "application/xml", description = "The СЭМД"), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn semd_xml(
    State(state): State<AppState>,
    caller: FileCaller,
    Path(id): Path<i64>,
    Query(q): Query<VersionQuery>,
) -> Result<Response, AppError> {
    let svc = state.svc.clone();
    let lang = caller.lang;
    let actor = caller.actor;
    let (view, xml) = blocking(move || svc.semd(&actor, id, q.version))
        .await
        .map_err(|e| e.in_lang(lang))?;
    let name = rtms_i18n::tr_args(
        lang,
        "file-semd-xml",
        &[
            ("id", id.to_string().into()),
            ("version", view.version.to_string().into()),
        ],
    );
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/xml; charset=utf-8".to_string(),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
            (
                header::HeaderName::from_static("x-content-sha256"),
                view.sha256.clone(),
            ),
        ],
        [(
            header::CONTENT_DISPOSITION,
            disposition("attachment", &name),
        )],
        xml,
    )
        .into_response())
}

/// The СЭМД's identity and registration status (`created`, `signed`, and
/// later `sent`, `registered` or `rejected` with РЭМД's error code).
#[utoipa::path(get, path = "/api/v1/consultations/{id}/semd/info", tag = "documents", params(("id" = i64, Path), VersionQuery), security(("bearer" = [])),
    responses((status = 200, body = SemdView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn semd_info(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Query(q): Query<VersionQuery>,
) -> Result<Json<SemdView>, AppError> {
    let svc = state.svc.clone();
    let lang = caller.lang;
    let actor = caller.actor;
    let (view, _) = blocking(move || svc.semd(&actor, id, q.version))
        .await
        .map_err(|e| e.in_lang(lang))?;
    Ok(Json(view))
}

/// The request itself as a printable PDF/A summary (patient, diagnosis, question,
/// history, examinations, the list of attachments), for the consultant.
#[utoipa::path(get, path = "/api/v1/consultations/{id}/summary.pdf", tag = "documents", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, content_type = "application/pdf", description = "The summary"), (status = 404, body = Problem)))]
async fn summary_pdf(
    State(state): State<AppState>,
    caller: FileCaller,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let svc = state.svc.clone();
    let lang = caller.lang;
    let actor = caller.actor;
    let pdf = crate::blocking(move || svc.request_summary_pdf(&actor, id))
        .await
        .map_err(|e| e.in_lang(lang))?;
    let name = rtms_i18n::tr_args(lang, "file-request-pdf", &[("id", id.to_string().into())]);
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        [(header::CONTENT_DISPOSITION, disposition("inline", &name))],
        pdf,
    )
        .into_response())
}

/// The detached seal of the conclusion's PDF (JSON), for `rtms verify`.
#[utoipa::path(get, path = "/api/v1/consultations/{id}/conclusion/seal", tag = "documents", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 409, body = Problem, description = "The document is not ready yet (not every participant has signed), or a correction is open or missing"), (status = 200, description = "The seal (rtms-seal-v1)"), (status = 404, body = Problem)))]
async fn conclusion_seal(
    State(state): State<AppState>,
    caller: FileCaller,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let (doc, _) = state
        .svc
        .conclusion_document(&caller.actor, id)
        .await
        .map_err(|e| AppError::from(e).in_lang(caller.lang))?;
    let name = rtms_i18n::tr_args(
        caller.lang,
        "file-conclusion-seal",
        &[
            ("id", id.to_string().into()),
            ("version", doc.version.to_string().into()),
        ],
    );
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        [(
            header::CONTENT_DISPOSITION,
            disposition("attachment", &name),
        )],
        doc.seal,
    )
        .into_response())
}

/// The key documents are sealed with (public).
#[utoipa::path(get, path = "/api/v1/seal/key", tag = "documents",
    responses((status = 200, body = SealKeyView)))]
async fn seal_key(State(state): State<AppState>) -> Result<Json<SealKeyView>, AppError> {
    let svc = state.svc.clone();
    Ok(Json(blocking(move || svc.seal_public_key()).await?))
}

/// Checks a PDF (the request body): issued by this system and unchanged?
/// Public, like the mark printed on the document.
#[utoipa::path(post, path = "/api/v1/verify", tag = "documents",
    request_body(content = Vec<u8>, content_type = "application/pdf"),
    responses((status = 200, body = Verification), (status = 413, body = Problem), (status = 422, body = Problem),
        (status = 429, body = Problem, description = "Too many verifications from this address",
            headers(("Retry-After" = u64, description = "Seconds to wait")))))]
async fn verify(
    State(state): State<AppState>,
    ReqLang(lang): ReqLang,
    headers: axum::http::HeaderMap,
    body: axum::body::Body,
) -> Result<(StatusCode, Json<Verification>), AppError> {
    let limit = crate::limits::VERIFY_MAX_BYTES;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    // Refused on its announced length before a byte is read, else while it
    // streams in: never more than the limit held.
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(
            AppError::from(rtms_service::ServiceError::refused("verify_too_large")).in_lang(lang),
        );
    }
    let body = axum::body::to_bytes(body, limit).await.map_err(|_| {
        AppError::from(rtms_service::ServiceError::refused("verify_too_large")).in_lang(lang)
    })?;
    // Nothing sent is a mistake to tell, not a document that failed to verify.
    if body.is_empty() {
        return Err(
            AppError::from(rtms_service::ServiceError::refused("verify_empty")).in_lang(lang),
        );
    }
    let svc = state.svc.clone();
    let v = blocking(move || svc.verify_pdf(&body, lang)).await?;
    Ok((StatusCode::OK, Json(v)))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TargetQuery {
    /// What the signature covers: `pdf` (default) or `semd`.
    #[param(pattern = "^(pdf|semd)?$")]
    pub target: Option<String>,
}

/// A consultant who signed the conclusion attaches their own detached CMS
/// (PKCS#7) signature of its PDF, or with `?target=semd` of its СЭМД (the
/// request body, DER or PEM). Checked where the algorithm is a standard one
/// (RSA, ECDSA); ГОСТ signatures are kept unchecked. A signature of anything
/// else than that document: 422.
#[utoipa::path(post, path = "/api/v1/consultations/{id}/conclusion/signatures", tag = "documents", params(("id" = i64, Path), TargetQuery), security(("bearer" = [])),
    request_body(content = Vec<u8>, content_type = "application/pkcs7-signature"),
    responses((status = 409, body = Problem, description = "The document is not ready yet (not every participant has signed), or a correction is open or missing"), (status = 201, body = CmsSignatureView), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn add_signature(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Query(t): Query<TargetQuery>,
    body: Bytes,
) -> Result<(StatusCode, Json<CmsSignatureView>), AppError> {
    let v = state
        .svc
        .add_cms_signature(
            &caller.actor,
            id,
            body.to_vec(),
            t.target.as_deref().unwrap_or("pdf"),
        )
        .await
        .map_err(|e| AppError::from(e).in_lang(caller.lang))?;
    Ok((StatusCode::CREATED, Json(v)))
}

/// The signers' own CMS signatures of the conclusion document.
#[utoipa::path(get, path = "/api/v1/consultations/{id}/conclusion/signatures", tag = "documents", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = Vec<CmsSignatureView>), (status = 404, body = Problem)))]
async fn signatures(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Vec<CmsSignatureView>>, AppError> {
    let svc = state.svc.clone();
    let lang = caller.lang;
    Ok(Json(
        blocking(move || svc.cms_signatures(&caller.actor, id))
            .await
            .map_err(|e| e.in_lang(lang))?,
    ))
}

/// Manual escalation: the case as a ZIP (summary PDF, FHIR Bundle, files) for a
/// region not connected to the federal system. Dispatchers only.
#[utoipa::path(get, path = "/api/v1/consultations/{id}/package.zip", tag = "documents", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 409, body = Problem, description = "The document is not ready yet (not every participant has signed), or a correction is open or missing"), (status = 200, content_type = "application/zip", description = "The package"), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn package_zip(
    State(state): State<AppState>,
    caller: FileCaller,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let file = state
        .svc
        .escalation_package(&caller.actor, id)
        .await
        .map_err(|e| AppError::from(e).in_lang(caller.lang))?;
    let stream = tokio_util::io::ReaderStream::new(tokio::fs::File::from_std(file));
    let name = rtms_i18n::tr_args(
        caller.lang,
        "file-federal-package",
        &[("id", id.to_string().into())],
    );
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip".to_string()),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        [(
            header::CONTENT_DISPOSITION,
            disposition("attachment", &name),
        )],
        axum::body::Body::from_stream(stream),
    )
        .into_response())
}
