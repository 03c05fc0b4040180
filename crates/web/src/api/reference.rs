use super::Query;
use axum::extract::State;
use axum::Json;
use rtms_service::lifecycle::views::{ConsultantView, Icd10View, ProfileView, PurposeView};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Caller, ReqLang};
use crate::error::{AppError, Problem};
use crate::{blocking, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(icd10))
        .routes(routes!(profiles))
        .routes(routes!(purposes))
        .routes(routes!(consultants))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct Icd10Query {
    /// A code prefix (`I21`) or Russian words (`инфаркт миокарда`).
    q: String,
    /// Default 20, at most 100.
    limit: Option<i64>,
}

/// Searches МКБ-10 by code or by words.
#[utoipa::path(get, path = "/api/v1/reference/icd10", tag = "reference", params(Icd10Query), security(("bearer" = [])),
    responses((status = 200, body = Vec<Icd10View>), (status = 401, body = Problem)))]
async fn icd10(
    State(state): State<AppState>,
    _caller: Caller,
    Query(q): Query<Icd10Query>,
) -> Result<Json<Vec<Icd10View>>, AppError> {
    let svc = state.svc.clone();
    Ok(Json(
        blocking(move || svc.search_icd10(&q.q, q.limit.unwrap_or(20))).await?,
    ))
}

/// Specialty profiles with a hint of what a good request includes.
#[utoipa::path(get, path = "/api/v1/reference/profiles", tag = "reference", responses((status = 200, body = Vec<ProfileView>)))]
async fn profiles(
    State(state): State<AppState>,
    ReqLang(lang): ReqLang,
) -> Result<Json<Vec<ProfileView>>, AppError> {
    let svc = state.svc.clone();
    Ok(Json(blocking(move || svc.profiles(lang)).await?))
}

/// Purposes of a consultation (ЕГИСЗ ИЭМК dictionary 1.2.643.2.69.1.1.1.128).
#[utoipa::path(get, path = "/api/v1/reference/purposes", tag = "reference", responses((status = 200, body = Vec<PurposeView>)))]
async fn purposes(
    State(state): State<AppState>,
    ReqLang(lang): ReqLang,
) -> Result<Json<Vec<PurposeView>>, AppError> {
    let svc = state.svc.clone();
    Ok(Json(blocking(move || svc.purposes(lang)).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ConsultantsQuery {
    /// Specialty profile code.
    profile: Option<String>,
    /// Consultation centre id.
    tkc: Option<i64>,
}

/// Consultants, least loaded first, with their current open consultations.
#[utoipa::path(get, path = "/api/v1/consultants", tag = "consultations", params(ConsultantsQuery), security(("bearer" = [])),
    responses((status = 200, body = Vec<ConsultantView>), (status = 403, body = Problem)))]
async fn consultants(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ConsultantsQuery>,
) -> Result<Json<Vec<ConsultantView>>, AppError> {
    let svc = state.svc.clone();
    let lang = caller.lang;
    Ok(Json(
        blocking(move || {
            svc.consultants(
                &caller.actor,
                q.profile.as_deref().filter(|p| !p.is_empty()),
                q.tkc,
            )
        })
        .await
        .map_err(|e| e.in_lang(lang))?,
    ))
}
