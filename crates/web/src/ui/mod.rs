//! The web interface: server-rendered pages (askama) with htmx, Russian first.
//! Handlers here only translate between forms and services; the rules live in
//! the service layer.

mod admin_pages;
pub(crate) mod file_pages;
pub use file_pages::verify_file;
pub mod fmt;
pub mod i18n;
mod pages;
mod report_pages;
mod request_page;
pub mod video_pages;

use askama::Template;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono_tz::Tz;
use rtms_domain::{Lang, Role};
use rtms_i18n::Label;
use rtms_service::Actor;

use crate::{blocking, AppState};

pub const SESSION_COOKIE: &str = "rtms_session";
pub const LANG_COOKIE: &str = "rtms_lang";

/// One page route: its path, the methods it answers, its handler. The router is
/// built from this list, and the access tests walk the same list, so a page
/// cannot be added without its access being tested.
pub struct UiRoute {
    pub path: &'static str,
    pub methods: &'static [&'static str],
    pub handler: axum::routing::MethodRouter<AppState>,
}

pub fn ui_routes() -> Vec<UiRoute> {
    vec![
        UiRoute {
            path: "/",
            methods: &["GET"],
            handler: get(pages::index),
        },
        UiRoute {
            path: "/login",
            methods: &["GET", "POST"],
            handler: get(pages::login_form).post(pages::login),
        },
        UiRoute {
            path: "/login/code",
            methods: &["POST"],
            handler: post(pages::login_code),
        },
        UiRoute {
            path: "/logout",
            methods: &["POST"],
            handler: post(pages::logout),
        },
        UiRoute {
            path: "/lang/{lang}",
            methods: &["GET"],
            handler: get(pages::set_lang),
        },
        UiRoute {
            path: "/password",
            methods: &["GET", "POST"],
            handler: get(pages::password_form).post(pages::change_password),
        },
        UiRoute {
            path: "/sessions",
            methods: &["GET"],
            handler: get(pages::sessions),
        },
        UiRoute {
            path: "/sessions/{id}/end",
            methods: &["POST"],
            handler: post(pages::end_session),
        },
        UiRoute {
            path: "/sessions/end-others",
            methods: &["POST"],
            handler: post(pages::end_other_sessions),
        },
        UiRoute {
            path: "/settings/email",
            methods: &["POST"],
            handler: post(pages::set_email_mode),
        },
        UiRoute {
            path: "/tokens",
            methods: &["POST"],
            handler: post(pages::create_token),
        },
        UiRoute {
            path: "/totp",
            methods: &["GET", "POST"],
            handler: get(pages::totp_form).post(pages::totp_confirm),
        },
        UiRoute {
            path: "/totp/begin",
            methods: &["POST"],
            handler: post(pages::totp_begin),
        },
        UiRoute {
            path: "/queue",
            methods: &["GET"],
            handler: get(pages::queue),
        },
        UiRoute {
            path: "/requests",
            methods: &["POST"],
            handler: post(pages::create_request),
        },
        UiRoute {
            path: "/requests/{id}",
            methods: &["GET"],
            handler: get(request_page::show),
        },
        UiRoute {
            path: "/verify",
            methods: &["GET", "POST"],
            handler: get(file_pages::verify_form)
                .post(file_pages::verify_upload)
                .layer(axum::extract::DefaultBodyLimit::max(
                    crate::limits::VERIFY_MAX_BYTES + crate::limits::FORM_OVERHEAD_BYTES,
                )),
        },
        UiRoute {
            path: "/attachments/{id}/view",
            methods: &["GET"],
            handler: get(file_pages::viewer),
        },
        UiRoute {
            path: "/requests/{id}/edit",
            methods: &["GET", "POST"],
            handler: get(pages::edit_form).post(pages::save_form),
        },
        UiRoute {
            path: "/requests/{id}/autosave",
            methods: &["POST"],
            handler: post(pages::autosave),
        },
        UiRoute {
            path: "/requests/{id}/act/{action}",
            methods: &["POST"],
            handler: post(request_page::act),
        },
        UiRoute {
            path: "/requests/{id}/messages",
            methods: &["POST"],
            handler: post(request_page::post_message),
        },
        UiRoute {
            path: "/requests/{id}/conclusion",
            methods: &["POST"],
            handler: post(request_page::save_conclusion),
        },
        UiRoute {
            path: "/icd10",
            methods: &["GET"],
            handler: get(pages::icd10_suggest),
        },
        UiRoute {
            path: "/notifications",
            methods: &["GET"],
            handler: get(pages::notifications),
        },
        UiRoute {
            path: "/notifications/read",
            methods: &["POST"],
            handler: post(pages::notifications_read),
        },
        UiRoute {
            path: "/live",
            methods: &["GET"],
            handler: get(pages::live),
        },
        UiRoute {
            path: "/admin",
            methods: &["GET"],
            handler: get(|| async { Redirect::to("/admin/users") }),
        },
        UiRoute {
            path: "/admin/orgs",
            methods: &["GET", "POST"],
            handler: get(admin_pages::orgs).post(admin_pages::save_org),
        },
        UiRoute {
            path: "/admin/users",
            methods: &["GET", "POST"],
            handler: get(admin_pages::users).post(admin_pages::create_user),
        },
        UiRoute {
            path: "/admin/users/import",
            methods: &["POST"],
            handler: post(admin_pages::import_users),
        },
        UiRoute {
            path: "/admin/users/{id}",
            methods: &["GET", "POST"],
            handler: get(admin_pages::user).post(admin_pages::update_user),
        },
        UiRoute {
            path: "/admin/users/{id}/roles",
            methods: &["POST"],
            handler: post(admin_pages::add_role),
        },
        UiRoute {
            path: "/admin/users/{id}/roles/{membership}/remove",
            methods: &["POST"],
            handler: post(admin_pages::remove_role),
        },
        UiRoute {
            path: "/admin/users/{id}/reset-password",
            methods: &["POST"],
            handler: post(admin_pages::reset_password),
        },
        UiRoute {
            path: "/admin/users/{id}/unlock",
            methods: &["POST"],
            handler: post(admin_pages::unlock_user),
        },
        UiRoute {
            path: "/admin/routes",
            methods: &["GET"],
            handler: get(admin_pages::routes),
        },
        UiRoute {
            path: "/admin/routes/{profile}",
            methods: &["POST"],
            handler: post(admin_pages::save_route),
        },
        UiRoute {
            path: "/admin/settings",
            methods: &["GET", "POST"],
            handler: get(admin_pages::settings).post(admin_pages::save_settings),
        },
        UiRoute {
            path: "/admin/reference/icd10",
            methods: &["POST"],
            handler: post(admin_pages::import_icd10),
        },
        UiRoute {
            path: "/audit",
            methods: &["GET"],
            handler: get(admin_pages::audit),
        },
        UiRoute {
            path: "/reports",
            methods: &["GET"],
            handler: get(report_pages::reports),
        },
        UiRoute {
            path: "/reports.csv",
            methods: &["GET"],
            handler: get(report_pages::reports_csv),
        },
        UiRoute {
            path: "/reports.xlsx",
            methods: &["GET"],
            handler: get(report_pages::reports_xlsx),
        },
        UiRoute {
            path: "/reports.pdf",
            methods: &["GET"],
            handler: get(report_pages::reports_pdf),
        },
        UiRoute {
            path: "/audit.csv",
            methods: &["GET"],
            handler: get(admin_pages::audit_csv),
        },
        UiRoute {
            path: "/requests/{id}/federal",
            methods: &["POST"],
            handler: post(request_page::record_federal),
        },
        UiRoute {
            path: "/requests/{id}/federal-resend",
            methods: &["POST"],
            handler: post(request_page::resend_federal),
        },
        UiRoute {
            path: "/requests/{id}/correct",
            methods: &["POST"],
            handler: post(request_page::correct),
        },
        UiRoute {
            path: "/requests/{id}/cms",
            methods: &["POST"],
            handler: post(request_page::add_cms),
        },
        UiRoute {
            path: "/requests/{id}/video-now",
            methods: &["POST"],
            handler: post(video_pages::video_now),
        },
        UiRoute {
            path: "/video",
            methods: &["GET"],
            handler: get(video_pages::calendar),
        },
        UiRoute {
            path: "/video/feed",
            methods: &["POST"],
            handler: post(video_pages::new_feed),
        },
        UiRoute {
            path: "/video/feed/revoke",
            methods: &["POST"],
            handler: post(video_pages::revoke_feed),
        },
        UiRoute {
            path: "/video/check",
            methods: &["GET"],
            handler: get(video_pages::check),
        },
        UiRoute {
            path: "/video/{id}",
            methods: &["GET"],
            handler: get(video_pages::room),
        },
        UiRoute {
            path: "/video/{id}/cancel",
            methods: &["POST"],
            handler: post(video_pages::cancel),
        },
        UiRoute {
            path: "/video/{id}/ws",
            methods: &["GET"],
            handler: get(video_pages::signal),
        },
        UiRoute {
            path: "/ics/{token}",
            methods: &["GET"],
            handler: get(video_pages::ics),
        },
        UiRoute {
            path: "/requests/{id}/semd",
            methods: &["GET"],
            handler: get(request_page::semd_print),
        },
        UiRoute {
            path: "/static/{file}",
            methods: &["GET"],
            handler: get(static_file),
        },
        UiRoute {
            path: "/favicon.ico",
            methods: &["GET"],
            handler: get(|| async { StatusCode::NO_CONTENT }),
        },
    ]
}

pub fn router() -> Router<AppState> {
    ui_routes()
        .into_iter()
        .fold(Router::new(), |r, route| r.route(route.path, route.handler))
}

pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// The language of a page: the switch's cookie, else the browser's preference.
pub fn request_lang(headers: &HeaderMap) -> Lang {
    match cookie(headers, LANG_COOKIE).as_deref() {
        Some("en") => Lang::En,
        Some("ru") => Lang::Ru,
        _ => Lang::from_accept_language(
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or(""),
        ),
    }
}

/// A signed-in user of the web interface; without a session, a redirect to sign-in.
pub struct UiUser {
    pub actor: Actor,
    pub token: String,
    pub lang: Lang,
    pub path: String,
}

impl FromRequestParts<AppState> for UiUser {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let path = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into());
        let to_login = || {
            let next = if parts.method == Method::GET {
                path.clone()
            } else {
                "/".into()
            };
            let target = format!("/login?next={}", form_urlencode(&next));
            if parts.headers.contains_key("hx-request") {
                // htmx follows a redirect inside the page; tell it to leave the page instead.
                let mut r = StatusCode::UNAUTHORIZED.into_response();
                r.headers_mut().insert(
                    "HX-Redirect",
                    HeaderValue::from_str(&target).unwrap_or(HeaderValue::from_static("/login")),
                );
                r
            } else {
                Redirect::to(&target).into_response()
            }
        };
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(to_login());
        };
        let svc = state.svc.clone();
        let t = token.clone();
        let client = crate::client_of(parts, state);
        let actor = match blocking(move || svc.authenticate(&t, &client, &["session"])).await {
            Ok(a) => a,
            Err(_) => return Err(to_login()),
        };
        // A temporary password is changed first; an administrator the region
        // requires it of enrols a second factor first.
        let p = parts.uri.path();
        let exempt = p == "/password"
            || p == "/logout"
            || p == "/totp"
            || p == "/totp/begin"
            || p.starts_with("/static/")
            || p.starts_with("/lang/");
        if !exempt {
            match gate(state, &actor) {
                Some(Gate::ChangePassword) => return Err(Redirect::to("/password").into_response()),
                Some(Gate::EnrolTotp) => return Err(Redirect::to("/totp").into_response()),
                None => {}
            }
        }
        let lang = match cookie(&parts.headers, LANG_COOKIE).as_deref() {
            Some("en") => Lang::En,
            Some("ru") => Lang::Ru,
            _ if actor.user.locale == "en" => Lang::En,
            _ => Lang::Ru,
        };
        Ok(UiUser {
            actor,
            token,
            lang,
            path,
        })
    }
}

/// What a signed-in user must do before anything else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// The password is temporary: change it first.
    ChangePassword,
    /// The region requires administrators to use a second factor: enrol first.
    EnrolTotp,
}

impl Gate {
    /// The message code (`rtms_domain::validate::message`) for callers that
    /// cannot be redirected (downloads, uploads).
    pub fn code(self) -> &'static str {
        match self {
            Gate::ChangePassword => "password_change_first",
            Gate::EnrolTotp => "totp_enrolment_first",
        }
    }
}

/// The gates every session-cookie door applies, pages and files alike.
pub fn gate(state: &AppState, actor: &Actor) -> Option<Gate> {
    if actor.user.must_change_password {
        return Some(Gate::ChangePassword);
    }
    if !actor.user.totp_enabled && state.svc.totp_required_for(actor) {
        return Some(Gate::EnrolTotp);
    }
    None
}

/// The caller behind a session cookie, for doors other than pages (file
/// downloads and uploads): authenticated, and through the same gates as pages.
pub async fn cookie_actor(
    parts: &Parts,
    state: &AppState,
    token: String,
) -> Result<Actor, rtms_service::ServiceError> {
    let svc = state.svc.clone();
    let client = crate::client_of(parts, state);
    let actor = blocking(move || svc.authenticate(&token, &client, &["session"]))
        .await
        .map_err(|e| match e {
            crate::error::AppError::Service(e, _) => e,
            _ => rtms_service::ServiceError::Unauthenticated,
        })?;
    if let Some(g) = gate(state, &actor) {
        return Err(rtms_service::ServiceError::refused(g.code()));
    }
    Ok(actor)
}

pub fn form_urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)])
        .map(|s| s[1..].to_string())
        .unwrap_or_default()
}

/// What every page's frame needs: language, who is signed in, where we are.
pub struct Page {
    pub lang: Lang,
    pub title: String,
    pub user_name: String,
    pub user_roles: String,
    pub nav: &'static str,
    pub path: String,
    pub tz: Tz,
    pub signed_in: bool,
    pub unread: i64,
    pub can_create: bool,
    pub is_admin: bool,
    pub is_auditor: bool,
    pub is_clinical: bool,
    pub sees_reports: bool,
    pub sees_video: bool,
}

impl Page {
    pub fn public(lang: Lang, title_key: &str, path: &str) -> Page {
        Page {
            lang,
            title: i18n::tr(lang, title_key),
            user_name: String::new(),
            user_roles: String::new(),
            nav: "",
            path: path.to_string(),
            tz: chrono_tz::Europe::Moscow,
            signed_in: false,
            unread: 0,
            can_create: false,
            is_admin: false,
            is_auditor: false,
            is_clinical: false,
            sees_reports: false,
            sees_video: false,
        }
    }

    pub fn for_user(u: &UiUser, title: String, nav: &'static str, unread: i64) -> Page {
        let a = &u.actor;
        let roles = a
            .roles
            .iter()
            .map(|r| format!("{} · {}", r.role.label(u.lang), r.org.short_name))
            .collect::<Vec<_>>()
            .join("; ");
        Page {
            lang: u.lang,
            title,
            user_name: a.user.short_name(),
            user_roles: roles,
            nav,
            path: u.path.clone(),
            tz: a
                .roles
                .first()
                .map(|r| fmt::tz(&r.org.time_zone))
                .unwrap_or(chrono_tz::Europe::Moscow),
            signed_in: true,
            unread,
            can_create: a.has(Role::Doctor),
            is_admin: a.has(Role::Admin),
            is_auditor: a.has(Role::Auditor),
            is_clinical: a.has_clinical_role(),
            sees_reports: a.has(Role::Analyst) || a.has(Role::Head) || a.is_dispatcher(),
            sees_video: rtms_service::Services::may_video(a),
        }
    }

    pub fn t(&self, key: &str) -> String {
        i18n::tr(self.lang, key)
    }

    /// A count with its noun, in the right plural form («21 снимок»).
    pub fn tn(&self, key: &str, count: &usize) -> String {
        i18n::tr_count(self.lang, key, i64::try_from(*count).unwrap_or(i64::MAX))
    }

    pub fn lang_code(&self) -> &'static str {
        match self.lang {
            Lang::Ru => "ru",
            Lang::En => "en",
        }
    }

    pub fn other_lang(&self) -> &'static str {
        match self.lang {
            Lang::Ru => "en",
            Lang::En => "ru",
        }
    }

    pub fn back(&self) -> String {
        form_urlencode(&self.path)
    }
}

pub fn render(t: impl Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "template error").into_response()
        }
    }
}

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

async fn static_file(axum::extract::Path(file): axum::extract::Path<String>) -> Response {
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
