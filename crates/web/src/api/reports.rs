use super::Query;
use axum::extract::State;
use axum::response::Response;
use axum::Json;
use rtms_domain::FormOfCare;
use rtms_service::reporting::reports::{Report, ReportFilter};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Caller;
use crate::error::{AppError, Problem};
use crate::{blocking, download, report_export, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(report))
        .routes(routes!(report_xlsx))
        .routes(routes!(report_pdf))
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

impl ReportQuery {
    fn filter(&self) -> ReportFilter {
        let date = |s: &Option<String>| {
            s.as_deref()
                .and_then(|d| rtms_domain::validate::parse_date(d).ok())
        };
        ReportFilter {
            from: date(&self.from),
            to: date(&self.to),
            form_of_care: self.form_of_care.as_deref().and_then(FormOfCare::parse),
            profile: self.profile.clone().filter(|p| !p.is_empty()),
            organization: self.organization,
            tkc: self.tkc,
        }
    }
}

async fn load(state: &AppState, caller: &Caller, q: &ReportQuery) -> Result<Report, AppError> {
    let lang = caller.lang;
    let filter = q.filter();
    let svc = state.svc.clone();
    let actor = caller.actor.clone();
    blocking(move || svc.report(&actor, &filter, lang))
        .await
        .map_err(|e| e.in_lang(lang))
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
    Ok(Json(load(&state, &caller, &q).await?))
}

/// The same report as an XLSX workbook: one sheet per table (the summary, deadline
/// compliance, volumes, rejections, escalations, close-out, workload), headers in
/// the caller's language. The figures and columns are those of the CSV on the
/// reports page.
#[utoipa::path(get, path = "/api/v1/reports.xlsx", tag = "reports", params(ReportQuery), security(("bearer" = [])),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>),
        (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn report_xlsx(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ReportQuery>,
) -> Result<Response, AppError> {
    let r = load(&state, &caller, &q).await?;
    let body = report_export::xlsx(&r, caller.lang)
        .map_err(|e| AppError::Internal(format!("xlsx export failed: {e}")))?;
    Ok(download(
        body,
        report_export::XLSX_TYPE,
        &report_export::file_name(&r, "xlsx"),
    ))
}

/// The printable report (PDF/A): title with the region and the period, key figures,
/// charts and tables.
#[utoipa::path(get, path = "/api/v1/reports.pdf", tag = "reports", params(ReportQuery), security(("bearer" = [])),
    responses((status = 200, content_type = "application/pdf", body = Vec<u8>),
        (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn report_pdf(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ReportQuery>,
) -> Result<Response, AppError> {
    let r = load(&state, &caller, &q).await?;
    let name = report_export::file_name(&r, "pdf");
    let lang = caller.lang;
    let body = report_export::pdf_for(&state, caller.actor, r, lang)
        .await
        .map_err(|e| e.in_lang(lang))?;
    Ok(download(body, "application/pdf", &name))
}
