use axum::extract::{Query, State};
use axum::Json;
use rtms_domain::FormOfCare;
use rtms_service::reports::{Report, ReportFilter};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Caller;
use crate::error::{AppError, Problem};
use crate::{blocking, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(report))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ReportQuery {
    /// First day (ДД.ММ.ГГГГ or ГГГГ-ММ-ДД); default: the first of this month.
    from: Option<String>,
    /// Last day, inclusive; default: today.
    to: Option<String>,
    form_of_care: Option<String>,
    profile: Option<String>,
    /// Requesting organization id.
    organization: Option<i64>,
    /// Consultation centre id.
    tkc: Option<i64>,
}

/// Aggregates over requests submitted in the period: volumes, deadline compliance,
/// time to conclusion, returns, rejections, escalations, close-out, workload.
/// No personal data. Analysts and dispatchers see the region, heads their organization.
#[utoipa::path(get, path = "/api/v1/reports", tag = "reports", params(ReportQuery), security(("bearer" = [])),
    responses((status = 200, body = Report), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn report(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ReportQuery>,
) -> Result<Json<Report>, AppError> {
    let lang = caller.lang;
    let date = |s: &Option<String>| {
        s.as_deref()
            .and_then(|d| rtms_domain::validate::parse_date(d).ok())
    };
    let filter = ReportFilter {
        from: date(&q.from),
        to: date(&q.to),
        form_of_care: q.form_of_care.as_deref().and_then(FormOfCare::parse),
        profile: q.profile.clone().filter(|p| !p.is_empty()),
        organization: q.organization,
        tkc: q.tkc,
    };
    let svc = state.svc.clone();
    Ok(Json(
        blocking(move || svc.report(&caller.actor, &filter, lang))
            .await
            .map_err(|e| e.in_lang(lang))?,
    ))
}
