//! Video sessions: booking, calendars, one session with its log, ICE servers.

use super::{Path, Query};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::NaiveDate;
use rtms_service::scheduling::video::{BookVideo, CalendarFeed, IceConfig, VideoSessionView};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{created, Body, Caller};
use crate::error::{AppError, Problem};
use crate::{blocking, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(book, calendar))
        .routes(routes!(feed, new_feed, revoke_feed))
        .routes(routes!(get_one))
        .routes(routes!(ice))
        .routes(routes!(cancel))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Booked {
    pub id: i64,
}

#[derive(Debug, Deserialize, ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CalendarQuery {
    /// First day (UTC), `YYYY-MM-DD`; today by default.
    pub from: Option<NaiveDate>,
    /// How many days: 1 (a day) or 7 (a week); at most 31. Default 7.
    pub days: Option<i64>,
}

/// Books a video session (dispatcher or ТКЦ coordinator). A participant or a room
/// already booked at an overlapping time is refused with 409.
#[utoipa::path(post, path = "/api/v1/video", tag = "video", request_body = BookVideo, security(("bearer" = [])),
    responses((status = 201, body = Booked), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn book(
    State(state): State<AppState>,
    caller: Caller,
    Body(input): Body<BookVideo>,
) -> Result<(StatusCode, Json<Booked>), AppError> {
    let svc = state.svc.clone();
    let lang = caller.lang;
    let id = blocking(move || svc.book_video(&caller.actor, &input))
        .await
        .map_err(|e| e.in_lang(lang))?;
    Ok(created(Booked { id }))
}

/// The caller's sessions for a day or a week (a dispatcher sees all of them).
#[utoipa::path(get, path = "/api/v1/video", tag = "video", params(CalendarQuery), security(("bearer" = [])),
    responses((status = 200, body = Vec<VideoSessionView>), (status = 401, body = Problem)))]
async fn calendar(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<CalendarQuery>,
) -> Result<Json<Vec<VideoSessionView>>, AppError> {
    let svc = state.svc.clone();
    let lang = caller.lang;
    let from = q.from.unwrap_or_else(|| state.svc.clock.now().date_naive());
    Ok(Json(
        blocking(move || svc.video_calendar(&caller.actor, from, q.days.unwrap_or(7)))
            .await
            .map_err(|e| e.in_lang(lang))?,
    ))
}

/// Whether the caller has a calendar feed.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedState {
    pub active: bool,
    /// When the link was made and until when it works, while there is one.
    #[serde(flatten)]
    pub feed: Option<CalendarFeed>,
}

/// Whether the caller has an iCalendar (.ics) feed, and until when it works.
/// The link itself is given once, by `POST` (only its hash is kept).
#[utoipa::path(get, path = "/api/v1/video/feed", tag = "video", security(("bearer" = [])),
    responses((status = 200, body = FeedState), (status = 401, body = Problem)))]
async fn feed(State(state): State<AppState>, caller: Caller) -> Result<Json<FeedState>, AppError> {
    let svc = state.svc.clone();
    let lang = caller.lang;
    let feed = blocking(move || svc.calendar_feed_state(&caller.actor))
        .await
        .map_err(|e| e.in_lang(lang))?;
    Ok(Json(FeedState {
        active: feed.is_some(),
        feed,
    }))
}

/// A new secret link to the caller's iCalendar feed, valid for a year
/// (`expires_at`); the one before stops working. `path` is given this once.
#[utoipa::path(post, path = "/api/v1/video/feed", tag = "video", security(("bearer" = [])),
    responses((status = 201, body = CalendarFeed), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn new_feed(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<(StatusCode, Json<CalendarFeed>), AppError> {
    let svc = state.svc.clone();
    let lang = caller.lang;
    let feed = blocking(move || svc.new_calendar_token(&caller.actor))
        .await
        .map_err(|e| e.in_lang(lang))?;
    Ok((StatusCode::CREATED, Json(feed)))
}

/// Revokes the caller's iCalendar feed: its link stops working at once.
#[utoipa::path(delete, path = "/api/v1/video/feed", tag = "video", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn revoke_feed(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<StatusCode, AppError> {
    let svc = state.svc.clone();
    let lang = caller.lang;
    blocking(move || svc.revoke_calendar_token(&caller.actor))
        .await
        .map_err(|e| e.in_lang(lang))?;
    Ok(StatusCode::NO_CONTENT)
}

/// One session with its participants and its join/leave log.
#[utoipa::path(get, path = "/api/v1/video/{id}", operation_id = "get_video_session", tag = "video", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = VideoSessionView), (status = 404, body = Problem)))]
async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<VideoSessionView>, AppError> {
    let svc = state.svc.clone();
    let lang = caller.lang;
    Ok(Json(
        blocking(move || svc.video_session(&caller.actor, id))
            .await
            .map_err(|e| e.in_lang(lang))?,
    ))
}

/// STUN/TURN servers for a participant, with a time-limited coturn credential
/// (user name `<expiry-unix>:<user-id>`, password base64(HMAC-SHA1(secret, user name))).
#[utoipa::path(get, path = "/api/v1/video/{id}/ice", tag = "video", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = IceConfig), (status = 404, body = Problem)))]
async fn ice(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<IceConfig>, AppError> {
    let svc = state.svc.clone();
    let lang = caller.lang;
    Ok(Json(
        blocking(move || svc.video_ice(&caller.actor, id))
            .await
            .map_err(|e| e.in_lang(lang))?,
    ))
}

/// Cancels a booking (whoever booked it, a dispatcher or a ТКЦ coordinator); the
/// participants are told. A session that has ended or is cancelled already: 409.
#[utoipa::path(post, path = "/api/v1/video/{id}/cancel", tag = "video", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = Booked), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Booked>, AppError> {
    let svc = state.svc.clone();
    let lang = caller.lang;
    blocking(move || svc.cancel_video(&caller.actor, id))
        .await
        .map_err(|e| e.in_lang(lang))?;
    Ok(Json(Booked { id }))
}
