//! Administration and the audit log over the API (administrators and auditors).

use super::{Path, Query};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use rtms_service::access::audit::{day_start, AuditPage};
use rtms_service::directory::admin::*;
use rtms_store::audit::AuditFilter;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{created, Body, Caller};
use crate::error::{AppError, Problem};
use crate::{blocking, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_orgs, create_org))
        .routes(routes!(update_org))
        .routes(routes!(list_users, create_user))
        .routes(routes!(update_user))
        .routes(routes!(add_role))
        .routes(routes!(remove_role))
        .routes(routes!(reset_password))
        .routes(routes!(import_users))
        .routes(routes!(list_routes, set_route))
        .routes(routes!(get_settings, put_settings))
        .routes(routes!(import_icd10))
        .routes(routes!(audit_log))
}

/// All organizations.
#[utoipa::path(get, path = "/api/v1/admin/organizations", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = Vec<OrgAdminView>), (status = 403, body = Problem)))]
async fn list_orgs(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<OrgAdminView>>, AppError> {
    Ok(Json(
        call!(state, caller, |svc, actor| svc.admin_organizations(&actor))?
    ))
}

/// Creates an organization.
#[utoipa::path(post, path = "/api/v1/admin/organizations", tag = "admin", request_body = OrgInput, security(("bearer" = [])),
    responses((status = 201, body = i64, content_type = "application/json", description = "The new organization's id"), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn create_org(
    State(state): State<AppState>,
    caller: Caller,
    Body(input): Body<OrgInput>,
) -> Result<(StatusCode, Json<i64>), AppError> {
    Ok(created(call!(state, caller, |svc, actor| svc
        .create_organization(&actor, &input))?))
}

/// Changes an organization.
#[utoipa::path(put, path = "/api/v1/admin/organizations/{id}", tag = "admin", params(("id" = i64, Path)), request_body = OrgInput, security(("bearer" = [])),
    responses((status = 204), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn update_org(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Body(input): Body<OrgInput>,
) -> Result<StatusCode, AppError> {
    call!(state, caller, |svc, actor| svc
        .update_organization(&actor, id, &input))?;
    Ok(StatusCode::NO_CONTENT)
}

/// All users with their roles.
#[utoipa::path(get, path = "/api/v1/admin/users", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = Vec<UserAdminView>), (status = 403, body = Problem)))]
async fn list_users(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<UserAdminView>>, AppError> {
    Ok(Json(
        call!(state, caller, |svc, actor| svc.admin_users(&actor))?
    ))
}

/// Creates a user with a temporary password (returned once; changed at first sign-in).
#[utoipa::path(post, path = "/api/v1/admin/users", tag = "admin", request_body = UserInput, security(("bearer" = [])),
    responses((status = 201, body = CreatedUser), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    Body(input): Body<UserInput>,
) -> Result<(StatusCode, Json<CreatedUser>), AppError> {
    Ok(created(call!(state, caller, |svc, actor| svc
        .admin_create_user(&actor, &input))?))
}

/// Changes a user's card; `active: false` deactivates without losing history.
#[utoipa::path(put, path = "/api/v1/admin/users/{id}", tag = "admin", params(("id" = i64, Path)), request_body = UserUpdate, security(("bearer" = [])),
    responses((status = 204), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn update_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Body(input): Body<UserUpdate>,
) -> Result<StatusCode, AppError> {
    call!(state, caller, |svc, actor| svc
        .admin_update_user(&actor, id, &input))?;
    Ok(StatusCode::NO_CONTENT)
}

/// Gives a user a role in an organization.
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/roles", tag = "admin", params(("id" = i64, Path)), request_body = RoleAssignment, security(("bearer" = [])),
    responses((status = 204), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn add_role(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Body(input): Body<RoleAssignment>,
) -> Result<StatusCode, AppError> {
    call!(state, caller, |svc, actor| svc
        .admin_add_role(&actor, id, &input))?;
    Ok(StatusCode::NO_CONTENT)
}

/// Takes a role away.
#[utoipa::path(delete, path = "/api/v1/admin/users/{id}/roles/{membership_id}", tag = "admin", params(("id" = i64, Path), ("membership_id" = i64, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn remove_role(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, membership_id)): Path<(i64, i64)>,
) -> Result<StatusCode, AppError> {
    call!(state, caller, |svc, actor| svc.admin_remove_role(
        &actor,
        id,
        membership_id
    ))?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sets a new temporary password and unlocks the account; returns the password once.
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/reset-password", tag = "admin", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = String, content_type = "application/json", description = "The temporary password, shown once"), (status = 403, body = Problem)))]
async fn reset_password(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<String>, AppError> {
    Ok(Json(call!(state, caller, |svc, actor| svc
        .admin_reset_password(&actor, id))?))
}

/// Imports users from CSV (the body, `text/csv`); answers with a per-row report.
#[utoipa::path(post, path = "/api/v1/admin/users/import", tag = "admin", request_body(content = String, content_type = "text/csv"), security(("bearer" = [])),
    responses((status = 200, body = Vec<ImportRow>), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn import_users(
    State(state): State<AppState>,
    caller: Caller,
    super::Text(body): super::Text,
) -> Result<Json<Vec<ImportRow>>, AppError> {
    Ok(Json(call!(state, caller, |svc, actor| svc
        .admin_import_users(&actor, &body))?))
}

/// The route table: profile + form of care → consultation centre (and on-duty consultant).
#[utoipa::path(get, path = "/api/v1/admin/routes", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = Vec<RouteAdminView>), (status = 403, body = Problem)))]
async fn list_routes(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<RouteAdminView>>, AppError> {
    Ok(Json(
        call!(state, caller, |svc, actor| svc.admin_routes(&actor))?
    ))
}

/// Sets (or with `tkc_id: null` removes) one route.
#[utoipa::path(put, path = "/api/v1/admin/routes", tag = "admin", request_body = RouteInput, security(("bearer" = [])),
    responses((status = 204), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn set_route(
    State(state): State<AppState>,
    caller: Caller,
    Body(input): Body<RouteInput>,
) -> Result<StatusCode, AppError> {
    call!(state, caller, |svc, actor| svc
        .admin_set_route(&actor, &input))?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deadlines per form of care and sign-in settings.
#[utoipa::path(get, path = "/api/v1/admin/settings", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = RegionSettings), (status = 403, body = Problem)))]
async fn get_settings(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<RegionSettings>, AppError> {
    Ok(Json(
        call!(state, caller, |svc, actor| svc.region_settings(&actor))?
    ))
}

#[utoipa::path(put, path = "/api/v1/admin/settings", tag = "admin", request_body = RegionSettings, security(("bearer" = [])),
    responses((status = 204), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn put_settings(
    State(state): State<AppState>,
    caller: Caller,
    Body(input): Body<RegionSettings>,
) -> Result<StatusCode, AppError> {
    call!(state, caller, |svc, actor| svc
        .set_region_settings(&actor, &input))?;
    Ok(StatusCode::NO_CONTENT)
}

/// Replaces МКБ-10 with a newer НСИ release (CSV body, the shipped file's format).
#[utoipa::path(post, path = "/api/v1/admin/reference/icd10", tag = "admin", request_body(content = String, content_type = "text/csv"), security(("bearer" = [])),
    responses((status = 200, body = usize, content_type = "application/json", description = "How many codes were loaded"), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn import_icd10(
    State(state): State<AppState>,
    caller: Caller,
    super::Text(body): super::Text,
) -> Result<Json<usize>, AppError> {
    Ok(Json(call!(state, caller, |svc, actor| svc
        .admin_import_icd10(&actor, &body))?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct AuditQuery {
    login: Option<String>,
    action: Option<String>,
    object_type: Option<String>,
    object_id: Option<String>,
    /// ДД.ММ.ГГГГ or ГГГГ-ММ-ДД, inclusive.
    from: Option<String>,
    /// ДД.ММ.ГГГГ or ГГГГ-ММ-ДД, inclusive.
    to: Option<String>,
    page: Option<i64>,
}

/// The audit log, newest first (auditors only).
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery), security(("bearer" = [])),
    responses((status = 200, body = AuditPage), (status = 403, body = Problem)))]
async fn audit_log(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<AuditQuery>,
) -> Result<Json<AuditPage>, AppError> {
    let filter = audit_filter(
        &q.login,
        &q.action,
        &q.object_type,
        &q.object_id,
        &q.from,
        &q.to,
    );
    let page = q.page.unwrap_or(1);
    let lang = caller.lang;
    Ok(Json(call!(state, caller, |svc, actor| svc
        .audit_search(&actor, &filter, page, 100, lang))?))
}

/// The audit filter from query text: empty values mean "any".
pub(crate) fn audit_filter(
    login: &Option<String>,
    action: &Option<String>,
    object_type: &Option<String>,
    object_id: &Option<String>,
    from: &Option<String>,
    to: &Option<String>,
) -> AuditFilter {
    let some = |v: &Option<String>| {
        v.as_ref()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    };
    AuditFilter {
        login: some(login),
        action: some(action),
        object_type: some(object_type),
        object_id: some(object_id),
        from: some(from).and_then(|d| day_start(&d)),
        to: some(to)
            .and_then(|d| day_start(&d))
            .map(|t| t + chrono::Duration::days(1)),
    }
}
