//! Headers and guards every response passes: the CSRF check on
//! state-changing requests, the content security policy (with the PDF
//! viewer's own), no framing, no sniffing.

use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::session::{cookie, SESSION_COOKIE};

/// Refuses state-changing requests from other sites: the browser's Fetch
/// Metadata, or failing that the Origin, must say "this site".
pub async fn csrf_guard(req: Request, next: Next) -> Response {
    // Browser reports change nothing, carry no session and come as the
    // browser chooses (a CSP report may have no Origin): always let them in.
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS)
        || req.uri().path() == "/browser-report"
    {
        return next.run(req).await;
    }
    let h = req.headers();
    let ok = match h.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        Some(site) => site == "same-origin" || site == "none",
        None => match (
            h.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
            h.get(header::HOST).and_then(|v| v.to_str().ok()),
        ) {
            (Some(origin), Some(host)) => origin.split("://").nth(1) == Some(host),
            // No browser metadata at all: fine for API clients (bearer tokens), but a
            // request carrying the session cookie must say where it comes from.
            (None, _) => cookie(h, SESSION_COOKIE).is_none(),
            (Some(_), None) => false,
        },
    };
    if ok {
        next.run(req).await
    } else {
        (StatusCode::FORBIDDEN, "cross-site request refused").into_response()
    }
}

/// The policy of a PDF the server made (a conclusion, a request's summary, a
/// report), shown in the browser's own viewer.
pub const PDF_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data: blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'; report-uri /browser-report";

/// Headers every response carries: a strict CSP (no inline script or style), no framing, no sniffing.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    // A PDF we made, shown inline: the browser's own viewer draws it, and
    // WebKit's viewer styles itself inline; nothing else may load.
    let pdf = h
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/pdf"));
    if pdf {
        h.entry(header::CONTENT_SECURITY_POLICY)
            .or_insert(HeaderValue::from_static(PDF_CSP));
    }
    // A response with a policy of its own (a user's file: sandboxed) keeps it.
    h.entry(header::CONTENT_SECURITY_POLICY).or_insert(
        HeaderValue::from_static("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; report-uri /browser-report"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    resp
}
