//! Static files compiled into the binary (styles, scripts, htmx, the
//! Ministry's СЭМД print form), and CryptoPro's plug-in script when the
//! deployment provides it.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

const APP_CSS: &str = include_str!("../../static/app.css");
const APP_JS: &str = include_str!("../../static/app.js");
const FILES_JS: &str = include_str!("../../static/files.js");
const VIDEO_JS: &str = include_str!("../../static/video.js");
const VIDEO_CHECK_JS: &str = include_str!("../../static/video_check.js");
const UKEP_JS: &str = include_str!("../../static/ukep.js");

/// CryptoPro's own `cadesplugin_api.js` (from its CSP distribution; not ours to
/// ship), when the deployment names it in `RTMS_CADESPLUGIN_API`: served as
/// `/static/cadesplugin_api.js` so that the request page's «Подписать УКЭП»
/// finds the plug-in. At most 1 MiB; read once.
pub fn cadesplugin_api() -> Option<&'static str> {
    static API: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    API.get_or_init(|| {
        let path = std::env::var_os("RTMS_CADESPLUGIN_API")?;
        let len = std::fs::metadata(&path).ok()?.len();
        if len > 1 << 20 {
            tracing::warn!("RTMS_CADESPLUGIN_API is over 1 MiB: not served");
            return None;
        }
        std::fs::read_to_string(&path)
            .map_err(|e| tracing::warn!(error = %e, "RTMS_CADESPLUGIN_API cannot be read"))
            .ok()
    })
    .as_deref()
}
const HTMX_JS: &str = include_str!("../../static/vendor/htmx-2.0.11.min.js");
/// The Ministry's print form of the СЭМД 290 (XSLT), applied by the browser.
const SEMD_PRINT_XSL: &str = include_str!("../../../../reference/semd-290/xsl/print-form-v1.4.xsl");

pub(super) async fn static_file(
    axum::extract::Path(file): axum::extract::Path<String>,
) -> Response {
    let (body, mime) = match file.as_str() {
        "app.css" => (APP_CSS, "text/css; charset=utf-8"),
        "app.js" => (APP_JS, "text/javascript; charset=utf-8"),
        "files.js" => (FILES_JS, "text/javascript; charset=utf-8"),
        "video.js" => (VIDEO_JS, "text/javascript; charset=utf-8"),
        "video_check.js" => (VIDEO_CHECK_JS, "text/javascript; charset=utf-8"),
        "ukep.js" => (UKEP_JS, "text/javascript; charset=utf-8"),
        "cadesplugin_api.js" => match cadesplugin_api() {
            Some(api) => (api, "text/javascript; charset=utf-8"),
            None => return StatusCode::NOT_FOUND.into_response(),
        },
        "htmx.min.js" => (HTMX_JS, "text/javascript; charset=utf-8"),
        "semd-print.xsl" => (SEMD_PRINT_XSL, "text/xsl; charset=utf-8"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, mime),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}
