//! Duty pages: the board «Кто дежурит сейчас» (`/duty`) and a centre's
//! roster for its coordinator (`/duty/roster`: a week grid, adding and
//! removing shifts, CSV import and export, absences, whether phones show).
//! The rules are the service's (`directory::duty`); these pages only show
//! and send.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::{Duration, NaiveDate};
use rtms_domain::Lang;
use rtms_service::directory::duty::{
    parse_date, roster_csv, AbsenceInput, BoardRow, RosterView, ShiftInput, ABSENCE_KINDS,
    CALENDAR_MAX_BYTES, ROSTER_MAX_BYTES, SHIFT_KINDS,
};
use rtms_service::ServiceError;
use serde::Deserialize;

use super::fmt;
use super::i18n::tr;
use super::shell::{error_page, render, svc_call, Page};
use crate::report_export::XLSX_TYPE;
use crate::session::UiUser;
use crate::{download, AppState};

/// A shift's people as one line: «Ночной И. П. · резерв: Резервный Р. Р.».
pub struct ShiftLine {
    pub id: i64,
    pub when: String,
    /// «20:00–08:00», the centre's time (the week grid).
    pub hours: String,
    pub kind: String,
    pub centre: String,
    pub primary: String,
    pub primary_absent: bool,
    pub phone: String,
    pub backups: String,
}

fn shift_line(s: &rtms_service::directory::duty::ShiftView, p: &Page) -> ShiftLine {
    let when = format!(
        "{} – {}",
        fmt::datetime(s.starts_at, p.tz, None, p.lang),
        fmt::datetime(s.ends_at, p.tz, None, p.lang)
    );
    let absent = tr(p.lang, "duty-absent");
    let name = |d: &rtms_service::directory::duty::DutyPerson| {
        if d.absent {
            format!("{} ({absent})", d.name)
        } else {
            d.name.clone()
        }
    };
    let first = s.people.first();
    let tz = fmt::tz(&s.time_zone);
    ShiftLine {
        id: s.id,
        hours: format!(
            "{}–{}",
            s.starts_at.with_timezone(&tz).format("%H:%M"),
            s.ends_at.with_timezone(&tz).format("%H:%M")
        ),
        when,
        kind: tr(p.lang, &format!("duty-kind-{}", s.kind)),
        centre: s.tkc.clone(),
        primary: first.map(name).unwrap_or_default(),
        primary_absent: first.is_some_and(|d| d.absent),
        phone: first.and_then(|d| d.phone.clone()).unwrap_or_default(),
        backups: s
            .people
            .iter()
            .skip(1)
            .map(name)
            .collect::<Vec<_>>()
            .join(", "),
    }
}

#[derive(Template)]
#[template(path = "duty_board.html")]
struct BoardTpl {
    p: Page,
    rows: Vec<(String, Option<ShiftLine>, Option<ShiftLine>)>,
    centres: Vec<(i64, String)>,
}

/// «Кто дежурит сейчас».
pub async fn board(State(state): State<AppState>, u: UiUser) -> Response {
    let actor = u.actor.clone();
    let lang = u.lang;
    let loaded = svc_call(&state, move |s| {
        Ok((s.duty_board(&actor, lang)?, s.roster_centres(&actor)?))
    })
    .await;
    let (rows, centres): (Vec<BoardRow>, _) = match loaded {
        Ok(v) => v,
        Err(e) => return error_page(&u, &e),
    };
    let p = Page::for_user(&u, tr(lang, "duty-title"), "duty", 0);
    let rows = rows
        .iter()
        .map(|r| {
            (
                r.profile_name.clone(),
                r.now.as_ref().map(|s| shift_line(s, &p)),
                r.next.as_ref().map(|s| shift_line(s, &p)),
            )
        })
        .collect();
    render(BoardTpl { p, rows, centres })
}

#[derive(Debug, Default, Deserialize)]
pub struct RosterQuery {
    #[serde(default)]
    pub tkc: Option<i64>,
    #[serde(default)]
    pub from: Option<String>,
}

/// One cell of the week grid.
pub struct Cell {
    pub day_off: bool,
    pub shifts: Vec<ShiftLine>,
}

#[derive(Template)]
#[template(path = "duty_roster.html")]
struct RosterTpl {
    p: Page,
    r: RosterView,
    days: Vec<(String, bool, bool)>,
    grid: Vec<(String, Vec<Cell>)>,
    profiles: Vec<(String, String)>,
    kinds: Vec<(String, String)>,
    absence_kinds: Vec<(String, String)>,
    absences: Vec<(i64, String, String, String)>,
    from: String,
    prev: String,
    next: String,
    errors: Vec<String>,
    done: String,
}

/// A refusal as lines a coordinator reads: «Строка 4 · основной: …».
fn error_lines(e: &ServiceError, lang: Lang) -> Vec<String> {
    match e {
        ServiceError::Invalid(errors) => errors
            .iter()
            .map(|f| {
                let text = rtms_i18n::refusal(f.code, lang);
                match f
                    .field
                    .strip_prefix("rows[")
                    .and_then(|r| r.split_once(']'))
                {
                    Some((line, rest)) => {
                        let column = rest.trim_start_matches('.');
                        let column = column.split('[').next().unwrap_or(column);
                        let label = if column.is_empty() {
                            String::new()
                        } else {
                            format!(" · {}", tr(lang, &format!("duty-col-{column}")))
                        };
                        format!("{} {line}{label}: {text}", tr(lang, "duty-row"))
                    }
                    None => format!(
                        "{}: {text}",
                        tr(
                            lang,
                            &format!("duty-col-{}", f.field.split('[').next().unwrap_or(&f.field))
                        )
                    ),
                }
            })
            .collect(),
        other => vec![crate::error::message(other, lang)],
    }
}

async fn roster_page(
    state: &AppState,
    u: &UiUser,
    tkc: Option<i64>,
    from: Option<NaiveDate>,
    errors: Vec<String>,
    done: String,
) -> Response {
    let lang = u.lang;
    let actor = u.actor.clone();
    let today = state.svc.clock.now().date_naive();
    let from = from.unwrap_or(today);
    let loaded = svc_call(state, move |s| {
        let centres = s.roster_centres(&actor)?;
        let tkc = tkc
            .or_else(|| centres.first().map(|c| c.0))
            .ok_or(ServiceError::Forbidden)?;
        let r = s.duty_roster(&actor, tkc, from, 7, lang)?;
        let profiles = s
            .profiles(lang)?
            .into_iter()
            .map(|p| (p.code, p.name))
            .collect::<Vec<_>>();
        Ok((r, profiles))
    })
    .await;
    let (r, profiles) = match loaded {
        Ok(v) => v,
        Err(e) => return error_page(u, &e),
    };
    let p = Page::for_user(u, tr(lang, "duty-roster-title"), "duty", 0);
    let tz = fmt::tz(&r.time_zone);
    let mut rows: Vec<String> = r.shifts.iter().map(|s| s.profile.clone()).collect();
    rows.sort();
    rows.dedup();
    let grid = rows
        .iter()
        .map(|code| {
            let name = r
                .shifts
                .iter()
                .find(|s| &s.profile == code)
                .map(|s| s.profile_name.clone())
                .unwrap_or_default();
            let cells = r
                .days
                .iter()
                .map(|d| Cell {
                    day_off: d.day_off,
                    shifts: r
                        .shifts
                        .iter()
                        .filter(|s| {
                            &s.profile == code
                                && s.starts_at.with_timezone(&tz).date_naive() == d.date
                        })
                        .map(|s| shift_line(s, &p))
                        .collect(),
                })
                .collect();
            (name, cells)
        })
        .collect();
    let days = r
        .days
        .iter()
        .map(|d| (fmt::date(d.date, lang), d.day_off, d.holiday))
        .collect();
    let absences = r
        .absences
        .iter()
        .map(|a| {
            (
                a.id,
                a.name.clone(),
                tr(lang, &format!("duty-absence-{}", a.kind)),
                format!("{} – {}", fmt::date(a.from, lang), fmt::date(a.to, lang)),
            )
        })
        .collect();
    render(RosterTpl {
        days,
        grid,
        profiles,
        kinds: SHIFT_KINDS
            .iter()
            .map(|k| (k.to_string(), tr(lang, &format!("duty-kind-{k}"))))
            .collect(),
        absence_kinds: ABSENCE_KINDS
            .iter()
            .map(|k| (k.to_string(), tr(lang, &format!("duty-absence-{k}"))))
            .collect(),
        absences,
        from: from.to_string(),
        prev: (from - Duration::days(7)).to_string(),
        next: (from + Duration::days(7)).to_string(),
        errors,
        done,
        p,
        r,
    })
}

/// A centre's roster, a week at a time.
pub async fn roster(
    State(state): State<AppState>,
    u: UiUser,
    Query(q): Query<RosterQuery>,
) -> Response {
    let from = q.from.as_deref().and_then(parse_date);
    roster_page(&state, &u, q.tkc, from, vec![], String::new()).await
}

/// Back to the centre's roster after a change.
fn to_roster(tkc: i64, from: Option<NaiveDate>) -> Response {
    match from {
        Some(day) => Redirect::to(&format!("/duty/roster?tkc={tkc}&from={day}")),
        None => Redirect::to(&format!("/duty/roster?tkc={tkc}")),
    }
    .into_response()
}

/// The roster again with what was refused and why (the page answers with
/// the error page when the caller may not see the roster at all).
async fn refused(
    state: &AppState,
    u: &UiUser,
    tkc: Option<i64>,
    from: Option<NaiveDate>,
    e: &ServiceError,
) -> Response {
    roster_page(state, u, tkc, from, error_lines(e, u.lang), String::new()).await
}

/// The roster again saying what was done: `key` with its `count`.
async fn done(
    state: &AppState,
    u: &UiUser,
    tkc: Option<i64>,
    from: Option<NaiveDate>,
    key: &str,
    count: usize,
) -> Response {
    let text = rtms_i18n::tr_args(u.lang, key, &[("count", (count as i64).into())]);
    roster_page(state, u, tkc, from, vec![], text).await
}

/// A date field the form sent unreadable.
fn bad_date(lang: Lang) -> Vec<String> {
    vec![format!(
        "{}: {}",
        tr(lang, "duty-col-date"),
        rtms_i18n::refusal("date_format", lang)
    )]
}

#[derive(Debug, Default, Deserialize)]
pub struct ShiftForm {
    #[serde(default)]
    pub profile: String,
    #[serde(default)]
    pub date: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub start: String,
    #[serde(default)]
    pub end: String,
    #[serde(default)]
    pub primary: String,
    #[serde(default)]
    pub backup1: String,
    #[serde(default)]
    pub backup2: String,
}

/// Adds a shift from the form.
pub async fn add_shift(
    State(state): State<AppState>,
    u: UiUser,
    Path(tkc): Path<i64>,
    Form(f): Form<ShiftForm>,
) -> Response {
    let Some(date) = parse_date(&f.date) else {
        return roster_page(&state, &u, Some(tkc), None, bad_date(u.lang), String::new()).await;
    };
    let input = ShiftInput {
        profile: f.profile,
        date,
        kind: f.kind,
        start: f.start,
        end: f.end,
        primary: f.primary,
        backups: [f.backup1, f.backup2]
            .into_iter()
            .filter(|b| !b.is_empty())
            .collect(),
    };
    let actor = u.actor.clone();
    match svc_call(&state, move |s| s.duty_add_shift(&actor, tkc, &input)).await {
        Ok(_) => to_roster(tkc, Some(date)),
        Err(e) => refused(&state, &u, Some(tkc), Some(date), &e).await,
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct CopyForm {
    #[serde(default)]
    pub from: String,
}

/// Copies the week before onto the week shown.
pub async fn copy_week(
    State(state): State<AppState>,
    u: UiUser,
    Path(tkc): Path<i64>,
    Form(f): Form<CopyForm>,
) -> Response {
    let from = parse_date(&f.from).unwrap_or_else(|| state.svc.clock.now().date_naive());
    let actor = u.actor.clone();
    match svc_call(&state, move |s| s.duty_copy_week(&actor, tkc, from)).await {
        Ok(n) => done(&state, &u, Some(tkc), Some(from), "duty-copied", n).await,
        Err(e) => refused(&state, &u, Some(tkc), Some(from), &e).await,
    }
}

/// Removes a shift.
pub async fn delete_shift(
    State(state): State<AppState>,
    u: UiUser,
    Path((tkc, id)): Path<(i64, i64)>,
) -> Response {
    let actor = u.actor.clone();
    match svc_call(&state, move |s| s.duty_delete_shift(&actor, tkc, id)).await {
        Ok(()) => to_roster(tkc, None),
        Err(e) => error_page(&u, &e),
    }
}

/// A form's uploaded file (read to one byte past `limit`, so that the
/// service refuses it by its size) and its text fields.
async fn upload(
    multipart: &mut Multipart,
    limit: usize,
) -> Result<(Vec<u8>, HashMap<String, String>), ()> {
    let (mut file, mut fields) = (Vec::new(), HashMap::new());
    while let Some(mut field) = multipart.next_field().await.map_err(|_| ())? {
        let name = field.name().unwrap_or("").to_string();
        let mut bytes = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(|_| ())? {
            bytes.extend_from_slice(&chunk);
            if bytes.len() > limit {
                break;
            }
        }
        if name == "file" {
            file = bytes;
        } else {
            fields.insert(name, String::from_utf8_lossy(&bytes).into_owned());
        }
    }
    Ok((file, fields))
}

/// Imports a roster file (CSV or XLSX): all rows or none, each bad row named.
pub async fn import(
    State(state): State<AppState>,
    u: UiUser,
    Path(tkc): Path<i64>,
    mut multipart: Multipart,
) -> Response {
    let Ok((bytes, _)) = upload(&mut multipart, ROSTER_MAX_BYTES).await else {
        let errors = vec![tr(u.lang, "admin-import-failed")];
        return roster_page(&state, &u, Some(tkc), None, errors, String::new()).await;
    };
    let actor = u.actor.clone();
    match svc_call(&state, move |s| s.duty_import(&actor, tkc, &bytes)).await {
        Ok(n) => done(&state, &u, Some(tkc), None, "duty-imported", n).await,
        Err(e) => refused(&state, &u, Some(tkc), None, &e).await,
    }
}

/// A roster as an XLSX workbook: one sheet, the import's columns, every
/// cell text (dates `ДД.ММ.ГГГГ`, times `ЧЧ:ММ`), so it reads back as written.
pub(crate) fn roster_xlsx(rows: &[ShiftInput]) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let sheet = book.add_worksheet();
    sheet.set_name("roster")?;
    for (c, h) in rtms_service::directory::duty::ROSTER_HEADER
        .iter()
        .enumerate()
    {
        sheet.write_string_with_format(0, c as u16, *h, &bold)?;
        sheet.set_column_width(c as u16, if c == 6 { 30 } else { 14 })?;
    }
    for (i, r) in rows.iter().enumerate() {
        let y = i as u32 + 1;
        let cells = [
            r.date.format("%d.%m.%Y").to_string(),
            r.profile.clone(),
            r.kind.clone(),
            r.start.clone(),
            r.end.clone(),
            r.primary.clone(),
            r.backups.join(" "),
        ];
        for (c, v) in cells.iter().enumerate() {
            sheet.write_string(y, c as u16, v)?;
        }
    }
    book.save_to_buffer()
}

/// The roster of four weeks from `from` as CSV, as the import reads it.
pub async fn export_csv(
    State(state): State<AppState>,
    u: UiUser,
    Path(tkc): Path<i64>,
    Query(q): Query<RosterQuery>,
) -> Response {
    export(state, u, tkc, q, false).await
}

/// The same as an XLSX workbook.
pub async fn export_xlsx(
    State(state): State<AppState>,
    u: UiUser,
    Path(tkc): Path<i64>,
    Query(q): Query<RosterQuery>,
) -> Response {
    export(state, u, tkc, q, true).await
}

async fn export(state: AppState, u: UiUser, tkc: i64, q: RosterQuery, xlsx: bool) -> Response {
    let from = q
        .from
        .as_deref()
        .and_then(parse_date)
        .unwrap_or_else(|| state.svc.clock.now().date_naive());
    let actor = u.actor.clone();
    let rows = match svc_call(&state, move |s| s.duty_export(&actor, tkc, from, 28)).await {
        Ok(rows) => rows,
        Err(e) => return error_page(&u, &e),
    };
    let name = format!("roster-{tkc}-{from}");
    if !xlsx {
        return download(
            roster_csv(&rows),
            "text/csv; charset=utf-8",
            &format!("{name}.csv"),
        );
    }
    match roster_xlsx(&rows) {
        Ok(body) => download(body, XLSX_TYPE, &format!("{name}.xlsx")),
        Err(e) => {
            tracing::error!(error = %e, "roster workbook failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct AbsenceForm {
    #[serde(default)]
    pub user_id: i64,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
}

/// Records an absence.
pub async fn add_absence(
    State(state): State<AppState>,
    u: UiUser,
    Path(tkc): Path<i64>,
    Form(f): Form<AbsenceForm>,
) -> Response {
    let (Some(from), Some(to)) = (parse_date(&f.from), parse_date(&f.to)) else {
        return roster_page(&state, &u, Some(tkc), None, bad_date(u.lang), String::new()).await;
    };
    let input = AbsenceInput {
        user_id: f.user_id,
        kind: f.kind,
        from,
        to,
    };
    let actor = u.actor.clone();
    match svc_call(&state, move |s| s.duty_add_absence(&actor, tkc, &input)).await {
        Ok(_) => to_roster(tkc, None),
        Err(e) => refused(&state, &u, Some(tkc), None, &e).await,
    }
}

/// Removes an absence.
pub async fn delete_absence(
    State(state): State<AppState>,
    u: UiUser,
    Path((tkc, id)): Path<(i64, i64)>,
) -> Response {
    let actor = u.actor.clone();
    match svc_call(&state, move |s| s.duty_delete_absence(&actor, tkc, id)).await {
        Ok(()) => to_roster(tkc, None),
        Err(e) => error_page(&u, &e),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct PhonesForm {
    #[serde(default)]
    pub show: Option<String>,
}

/// Whether the board shows the centre's phones.
pub async fn phones(
    State(state): State<AppState>,
    u: UiUser,
    Path(tkc): Path<i64>,
    Form(f): Form<PhonesForm>,
) -> Response {
    let actor = u.actor.clone();
    let show = f.show.is_some();
    match svc_call(&state, move |s| s.duty_show_phone(&actor, tkc, show)).await {
        Ok(()) => to_roster(tkc, None),
        Err(e) => error_page(&u, &e),
    }
}

/// Loads a year of the production calendar (administrators): a CSV file and
/// where it comes from.
pub async fn calendar(
    State(state): State<AppState>,
    u: UiUser,
    Query(q): Query<RosterQuery>,
    mut multipart: Multipart,
) -> Response {
    let Ok((bytes, fields)) = upload(&mut multipart, CALENDAR_MAX_BYTES).await else {
        let errors = vec![tr(u.lang, "admin-import-failed")];
        return roster_page(&state, &u, q.tkc, None, errors, String::new()).await;
    };
    let source = fields.get("source").cloned().unwrap_or_default();
    let actor = u.actor.clone();
    match svc_call(&state, move |s| {
        s.duty_load_calendar(&actor, &bytes, &source)
    })
    .await
    {
        Ok(n) => done(&state, &u, q.tkc, None, "duty-calendar-loaded", n).await,
        Err(ServiceError::Forbidden) => error_page(&u, &ServiceError::Forbidden),
        Err(e) => refused(&state, &u, q.tkc, None, &e).await,
    }
}

/// Acknowledges the call on a request (the button on its page and the e-mail's link lead here).
pub async fn ack(State(state): State<AppState>, u: UiUser, Path(id): Path<i64>) -> Response {
    let actor = u.actor.clone();
    match svc_call(&state, move |s| s.duty_ack(&actor, id)).await {
        Ok(()) => Redirect::to(&format!("/requests/{id}")).into_response(),
        Err(e) => error_page(&u, &e),
    }
}
