//! The HL7 FHIR R4 interface at `/fhir/r4` (`application/fhir+json`): what a
//! hospital information system (МИС) or another instance reads and sends.
//! Resources are built in `rtms_service::exchange::fhir`; here are the routes, the
//! token scope check, searches, and errors as OperationOutcome.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Utc};
use rtms_domain::{Lang, Status};
use rtms_service::exchange::fhir as f;
use rtms_service::lifecycle::consultations::ListQuery;
use rtms_service::ServiceError;
use serde_json::{json, Value};

use crate::api::Caller;
use crate::error::AppError;
use crate::{blocking, AppState};

const FHIR_JSON: &str = "application/fhir+json; charset=utf-8";

/// Every FHIR route: (method, path). The access test walks them all.
pub const FHIR_ROUTES: &[(&str, &str)] = &[
    ("GET", "/fhir/r4/metadata"),
    ("POST", "/fhir/r4"),
    ("GET", "/fhir/r4/Patient/{id}"),
    ("GET", "/fhir/r4/ServiceRequest"),
    ("GET", "/fhir/r4/ServiceRequest/{id}"),
    ("GET", "/fhir/r4/Task"),
    ("GET", "/fhir/r4/Task/{id}"),
    ("GET", "/fhir/r4/DiagnosticReport/{id}"),
    ("POST", "/fhir/r4/Subscription"),
    ("GET", "/fhir/r4/Subscription/{id}"),
    ("DELETE", "/fhir/r4/Subscription/{id}"),
    ("GET", "/fhir/r4/Practitioner/{id}"),
    ("GET", "/fhir/r4/Organization/{id}"),
    ("GET", "/fhir/r4/Communication"),
    ("GET", "/fhir/r4/Communication/{id}"),
    ("GET", "/fhir/r4/DocumentReference"),
    ("GET", "/fhir/r4/DocumentReference/{id}"),
    ("GET", "/fhir/r4/Binary/{id}"),
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/fhir/r4/metadata", get(metadata))
        .route("/fhir/r4", post(transaction))
        .route("/fhir/r4/Patient/{id}", get(read_patient))
        .route("/fhir/r4/ServiceRequest", get(search_requests))
        .route("/fhir/r4/ServiceRequest/{id}", get(read_request))
        .route("/fhir/r4/Task", get(search_tasks))
        .route("/fhir/r4/Task/{id}", get(read_task))
        .route("/fhir/r4/DiagnosticReport/{id}", get(read_report))
        .route("/fhir/r4/Subscription", post(subscribe))
        .route(
            "/fhir/r4/Subscription/{id}",
            get(read_subscription).delete(delete_subscription),
        )
        .route("/fhir/r4/Practitioner/{id}", get(read_practitioner))
        .route("/fhir/r4/Organization/{id}", get(read_organization))
        .route("/fhir/r4/Communication", get(search_communications))
        .route("/fhir/r4/Communication/{id}", get(read_communication))
        .route("/fhir/r4/DocumentReference", get(search_documents))
        .route("/fhir/r4/DocumentReference/{id}", get(read_document))
        .route("/fhir/r4/Binary/{id}", get(read_binary))
}

fn fhir(status: StatusCode, mut body: Value) -> Response {
    f::prune(&mut body);
    (
        status,
        [(header::CONTENT_TYPE, FHIR_JSON)],
        body.to_string(),
    )
        .into_response()
}

/// Any error of ours as an OperationOutcome, with the same status and words.
async fn outcome(e: AppError) -> Response {
    let resp = e.into_response();
    let status = resp.status();
    let body = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap_or_default();
    let problem: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let code = match status {
        StatusCode::UNAUTHORIZED => "login",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not-found",
        StatusCode::CONFLICT => "conflict",
        StatusCode::PAYLOAD_TOO_LARGE => "too-long",
        s if s.is_server_error() => "exception",
        _ => "invalid",
    };
    let mut issues: Vec<Value> = problem["errors"]
        .as_array()
        .map(|l| {
            l.iter()
                .map(|e| {
                    json!({
                        "severity": "error",
                        "code": code,
                        "diagnostics": e["message"].as_str().unwrap_or_default(),
                        "expression": [e["field"].as_str().unwrap_or_default()],
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    if issues.is_empty() {
        let text = problem["title"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_string());
        issues.push(json!({"severity": "error", "code": code, "diagnostics": text}));
    }
    fhir(
        status,
        json!({"resourceType": "OperationOutcome", "issue": issues}),
    )
}

/// The address resources name each other by: `--public-url`, else the Host.
fn base(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(u) = &state.svc.public_url {
        return u.trim_end_matches('/').to_string();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let scheme = if state.https { "https" } else { "http" };
    format!("{scheme}://{host}")
}

/// A caller whose token carries the `fhir` scope (sign-ins carry every scope).
async fn fhir_caller(
    state: &AppState,
    caller: Result<Caller, AppError>,
) -> Result<Caller, Response> {
    let caller = match caller {
        Ok(c) => c,
        Err(e) => return Err(outcome(e).await),
    };
    if !caller.actor.may("fhir") {
        let lang = caller.lang;
        let _ = state;
        return Err(fhir(
            StatusCode::FORBIDDEN,
            f::outcome(
                "error",
                "forbidden",
                &rtms_i18n::refusal("fhir_scope", lang),
            ),
        ));
    }
    Ok(caller)
}

async fn metadata(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let now = state.svc.clock.now();
    fhir(
        StatusCode::OK,
        f::capability_statement(&base(&state, &headers), env!("CARGO_PKG_VERSION"), now),
    )
}

/// Reads one request's resources; `pick` chooses which.
async fn read_one(
    state: AppState,
    caller: Result<Caller, AppError>,
    id: String,
    pick: fn(
        &str,
        &rtms_service::lifecycle::views::ConsultationView,
        Option<&rtms_service::lifecycle::views::ConclusionView>,
        Option<&str>,
    ) -> Option<Value>,
    headers: HeaderMap,
) -> Response {
    let b = base(&state, &headers);
    one(state, caller, id, move |svc, actor, num| {
        let (v, k, profile) = svc.fhir_views(&actor, num)?;
        pick(&b, &v, k.as_ref(), profile.as_deref()).ok_or(ServiceError::NotFound)
    })
    .await
}

async fn read_request(
    State(state): State<AppState>,
    caller: Result<Caller, AppError>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    read_one(
        state,
        caller,
        id,
        |_, v, _, p| Some(f::service_request(v, p)),
        headers,
    )
    .await
}

async fn read_task(
    State(state): State<AppState>,
    caller: Result<Caller, AppError>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    read_one(state, caller, id, |_, v, k, _| Some(f::task(v, k)), headers).await
}

async fn read_report(
    State(state): State<AppState>,
    caller: Result<Caller, AppError>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    read_one(
        state,
        caller,
        id,
        |b, v, k, _| k.map(|k| f::diagnostic_report(v, k, b)),
        headers,
    )
    .await
}

/// `Patient/req-N` is request N's patient; `Patient/snils-D` the person with
/// that СНИЛС in any request the caller may read.
async fn read_patient(
    State(state): State<AppState>,
    caller: Result<Caller, AppError>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(n) = id.strip_prefix("req-") {
        return read_one(
            state,
            caller,
            n.to_string(),
            |_, v, _, _| Some(f::patient(v)),
            headers,
        )
        .await;
    }
    let caller = match fhir_caller(&state, caller).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let lang = caller.lang;
    let Some(digits) = id.strip_prefix("snils-").filter(|d| d.len() == 11) else {
        return outcome(AppError::from(ServiceError::NotFound).in_lang(lang)).await;
    };
    let digits = digits.to_string();
    let svc = state.svc.clone();
    let actor = caller.actor;
    let found = blocking(move || {
        let page = svc.list_consultations(
            &actor,
            &ListQuery {
                q: Some(digits.clone()),
                per_page: Some(1),
                ..Default::default()
            },
            Lang::Ru,
        )?;
        match page.items.first() {
            Some(s) => Ok(Some(svc.fhir_views(&actor, s.id)?.0)),
            None => Ok(None),
        }
    })
    .await;
    match found {
        Ok(Some(v)) => fhir(StatusCode::OK, f::patient(&v)),
        Ok(None) => outcome(AppError::from(ServiceError::NotFound).in_lang(lang)).await,
        Err(e) => outcome(e.in_lang(lang)).await,
    }
}

/// Our states that a FHIR Task.status (or ServiceRequest.status) stands for.
fn statuses_for(fhir_status: &str, task: bool) -> Vec<Status> {
    rtms_domain::lifecycle::reachable_states()
        .into_iter()
        .filter(|s| {
            let mapped = if task {
                f::task_status(*s)
            } else {
                f::request_status(*s)
            };
            mapped == fhir_status
        })
        .collect()
}

/// `_lastUpdated=gt2026-01-01T00:00:00Z` (and ge, lt, le, eq or none).
fn date_filter(param: &str) -> Option<(String, DateTime<Utc>)> {
    let (op, rest) = match param.get(..2) {
        Some(p @ ("gt" | "ge" | "lt" | "le" | "eq")) => (p.to_string(), &param[2..]),
        _ => ("eq".to_string(), param),
    };
    let t = DateTime::parse_from_rfc3339(rest)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            chrono::NaiveDate::parse_from_str(rest, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|d| d.and_utc())
        })?;
    Some((op, t))
}

/// Searches the requests the caller may see; `build` makes each resource.
async fn search(
    state: AppState,
    caller: Result<Caller, AppError>,
    params: BTreeMap<String, String>,
    task: bool,
    headers: HeaderMap,
) -> Response {
    let caller = match fhir_caller(&state, caller).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let lang = caller.lang;
    let known = [
        "status",
        "owner",
        "_lastUpdated",
        "_count",
        "_offset",
        "patient",
    ];
    if let Some(bad) = params.keys().find(|k| !known.contains(&k.as_str())) {
        let text = rtms_i18n::tr_args(
            lang,
            "fhir-search-unsupported",
            &[("param", bad.clone().into())],
        );
        return fhir(
            StatusCode::BAD_REQUEST,
            f::outcome("error", "not-supported", &text),
        );
    }
    let statuses: Option<Vec<Status>> = params.get("status").map(|s| {
        s.split(',')
            .flat_map(|x| statuses_for(x.trim(), task))
            .collect()
    });
    let mut extra = rtms_store::repo::FhirSearch::default();
    match params.get("_lastUpdated").map(|p| date_filter(p)) {
        Some(None) => {
            return fhir(
                StatusCode::BAD_REQUEST,
                f::outcome("error", "invalid", "_lastUpdated: gtYYYY-MM-DDThh:mm:ssZ"),
            )
        }
        Some(Some((op, t))) => extra.updated = Some((op, t.naive_utc())),
        None => {}
    }
    let count = params
        .get("_count")
        .and_then(|c| c.parse::<i64>().ok())
        .unwrap_or(50)
        .clamp(1, 200);
    let offset = params
        .get("_offset")
        .and_then(|c| c.parse::<i64>().ok())
        .unwrap_or(0)
        .max(0);
    let mut patient = params.get("patient").map(|p| {
        p.trim_start_matches("Patient/")
            .trim_start_matches("snils-")
            .to_string()
    });
    if let Some(id) = patient.as_deref().and_then(|p| p.strip_prefix("req-")) {
        // A patient without a СНИЛС is named by the request.
        extra.id = Some(id.parse().unwrap_or(-1));
        patient = None;
    }
    if let Some(o) = params.get("owner") {
        let id = |p: &str| o.strip_prefix(p).map(|x| x.parse::<i64>().unwrap_or(-1));
        match (id("Practitioner/"), id("Organization/")) {
            (Some(p), _) => extra.practitioner = Some(p),
            (_, Some(org)) => extra.organization = Some(org),
            _ => extra.id = Some(-1),
        }
    }
    let svc = state.svc.clone();
    let actor = caller.actor;
    let b = base(&state, &headers);
    let found = blocking(move || {
        if statuses.as_ref().is_some_and(|l| l.is_empty()) {
            return Ok((Vec::new(), 0));
        }
        let (ids, total) = svc.fhir_search_ids(
            &actor,
            statuses.as_deref().unwrap_or(&[]),
            patient.as_deref(),
            &extra,
            offset,
            count,
        )?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let (v, k, profile) = svc.fhir_views(&actor, id)?;
            out.push(if task {
                f::task(&v, k.as_ref())
            } else {
                f::service_request(&v, profile.as_deref())
            });
        }
        Ok((out, total))
    })
    .await;
    match found {
        Ok((list, total)) => {
            let shown = list.len() as i64;
            let mut bundle = f::searchset(list, total, &b);
            // Paging links: this page, and the next while there is one.
            let kind = if task { "Task" } else { "ServiceRequest" };
            let page_url = |off: i64| {
                let mut q: Vec<(String, String)> = params
                    .iter()
                    .filter(|(k, _)| k.as_str() != "_offset" && k.as_str() != "_count")
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                q.push(("_count".into(), count.to_string()));
                q.push(("_offset".into(), off.to_string()));
                format!(
                    "{}/fhir/r4/{kind}?{}",
                    b.trim_end_matches('/'),
                    serde_urlencoded::to_string(&q).unwrap_or_default()
                )
            };
            let mut links = vec![json!({"relation": "self", "url": page_url(offset)})];
            if offset + shown < total && shown > 0 {
                links.push(json!({"relation": "next", "url": page_url(offset + shown)}));
            }
            bundle["link"] = json!(links);
            fhir(StatusCode::OK, bundle)
        }
        Err(e) => outcome(e.in_lang(lang)).await,
    }
}

async fn search_tasks(
    State(state): State<AppState>,
    caller: Result<Caller, AppError>,
    Query(params): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    search(state, caller, params, true, headers).await
}

async fn search_requests(
    State(state): State<AppState>,
    caller: Result<Caller, AppError>,
    Query(params): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    search(state, caller, params, false, headers).await
}

/// A FHIR caller and the body they posted, read up to `FHIR_MAX_BYTES`; an
/// OperationOutcome (401/403, or 413 naming the limit) otherwise.
async fn fhir_body(
    state: &AppState,
    caller: Result<Caller, AppError>,
    headers: &HeaderMap,
    body: axum::body::Body,
) -> Result<(Caller, axum::body::Bytes), Response> {
    let caller = fhir_caller(state, caller).await?;
    match crate::limits::read_body(headers, body, crate::limits::FHIR_MAX_BYTES, "fhir").await {
        Ok(b) => Ok((caller, b)),
        Err(e) => Err(outcome(AppError::from(e).in_lang(caller.lang)).await),
    }
}

/// A transaction Bundle from a МИС: one request with its patient and files.
async fn transaction(
    State(state): State<AppState>,
    caller: Result<Caller, AppError>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    let (caller, body) = match fhir_body(&state, caller, &headers, body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let lang = caller.lang;
    let Ok(bundle) = serde_json::from_slice::<Value>(&body) else {
        let text = rtms_i18n::tr(lang, "fhir-body-not-json");
        return fhir(
            StatusCode::BAD_REQUEST,
            f::outcome("error", "structure", &text),
        );
    };
    let (id, created) = match state.svc.fhir_create(&caller.actor, &bundle).await {
        Ok(x) => x,
        Err(e) => return outcome(AppError::from(e).in_lang(lang)).await,
    };
    let svc = state.svc.clone();
    let actor = caller.actor;
    let views = blocking(move || svc.fhir_views(&actor, id)).await;
    let (v, k, _) = match views {
        Ok(x) => x,
        Err(e) => return outcome(e.in_lang(lang)).await,
    };
    let b = base(&state, &headers);
    let status = if created { "201 Created" } else { "200 OK" };
    let entry = |r: Value| {
        let t = r["resourceType"].as_str().unwrap_or("").to_string();
        let rid = r["id"].as_str().unwrap_or("").to_string();
        json!({
            "fullUrl": format!("{b}/fhir/r4/{t}/{rid}"),
            "resource": r,
            "response": {"status": status, "location": format!("{t}/{rid}")},
        })
    };
    fhir(
        StatusCode::OK,
        json!({
            "resourceType": "Bundle",
            "type": "transaction-response",
            "entry": [entry(f::patient(&v)), entry(f::service_request(&v, None)), entry(f::task(&v, k.as_ref()))],
        }),
    )
}

/// Registers a rest-hook Subscription; answers 201 with the resource.
async fn subscribe(
    State(state): State<AppState>,
    caller: Result<Caller, AppError>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    let (caller, body) = match fhir_body(&state, caller, &headers, body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let lang = caller.lang;
    let resource: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let svc = state.svc.clone();
    let actor = caller.actor;
    let made = blocking(move || {
        let id = svc.fhir_subscribe(&actor, &resource)?;
        svc.fhir_subscription(&actor, id)
    })
    .await;
    match made {
        Ok(r) => {
            let mut resp = fhir(StatusCode::CREATED, r.clone());
            if let Ok(loc) = format!("Subscription/{}", r["id"].as_str().unwrap_or("")).parse() {
                resp.headers_mut().insert(header::LOCATION, loc);
            }
            resp
        }
        Err(e) => outcome(e.in_lang(lang)).await,
    }
}

async fn read_subscription(
    State(state): State<AppState>,
    caller: Result<Caller, AppError>,
    Path(id): Path<String>,
) -> Response {
    let caller = match fhir_caller(&state, caller).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let lang = caller.lang;
    let Ok(num) = id.parse::<i64>() else {
        return outcome(AppError::from(ServiceError::NotFound).in_lang(lang)).await;
    };
    let svc = state.svc.clone();
    let actor = caller.actor;
    match blocking(move || svc.fhir_subscription(&actor, num)).await {
        Ok(r) => fhir(StatusCode::OK, r),
        Err(e) => outcome(e.in_lang(lang)).await,
    }
}

/// Deletes a subscription of the caller's (anyone else's is "not found"):
/// 204 No Content, and nothing is sent to its endpoint any more.
async fn delete_subscription(
    State(state): State<AppState>,
    caller: Result<Caller, AppError>,
    Path(id): Path<String>,
) -> Response {
    let caller = match fhir_caller(&state, caller).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let lang = caller.lang;
    let Ok(num) = id.parse::<i64>() else {
        return outcome(AppError::from(ServiceError::NotFound).in_lang(lang)).await;
    };
    let svc = state.svc.clone();
    let actor = caller.actor;
    match blocking(move || svc.fhir_unsubscribe(&actor, num)).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => outcome(e.in_lang(lang)).await,
    }
}

/// Runs `f` for a FHIR caller and answers with its resource.
async fn one(
    state: AppState,
    caller: Result<Caller, AppError>,
    id: String,
    f: impl FnOnce(rtms_service::Services, rtms_service::Actor, i64) -> Result<Value, ServiceError>
        + Send
        + 'static,
) -> Response {
    let caller = match fhir_caller(&state, caller).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let lang = caller.lang;
    let Ok(num) = id.parse::<i64>() else {
        return outcome(AppError::from(ServiceError::NotFound).in_lang(lang)).await;
    };
    let svc = state.svc.clone();
    let actor = caller.actor;
    match blocking(move || f(svc, actor, num)).await {
        Ok(r) => fhir(StatusCode::OK, r),
        Err(e) => outcome(e.in_lang(lang)).await,
    }
}

async fn read_practitioner(
    State(state): State<AppState>,
    caller: Result<Caller, AppError>,
    Path(id): Path<String>,
) -> Response {
    one(state, caller, id, |svc, a, n| svc.fhir_practitioner(&a, n)).await
}

async fn read_organization(
    State(state): State<AppState>,
    caller: Result<Caller, AppError>,
    Path(id): Path<String>,
) -> Response {
    one(state, caller, id, |svc, a, n| svc.fhir_organization(&a, n)).await
}

async fn read_communication(
    State(state): State<AppState>,
    caller: Result<Caller, AppError>,
    Path(id): Path<String>,
) -> Response {
    one(state, caller, id, |svc, a, n| {
        let c = svc.fhir_owner_of("Communication", n)?;
        svc.fhir_communications(&a, c)?
            .into_iter()
            .find(|r| r["id"] == n.to_string().as_str())
            .ok_or(ServiceError::NotFound)
    })
    .await
}

async fn read_document(
    State(state): State<AppState>,
    caller: Result<Caller, AppError>,
    Path(id): Path<String>,
) -> Response {
    one(state, caller, id, |svc, a, n| {
        let c = svc.fhir_owner_of("DocumentReference", n)?;
        svc.fhir_documents(&a, c)?
            .into_iter()
            .find(|r| r["id"] == n.to_string().as_str())
            .ok_or(ServiceError::NotFound)
    })
    .await
}

/// `Communication?based-on=ServiceRequest/N` and `DocumentReference?related=ServiceRequest/N`.
async fn by_request(
    state: AppState,
    caller: Result<Caller, AppError>,
    params: BTreeMap<String, String>,
    param: &'static str,
    headers: HeaderMap,
    list: fn(
        &rtms_service::Services,
        &rtms_service::Actor,
        i64,
    ) -> Result<Vec<Value>, ServiceError>,
) -> Response {
    let caller = match fhir_caller(&state, caller).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let lang = caller.lang;
    let Some(id) = params
        .get(param)
        .and_then(|r| r.trim_start_matches("ServiceRequest/").parse::<i64>().ok())
    else {
        let text = rtms_i18n::tr_args(
            lang,
            "fhir-search-by-request",
            &[("param", param.to_string().into())],
        );
        return fhir(
            StatusCode::BAD_REQUEST,
            f::outcome("error", "not-supported", &text),
        );
    };
    let svc = state.svc.clone();
    let actor = caller.actor;
    let b = base(&state, &headers);
    match blocking(move || list(&svc, &actor, id)).await {
        Ok(l) => {
            let n = l.len() as i64;
            fhir(StatusCode::OK, f::searchset(l, n, &b))
        }
        Err(e) => outcome(e.in_lang(lang)).await,
    }
}

async fn search_communications(
    State(state): State<AppState>,
    caller: Result<Caller, AppError>,
    Query(params): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    by_request(state, caller, params, "based-on", headers, |s, a, id| {
        s.fhir_communications(a, id)
    })
    .await
}

async fn search_documents(
    State(state): State<AppState>,
    caller: Result<Caller, AppError>,
    Query(params): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    by_request(state, caller, params, "related", headers, |s, a, id| {
        s.fhir_documents(a, id)
    })
    .await
}

/// A file's bytes, with its own content type (the read is audited).
async fn read_binary(
    State(state): State<AppState>,
    caller: Result<Caller, AppError>,
    Path(id): Path<String>,
) -> Response {
    let caller = match fhir_caller(&state, caller).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let lang = caller.lang;
    let Ok(num) = id.parse::<i64>() else {
        return outcome(AppError::from(ServiceError::NotFound).in_lang(lang)).await;
    };
    let svc = state.svc.clone();
    let actor = caller.actor;
    let a = match blocking(move || svc.attachment_for_reading(&actor, num)).await {
        Ok(a) => a,
        Err(e) => return outcome(e.in_lang(lang)).await,
    };
    match state.svc.files.open(&a.storage_key, None).await {
        Ok((_, stream)) => (
            [
                (header::CONTENT_TYPE, a.content_type.clone()),
                (header::CACHE_CONTROL, "no-store".to_string()),
                (
                    header::CONTENT_SECURITY_POLICY,
                    crate::api::files::DOWNLOAD_CSP.to_string(),
                ),
            ],
            [(
                header::CONTENT_DISPOSITION,
                crate::api::files::disposition("attachment", &a.file_name),
            )],
            axum::body::Body::from_stream(stream),
        )
            .into_response(),
        Err(e) => outcome(AppError::Internal(format!("file {}: {e}", a.storage_key))).await,
    }
}
