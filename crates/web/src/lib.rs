//! HTTP for РТМС: the REST API (with its OpenAPI document) and health probes.

pub mod api;
pub mod browser_report;
pub mod error;
pub mod fhir;
pub mod limits;
pub mod metrics;
pub mod report_export;
pub mod session;
pub mod ui;

use std::net::SocketAddr;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use rtms_service::Services;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

#[derive(Clone)]
pub struct AppState {
    pub svc: Services,
    /// Reverse proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: std::sync::Arc<Vec<std::net::IpAddr>>,
    /// Served over HTTPS: cookies get the `Secure` attribute.
    pub https: bool,
    pub metrics: std::sync::Arc<metrics::Metrics>,
    /// The video rooms' signaling on this instance.
    pub video: std::sync::Arc<ui::video_pages::SignalHub>,
    /// Posts per client address to the public routes (`limits::RATE_LIMITED_PATHS`).
    pub public_posts: std::sync::Arc<limits::RateLimiter>,
    /// Browser reports per client address (`browser_report`).
    pub browser_reports: std::sync::Arc<limits::RateLimiter>,
}

/// Where a request comes from: the peer, or behind a trusted proxy the last
/// address the proxies did not add themselves.
pub fn client_of(
    parts: &axum::http::request::Parts,
    state: &AppState,
) -> rtms_service::access::sessions::Client {
    let peer = parts
        .extensions
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let mut ip = peer;
    if let Some(p) = peer {
        if state.trusted_proxies.contains(&p) {
            let forwarded = parts
                .headers
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let hops: Vec<std::net::IpAddr> = forwarded
                .split(',')
                .filter_map(|h| h.trim().parse().ok())
                .collect();
            if let Some(real) = hops
                .iter()
                .rev()
                .find(|h| !state.trusted_proxies.contains(h))
            {
                ip = Some(*real);
            }
        }
    }
    rtms_service::access::sessions::Client {
        ip: ip.map(|i| i.to_string()).unwrap_or_default(),
        user_agent: parts
            .headers
            .get(axum::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .chars()
            .take(200)
            .collect(),
    }
}

/// A file to save (CSV, XLSX, PDF): its type and the name it is saved under.
pub(crate) fn download(body: Vec<u8>, content_type: &str, file: &str) -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        [
            (axum::http::header::CONTENT_TYPE, content_type.to_string()),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// Runs blocking database work off the async runtime.
pub async fn blocking<T, F>(f: F) -> Result<T, error::AppError>
where
    F: FnOnce() -> Result<T, rtms_service::ServiceError> + Send + 'static,
    T: Send + 'static,
{
    match tokio::task::spawn_blocking(f).await {
        Ok(result) => result.map_err(error::AppError::from),
        Err(e) => Err(error::AppError::Internal(format!("task failed: {e}"))),
    }
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    let db = state.svc.db.clone();
    match tokio::task::spawn_blocking(move || db.ping()).await {
        Ok(true) => (StatusCode::OK, "ready"),
        _ => (StatusCode::SERVICE_UNAVAILABLE, "database unavailable"),
    }
}

pub fn router(svc: Services, trusted_proxies: Vec<std::net::IpAddr>, https: bool) -> Router {
    // Instances on one PostgreSQL pass live updates and room signaling to each other.
    svc.live.connect_cluster(&svc.db);
    let state = AppState {
        svc,
        trusted_proxies: std::sync::Arc::new(trusted_proxies),
        https,
        metrics: Default::default(),
        video: Default::default(),
        public_posts: Default::default(),
        browser_reports: std::sync::Arc::new(limits::RateLimiter::new(
            browser_report::BURST,
            browser_report::PER_MINUTE,
        )),
    };
    let (api, openapi) = api::router().split_for_parts();
    let openapi = std::sync::Arc::new(api::contract(&openapi));
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route(
            "/api/openapi.json",
            get(move || {
                let doc = openapi.clone();
                async move { axum::Json((*doc).clone()) }
            }),
        )
        .route("/metrics", get(metrics::scrape))
        .route(
            "/browser-report",
            axum::routing::post(browser_report::receive),
        )
        // Explicit body limits (docs/DEPLOYMENT.md, "Body limits"): the REST
        // API's JSON; FHIR reads its own (`limits::read_body`), `/verify` has
        // its own, tus streams.
        .merge(api.layer(axum::extract::DefaultBodyLimit::max(
            limits::API_JSON_MAX_BYTES,
        )))
        .merge(ui::router())
        .merge(fhir::router())
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .with_state(state.clone())
        .layer(axum::middleware::from_fn_with_state(
            state,
            public_post_limit,
        ))
        .layer(axum::middleware::from_fn(ui::headers::csrf_guard))
        .layer(axum::middleware::from_fn(ui::headers::security_headers))
        .layer(axum::middleware::from_fn_with_state(
            https,
            transport_headers,
        ))
        .layer(CatchPanicLayer::new())
        .layer(TraceLayer::new_for_http())
}

/// `Strict-Transport-Security` when this process serves HTTPS itself: a year.
/// (Behind a proxy that ends TLS, the proxy sends it; see docs/SECURITY.md.)
pub const HSTS: &str = "max-age=31536000";

/// Headers about transport and caching on every answer: HSTS over TLS, and
/// `Cache-Control: no-store` on everything but the static assets, so no page
/// or API answer (they carry patient data) is kept by a browser or a proxy.
async fn transport_headers(
    State(https): State<bool>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::{header, HeaderValue};
    let cacheable = req.uri().path().starts_with("/static/");
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    if https {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    }
    if !cacheable {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

/// Limits posts to the public routes (`limits::RATE_LIMITED_PATHS`) per client
/// address, before their bodies are read: 429 with `Retry-After`.
async fn public_post_limit(
    State(state): State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::{header, HeaderValue, Method};
    use axum::response::IntoResponse;
    if req.method() != Method::POST || !limits::RATE_LIMITED_PATHS.contains(&req.uri().path()) {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let client = client_of(&parts, &state);
    match state.public_posts.take(&client.ip) {
        Ok(()) => {
            next.run(axum::extract::Request::from_parts(parts, body))
                .await
        }
        Err(wait) => {
            let secs = (wait.as_secs_f64().ceil() as u64).max(1);
            let lang = session::request_lang(&parts.headers);
            tracing::info!(client = %client.ip, path = parts.uri.path(), "public posts limited");
            let text = ui::i18n::tr_args(
                lang,
                "rate-limited",
                &[(
                    "seconds",
                    fluent_templates::fluent_bundle::FluentValue::from(secs),
                )],
            );
            let mut r = if parts.uri.path().starts_with("/api/") {
                error::problem(StatusCode::TOO_MANY_REQUESTS, "rate-limited", text)
            } else {
                (StatusCode::TOO_MANY_REQUESTS, text).into_response()
            };
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
            r
        }
    }
}

/// Serves until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    svc: Services,
    trusted_proxies: Vec<std::net::IpAddr>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(svc, trusted_proxies, false);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// Serves HTTPS with rustls until `shutdown` resolves. The certificate and key
/// are PEM files; HTTP/1.1 and HTTP/2 as the client prefers.
pub async fn serve_tls(
    listener: tokio::net::TcpListener,
    svc: Services,
    trusted_proxies: Vec<std::net::IpAddr>,
    cert: &std::path::Path,
    key: &std::path::Path,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // One process-wide crypto provider; a second install is harmless.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let config = axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key).await?;
    let app = router(svc, trusted_proxies, true);
    let handle = axum_server::Handle::new();
    let stopper = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        stopper.graceful_shutdown(Some(std::time::Duration::from_secs(10)));
    });
    axum_server::from_tcp_rustls(listener.into_std()?, config)
        .handle(handle)
        .serve(app.into_make_service_with_connect_info::<SocketAddr>())
        .await
}
