use super::{Path, Query};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use rtms_domain::request::ConsultationPatch;
use rtms_domain::{Action, Status};
use rtms_service::lifecycle::consultations::{ActionParams, ConclusionInput, ListQuery};
use rtms_service::lifecycle::views::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{created, Body, Caller};
use crate::error::{AppError, Problem};
use crate::{blocking, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(get_one, patch))
        .routes(routes!(act))
        .routes(routes!(events))
        .routes(routes!(post_message, list_messages))
        .routes(routes!(put_conclusion, get_conclusion))
        .routes(routes!(start_correction))
        .routes(routes!(sign_correction))
        .routes(routes!(record_federal))
        .routes(routes!(escalation_state))
        .routes(routes!(resend_escalation))
        .routes(routes!(federal_alarms))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct FederalRecord {
    /// The request's number at the federal level.
    #[schema(pattern = r"\S", max_length = 100)]
    pub number: String,
    /// Its state there, as the federal system says it.
    #[serde(default)]
    pub state: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CorrectionInput {
    /// What is corrected and why; written in the case timeline.
    #[schema(pattern = r"\S")]
    pub comment: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Created {
    pub id: i64,
    pub status: Status,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ActionResult {
    pub id: i64,
    /// The state after the action.
    pub status: Status,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewMessage {
    /// Not blank; at most 20,000 characters.
    #[schema(pattern = "\\S", max_length = 20000)]
    pub body: String,
}

/// Creates a draft request in the caller's organization (requesting doctor).
#[utoipa::path(post, path = "/api/v1/consultations", tag = "consultations", request_body = ConsultationPatch, security(("bearer" = [])),
    responses((status = 201, body = Created), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Body(patch): Body<ConsultationPatch>,
) -> Result<(StatusCode, Json<Created>), AppError> {
    let svc = state.svc.clone();
    let lang = caller.lang;
    let id = blocking(move || svc.create_consultation(&caller.actor, &patch))
        .await
        .map_err(|e| e.in_lang(lang))?;
    Ok(created(Created {
        id,
        status: Status::Draft,
    }))
}

/// Lists the requests the caller may see, open ones by deadline first.
#[utoipa::path(get, path = "/api/v1/consultations", operation_id = "list_consultations", tag = "consultations", params(ListQuery), security(("bearer" = [])),
    responses((status = 200, body = ConsultationPage), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ListQuery>,
) -> Result<Json<ConsultationPage>, AppError> {
    let svc = state.svc.clone();
    let lang = caller.lang;
    Ok(Json(
        blocking(move || svc.list_consultations(&caller.actor, &q, lang))
            .await
            .map_err(|e| e.in_lang(lang))?,
    ))
}

/// One request, whole, with the actions the caller may take now.
#[utoipa::path(get, path = "/api/v1/consultations/{id}", operation_id = "get_consultation", tag = "consultations", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = ConsultationView), (status = 404, body = Problem)))]
async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<ConsultationView>, AppError> {
    let svc = state.svc.clone();
    let lang = caller.lang;
    Ok(Json(
        blocking(move || svc.consultation(&caller.actor, id, lang))
            .await
            .map_err(|e| e.in_lang(lang))?,
    ))
}

/// Edits a draft or a request returned for revision. Absent fields stay; an empty string clears.
#[utoipa::path(patch, path = "/api/v1/consultations/{id}", tag = "consultations", params(("id" = i64, Path)), request_body = ConsultationPatch, security(("bearer" = [])),
    responses((status = 200, body = ConsultationView), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn patch(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Body(patch): Body<ConsultationPatch>,
) -> Result<Json<ConsultationView>, AppError> {
    let svc = state.svc.clone();
    let lang = caller.lang;
    Ok(Json(
        blocking(move || {
            svc.update_consultation(&caller.actor, id, &patch)?;
            svc.consultation(&caller.actor, id, lang)
        })
        .await
        .map_err(|e| e.in_lang(lang))?,
    ))
}

/// Takes a lifecycle action: `submit`, `approve`, `send_back`, `take`, `return`, `resubmit`,
/// `reject`, `assign`, `accept`, `decline`, `schedule`, `start`, `sign`, `acknowledge`,
/// `escalate`, `record_federal_conclusion`, `cancel`. 409 when the state does not allow it,
/// 403 when the caller's role does not.
#[utoipa::path(post, path = "/api/v1/consultations/{id}/actions/{action}", tag = "consultations",
    params(("id" = i64, Path), ("action" = Action, Path)), request_body(content = ActionParams, description = "Parameters of the action; may be omitted"), security(("bearer" = [])),
    responses((status = 200, body = ActionResult), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn act(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, action)): Path<(i64, String)>,
    body: axum::body::Bytes,
) -> Result<Json<ActionResult>, AppError> {
    let lang = caller.lang;
    let Some(action) = Action::parse(&action) else {
        return Err(AppError::from(rtms_service::ServiceError::NotFound).in_lang(lang));
    };
    let params: ActionParams = if body.iter().all(u8::is_ascii_whitespace) {
        ActionParams::default()
    } else {
        let v =
            serde_json::from_slice(&body).map_err(|e| super::invalid_json(lang, e.to_string()))?;
        super::from_json(v, lang)?
    };
    let svc = state.svc.clone();
    let status = blocking(move || svc.act(&caller.actor, id, action, &params))
        .await
        .map_err(|e| e.in_lang(lang))?;
    Ok(Json(ActionResult { id, status }))
}

/// The case timeline: every transition, who, when, from which organization, why.
#[utoipa::path(get, path = "/api/v1/consultations/{id}/events", tag = "consultations", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = Vec<EventView>), (status = 404, body = Problem)))]
async fn events(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Vec<EventView>>, AppError> {
    let svc = state.svc.clone();
    let lang = caller.lang;
    Ok(Json(
        blocking(move || svc.events(&caller.actor, id, lang))
            .await
            .map_err(|e| e.in_lang(lang))?,
    ))
}

/// Posts a question (consultant) or an answer (requesting doctor) while the consultation is in progress.
#[utoipa::path(post, path = "/api/v1/consultations/{id}/messages", tag = "consultations", params(("id" = i64, Path)), request_body = NewMessage, security(("bearer" = [])),
    responses((status = 201, body = MessageView), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn post_message(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Body(msg): Body<NewMessage>,
) -> Result<(StatusCode, Json<MessageView>), AppError> {
    let svc = state.svc.clone();
    let lang = caller.lang;
    let view = blocking(move || {
        let mid = svc.post_message(&caller.actor, id, &msg.body)?;
        svc.messages(&caller.actor, id)?
            .into_iter()
            .find(|m| m.id == mid)
            .ok_or(rtms_service::ServiceError::NotFound)
    })
    .await
    .map_err(|e| e.in_lang(lang))?;
    Ok(created(view))
}

/// The questions-and-answers thread.
#[utoipa::path(get, path = "/api/v1/consultations/{id}/messages", tag = "consultations", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = Vec<MessageView>), (status = 404, body = Problem)))]
async fn list_messages(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Vec<MessageView>>, AppError> {
    let svc = state.svc.clone();
    let lang = caller.lang;
    Ok(Json(
        blocking(move || svc.messages(&caller.actor, id))
            .await
            .map_err(|e| e.in_lang(lang))?,
    ))
}

/// Writes the consultant's draft conclusion; `sign` freezes it.
#[utoipa::path(put, path = "/api/v1/consultations/{id}/conclusion", tag = "consultations", params(("id" = i64, Path)), request_body = ConclusionInput, security(("bearer" = [])),
    responses((status = 200, body = ConclusionView), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn put_conclusion(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Body(input): Body<ConclusionInput>,
) -> Result<Json<ConclusionView>, AppError> {
    let svc = state.svc.clone();
    let lang = caller.lang;
    Ok(Json(
        blocking(move || {
            svc.put_conclusion(&caller.actor, id, &input)?;
            svc.conclusion(&caller.actor, id)
        })
        .await
        .map_err(|e| e.in_lang(lang))?,
    ))
}

/// The conclusion: the requesting side sees it once signed.
#[utoipa::path(get, path = "/api/v1/consultations/{id}/conclusion", tag = "consultations", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = ConclusionView), (status = 404, body = Problem)))]
async fn get_conclusion(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<ConclusionView>, AppError> {
    let svc = state.svc.clone();
    let lang = caller.lang;
    Ok(Json(
        blocking(move || svc.conclusion(&caller.actor, id))
            .await
            .map_err(|e| e.in_lang(lang))?,
    ))
}

/// Opens a correction of the signed conclusion: a new version referencing it,
/// edited with `PUT …/conclusion` and signed by every member with
/// `POST …/conclusion/correction/sign`. The signed version stays as it was.
#[utoipa::path(post, path = "/api/v1/consultations/{id}/conclusion/correction", tag = "consultations", params(("id" = i64, Path)), request_body = CorrectionInput, security(("bearer" = [])),
    responses((status = 409, body = Problem, description = "The document is not ready yet (not every participant has signed), or a correction is open or missing"), (status = 200, body = ConclusionView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn start_correction(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Body(input): Body<CorrectionInput>,
) -> Result<Json<ConclusionView>, AppError> {
    let lang = caller.lang;
    state
        .svc
        .start_correction(&caller.actor, id, &input.comment)
        .await
        .map_err(|e| AppError::from(e).in_lang(lang))?;
    let svc = state.svc.clone();
    Ok(Json(
        blocking(move || svc.conclusion(&caller.actor, id))
            .await
            .map_err(|e| e.in_lang(lang))?,
    ))
}

/// Signs the open correction; when the last member has signed, the requesting
/// doctor is told and the new document replaces the old one.
#[utoipa::path(post, path = "/api/v1/consultations/{id}/conclusion/correction/sign", tag = "consultations", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 409, body = Problem, description = "The document is not ready yet (not every participant has signed), or a correction is open or missing"), (status = 200, body = ConclusionView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn sign_correction(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<ConclusionView>, AppError> {
    let svc = state.svc.clone();
    let lang = caller.lang;
    Ok(Json(
        blocking(move || {
            svc.sign_correction(&caller.actor, id)?;
            svc.conclusion(&caller.actor, id)
        })
        .await
        .map_err(|e| e.in_lang(lang))?,
    ))
}

/// Manual mode: the dispatcher records the federal number and state of an
/// escalated request (a region not connected to the federal system).
#[utoipa::path(post, path = "/api/v1/consultations/{id}/federal", tag = "consultations", params(("id" = i64, Path)), request_body = FederalRecord, security(("bearer" = [])),
    responses((status = 204), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn record_federal(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Body(input): Body<FederalRecord>,
) -> Result<StatusCode, AppError> {
    let svc = state.svc.clone();
    let lang = caller.lang;
    blocking(move || svc.record_federal_manually(&caller.actor, id, &input.number, &input.state))
        .await
        .map_err(|e| e.in_lang(lang))?;
    Ok(StatusCode::NO_CONTENT)
}

/// How the request's way to the federal level stands: state, federal number,
/// attempts, the last error and the true time of the next attempt, and
/// whether it is undelivered past the alarm time. `null` when never escalated.
#[utoipa::path(get, path = "/api/v1/consultations/{id}/escalation", tag = "consultations", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = Option<rtms_service::exchange::federal::EscalationView>), (status = 404, body = Problem)))]
async fn escalation_state(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<axum::Json<Option<rtms_service::exchange::federal::EscalationView>>, AppError> {
    let svc = state.svc.clone();
    let lang = caller.lang;
    blocking(move || svc.escalation_state(&caller.actor, id))
        .await
        .map(axum::Json)
        .map_err(|e| e.in_lang(lang))
}

/// A dispatcher sends an escalation to the federal level again, now.
#[utoipa::path(post, path = "/api/v1/consultations/{id}/escalation/resend", tag = "consultations", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn resend_escalation(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<StatusCode, AppError> {
    let svc = state.svc.clone();
    let lang = caller.lang;
    blocking(move || svc.federal_resend(&caller.actor, id))
        .await
        .map_err(|e| e.in_lang(lang))?;
    Ok(StatusCode::NO_CONTENT)
}

/// Escalations undelivered past the alarm time, oldest first (dispatchers;
/// empty for others).
#[utoipa::path(get, path = "/api/v1/federal/alarms", tag = "consultations", security(("bearer" = [])),
    responses((status = 200, body = Vec<rtms_service::exchange::federal::FederalAlarm>)))]
async fn federal_alarms(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<Vec<rtms_service::exchange::federal::FederalAlarm>>, AppError> {
    let svc = state.svc.clone();
    let lang = caller.lang;
    blocking(move || svc.federal_alarms(&caller.actor))
        .await
        .map(axum::Json)
        .map_err(|e| e.in_lang(lang))
}
