//! Video sessions (ВКС): booking without double-booking anybody, calendars and
//! an iCalendar feed, invitations and reminders, the room's ICE servers with
//! coturn REST credentials, and the join/leave log.

use std::collections::BTreeMap;

use base64::Engine;
use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use hmac::{Hmac, Mac};
use rand::Rng;
use rtms_domain::{Action, Role};
use rtms_store::models::User;
use rtms_store::video::{self as store, NewVideoSession, VideoSession};
use rtms_store::{repo, DbConn};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::lifecycle::consultations::ActionParams;
use crate::platform::live::LiveEvent;
use crate::{Actor, ServiceError, Services};

type SResult<T> = Result<T, ServiceError>;

/// At most this many people in one room (a consilium): a mesh of browsers.
pub const MAX_PARTICIPANTS: usize = 6;
/// The reminder goes out this long before the start.
pub const REMINDER_MINUTES: i64 = 15;
/// How long a minted TURN credential stays valid.
pub const TURN_TTL_SECONDS: i64 = 12 * 3600;
/// A calendar feed link works this long after it is made; then a new one is made
/// on the calendar page.
pub const CALENDAR_FEED_DAYS: i64 = 365;

/// The caller's calendar feed. `path` (`/ics/<token>`) only when just made.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CalendarFeed {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// coturn with its shared-secret REST scheme (`use-auth-secret`).
#[derive(Debug, Clone)]
pub struct TurnConfig {
    /// `turn:`, `turns:` and `stun:` URLs handed to the browsers.
    pub urls: Vec<String>,
    /// coturn's `static-auth-secret`.
    pub secret: String,
}

/// A booking request.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BookVideo {
    /// Start (RFC 3339).
    pub starts_at: DateTime<Utc>,
    /// Minutes, 5 to 480 (default 30).
    #[schema(minimum = 5, maximum = 480)]
    pub duration_minutes: Option<i32>,
    /// The users taking part (up to six).
    #[schema(min_items = 1, max_items = 6)]
    pub participant_ids: Vec<i64>,
    /// A hardware room or studio, booked like a participant.
    #[serde(default)]
    pub room: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    /// The requests discussed.
    #[serde(default)]
    pub consultation_ids: Vec<i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VideoPerson {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VideoLogView {
    pub user_id: i64,
    pub name: String,
    /// `join` or `leave`.
    pub event: String,
    pub at: DateTime<Utc>,
}

/// How long one participant was in the room.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Attendance {
    pub user_id: i64,
    pub name: String,
    pub seconds: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VideoSessionView {
    pub id: i64,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub duration_minutes: i32,
    pub room: String,
    pub title: String,
    pub created_by: i64,
    pub cancelled: bool,
    pub participants: Vec<VideoPerson>,
    pub consultation_ids: Vec<i64>,
    /// Who joined and left, in order (only on the session itself).
    pub log: Vec<VideoLogView>,
    pub attendance: Vec<Attendance>,
    /// For a viewer whose organization uses an external video system (hardware
    /// terminals): its room for this session, shown instead of the built-in one.
    pub external_link: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IceServer {
    pub urls: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

/// What `RTCPeerConnection` needs to find a path: STUN/TURN with a credential
/// valid until `expires_at`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IceConfig {
    pub ice_servers: Vec<IceServer>,
    pub expires_at: DateTime<Utc>,
}

/// coturn's REST credential: the user name carries its expiry; the password
/// is base64(HMAC-SHA1(secret, user name)).
pub fn turn_credential(secret: &str, user_id: i64, expires: DateTime<Utc>) -> (String, String) {
    let username = format!("{}:{}", expires.timestamp(), user_id);
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret.as_bytes())
        .expect("HMAC accepts a key of any length");
    mac.update(username.as_bytes());
    let credential = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    (username, credential)
}

/// Text escaped for an iCalendar TEXT value (RFC 5545, 3.3.11).
pub fn ics_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// One content line folded at 75 octets, never inside a character, CRLF-ended.
fn ics_line(out: &mut String, line: &str) {
    let mut width = 0;
    for ch in line.chars() {
        let n = ch.len_utf8();
        if width + n > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(ch);
        width += n;
    }
    out.push_str("\r\n");
}

fn ics_time(t: NaiveDateTime) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

fn person(u: &User) -> VideoPerson {
    VideoPerson {
        id: u.id,
        name: format!("{} {} {}", u.last_name, u.first_name, u.middle_name)
            .trim()
            .to_string(),
    }
}

/// Fills a link template: `{session}`, `{room}` and `{title}`, percent-encoded.
fn fill_link(template: &str, s: &VideoSession) -> String {
    fn enc(v: &str) -> String {
        let mut out = String::new();
        for b in v.bytes() {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                out.push(b as char);
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
        out
    }
    template
        .replace("{session}", &s.id.to_string())
        .replace("{room}", &enc(&s.room))
        .replace("{title}", &enc(&s.title))
}

/// Seconds each user spent in the room: every join paired with the next leave
/// (an unmatched join counts up to `until`).
pub(crate) fn attendance(log: &[store::VideoLogEntry], until: NaiveDateTime) -> BTreeMap<i64, i64> {
    let mut open: BTreeMap<i64, (NaiveDateTime, usize)> = BTreeMap::new();
    let mut total: BTreeMap<i64, i64> = BTreeMap::new();
    for e in log {
        match e.event.as_str() {
            "join" => {
                let slot = open.entry(e.user_id).or_insert((e.at, 0));
                if slot.1 == 0 {
                    slot.0 = e.at;
                }
                slot.1 += 1;
            }
            "leave" => {
                if let Some(slot) = open.get_mut(&e.user_id) {
                    slot.1 = slot.1.saturating_sub(1);
                    if slot.1 == 0 {
                        *total.entry(e.user_id).or_default() += (e.at - slot.0).num_seconds();
                        open.remove(&e.user_id);
                    }
                }
            }
            _ => {}
        }
        total.entry(e.user_id).or_default();
    }
    for (user, (since, _)) in open {
        *total.entry(user).or_default() += (until - since).num_seconds().max(0);
    }
    total
}

/// Seconds the room was in use: while at least one person was in it (an
/// unmatched join counts up to `until`).
pub(crate) fn room_seconds(log: &[store::VideoLogEntry], until: NaiveDateTime) -> i64 {
    let mut present: BTreeMap<i64, usize> = BTreeMap::new();
    let mut since: Option<NaiveDateTime> = None;
    let mut total = 0;
    for e in log {
        let n = present.entry(e.user_id).or_default();
        match e.event.as_str() {
            "join" => *n += 1,
            "leave" => *n = n.saturating_sub(1),
            _ => continue,
        }
        let anyone = present.values().any(|n| *n > 0);
        match (anyone, since) {
            (true, None) => since = Some(e.at),
            (false, Some(s)) => {
                total += (e.at - s).num_seconds().max(0);
                since = None;
            }
            _ => {}
        }
    }
    if let Some(s) = since {
        total += (until - s).num_seconds().max(0);
    }
    total
}

impl Services {
    /// Adds TURN (`serve` sets it from `--turn-url` and `--turn-secret`).
    pub fn with_turn(mut self, turn: TurnConfig) -> Self {
        self.turn = Some(std::sync::Arc::new(turn));
        self
    }

    /// Who has video sessions at all: the clinical roles that meet in them.
    pub fn may_video(actor: &Actor) -> bool {
        [
            Role::Dispatcher,
            Role::Coordinator,
            Role::Consultant,
            Role::Doctor,
        ]
        .into_iter()
        .any(|r| actor.has(r))
    }

    /// Who books (and cancels) sessions: dispatchers and ТКЦ coordinators.
    pub fn may_book(actor: &Actor) -> bool {
        actor.is_dispatcher() || actor.has(Role::Coordinator)
    }

    /// Books a session; refuses anybody (or the room) already booked at that time.
    pub fn book_video(&self, actor: &Actor, input: &BookVideo) -> SResult<i64> {
        if !Self::may_book(actor) {
            return Err(ServiceError::Forbidden);
        }
        self.book_inner(actor, input, "video_invite")
    }

    /// "Video now": from a request, a room at once with its doctor and consultants,
    /// who are rung in-app. While a session of the request is on (or about to
    /// start), it opens that one and rings again.
    pub fn video_now(&self, actor: &Actor, consultation_id: i64) -> SResult<i64> {
        let now = self.clock.now().naive_utc();
        let (people, running) = {
            let mut conn = self.db.conn()?;
            let c = self.visible(&mut conn, actor, consultation_id)?;
            let consultants = repo::assigned_consultants(&mut conn, consultation_id)?;
            let roles = self.roles_on(actor, &c, &consultants, None);
            crate::lifecycle::rules::may_video_now(&crate::lifecycle::rules::Facts {
                status: crate::lifecycle::consultations::status_of(&c),
                roles: &roles,
                me: actor.user.id,
                members: &consultants,
                current: None,
            })?;
            let mut people = vec![c.requester_id, actor.user.id];
            people.extend(consultants.iter().map(|a| a.user_id));
            people.sort_unstable();
            people.dedup();
            let mut running = None;
            for s in store::sessions_of_consultation(&mut conn, consultation_id)? {
                if s.cancelled_at.is_none()
                    && s.starts_at <= now + Duration::minutes(REMINDER_MINUTES)
                    && s.ends_at > now
                    && store::participants(&mut conn, s.id)?.contains(&actor.user.id)
                {
                    running = Some(s.id);
                }
            }
            (people, running)
        };
        if let Some(id) = running {
            let told: Vec<i64> = people
                .iter()
                .copied()
                .filter(|u| *u != actor.user.id)
                .collect();
            self.db
                .write(|conn| self.deliver(conn, &told, consultation_id, "video_now"))?;
            self.live.publish(LiveEvent {
                consultation_id,
                users: told,
                kind: "video_now".into(),
                queue_changed: false,
            });
            return Ok(id);
        }
        self.book_inner(
            actor,
            &BookVideo {
                starts_at: self.clock.now(),
                duration_minutes: Some(30),
                participant_ids: people,
                room: None,
                title: None,
                consultation_ids: vec![consultation_id],
            },
            "video_now",
        )
    }

    fn book_inner(&self, actor: &Actor, input: &BookVideo, kind: &str) -> SResult<i64> {
        let now = self.clock.now();
        let minutes = input.duration_minutes.unwrap_or(30);
        let mut errors = Vec::new();
        if input.starts_at < now - Duration::minutes(5) {
            errors.push(rtms_domain::FieldError::new(
                "starts_at",
                "datetime_in_past",
            ));
        }
        if !(5..=480).contains(&minutes) {
            errors.push(rtms_domain::FieldError::new(
                "duration_minutes",
                "out_of_range",
            ));
        }
        let mut people = input.participant_ids.clone();
        people.sort_unstable();
        people.dedup();
        if people.is_empty() {
            errors.push(rtms_domain::FieldError::new("participant_ids", "required"));
        } else if people.len() > MAX_PARTICIPANTS {
            errors.push(rtms_domain::FieldError::new(
                "participant_ids",
                "video_too_many",
            ));
        }
        let room = input.room.clone().unwrap_or_default().trim().to_string();
        let title = input.title.clone().unwrap_or_default().trim().to_string();
        if room.chars().count() > 200 {
            errors.push(rtms_domain::FieldError::new("room", "too_long"));
        }
        if title.chars().count() > 500 {
            errors.push(rtms_domain::FieldError::new("title", "too_long"));
        }
        if !errors.is_empty() {
            return Err(ServiceError::Invalid(errors));
        }
        let mut consultations = input.consultation_ids.clone();
        consultations.sort_unstable();
        consultations.dedup();
        let starts = input.starts_at.naive_utc();
        let ends = starts + Duration::minutes(minutes.into());
        let (id, invited) = self.db.write(|conn| {
            let users = repo::users_by_ids(conn, &people)?;
            if users.len() != people.len() || users.iter().any(|u| !u.active) {
                return Err(ServiceError::field("participant_ids", "unknown_value"));
            }
            for c in &consultations {
                self.visible(conn, actor, *c)?;
            }
            if !store::conflicts(conn, &people, &room, starts, ends)?.is_empty() {
                return Err(ServiceError::refused("video_conflict"));
            }
            let id = store::insert_session(
                conn,
                &NewVideoSession {
                    starts_at: starts,
                    duration_minutes: minutes,
                    room: &room,
                    title: &title,
                    created_by: actor.user.id,
                    participants: &people,
                    consultations: &consultations,
                    now: now.naive_utc(),
                },
            )?;
            let invited: Vec<i64> = people
                .iter()
                .copied()
                .filter(|u| *u != actor.user.id)
                .collect();
            // A notification points at a request; a session without one is in the calendar only.
            if let Some(c) = consultations.first() {
                self.deliver(conn, &invited, *c, kind)?;
            }
            self.audit_in(
                conn,
                actor,
                None,
                "video_book",
                ("video_session", &id.to_string()),
                &serde_json::json!({
                    "starts": starts.and_utc().to_rfc3339(),
                    "minutes": minutes,
                    "people": people,
                })
                .to_string(),
            )?;
            Ok::<_, ServiceError>((id, invited))
        })?;
        if let Some(c) = consultations.first() {
            self.live.publish(LiveEvent {
                consultation_id: *c,
                users: invited,
                kind: kind.into(),
                queue_changed: false,
            });
        }
        // The request's own lifecycle: "scheduled", where its state allows it.
        for c in consultations.iter().filter(|_| kind == "video_invite") {
            let params = ActionParams {
                starts_at: Some(input.starts_at),
                duration_minutes: Some(minutes),
                ..Default::default()
            };
            match self.act(actor, *c, Action::Schedule, &params) {
                Ok(_) | Err(ServiceError::WrongState { .. }) | Err(ServiceError::Forbidden) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(id)
    }

    /// Cancels a booking (whoever booked it, a dispatcher or a ТКЦ coordinator);
    /// the other participants are told in-app and live.
    pub fn cancel_video(&self, actor: &Actor, id: i64) -> SResult<()> {
        let now = self.clock.now().naive_utc();
        let (told, consultation) = self.db.write(|conn| {
            let s = self.visible_session(conn, actor, id, false)?;
            if !(s.created_by == actor.user.id || Self::may_book(actor)) {
                return Err(ServiceError::Forbidden);
            }
            if !store::cancel_session(conn, id, now)? {
                return Err(ServiceError::refused("video_over"));
            }
            let told: Vec<i64> = store::participants(conn, id)?
                .into_iter()
                .filter(|u| *u != actor.user.id)
                .collect();
            let consultation = store::consultations_of(conn, id)?.first().copied();
            if let Some(c) = consultation {
                self.deliver(conn, &told, c, "video_cancelled")?;
            }
            self.audit_in(
                conn,
                actor,
                None,
                "video_cancel",
                ("video_session", &id.to_string()),
                &format!("{}", s.starts_at),
            )?;
            Ok::<_, ServiceError>((told, consultation))
        })?;
        if let Some(c) = consultation {
            self.live.publish(LiveEvent {
                consultation_id: c,
                users: told,
                kind: "video_cancelled".into(),
                queue_changed: false,
            });
        }
        Ok(())
    }

    /// Books a session for a request with its requesting doctor and its consultants
    /// (the request page's "schedule"); the request becomes "scheduled".
    pub fn schedule_video(
        &self,
        actor: &Actor,
        consultation_id: i64,
        params: &ActionParams,
    ) -> SResult<i64> {
        let Some(starts_at) = params.starts_at else {
            return Err(ServiceError::field("starts_at", "required"));
        };
        let people = {
            let mut conn = self.db.conn()?;
            let c = self.visible(&mut conn, actor, consultation_id)?;
            let mut people = vec![c.requester_id];
            people.extend(
                repo::assigned_consultants(&mut conn, consultation_id)?
                    .into_iter()
                    .map(|a| a.user_id),
            );
            people
        };
        self.book_video(
            actor,
            &BookVideo {
                starts_at,
                duration_minutes: params.duration_minutes,
                participant_ids: people,
                room: None,
                title: None,
                consultation_ids: vec![consultation_id],
            },
        )
    }

    /// The external video system's room for this viewer: the link template of
    /// the first of their organizations that has one, filled in.
    fn external_link(
        &self,
        conn: &mut DbConn,
        viewer: &Actor,
        s: &VideoSession,
    ) -> SResult<Option<String>> {
        for r in &viewer.roles {
            let key = crate::directory::admin::video_link_key(r.org.id);
            if let Some(t) = repo::setting(conn, &key)?.filter(|t| !t.trim().is_empty()) {
                return Ok(Some(fill_link(t.trim(), s)));
            }
        }
        Ok(None)
    }

    fn session_view(
        &self,
        conn: &mut DbConn,
        s: &VideoSession,
        with_log: bool,
        viewer: Option<&Actor>,
    ) -> SResult<VideoSessionView> {
        let external_link = match viewer {
            Some(v) => self.external_link(conn, v, s)?,
            None => None,
        };
        let ids = store::participants(conn, s.id)?;
        let log = if with_log {
            store::log_of(conn, s.id)?
        } else {
            Vec::new()
        };
        let mut all = ids.clone();
        all.extend(log.iter().map(|e| e.user_id));
        all.sort_unstable();
        all.dedup();
        let names: BTreeMap<i64, VideoPerson> = repo::users_by_ids(conn, &all)?
            .iter()
            .map(|u| (u.id, person(u)))
            .collect();
        let name = |id: i64| names.get(&id).map(|p| p.name.clone()).unwrap_or_default();
        let now = self.clock.now().naive_utc();
        let attendance = attendance(&log, now)
            .into_iter()
            .map(|(user_id, seconds)| Attendance {
                user_id,
                name: name(user_id),
                seconds,
            })
            .collect();
        Ok(VideoSessionView {
            id: s.id,
            starts_at: s.starts_at.and_utc(),
            ends_at: s.ends_at.and_utc(),
            duration_minutes: s.duration_minutes,
            room: s.room.clone(),
            title: s.title.clone(),
            created_by: s.created_by,
            cancelled: s.cancelled_at.is_some(),
            participants: ids.iter().filter_map(|i| names.get(i).cloned()).collect(),
            consultation_ids: store::consultations_of(conn, s.id)?,
            log: log
                .iter()
                .map(|e| VideoLogView {
                    user_id: e.user_id,
                    name: name(e.user_id),
                    event: e.event.clone(),
                    at: e.at.and_utc(),
                })
                .collect(),
            attendance,
            external_link,
        })
    }

    /// The session for one who may see it: its participants, who booked it, the dispatchers.
    fn visible_session(
        &self,
        conn: &mut DbConn,
        actor: &Actor,
        id: i64,
        room_only: bool,
    ) -> SResult<VideoSession> {
        let s = store::session(conn, id)?;
        let participant = store::participants(conn, id)?.contains(&actor.user.id);
        let organizer = s.created_by == actor.user.id || actor.is_dispatcher();
        if participant || (!room_only && organizer) {
            Ok(s)
        } else {
            Err(ServiceError::NotFound)
        }
    }

    pub fn video_session(&self, actor: &Actor, id: i64) -> SResult<VideoSessionView> {
        let mut conn = self.db.conn()?;
        let s = self.visible_session(&mut conn, actor, id, false)?;
        self.session_view(&mut conn, &s, true, Some(actor))
    }

    /// Only the participants enter the room; anybody else is told it does not exist.
    pub fn video_room(&self, actor: &Actor, id: i64) -> SResult<VideoSessionView> {
        let mut conn = self.db.conn()?;
        let s = self.visible_session(&mut conn, actor, id, true)?;
        if s.cancelled_at.is_some() {
            return Err(ServiceError::NotFound);
        }
        self.session_view(&mut conn, &s, true, Some(actor))
    }

    /// The caller's sessions from `from` (UTC day) for `days` days; a dispatcher sees every session.
    pub fn video_calendar(
        &self,
        actor: &Actor,
        from: NaiveDate,
        days: i64,
    ) -> SResult<Vec<VideoSessionView>> {
        if !Self::may_video(actor) {
            return Err(ServiceError::Forbidden);
        }
        let start = from.and_hms_opt(0, 0, 0).unwrap_or_default();
        let end = start + Duration::days(days.clamp(1, 31));
        let mut conn = self.db.conn()?;
        let rows = if actor.is_dispatcher() {
            store::sessions_between(&mut conn, start, end)?
        } else {
            store::sessions_of_user(&mut conn, actor.user.id, start, end)?
        };
        rows.iter()
            .map(|s| self.session_view(&mut conn, s, false, Some(actor)))
            .collect()
    }

    /// Sessions about a request, for its page (the caller must see the request).
    pub fn video_sessions_of(
        &self,
        actor: &Actor,
        consultation_id: i64,
    ) -> SResult<Vec<VideoSessionView>> {
        let mut conn = self.db.conn()?;
        self.visible(&mut conn, actor, consultation_id)?;
        let rows = store::sessions_of_consultation(&mut conn, consultation_id)?;
        rows.iter()
            .map(|s| self.session_view(&mut conn, s, true, Some(actor)))
            .collect()
    }

    /// Whether the caller has a calendar feed, and until when it works. The
    /// link itself is shown once, when it is made ([`Services::new_calendar_token`]).
    pub fn calendar_feed_state(&self, actor: &Actor) -> SResult<Option<CalendarFeed>> {
        if !Self::may_video(actor) {
            return Err(ServiceError::Forbidden);
        }
        let now = self.clock.now().naive_utc();
        let found = self
            .db
            .read(|c| store::calendar_token(c, actor.user.id))?
            .filter(|(_, expires)| *expires > now);
        Ok(found.map(|(created, expires)| CalendarFeed {
            path: None,
            created_at: created.and_utc(),
            expires_at: expires.and_utc(),
        }))
    }

    /// A new secret link to the caller's calendar feed, valid for
    /// [`CALENDAR_FEED_DAYS`]; the one before stops working. Only its SHA-256
    /// is kept, so this is the one time the link can be shown.
    pub fn new_calendar_token(&self, actor: &Actor) -> SResult<CalendarFeed> {
        if !Self::may_video(actor) {
            return Err(ServiceError::Forbidden);
        }
        let now = self.clock.now().naive_utc();
        let expires = now + Duration::days(CALENDAR_FEED_DAYS);
        let bytes: [u8; 24] = rand::thread_rng().gen();
        let token = hex::encode(bytes);
        let hash = crate::access::sessions::token_hash(&token);
        self.db.write(|conn| {
            store::set_calendar_token(conn, actor.user.id, &hash, now, expires)?;
            self.audit_in(
                conn,
                actor,
                None,
                "calendar_feed_new",
                ("user", &actor.user.id.to_string()),
                "",
            )
        })?;
        Ok(CalendarFeed {
            path: Some(format!("/ics/{token}")),
            created_at: now.and_utc(),
            expires_at: expires.and_utc(),
        })
    }

    /// Revokes the caller's calendar feed: its link stops working at once.
    /// Revoking when there is none does nothing.
    pub fn revoke_calendar_token(&self, actor: &Actor) -> SResult<()> {
        if !Self::may_video(actor) {
            return Err(ServiceError::Forbidden);
        }
        self.db.write(|conn| {
            if !store::delete_calendar_token(conn, actor.user.id)? {
                return Ok(());
            }
            self.audit_in(
                conn,
                actor,
                None,
                "calendar_feed_revoke",
                ("user", &actor.user.id.to_string()),
                "",
            )
        })
    }

    /// The iCalendar feed behind a calendar token: the user's sessions from a month ago on.
    /// An unknown, revoked or expired token finds nothing.
    pub fn calendar_feed(&self, token: &str) -> SResult<String> {
        let now = self.clock.now().naive_utc();
        let hash = crate::access::sessions::token_hash(token);
        let mut conn = self.db.conn()?;
        let Some(user_id) = store::user_of_calendar_token(&mut conn, &hash, now)? else {
            return Err(ServiceError::NotFound);
        };
        let rows = store::sessions_of_user(
            &mut conn,
            user_id,
            now - Duration::days(31),
            now + Duration::days(366),
        )?;
        let mut out = String::new();
        // The feed has no reader's language: it is written in Russian.
        let lang = rtms_domain::Lang::Ru;
        let name = format!("X-WR-CALNAME:{}", rtms_i18n::tr(lang, "ics-calendar-name"));
        for line in [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:-//RTMS//Video sessions//RU",
            "CALSCALE:GREGORIAN",
            "METHOD:PUBLISH",
            name.as_str(),
        ] {
            ics_line(&mut out, line);
        }
        for s in &rows {
            let v = self.session_view(&mut conn, s, false, None)?;
            let summary = if v.title.is_empty() {
                match v.consultation_ids.as_slice() {
                    [] => rtms_i18n::tr(lang, "ics-session"),
                    ids => rtms_i18n::tr_args(
                        lang,
                        "ics-session-for",
                        &[(
                            "ids",
                            ids.iter()
                                .map(|i| i.to_string())
                                .collect::<Vec<_>>()
                                .join(&format!(", {} ", rtms_i18n::tr(lang, "number-sign")))
                                .into(),
                        )],
                    ),
                }
            } else {
                v.title.clone()
            };
            let who = v
                .participants
                .iter()
                .map(|p| p.name.clone())
                .collect::<Vec<_>>()
                .join(", ");
            ics_line(&mut out, "BEGIN:VEVENT");
            ics_line(&mut out, &format!("UID:video-{}@rtms", s.id));
            ics_line(&mut out, &format!("DTSTAMP:{}", ics_time(s.created_at)));
            ics_line(&mut out, &format!("DTSTART:{}", ics_time(s.starts_at)));
            ics_line(&mut out, &format!("DTEND:{}", ics_time(s.ends_at)));
            ics_line(&mut out, &format!("SUMMARY:{}", ics_escape(&summary)));
            ics_line(
                &mut out,
                &format!(
                    "DESCRIPTION:{}",
                    ics_escape(&rtms_i18n::tr_args(
                        lang,
                        "ics-participants",
                        &[("who", who.into())]
                    ))
                ),
            );
            if !s.room.is_empty() {
                ics_line(&mut out, &format!("LOCATION:{}", ics_escape(&s.room)));
            }
            ics_line(&mut out, &format!("URL:/video/{}", s.id));
            let status = if s.cancelled_at.is_some() {
                "CANCELLED"
            } else {
                "CONFIRMED"
            };
            ics_line(&mut out, &format!("STATUS:{status}"));
            ics_line(&mut out, "END:VEVENT");
        }
        ics_line(&mut out, "END:VCALENDAR");
        Ok(out)
    }

    /// STUN/TURN for a participant of the session, with a fresh REST credential.
    pub fn video_ice(&self, actor: &Actor, id: i64) -> SResult<IceConfig> {
        let mut conn = self.db.conn()?;
        self.visible_session(&mut conn, actor, id, true)?;
        Ok(self.ice_for(actor))
    }

    /// ICE servers for the connection test page: anyone who has video sessions
    /// may check their camera and their path through TURN before one.
    pub fn video_check_ice(&self, actor: &Actor) -> SResult<IceConfig> {
        if !Self::may_video(actor) {
            return Err(ServiceError::Forbidden);
        }
        Ok(self.ice_for(actor))
    }

    fn ice_for(&self, actor: &Actor) -> IceConfig {
        let expires = self.clock.now() + Duration::seconds(TURN_TTL_SECONDS);
        let ice_servers = match &self.turn {
            Some(t) if !t.urls.is_empty() => {
                let (username, credential) = turn_credential(&t.secret, actor.user.id, expires);
                vec![IceServer {
                    urls: t.urls.clone(),
                    username: Some(username),
                    credential: Some(credential),
                }]
            }
            _ => Vec::new(),
        };
        IceConfig {
            ice_servers,
            expires_at: expires,
        }
    }

    /// Writes a `join` or `leave` of the room to the session log.
    pub fn video_presence(&self, actor: &Actor, id: i64, joined: bool) -> SResult<()> {
        let now = self.clock.now().naive_utc();
        self.db.write(|conn| {
            self.visible_session(conn, actor, id, true)?;
            store::log(
                conn,
                id,
                actor.user.id,
                if joined { "join" } else { "leave" },
                now,
            )?;
            Ok::<_, ServiceError>(())
        })
    }

    /// Reminds the participants of sessions starting within the next minutes,
    /// once per session whichever instance comes first; returns how many sessions.
    pub fn run_video_reminders(&self) -> SResult<usize> {
        let now = self.clock.now().naive_utc();
        let due = self
            .db
            .read(|c| store::due_reminders(c, now, now + Duration::minutes(REMINDER_MINUTES)))?;
        let mut sent = 0;
        for s in due {
            let told = self.db.write(|conn| {
                if !store::claim_reminder(conn, s.id, now)? {
                    return Ok::<_, ServiceError>(None);
                }
                let users = store::participants(conn, s.id)?;
                match store::consultations_of(conn, s.id)?.first() {
                    Some(c) => {
                        self.deliver(conn, &users, *c, "video_reminder")?;
                        Ok(Some((*c, users)))
                    }
                    None => Ok(None),
                }
            })?;
            if let Some((c, users)) = told {
                self.live.publish(LiveEvent {
                    consultation_id: c,
                    users,
                    kind: "video_reminder".into(),
                    queue_changed: false,
                });
            }
            sent += 1;
        }
        Ok(sent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_folds() {
        assert_eq!(ics_escape("a;b,c\\d\ne"), "a\\;b\\,c\\\\d\\ne");
        let mut out = String::new();
        ics_line(&mut out, &format!("SUMMARY:{}", "Ж".repeat(60)));
        for line in out.trim_end().split("\r\n") {
            assert!(line.len() <= 75, "{line}");
        }
        assert_eq!(
            out.replace("\r\n ", ""),
            format!("SUMMARY:{}\r\n", "Ж".repeat(60))
        );
    }

    #[test]
    fn attendance_pairs_joins_and_leaves() {
        let t0 = DateTime::from_timestamp(1_800_000_000, 0)
            .unwrap()
            .naive_utc();
        let e = |user_id, event: &str, s| store::VideoLogEntry {
            id: 0,
            session_id: 1,
            user_id,
            event: event.into(),
            at: t0 + Duration::seconds(s),
        };
        let log = [e(1, "join", 0), e(2, "join", 10), e(1, "leave", 100)];
        let a = attendance(&log, t0 + Duration::seconds(70));
        assert_eq!(a[&1], 100);
        assert_eq!(a[&2], 60);
        // The room is in use from the first join until the open join's end.
        assert_eq!(room_seconds(&log, t0 + Duration::seconds(130)), 130);
        let gap = [
            e(1, "join", 0),
            e(1, "leave", 60),
            e(2, "join", 120),
            e(2, "leave", 180),
        ];
        assert_eq!(room_seconds(&gap, t0 + Duration::seconds(500)), 120);
    }
}
