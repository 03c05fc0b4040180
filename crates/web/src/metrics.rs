//! Prometheus metrics at `/metrics`: request counts and latency by route (from
//! a middleware), open requests by state and the overdue count (from the
//! database at scrape time). Counts only, no personal data; served only to a
//! scraper with the configured token (`--metrics-token`) or from a configured
//! address (`--metrics-allow`), to nobody by default.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;

const BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

#[derive(Default)]
struct Series {
    /// Requests per status code.
    by_status: BTreeMap<u16, u64>,
    /// Cumulative bucket counts, then the sum and count of durations.
    buckets: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

#[derive(Default)]
pub struct Metrics {
    series: Mutex<BTreeMap<(String, String), Series>>,
}

impl Metrics {
    fn record(&self, route: &str, method: &str, status: u16, seconds: f64) {
        let mut all = self.series.lock().unwrap_or_else(|p| p.into_inner());
        let s = all
            .entry((route.to_string(), method.to_string()))
            .or_default();
        *s.by_status.entry(status).or_insert(0) += 1;
        for (i, b) in BUCKETS.iter().enumerate() {
            if seconds <= *b {
                s.buckets[i] += 1;
            }
        }
        s.sum += seconds;
        s.count += 1;
    }

    fn render(&self, out: &mut String) {
        let all = self.series.lock().unwrap_or_else(|p| p.into_inner());
        out.push_str("# HELP rtms_http_requests_total HTTP requests by route, method and status.\n# TYPE rtms_http_requests_total counter\n");
        for ((route, method), s) in all.iter() {
            for (status, n) in &s.by_status {
                out.push_str(&format!("rtms_http_requests_total{{route=\"{route}\",method=\"{method}\",status=\"{status}\"}} {n}\n"));
            }
        }
        out.push_str("# HELP rtms_http_request_duration_seconds Time to answer, by route.\n# TYPE rtms_http_request_duration_seconds histogram\n");
        for ((route, method), s) in all.iter() {
            let labels = format!("route=\"{route}\",method=\"{method}\"");
            for (i, b) in BUCKETS.iter().enumerate() {
                out.push_str(&format!(
                    "rtms_http_request_duration_seconds_bucket{{{labels},le=\"{b}\"}} {}\n",
                    s.buckets[i]
                ));
            }
            out.push_str(&format!(
                "rtms_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}\n",
                s.count
            ));
            out.push_str(&format!(
                "rtms_http_request_duration_seconds_sum{{{labels}}} {}\n",
                s.sum
            ));
            out.push_str(&format!(
                "rtms_http_request_duration_seconds_count{{{labels}}} {}\n",
                s.count
            ));
        }
    }
}

/// Times every request under its route template (`/requests/{id}`, not the id).
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let start = Instant::now();
    let resp = next.run(req).await;
    state.metrics.record(
        &route,
        &method,
        resp.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
    resp
}

/// Whether a scrape may read the metrics: the configured bearer token, or a
/// client address on the configured list (after trusted proxies, as
/// `client_of` finds it). With neither configured nobody may: a loopback peer
/// is not trusted, since a reverse proxy on the same host makes every visitor
/// one.
pub fn may_scrape(state: &AppState, parts: &axum::http::request::Parts) -> bool {
    let access = &state.svc.metrics_access;
    if let Some(expected) = access.token.as_deref().filter(|t| !t.is_empty()) {
        let presented = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        if presented.is_some_and(|p| same_secret(p, expected)) {
            return true;
        }
    }
    if access.allow.is_empty() {
        return false;
    }
    crate::client_of(parts, state)
        .ip
        .parse::<std::net::IpAddr>()
        .is_ok_and(|ip| access.allow.contains(&ip))
}

/// Compares two secrets in time that depends on their hashes only.
fn same_secret(a: &str, b: &str) -> bool {
    use rtms_service::access::sessions::token_hash;
    let (x, y) = (token_hash(a), token_hash(b));
    x.bytes()
        .zip(y.bytes())
        .fold(0u8, |acc, (p, q)| acc | (p ^ q))
        == 0
}

pub async fn scrape(State(state): State<AppState>, req: Request) -> Response {
    let (parts, _) = req.into_parts();
    if !may_scrape(&state, &parts) {
        return (
            StatusCode::FORBIDDEN,
            "metrics need --metrics-token or --metrics-allow\n",
        )
            .into_response();
    }
    let svc = state.svc.clone();
    let counts = tokio::task::spawn_blocking(move || {
        let now = svc.clock.now().naive_utc();
        svc.db
            .read(|c| {
                Ok((
                    rtms_store::repo::count_by_status(c)?,
                    rtms_store::repo::count_overdue(c, now)?,
                    rtms_store::jobs::pending(c)?,
                ))
            })
            .map(|x| (x, svc.federal_overdue().map(|l| l.len()).unwrap_or(0)))
    })
    .await;
    let mut out = String::new();
    if let Ok(Ok(((by_status, overdue, jobs), federal_overdue))) = counts {
        out.push_str("# HELP rtms_federal_undelivered_overdue Escalations not delivered to the federal level past the alarm time.\n# TYPE rtms_federal_undelivered_overdue gauge\n");
        out.push_str(&format!(
            "rtms_federal_undelivered_overdue {federal_overdue}\n"
        ));
        out.push_str("# HELP rtms_jobs_pending Background jobs not done yet (the queue's depth).\n# TYPE rtms_jobs_pending gauge\n");
        out.push_str(&format!("rtms_jobs_pending {jobs}\n"));
        out.push_str("# HELP rtms_consultations Consultation requests by state.\n# TYPE rtms_consultations gauge\n");
        for (status, n) in by_status {
            out.push_str(&format!("rtms_consultations{{status=\"{status}\"}} {n}\n"));
        }
        out.push_str("# HELP rtms_consultations_overdue Open requests past their deadline.\n# TYPE rtms_consultations_overdue gauge\n");
        out.push_str(&format!("rtms_consultations_overdue {overdue}\n"));
        out.push_str("# HELP rtms_database_up Whether the database answered this scrape.\n# TYPE rtms_database_up gauge\nrtms_database_up 1\n");
    } else {
        out.push_str("# TYPE rtms_database_up gauge\nrtms_database_up 0\n");
    }
    state.metrics.render(&mut out);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
        .into_response()
}
