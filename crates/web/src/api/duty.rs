//! Duty rosters and the emergency call chain: the board «Кто дежурит
//! сейчас», a centre's roster (shifts, absences, CSV import and export), the
//! production calendar, and acknowledging a call.

use super::{Path, Query};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use chrono::NaiveDate;
use rtms_service::directory::duty::{roster_csv, AbsenceInput, BoardRow, RosterView, ShiftInput};
use rtms_service::lifecycle::duty_calls::DutyState;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{created, Body, Caller};
use crate::error::{AppError, Problem};
use crate::report_export::XLSX_TYPE;
use crate::{blocking, download, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(board))
        .routes(routes!(roster))
        .routes(routes!(add_shift))
        .routes(routes!(delete_shift))
        .routes(routes!(import_roster))
        .routes(routes!(export_roster))
        .routes(routes!(export_roster_xlsx))
        .routes(routes!(add_absence))
        .routes(routes!(delete_absence))
        .routes(routes!(load_calendar))
        .routes(routes!(call_chain))
        .routes(routes!(ack))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Created {
    pub id: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Imported {
    /// How many shifts the roster now holds for the file's days and profiles.
    pub shifts: usize,
}

#[derive(Debug, Deserialize, ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeriodQuery {
    /// First day (the centre's date), `YYYY-MM-DD`; today by default.
    pub from: Option<NaiveDate>,
    /// How many days; 7 by default, at most 62 (the export: 366).
    #[param(minimum = 1, maximum = 366)]
    pub days: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CalendarQuery {
    /// Where the calendar comes from (the law, the site).
    #[param(min_length = 1, max_length = 500)]
    pub source: String,
}

/// «Кто дежурит сейчас»: per profile, who is on duty now and who is next
/// (with phones where the centre shows them).
#[utoipa::path(get, path = "/api/v1/duty/now", tag = "duty", security(("bearer" = [])),
    responses((status = 200, body = Vec<BoardRow>), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn board(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<BoardRow>>, AppError> {
    let lang = caller.lang;
    Ok(Json(
        call!(state, caller, |svc, actor| svc.duty_board(&actor, lang))?
    ))
}

/// A centre's roster for a period (its coordinator, an administrator).
#[utoipa::path(get, path = "/api/v1/duty/centres/{tkc}/roster", tag = "duty", params(("tkc" = i64, Path), PeriodQuery), security(("bearer" = [])),
    responses((status = 200, body = RosterView), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn roster(
    State(state): State<AppState>,
    caller: Caller,
    Path(tkc): Path<i64>,
    Query(q): Query<PeriodQuery>,
) -> Result<Json<RosterView>, AppError> {
    let lang = caller.lang;
    let from = q.from.unwrap_or_else(|| state.svc.clock.now().date_naive());
    Ok(Json(call!(state, caller, |svc, actor| svc.duty_roster(
        &actor,
        tkc,
        from,
        q.days.unwrap_or(7),
        lang
    ))?))
}

/// Adds a shift (times in the centre's zone; an end at or before the start
/// is the next day). An overlap with another shift of the profile is a 422.
#[utoipa::path(post, path = "/api/v1/duty/centres/{tkc}/shifts", tag = "duty", params(("tkc" = i64, Path)), request_body = ShiftInput, security(("bearer" = [])),
    responses((status = 201, body = Created), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn add_shift(
    State(state): State<AppState>,
    caller: Caller,
    Path(tkc): Path<i64>,
    Body(input): Body<ShiftInput>,
) -> Result<(StatusCode, Json<Created>), AppError> {
    let id = call!(state, caller, |svc, actor| svc
        .duty_add_shift(&actor, tkc, &input))?;
    Ok(created(Created { id }))
}

/// Removes a shift of the centre (one already gone: 204 as well).
#[utoipa::path(delete, path = "/api/v1/duty/centres/{tkc}/shifts/{id}", tag = "duty", params(("tkc" = i64, Path), ("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn delete_shift(
    State(state): State<AppState>,
    caller: Caller,
    Path((tkc, id)): Path<(i64, i64)>,
) -> Result<StatusCode, AppError> {
    call!(state, caller, |svc, actor| svc
        .duty_delete_shift(&actor, tkc, id))?;
    Ok(StatusCode::NO_CONTENT)
}

/// Imports a roster: CSV `date;profile;kind;start;end;primary;backups`
/// (at most 1 MiB, 5,000 rows). All rows or none: a bad file is a 422 naming
/// each bad row (`rows[N].column`). A good one replaces the centre's shifts
/// of its profiles from its first day to its last.
#[utoipa::path(put, path = "/api/v1/duty/centres/{tkc}/roster", tag = "duty", params(("tkc" = i64, Path)), request_body(content = String, content_type = "text/csv"), security(("bearer" = [])),
    responses((status = 200, body = Imported), (status = 403, body = Problem), (status = 413, body = Problem), (status = 422, body = Problem)))]
async fn import_roster(
    State(state): State<AppState>,
    caller: Caller,
    Path(tkc): Path<i64>,
    super::Text(body): super::Text,
) -> Result<Json<Imported>, AppError> {
    let shifts = call!(state, caller, |svc, actor| svc.duty_import(
        &actor,
        tkc,
        body.as_bytes()
    ))?;
    Ok(Json(Imported { shifts }))
}

/// The roster as CSV, as the import reads it.
#[utoipa::path(get, path = "/api/v1/duty/centres/{tkc}/roster.csv", tag = "duty", params(("tkc" = i64, Path), PeriodQuery), security(("bearer" = [])),
    responses((status = 200, content_type = "text/csv", body = String), (status = 403, body = Problem)))]
async fn export_roster(
    State(state): State<AppState>,
    caller: Caller,
    Path(tkc): Path<i64>,
    Query(q): Query<PeriodQuery>,
) -> Result<Response, AppError> {
    roster_file(state, caller, tkc, q, false).await
}

/// The roster as an XLSX workbook, as the roster page's import reads it.
#[utoipa::path(get, path = "/api/v1/duty/centres/{tkc}/roster.xlsx", tag = "duty", params(("tkc" = i64, Path), PeriodQuery), security(("bearer" = [])),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>), (status = 403, body = Problem)))]
async fn export_roster_xlsx(
    State(state): State<AppState>,
    caller: Caller,
    Path(tkc): Path<i64>,
    Query(q): Query<PeriodQuery>,
) -> Result<Response, AppError> {
    roster_file(state, caller, tkc, q, true).await
}

/// The roster of a period as a file the import reads: CSV, or XLSX.
async fn roster_file(
    state: AppState,
    caller: Caller,
    tkc: i64,
    q: PeriodQuery,
    xlsx: bool,
) -> Result<Response, AppError> {
    let from = q.from.unwrap_or_else(|| state.svc.clock.now().date_naive());
    let days = q.days.unwrap_or(31);
    let rows = call!(state, caller, |svc, actor| svc
        .duty_export(&actor, tkc, from, days))?;
    let name = format!("roster-{tkc}-{from}");
    Ok(if xlsx {
        let body = crate::ui::roster_xlsx(&rows)
            .map_err(|e| AppError::Internal(format!("roster workbook failed: {e}")))?;
        download(body, XLSX_TYPE, &format!("{name}.xlsx"))
    } else {
        download(
            roster_csv(&rows),
            "text/csv; charset=utf-8",
            &format!("{name}.csv"),
        )
    })
}

/// Records an absence (leave, sick leave) of one of the centre's consultants.
#[utoipa::path(post, path = "/api/v1/duty/centres/{tkc}/absences", tag = "duty", params(("tkc" = i64, Path)), request_body = AbsenceInput, security(("bearer" = [])),
    responses((status = 201, body = Created), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn add_absence(
    State(state): State<AppState>,
    caller: Caller,
    Path(tkc): Path<i64>,
    Body(input): Body<AbsenceInput>,
) -> Result<(StatusCode, Json<Created>), AppError> {
    let id = call!(state, caller, |svc, actor| svc
        .duty_add_absence(&actor, tkc, &input))?;
    Ok(created(Created { id }))
}

/// Removes an absence.
#[utoipa::path(delete, path = "/api/v1/duty/centres/{tkc}/absences/{id}", tag = "duty", params(("tkc" = i64, Path), ("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn delete_absence(
    State(state): State<AppState>,
    caller: Caller,
    Path((tkc, id)): Path<(i64, i64)>,
) -> Result<StatusCode, AppError> {
    call!(state, caller, |svc, actor| svc
        .duty_delete_absence(&actor, tkc, id))?;
    Ok(StatusCode::NO_CONTENT)
}

/// Loads one year of the production calendar (administrators): CSV lines
/// `date;holiday|workday` (at most 64 KiB).
#[utoipa::path(put, path = "/api/v1/duty/calendar", tag = "duty", params(CalendarQuery), request_body(content = String, content_type = "text/csv"), security(("bearer" = [])),
    responses((status = 200, body = Imported), (status = 403, body = Problem), (status = 413, body = Problem), (status = 422, body = Problem)))]
async fn load_calendar(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<CalendarQuery>,
    super::Text(body): super::Text,
) -> Result<Json<Imported>, AppError> {
    let shifts = call!(state, caller, |svc, actor| svc.duty_load_calendar(
        &actor,
        body.as_bytes(),
        &q.source
    ))?;
    Ok(Json(Imported { shifts }))
}

/// Who the emergency call chain reached for a request (null when nobody was called).
#[utoipa::path(get, path = "/api/v1/consultations/{id}/duty", tag = "duty", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = Option<DutyState>), (status = 404, body = Problem)))]
async fn call_chain(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Option<DutyState>>, AppError> {
    Ok(Json(
        call!(state, caller, |svc, actor| svc.duty_of(&actor, id))?
    ))
}

/// Acknowledges the call: the consultant called now, or a dispatcher after
/// the alarm. 409 when nothing waits for an acknowledgement.
#[utoipa::path(post, path = "/api/v1/consultations/{id}/duty/ack", tag = "duty", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn ack(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<StatusCode, AppError> {
    call!(state, caller, |svc, actor| svc.duty_ack(&actor, id))?;
    Ok(StatusCode::NO_CONTENT)
}
