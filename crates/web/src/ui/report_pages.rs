//! The reports page (analysts, dispatchers, heads) and its CSV export.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use rtms_domain::{FormOfCare, Lang, OrgKind};
use rtms_service::reports::{Line, Report, ReportFilter};
use rtms_service::ServiceError;
use serde::Deserialize;

use super::i18n::tr;
use super::pages::error_page;
use super::{fmt, render, Page, UiUser};
use crate::{blocking, AppState};

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
    let csv_link = format!(
        "/reports.csv?{}",
        serde_urlencoded::to_string([
            ("from", fmt::date(r.from)),
            ("to", fmt::date(r.to)),
            ("form_of_care", q.form_of_care.clone()),
            ("profile", q.profile.clone()),
            ("organization", q.organization.clone()),
            ("tkc", q.tkc.clone())
        ])
        .unwrap_or_default()
    );
    let p = Page::for_user(&u, tr(lang, "report-title"), "reports", 0);
    render(ReportsTpl {
        from: fmt::date(r.from),
        to: fmt::date(r.to),
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
        csv_link,
    })
}

/// Every table of the report in one CSV (semicolon-separated, UTF-8 with BOM).
pub async fn reports_csv(
    State(state): State<AppState>,
    u: UiUser,
    Query(q): Query<ReportQuery>,
) -> Response {
    let lang = u.lang;
    let r = match load(&state, &u, &q).await {
        Ok(v) => v.0,
        Err(e) => return error_page(&u, &e),
    };
    let mut w = csv::WriterBuilder::new()
        .delimiter(b';')
        .flexible(true)
        .from_writer(vec![0xEF, 0xBB, 0xBF]);
    let _ = w.write_record([tr(lang, "report-title"), fmt::date(r.from), fmt::date(r.to)]);
    let _ = w.write_record([tr(lang, "report-submitted"), r.submitted.to_string()]);
    let _ = w.write_record([tr(lang, "report-answered"), r.answered.to_string()]);
    let _ = w.write_record([tr(lang, "report-open"), r.open.to_string()]);
    let _ = w.write_record([tr(lang, "report-overdue-open"), r.overdue_open.to_string()]);
    for (title, lines) in [
        (tr(lang, "report-by-form"), &r.by_form),
        (tr(lang, "report-by-profile"), &r.by_profile),
        (tr(lang, "report-by-mo"), &r.by_organization),
        (tr(lang, "report-by-tkc"), &r.by_tkc),
        (tr(lang, "report-by-status"), &r.by_status),
        (tr(lang, "report-rejections"), &r.rejections),
        (tr(lang, "report-escalations"), &r.escalations),
        (tr(lang, "report-effects"), &r.effects),
    ] {
        let _ = w.write_record([String::new()]);
        let _ = w.write_record([title]);
        for l in lines {
            let _ = w.write_record([l.name.clone(), l.count.to_string()]);
        }
    }
    let _ = w.write_record([String::new()]);
    let _ = w.write_record([
        tr(lang, "report-compliance"),
        tr(lang, "report-answered"),
        tr(lang, "report-in-time"),
        "%".into(),
        tr(lang, "report-median"),
        tr(lang, "report-p90"),
    ]);
    for c in &r.compliance {
        let h = |x: Option<f64>| x.map(|v| v.to_string()).unwrap_or_default();
        let _ = w.write_record([
            c.form.clone(),
            c.answered.to_string(),
            c.in_time.to_string(),
            c.in_time_percent.to_string(),
            h(c.median_hours),
            h(c.p90_hours),
        ]);
    }
    let _ = w.write_record([String::new()]);
    let _ = w.write_record([
        tr(lang, "report-workload"),
        tr(lang, "report-assigned"),
        tr(lang, "report-answered"),
    ]);
    for x in &r.workload {
        let _ = w.write_record([
            x.consultant.clone(),
            x.assigned.to_string(),
            x.answered.to_string(),
        ]);
    }
    let body = w.into_inner().unwrap_or_default();
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"rtms-report.csv\"",
            ),
        ],
        body,
    )
        .into_response()
}
