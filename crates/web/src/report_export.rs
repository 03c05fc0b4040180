//! The report as downloadable files: CSV, XLSX (one sheet per table) and a
//! printable PDF. All three are built from the same tables, so they carry the
//! same figures under the same headers.

use rtms_domain::Lang;
use rtms_service::reporting::reports::{Line, Report};

use crate::error::AppError;
use crate::ui::fmt;
use crate::ui::i18n::{tr, tr_args};
use crate::{blocking, AppState};

pub const XLSX_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// `rtms-report-2026-11-01-2026-11-30.xlsx`
pub fn file_name(r: &Report, ext: &str) -> String {
    format!(
        "rtms-report-{}-{}.{ext}",
        r.from.format("%Y-%m-%d"),
        r.to.format("%Y-%m-%d")
    )
}

/// One cell of an exported table.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Int(i64),
    Num(f64),
    Empty,
}

impl Cell {
    /// The cell as the CSV writes it (a decimal point, no grouping).
    pub fn plain(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Int(n) => n.to_string(),
            Cell::Num(x) => x.to_string(),
            Cell::Empty => String::new(),
        }
    }

    /// The cell as a person reads it in the printed report.
    fn printed(&self, lang: Lang) -> String {
        match self {
            Cell::Num(x) if lang == Lang::Ru => x.to_string().replace('.', ","),
            Cell::Empty => "—".into(),
            other => other.plain(),
        }
    }
}

/// A titled table: its column headers and its rows.
#[derive(Debug, Clone)]
pub struct Table {
    pub title: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

fn hours(h: Option<f64>) -> Cell {
    h.map(Cell::Num).unwrap_or(Cell::Empty)
}

fn line_table(lang: Lang, title: &str, lines: &[Line]) -> Table {
    Table {
        title: tr(lang, title),
        columns: vec![tr(lang, "report-col-name"), tr(lang, "report-col-count")],
        rows: lines
            .iter()
            .map(|l| vec![Cell::Text(l.name.clone()), Cell::Int(l.count)])
            .collect(),
    }
}

/// The key figures of the report, label and value.
pub fn key_figures(r: &Report, lang: Lang) -> Vec<(String, i64)> {
    [
        ("report-submitted", r.submitted),
        ("report-answered", r.answered),
        ("report-open", r.open),
        ("report-overdue-open", r.overdue_open),
        ("report-returned", r.returned),
        (
            "report-escalated",
            r.escalations.iter().map(|l| l.count).sum(),
        ),
        ("report-escalations-answered", r.escalations_answered),
        ("report-acknowledged", r.acknowledged),
        ("report-useful-yes", r.useful_yes),
        ("report-useful-no", r.useful_no),
        ("report-skipped", r.closeout_skipped),
        ("report-video-booked", r.video.booked),
        ("report-video-held", r.video.held),
        ("report-video-cancelled", r.video.cancelled),
        ("report-video-minutes", r.video.minutes),
        ("report-video-person-minutes", r.video.participant_minutes),
    ]
    .into_iter()
    .map(|(k, v)| (tr(lang, k), v))
    .collect()
}

/// Every table of the report, the summary first.
pub fn tables(r: &Report, lang: Lang) -> Vec<Table> {
    let mut summary = vec![vec![
        Cell::Text(tr(lang, "report-period")),
        Cell::Text(format!(
            "{} — {}",
            fmt::date(r.from, lang),
            fmt::date(r.to, lang)
        )),
    ]];
    summary.extend(
        key_figures(r, lang)
            .into_iter()
            .map(|(label, n)| vec![Cell::Text(label), Cell::Int(n)]),
    );
    let mut out = vec![Table {
        title: tr(lang, "report-summary"),
        columns: vec![tr(lang, "report-col-figure"), tr(lang, "report-col-value")],
        rows: summary,
    }];
    out.push(Table {
        title: tr(lang, "report-compliance"),
        columns: vec![
            tr(lang, "report-col-form"),
            tr(lang, "report-answered"),
            tr(lang, "report-in-time"),
            tr(lang, "report-in-time-percent"),
            tr(lang, "report-median"),
            tr(lang, "report-p90"),
        ],
        rows: r
            .compliance
            .iter()
            .map(|c| {
                vec![
                    Cell::Text(c.form.clone()),
                    Cell::Int(c.answered),
                    Cell::Int(c.in_time),
                    Cell::Num(c.in_time_percent),
                    hours(c.median_hours),
                    hours(c.p90_hours),
                ]
            })
            .collect(),
    });
    for (title, lines) in [
        ("report-by-form", &r.by_form),
        ("report-by-profile", &r.by_profile),
        ("report-by-mo", &r.by_organization),
        ("report-by-tkc", &r.by_tkc),
        ("report-by-status", &r.by_status),
        ("report-rejections", &r.rejections),
        ("report-escalations", &r.escalations),
        ("report-effects", &r.effects),
    ] {
        out.push(line_table(lang, title, lines));
    }
    out.push(Table {
        title: tr(lang, "report-duty"),
        columns: [
            "report-col-form",
            "report-col-centre",
            "report-col-profile",
            "report-duty-called",
            "report-duty-acknowledged",
            "report-duty-median",
            "report-duty-p90",
            "report-duty-backup",
            "report-duty-alarms",
        ]
        .iter()
        .map(|k| tr(lang, k))
        .collect(),
        rows: r
            .duty
            .iter()
            .map(|d| {
                vec![
                    Cell::Text(d.form_of_care.clone()),
                    Cell::Text(d.centre.clone()),
                    Cell::Text(d.profile.clone()),
                    Cell::Int(d.called),
                    Cell::Int(d.acknowledged),
                    hours(d.ack_minutes_median),
                    hours(d.ack_minutes_p90),
                    Cell::Int(d.by_backup),
                    Cell::Int(d.alarms),
                ]
            })
            .collect(),
    });
    out.push(Table {
        title: tr(lang, "report-workload"),
        columns: vec![
            tr(lang, "report-col-consultant"),
            tr(lang, "report-assigned"),
            tr(lang, "report-answered"),
        ],
        rows: r
            .workload
            .iter()
            .map(|w| {
                vec![
                    Cell::Text(w.consultant.clone()),
                    Cell::Int(w.assigned),
                    Cell::Int(w.answered),
                ]
            })
            .collect(),
    });
    out
}

/// The report as CSV (semicolon-separated, UTF-8 with BOM): a line with the
/// title and period, then each table as its title, its header and its rows,
/// tables separated by an empty line.
pub fn csv(r: &Report, lang: Lang) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .delimiter(b';')
        .flexible(true)
        .from_writer(vec![0xEF, 0xBB, 0xBF]);
    let _ = w.write_record([
        tr(lang, "report-title"),
        fmt::date(r.from, lang),
        fmt::date(r.to, lang),
    ]);
    for t in tables(r, lang) {
        let _ = w.write_record([String::new()]);
        let _ = w.write_record([t.title]);
        let _ = w.write_record(&t.columns);
        for row in &t.rows {
            let _ = w.write_record(row.iter().map(Cell::plain));
        }
    }
    w.into_inner().unwrap_or_default()
}

/// A sheet name Excel accepts: at most 31 characters, none of `[]:*?/\`,
/// unique within the workbook.
fn sheet_name(title: &str, taken: &mut Vec<String>) -> String {
    let clean: String = title
        .chars()
        .map(|c| if "[]:*?/\\".contains(c) { ' ' } else { c })
        .collect();
    let mut name: String = clean.trim().chars().take(31).collect();
    let mut n = 2;
    while taken
        .iter()
        .any(|t| t.to_lowercase() == name.to_lowercase())
    {
        let suffix = format!(" {n}");
        name = clean
            .chars()
            .take(31 - suffix.chars().count())
            .collect::<String>()
            + &suffix;
        n += 1;
    }
    taken.push(name.clone());
    name
}

/// The report as an XLSX workbook: one sheet per table, headers in bold on
/// the first row, numbers as numbers.
pub fn xlsx(r: &Report, lang: Lang) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let decimal = Format::new().set_num_format("0.0");
    let mut taken = Vec::new();
    for t in tables(r, lang) {
        let sheet = book.add_worksheet();
        sheet.set_name(sheet_name(&t.title, &mut taken))?;
        for (c, h) in t.columns.iter().enumerate() {
            sheet.write_string_with_format(0, c as u16, h, &bold)?;
            sheet.set_column_width(c as u16, if c == 0 { 45 } else { 16 })?;
        }
        for (i, row) in t.rows.iter().enumerate() {
            let y = i as u32 + 1;
            for (c, cell) in row.iter().enumerate() {
                let x = c as u16;
                match cell {
                    Cell::Text(s) => {
                        sheet.write_string(y, x, s)?;
                    }
                    Cell::Int(n) => {
                        sheet.write_number(y, x, *n as f64)?;
                    }
                    Cell::Num(v) => {
                        sheet.write_number_with_format(y, x, *v, &decimal)?;
                    }
                    Cell::Empty => {}
                }
            }
        }
        sheet.set_freeze_panes(1, 0)?;
    }
    book.save_to_buffer()
}

/// The printable monthly report as PDF/A.
pub fn pdf(
    r: &Report,
    lang: Lang,
    region: String,
    printed_at: String,
) -> Result<Vec<u8>, rtms_documents::DocumentError> {
    use rtms_documents::{ReportBar, ReportDoc, ReportFigure, ReportTable};
    let bars = |lines: &[Line]| {
        lines
            .iter()
            .map(|l| ReportBar {
                label: l.name.clone(),
                value: l.count as f64,
                text: l.count.to_string(),
            })
            .collect::<Vec<_>>()
    };
    let all = tables(r, lang);
    let mut printed: Vec<ReportTable> = all
        .iter()
        .map(|t| ReportTable {
            title: t.title.clone(),
            columns: t.columns.clone(),
            rows: t
                .rows
                .iter()
                .map(|row| row.iter().map(|c| c.printed(lang)).collect())
                .collect(),
            bars: Vec::new(),
            bar_max: None,
        })
        .collect();
    // Charts beside the tables: compliance as a share of 100 %, counts as
    // bars against the largest.
    if let Some(t) = printed.get_mut(1) {
        t.bars = r
            .compliance
            .iter()
            .map(|c| ReportBar {
                label: c.form.clone(),
                value: c.in_time_percent,
                text: format!("{} %", Cell::Num(c.in_time_percent).printed(lang)),
            })
            .collect();
        t.bar_max = Some(100.0);
    }
    let charted = [
        &r.by_form,
        &r.by_profile,
        &r.by_organization,
        &r.by_tkc,
        &r.by_status,
        &r.rejections,
        &r.escalations,
        &r.effects,
    ];
    for (t, lines) in printed.iter_mut().skip(2).zip(charted) {
        t.bars = bars(lines);
    }
    let doc = ReportDoc {
        title: tr(lang, "report-title"),
        region,
        period_label: tr(lang, "report-period"),
        period: format!("{} — {}", fmt::date(r.from, lang), fmt::date(r.to, lang)),
        printed_at,
        printed_label: tr(lang, "report-printed"),
        figures: key_figures(r, lang)
            .into_iter()
            .map(|(label, value)| ReportFigure {
                label,
                value: value.to_string(),
            })
            .collect(),
        tables: printed,
        empty: tr(lang, "report-none"),
    };
    rtms_documents::render_report(&doc)
}

/// The printable report for `actor`: titled with their organization or the
/// region, stamped with the time of printing (Moscow time).
pub async fn pdf_for(
    state: &AppState,
    actor: rtms_service::Actor,
    r: Report,
    lang: Lang,
) -> Result<Vec<u8>, AppError> {
    let svc = state.svc.clone();
    let now = svc.clock.now();
    let scope = blocking(move || svc.report_scope(&actor)).await?;
    let region = scope.unwrap_or_else(|| tr(lang, "app-subtitle"));
    let printed_at = tr_args(
        lang,
        "printed-at-msk",
        &[(
            "at",
            // Day first in both languages: the PDF takes its creation date
            // from this stamp (`rtms_documents::render_report`).
            crate::ui::fmt::datetime(now, chrono_tz::Europe::Moscow, None, Lang::Ru).into(),
        )],
    );
    tokio::task::spawn_blocking(move || pdf(&r, lang, region, printed_at))
        .await
        .map_err(|e| AppError::Internal(format!("task failed: {e}")))?
        .map_err(|e| AppError::Internal(e.to_string()))
}
