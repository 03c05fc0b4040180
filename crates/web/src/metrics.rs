//! Prometheus metrics at `/metrics`: request counts and latency by route (from
//! a middleware), open requests by state and the overdue count (from the
//! database at scrape time). Counts only, no personal data; served to
//! loopback and the configured proxies only.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
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

pub async fn scrape(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
) -> Response {
    if !(peer.ip().is_loopback() || state.trusted_proxies.contains(&peer.ip())) {
        return StatusCode::FORBIDDEN.into_response();
    }
    let svc = state.svc.clone();
    let counts = tokio::task::spawn_blocking(move || {
        let now = svc.clock.now().naive_utc();
        svc.db.read(|c| {
            Ok((
                rtms_store::repo::count_by_status(c)?,
                rtms_store::repo::count_overdue(c, now)?,
                rtms_store::jobs::pending(c)?,
            ))
        })
    })
    .await;
    let mut out = String::new();
    if let Ok(Ok((by_status, overdue, jobs))) = counts {
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
