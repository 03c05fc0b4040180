//! REST API v1. Every route is declared with `utoipa::path` and collected by
//! `OpenApiRouter`, so `/api/openapi.json` always lists exactly what is served.

/// Runs a service call for the caller on the blocking pool; its errors
/// answer in the caller's language.
macro_rules! call {
    ($state:expr, $caller:expr, |$svc:ident, $actor:ident| $body:expr) => {{
        let $svc = $state.svc.clone();
        let lang = $caller.lang;
        let $actor = $caller.actor;
        blocking(move || $body).await.map_err(|e| e.in_lang(lang))
    }};
}

mod actions;
pub(crate) mod admin;
mod consultations;
mod documents;
mod duty;
pub(crate) mod files;
mod notifications;
mod reference;
mod reports;
mod rules;
mod video;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::Json;
use rtms_domain::Lang;
use rtms_service::lifecycle::views::UserView;
use rtms_service::Actor;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{AppError, Problem};
use crate::{blocking, AppState};

#[derive(OpenApi)]
#[openapi(
    info(title = "РТМС API", version = "1.6.0", description = "Regional telemedicine system: consultation requests, their lifecycle, reference data. Errors are application/problem+json (RFC 9457); messages follow Accept-Language (ru by default, en). Text must not contain NUL (U+0000): such a request is a 422. Versions and breaking changes: docs/API.md, «Versions»."),
    modifiers(&BearerAuth),
    components(schemas(Problem))
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(login))
        .routes(routes!(me))
        .merge(consultations::router())
        .merge(reference::router())
        .merge(notifications::router())
        .merge(admin::router())
        .merge(reports::router())
        .merge(files::router())
        .merge(documents::router())
        .merge(video::router())
        .merge(duty::router())
}

/// The served document: the routes' own declarations, completed with what
/// every operation of this API can answer besides (so that a generated client
/// knows every status): errors are `application/problem+json` with the
/// `Problem` schema; 400 and 422 where a parameter or body is read (422: an
/// unreadable or refused value), 401 and 403 where a token is needed, 404
/// where the path names an object, 413 where a body is sent. Bodies that are
/// files (PDF, CMS, CSV, tus pieces) are `format: binary` strings, and a
/// creation's answer links to the operations on what it created (OpenAPI
/// links, which a stateful test client follows).
pub fn contract(doc: &utoipa::openapi::OpenApi) -> serde_json::Value {
    use serde_json::Value;
    let mut v = serde_json::to_value(doc).unwrap_or(Value::Null);
    rules::constrain(&mut v["components"]["schemas"]);
    let schemas = v["components"]["schemas"].clone();
    let Some(paths) = v.get_mut("paths").and_then(Value::as_object_mut) else {
        return v;
    };
    actions::split(paths, &schemas);
    let links = creation_links(paths, &schemas);
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, op) in item.iter_mut() {
            if !["get", "put", "post", "delete", "patch", "head"].contains(&method.as_str()) {
                continue;
            }
            declare_errors(op);
            binary_schemas(op);
            if let Some(l) = links.get(path).filter(|_| method == "post") {
                if let Some(created) = op["responses"].get_mut("201") {
                    created["links"] = l.clone();
                }
            }
        }
    }
    v
}

/// The error answers every operation of this kind can give, as problems.
fn declare_errors(op: &mut serde_json::Value) {
    use serde_json::{json, Value};
    const PROBLEM: &str = "#/components/schemas/Problem";
    let problem = |what: &str| {
        json!({
            "description": what,
            "content": {"application/problem+json": {"schema": {"$ref": PROBLEM}}}
        })
    };
    let params: Vec<Value> = op["parameters"].as_array().cloned().unwrap_or_default();
    let in_path = params.iter().any(|p| p["in"] == "path");
    let checked = !params.is_empty() || op.get("requestBody").is_some();
    let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
    let body = op.get("requestBody").is_some();
    let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
        return;
    };
    // A problem declared as JSON is served as problem+json.
    for r in responses.values_mut() {
        if let Some(content) = r.get_mut("content").and_then(Value::as_object_mut) {
            let is_problem = content
                .get("application/json")
                .is_some_and(|c| c["schema"]["$ref"] == PROBLEM);
            if is_problem {
                if let Some(c) = content.remove("application/json") {
                    content.insert("application/problem+json".into(), c);
                }
            }
        }
    }
    let mut add = |status: &str, what: &str| {
        responses
            .entry(status.to_string())
            .or_insert_with(|| problem(what));
    };
    if checked {
        add("400", "The parameters or the body cannot be read");
        add("422", "Values the server refuses, named field by field");
    }
    if secured {
        add(
            "401",
            "Not signed in: no token, or an expired or revoked one",
        );
        add(
            "403",
            "The caller's role or the token's scopes do not allow it",
        );
    }
    if in_path {
        add("404", "No such object, or not one the caller may see");
    }
    if body {
        add("413", "The body is larger than this operation accepts");
    }
}

/// Files in bodies and answers (a PDF, a CMS signature, a CSV, a tus piece)
/// as generators expect them: a `format: binary` string, not an array of
/// numbers or nothing.
fn binary_schemas(op: &mut serde_json::Value) {
    use serde_json::{json, Value};
    let fix = |content: &mut Value| {
        let Some(content) = content.as_object_mut() else {
            return;
        };
        for (media, m) in content.iter_mut() {
            let textual = media == "application/json"
                || media.ends_with("+json")
                || media.starts_with("text/plain");
            let s = &m["schema"];
            let bytes = s.is_null()
                || (s["type"] == "array" && s["items"]["type"] == "integer")
                || (s["type"] == "string" && s.get("format").is_none());
            if !textual && bytes {
                m["schema"] = json!({"type": "string", "format": "binary"});
            }
        }
    };
    if let Some(body) = op.get_mut("requestBody") {
        if let Some(content) = body.get_mut("content") {
            fix(content);
        }
        // A file to check or import is required and not empty; a tus piece
        // may be empty (it appends nothing).
        let file = body["content"].as_object().is_some_and(|c| {
            c.iter().any(|(media, m)| {
                m["schema"]["format"] == "binary" && media != "application/offset+octet-stream"
            })
        });
        if file {
            body["required"] = json!(true);
            if let Some(content) = body["content"].as_object_mut() {
                for m in content.values_mut() {
                    m["schema"]["minLength"] = json!(1);
                }
            }
        }
    }
    if let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) {
        for r in responses.values_mut() {
            if let Some(content) = r.get_mut("content") {
                fix(content);
            }
        }
    }
}

/// OpenAPI links from each creation (`POST P` answering 201 with an `id`) to
/// every operation on what it made (`P/{id}`, `P/{id}/…`), keyed by `P`.
fn creation_links(
    paths: &serde_json::Map<String, serde_json::Value>,
    schemas: &serde_json::Value,
) -> std::collections::BTreeMap<String, serde_json::Value> {
    use serde_json::{json, Value};
    let mut out = std::collections::BTreeMap::new();
    for (path, item) in paths {
        let created = &item["post"]["responses"]["201"]["content"]["application/json"]["schema"];
        let schema = created["$ref"]
            .as_str()
            .and_then(|r| r.strip_prefix("#/components/schemas/"))
            .map_or(created, |name| &schemas[name]);
        if schema["properties"]["id"].is_null() {
            continue;
        }
        // The creation's own path parameters carry over to the link.
        let own: Vec<&str> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
            .collect();
        let mut links = serde_json::Map::new();
        for (target, target_item) in paths {
            let Some(rest) = target.strip_prefix(&format!("{path}/{{")) else {
                continue;
            };
            let Some((param, _)) = rest.split_once('}') else {
                continue;
            };
            let Some(ops) = target_item.as_object() else {
                continue;
            };
            for op in ops.values() {
                let Some(id) = op["operationId"].as_str() else {
                    continue;
                };
                let mut parameters = serde_json::Map::new();
                parameters.insert(param.to_string(), json!("$response.body#/id"));
                for p in &own {
                    parameters.insert((*p).to_string(), json!(format!("$request.path.{p}")));
                }
                links.insert(
                    id.to_string(),
                    json!({"operationId": id, "parameters": parameters}),
                );
            }
        }
        if !links.is_empty() {
            out.insert(path.clone(), Value::Object(links));
        }
    }
    out
}

/// The caller's language, from `Accept-Language` (Russian by default).
pub struct ReqLang(pub Lang);

impl<S: Send + Sync> FromRequestParts<S> for ReqLang {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ReqLang(lang_of(&parts.headers)))
    }
}

/// Where the request comes from.
pub struct ClientInfo(pub rtms_service::access::sessions::Client);

impl FromRequestParts<AppState> for ClientInfo {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientInfo(crate::client_of(parts, state)))
    }
}

/// The authenticated caller (`Authorization: Bearer <token>`) and their language.
pub struct Caller {
    pub actor: Actor,
    pub lang: Lang,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let ReqLang(lang) = ReqLang::from_request_parts(parts, state).await?;
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(|t| t.trim().to_string());
        let Some(token) = token else {
            return Err(AppError::from(rtms_service::ServiceError::Unauthenticated).in_lang(lang));
        };
        let svc = state.svc.clone();
        let client = crate::client_of(parts, state);
        let actor = blocking(move || svc.authenticate(&token, &client, &["api"]))
            .await
            .map_err(|e| e.in_lang(lang))?;
        // An integration's token does only what its scopes say.
        let needed = if matches!(
            parts.method,
            axum::http::Method::GET | axum::http::Method::HEAD
        ) {
            "read"
        } else {
            "write"
        };
        if !actor.may(needed) {
            return Err(AppError::from(rtms_service::ServiceError::Forbidden).in_lang(lang));
        }
        // A temporary password is changed, and a required second factor enrolled,
        // in the interface before the API serves the account.
        let svc = state.svc.clone();
        let check = actor.clone();
        let blocked = blocking(move || {
            Ok(check.user.must_change_password
                || (!check.user.totp_enabled && svc.totp_required_for(&check)))
        })
        .await?;
        if blocked {
            return Err(AppError::from(rtms_service::ServiceError::Forbidden).in_lang(lang));
        }
        Ok(Caller { actor, lang })
    }
}

/// A JSON body whose errors come back as problem documents in the caller's language.
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let lang = lang_of(req.headers());
        match Json::<serde_json::Value>::from_request(req, state).await {
            Ok(Json(v)) => from_json(v, lang).map(Body),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(too_large(lang))
            }
            Err(rejection) => Err(invalid_json(lang, rejection.body_text())),
        }
    }
}

/// A text body (a CSV to import): UTF-8, or a 422 problem in the caller's
/// language; over the JSON body limit, a 413 problem.
pub struct Text(pub String);

impl<S: Send + Sync> FromRequest<S> for Text {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let lang = lang_of(req.headers());
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    too_large(lang)
                } else {
                    unreadable(lang, "problem-invalid-text", rejection.body_text())
                }
            })?;
        let text = String::from_utf8(Vec::from(bytes))
            .map_err(|e| unreadable(lang, "problem-invalid-text", e.to_string()))?;
        if text.contains('\0') {
            return Err(nul_refused(lang));
        }
        Ok(Text(text))
    }
}

/// The problem of a body over the API's limit, naming the limit.
fn too_large(lang: Lang) -> AppError {
    AppError::from(rtms_service::ServiceError::BodyTooLarge {
        what: "api",
        limit: crate::limits::API_JSON_MAX_BYTES as u64,
    })
    .in_lang(lang)
}

/// A JSON document read into `T`. Read as any JSON first: a whole number
/// written `5.0` is an integer to JSON Schema (and to most generators), so
/// it is one here too.
pub(crate) fn from_json<T: DeserializeOwned>(
    mut v: serde_json::Value,
    lang: Lang,
) -> Result<T, AppError> {
    whole_numbers_as_integers(&mut v);
    if has_nul(&v) {
        return Err(nul_refused(lang));
    }
    serde_json::from_value(v).map_err(|e| invalid_json(lang, e.to_string()))
}

/// The problem of a body that is not the JSON an operation reads.
pub(crate) fn invalid_json(lang: Lang, detail: String) -> AppError {
    unreadable(lang, "problem-invalid-json", detail)
}

/// The caller's language from a request's headers.
fn lang_of(headers: &axum::http::HeaderMap) -> Lang {
    Lang::from_accept_language(
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or(""),
    )
}

/// Whether a document holds a NUL character anywhere (a value or a key):
/// no text a person types has one, and PostgreSQL cannot store it.
fn has_nul(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::String(s) => s.contains('\0'),
        serde_json::Value::Array(a) => a.iter().any(has_nul),
        serde_json::Value::Object(o) => o.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}

/// The problem of input holding a NUL character.
fn nul_refused(lang: Lang) -> AppError {
    AppError::BadRequest(rtms_i18n::tr(lang, "problem-nul"), lang)
}

/// Whether percent-encoded text (a path or a query string) encodes a NUL.
fn encodes_nul(raw: &str) -> bool {
    raw.as_bytes()
        .windows(3)
        .any(|w| w[0] == b'%' && w[1] == b'0' && w[2] == b'0')
}

/// `5.0` → `5`, everywhere in a document, for numbers an `i64` holds exactly.
fn whole_numbers_as_integers(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Number(n) if n.is_f64() => {
            if let Some(f) = n.as_f64() {
                if f.fract() == 0.0 && f.abs() < 9.0e15 {
                    *v = serde_json::Value::from(f as i64);
                }
            }
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(whole_numbers_as_integers),
        serde_json::Value::Object(o) => o.values_mut().for_each(whole_numbers_as_integers),
        _ => {}
    }
}

/// Path parameters whose errors come back as problem documents (422, as an
/// unreadable JSON body) in the
/// caller's language, as every other error of the API.
pub struct Path<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if encodes_nul(parts.uri.path()) {
            return Err(nul_refused(lang_of(&parts.headers)));
        }
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(Path(v)),
            Err(rejection) => Err(unreadable(
                lang_of(&parts.headers),
                "problem-invalid-path",
                rejection.body_text(),
            )),
        }
    }
}

/// A query string whose errors come back as problem documents (422), likewise.
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Query<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if encodes_nul(parts.uri.query().unwrap_or("")) {
            return Err(nul_refused(lang_of(&parts.headers)));
        }
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Query(v)),
            Err(rejection) => Err(unreadable(
                lang_of(&parts.headers),
                "problem-invalid-query",
                rejection.body_text(),
            )),
        }
    }
}

fn unreadable(lang: Lang, key: &str, detail: String) -> AppError {
    AppError::BadRequest(
        rtms_i18n::tr_args(lang, key, &[("detail", detail.into())]),
        lang,
    )
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    pub login: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    /// Send as `Authorization: Bearer <token>`; valid for 12 hours.
    pub token: String,
    pub user: UserView,
}

/// Signs in with a login and password and returns an API token.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = Problem),
        (status = 429, body = Problem, description = "Too many sign-in attempts from this address or for this login",
            headers(("Retry-After" = u64, description = "Seconds to wait")))))]
async fn login(
    axum::extract::State(state): axum::extract::State<AppState>,
    ClientInfo(client): ClientInfo,
    ReqLang(lang): ReqLang,
    Body(req): Body<LoginRequest>,
) -> Result<Json<LoginResponse>, AppError> {
    let svc = state.svc.clone();
    let (token, actor) = blocking(move || svc.login(&req.login, &req.password, &client))
        .await
        .map_err(|e| e.in_lang(lang))?;
    Ok(Json(LoginResponse {
        token,
        user: state.svc.user_view(&actor),
    }))
}

/// The signed-in user and their roles.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = UserView), (status = 401, body = Problem)))]
async fn me(
    axum::extract::State(state): axum::extract::State<AppState>,
    caller: Caller,
) -> Json<UserView> {
    Json(state.svc.user_view(&caller.actor))
}

pub(crate) fn created<T: Serialize>(body: T) -> (StatusCode, Json<T>) {
    (StatusCode::CREATED, Json(body))
}
