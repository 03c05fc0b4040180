//! Video sessions in the browser: the calendar, the room, the room's signaling
//! socket and the iCalendar feed. The server only relays signaling between the
//! participants of one session; media flows between the browsers (or via TURN).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use askama::Template;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Datelike, Duration, NaiveDate};
use rtms_service::platform::live::RoomSignal;
use rtms_service::scheduling::video::VideoSessionView;
use rtms_service::{Actor, ServiceError};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use super::fmt;
use super::shell::error_page;
use super::shell::{render, Page};
use crate::session::UiUser;
use crate::{blocking, AppState};

/// The largest signaling message relayed (an SDP offer with many candidates fits).
const MAX_SIGNAL_BYTES: usize = 64 * 1024;

struct Peer {
    user_id: i64,
    name: String,
    tx: mpsc::UnboundedSender<String>,
}

/// Peers seen within this long are in the room; an instance refreshes its own
/// every `HEARTBEAT`.
const PEER_FRESH_SECS: i64 = 90;
const HEARTBEAT: std::time::Duration = std::time::Duration::from_secs(30);

/// The rooms of this instance: who is connected to which session's signaling.
/// Every peer is also in the database's roster (`video_peers`), so that a
/// newcomer on another instance of the same database finds them; messages for
/// peers elsewhere travel over the cluster bus.
pub struct SignalHub {
    rooms: Mutex<HashMap<i64, HashMap<u64, Peer>>>,
    /// High bits of this instance's peer ids (ids stay under 2^53 for the browser).
    tag: u64,
    next: AtomicU64,
    started: std::sync::Once,
}

impl Default for SignalHub {
    fn default() -> Self {
        SignalHub {
            rooms: Mutex::default(),
            tag: (rand::random::<u64>() & 0x1F_FFFF) << 32,
            next: AtomicU64::new(0),
            started: std::sync::Once::new(),
        }
    }
}

fn now_utc() -> chrono::NaiveDateTime {
    chrono::Utc::now().naive_utc()
}

impl SignalHub {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, HashMap<u64, Peer>>> {
        self.rooms.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts, once, the task that delivers other instances' messages to this
    /// instance's peers and keeps this instance's roster entries fresh.
    fn start(self: &std::sync::Arc<Self>, svc: &rtms_service::Services) {
        self.started.call_once(|| {
            let mut inbound = svc.live.subscribe_rooms();
            let hub = std::sync::Arc::downgrade(self);
            let svc = svc.clone();
            tokio::spawn(async move {
                let mut beat = tokio::time::interval(HEARTBEAT);
                loop {
                    tokio::select! {
                        sig = inbound.recv() => match sig {
                            Ok(sig) => match hub.upgrade() {
                                Some(h) => h.deliver(sig.session, sig.to.map(|t| t as u64), &sig.msg),
                                None => return,
                            },
                            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                            Err(_) => return,
                        },
                        _ = beat.tick() => {
                            let Some(h) = hub.upgrade() else { return };
                            let ids: Vec<i64> = h
                                .lock()
                                .values()
                                .flat_map(|r| r.keys().map(|k| *k as i64))
                                .collect();
                            let db = svc.db.clone();
                            let _ = tokio::task::spawn_blocking(move || {
                                let now = now_utc();
                                db.conn().and_then(|mut c| {
                                    rtms_store::video::touch_peers(
                                        &mut c,
                                        &ids,
                                        now,
                                        now - Duration::minutes(10),
                                    )
                                })
                            })
                            .await;
                        }
                    }
                }
            });
        });
    }

    /// Hands a message to this instance's peers of a room: one, or all.
    fn deliver(&self, session: i64, to: Option<u64>, msg: &Value) {
        let rooms = self.lock();
        let Some(room) = rooms.get(&session) else {
            return;
        };
        let text = msg.to_string();
        match to {
            Some(to) => {
                if let Some(p) = room.get(&to) {
                    let _ = p.tx.send(text);
                }
            }
            None => {
                for p in room.values() {
                    let _ = p.tx.send(text.clone());
                }
            }
        }
    }

    /// Enters a peer; returns its id and who is already in the room, on any instance.
    async fn join(
        self: &std::sync::Arc<Self>,
        svc: &rtms_service::Services,
        session: i64,
        user_id: i64,
        name: String,
        tx: mpsc::UnboundedSender<String>,
    ) -> (u64, Vec<Value>) {
        self.start(svc);
        let id = self.tag | (self.next.fetch_add(1, Ordering::Relaxed) + 1);
        let hello =
            json!({"type": "peer-joined", "id": id, "user_id": user_id, "name": name.clone()});
        let mut others: Vec<Value> = {
            let mut rooms = self.lock();
            let room = rooms.entry(session).or_default();
            let text = hello.to_string();
            for p in room.values() {
                let _ = p.tx.send(text.clone());
            }
            let here = room
                .iter()
                .map(|(pid, p)| json!({"id": pid, "user_id": p.user_id, "name": p.name}))
                .collect();
            room.insert(
                id,
                Peer {
                    user_id,
                    name: name.clone(),
                    tx,
                },
            );
            here
        };
        let db = svc.db.clone();
        let roster = tokio::task::spawn_blocking(move || {
            let mut c = db.conn()?;
            let now = now_utc();
            rtms_store::video::add_peer(
                &mut c,
                &rtms_store::video::RoomPeer {
                    peer_id: id as i64,
                    session_id: session,
                    user_id,
                    name,
                    seen_at: now,
                },
            )?;
            rtms_store::video::room_peers(&mut c, session, now - Duration::seconds(PEER_FRESH_SECS))
        })
        .await;
        if let Ok(Ok(roster)) = roster {
            for p in roster {
                let pid = p.peer_id as u64;
                // This instance's peers are known from the room above, as it
                // stood when this one entered; one that entered since then
                // (and is in the roster already) offers to this one itself.
                let local = pid & !0xFFFF_FFFF == self.tag;
                if !local && !others.iter().any(|o| o["id"] == json!(pid)) {
                    others.push(json!({"id": pid, "user_id": p.user_id, "name": p.name}));
                }
            }
        }
        svc.live.signal_rooms(RoomSignal {
            session,
            to: None,
            msg: hello,
        });
        (id, others)
    }

    async fn leave(&self, svc: &rtms_service::Services, session: i64, id: u64) {
        let bye = json!({"type": "peer-left", "id": id});
        {
            let mut rooms = self.lock();
            if let Some(room) = rooms.get_mut(&session) {
                room.remove(&id);
                let text = bye.to_string();
                for p in room.values() {
                    let _ = p.tx.send(text.clone());
                }
                if room.is_empty() {
                    rooms.remove(&session);
                }
            }
        }
        let db = svc.db.clone();
        let _ = tokio::task::spawn_blocking(move || {
            db.conn()
                .and_then(|mut c| rtms_store::video::remove_peer(&mut c, id as i64))
        })
        .await;
        svc.live.signal_rooms(RoomSignal {
            session,
            to: None,
            msg: bye,
        });
    }

    /// Passes a message to one peer of the same room, stamped with its sender:
    /// directly when the peer is connected here, over the bus otherwise.
    fn relay(&self, svc: &rtms_service::Services, session: i64, from: u64, mut msg: Value) {
        let Some(to) = msg.get("to").and_then(Value::as_u64) else {
            return;
        };
        msg["from"] = json!(from);
        let here = {
            let rooms = self.lock();
            match rooms.get(&session).and_then(|r| r.get(&to)) {
                Some(peer) => {
                    let _ = peer.tx.send(msg.to_string());
                    true
                }
                None => false,
            }
        };
        if !here && svc.live.clustered() {
            svc.live.signal_rooms(RoomSignal {
                session,
                to: Some(to as i64),
                msg,
            });
        }
    }
}

#[derive(Template)]
#[template(path = "video_room.html")]
struct RoomTpl {
    p: Page,
    v: VideoSessionView,
    when: String,
    ice: String,
    me: i64,
    thread: Vec<(String, String, String)>,
    log: Vec<LogLine>,
    attendance: Vec<TimeInRoom>,
    /// The external system's room, unless the built-in one was asked for.
    external: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct RoomQuery {
    /// Enter the built-in room even where the organization uses an external system.
    builtin: Option<String>,
}

/// The room of one session: participants only.
pub async fn room(
    State(state): State<AppState>,
    u: UiUser,
    Path(id): Path<i64>,
    Query(q): Query<RoomQuery>,
) -> Response {
    let svc = state.svc.clone();
    let actor = u.actor.clone();
    let lang = u.lang;
    let loaded = blocking(move || {
        let v = svc.video_room(&actor, id)?;
        let ice = svc.video_ice(&actor, id)?;
        // The thread of the first request discussed, when the participant may read it.
        let thread = match v.consultation_ids.first() {
            Some(c) => svc.messages(&actor, *c).unwrap_or_default(),
            None => Vec::new(),
        };
        let unread = svc.notifications(&actor, lang, 0)?.unread;
        Ok((v, ice, thread, unread))
    })
    .await;
    let (v, ice, thread, unread) = match loaded {
        Ok(x) => x,
        Err(crate::error::AppError::Service(e, _)) => return error_page(&u, &e),
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    let p = Page::for_user(
        &u,
        super::i18n::tr(lang, "video-room-title"),
        "video",
        unread,
    );
    let tz = p.tz;
    let when = format!(
        "{} — {}",
        fmt::datetime(v.starts_at, tz, None, lang),
        v.ends_at.with_timezone(&tz).format("%H:%M")
    );
    let thread = thread
        .iter()
        .map(|m| {
            (
                fmt::datetime(m.created_at, tz, None, lang),
                m.author.name.clone(),
                m.body.clone(),
            )
        })
        .collect();
    let (log, attendance) = log_lines(&v, tz, lang);
    render(RoomTpl {
        external: v.external_link.clone().filter(|_| q.builtin.is_none()),
        me: u.actor.user.id,
        ice: serde_json::to_string(&ice).unwrap_or_else(|_| "{}".into()),
        p,
        v,
        when,
        thread,
        log,
        attendance,
    })
}

/// One line of a session log: when, who, joined or left.
pub type LogLine = (String, String, String);
/// Who, and how long they were in the room.
pub type TimeInRoom = (String, String);

/// The join/leave log and the time each participant spent in the room, as shown.
pub fn log_lines(
    v: &VideoSessionView,
    tz: chrono_tz::Tz,
    lang: rtms_domain::Lang,
) -> (Vec<LogLine>, Vec<TimeInRoom>) {
    let log = v
        .log
        .iter()
        .map(|e| {
            let what = if e.event == "join" {
                super::i18n::tr(lang, "video-joined")
            } else {
                super::i18n::tr(lang, "video-left")
            };
            (fmt::datetime(e.at, tz, None, lang), e.name.clone(), what)
        })
        .collect();
    let attendance = v
        .attendance
        .iter()
        .map(|a| (a.name.clone(), fmt::span(a.seconds, lang)))
        .collect();
    (log, attendance)
}

fn same_origin(headers: &HeaderMap) -> bool {
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    match (origin, host) {
        (Some(o), Some(h)) => o.split("://").nth(1) == Some(h),
        // Not a browser (no Origin): the session cookie still had to be presented.
        (None, _) => true,
        (Some(_), None) => false,
    }
}

/// The signaling socket of a room: participants only, from this site only.
pub async fn signal(
    State(state): State<AppState>,
    u: UiUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Response {
    if !same_origin(&headers) {
        return (StatusCode::FORBIDDEN, "cross-site socket refused").into_response();
    }
    let svc = state.svc.clone();
    let actor = u.actor.clone();
    match blocking(move || svc.video_room(&actor, id)).await {
        Ok(_) => {}
        Err(crate::error::AppError::Service(e, _)) => {
            return (crate::error::status_of(&e), "").into_response()
        }
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
    let Ok(upgrade) = upgrade else {
        return (StatusCode::BAD_REQUEST, "a WebSocket is expected here").into_response();
    };
    let hub = state.video.clone();
    let svc = state.svc.clone();
    let actor = u.actor;
    let token = u.token;
    upgrade
        .max_message_size(MAX_SIGNAL_BYTES)
        .on_upgrade(move |socket| relay(socket, hub, svc, actor, token, id))
}

async fn relay(
    mut socket: WebSocket,
    hub: std::sync::Arc<SignalHub>,
    svc: rtms_service::Services,
    actor: Actor,
    token: String,
    session: i64,
) {
    // The socket ends within STREAM_RECHECK_SECONDS of its session ending.
    let mut recheck = tokio::time::interval(std::time::Duration::from_secs(
        rtms_service::access::sessions::STREAM_RECHECK_SECONDS,
    ));
    recheck.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    recheck.tick().await;
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    let name = actor.user.short_name();
    let (me, peers) = hub.join(&svc, session, actor.user.id, name, tx).await;
    let presence = |joined: bool| {
        let (svc, actor) = (svc.clone(), actor.clone());
        async move {
            let _ = blocking(move || svc.video_presence(&actor, session, joined)).await;
        }
    };
    presence(true).await;
    let welcome = json!({"type": "welcome", "id": me, "peers": peers}).to_string();
    if socket.send(Message::Text(welcome.into())).await.is_ok() {
        loop {
            tokio::select! {
                incoming = socket.recv() => match incoming {
                    Some(Ok(Message::Text(text))) => {
                        if let Ok(msg) = serde_json::from_str::<Value>(text.as_str()) {
                            hub.relay(&svc, session, me, msg);
                        }
                    }
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                    Some(Ok(_)) => {}
                },
                outgoing = rx.recv() => match outgoing {
                    Some(text) => {
                        if socket.send(Message::Text(text.into())).await.is_err() {
                            break;
                        }
                    }
                    None => break,
                },
                _ = recheck.tick() => {
                    let (svc, token) = (svc.clone(), token.clone());
                    let alive = tokio::task::spawn_blocking(move || svc.session_alive(&token))
                        .await
                        .unwrap_or(false);
                    if !alive {
                        let _ = socket.send(Message::Close(None)).await;
                        break;
                    }
                }
            }
        }
    }
    hub.leave(&svc, session, me).await;
    presence(false).await;
}

#[derive(Debug, Deserialize)]
pub struct CalendarQuery {
    from: Option<NaiveDate>,
    days: Option<i64>,
}

pub struct DayItem {
    pub id: i64,
    pub time: String,
    pub title: String,
    pub who: String,
    pub room: String,
    pub requests: Vec<i64>,
    pub cancelled: bool,
    pub mine: bool,
    /// The caller booked it or books sessions, and it has not ended.
    pub can_cancel: bool,
    /// The external video system's room, for organizations that use one.
    pub external: Option<String>,
}

#[derive(Template)]
#[template(path = "video_calendar.html")]
struct CalendarTpl {
    p: Page,
    days: Vec<(String, Vec<DayItem>)>,
    week: bool,
    from: String,
    prev: String,
    next: String,
    /// A feed link just made: shown this once (only its hash is kept).
    feed: String,
    /// Until when the current feed link works (empty: no link).
    feed_until: String,
}

/// A day or a week of the caller's sessions, with the link of their calendar feed.
pub async fn calendar(
    State(state): State<AppState>,
    u: UiUser,
    Query(q): Query<CalendarQuery>,
) -> Response {
    calendar_page(&state, &u, q, String::new()).await
}

/// A new calendar feed link (the one before stops working), shown once on the calendar page.
pub async fn new_feed(State(state): State<AppState>, u: UiUser) -> Response {
    let svc = state.svc.clone();
    let actor = u.actor.clone();
    match blocking(move || svc.new_calendar_token(&actor)).await {
        Ok(feed) => {
            let q = CalendarQuery {
                from: None,
                days: None,
            };
            calendar_page(&state, &u, q, feed.path.unwrap_or_default()).await
        }
        Err(crate::error::AppError::Service(e, _)) => error_page(&u, &e),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// Revokes the caller's calendar feed: its link stops working at once.
pub async fn revoke_feed(State(state): State<AppState>, u: UiUser) -> Response {
    let svc = state.svc.clone();
    let actor = u.actor.clone();
    match blocking(move || svc.revoke_calendar_token(&actor)).await {
        Ok(()) | Err(crate::error::AppError::Service(ServiceError::NotFound, _)) => {
            Redirect::to("/video").into_response()
        }
        Err(crate::error::AppError::Service(e, _)) => error_page(&u, &e),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

async fn calendar_page(state: &AppState, u: &UiUser, q: CalendarQuery, fresh: String) -> Response {
    let lang = u.lang;
    let days = if q.days == Some(1) { 1 } else { 7 };
    let today = state.svc.clock.now().date_naive();
    let from = q.from.unwrap_or(if days == 7 {
        today - Duration::days(today.weekday().num_days_from_monday().into())
    } else {
        today
    });
    let svc = state.svc.clone();
    let actor = u.actor.clone();
    let loaded = blocking(move || {
        let list = svc.video_calendar(&actor, from, days)?;
        let feed = svc.calendar_feed_state(&actor)?;
        let unread = svc.notifications(&actor, lang, 0)?.unread;
        Ok((list, feed, unread))
    })
    .await;
    let (list, feed, unread) = match loaded {
        Ok(x) => x,
        Err(crate::error::AppError::Service(e, _)) => return error_page(u, &e),
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    let p = Page::for_user(u, super::i18n::tr(lang, "video-title"), "video", unread);
    let tz = p.tz;
    let feed_until = feed
        .map(|f| fmt::date(f.expires_at.with_timezone(&tz).date_naive(), lang))
        .unwrap_or_default();
    let me = u.actor.user.id;
    let books = rtms_service::Services::may_book(&u.actor);
    let now = state.svc.clock.now();
    let mut out: Vec<(String, Vec<DayItem>)> = Vec::new();
    for d in 0..days {
        let day = from + Duration::days(d);
        let items = list
            .iter()
            .filter(|v| v.starts_at.with_timezone(&tz).date_naive() == day)
            .map(|v| DayItem {
                id: v.id,
                time: format!(
                    "{}–{}",
                    v.starts_at.with_timezone(&tz).format("%H:%M"),
                    v.ends_at.with_timezone(&tz).format("%H:%M")
                ),
                title: v.title.clone(),
                who: v
                    .participants
                    .iter()
                    .map(|p| p.name.clone())
                    .collect::<Vec<_>>()
                    .join(", "),
                room: v.room.clone(),
                requests: v.consultation_ids.clone(),
                cancelled: v.cancelled,
                mine: v.participants.iter().any(|p| p.id == me),
                can_cancel: !v.cancelled && v.ends_at > now && (books || v.created_by == me),
                external: v.external_link.clone(),
            })
            .collect();
        out.push((fmt::date(day, lang), items));
    }
    let step = Duration::days(days);
    render(CalendarTpl {
        p,
        days: out,
        week: days == 7,
        from: from.to_string(),
        prev: (from - step).to_string(),
        next: (from + step).to_string(),
        feed: fresh,
        feed_until,
    })
}

/// "Video now" from a request: the room at once, its people rung.
pub async fn video_now(State(state): State<AppState>, u: UiUser, Path(id): Path<i64>) -> Response {
    let svc = state.svc.clone();
    let actor = u.actor.clone();
    match blocking(move || svc.video_now(&actor, id)).await {
        Ok(session) => Redirect::to(&format!("/video/{session}")).into_response(),
        Err(crate::error::AppError::Service(e, _)) => error_page(&u, &e),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

#[derive(Template)]
#[template(path = "video_check.html")]
struct CheckTpl {
    p: Page,
    ice: String,
    turn: bool,
}

/// The connection test: camera, microphone, and a call to oneself through TURN.
pub async fn check(State(state): State<AppState>, u: UiUser) -> Response {
    let svc = state.svc.clone();
    let actor = u.actor.clone();
    let lang = u.lang;
    let loaded = blocking(move || {
        let ice = svc.video_check_ice(&actor)?;
        let unread = svc.notifications(&actor, lang, 0)?.unread;
        Ok((ice, unread))
    })
    .await;
    let (ice, unread) = match loaded {
        Ok(x) => x,
        Err(crate::error::AppError::Service(e, _)) => return error_page(&u, &e),
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    let p = Page::for_user(&u, super::i18n::tr(lang, "check-title"), "video", unread);
    render(CheckTpl {
        p,
        turn: !ice.ice_servers.is_empty(),
        ice: serde_json::to_string(&ice).unwrap_or_else(|_| "{}".into()),
    })
}

/// Cancels a booking from the calendar, then shows the calendar again.
pub async fn cancel(
    State(state): State<AppState>,
    u: UiUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> Response {
    let svc = state.svc.clone();
    let actor = u.actor.clone();
    match blocking(move || svc.cancel_video(&actor, id)).await {
        Ok(()) => {
            // Back to the calendar page the button was on (same site only).
            let back = headers
                .get(header::REFERER)
                .and_then(|r| r.to_str().ok())
                .and_then(|r| r.find("/video").map(|i| r[i..].to_string()))
                .filter(|r| r.starts_with("/video?") || r == "/video")
                .unwrap_or_else(|| "/video".into());
            Redirect::to(&back).into_response()
        }
        Err(crate::error::AppError::Service(e, _)) => error_page(&u, &e),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// The iCalendar feed behind a secret link (no sign-in: calendar programs have none).
pub async fn ics(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let token = token.trim_end_matches(".ics").to_string();
    let svc = state.svc.clone();
    match blocking(move || svc.calendar_feed(&token)).await {
        Ok(body) => (
            [
                (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
                (header::CACHE_CONTROL, "private, max-age=300"),
            ],
            body,
        )
            .into_response(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}
