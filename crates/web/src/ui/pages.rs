//! Sign-in, the queue, the request form, notifications and the live stream.

use rtms_i18n::Label;
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::time::Duration as StdDuration;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use futures_util::stream::Stream;
use rtms_domain::request::{ClinicalData, ConsultationPatch, DiagnosisPatch, PatientPatch};
use rtms_domain::{FieldError, FormOfCare, Lang, Mode, OrgKind, Role, Sex, Status};
use rtms_service::lifecycle::consultations::ListQuery;
use rtms_service::lifecycle::notifications::{kind_label, wants_kind, MAIL_KINDS};
use rtms_service::lifecycle::views::ConsultationSummary;
use rtms_service::ServiceError;
use serde::Deserialize;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::StreamExt;

use super::fmt;
use super::i18n::lbl;
use super::i18n::{tr, tr_args};
use super::shell::{error_page, render, with_error_status, Page};
use crate::api::ClientInfo;
use crate::session::{request_lang, UiUser, LANG_COOKIE, SESSION_COOKIE};
use crate::{blocking, AppState};
use rtms_service::access::sessions::SignIn;

async fn unread(state: &AppState, u: &UiUser) -> i64 {
    let svc = state.svc.clone();
    let actor = u.actor.clone();
    let lang = u.lang;
    blocking(move || svc.notifications(&actor, lang, 0))
        .await
        .map(|n| n.unread)
        .unwrap_or(0)
}

// ---- sign-in ------------------------------------------------------------------

#[derive(Template)]
#[template(path = "login.html")]
struct LoginTpl {
    p: Page,
    login: String,
    next: String,
    error: String,
    /// Set when the password was right and the second factor is awaited.
    pending: String,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

fn safe_next(next: Option<String>) -> String {
    // Only paths of this site: never an open redirect. Browsers read `\` as `/`,
    // so `/\evil.example` would leave the site; control characters are refused too.
    next.filter(|n| {
        n.starts_with('/')
            && !n.starts_with("//")
            && !n.contains('\\')
            && !n.chars().any(|c| c.is_control())
    })
    .unwrap_or_else(|| "/".into())
}

pub async fn login_form(headers: HeaderMap, Query(q): Query<NextQuery>) -> Response {
    let lang = request_lang(&headers);
    render(LoginTpl {
        p: Page::public(lang, "login-title", "/login"),
        login: String::new(),
        next: safe_next(q.next),
        error: String::new(),
        pending: String::new(),
    })
}

#[derive(Deserialize)]
pub struct LoginForm {
    login: String,
    password: String,
    next: Option<String>,
}

/// The answer to a sign-in step: the cookie and the way on, or the form again.
fn signed_in(
    state: &AppState,
    headers: &HeaderMap,
    outcome: Result<SignIn, crate::error::AppError>,
    lang: Lang,
    login: String,
    next: String,
) -> Response {
    match outcome {
        Ok(SignIn::Done(token, actor)) => {
            let next = if actor.user.must_change_password {
                "/password".to_string()
            } else {
                next
            };
            let mut resp = Redirect::to(&next).into_response();
            // Over HTTPS (here, or at a trusted proxy) the cookie never travels in clear.
            let behind_https = headers
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                == Some("https");
            let secure = if state.https || behind_https {
                "; Secure"
            } else {
                ""
            };
            let cookie =
                format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax{secure}");
            resp.headers_mut().append(
                header::SET_COOKIE,
                HeaderValue::from_str(&cookie).unwrap_or(HeaderValue::from_static("")),
            );
            if crate::session::cookie(headers, LANG_COOKIE).is_none() && actor.user.locale == "en" {
                resp.headers_mut().append(
                    header::SET_COOKIE,
                    HeaderValue::from_static("rtms_lang=en; Path=/; SameSite=Lax"),
                );
            }
            resp
        }
        Ok(SignIn::NeedsCode(pending)) => render(LoginTpl {
            p: Page::public(lang, "login-title", "/login"),
            login,
            next,
            error: String::new(),
            pending,
        }),
        Err(e) => {
            let (status, error, pending) = match e {
                crate::error::AppError::Service(ServiceError::BadCredentials, _) => (
                    StatusCode::UNAUTHORIZED,
                    tr(lang, "login-failed"),
                    String::new(),
                ),
                crate::error::AppError::Service(ServiceError::Throttled { retry_after }, _) => {
                    let minutes = (retry_after + 59) / 60;
                    let mut r = render(LoginTpl {
                        p: Page::public(lang, "login-title", "/login"),
                        login,
                        next,
                        error: tr_args(lang, "login-throttled", &[("minutes", minutes.into())]),
                        pending: String::new(),
                    });
                    *r.status_mut() = StatusCode::TOO_MANY_REQUESTS;
                    r.headers_mut()
                        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
                    return r;
                }
                crate::error::AppError::Service(ServiceError::Invalid(_), _) => (
                    StatusCode::UNAUTHORIZED,
                    tr(lang, "login-code-wrong"),
                    String::new(),
                ),
                _ => (
                    StatusCode::UNAUTHORIZED,
                    tr(lang, "login-again"),
                    String::new(),
                ),
            };
            (
                status,
                render(LoginTpl {
                    p: Page::public(lang, "login-title", "/login"),
                    login,
                    next,
                    error,
                    pending,
                }),
            )
                .into_response()
        }
    }
}

pub async fn login(
    State(state): State<AppState>,
    ClientInfo(client): ClientInfo,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    let lang = request_lang(&headers);
    let svc = state.svc.clone();
    let (login, password) = (f.login.clone(), f.password.clone());
    let outcome = blocking(move || svc.sign_in(&login, &password, "session", &client)).await;
    signed_in(&state, &headers, outcome, lang, f.login, safe_next(f.next))
}

#[derive(Deserialize)]
pub struct CodeForm {
    pending: String,
    code: String,
    login: Option<String>,
    next: Option<String>,
}

/// The second step of signing in: the authenticator app's code.
pub async fn login_code(
    State(state): State<AppState>,
    ClientInfo(client): ClientInfo,
    headers: HeaderMap,
    Form(f): Form<CodeForm>,
) -> Response {
    let lang = request_lang(&headers);
    let svc = state.svc.clone();
    let (pending, code) = (f.pending.clone(), f.code.clone());
    let outcome = blocking(move || svc.sign_in_code(&pending, &code, &client)).await;
    let wrong_code = matches!(
        &outcome,
        Err(crate::error::AppError::Service(ServiceError::Invalid(_), _))
    );
    let resp = signed_in(
        &state,
        &headers,
        outcome,
        lang,
        f.login.unwrap_or_default(),
        safe_next(f.next.clone()),
    );
    if wrong_code {
        // Let them try the code again with the same pending sign-in.
        let mut again = render(LoginTpl {
            p: Page::public(lang, "login-title", "/login"),
            login: String::new(),
            next: safe_next(f.next),
            error: tr(lang, "login-code-wrong"),
            pending: f.pending,
        });
        *again.status_mut() = StatusCode::UNAUTHORIZED;
        return again;
    }
    resp
}

pub async fn logout(State(state): State<AppState>, u: UiUser) -> Response {
    let svc = state.svc.clone();
    let actor = u.actor.clone();
    let _ = blocking(move || svc.sign_out(&actor)).await;
    let mut resp = Redirect::to("/login").into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("rtms_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax"),
    );
    resp
}

// ---- sessions, API tokens, the second factor ------------------------------------

pub struct SessionRow {
    pub id: i64,
    pub api: bool,
    pub name: String,
    pub created: String,
    pub seen: String,
    pub expires: String,
    pub place: String,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "sessions.html")]
struct SessionsTpl {
    p: Page,
    rows: Vec<SessionRow>,
    new_token: String,
    error: String,
    email: String,
    email_mode: String,
    /// Kinds of notification: code, label, whether it goes by e-mail.
    email_kinds: Vec<(String, String, bool)>,
}

async fn render_sessions(
    state: &AppState,
    u: &UiUser,
    new_token: String,
    error: String,
) -> Response {
    let svc = state.svc.clone();
    let actor = u.actor.clone();
    let list = match blocking(move || svc.sessions(&actor)).await {
        Ok(l) => l,
        Err(crate::error::AppError::Service(e, _)) => return error_page(u, &e),
        Err(_) => return error_page(u, &ServiceError::NotFound),
    };
    let n = unread(state, u).await;
    let p = Page::for_user(u, tr(u.lang, "sessions-title"), "", n);
    let rows = list
        .iter()
        .map(|s| SessionRow {
            id: s.id,
            api: s.kind == "api",
            name: if s.kind == "api" {
                format!("{} ({})", s.name, s.scopes)
            } else {
                s.user_agent.clone()
            },
            created: fmt::datetime(s.created_at, p.tz, None, u.lang),
            seen: s
                .last_seen_at
                .map(|t| fmt::datetime(t, p.tz, None, u.lang))
                .unwrap_or_default(),
            expires: fmt::datetime(s.expires_at, p.tz, None, u.lang),
            place: s.ip.clone(),
            current: s.current,
        })
        .collect();
    let email = u.actor.user.email.clone();
    let email_mode = u.actor.user.email_mode.clone();
    let email_kinds = MAIL_KINDS
        .iter()
        .map(|k| {
            (
                k.to_string(),
                kind_label(k, u.lang).to_string(),
                wants_kind(&u.actor.user.email_kinds, k),
            )
        })
        .collect();
    render(SessionsTpl {
        p,
        rows,
        new_token,
        error,
        email,
        email_mode,
        email_kinds,
    })
}

pub async fn sessions(State(state): State<AppState>, u: UiUser) -> Response {
    render_sessions(&state, &u, String::new(), String::new()).await
}

/// Notifications by e-mail: off, at once or as a daily digest, and which kinds.
/// A form without the kind checkboxes (no `kinds` field) keeps the kinds as they are.
pub async fn set_email_mode(
    State(state): State<AppState>,
    u: UiUser,
    Form(f): Form<BTreeMap<String, String>>,
) -> Response {
    let mode = match f.get("email_mode") {
        Some(m) => m.clone(),
        None if f.contains_key("email_on") => "instant".into(),
        None => "off".into(),
    };
    let kinds: Vec<String> = if f.contains_key("kinds") {
        f.keys()
            .filter_map(|k| k.strip_prefix("kind_"))
            .map(String::from)
            .collect()
    } else {
        MAIL_KINDS
            .iter()
            .filter(|k| wants_kind(&u.actor.user.email_kinds, k))
            .map(|k| k.to_string())
            .collect()
    };
    let svc = state.svc.clone();
    let actor = u.actor.clone();
    let _ = blocking(move || svc.set_email_prefs(&actor, &mode, &kinds)).await;
    Redirect::to("/sessions").into_response()
}

pub async fn end_session(
    State(state): State<AppState>,
    u: UiUser,
    Path(id): Path<i64>,
) -> Response {
    let svc = state.svc.clone();
    let actor = u.actor.clone();
    let _ = blocking(move || svc.end_session(&actor, id)).await;
    Redirect::to("/sessions").into_response()
}

pub async fn end_other_sessions(State(state): State<AppState>, u: UiUser) -> Response {
    let svc = state.svc.clone();
    let actor = u.actor.clone();
    let _ = blocking(move || svc.end_other_sessions(&actor)).await;
    Redirect::to("/sessions").into_response()
}

/// A new API token for an integration; shown once.
pub async fn create_token(
    State(state): State<AppState>,
    u: UiUser,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let name = pairs
        .iter()
        .find(|(k, _)| k == "name")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let days = pairs
        .iter()
        .find(|(k, _)| k == "days")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(90);
    let scopes: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "scope")
        .map(|(_, v)| v.clone())
        .collect();
    let svc = state.svc.clone();
    let actor = u.actor.clone();
    match blocking(move || svc.create_api_token(&actor, &name, &scopes, days)).await {
        Ok((token, _)) => render_sessions(&state, &u, token, String::new()).await,
        Err(crate::error::AppError::Service(e, _)) => {
            let msg = crate::error::message(&e, u.lang);
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                render_sessions(&state, &u, String::new(), msg).await,
            )
                .into_response()
        }
        Err(_) => error_page(&u, &ServiceError::NotFound),
    }
}

#[derive(Template)]
#[template(path = "totp.html")]
struct TotpTpl {
    p: Page,
    enabled: bool,
    required: bool,
    secret: String,
    uri: String,
    error: String,
}

impl TotpTpl {
    /// The enrolment address as a QR code, inline SVG (no script, no external image).
    fn qr_svg(&self) -> String {
        qrcode::QrCode::new(self.uri.as_bytes())
            .map(|code| {
                code.render::<qrcode::render::svg::Color>()
                    .min_dimensions(200, 200)
                    .quiet_zone(true)
                    .build()
            })
            .unwrap_or_default()
    }
}

/// The second factor's page. Reading it changes nothing: enrolment starts
/// with the form's POST to `/totp/begin`; a secret begun and not confirmed yet
/// is shown again.
pub async fn totp_form(State(state): State<AppState>, u: UiUser) -> Response {
    let required = state.svc.totp_required_for(&u.actor);
    let n = unread(&state, &u).await;
    let p = Page::for_user(&u, tr(u.lang, "totp-title"), "", n);
    let user = &u.actor.user;
    let secret = if user.totp_enabled {
        String::new()
    } else {
        user.totp_secret.clone().unwrap_or_default()
    };
    let uri = if secret.is_empty() {
        String::new()
    } else {
        rtms_service::access::totp::otpauth_uri(&secret, &user.login, "РТМС")
    };
    render(TotpTpl {
        p,
        enabled: user.totp_enabled,
        required,
        secret,
        uri,
        error: String::new(),
    })
}

/// Starts enrolment: a new secret (not in force until a code confirms it), then the page.
pub async fn totp_begin(State(state): State<AppState>, u: UiUser) -> Response {
    let svc = state.svc.clone();
    let actor = u.actor.clone();
    match blocking(move || svc.totp_begin(&actor)).await {
        Ok(_) => Redirect::to("/totp").into_response(),
        Err(crate::error::AppError::Service(e, _)) => error_page(&u, &e),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

pub async fn totp_confirm(
    State(state): State<AppState>,
    u: UiUser,
    Form(f): Form<BTreeMap<String, String>>,
) -> Response {
    let code = f.get("code").cloned().unwrap_or_default();
    let svc = state.svc.clone();
    let actor = u.actor.clone();
    match blocking(move || svc.totp_confirm(&actor, &code)).await {
        Ok(()) => Redirect::to("/totp").into_response(),
        Err(_) => {
            let required = state.svc.totp_required_for(&u.actor);
            let n = unread(&state, &u).await;
            let p = Page::for_user(&u, tr(u.lang, "totp-title"), "", n);
            let secret = u.actor.user.totp_secret.clone().unwrap_or_default();
            let uri = rtms_service::access::totp::otpauth_uri(&secret, &u.actor.user.login, "РТМС");
            let tpl = TotpTpl {
                p,
                enabled: false,
                required,
                secret,
                uri,
                error: tr(u.lang, "login-code-wrong"),
            };
            (StatusCode::UNPROCESSABLE_ENTITY, render(tpl)).into_response()
        }
    }
}

#[derive(Deserialize)]
pub struct BackQuery {
    back: Option<String>,
}

/// The language switch: a cookie for this browser, and the profile when signed in.
pub async fn set_lang(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(lang): Path<String>,
    Query(q): Query<BackQuery>,
) -> Response {
    let lang = if lang == "en" { "en" } else { "ru" };
    if let Some(token) = crate::session::cookie(&headers, SESSION_COOKIE) {
        let svc = state.svc.clone();
        let l = lang.to_string();
        let client = rtms_service::access::sessions::Client::default();
        let _ = blocking(move || {
            let actor = svc.authenticate(&token, &client, &["session"])?;
            svc.set_locale(&actor, &l)
        })
        .await;
    }
    let mut resp = Redirect::to(&safe_next(q.back)).into_response();
    let cookie = format!("{LANG_COOKIE}={lang}; Path=/; Max-Age=31536000; SameSite=Lax");
    resp.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).unwrap_or(HeaderValue::from_static("")),
    );
    resp
}

/// Each role starts where its work is.
pub async fn index(u: UiUser) -> Response {
    let a = &u.actor;
    let to = if a.has_clinical_role() {
        "/queue"
    } else if a.has(Role::Admin) {
        "/admin/users"
    } else if a.has(Role::Auditor) {
        "/audit"
    } else if a.has(Role::Analyst) {
        "/reports"
    } else {
        "/sessions"
    };
    Redirect::to(to).into_response()
}

// ---- password -------------------------------------------------------------------

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordTpl {
    p: Page,
    must_change: bool,
    errors: BTreeMap<String, String>,
    done: bool,
}

impl PasswordTpl {
    fn err(&self, field: &str) -> String {
        self.errors.get(field).cloned().unwrap_or_default()
    }
}

pub async fn password_form(State(state): State<AppState>, u: UiUser) -> Response {
    let n = unread(&state, &u).await;
    let p = Page::for_user(&u, tr(u.lang, "password-title"), "", n);
    render(PasswordTpl {
        p,
        must_change: u.actor.user.must_change_password,
        errors: BTreeMap::new(),
        done: false,
    })
}

#[derive(Deserialize)]
pub struct PasswordForm {
    current_password: String,
    new_password: String,
    repeat_password: String,
}

pub async fn change_password(
    State(state): State<AppState>,
    u: UiUser,
    Form(f): Form<PasswordForm>,
) -> Response {
    let lang = u.lang;
    let mut errors = BTreeMap::new();
    if f.new_password != f.repeat_password {
        errors.insert("repeat_password".to_string(), tr(lang, "password-mismatch"));
    } else {
        let svc = state.svc.clone();
        let actor = u.actor.clone();
        match blocking(move || svc.change_password(&actor, &f.current_password, &f.new_password))
            .await
        {
            Ok(()) => {}
            Err(crate::error::AppError::Service(ServiceError::Invalid(list), _)) => {
                for e in list {
                    errors.insert(
                        e.field.clone(),
                        rtms_i18n::refusal(e.code, lang).to_string(),
                    );
                }
            }
            Err(_) => {
                errors.insert("current_password".into(), tr(lang, "err-internal"));
            }
        }
    }
    let n = unread(&state, &u).await;
    let done = errors.is_empty();
    let p = Page::for_user(&u, tr(lang, "password-title"), "", n);
    let status = if done {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    (
        status,
        render(PasswordTpl {
            p,
            must_change: !done && u.actor.user.must_change_password,
            errors,
            done,
        }),
    )
        .into_response()
}

// ---- the queue ---------------------------------------------------------------------

pub struct Row {
    pub id: i64,
    pub status: &'static str,
    pub status_label: String,
    pub form: &'static str,
    pub form_label: String,
    pub patient: String,
    pub birth: String,
    pub diagnosis: String,
    pub profile: String,
    pub mo: String,
    pub tkc: String,
    pub deadline: String,
    pub deadline_iso: String,
    pub countdown: String,
    pub urgency: &'static str,
    pub budget: i64,
    pub paused: bool,
    pub awaits_me: bool,
}

fn row(
    s: &ConsultationSummary,
    lang: Lang,
    tz: chrono_tz::Tz,
    profiles: &BTreeMap<String, String>,
) -> Row {
    let (countdown, urgency) = fmt::countdown(
        s.remaining_seconds,
        s.budget_seconds,
        s.deadline_paused,
        lang,
    );
    Row {
        id: s.id,
        status: s.status.as_str(),
        status_label: s.status_label.clone(),
        form: s.form_of_care.map(|f| f.as_str()).unwrap_or(""),
        form_label: s
            .form_of_care
            .map(|f| f.label(lang).to_string())
            .unwrap_or_default(),
        patient: if s.patient_name.is_empty() {
            tr(lang, "patient-unnamed")
        } else {
            s.patient_name.clone()
        },
        birth: s
            .patient_birth_date
            .map(|d| fmt::date(d, lang))
            .unwrap_or_default(),
        diagnosis: s.diagnosis_main.clone().unwrap_or_default(),
        profile: s
            .profile
            .as_ref()
            .map(|p| profiles.get(p).cloned().unwrap_or_else(|| p.clone()))
            .unwrap_or_default(),
        mo: s.requesting_organization.name.clone(),
        tkc: s
            .assigned_tkc
            .as_ref()
            .map(|t| t.name.clone())
            .unwrap_or_default(),
        deadline: s
            .deadline
            .map(|d| {
                fmt::datetime(
                    d,
                    tz,
                    Some(fmt::tz(&s.requesting_organization.time_zone)),
                    lang,
                )
            })
            .unwrap_or_default(),
        deadline_iso: s.deadline.map(|d| d.to_rfc3339()).unwrap_or_default(),
        countdown,
        urgency,
        budget: s.budget_seconds.unwrap_or(0),
        paused: s.deadline_paused,
        awaits_me: s.awaits_me,
    }
}

#[derive(Template)]
#[template(path = "queue.html")]
struct QueueTpl {
    p: Page,
    rows: Vec<Row>,
    total: String,
    page: i64,
    pages: i64,
    f: QueueFilter,
    statuses: Vec<(String, String)>,
    forms: Vec<(String, String)>,
    profiles: Vec<(String, String)>,
    mos: Vec<(String, String)>,
    tkcs: Vec<(String, String)>,
    heading: String,
    query_base: String,
    /// Escalations undelivered past the alarm time: (request, since, last error).
    federal_alarms: Vec<(i64, String, String)>,
}

#[derive(Template)]
#[template(path = "queue_rows.html")]
struct QueueRowsTpl {
    p: Page,
    rows: Vec<Row>,
    total: String,
    page: i64,
    pages: i64,
    query_base: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct QueueFilter {
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub form_of_care: String,
    #[serde(default)]
    pub profile: String,
    #[serde(default)]
    pub organization: String,
    #[serde(default)]
    pub tkc: String,
    #[serde(default)]
    pub overdue: String,
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub page: Option<i64>,
}

impl QueueFilter {
    fn is(&self, field: &str, value: &str) -> bool {
        let v = match field {
            "status" => &self.status,
            "form_of_care" => &self.form_of_care,
            "profile" => &self.profile,
            "organization" => &self.organization,
            "tkc" => &self.tkc,
            _ => return false,
        };
        v == value
    }
}

pub async fn queue(
    State(state): State<AppState>,
    u: UiUser,
    headers: HeaderMap,
    Query(f): Query<QueueFilter>,
) -> Response {
    let lang = u.lang;
    if !u.actor.has_clinical_role() {
        return error_page(&u, &ServiceError::Forbidden);
    }
    let mut f = f;
    // A dispatcher starts from the open queue; everyone else from everything they see.
    if f.status.is_empty()
        && !headers.contains_key("hx-request")
        && u.actor.is_dispatcher()
        && u.path == "/queue"
    {
        f.status = "open".into();
    }
    let q = ListQuery {
        status: Some(f.status.clone()).filter(|s| !s.is_empty()),
        form_of_care: Some(f.form_of_care.clone()).filter(|s| !s.is_empty()),
        profile: Some(f.profile.clone()).filter(|s| !s.is_empty()),
        organization: f.organization.parse().ok(),
        tkc: f.tkc.parse().ok(),
        overdue: (f.overdue == "1").then_some(true),
        q: Some(f.q.clone()).filter(|s| !s.trim().is_empty()),
        page: f.page,
        per_page: Some(50),
    };
    let svc = state.svc.clone();
    let actor = u.actor.clone();
    let loaded = blocking(move || {
        let page = svc.list_consultations(&actor, &q, lang)?;
        let profiles = svc.profiles(lang)?;
        let mos = svc.organizations(OrgKind::Mo)?;
        let tkcs = svc.organizations(OrgKind::Tkc)?;
        let unread = svc.notifications(&actor, lang, 0)?.unread;
        let alarms = svc.federal_alarms(&actor)?;
        Ok((page, profiles, mos, tkcs, (unread, alarms)))
    })
    .await;
    let (page, profiles, mos, tkcs, (unread, alarms)) = match loaded {
        Ok(v) => v,
        Err(crate::error::AppError::Service(e, _)) => return error_page(&u, &e),
        Err(_) => return error_page(&u, &ServiceError::NotFound),
    };
    let names: BTreeMap<String, String> = profiles
        .iter()
        .map(|p| (p.code.clone(), p.name.clone()))
        .collect();
    let p = Page::for_user(&u, tr(lang, "nav-queue"), "queue", unread);
    let rows: Vec<Row> = page
        .items
        .iter()
        .map(|s| row(s, lang, p.tz, &names))
        .collect();
    let pages = (page.total + page.per_page - 1) / page.per_page;
    // Not exact: the closed ones were counted up to 1,001, and the total
    // holds that last one ("more than" the rest).
    let total = if page.total_exact {
        fmt::count(page.total, lang)
    } else {
        tr_args(
            lang,
            "queue-total-more",
            &[("count", fmt::count(page.total - 1, lang).into())],
        )
    };
    let query_base = {
        let mut g = f.clone();
        g.page = None;
        serde_urlencoded::to_string([
            ("status", g.status),
            ("form_of_care", g.form_of_care),
            ("profile", g.profile),
            ("organization", g.organization),
            ("tkc", g.tkc),
            ("overdue", g.overdue),
            ("q", g.q),
        ])
        .unwrap_or_default()
    };
    if headers.contains_key("hx-request")
        && headers.get("hx-target").and_then(|v| v.to_str().ok()) == Some("queue-rows")
    {
        return render(QueueRowsTpl {
            p,
            rows,
            total: total.clone(),
            page: page.page,
            pages,
            query_base,
        });
    }
    let heading = if u.actor.is_dispatcher() {
        tr(lang, "queue-heading-dispatcher")
    } else if u.actor.has(Role::Coordinator) {
        tr(lang, "queue-heading-coordinator")
    } else if u.actor.has(Role::Consultant) {
        tr(lang, "queue-heading-consultant")
    } else {
        tr(lang, "queue-heading-doctor")
    };
    let p_tz = p.tz;
    let mut statuses = vec![("open".to_string(), tr(lang, "filter-open"))];
    statuses.extend(
        Status::ALL
            .iter()
            .map(|s| (s.as_str().to_string(), s.label(lang).to_string())),
    );
    render(QueueTpl {
        p,
        rows,
        total,
        page: page.page,
        pages,
        f,
        statuses,
        forms: FormOfCare::ALL
            .iter()
            .map(|x| (x.as_str().to_string(), x.label(lang).to_string()))
            .collect(),
        profiles: profiles.into_iter().map(|x| (x.code, x.name)).collect(),
        mos: mos
            .into_iter()
            .map(|o| (o.id.to_string(), o.name))
            .collect(),
        tkcs: tkcs
            .into_iter()
            .map(|o| (o.id.to_string(), o.name))
            .collect(),
        heading,
        query_base,
        federal_alarms: alarms
            .iter()
            .map(|a| {
                (
                    a.consultation_id,
                    fmt::datetime(a.pending_since, p_tz, None, lang),
                    super::request_page::federal_error_text(&a.last_error, lang),
                )
            })
            .collect(),
    })
}

// ---- the request form --------------------------------------------------------------

pub async fn create_request(State(state): State<AppState>, u: UiUser) -> Response {
    let svc = state.svc.clone();
    let actor = u.actor.clone();
    match blocking(move || svc.create_consultation(&actor, &ConsultationPatch::default())).await {
        Ok(id) => Redirect::to(&format!("/requests/{id}/edit")).into_response(),
        Err(crate::error::AppError::Service(e, _)) => error_page(&u, &e),
        Err(_) => error_page(&u, &ServiceError::NotFound),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Area,
    Select,
    Check,
    Number,
    Icd,
}

pub struct Field {
    pub name: &'static str,
    pub label: String,
    pub kind: Kind,
    pub value: String,
    pub checked: bool,
    pub error: String,
    pub placeholder: String,
    pub options: Vec<(String, String, String)>,
    pub wide: bool,
    pub required: bool,
}

impl Field {
    pub fn is(&self, k: &str) -> bool {
        matches!(
            (self.kind, k),
            (Kind::Text, "text")
                | (Kind::Area, "area")
                | (Kind::Select, "select")
                | (Kind::Check, "check")
                | (Kind::Number, "number")
                | (Kind::Icd, "icd")
        )
    }
}

pub struct Section {
    pub title: String,
    pub id: &'static str,
    pub fields: Vec<Field>,
}

#[derive(Template)]
#[template(path = "edit.html")]
struct EditTpl {
    p: Page,
    id: i64,
    status_label: String,
    sections: Vec<Section>,
    error_count: usize,
    saved_at: String,
    profile_hint: String,
    returned_comment: String,
}

struct Spec {
    name: &'static str,
    label: &'static str,
    kind: Kind,
    placeholder: &'static str,
    wide: bool,
    required: bool,
}

const fn spec(
    name: &'static str,
    label: &'static str,
    kind: Kind,
    placeholder: &'static str,
    wide: bool,
    required: bool,
) -> Spec {
    Spec {
        name,
        label,
        kind,
        placeholder,
        wide,
        required,
    }
}

/// The form, section by section, in the order a doctor fills it in.
fn form_layout() -> Vec<(&'static str, &'static str, Vec<Spec>)> {
    use Kind::*;
    vec![
        (
            "patient",
            lbl("sec-patient"),
            vec![
                spec(
                    "patient.last_name",
                    lbl("f-patient-last_name"),
                    Text,
                    "",
                    false,
                    true,
                ),
                spec(
                    "patient.first_name",
                    lbl("f-patient-first_name"),
                    Text,
                    "",
                    false,
                    true,
                ),
                spec(
                    "patient.middle_name",
                    lbl("f-patient-middle_name"),
                    Text,
                    "",
                    false,
                    false,
                ),
                spec(
                    "patient.birth_date",
                    lbl("f-patient-birth_date"),
                    Text,
                    lbl("date-placeholder"),
                    false,
                    true,
                ),
                spec("patient.sex", lbl("f-patient-sex"), Select, "", false, true),
                spec(
                    "patient.snils",
                    lbl("f-patient-snils"),
                    Text,
                    "000-000-000 00",
                    false,
                    false,
                ),
                spec(
                    "patient.oms_policy",
                    lbl("f-patient-oms_policy"),
                    Text,
                    "0000 0000 0000 0000",
                    false,
                    false,
                ),
                spec(
                    "patient.oms_policy_type",
                    lbl("f-patient-oms_policy_type"),
                    Select,
                    "",
                    false,
                    false,
                ),
                spec(
                    "patient.id_doc_type",
                    lbl("f-patient-id_doc_type"),
                    Select,
                    "",
                    false,
                    false,
                ),
                spec(
                    "patient.id_doc_series",
                    lbl("f-patient-id_doc_series"),
                    Text,
                    "",
                    false,
                    false,
                ),
                spec(
                    "patient.id_doc_number",
                    lbl("f-patient-id_doc_number"),
                    Text,
                    "",
                    false,
                    false,
                ),
                spec(
                    "patient.id_doc_issued",
                    lbl("f-patient-id_doc_issued"),
                    Text,
                    lbl("date-placeholder"),
                    false,
                    false,
                ),
                spec(
                    "patient.id_doc_issuer",
                    lbl("f-patient-id_doc_issuer"),
                    Text,
                    "",
                    true,
                    false,
                ),
                spec(
                    "patient.address",
                    lbl("f-patient-address"),
                    Text,
                    "",
                    true,
                    false,
                ),
                spec(
                    "patient.unidentified",
                    lbl("f-patient-unidentified"),
                    Check,
                    "",
                    true,
                    false,
                ),
                spec(
                    "patient.description",
                    lbl("f-patient-description"),
                    Area,
                    "",
                    true,
                    false,
                ),
            ],
        ),
        (
            "consultation",
            lbl("sec-consultation"),
            vec![
                spec(
                    "form_of_care",
                    lbl("f-form_of_care"),
                    Select,
                    "",
                    false,
                    true,
                ),
                spec("mode", lbl("f-mode"), Select, "", false, true),
                spec("profile", lbl("f-profile"), Select, "", false, true),
                spec("purpose", lbl("f-purpose"), Select, "", false, true),
                spec(
                    "patient_present",
                    lbl("f-patient_present"),
                    Check,
                    "",
                    true,
                    false,
                ),
            ],
        ),
        (
            "diagnosis",
            lbl("sec-diagnosis"),
            vec![
                spec(
                    "diagnosis.main",
                    lbl("f-diagnosis-main"),
                    Icd,
                    "I21.0",
                    false,
                    true,
                ),
                spec(
                    "diagnosis.text",
                    lbl("f-diagnosis-text"),
                    Text,
                    "",
                    true,
                    false,
                ),
                spec(
                    "diagnosis.complications",
                    lbl("f-diagnosis-complications"),
                    Text,
                    "I50.0, J81",
                    false,
                    false,
                ),
                spec(
                    "diagnosis.comorbidities",
                    lbl("f-diagnosis-comorbidities"),
                    Text,
                    "E11.9",
                    false,
                    false,
                ),
            ],
        ),
        (
            "question",
            lbl("sec-question"),
            vec![spec("question", lbl("f-question"), Area, "", true, true)],
        ),
        (
            "clinical",
            lbl("sec-clinical"),
            vec![
                spec(
                    "anamnesis_morbi",
                    lbl("f-anamnesis_morbi"),
                    Area,
                    "",
                    true,
                    false,
                ),
                spec(
                    "anamnesis_vitae",
                    lbl("f-anamnesis_vitae"),
                    Area,
                    "",
                    true,
                    false,
                ),
                spec(
                    "epidemiological_history",
                    lbl("f-epidemiological_history"),
                    Area,
                    "",
                    true,
                    false,
                ),
                spec(
                    "objective_status",
                    lbl("f-objective_status"),
                    Area,
                    "",
                    true,
                    false,
                ),
                spec(
                    "vitals.bp_systolic",
                    lbl("f-vitals-bp_systolic"),
                    Number,
                    "120",
                    false,
                    false,
                ),
                spec(
                    "vitals.bp_diastolic",
                    lbl("f-vitals-bp_diastolic"),
                    Number,
                    "80",
                    false,
                    false,
                ),
                spec(
                    "vitals.heart_rate",
                    lbl("f-vitals-heart_rate"),
                    Number,
                    "",
                    false,
                    false,
                ),
                spec(
                    "vitals.resp_rate",
                    lbl("f-vitals-resp_rate"),
                    Number,
                    "",
                    false,
                    false,
                ),
                spec(
                    "vitals.spo2",
                    lbl("f-vitals-spo2"),
                    Number,
                    "",
                    false,
                    false,
                ),
                spec(
                    "vitals.temperature",
                    lbl("f-vitals-temperature"),
                    Number,
                    "36,6",
                    false,
                    false,
                ),
                spec("lab_results", lbl("f-lab_results"), Area, "", true, false),
                spec(
                    "instrumental_results",
                    lbl("f-instrumental_results"),
                    Area,
                    "",
                    true,
                    false,
                ),
                spec(
                    "current_treatment",
                    lbl("f-current_treatment"),
                    Area,
                    "",
                    true,
                    false,
                ),
                spec(
                    "previous_consultations",
                    lbl("f-previous_consultations"),
                    Area,
                    "",
                    true,
                    false,
                ),
            ],
        ),
        (
            "consent",
            lbl("sec-consent"),
            vec![
                spec(
                    "consent_given",
                    lbl("f-consent_given"),
                    Check,
                    "",
                    true,
                    false,
                ),
                spec(
                    "consent_ground",
                    lbl("f-consent_ground"),
                    Text,
                    "",
                    true,
                    false,
                ),
                spec(
                    "contact_phone",
                    lbl("f-contact_phone"),
                    Text,
                    "+7 900 000-00-00",
                    false,
                    true,
                ),
            ],
        ),
    ]
}

/// The saved value of a form field, as the form shows it.
fn saved_value(d: &ClinicalData, name: &str, lang: Lang) -> (String, bool) {
    let o = |v: &Option<String>| v.clone().unwrap_or_default();
    let n = |v: Option<i32>| v.map(|x| x.to_string()).unwrap_or_default();
    let p = &d.patient;
    let v = match name {
        "patient.last_name" => p.last_name.clone(),
        "patient.first_name" => p.first_name.clone(),
        "patient.middle_name" => p.middle_name.clone(),
        "patient.birth_date" => p
            .birth_date
            .map(|d| fmt::date_input(d, lang))
            .unwrap_or_default(),
        "patient.sex" => p.sex.map(|s| s.as_str().to_string()).unwrap_or_default(),
        "patient.snils" => p
            .snils
            .as_ref()
            .and_then(|s| rtms_domain::validate::Snils::parse(s).ok())
            .map(|s| s.formatted())
            .unwrap_or_default(),
        "patient.oms_policy" => o(&p.oms_policy),
        "patient.oms_policy_type" => o(&p.oms_policy_type),
        "patient.id_doc_type" => o(&p.id_doc_type),
        "patient.id_doc_series" => p.id_doc_series.clone(),
        "patient.id_doc_number" => p.id_doc_number.clone(),
        "patient.id_doc_issuer" => p.id_doc_issuer.clone(),
        "patient.id_doc_issued" => p
            .id_doc_issued
            .map(|d| fmt::date_input(d, lang))
            .unwrap_or_default(),
        "patient.address" => p.address.clone(),
        "patient.unidentified" => return (String::new(), p.unidentified),
        "patient.description" => p.description.clone(),
        "form_of_care" => d
            .form_of_care
            .map(|f| f.as_str().to_string())
            .unwrap_or_default(),
        "mode" => d.mode.map(|m| m.as_str().to_string()).unwrap_or_default(),
        "profile" => o(&d.profile),
        "purpose" => o(&d.purpose),
        "patient_present" => return (String::new(), d.patient_present),
        "diagnosis.main" => o(&d.diagnosis.main),
        "diagnosis.text" => d.diagnosis.text.clone(),
        "diagnosis.complications" => d.diagnosis.complications.join(", "),
        "diagnosis.comorbidities" => d.diagnosis.comorbidities.join(", "),
        "question" => d.question.clone(),
        "anamnesis_morbi" => d.anamnesis_morbi.clone(),
        "anamnesis_vitae" => d.anamnesis_vitae.clone(),
        "epidemiological_history" => d.epidemiological_history.clone(),
        "objective_status" => d.objective_status.clone(),
        "vitals.bp_systolic" => n(d.vitals.bp_systolic),
        "vitals.bp_diastolic" => n(d.vitals.bp_diastolic),
        "vitals.heart_rate" => n(d.vitals.heart_rate),
        "vitals.resp_rate" => n(d.vitals.resp_rate),
        "vitals.spo2" => n(d.vitals.spo2),
        "vitals.temperature" => d
            .vitals
            .temperature
            .map(|t| t.to_string().replace('.', ","))
            .unwrap_or_default(),
        "lab_results" => d.lab_results.clone(),
        "instrumental_results" => d.instrumental_results.clone(),
        "current_treatment" => d.current_treatment.clone(),
        "previous_consultations" => d.previous_consultations.clone(),
        "consent_given" => return (String::new(), d.consent_given),
        "consent_ground" => d.consent_ground.clone(),
        "contact_phone" => d.contact_phone.clone(),
        _ => String::new(),
    };
    (v, false)
}

/// Reads the submitted form into a patch; numbers that are not numbers are reported.
fn patch_from_form(raw: &BTreeMap<String, String>) -> (ConsultationPatch, Vec<FieldError>) {
    let s = |k: &str| raw.get(k).cloned().or_else(|| Some(String::new()));
    let check = |k: &str| {
        Some(
            raw.get(k)
                .is_some_and(|v| v == "on" || v == "1" || v == "true"),
        )
    };
    let codes = |k: &str| {
        Some(
            raw.get(k)
                .map(|v| {
                    v.split([',', ';', ' '])
                        .map(str::trim)
                        .filter(|c| !c.is_empty())
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
        )
    };
    let mut errors = Vec::new();
    let mut int = |k: &'static str| -> Option<i32> {
        let v = raw.get(k).map(|v| v.trim()).unwrap_or("");
        if v.is_empty() {
            return None;
        }
        match v.parse() {
            Ok(x) => Some(x),
            Err(_) => {
                errors.push(FieldError::new(k, "number_format"));
                None
            }
        }
    };
    let vitals = rtms_domain::request::Vitals {
        bp_systolic: int("vitals.bp_systolic"),
        bp_diastolic: int("vitals.bp_diastolic"),
        heart_rate: int("vitals.heart_rate"),
        resp_rate: int("vitals.resp_rate"),
        spo2: int("vitals.spo2"),
        temperature: None,
    };
    let temp = raw
        .get("vitals.temperature")
        .map(|v| v.trim().replace(',', "."))
        .unwrap_or_default();
    let mut vitals = vitals;
    if !temp.is_empty() {
        match temp.parse::<f64>() {
            Ok(t) => vitals.temperature = Some(t),
            Err(_) => errors.push(FieldError::new("vitals.temperature", "number_format")),
        }
    }
    let patch = ConsultationPatch {
        patient: Some(PatientPatch {
            last_name: s("patient.last_name"),
            first_name: s("patient.first_name"),
            middle_name: s("patient.middle_name"),
            birth_date: s("patient.birth_date"),
            sex: s("patient.sex"),
            snils: s("patient.snils"),
            oms_policy: s("patient.oms_policy"),
            address: s("patient.address"),
            unidentified: check("patient.unidentified"),
            description: s("patient.description"),
            id_doc_type: s("patient.id_doc_type"),
            id_doc_series: s("patient.id_doc_series"),
            id_doc_number: s("patient.id_doc_number"),
            id_doc_issuer: s("patient.id_doc_issuer"),
            id_doc_issued: s("patient.id_doc_issued"),
            oms_policy_type: s("patient.oms_policy_type"),
        }),
        form_of_care: s("form_of_care"),
        mode: s("mode"),
        patient_present: check("patient_present"),
        purpose: s("purpose"),
        profile: s("profile"),
        wished_tkc_id: None,
        wished_consultant_id: None,
        diagnosis: Some(DiagnosisPatch {
            main: s("diagnosis.main"),
            complications: codes("diagnosis.complications"),
            comorbidities: codes("diagnosis.comorbidities"),
            text: s("diagnosis.text"),
        }),
        question: s("question"),
        anamnesis_morbi: s("anamnesis_morbi"),
        anamnesis_vitae: s("anamnesis_vitae"),
        epidemiological_history: s("epidemiological_history"),
        objective_status: s("objective_status"),
        vitals: Some(vitals),
        lab_results: s("lab_results"),
        instrumental_results: s("instrumental_results"),
        current_treatment: s("current_treatment"),
        previous_consultations: s("previous_consultations"),
        consent_given: check("consent_given"),
        consent_ground: s("consent_ground"),
        contact_phone: s("contact_phone"),
    };
    (patch, errors)
}

fn error_map(errors: &[FieldError], lang: Lang) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for e in errors {
        let key = e.field.split('[').next().unwrap_or(&e.field).to_string();
        out.entry(key)
            .or_insert_with(|| rtms_i18n::refusal(e.code, lang).to_string());
    }
    out
}

async fn render_edit(
    state: &AppState,
    u: &UiUser,
    id: i64,
    errors: BTreeMap<String, String>,
    typed: Option<BTreeMap<String, String>>,
    saved_at: String,
) -> Response {
    let lang = u.lang;
    let svc = state.svc.clone();
    let actor = u.actor.clone();
    let loaded = blocking(move || {
        let view = svc.consultation(&actor, id, lang)?;
        let unsaved = svc.unsaved_input(&actor, id)?;
        let profiles = svc.profiles(lang)?;
        let purposes = svc.purposes(lang)?;
        let events = svc.events(&actor, id, lang)?;
        let unread = svc.notifications(&actor, lang, 0)?.unread;
        Ok((view, unsaved, profiles, purposes, events, unread))
    })
    .await;
    let (view, unsaved, profiles, purposes, events, unread) = match loaded {
        Ok(v) => v,
        Err(crate::error::AppError::Service(e, _)) => return error_page(u, &e),
        Err(_) => return error_page(u, &ServiceError::NotFound),
    };
    if !view.available_actions.iter().any(|a| {
        matches!(
            a,
            rtms_domain::Action::Submit | rtms_domain::Action::Resubmit
        )
    }) {
        return Redirect::to(&format!("/requests/{id}")).into_response();
    }
    // What was typed but not saved: this request's unsaved input, and whatever this very post carried.
    let mut errors = errors;
    if typed.is_none() && !unsaved.is_empty() {
        let mut probe = ClinicalData::default();
        let (patch, mut problems) = patch_from_form(&unsaved);
        if let Err(e) = probe.apply(&patch, chrono::Utc::now().date_naive()) {
            problems.extend(e);
        }
        for (k, v) in error_map(&problems, lang) {
            if unsaved.contains_key(&k) {
                errors.entry(k).or_insert(v);
            }
        }
        for k in unsaved.keys() {
            errors
                .entry(k.clone())
                .or_insert_with(|| tr(lang, "err-not-saved"));
        }
    }
    let overlay = typed.unwrap_or_else(|| unsaved.clone());
    let d = &view.data;
    let mut sections = Vec::new();
    for (sid, title, specs) in form_layout() {
        let mut fields = Vec::new();
        for sp in specs {
            let (saved, saved_checked) = saved_value(d, sp.name, lang);
            let (value, checked) = match (overlay.get(sp.name), sp.kind) {
                (_, Kind::Check) if !overlay.is_empty() && errors.contains_key(sp.name) => {
                    (String::new(), overlay.contains_key(sp.name))
                }
                (Some(v), Kind::Check) => (String::new(), v == "on"),
                (Some(v), _) if errors.contains_key(sp.name) || !overlay.is_empty() => {
                    (v.clone(), false)
                }
                _ => (saved, saved_checked),
            };
            let options: Vec<(String, String, String)> = match sp.name {
                "patient.sex" => Sex::ALL
                    .iter()
                    .map(|x| {
                        (
                            x.as_str().to_string(),
                            x.label(lang).to_string(),
                            String::new(),
                        )
                    })
                    .collect(),
                "patient.id_doc_type" => rtms_domain::nsi::in_lang(
                    &rtms_domain::nsi::IDENTITY_DOC_CODES,
                    &rtms_domain::nsi::IDENTITY_DOC_CODES_EN,
                    lang,
                )
                .iter()
                .map(|(c, n)| (c.to_string(), n.to_string(), String::new()))
                .collect(),
                "patient.oms_policy_type" => rtms_domain::nsi::in_lang(
                    &rtms_domain::nsi::POLICY_CODES,
                    &rtms_domain::nsi::POLICY_CODES_EN,
                    lang,
                )
                .iter()
                .map(|(c, n)| (c.to_string(), n.to_string(), String::new()))
                .collect(),
                "form_of_care" => FormOfCare::ALL
                    .iter()
                    .map(|x| {
                        (
                            x.as_str().to_string(),
                            x.label(lang).to_string(),
                            String::new(),
                        )
                    })
                    .collect(),
                "mode" => Mode::ALL
                    .iter()
                    .map(|x| {
                        (
                            x.as_str().to_string(),
                            x.label(lang).to_string(),
                            String::new(),
                        )
                    })
                    .collect(),
                "profile" => profiles
                    .iter()
                    .map(|x| (x.code.clone(), x.name.clone(), x.hint.clone()))
                    .collect(),
                "purpose" => purposes
                    .iter()
                    .map(|x| (x.code.clone(), x.name.clone(), String::new()))
                    .collect(),
                _ => Vec::new(),
            };
            fields.push(Field {
                name: sp.name,
                label: tr(lang, sp.label),
                kind: sp.kind,
                error: errors.get(sp.name).cloned().unwrap_or_default(),
                value,
                checked,
                // Placeholders are examples, except the date's pattern, which is words.
                placeholder: if sp.placeholder.starts_with("date-") {
                    tr(lang, sp.placeholder)
                } else {
                    sp.placeholder.to_string()
                },
                options,
                wide: sp.wide,
                required: sp.required,
            });
        }
        sections.push(Section {
            title: tr(lang, title),
            id: sid,
            fields,
        });
    }
    let profile_hint = d
        .profile
        .as_ref()
        .and_then(|c| profiles.iter().find(|p| &p.code == c))
        .map(|p| p.hint.clone())
        .unwrap_or_default();
    let returned_comment = events
        .iter()
        .rev()
        .find(|e| e.action == "return")
        .map(|e| e.comment.clone())
        .unwrap_or_default();
    let title = format!(
        "{} {} {}",
        tr(lang, "edit-title"),
        tr(lang, "number-sign"),
        id
    );
    let error_count = errors.len();
    render(EditTpl {
        p: Page::for_user(u, title, "new", unread),
        id,
        status_label: view.status_label,
        sections,
        error_count,
        saved_at,
        profile_hint,
        returned_comment,
    })
}

pub async fn edit_form(State(state): State<AppState>, u: UiUser, Path(id): Path<i64>) -> Response {
    render_edit(&state, &u, id, BTreeMap::new(), None, String::new()).await
}

fn form_map(pairs: Vec<(String, String)>) -> BTreeMap<String, String> {
    let mut raw = BTreeMap::new();
    for (k, v) in pairs {
        raw.insert(k, v);
    }
    raw
}

async fn save(
    state: &AppState,
    u: &UiUser,
    id: i64,
    raw: &BTreeMap<String, String>,
) -> Result<Vec<FieldError>, ServiceError> {
    let (patch, unreadable) = patch_from_form(raw);
    let svc = state.svc.clone();
    let actor = u.actor.clone();
    let raw = raw.clone();
    blocking(move || svc.save_form(&actor, id, patch, &raw, unreadable))
        .await
        .map_err(|e| match e {
            crate::error::AppError::Service(s, _) => s,
            _ => ServiceError::NotFound,
        })
}

/// The form's "save" and "send" buttons: save what is valid, then submit if asked.
pub async fn save_form(
    State(state): State<AppState>,
    u: UiUser,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let lang = u.lang;
    let raw = form_map(pairs);
    let problems = match save(&state, &u, id, &raw).await {
        Ok(p) => p,
        // Not saved at all (someone changed the request meanwhile): the form comes
        // back with everything as typed and says why, rather than an error page.
        Err(e @ (ServiceError::Concurrent | ServiceError::WrongState { .. })) => {
            let resp = render_edit(
                &state,
                &u,
                id,
                BTreeMap::new(),
                Some(raw),
                crate::error::message(&e, lang),
            )
            .await;
            return with_error_status(resp, &e);
        }
        Err(e) => return error_page(&u, &e),
    };
    let submit = raw.get("intent").map(String::as_str) == Some("submit");
    if !submit || !problems.is_empty() {
        let saved = tr(
            lang,
            if problems.is_empty() {
                "edit-saved"
            } else {
                "edit-saved-partly"
            },
        );
        let resp = render_edit(&state, &u, id, error_map(&problems, lang), Some(raw), saved).await;
        return if problems.is_empty() {
            resp
        } else {
            (StatusCode::UNPROCESSABLE_ENTITY, resp).into_response()
        };
    }
    let svc = state.svc.clone();
    let actor = u.actor.clone();
    let result = blocking(move || {
        let view = svc.consultation(&actor, id, lang)?;
        let action = if view.status == Status::Returned {
            rtms_domain::Action::Resubmit
        } else {
            rtms_domain::Action::Submit
        };
        svc.act(&actor, id, action, &Default::default())
    })
    .await;
    match result {
        Ok(_) => Redirect::to(&format!("/requests/{id}")).into_response(),
        Err(crate::error::AppError::Service(ServiceError::Invalid(errors), _)) => {
            let resp = render_edit(
                &state,
                &u,
                id,
                error_map(&errors, lang),
                Some(raw),
                tr(lang, "edit-not-sent"),
            )
            .await;
            (StatusCode::UNPROCESSABLE_ENTITY, resp).into_response()
        }
        Err(crate::error::AppError::Service(e, _)) => error_page(&u, &e),
        Err(_) => error_page(&u, &ServiceError::NotFound),
    }
}

/// Saves as the doctor types; answers with the save status line.
pub async fn autosave(
    State(state): State<AppState>,
    u: UiUser,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let lang = u.lang;
    let raw = form_map(pairs);
    let text = match save(&state, &u, id, &raw).await {
        Ok(p) if p.is_empty() => format!(
            "{} {}",
            tr(lang, "edit-autosaved"),
            chrono::Utc::now()
                .with_timezone(&Page::for_user(&u, String::new(), "", 0).tz)
                .format("%H:%M:%S")
        ),
        Ok(p) => format!("{} ({})", tr(lang, "edit-saved-partly"), p.len()),
        Err(e) => {
            let status = crate::error::status_of(&e);
            return (
                status,
                [(header::CACHE_CONTROL, "no-store")],
                crate::error::message(&e, lang),
            )
                .into_response();
        }
    };
    (
        [(header::CACHE_CONTROL, "no-store")],
        askama::filters::escape(&text, askama::filters::Html)
            .map(|s| s.to_string())
            .unwrap_or_default(),
    )
        .into_response()
}

#[derive(Deserialize)]
pub struct IcdQuery {
    #[serde(default, rename = "diagnosis.main")]
    main: String,
    #[serde(default)]
    q: String,
}

#[derive(Template)]
#[template(path = "icd_suggest.html")]
struct IcdTpl {
    items: Vec<(String, String)>,
    target: String,
}

/// МКБ-10 search as you type: a list of matches under the field.
pub async fn icd10_suggest(
    State(state): State<AppState>,
    _u: UiUser,
    headers: HeaderMap,
    Query(q): Query<IcdQuery>,
) -> Response {
    let text = if q.q.is_empty() { q.main } else { q.q };
    let target = headers
        .get("hx-trigger-name")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("diagnosis.main")
        .to_string();
    if text.trim().chars().count() < 2 {
        return render(IcdTpl {
            items: vec![],
            target,
        });
    }
    let svc = state.svc.clone();
    let items = blocking(move || svc.search_icd10(&text, 12))
        .await
        .unwrap_or_default();
    render(IcdTpl {
        items: items.into_iter().map(|i| (i.code, i.name)).collect(),
        target,
    })
}

// ---- notifications and the live stream ------------------------------------------------

#[derive(Template)]
#[template(path = "notifications.html")]
struct NotificationsTpl {
    p: Page,
    items: Vec<(i64, String, String, bool)>,
}

pub async fn notifications(State(state): State<AppState>, u: UiUser) -> Response {
    let lang = u.lang;
    let svc = state.svc.clone();
    let actor = u.actor.clone();
    let list = match blocking(move || svc.notifications(&actor, lang, 15)).await {
        Ok(l) => l,
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    let p = Page::for_user(&u, String::new(), "", list.unread);
    let items = list
        .items
        .iter()
        .map(|n| {
            (
                n.consultation_id,
                n.text.clone(),
                fmt::datetime(n.created_at, p.tz, None, lang),
                n.read,
            )
        })
        .collect();
    render(NotificationsTpl { p, items })
}

pub async fn notifications_read(State(state): State<AppState>, u: UiUser) -> Response {
    let svc = state.svc.clone();
    let actor = u.actor.clone();
    let _ = blocking(move || svc.mark_notifications_read(&actor)).await;
    StatusCode::NO_CONTENT.into_response()
}

/// Server-sent events for this user: `notification` for what concerns them,
/// `queue` when any request changed (the page refreshes its own filtered list).
pub async fn live(
    State(state): State<AppState>,
    u: UiUser,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let user_id = u.actor.user.id;
    let lang = u.lang;
    let clinical = u.actor.has_clinical_role();
    let rx = state.svc.live.subscribe();
    // The stream ends within STREAM_RECHECK_SECONDS of the session ending
    // (sign-out, revocation, expiry, the user switched off).
    let (svc, token) = (state.svc.clone(), u.token.clone());
    let ended = async move {
        let every = StdDuration::from_secs(rtms_service::access::sessions::STREAM_RECHECK_SECONDS);
        loop {
            tokio::time::sleep(every).await;
            let (svc, token) = (svc.clone(), token.clone());
            let alive = tokio::task::spawn_blocking(move || svc.session_alive(&token))
                .await
                .unwrap_or(false);
            if !alive {
                break;
            }
        }
    };
    let stream = BroadcastStream::new(rx).filter_map(move |msg| {
        let ev = msg.ok()?;
        if ev.users.contains(&user_id) {
            let data = serde_json::json!({
                "consultation_id": ev.consultation_id,
                "kind": ev.kind,
                "text": rtms_service::lifecycle::notifications::kind_label(&ev.kind, lang),
                "emergency": matches!(ev.kind.as_str(), "emergency" | "duty_call" | "duty_alarm"),
            });
            return Some(Ok(Event::default()
                .event("notification")
                .data(data.to_string())));
        }
        if ev.queue_changed && clinical {
            return Some(Ok(Event::default()
                .event("queue")
                .data(ev.consultation_id.to_string())));
        }
        None
    });
    let stream = futures_util::StreamExt::take_until(stream, Box::pin(ended));
    Sse::new(stream).keep_alive(KeepAlive::new().interval(StdDuration::from_secs(20)))
}
