//! Attachments over HTTP: resumable uploads by the tus 1.0 protocol (core,
//! creation and termination) and downloads, with HTTP ranges.
//!
//! tus in one paragraph: `POST /api/v1/uploads` with `Upload-Length` and
//! `Upload-Metadata` (base64 `filename`, `consultation`, optional `message`)
//! creates an upload and answers its address in `Location`. `PATCH` with
//! `Upload-Offset` and an `application/offset+octet-stream` body appends;
//! `HEAD` tells the offset to resume from after a dropped connection. When the
//! last byte is in, the answer carries `Attachment-Id`: the file is checked,
//! stored and visible.

use super::Path;
use axum::body::Body;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use rtms_domain::Lang;
use rtms_service::attachments::files::{AttachmentView, NewUpload, UploadState};
use rtms_service::{Actor, ServiceError};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Caller, ReqLang};
use crate::error::{AppError, Problem};
use crate::{blocking, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(tus_options, create_upload))
        .routes(routes!(upload_head, upload_patch, upload_delete))
        .routes(routes!(list_attachments))
        .routes(routes!(download))
        .routes(routes!(study))
        .routes(routes!(frame))
}

const TUS_VERSION: &str = "1.0.0";

/// The caller of a file route: an API token, or the web interface's session
/// (the browser uploads with its cookie; the CSRF guard checks its origin).
pub struct FileCaller {
    pub actor: Actor,
    pub lang: Lang,
}

impl FromRequestParts<AppState> for FileCaller {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if parts.headers.contains_key(header::AUTHORIZATION) {
            let c = Caller::from_request_parts(parts, state).await?;
            return Ok(FileCaller {
                actor: c.actor,
                lang: c.lang,
            });
        }
        let ReqLang(mut lang) = ReqLang::from_request_parts(parts, state).await?;
        let Some(token) = crate::session::cookie(&parts.headers, crate::session::SESSION_COOKIE)
        else {
            return Err(AppError::from(ServiceError::Unauthenticated).in_lang(lang));
        };
        if let Some(l) = crate::session::cookie(&parts.headers, crate::session::LANG_COOKIE) {
            lang = if l == "en" { Lang::En } else { Lang::Ru };
        }
        // Through the same gates as pages (a temporary password, a second
        // factor the region requires).
        let actor = crate::session::cookie_actor(parts, state, token)
            .await
            .map_err(|e| AppError::from(e).in_lang(lang))?;
        Ok(FileCaller { actor, lang })
    }
}

fn tus_headers(h: &mut HeaderMap) {
    h.insert("tus-resumable", HeaderValue::from_static(TUS_VERSION));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

fn with_tus(e: AppError) -> Response {
    let mut r = e.into_response();
    tus_headers(r.headers_mut());
    r
}

fn state_headers(state: &UploadState, status: StatusCode) -> Response {
    let mut r = status.into_response();
    let h = r.headers_mut();
    tus_headers(h);
    h.insert("upload-offset", state.offset.into());
    h.insert("upload-length", state.length.into());
    if let Some(a) = state.attachment_id {
        h.insert("attachment-id", a.into());
    }
    r
}

/// `Upload-Metadata`: comma-separated `key base64value` pairs.
fn metadata(h: &HeaderMap) -> Vec<(String, String)> {
    use base64::Engine;
    let raw = h
        .get("upload-metadata")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    raw.split(',')
        .filter_map(|pair| {
            let mut it = pair.trim().splitn(2, ' ');
            let k = it.next()?.trim();
            if k.is_empty() {
                return None;
            }
            let v = it
                .next()
                .and_then(|v| {
                    base64::engine::general_purpose::STANDARD
                        .decode(v.trim())
                        .ok()
                })
                .and_then(|b| String::from_utf8(b).ok())
                // A NUL is never part of a file name or a number.
                .filter(|s| !s.contains('\0'))
                .unwrap_or_default();
            Some((k.to_string(), v))
        })
        .collect()
}

/// tus discovery: the protocol version, extensions and the size limit.
#[utoipa::path(options, path = "/api/v1/uploads", tag = "files",
    responses((status = 204, description = "Tus-Version, Tus-Extension, Tus-Max-Size")))]
async fn tus_options(State(state): State<AppState>) -> Response {
    let mut r = StatusCode::NO_CONTENT.into_response();
    let h = r.headers_mut();
    tus_headers(h);
    h.insert("tus-version", HeaderValue::from_static(TUS_VERSION));
    h.insert(
        "tus-extension",
        HeaderValue::from_static("creation,termination"),
    );
    h.insert("tus-max-size", state.svc.files.max_bytes.into());
    r
}

/// Creates a resumable upload (tus creation): `Upload-Length`, and
/// `Upload-Metadata` with `filename`, `consultation` and optionally `message`.
#[utoipa::path(post, path = "/api/v1/uploads", tag = "files", security(("bearer" = [])),
    params(
        ("Upload-Length" = u64, Header, description = "The file's whole size in bytes"),
        ("Upload-Metadata" = String, Header, pattern = "(^|,) *consultation +[A-Za-z0-9+/]+={0,2} *(,|$)", description = "tus metadata: `filename`, `consultation` (the request's number) and optionally `message`, each a key, a space and its value in base64, separated by commas"),
        ("Tus-Resumable" = Option<String>, Header, description = "1.0.0"),
    ),
    responses(
        (status = 201, description = "The upload is made",
            headers(("Location" = String, description = "The upload's address: `/api/v1/uploads/{id}`"),
                    ("Upload-Offset" = u64, description = "0"))),
        (status = 403, body = Problem), (status = 413, body = Problem), (status = 422, body = Problem)))]
async fn create_upload(
    State(state): State<AppState>,
    caller: FileCaller,
    headers: HeaderMap,
) -> Response {
    let lang = caller.lang;
    let Some(length) = headers
        .get("upload-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
    else {
        return with_tus(
            AppError::from(ServiceError::field("upload_length", "required")).in_lang(lang),
        );
    };
    let meta = metadata(&headers);
    let get = |k: &str| {
        meta.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    let Some(consultation_id) = get("consultation").and_then(|v| v.parse::<i64>().ok()) else {
        return with_tus(
            AppError::from(ServiceError::field("consultation", "required")).in_lang(lang),
        );
    };
    let new = NewUpload {
        consultation_id,
        message_id: get("message").and_then(|v| v.parse().ok()),
        file_name: get("filename").unwrap_or_default(),
        length,
    };
    let svc = state.svc.clone();
    match blocking(move || svc.begin_upload(&caller.actor, &new)).await {
        Ok(id) => {
            let mut r = StatusCode::CREATED.into_response();
            let h = r.headers_mut();
            tus_headers(h);
            if let Ok(v) = HeaderValue::from_str(&format!("/api/v1/uploads/{id}")) {
                h.insert(header::LOCATION, v);
            }
            h.insert("upload-offset", 0u64.into());
            r
        }
        Err(e) => with_tus(e.in_lang(lang)),
    }
}

/// Where an upload stands: `Upload-Offset` to resume from, and
/// `Attachment-Id` once the file is complete and visible.
#[utoipa::path(head, path = "/api/v1/uploads/{id}", tag = "files", params(("id" = String, Path)), security(("bearer" = [])),
    responses(
        (status = 200, description = "Where the upload stands",
            headers(("Upload-Offset" = u64, description = "The bytes received so far: resume from here"),
                    ("Upload-Length" = u64, description = "The file's whole size"),
                    ("Attachment-Id" = Option<i64>, description = "Once complete: the attachment"))),
        (status = 404, body = Problem)))]
async fn upload_head(
    State(state): State<AppState>,
    caller: FileCaller,
    Path(id): Path<String>,
) -> Response {
    match state.svc.upload_state(&caller.actor, &id).await {
        Ok(s) => state_headers(&s, StatusCode::OK),
        Err(e) => with_tus(AppError::from(e).in_lang(caller.lang)),
    }
}

/// Appends bytes at `Upload-Offset`. The body streams to disk; a dropped
/// connection keeps what arrived. The last piece answers `Attachment-Id`.
#[utoipa::path(patch, path = "/api/v1/uploads/{id}", tag = "files", security(("bearer" = [])),
    params(
        ("id" = String, Path),
        ("Upload-Offset" = u64, Header, description = "Where these bytes start: the upload's offset now (HEAD tells it)"),
        ("Tus-Resumable" = Option<String>, Header, description = "1.0.0"),
    ),
    request_body(content = Vec<u8>, content_type = "application/offset+octet-stream"),
    responses(
        (status = 204, description = "The bytes are stored",
            headers(("Upload-Offset" = u64, description = "The offset after the bytes received"),
                    ("Attachment-Id" = Option<i64>, description = "On the last piece: the attachment, checked and visible"))),
        (status = 409, body = Problem), (status = 415, body = Problem)))]
async fn upload_patch(
    State(state): State<AppState>,
    caller: FileCaller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let lang = caller.lang;
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if ctype != "application/offset+octet-stream" {
        return with_tus(
            AppError::from(ServiceError::field("content_type", "unknown_value")).in_lang(lang),
        );
    }
    let Some(offset) = headers
        .get("upload-offset")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
    else {
        // No offset, or not a number: the request is malformed (a wrong
        // offset is a conflict with the stored one, answered by the service).
        return with_tus(
            AppError::from(ServiceError::field("upload_offset", "required")).in_lang(lang),
        );
    };
    let stream = body.into_data_stream();
    match state
        .svc
        .append_upload(&caller.actor, &id, offset, stream)
        .await
    {
        Ok(s) => state_headers(&s, StatusCode::NO_CONTENT),
        Err(e) => with_tus(AppError::from(e).in_lang(lang)),
    }
}

/// Abandons an upload (tus termination); its bytes are removed.
#[utoipa::path(delete, path = "/api/v1/uploads/{id}", tag = "files", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 404, body = Problem)))]
async fn upload_delete(
    State(state): State<AppState>,
    caller: FileCaller,
    Path(id): Path<String>,
) -> Response {
    match state.svc.cancel_upload(&caller.actor, &id).await {
        Ok(()) => {
            let mut r = StatusCode::NO_CONTENT.into_response();
            tus_headers(r.headers_mut());
            r
        }
        Err(e) => with_tus(AppError::from(e).in_lang(caller.lang)),
    }
}

/// The files attached to a request (complete ones only).
#[utoipa::path(get, path = "/api/v1/consultations/{id}/attachments", tag = "files", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = Vec<AttachmentView>), (status = 404, body = Problem)))]
async fn list_attachments(
    State(state): State<AppState>,
    caller: FileCaller,
    Path(id): Path<i64>,
) -> Result<Json<Vec<AttachmentView>>, AppError> {
    let svc = state.svc.clone();
    let lang = caller.lang;
    Ok(Json(
        blocking(move || svc.attachments(&caller.actor, id))
            .await
            .map_err(|e| e.in_lang(lang))?,
    ))
}

/// Parses a single `bytes=a-b` / `bytes=a-` / `bytes=-n` range.
fn parse_range(h: &HeaderMap, size: u64) -> Option<std::ops::Range<u64>> {
    let spec = h
        .get(header::RANGE)?
        .to_str()
        .ok()?
        .strip_prefix("bytes=")?;
    if spec.contains(',') || size == 0 {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (start, end) = if a.is_empty() {
        let n: u64 = b.parse().ok()?;
        (size.saturating_sub(n), size)
    } else {
        let start: u64 = a.parse().ok()?;
        let end = if b.is_empty() {
            size
        } else {
            b.parse::<u64>().ok()?.saturating_add(1).min(size)
        };
        (start, end)
    };
    (start < end).then_some(start..end)
}

/// A file name safe to offer for saving: its last path part only, without
/// control characters, invisible direction marks, quotes or separators; at
/// most 200 characters; `file` when nothing is left.
pub(crate) fn safe_download_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && !rtms_service::attachments::files::is_format_char(*c))
        .map(|c| {
            if matches!(c, '"' | ':' | '*' | '?' | '<' | '>' | '|') {
                '_'
            } else {
                c
            }
        })
        .take(200)
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').trim();
    if cleaned.is_empty() {
        "file".to_string()
    } else {
        cleaned.to_string()
    }
}

/// A filename for `Content-Disposition`: ASCII fallback plus RFC 5987 UTF-8,
/// both from the sanitized name (`safe_download_name`).
pub(crate) fn disposition(kind: &str, name: &str) -> HeaderValue {
    let name = safe_download_name(name);
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_ ".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b".-_".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    HeaderValue::from_str(&format!(
        "{kind}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"
    ))
    .unwrap_or(HeaderValue::from_static("attachment"))
}

/// The policy of a user's file if a browser ever renders it: no script, no
/// plugins, a unique origin.
pub(crate) const DOWNLOAD_CSP: &str = "sandbox; default-src 'none'";

/// Downloads a file (streamed; `Range` honoured, so a video can be played and
/// a broken download resumed). Each read is written to the audit log.
#[utoipa::path(get, path = "/api/v1/attachments/{id}", tag = "files", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, description = "The file's bytes"), (status = 206, description = "A range of them"), (status = 404, body = Problem)))]
async fn download(
    State(state): State<AppState>,
    caller: FileCaller,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let svc = state.svc.clone();
    let lang = caller.lang;
    let actor = caller.actor;
    let a = blocking(move || svc.attachment_for_reading(&actor, id))
        .await
        .map_err(|e| e.in_lang(lang))?;
    let size = a.size as u64;
    let range = parse_range(&headers, size);
    let (_, stream) = state
        .svc
        .files
        .open(&a.storage_key, range.clone())
        .await
        .map_err(|e| AppError::Internal(format!("file {}: {e}", a.storage_key)))?;
    let mut r = Response::new(Body::from_stream(stream));
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&a.content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    // Always saved, never shown in the site's origin: what a user uploaded is
    // not a page of this site, whatever it holds. The type is the stored one
    // (decided from the content at upload), and the browser may not guess.
    h.insert(
        header::CONTENT_DISPOSITION,
        disposition("attachment", &a.file_name),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(DOWNLOAD_CSP),
    );
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("sha-256={}", a.sha256)) {
        h.insert("x-content-sha256", v);
    }
    match range {
        Some(rg) => {
            *r.status_mut() = StatusCode::PARTIAL_CONTENT;
            let h = r.headers_mut();
            h.insert(header::CONTENT_LENGTH, (rg.end - rg.start).into());
            if let Ok(v) =
                HeaderValue::from_str(&format!("bytes {}-{}/{size}", rg.start, rg.end - 1))
            {
                h.insert(header::CONTENT_RANGE, v);
            }
        }
        None => {
            r.headers_mut().insert(header::CONTENT_LENGTH, size.into());
        }
    }
    Ok(r)
}

/// The index of a DICOM attachment: patient, study, series and instances.
#[utoipa::path(get, path = "/api/v1/attachments/{id}/study", tag = "files", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, description = "The study index (studies → series → instances)"), (status = 404, body = Problem)))]
async fn study(
    State(state): State<AppState>,
    caller: FileCaller,
    Path(id): Path<i64>,
) -> Result<Json<serde_json::Value>, AppError> {
    let svc = state.svc.clone();
    let lang = caller.lang;
    let s = blocking(move || svc.study(&caller.actor, id))
        .await
        .map_err(|e| e.in_lang(lang))?;
    Ok(Json(serde_json::json!({
        "attachment_id": s.attachment_id,
        "consultation_id": s.consultation_id,
        "file_name": s.file_name,
        "index": s.index,
        "error": s.error.as_deref().map(|c| crate::ui::i18n::dicom_error_text(c, lang)),
        "error_code": s.error,
    })))
}

/// Which frame to render, and how.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct FrameQuery {
    #[serde(default)]
    pub study: u32,
    #[serde(default)]
    pub series: u32,
    #[serde(default)]
    pub instance: u32,
    #[serde(default)]
    pub frame: u32,
    /// `default`, `lung`, `mediastinum`, `bone` or `brain`.
    #[param(pattern = "^(default|lung|mediastinum|bone|brain)?$")]
    pub preset: Option<String>,
    /// A custom window centre and width (both, or neither).
    pub wc: Option<f64>,
    pub ww: Option<f64>,
    /// Scale down so the longer side is at most this many pixels.
    pub size: Option<u32>,
}

/// One frame of a DICOM attachment as PNG, with a window/level preset.
#[utoipa::path(get, path = "/api/v1/attachments/{id}/frame", tag = "files", params(("id" = i64, Path), FrameQuery), security(("bearer" = [])),
    responses((status = 200, content_type = "image/png", description = "The frame"), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn frame(
    State(state): State<AppState>,
    caller: FileCaller,
    Path(id): Path<i64>,
    super::Query(q): super::Query<FrameQuery>,
) -> Result<Response, AppError> {
    let lang = caller.lang;
    let preset = match q.preset.as_deref() {
        None | Some("") => rtms_dicom::Preset::Default,
        // Exactly as the document spells them.
        Some(p) => rtms_dicom::Preset::ALL
            .into_iter()
            .find(|x| x.as_str() == p)
            .ok_or_else(|| {
                AppError::from(ServiceError::field("preset", "unknown_value")).in_lang(lang)
            })?,
    };
    let window = match (q.wc, q.ww) {
        (Some(c), Some(w)) if w > 0.0 => Some(rtms_dicom::Window::new(c, w)),
        _ => None,
    };
    let req = rtms_service::attachments::dicom::FrameRequest {
        study: q.study as usize,
        series: q.series as usize,
        instance: q.instance as usize,
        frame: q.frame,
        preset,
        window,
        max_side: q.size.map(|s| s.clamp(32, 4096)),
    };
    let png = state
        .svc
        .dicom_frame(&caller.actor, id, req)
        .await
        .map_err(|e| AppError::from(e).in_lang(lang))?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/png"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        png,
    )
        .into_response())
}
