//! Limits of what unauthenticated callers may send: the size of a PDF to
//! verify, and how often one address may post to the public routes.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The largest PDF `/verify` and `/api/v1/verify` take: 20 MiB. A conclusion
/// the system issues is well under 1 MiB; the cap is enforced while the body
/// streams in, so no more than this is ever held for one request.
pub const VERIFY_MAX_BYTES: usize = 20 << 20;

/// What a multipart form may add around the file (boundaries, headers).
pub const FORM_OVERHEAD_BYTES: usize = 64 << 10;

/// The routes anyone may post to without signing in that are limited per
/// client address here (sign-in has its own limits in the session service).
pub const RATE_LIMITED_PATHS: &[&str] = &["/verify", "/api/v1/verify"];

/// Posts one address may make to those routes at once…
pub const PUBLIC_POST_BURST: u32 = 10;

/// …and how many more it earns per minute after that.
pub const PUBLIC_POST_PER_MINUTE: u32 = 10;

/// Addresses remembered at most; past it, addresses whose bucket has filled
/// up again are forgotten (they would start full anyway).
pub const RATE_TABLE_MAX: usize = 100_000;

/// A token bucket per client address, in this process. Behind a balancer
/// each instance counts its own share: the limit is per instance.
pub struct RateLimiter {
    burst: f64,
    per_second: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Default for RateLimiter {
    fn default() -> Self {
        RateLimiter::new(PUBLIC_POST_BURST, PUBLIC_POST_PER_MINUTE)
    }
}

impl RateLimiter {
    pub fn new(burst: u32, per_minute: u32) -> RateLimiter {
        RateLimiter {
            burst: f64::from(burst.max(1)),
            per_second: f64::from(per_minute.max(1)) / 60.0,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `key`; when there is none, how long until there is.
    pub fn take(&self, key: &str) -> Result<(), Duration> {
        self.take_at(key, Instant::now())
    }

    fn take_at(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() >= RATE_TABLE_MAX && !buckets.contains_key(key) {
            let full_after = Duration::from_secs_f64(self.burst / self.per_second);
            buckets.retain(|_, b| now.duration_since(b.at) < full_after);
        }
        let b = buckets.entry(key.to_string()).or_insert(Bucket {
            tokens: self.burst,
            at: now,
        });
        let earned = now.duration_since(b.at).as_secs_f64() * self.per_second;
        b.tokens = (b.tokens + earned).min(self.burst);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - b.tokens) / self.per_second))
        }
    }
}

/// The largest report a browser may send to `/browser-report` (a CSP
/// violation or a page's script error): 8 KiB. Real ones are under 2 KiB.
pub const BROWSER_REPORT_MAX_BYTES: usize = 8 << 10;

/// The largest FHIR resource or transaction Bundle `/fhir/r4` takes: 1 MiB.
/// A Bundle without file bytes (patient, request, practitioner and
/// DocumentReferences announcing files by hash and size) is a few KiB; files
/// travel by tus (`/api/v1/uploads`), never inside a Bundle, except small
/// ones a МИС may still inline within this limit (docs/adr/0002).
pub const FHIR_MAX_BYTES: usize = 1 << 20;

/// The largest JSON body of the REST API (`/api/v1`, a request's form, a
/// conclusion, a CSV import): 2 MiB. Files go by tus, which takes any size
/// up to the upload limit in pieces it streams to disk.
pub const API_JSON_MAX_BYTES: usize = 2 << 20;

/// "The body is over N MiB" in the caller's language; `what` names the body
/// (`fhir`, `api`, `verify`).
pub fn too_large_text(lang: rtms_domain::Lang, what: &str, limit: u64) -> String {
    let mib = limit.div_ceil(1 << 20);
    let key = if what == "fhir" {
        "problem-fhir-body-too-large"
    } else {
        "problem-body-too-large"
    };
    rtms_i18n::tr_args(lang, key, &[("mib", mib.into())])
}

/// Reads a body of at most `limit` bytes: refused on the announced length
/// before a byte is read, or as soon as the stream passes the limit.
pub async fn read_body(
    headers: &axum::http::HeaderMap,
    body: axum::body::Body,
    limit: usize,
    what: &'static str,
) -> Result<axum::body::Bytes, rtms_service::ServiceError> {
    let too_large = rtms_service::ServiceError::BodyTooLarge {
        what,
        limit: limit as u64,
    };
    let announced = headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if announced.is_some_and(|n| n > limit as u64) {
        return Err(too_large);
    }
    axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| too_large)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_the_rate() {
        let l = RateLimiter::new(3, 60);
        let t = Instant::now();
        for _ in 0..3 {
            assert!(l.take_at("a", t).is_ok());
        }
        let wait = l.take_at("a", t).unwrap_err();
        assert!(wait <= Duration::from_secs(1), "{wait:?}");
        // Another address has its own bucket.
        assert!(l.take_at("b", t).is_ok());
        // A second later one more is earned.
        assert!(l.take_at("a", t + Duration::from_secs(1)).is_ok());
        assert!(l.take_at("a", t + Duration::from_secs(1)).is_err());
    }
}
