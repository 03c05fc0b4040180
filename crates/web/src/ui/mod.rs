//! The web interface: server-rendered pages (askama) with htmx, Russian first.
//! Handlers here only translate between forms and services; the rules live in
//! the service layer.

mod admin_pages;
mod assets;
mod cms;
mod duty_pages;
pub(crate) use duty_pages::roster_xlsx;
pub(crate) mod file_pages;
pub use file_pages::verify_file;
pub mod fmt;
pub mod headers;
pub mod i18n;
mod pages;
mod report_pages;
mod request_page;
mod shell;
pub mod video_pages;

use axum::http::StatusCode;
use axum::response::Redirect;
use axum::routing::{get, post};
use axum::Router;

use crate::AppState;

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
            path: "/duty",
            methods: &["GET"],
            handler: get(duty_pages::board),
        },
        UiRoute {
            path: "/duty/roster",
            methods: &["GET"],
            handler: get(duty_pages::roster),
        },
        UiRoute {
            path: "/duty/roster/{tkc}/shifts",
            methods: &["POST"],
            handler: post(duty_pages::add_shift),
        },
        UiRoute {
            path: "/duty/roster/{tkc}/shifts/{id}/delete",
            methods: &["POST"],
            handler: post(duty_pages::delete_shift),
        },
        UiRoute {
            path: "/duty/roster/{tkc}/copy-week",
            methods: &["POST"],
            handler: post(duty_pages::copy_week),
        },
        UiRoute {
            path: "/duty/roster/{tkc}/import",
            methods: &["POST"],
            handler: post(duty_pages::import),
        },
        UiRoute {
            path: "/duty/roster/{tkc}/roster.csv",
            methods: &["GET"],
            handler: get(duty_pages::export_csv),
        },
        UiRoute {
            path: "/duty/roster/{tkc}/roster.xlsx",
            methods: &["GET"],
            handler: get(duty_pages::export_xlsx),
        },
        UiRoute {
            path: "/duty/roster/{tkc}/absences",
            methods: &["POST"],
            handler: post(duty_pages::add_absence),
        },
        UiRoute {
            path: "/duty/roster/{tkc}/absences/{id}/delete",
            methods: &["POST"],
            handler: post(duty_pages::delete_absence),
        },
        UiRoute {
            path: "/duty/roster/{tkc}/phones",
            methods: &["POST"],
            handler: post(duty_pages::phones),
        },
        UiRoute {
            path: "/duty/calendar",
            methods: &["POST"],
            handler: post(duty_pages::calendar),
        },
        UiRoute {
            path: "/requests/{id}/duty-ack",
            methods: &["POST"],
            handler: post(duty_pages::ack),
        },
        UiRoute {
            path: "/static/{file}",
            methods: &["GET"],
            handler: get(assets::static_file),
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
