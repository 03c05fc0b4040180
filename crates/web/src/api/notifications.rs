use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use rtms_service::lifecycle::notifications::NotificationList;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Caller;
use crate::error::{AppError, Problem};
use crate::{blocking, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(mark_read))
}

/// The caller's newest notifications (new request, assigned to me, question, answer, conclusion ready…).
#[utoipa::path(get, path = "/api/v1/notifications", operation_id = "list_notifications", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = NotificationList), (status = 401, body = Problem)))]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<NotificationList>, AppError> {
    let svc = state.svc.clone();
    let lang = caller.lang;
    Ok(Json(
        blocking(move || svc.notifications(&caller.actor, lang, 50))
            .await
            .map_err(|e| e.in_lang(lang))?,
    ))
}

/// Marks all the caller's notifications as read.
#[utoipa::path(post, path = "/api/v1/notifications/read", tag = "notifications", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = Problem)))]
async fn mark_read(State(state): State<AppState>, caller: Caller) -> Result<StatusCode, AppError> {
    let svc = state.svc.clone();
    let lang = caller.lang;
    blocking(move || svc.mark_notifications_read(&caller.actor))
        .await
        .map_err(|e| e.in_lang(lang))?;
    Ok(StatusCode::NO_CONTENT)
}
