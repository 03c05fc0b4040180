//! Who is calling from a browser: the session and language cookies, the
//! signed-in user of a page (`UiUser`, a redirect to sign-in without one),
//! the gates every session door applies (a temporary password, a second
//! factor the region requires), and the caller behind a cookie for the file
//! doors of the API. Pages and the API both take these from here.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use rtms_domain::Lang;
use rtms_service::Actor;

use crate::{blocking, AppState};

pub const SESSION_COOKIE: &str = "rtms_session";
pub const LANG_COOKIE: &str = "rtms_lang";

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
