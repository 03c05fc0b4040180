//! The conclusion document: its PDF and seal, the published key, and
//! verification of a PDF by anyone who holds one.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use rtms_service::documents::{SealKeyView, Verification};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::files::{disposition, FileCaller};
use super::ReqLang;
use crate::error::{AppError, Problem};
use crate::{blocking, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(conclusion_pdf))
        .routes(routes!(conclusion_seal))
        .routes(routes!(seal_key))
        .routes(routes!(verify))
        // A PDF to verify may be large; other routes here have no body.
        .layer(DefaultBodyLimit::max(64 << 20))
}

/// The signed conclusion as PDF/A, sealed by the server. Made once every
/// participant has signed.
#[utoipa::path(get, path = "/api/v1/consultations/{id}/conclusion/pdf", tag = "documents", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, content_type = "application/pdf", description = "The document"), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn conclusion_pdf(
    State(state): State<AppState>,
    caller: FileCaller,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let (doc, pdf) = state
        .svc
        .conclusion_document(&caller.actor, id)
        .await
        .map_err(|e| AppError::from(e).in_lang(caller.lang))?;
    let name = format!("Заключение № {id}, версия {}.pdf", doc.version);
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
    responses((status = 200, description = "The seal (rtms-seal-v1)"), (status = 404, body = Problem)))]
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
    let name = format!("Заключение № {id}, версия {}.seal.json", doc.version);
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
    responses((status = 200, body = Verification)))]
async fn verify(
    State(state): State<AppState>,
    ReqLang(lang): ReqLang,
    body: Bytes,
) -> Result<(StatusCode, Json<Verification>), AppError> {
    let svc = state.svc.clone();
    let v = blocking(move || svc.verify_pdf(&body, lang)).await?;
    Ok((StatusCode::OK, Json(v)))
}
