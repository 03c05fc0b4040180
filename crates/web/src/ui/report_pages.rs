//! The reports page (analysts, dispatchers, heads) and its CSV, XLSX and PDF
//! downloads.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use rtms_domain::{FormOfCare, Lang, OrgKind};
use rtms_i18n::Label;
use rtms_service::reporting::reports::{Line, Report, ReportFilter};
use rtms_service::ServiceError;
use serde::Deserialize;

use super::fmt;
use super::i18n::tr;
use super::shell::error_page;
use super::shell::{render, Page};
use crate::session::UiUser;
use crate::{blocking, download, report_export, AppState};

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ReportQuery {
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub form_of_care: String,
    #[serde(default)]
    pub profile: String,
    #[serde(default)]
    pub organization: String,
    #[serde(default)]
    pub tkc: String,
}

impl ReportQuery {
    fn filter(&self) -> ReportFilter {
        let date = |s: &str| rtms_domain::validate::parse_date(s).ok();
        ReportFilter {
            from: date(&self.from),
            to: date(&self.to),
            form_of_care: FormOfCare::parse(&self.form_of_care),
            profile: Some(self.profile.clone()).filter(|p| !p.is_empty()),
            organization: self.organization.parse().ok(),
            tkc: self.tkc.parse().ok(),
        }
    }
    fn is(&self, field: &str, value: &str) -> bool {
        match field {
            "form_of_care" => self.form_of_care == value,
            "profile" => self.profile == value,
            "organization" => self.organization == value,
            "tkc" => self.tkc == value,
            _ => false,
        }
    }
}

/// A chart: bars as wide as their share of the largest, drawn as inline SVG.
pub struct Chart {
    pub title: String,
    pub rows: Vec<(String, i64, i64)>,
}

fn chart(title: String, lines: &[Line]) -> Chart {
    let max = lines.iter().map(|l| l.count).max().unwrap_or(0).max(1);
    Chart {
        title,
        rows: lines
            .iter()
            .map(|l| (l.name.clone(), l.count, l.count * 300 / max))
            .collect(),
    }
}

#[derive(Template)]
#[template(path = "reports.html")]
struct ReportsTpl {
    p: Page,
    r: Report,
    q: ReportQuery,
    from: String,
    to: String,
    charts: Vec<Chart>,
    forms: Vec<(String, String)>,
    profiles: Vec<(String, String)>,
    mos: Vec<(String, String)>,
    tkcs: Vec<(String, String)>,
    csv_link: String,
    xlsx_link: String,
    pdf_link: String,
}

impl ReportsTpl {
    fn hours(&self, h: &Option<f64>) -> String {
        h.map(|x| {
            if self.p.lang == Lang::Ru {
                x.to_string().replace('.', ",")
            } else {
                x.to_string()
            }
        })
        .unwrap_or_else(|| "—".into())
    }
}

async fn load(
    state: &AppState,
    u: &UiUser,
    q: &ReportQuery,
) -> Result<
    (
        Report,
        Vec<(String, String)>,
        Vec<(String, String)>,
        Vec<(String, String)>,
    ),
    ServiceError,
> {
    let svc = state.svc.clone();
    let actor = u.actor.clone();
    let lang = u.lang;
    let filter = q.filter();
    blocking(move || {
        let r = svc.report(&actor, &filter, lang)?;
        let profiles = svc
            .profiles(lang)?
            .into_iter()
            .map(|p| (p.code, p.name))
            .collect();
        let mos = svc
            .organizations(OrgKind::Mo)?
            .into_iter()
            .map(|o| (o.id.to_string(), o.name))
            .collect();
        let tkcs = svc
            .organizations(OrgKind::Tkc)?
            .into_iter()
            .map(|o| (o.id.to_string(), o.name))
            .collect();
        Ok((r, profiles, mos, tkcs))
    })
    .await
    .map_err(|e| match e {
        crate::error::AppError::Service(s, _) => s,
        _ => ServiceError::NotFound,
    })
}

pub async fn reports(
    State(state): State<AppState>,
    u: UiUser,
    Query(q): Query<ReportQuery>,
) -> Response {
    let lang = u.lang;
    let (r, profiles, mos, tkcs) = match load(&state, &u, &q).await {
        Ok(v) => v,
        Err(e) => return error_page(&u, &e),
    };
    let charts = vec![
        chart(tr(lang, "report-by-form"), &r.by_form),
        chart(tr(lang, "report-by-profile"), &r.by_profile),
        chart(tr(lang, "report-by-mo"), &r.by_organization),
        chart(tr(lang, "report-by-tkc"), &r.by_tkc),
        chart(tr(lang, "report-by-status"), &r.by_status),
    ];
    let query = serde_urlencoded::to_string([
        ("from", r.from.to_string()),
        ("to", r.to.to_string()),
        ("form_of_care", q.form_of_care.clone()),
        ("profile", q.profile.clone()),
        ("organization", q.organization.clone()),
        ("tkc", q.tkc.clone()),
    ])
    .unwrap_or_default();
    let p = Page::for_user(&u, tr(lang, "report-title"), "reports", 0);
    render(ReportsTpl {
        from: fmt::date_input(r.from, lang),
        to: fmt::date_input(r.to, lang),
        forms: FormOfCare::ALL
            .iter()
            .map(|f| (f.as_str().to_string(), f.label(lang).to_string()))
            .collect(),
        p,
        r,
        q,
        charts,
        profiles,
        mos,
        tkcs,
        csv_link: format!("/reports.csv?{query}"),
        xlsx_link: format!("/reports.xlsx?{query}"),
        pdf_link: format!("/reports.pdf?{query}"),
    })
}

/// Loads the report for a download, or answers with the error page.
async fn for_download(state: &AppState, u: &UiUser, q: &ReportQuery) -> Result<Report, Response> {
    load(state, u, q)
        .await
        .map(|v| v.0)
        .map_err(|e| error_page(u, &e))
}

/// Every table of the report in one CSV (semicolon-separated, UTF-8 with BOM).
pub async fn reports_csv(
    State(state): State<AppState>,
    u: UiUser,
    Query(q): Query<ReportQuery>,
) -> Response {
    match for_download(&state, &u, &q).await {
        Ok(r) => download(
            report_export::csv(&r, u.lang),
            "text/csv; charset=utf-8",
            &report_export::file_name(&r, "csv"),
        ),
        Err(page) => page,
    }
}

/// The same tables as an XLSX workbook, one sheet each.
pub async fn reports_xlsx(
    State(state): State<AppState>,
    u: UiUser,
    Query(q): Query<ReportQuery>,
) -> Response {
    let r = match for_download(&state, &u, &q).await {
        Ok(r) => r,
        Err(page) => return page,
    };
    match report_export::xlsx(&r, u.lang) {
        Ok(body) => download(
            body,
            report_export::XLSX_TYPE,
            &report_export::file_name(&r, "xlsx"),
        ),
        Err(e) => {
            crate::error::AppError::Internal(format!("xlsx export failed: {e}")).into_response()
        }
    }
}

/// The printable report as PDF.
pub async fn reports_pdf(
    State(state): State<AppState>,
    u: UiUser,
    Query(q): Query<ReportQuery>,
) -> Response {
    let r = match for_download(&state, &u, &q).await {
        Ok(r) => r,
        Err(page) => return page,
    };
    let name = report_export::file_name(&r, "pdf");
    match report_export::pdf_for(&state, u.actor.clone(), r, u.lang).await {
        Ok(body) => download(body, "application/pdf", &name),
        Err(crate::error::AppError::Service(e, _)) => error_page(&u, &e),
        Err(e) => e.into_response(),
    }
}
