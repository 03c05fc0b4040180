//! Duty rosters: who is on duty for a profile in a consultation centre, when.
//!
//! A shift runs from its start to its end in the centre's time zone (stored in
//! UTC) with a primary consultant and backups in order. Absences (leave, sick
//! leave) take a consultant out of every shift on those days. The production
//! calendar (loaded from a file with its source) says which days are off
//! besides Saturdays and Sundays, and which of those are worked: a weekend
//! shift may only stand on a day off.
//!
//! The coordinator of a centre (or an administrator) edits its roster, one
//! shift at a time or by importing a CSV (all rows or none); anyone working
//! with requests reads the board «Кто дежурит сейчас». The call chain that
//! uses the roster is `lifecycle::duty_calls`.

use chrono::{
    DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc, Weekday,
};
use std::collections::HashMap;

use chrono_tz::Tz;
use rtms_domain::{FieldError, Lang, OrgKind, Role};
use rtms_store::duty::{self, NewShift, Shift};
use rtms_store::models::User;
use rtms_store::{reference, repo, DbConn};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{Actor, ServiceError, Services};

type SResult<T> = Result<T, ServiceError>;

/// Kinds of shift: day, night, 24 hours, weekend (only on a day off).
pub const SHIFT_KINDS: &[&str] = &["day", "night", "full", "weekend"];
/// Kinds of absence.
pub const ABSENCE_KINDS: &[&str] = &["leave", "sick", "other"];
/// The largest roster file taken (CSV), before it is read.
pub const ROSTER_MAX_BYTES: usize = 1 << 20;
/// The most rows one import takes (a month of four profiles, three shifts a day, is 360).
pub const ROSTER_MAX_ROWS: usize = 5000;
/// The longest shift: 36 hours.
pub const SHIFT_MAX_HOURS: i64 = 36;
/// The largest production calendar file.
pub const CALENDAR_MAX_BYTES: usize = 64 << 10;
/// Setting: minutes a called consultant has to acknowledge (default 10).
pub const ACK_MINUTES_SETTING: &str = "duty.ack_minutes";
pub const DEFAULT_ACK_MINUTES: i64 = 10;
/// Settings of the outgoing webhook (an SMS or telephone gateway): its URL,
/// the text template (`{id}`, `{step}`, `{link}`), the HMAC-SHA256 key.
pub const WEBHOOK_URL_SETTING: &str = "duty.webhook_url";
/// Setting: `true` routes urgent requests like emergencies, to the
/// consultant on duty without the dispatcher.
pub const AUTO_URGENT_SETTING: &str = "duty.auto_urgent";
pub const WEBHOOK_TEMPLATE_SETTING: &str = "duty.webhook_template";
pub const WEBHOOK_SECRET_SETTING: &str = "duty.webhook_secret";

/// The region's acknowledgement time.
pub fn ack_minutes(conn: &mut DbConn) -> Result<i64, rtms_store::StoreError> {
    Ok(repo::setting(conn, ACK_MINUTES_SETTING)?
        .and_then(|v| v.parse::<i64>().ok())
        .filter(|m| (1..=240).contains(m))
        .unwrap_or(DEFAULT_ACK_MINUTES))
}

/// A webhook URL an administrator may set: http or https, a host, no
/// credentials in it, at most 2,000 characters. Private addresses are
/// allowed: a region's SMS gateway usually sits on its own network.
pub fn check_webhook_url(url: &str) -> Result<(), &'static str> {
    let url = url.trim();
    if url.len() > 2000 {
        return Err("url_too_long");
    }
    let parsed = reqwest::Url::parse(url).map_err(|_| "url_invalid")?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err("url_invalid");
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("url_credentials");
    }
    Ok(())
}

/// Setting (per centre, `duty.show_phone.<org id>`): the board shows the
/// consultants' work phones.
pub fn show_phone_key(tkc: i64) -> String {
    format!("duty.show_phone.{tkc}")
}

/// One person of a shift's chain.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DutyPerson {
    pub user_id: i64,
    pub name: String,
    /// The login, in a centre's own roster only (the forms send it).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub login: String,
    /// The work phone, when the centre shows it.
    pub phone: Option<String>,
    /// On leave or sick leave today: skipped.
    pub absent: bool,
}

/// A shift as the roster and the board show it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ShiftView {
    pub id: i64,
    pub tkc_id: i64,
    pub tkc: String,
    /// The centre's time zone (shifts are entered in it).
    pub time_zone: String,
    pub profile: String,
    pub profile_name: String,
    /// `day`, `night`, `full`, `weekend`.
    pub kind: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// The primary first, then the backups in order.
    pub people: Vec<DutyPerson>,
}

/// «Кто дежурит сейчас» for one profile.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BoardRow {
    pub profile: String,
    pub profile_name: String,
    pub now: Option<ShiftView>,
    pub next: Option<ShiftView>,
}

/// A centre's roster for a period, in its time zone.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RosterView {
    pub tkc_id: i64,
    pub tkc: String,
    pub time_zone: String,
    pub from: NaiveDate,
    pub days: Vec<RosterDay>,
    pub shifts: Vec<ShiftView>,
    pub absences: Vec<AbsenceView>,
    /// The centre's consultants, for the forms.
    pub consultants: Vec<DutyPerson>,
    pub show_phone: bool,
    /// Where the production calendar came from.
    pub calendar_sources: Vec<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RosterDay {
    pub date: NaiveDate,
    /// A Saturday, a Sunday or a holiday of the calendar, unless the calendar
    /// makes it a working day.
    pub day_off: bool,
    pub holiday: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AbsenceView {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub kind: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// A shift as a coordinator enters it: local date and times in the centre.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct ShiftInput {
    pub profile: String,
    pub date: NaiveDate,
    pub kind: String,
    /// `HH:MM`, the centre's time.
    pub start: String,
    /// `HH:MM`; at or before the start means the next day.
    pub end: String,
    /// The primary's login.
    pub primary: String,
    /// The backups' logins, in the order they are called.
    #[serde(default)]
    pub backups: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct AbsenceInput {
    pub user_id: i64,
    pub kind: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// The people to call for a request: the shift, and its people in order
/// with who is absent.
#[derive(Debug, Clone)]
pub struct Chain {
    pub shift: Shift,
    pub people: Vec<(i64, bool)>,
}

impl Chain {
    /// The first person at or after `from` in the chain who is not absent.
    pub fn first_present(&self, from: usize) -> Option<(usize, i64)> {
        self.people
            .iter()
            .enumerate()
            .skip(from)
            .find(|(_, (_, absent))| !absent)
            .map(|(i, (u, _))| (i, *u))
    }
}

fn tz_of(zone: &str) -> Tz {
    zone.parse().unwrap_or(chrono_tz::Europe::Moscow)
}

/// A local time in `tz` as UTC (the earlier one when the clock goes back,
/// the next valid minute when it jumps forward).
fn to_utc(tz: Tz, local: NaiveDateTime) -> NaiveDateTime {
    match tz.from_local_datetime(&local).earliest() {
        Some(t) => t.naive_utc(),
        None => to_utc(tz, local + Duration::minutes(1)),
    }
}

/// The chain of the shift of `profile` running at `at` in `tkc` (or in any
/// centre when none), with who is absent that day in the centre's time zone.
pub fn chain_at(
    conn: &mut DbConn,
    tkc: Option<i64>,
    profile: &str,
    at: NaiveDateTime,
) -> Result<Option<Chain>, ServiceError> {
    let Some(shift) = duty::shifts_at(conn, tkc, profile, at)?.into_iter().next() else {
        return Ok(None);
    };
    Ok(Some(chain_of(conn, shift, at)?))
}

/// The chain of a known shift at `at`.
pub fn chain_of(conn: &mut DbConn, shift: Shift, at: NaiveDateTime) -> Result<Chain, ServiceError> {
    let org = repo::organization(conn, shift.tkc_id)?;
    chain_in(conn, shift, at, tz_of(&org.time_zone))
}

/// The same, in the centre's time zone already known.
fn chain_in(conn: &mut DbConn, shift: Shift, at: NaiveDateTime, tz: Tz) -> SResult<Chain> {
    let today = tz.from_utc_datetime(&at).date_naive();
    let mut ids = vec![shift.primary_user_id];
    ids.extend(shift.backups());
    let absent = duty::absences_between(conn, &ids, today, today)?;
    let people = ids
        .iter()
        .map(|u| (*u, absent.iter().any(|a| a.user_id == *u)))
        .collect();
    Ok(Chain { shift, people })
}

/// Of `users`: who is on a shift at `at` (as primary or backup), and who
/// is absent on that day (in Moscow time, the region's working day).
pub fn availability(
    conn: &mut DbConn,
    users: &[i64],
    at: NaiveDateTime,
) -> Result<(Vec<i64>, Vec<i64>), ServiceError> {
    if users.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let mut on_duty = Vec::new();
    for s in duty::shifts_between(conn, None, None, at, at + Duration::seconds(1))? {
        on_duty.push(s.primary_user_id);
        on_duty.extend(s.backups());
    }
    on_duty.retain(|u| users.contains(u));
    let today = chrono_tz::Europe::Moscow
        .from_utc_datetime(&at)
        .date_naive();
    let absent = duty::absences_between(conn, users, today, today)?
        .into_iter()
        .map(|a| a.user_id)
        .collect();
    Ok((on_duty, absent))
}

/// Days off of `[from, to]`: Saturdays and Sundays and the calendar's
/// holidays, less the calendar's working days.
fn days_of(conn: &mut DbConn, from: NaiveDate, to: NaiveDate) -> SResult<Vec<RosterDay>> {
    let marks = duty::calendar_between(conn, from, to)?;
    let mut out = Vec::new();
    let mut d = from;
    while d <= to {
        let mark = marks
            .iter()
            .find(|(day, _)| *day == d)
            .map(|(_, k)| k.as_str());
        let weekend = matches!(d.weekday(), Weekday::Sat | Weekday::Sun);
        out.push(RosterDay {
            date: d,
            day_off: match mark {
                Some("holiday") => true,
                Some("workday") => false,
                _ => weekend,
            },
            holiday: mark == Some("holiday"),
        });
        d += Duration::days(1);
    }
    Ok(out)
}

fn is_day_off(conn: &mut DbConn, day: NaiveDate) -> SResult<bool> {
    Ok(days_of(conn, day, day)?.first().is_some_and(|d| d.day_off))
}

/// Profile names and centres as one answer's shift views read them.
struct Seen {
    profiles: HashMap<String, String>,
    /// A centre and whether the board shows its phones.
    centres: HashMap<i64, (rtms_store::models::Organization, bool)>,
}

impl Seen {
    fn profile_name(&self, code: &str) -> String {
        self.profiles
            .get(code)
            .cloned()
            .unwrap_or_else(|| code.to_string())
    }

    fn centre(
        &mut self,
        conn: &mut DbConn,
        tkc: i64,
    ) -> SResult<(rtms_store::models::Organization, bool)> {
        if let Some(c) = self.centres.get(&tkc) {
            return Ok(c.clone());
        }
        let org = repo::organization(conn, tkc)?;
        let show = repo::setting(conn, &show_phone_key(tkc))?.as_deref() == Some("true");
        self.centres.insert(tkc, (org.clone(), show));
        Ok((org, show))
    }
}

/// What checking shifts of one centre needs, read once for a whole file:
/// the centre's zone, the profiles, the centre's consultants by login.
struct ShiftRules {
    tkc: i64,
    tz: Tz,
    profiles: Vec<String>,
    consultants: HashMap<String, i64>,
}

impl ShiftRules {
    fn load(conn: &mut DbConn, tkc: i64) -> SResult<ShiftRules> {
        let org = repo::organization(conn, tkc)?;
        let ids = repo::users_with_role(conn, Role::Consultant.as_str(), Some(tkc), None)?;
        Ok(ShiftRules {
            tkc,
            tz: tz_of(&org.time_zone),
            profiles: reference::profiles(conn)?
                .into_iter()
                .map(|p| p.code)
                .collect(),
            consultants: repo::users_by_ids(conn, &ids)?
                .into_iter()
                .map(|u| (u.login, u.id))
                .collect(),
        })
    }
}

impl Services {
    /// Whether the caller edits the roster of `tkc`: its coordinator, or an administrator.
    fn may_edit_roster(&self, actor: &Actor, tkc: i64) -> bool {
        actor.has(Role::Admin)
            || actor
                .roles
                .iter()
                .any(|r| r.role == Role::Coordinator && r.org.id == tkc)
    }

    /// Who reads rosters and the board: anyone working with requests.
    fn may_read_duty(&self, actor: &Actor) -> bool {
        actor.is_dispatcher()
            || actor.roles.iter().any(|r| {
                matches!(
                    r.role,
                    Role::Doctor | Role::Head | Role::Consultant | Role::Coordinator | Role::Admin
                )
            })
    }

    fn people_views(
        &self,
        conn: &mut DbConn,
        ids: &[i64],
        absent: &[i64],
        show_phone: bool,
        with_logins: bool,
    ) -> SResult<Vec<DutyPerson>> {
        let users = repo::users_by_ids(conn, ids)?;
        Ok(ids
            .iter()
            .filter_map(|id| users.iter().find(|u| u.id == *id))
            .map(|u: &User| DutyPerson {
                user_id: u.id,
                name: u.short_name(),
                login: if with_logins {
                    u.login.clone()
                } else {
                    String::new()
                },
                phone: Some(u.phone.clone()).filter(|p| show_phone && !p.is_empty()),
                absent: absent.contains(&u.id),
            })
            .collect())
    }

    fn shift_view(
        &self,
        conn: &mut DbConn,
        seen: &mut Seen,
        s: &Shift,
        at: NaiveDateTime,
    ) -> SResult<ShiftView> {
        let (org, show) = seen.centre(conn, s.tkc_id)?;
        let chain = chain_in(conn, s.clone(), at, tz_of(&org.time_zone))?;
        let ids: Vec<i64> = chain.people.iter().map(|(u, _)| *u).collect();
        let absent: Vec<i64> = chain
            .people
            .iter()
            .filter(|(_, a)| *a)
            .map(|(u, _)| *u)
            .collect();
        let people = self.people_views(conn, &ids, &absent, show, false)?;
        Ok(ShiftView {
            id: s.id,
            tkc_id: s.tkc_id,
            tkc: org.short_name,
            time_zone: org.time_zone,
            profile: s.profile_code.clone(),
            profile_name: seen.profile_name(&s.profile_code),
            kind: s.kind.clone(),
            starts_at: s.starts_at.and_utc(),
            ends_at: s.ends_at.and_utc(),
            people,
        })
    }

    /// What shift views of one answer share: profile names, and each centre
    /// with its phone setting, read once.
    fn seen(&self, conn: &mut DbConn, lang: Lang) -> SResult<Seen> {
        Ok(Seen {
            profiles: reference::profiles(conn)?
                .into_iter()
                .map(|p| {
                    let name = match lang {
                        Lang::En => p.name_en,
                        Lang::Ru => p.name_ru,
                    };
                    (p.code, name)
                })
                .collect(),
            centres: HashMap::new(),
        })
    }

    /// «Кто дежурит сейчас»: per profile with a shift now or in the next
    /// two days, who is on duty now and who is next.
    pub fn duty_board(&self, actor: &Actor, lang: Lang) -> SResult<Vec<BoardRow>> {
        if !self.may_read_duty(actor) {
            return Err(ServiceError::Forbidden);
        }
        let now = self.clock.now().naive_utc();
        let mut conn = self.db.conn()?;
        let mut seen = self.seen(&mut conn, lang)?;
        let shifts = duty::shifts_between(&mut conn, None, None, now, now + Duration::days(2))?;
        let mut profiles: Vec<String> = shifts.iter().map(|s| s.profile_code.clone()).collect();
        profiles.sort();
        profiles.dedup();
        let mut rows = Vec::new();
        for p in profiles {
            let of: Vec<&Shift> = shifts.iter().filter(|s| s.profile_code == p).collect();
            let current = of.iter().find(|s| s.starts_at <= now && s.ends_at > now);
            let next = of
                .iter()
                .filter(|s| s.starts_at > now)
                .min_by_key(|s| (s.starts_at, s.id));
            let now_view = match current {
                Some(s) => Some(self.shift_view(&mut conn, &mut seen, s, now)?),
                None => None,
            };
            let next_view = match next {
                Some(s) => Some(self.shift_view(&mut conn, &mut seen, s, s.starts_at)?),
                None => None,
            };
            rows.push(BoardRow {
                profile_name: seen.profile_name(&p),
                profile: p,
                now: now_view,
                next: next_view,
            });
        }
        rows.sort_by(|a, b| a.profile_name.cmp(&b.profile_name));
        Ok(rows)
    }

    /// The centres whose rosters the caller edits.
    pub fn roster_centres(&self, actor: &Actor) -> SResult<Vec<(i64, String)>> {
        let mut conn = self.db.conn()?;
        let mut out = Vec::new();
        for o in repo::organizations(&mut conn, Some(OrgKind::Tkc.as_str()))? {
            if self.may_edit_roster(actor, o.id) {
                out.push((o.id, o.short_name));
            }
        }
        Ok(out)
    }

    /// A centre's roster for `days` days from `from` (local dates).
    pub fn duty_roster(
        &self,
        actor: &Actor,
        tkc: i64,
        from: NaiveDate,
        days: i64,
        lang: Lang,
    ) -> SResult<RosterView> {
        if !self.may_edit_roster(actor, tkc) {
            return Err(ServiceError::Forbidden);
        }
        let days = days.clamp(1, 62);
        let (to, after) = period(from, days)?;
        let mut conn = self.db.conn()?;
        let org = repo::organization(&mut conn, tkc)?;
        let tz = tz_of(&org.time_zone);
        let start = to_utc(tz, from.and_time(NaiveTime::MIN));
        let end = to_utc(tz, after.and_time(NaiveTime::MIN));
        let mut seen = self.seen(&mut conn, lang)?;
        let mut shifts = Vec::new();
        for s in duty::shifts_between(&mut conn, Some(tkc), None, start, end)? {
            shifts.push(self.shift_view(&mut conn, &mut seen, &s, s.starts_at)?);
        }
        let consultant_ids =
            repo::users_with_role(&mut conn, Role::Consultant.as_str(), Some(tkc), None)?;
        let mut absences = Vec::new();
        let absent_rows = duty::absences_between(&mut conn, &consultant_ids, from, to)?;
        let users = repo::users_by_ids(&mut conn, &consultant_ids)?;
        for a in absent_rows {
            absences.push(AbsenceView {
                id: a.id,
                user_id: a.user_id,
                name: users
                    .iter()
                    .find(|u| u.id == a.user_id)
                    .map(|u| u.short_name())
                    .unwrap_or_default(),
                kind: a.kind,
                from: a.from_date,
                to: a.to_date,
            });
        }
        let mut consultants = self.people_views(&mut conn, &consultant_ids, &[], true, true)?;
        consultants.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(RosterView {
            tkc_id: tkc,
            tkc: org.short_name,
            time_zone: org.time_zone.clone(),
            from,
            days: days_of(&mut conn, from, to)?,
            shifts,
            absences,
            consultants,
            show_phone: repo::setting(&mut conn, &show_phone_key(tkc))?.as_deref() == Some("true"),
            calendar_sources: duty::calendar_sources(&mut conn)?,
        })
    }

    /// Checks one shift as entered; `path` prefixes the field names
    /// (`rows[5].` for an import).
    fn check_shift(
        &self,
        conn: &mut DbConn,
        rules: &ShiftRules,
        input: &ShiftInput,
        path: &str,
    ) -> SResult<Result<NewShift, Vec<FieldError>>> {
        let mut errors = Vec::new();
        let f = |name: &str| format!("{path}{name}");
        if !(2000..=2200).contains(&input.date.year()) {
            return Ok(Err(vec![FieldError::new(f("date"), "out_of_range")]));
        }
        if !rules.profiles.contains(&input.profile) {
            errors.push(FieldError::new(f("profile"), "unknown_value"));
        }
        if !SHIFT_KINDS.contains(&input.kind.as_str()) {
            errors.push(FieldError::new(f("kind"), "unknown_value"));
        } else if input.kind == "weekend" && !is_day_off(conn, input.date)? {
            errors.push(FieldError::new(f("kind"), "duty_weekend_on_workday"));
        }
        let start = NaiveTime::parse_from_str(input.start.trim(), "%H:%M");
        let end = NaiveTime::parse_from_str(input.end.trim(), "%H:%M");
        if start.is_err() {
            errors.push(FieldError::new(f("start"), "time_format"));
        }
        if end.is_err() {
            errors.push(FieldError::new(f("end"), "time_format"));
        }
        let mut person =
            |login: &str, field: String, errors: &mut Vec<FieldError>| -> SResult<Option<i64>> {
                if let Some(id) = rules.consultants.get(login.trim()) {
                    return Ok(Some(*id));
                }
                // Only a refusal asks the database which it is.
                let code = match repo::user_by_login(conn, login.trim())? {
                    Some(_) => "duty_not_consultant_here",
                    None => "unknown_login",
                };
                errors.push(FieldError::new(field, code));
                Ok(None)
            };
        let primary = if input.primary.trim().is_empty() {
            errors.push(FieldError::new(f("primary"), "required"));
            None
        } else {
            person(&input.primary, f("primary"), &mut errors)?
        };
        let mut backups = Vec::new();
        for (i, b) in input
            .backups
            .iter()
            .filter(|b| !b.trim().is_empty())
            .enumerate()
        {
            if let Some(id) = person(b, format!("{path}backups[{i}]"), &mut errors)? {
                if Some(id) == primary || backups.contains(&id) {
                    errors.push(FieldError::new(format!("{path}backups[{i}]"), "duty_twice"));
                } else {
                    backups.push(id);
                }
            }
        }
        let (Ok(start), Ok(end), Some(primary)) = (start, end, primary) else {
            return Ok(Err(errors));
        };
        let begins = input.date.and_time(start);
        let mut ends = input.date.and_time(end);
        if ends <= begins {
            ends += Duration::days(1);
        }
        let (starts_at, ends_at) = (to_utc(rules.tz, begins), to_utc(rules.tz, ends));
        if ends_at - starts_at > Duration::hours(SHIFT_MAX_HOURS) {
            errors.push(FieldError::new(f("end"), "duty_too_long"));
        }
        if !errors.is_empty() {
            return Ok(Err(errors));
        }
        Ok(Ok(NewShift {
            tkc_id: rules.tkc,
            profile_code: input.profile.clone(),
            kind: input.kind.clone(),
            starts_at,
            ends_at,
            primary_user_id: primary,
            backups,
        }))
    }

    /// Adds one shift to a centre's roster; refused when it overlaps another
    /// shift of the same profile there.
    pub fn duty_add_shift(&self, actor: &Actor, tkc: i64, input: &ShiftInput) -> SResult<i64> {
        if !self.may_edit_roster(actor, tkc) {
            return Err(ServiceError::Forbidden);
        }
        let now = self.clock.now().naive_utc();
        self.db.write(|conn| {
            let rules = ShiftRules::load(conn, tkc)?;
            let shift = self
                .check_shift(conn, &rules, input, "")?
                .map_err(ServiceError::Invalid)?;
            let overlapping = duty::shifts_between(
                conn,
                Some(tkc),
                Some(&shift.profile_code),
                shift.starts_at,
                shift.ends_at,
            )?;
            if !overlapping.is_empty() {
                return Err(ServiceError::field("start", "duty_overlap"));
            }
            let id = duty::insert_shift(conn, &shift, Some(actor.user.id), now)?;
            self.audit_in(
                conn,
                actor,
                None,
                "duty_shift_add",
                ("duty_shift", &id.to_string()),
                &format!(
                    "{} {} {}",
                    shift.profile_code, shift.starts_at, shift.ends_at
                ),
            )?;
            Ok(id)
        })
    }

    /// Removes a shift of the centre; one already gone is no error (a
    /// second click).
    pub fn duty_delete_shift(&self, actor: &Actor, tkc: i64, id: i64) -> SResult<()> {
        if !self.may_edit_roster(actor, tkc) {
            return Err(ServiceError::Forbidden);
        }
        self.db.write(|conn| {
            let s = match duty::shift(conn, id) {
                Ok(s) if s.tkc_id == tkc => s,
                Ok(_) => return Err(ServiceError::NotFound),
                Err(rtms_store::StoreError::NotFound) => return Ok(()),
                Err(e) => return Err(e.into()),
            };
            duty::delete_shift(conn, id)?;
            self.audit_in(
                conn,
                actor,
                None,
                "duty_shift_delete",
                ("duty_shift", &id.to_string()),
                &format!("{} {} {}", s.profile_code, s.starts_at, s.ends_at),
            )?;
            Ok(())
        })
    }

    /// Imports a centre's roster from CSV or XLSX (`date;profile;kind;start;end;primary;backups`,
    /// `;` or `,` between fields, dates `ДД.ММ.ГГГГ` or `ГГГГ-ММ-ДД`, backups'
    /// logins separated by spaces). Every row is checked first; one bad row
    /// refuses the whole file, naming each bad row and why. A good file
    /// replaces the centre's shifts of its profiles from its first day to its
    /// last. Returns how many shifts it holds.
    pub fn duty_import(&self, actor: &Actor, tkc: i64, bytes: &[u8]) -> SResult<usize> {
        if !self.may_edit_roster(actor, tkc) {
            return Err(ServiceError::Forbidden);
        }
        if bytes.len() > ROSTER_MAX_BYTES {
            return Err(ServiceError::BodyTooLarge {
                what: "roster",
                limit: ROSTER_MAX_BYTES as u64,
            });
        }
        let rows = parse_roster(bytes)?;
        let now = self.clock.now().naive_utc();
        self.db.write(|conn| {
            let rules = ShiftRules::load(conn, tkc)?;
            let tz = rules.tz;
            let mut errors = Vec::new();
            let mut shifts: Vec<(usize, NewShift)> = Vec::new();
            for (line, input) in &rows {
                match self.check_shift(conn, &rules, input, &format!("rows[{line}]."))? {
                    Ok(s) => {
                        if shifts.iter().any(|(_, o)| {
                            o.profile_code == s.profile_code
                                && o.starts_at < s.ends_at
                                && s.starts_at < o.ends_at
                        }) {
                            errors.push(FieldError::new(
                                format!("rows[{line}].start"),
                                "duty_overlap",
                            ));
                        }
                        shifts.push((*line, s));
                    }
                    Err(mut e) => errors.append(&mut e),
                }
            }
            if !errors.is_empty() {
                return Err(ServiceError::Invalid(errors));
            }
            let first = rows
                .iter()
                .map(|(_, r)| r.date)
                .min()
                .ok_or_else(|| ServiceError::field("file", "duty_empty"))?;
            let last = rows.iter().map(|(_, r)| r.date).max().unwrap_or(first);
            let from = to_utc(tz, first.and_time(NaiveTime::MIN));
            let to = to_utc(tz, (last + Duration::days(1)).and_time(NaiveTime::MIN));
            let mut profiles: Vec<String> =
                shifts.iter().map(|(_, s)| s.profile_code.clone()).collect();
            profiles.sort();
            profiles.dedup();
            let new: Vec<NewShift> = shifts.into_iter().map(|(_, s)| s).collect();
            let n = duty::replace_shifts(
                conn,
                tkc,
                &profiles,
                from,
                to,
                &new,
                Some(actor.user.id),
                now,
            )?;
            self.audit_in(
                conn,
                actor,
                None,
                "duty_import",
                ("organization", &tkc.to_string()),
                &format!("{n} shifts {first}..{last}"),
            )?;
            Ok(n)
        })
    }

    /// Copies the week before `from` (seven days, the centre's dates) onto
    /// the week from `from`, one week later, every shift checked again as
    /// entered (a weekend shift lands on a working day only if the calendar
    /// allows). Refused when the target week already has shifts of those
    /// profiles: a copy never mixes with what the coordinator entered.
    /// Returns how many shifts were copied.
    pub fn duty_copy_week(&self, actor: &Actor, tkc: i64, from: NaiveDate) -> SResult<usize> {
        if !self.may_edit_roster(actor, tkc) {
            return Err(ServiceError::Forbidden);
        }
        let week = Duration::days(7);
        let source_from = from
            .checked_sub_signed(week)
            .ok_or_else(|| ServiceError::field("from", "out_of_range"))?;
        let mut last = self.duty_export(actor, tkc, source_from, 7)?;
        if last.is_empty() {
            return Err(ServiceError::field("from", "duty_week_empty"));
        }
        for shift in &mut last {
            shift.date += week;
        }
        let now = self.clock.now().naive_utc();
        self.db.write(|conn| {
            let rules = ShiftRules::load(conn, tkc)?;
            let tz = rules.tz;
            let (_, after) = period(from, 7)?;
            let start = to_utc(tz, from.and_time(NaiveTime::MIN));
            let end = to_utc(tz, after.and_time(NaiveTime::MIN));
            let taken = duty::shifts_between(conn, Some(tkc), None, start, end)?;
            if taken
                .iter()
                .filter(|t| t.starts_at >= start)
                .any(|t| last.iter().any(|s| s.profile == t.profile_code))
            {
                return Err(ServiceError::field("from", "duty_week_not_empty"));
            }
            let mut shifts = Vec::with_capacity(last.len());
            let mut errors = Vec::new();
            for (i, input) in last.iter().enumerate() {
                match self.check_shift(conn, &rules, input, &format!("rows[{}].", i + 1))? {
                    Ok(s) => {
                        // A night running into the week from before it.
                        let (a, b) = (s.starts_at, s.ends_at);
                        let profile = Some(s.profile_code.as_str());
                        if !duty::shifts_between(conn, Some(tkc), profile, a, b)?.is_empty() {
                            let field = format!("rows[{}].start", i + 1);
                            errors.push(FieldError::new(field, "duty_overlap"));
                        }
                        shifts.push(s)
                    }
                    Err(mut e) => errors.append(&mut e),
                }
            }
            if !errors.is_empty() {
                return Err(ServiceError::Invalid(errors));
            }
            for s in &shifts {
                duty::insert_shift(conn, s, Some(actor.user.id), now)?;
            }
            self.audit_in(
                conn,
                actor,
                None,
                "duty_import",
                ("organization", &tkc.to_string()),
                &format!("{} shifts copied {source_from} -> {from}", shifts.len()),
            )?;
            Ok(shifts.len())
        })
    }

    /// A centre's shifts from `from` for `days` days as the import reads them.
    pub fn duty_export(
        &self,
        actor: &Actor,
        tkc: i64,
        from: NaiveDate,
        days: i64,
    ) -> SResult<Vec<ShiftInput>> {
        if !self.may_edit_roster(actor, tkc) {
            return Err(ServiceError::Forbidden);
        }
        let (_, after) = period(from, days.clamp(1, 366))?;
        let mut conn = self.db.conn()?;
        let org = repo::organization(&mut conn, tkc)?;
        let tz = tz_of(&org.time_zone);
        let start = to_utc(tz, from.and_time(NaiveTime::MIN));
        let end = to_utc(tz, after.and_time(NaiveTime::MIN));
        let shifts = duty::shifts_between(&mut conn, Some(tkc), None, start, end)?;
        let mut out = Vec::with_capacity(shifts.len());
        for s in shifts.into_iter().filter(|s| s.starts_at >= start) {
            let mut ids = vec![s.primary_user_id];
            ids.extend(s.backups());
            let users = repo::users_by_ids(&mut conn, &ids)?;
            let login = |id: i64| {
                users
                    .iter()
                    .find(|u| u.id == id)
                    .map(|u| u.login.clone())
                    .unwrap_or_default()
            };
            let begins = tz.from_utc_datetime(&s.starts_at);
            let ends = tz.from_utc_datetime(&s.ends_at);
            out.push(ShiftInput {
                profile: s.profile_code.clone(),
                date: begins.date_naive(),
                kind: s.kind.clone(),
                start: begins.format("%H:%M").to_string(),
                end: ends.format("%H:%M").to_string(),
                primary: login(s.primary_user_id),
                backups: s.backups().into_iter().map(login).collect(),
            });
        }
        Ok(out)
    }

    /// Records an absence of one of the centre's consultants.
    pub fn duty_add_absence(&self, actor: &Actor, tkc: i64, input: &AbsenceInput) -> SResult<i64> {
        if !self.may_edit_roster(actor, tkc) {
            return Err(ServiceError::Forbidden);
        }
        if !ABSENCE_KINDS.contains(&input.kind.as_str()) {
            return Err(ServiceError::field("kind", "unknown_value"));
        }
        if input.to < input.from {
            return Err(ServiceError::field("to", "duty_dates_order"));
        }
        if input.from.year() < 2000 || input.to.year() > 2200 {
            return Err(ServiceError::field("from", "out_of_range"));
        }
        let now = self.clock.now().naive_utc();
        self.db.write(|conn| {
            let consultants =
                repo::users_with_role(conn, Role::Consultant.as_str(), Some(tkc), None)?;
            if !consultants.contains(&input.user_id) {
                return Err(ServiceError::field("user_id", "duty_not_consultant_here"));
            }
            let id = duty::insert_absence(
                conn,
                input.user_id,
                &input.kind,
                input.from,
                input.to,
                Some(actor.user.id),
                now,
            )?;
            self.audit_in(
                conn,
                actor,
                None,
                "duty_absence_add",
                ("user", &input.user_id.to_string()),
                &format!("{} {}..{}", input.kind, input.from, input.to),
            )?;
            Ok(id)
        })
    }

    /// Removes an absence of one of the centre's consultants; one already
    /// gone is no error.
    pub fn duty_delete_absence(&self, actor: &Actor, tkc: i64, id: i64) -> SResult<()> {
        if !self.may_edit_roster(actor, tkc) {
            return Err(ServiceError::Forbidden);
        }
        self.db.write(|conn| {
            let a = match duty::absence(conn, id) {
                Ok(a) => a,
                Err(rtms_store::StoreError::NotFound) => return Ok(()),
                Err(e) => return Err(e.into()),
            };
            let consultants =
                repo::users_with_role(conn, Role::Consultant.as_str(), Some(tkc), None)?;
            if !consultants.contains(&a.user_id) {
                return Err(ServiceError::NotFound);
            }
            duty::delete_absence(conn, id)?;
            self.audit_in(
                conn,
                actor,
                None,
                "duty_absence_delete",
                ("user", &a.user_id.to_string()),
                &format!("{} {}..{}", a.kind, a.from_date, a.to_date),
            )?;
            Ok(())
        })
    }

    /// Whether the board shows the centre's consultants' work phones.
    pub fn duty_show_phone(&self, actor: &Actor, tkc: i64, show: bool) -> SResult<()> {
        if !self.may_edit_roster(actor, tkc) {
            return Err(ServiceError::Forbidden);
        }
        self.db.write(|conn| {
            repo::set_setting(
                conn,
                &show_phone_key(tkc),
                if show { "true" } else { "false" },
            )?;
            self.audit_in(
                conn,
                actor,
                None,
                "duty_show_phone",
                ("organization", &tkc.to_string()),
                if show { "true" } else { "false" },
            )?;
            Ok(())
        })
    }

    /// Loads a year of the production calendar (administrators): a CSV of
    /// `date;kind` lines (`holiday` or `workday`), all of one year; `source`
    /// says where it comes from (the law or the site it was taken from).
    pub fn duty_load_calendar(&self, actor: &Actor, bytes: &[u8], source: &str) -> SResult<usize> {
        if !actor.has(Role::Admin) {
            return Err(ServiceError::Forbidden);
        }
        if bytes.len() > CALENDAR_MAX_BYTES {
            return Err(ServiceError::BodyTooLarge {
                what: "calendar",
                limit: CALENDAR_MAX_BYTES as u64,
            });
        }
        let source = source.trim();
        if source.is_empty() {
            return Err(ServiceError::field("source", "required"));
        }
        if source.chars().count() > 500 {
            return Err(ServiceError::field("source", "too_long"));
        }
        let (year, days) = parse_calendar_csv(bytes)?;
        self.db.write(|conn| {
            let n = duty::replace_calendar_year(conn, year, &days, source)?;
            self.audit_in(
                conn,
                actor,
                None,
                "duty_calendar",
                ("calendar", &year.to_string()),
                &format!("{n} days; {source}"),
            )?;
            Ok(n)
        })
    }
}

/// The last day of `days` days from `from`, and the day after it; refused
/// at the calendar's edge.
fn period(from: NaiveDate, days: i64) -> SResult<(NaiveDate, NaiveDate)> {
    let last = from.checked_add_signed(Duration::days(days - 1));
    let after = last.and_then(|d| d.succ_opt());
    match (last, after) {
        (Some(l), Some(a)) if from.year() >= 2000 && a.year() <= 2200 => Ok((l, a)),
        _ => Err(ServiceError::field("from", "out_of_range")),
    }
}

/// A date as a roster file or form writes it (`ДД.ММ.ГГГГ` or
/// `ГГГГ-ММ-ДД`); only years 2000 to 2200.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    NaiveDate::parse_from_str(s, "%d.%m.%Y")
        .or_else(|_| NaiveDate::parse_from_str(s, "%Y-%m-%d"))
        .ok()
        .filter(|d| (2000..=2200).contains(&d.year()))
}

/// The text of an uploaded CSV: UTF-8 (a byte-order mark dropped), and the
/// field separator its first line uses.
fn csv_text(bytes: &[u8]) -> SResult<(String, u8)> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let text =
        std::str::from_utf8(bytes).map_err(|_| ServiceError::field("file", "csv_not_utf8"))?;
    let first = text.lines().next().unwrap_or("");
    let sep = if first.contains(';') { b';' } else { b',' };
    Ok((text.to_string(), sep))
}

/// The rows of a roster file, CSV or XLSX (told apart by their first
/// bytes), with their line numbers (the header is line 1).
pub fn parse_roster(bytes: &[u8]) -> SResult<Vec<(usize, ShiftInput)>> {
    if bytes.starts_with(b"PK\x03\x04") {
        parse_roster_xlsx(bytes)
    } else {
        parse_roster_csv(bytes)
    }
}

/// The rows of a roster CSV with their line numbers (the header is line 1).
pub fn parse_roster_csv(bytes: &[u8]) -> SResult<Vec<(usize, ShiftInput)>> {
    let (text, sep) = csv_text(bytes)?;
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(sep)
        .flexible(true)
        .has_headers(true)
        .from_reader(text.as_bytes());
    let mut records = Vec::new();
    let mut errors = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        if records.len() + errors.len() >= ROSTER_MAX_ROWS {
            return Err(ServiceError::field("file", "duty_too_many_rows"));
        }
        match record {
            Ok(r) => records.push((line, r.iter().map(str::to_string).collect())),
            Err(_) => errors.push(FieldError::new(format!("rows[{line}]"), "csv_malformed")),
        }
    }
    roster_rows(records, errors)
}

/// What an XLSX roster may hold once unpacked: the whole workbook's parts.
pub const ROSTER_XLSX_MAX_UNPACKED: u64 = 16 << 20;
/// And how many parts.
const ROSTER_XLSX_MAX_PARTS: usize = 200;

/// The rows of the first sheet of an XLSX roster. The workbook's parts are
/// counted and sized (as their headers declare them, which the reader then
/// holds them to) before anything is unpacked.
pub fn parse_roster_xlsx(bytes: &[u8]) -> SResult<Vec<(usize, ShiftInput)>> {
    use calamine::{Data, Reader, Xlsx};
    let unreadable = || ServiceError::field("file", "xlsx_unreadable");
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|_| unreadable())?;
    if zip.len() > ROSTER_XLSX_MAX_PARTS {
        return Err(ServiceError::field("file", "xlsx_too_large"));
    }
    let mut unpacked = 0u64;
    for i in 0..zip.len() {
        let part = zip.by_index_raw(i).map_err(|_| unreadable())?;
        unpacked = unpacked.saturating_add(part.size());
    }
    if unpacked > ROSTER_XLSX_MAX_UNPACKED {
        return Err(ServiceError::field("file", "xlsx_too_large"));
    }
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).map_err(|_| unreadable())?;
    let range = book
        .worksheet_range_at(0)
        .ok_or_else(unreadable)?
        .map_err(|_| unreadable())?;
    // Excel keeps dates and times as serial numbers: days since 30.12.1899
    // and the fraction of a day.
    let serial = |cell: &Data| match cell {
        Data::DateTime(d) => Some(d.as_f64()),
        Data::Float(f) => Some(*f),
        Data::Int(i) => Some(*i as f64),
        _ => None,
    };
    let text = |cell: &Data, column: usize| -> String {
        match (serial(cell), column) {
            (Some(v), 0) if (0.0..2_958_466.0).contains(&v) => {
                NaiveDate::from_ymd_opt(1899, 12, 30)
                    .and_then(|d| d.checked_add_signed(Duration::days(v.floor() as i64)))
                    .map(|d| d.format("%d.%m.%Y").to_string())
                    .unwrap_or_default()
            }
            (Some(v), 3 | 4) if (0.0..1.0).contains(&v.fract()) => {
                let minutes = ((v.fract() * 1440.0).round() as u32) % 1440;
                format!("{:02}:{:02}", minutes / 60, minutes % 60)
            }
            _ => cell.to_string(),
        }
    };
    let mut records = Vec::new();
    for (i, row) in range.rows().enumerate().skip(1) {
        if records.len() >= ROSTER_MAX_ROWS {
            return Err(ServiceError::field("file", "duty_too_many_rows"));
        }
        records.push((
            i + 1,
            row.iter()
                .take(7)
                .enumerate()
                .map(|(c, cell)| text(cell, c))
                .collect(),
        ));
    }
    roster_rows(records, Vec::new())
}

/// Shifts as entered from the records of a file: (line, fields in the
/// order of `ROSTER_HEADER`). Blank lines are skipped.
fn roster_rows(
    records: Vec<(usize, Vec<String>)>,
    mut errors: Vec<FieldError>,
) -> SResult<Vec<(usize, ShiftInput)>> {
    let mut rows = Vec::new();
    for (line, record) in records {
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let field = |n: usize| {
            record
                .get(n)
                .map(|f| f.trim().to_string())
                .unwrap_or_default()
        };
        let Some(date) = parse_date(&field(0)) else {
            errors.push(FieldError::new(format!("rows[{line}].date"), "date_format"));
            continue;
        };
        rows.push((
            line,
            ShiftInput {
                date,
                profile: field(1),
                kind: field(2),
                start: field(3),
                end: field(4),
                primary: field(5),
                backups: field(6)
                    .split(|c: char| c.is_whitespace() || c == '|' || c == ',' || c == ';')
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect(),
            },
        ));
    }
    if !errors.is_empty() {
        return Err(ServiceError::Invalid(errors));
    }
    if rows.is_empty() {
        return Err(ServiceError::field("file", "duty_empty"));
    }
    Ok(rows)
}

/// The header of a roster CSV, as the export writes it.
pub const ROSTER_HEADER: [&str; 7] = [
    "date", "profile", "kind", "start", "end", "primary", "backups",
];

/// A roster as CSV (`;`-separated, with a byte-order mark for spreadsheet programs).
pub fn roster_csv(rows: &[ShiftInput]) -> Vec<u8> {
    let mut out = b"\xef\xbb\xbf".to_vec();
    let mut w = csv::WriterBuilder::new()
        .delimiter(b';')
        .from_writer(Vec::new());
    let _ = w.write_record(ROSTER_HEADER);
    for r in rows {
        let _ = w.write_record([
            r.date.format("%d.%m.%Y").to_string(),
            r.profile.clone(),
            r.kind.clone(),
            r.start.clone(),
            r.end.clone(),
            r.primary.clone(),
            r.backups.join(" "),
        ]);
    }
    out.extend(w.into_inner().unwrap_or_default());
    out
}

/// A production calendar CSV: `date;kind` lines of one year.
fn parse_calendar_csv(bytes: &[u8]) -> SResult<(i32, Vec<(NaiveDate, String)>)> {
    let (text, sep) = csv_text(bytes)?;
    let mut days = Vec::new();
    let mut errors = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        let mut parts = line.split(sep as char);
        let (d, k) = (
            parts.next().unwrap_or("").trim(),
            parts.next().unwrap_or("").trim(),
        );
        if d.is_empty() || (i == 0 && parse_date(d).is_none()) {
            continue; // a blank line or the header
        }
        match (parse_date(d), k) {
            (Some(day), "holiday" | "workday") => days.push((day, k.to_string())),
            (None, _) => errors.push(FieldError::new(
                format!("rows[{line_no}].date"),
                "date_format",
            )),
            (Some(_), _) => errors.push(FieldError::new(
                format!("rows[{line_no}].kind"),
                "unknown_value",
            )),
        }
    }
    if !errors.is_empty() {
        return Err(ServiceError::Invalid(errors));
    }
    let Some(year) = days.first().map(|(d, _)| d.year()) else {
        return Err(ServiceError::field("file", "duty_empty"));
    };
    if days.iter().any(|(d, _)| d.year() != year) {
        return Err(ServiceError::field("file", "duty_calendar_one_year"));
    }
    Ok((year, days))
}
