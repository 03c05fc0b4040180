//! `POST /browser-report`: what browsers tell the server about the pages.
//!
//! Two kinds of report arrive here and go to the log (target
//! `rtms::browser`, level WARN), so that an administrator learns that a page
//! broke in some hospital's browser without anyone calling:
//! - content-security-policy violations, sent by the browser itself
//!   (`report-uri` in the policy of every page, `ui::headers::security_headers`);
//! - script errors a page caught (`static/app.js` sends them with
//!   `navigator.sendBeacon`).
//!
//! Anyone may post (a report carries no session), so everything is hostile:
//! the body is at most `limits::BROWSER_REPORT_MAX_BYTES`, each address may
//! post `BURST` reports and `PER_MINUTE` more a minute, and every field is
//! cut to `FIELD_MAX_CHARS` with control characters replaced before it is
//! logged. Nothing is stored.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::AppState;

/// Reports one address may send at once…
pub const BURST: u32 = 20;
/// …and how many more it earns per minute.
pub const PER_MINUTE: u32 = 20;
/// The longest field kept from a report, in characters.
pub const FIELD_MAX_CHARS: usize = 300;

/// What the log line says about one report.
#[derive(Debug, PartialEq, Eq)]
pub struct Report {
    /// `csp` or `script`.
    pub kind: &'static str,
    /// The page it happened on.
    pub page: String,
    /// The violated directive, or the error's message.
    pub what: String,
    /// The blocked address, or the script file and line.
    pub source: String,
}

/// Reads a CSP report (`{"csp-report": {…}}`, the format of `report-uri`)
/// or a page's script error (`{"script-error": {…}}`). `None` for anything else.
pub fn parse(body: &[u8]) -> Option<Report> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let field = |o: &serde_json::Value, k: &str| -> String {
        match o.get(k) {
            Some(serde_json::Value::String(s)) => clean(s),
            Some(serde_json::Value::Number(n)) => n.to_string(),
            _ => String::new(),
        }
    };
    if let Some(c) = v.get("csp-report").filter(|c| c.is_object()) {
        let mut what = field(c, "effective-directive");
        if what.is_empty() {
            what = field(c, "violated-directive");
        }
        let mut source = field(c, "blocked-uri");
        let file = field(c, "source-file");
        if !file.is_empty() {
            source = format!("{source} ({file}:{})", field(c, "line-number"));
        }
        return Some(Report {
            kind: "csp",
            page: field(c, "document-uri"),
            what,
            source,
        });
    }
    if let Some(e) = v.get("script-error").filter(|e| e.is_object()) {
        return Some(Report {
            kind: "script",
            page: field(e, "page"),
            what: field(e, "message"),
            source: format!("{}:{}", field(e, "source"), field(e, "line")),
        });
    }
    None
}

/// At most `FIELD_MAX_CHARS` characters, control characters as U+FFFD (no
/// forged log lines).
fn clean(s: &str) -> String {
    s.chars()
        .take(FIELD_MAX_CHARS)
        .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
        .collect()
}

pub async fn receive(State(state): State<AppState>, req: axum::extract::Request) -> Response {
    let (parts, body) = req.into_parts();
    let client = crate::client_of(&parts, &state);
    if state.browser_reports.take(&client.ip).is_err() {
        return (StatusCode::TOO_MANY_REQUESTS, "too many reports").into_response();
    }
    let body: Bytes = match crate::limits::read_body(
        &parts.headers,
        body,
        crate::limits::BROWSER_REPORT_MAX_BYTES,
        "report",
    )
    .await
    {
        Ok(b) => b,
        Err(_) => return (StatusCode::PAYLOAD_TOO_LARGE, "report too large").into_response(),
    };
    match parse(&body) {
        Some(r) => {
            tracing::warn!(
                target: "rtms::browser",
                kind = r.kind,
                page = %r.page,
                what = %r.what,
                source = %r.source,
                client = %client.ip,
                "browser report"
            );
            StatusCode::NO_CONTENT.into_response()
        }
        None => (StatusCode::BAD_REQUEST, "not a report").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_csp_report_names_the_page_the_directive_and_what_was_blocked() {
        let r = parse(
            br#"{"csp-report":{"document-uri":"http://h/requests/5","violated-directive":"style-src 'self'",
                "effective-directive":"style-src-attr","blocked-uri":"inline","source-file":"http://h/static/app.js","line-number":12}}"#,
        )
        .unwrap();
        assert_eq!(r.kind, "csp");
        assert_eq!(r.page, "http://h/requests/5");
        assert_eq!(r.what, "style-src-attr");
        assert_eq!(r.source, "inline (http://h/static/app.js:12)");
    }

    #[test]
    fn a_script_error_names_the_message_and_the_line() {
        let r = parse(br#"{"script-error":{"page":"/queue","message":"x is undefined","source":"/static/files.js","line":40}}"#)
            .unwrap();
        assert_eq!(
            r,
            Report {
                kind: "script",
                page: "/queue".into(),
                what: "x is undefined".into(),
                source: "/static/files.js:40".into()
            }
        );
    }

    #[test]
    fn hostile_reports_are_cut_and_cannot_forge_log_lines() {
        let long = "a".repeat(10_000);
        let body = format!(
            r#"{{"script-error":{{"page":"/q\nWARN forged","message":"{long}","source":"s","line":"1"}}}}"#
        );
        let r = parse(body.as_bytes()).unwrap();
        assert_eq!(r.page, "/q\u{FFFD}WARN forged");
        assert_eq!(r.what.chars().count(), FIELD_MAX_CHARS);
        for junk in [
            &b"not json"[..],
            b"[]",
            b"{}",
            br#"{"csp-report":"x"}"#,
            b"\xff\xfe",
        ] {
            assert_eq!(parse(junk), None, "{junk:?}");
        }
    }
}
