//! The frame of every page: language, who is signed in, the navigation
//! (`Page`), and rendering a template into a response.

use super::{fmt, i18n};
use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use chrono_tz::Tz;
use rtms_domain::{Lang, Role};
use rtms_i18n::Label;
use rtms_service::ServiceError;

use crate::error::{message, status_of};
use crate::session::{form_urlencode, UiUser};

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

/// A page that shows an error of an action keeps the status that error
/// means (`crate::error::status_of`, the API's map).
pub(crate) fn with_error_status(mut r: Response, e: &ServiceError) -> Response {
    if r.status() == StatusCode::UNPROCESSABLE_ENTITY {
        *r.status_mut() = status_of(e);
    }
    r
}

/// A service error as a page: its message in the user's language, with the
/// status the API gives the same error.
pub(crate) fn error_page(u: &UiUser, e: &ServiceError) -> Response {
    let lang = u.lang;
    let p = Page::for_user(u, i18n::tr(lang, "err-title"), "", 0);
    (
        status_of(e),
        render(ErrorTpl {
            p,
            message: message(e, lang),
        }),
    )
        .into_response()
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorTpl {
    p: Page,
    message: String,
}

/// Runs a service call on the blocking pool for a page, which shows a
/// refusal itself (`error_page`, or the form again with its errors).
pub(crate) async fn svc_call<T: Send + 'static>(
    state: &crate::AppState,
    f: impl FnOnce(rtms_service::Services) -> Result<T, ServiceError> + Send + 'static,
) -> Result<T, ServiceError> {
    let svc = state.svc.clone();
    crate::blocking(move || f(svc)).await.map_err(|e| match e {
        crate::error::AppError::Service(s, _) => s,
        _ => ServiceError::NotFound,
    })
}
