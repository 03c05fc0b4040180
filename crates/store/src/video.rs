//! Video sessions: bookings, their participants and requests, the room's
//! join/leave log, and the secret of each user's calendar feed.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::{
    calendar_tokens, video_consultations, video_log, video_participants, video_peers,
    video_sessions,
};
use crate::{DbConn, StoreError};

type R<T> = Result<T, StoreError>;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = video_sessions)]
pub struct VideoSession {
    pub id: i64,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub duration_minutes: i32,
    pub room: String,
    pub title: String,
    pub created_by: i64,
    pub created_at: NaiveDateTime,
    pub cancelled_at: Option<NaiveDateTime>,
    pub reminded_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = video_log)]
pub struct VideoLogEntry {
    pub id: i64,
    pub session_id: i64,
    pub user_id: i64,
    pub event: String,
    pub at: NaiveDateTime,
}

/// A booking as it is written.
pub struct NewVideoSession<'a> {
    pub starts_at: NaiveDateTime,
    pub duration_minutes: i32,
    pub room: &'a str,
    pub title: &'a str,
    pub created_by: i64,
    pub participants: &'a [i64],
    pub consultations: &'a [i64],
    pub now: NaiveDateTime,
}

pub fn insert_session(conn: &mut DbConn, s: &NewVideoSession<'_>) -> R<i64> {
    let ends_at = s.starts_at + chrono::Duration::minutes(s.duration_minutes.into());
    let id: i64 = diesel::insert_into(video_sessions::table)
        .values((
            video_sessions::starts_at.eq(s.starts_at),
            video_sessions::ends_at.eq(ends_at),
            video_sessions::duration_minutes.eq(s.duration_minutes),
            video_sessions::room.eq(s.room),
            video_sessions::title.eq(s.title),
            video_sessions::created_by.eq(s.created_by),
            video_sessions::created_at.eq(s.now),
        ))
        .returning(video_sessions::id)
        .get_result(conn)?;
    for user in s.participants {
        diesel::insert_into(video_participants::table)
            .values((
                video_participants::session_id.eq(id),
                video_participants::user_id.eq(user),
            ))
            .execute(conn)?;
    }
    for c in s.consultations {
        diesel::insert_into(video_consultations::table)
            .values((
                video_consultations::session_id.eq(id),
                video_consultations::consultation_id.eq(c),
            ))
            .execute(conn)?;
    }
    Ok(id)
}

/// Sessions not cancelled that overlap [from, to) and share a participant with
/// `users` or take place in `room` (when a room is named): (session, user or none).
pub fn conflicts(
    conn: &mut DbConn,
    users: &[i64],
    room: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> R<Vec<(VideoSession, Option<i64>)>> {
    let mut out: Vec<(VideoSession, Option<i64>)> = video_sessions::table
        .inner_join(video_participants::table)
        .filter(video_sessions::cancelled_at.is_null())
        .filter(video_sessions::starts_at.lt(to))
        .filter(video_sessions::ends_at.gt(from))
        .filter(video_participants::user_id.eq_any(users))
        .select((VideoSession::as_select(), video_participants::user_id))
        .load::<(VideoSession, i64)>(conn)?
        .into_iter()
        .map(|(s, u)| (s, Some(u)))
        .collect();
    if !room.trim().is_empty() {
        let same_room = video_sessions::table
            .filter(video_sessions::cancelled_at.is_null())
            .filter(video_sessions::starts_at.lt(to))
            .filter(video_sessions::ends_at.gt(from))
            .filter(video_sessions::room.eq(room.trim()))
            .select(VideoSession::as_select())
            .load(conn)?;
        out.extend(same_room.into_iter().map(|s| (s, None)));
    }
    Ok(out)
}

/// Cancels a session that is not cancelled yet and has not ended; false if it
/// was (so that two dispatchers cancelling at once notify the people once).
pub fn cancel_session(conn: &mut DbConn, id: i64, now: NaiveDateTime) -> R<bool> {
    let n = diesel::update(
        video_sessions::table
            .find(id)
            .filter(video_sessions::cancelled_at.is_null())
            .filter(video_sessions::ends_at.gt(now)),
    )
    .set(video_sessions::cancelled_at.eq(now))
    .execute(conn)?;
    Ok(n == 1)
}

pub fn session(conn: &mut DbConn, id: i64) -> R<VideoSession> {
    Ok(video_sessions::table
        .find(id)
        .select(VideoSession::as_select())
        .first(conn)?)
}

pub fn participants(conn: &mut DbConn, session_id: i64) -> R<Vec<i64>> {
    Ok(video_participants::table
        .filter(video_participants::session_id.eq(session_id))
        .select(video_participants::user_id)
        .order(video_participants::user_id.asc())
        .load(conn)?)
}

pub fn consultations_of(conn: &mut DbConn, session_id: i64) -> R<Vec<i64>> {
    Ok(video_consultations::table
        .filter(video_consultations::session_id.eq(session_id))
        .select(video_consultations::consultation_id)
        .order(video_consultations::consultation_id.asc())
        .load(conn)?)
}

/// Sessions of a consultation, by start.
pub fn sessions_of_consultation(conn: &mut DbConn, consultation_id: i64) -> R<Vec<VideoSession>> {
    Ok(video_sessions::table
        .inner_join(video_consultations::table)
        .filter(video_consultations::consultation_id.eq(consultation_id))
        .select(VideoSession::as_select())
        .order(video_sessions::starts_at.asc())
        .load(conn)?)
}

/// The sessions a user takes part in or booked, overlapping [from, to), by start.
pub fn sessions_of_user(
    conn: &mut DbConn,
    user_id: i64,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> R<Vec<VideoSession>> {
    let mine = video_participants::table
        .filter(video_participants::user_id.eq(user_id))
        .select(video_participants::session_id);
    Ok(video_sessions::table
        .filter(
            video_sessions::id
                .eq_any(mine)
                .or(video_sessions::created_by.eq(user_id)),
        )
        .filter(video_sessions::starts_at.lt(to))
        .filter(video_sessions::ends_at.gt(from))
        .select(VideoSession::as_select())
        .order((video_sessions::starts_at.asc(), video_sessions::id.asc()))
        .load(conn)?)
}

/// Sessions starting in [from, to) whose reminder has not gone out.
pub fn due_reminders(
    conn: &mut DbConn,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> R<Vec<VideoSession>> {
    Ok(video_sessions::table
        .filter(video_sessions::cancelled_at.is_null())
        .filter(video_sessions::reminded_at.is_null())
        .filter(video_sessions::starts_at.ge(from))
        .filter(video_sessions::starts_at.lt(to))
        .select(VideoSession::as_select())
        .load(conn)?)
}

/// Marks the reminder sent; false when another instance got there first.
pub fn claim_reminder(conn: &mut DbConn, id: i64, now: NaiveDateTime) -> R<bool> {
    let n = diesel::update(
        video_sessions::table
            .filter(video_sessions::id.eq(id))
            .filter(video_sessions::reminded_at.is_null()),
    )
    .set(video_sessions::reminded_at.eq(now))
    .execute(conn)?;
    Ok(n == 1)
}

pub fn log(
    conn: &mut DbConn,
    session_id: i64,
    user_id: i64,
    event: &str,
    at: NaiveDateTime,
) -> R<()> {
    diesel::insert_into(video_log::table)
        .values((
            video_log::session_id.eq(session_id),
            video_log::user_id.eq(user_id),
            video_log::event.eq(event),
            video_log::at.eq(at),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn log_of(conn: &mut DbConn, session_id: i64) -> R<Vec<VideoLogEntry>> {
    Ok(video_log::table
        .filter(video_log::session_id.eq(session_id))
        .select(VideoLogEntry::as_select())
        .order(video_log::id.asc())
        .load(conn)?)
}

/// The caller's calendar feed: when it was made and until when it works.
pub fn calendar_token(
    conn: &mut DbConn,
    user_id: i64,
) -> R<Option<(NaiveDateTime, NaiveDateTime)>> {
    Ok(calendar_tokens::table
        .find(user_id)
        .select((calendar_tokens::created_at, calendar_tokens::expires_at))
        .first(conn)
        .optional()?)
}

/// Replaces the user's feed token (its SHA-256 is kept, never the token).
pub fn set_calendar_token(
    conn: &mut DbConn,
    user_id: i64,
    token_hash: &str,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> R<()> {
    diesel::delete(calendar_tokens::table.find(user_id)).execute(conn)?;
    diesel::insert_into(calendar_tokens::table)
        .values((
            calendar_tokens::user_id.eq(user_id),
            calendar_tokens::token_hash.eq(token_hash),
            calendar_tokens::created_at.eq(now),
            calendar_tokens::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Ends the user's feed; true if there was one.
pub fn delete_calendar_token(conn: &mut DbConn, user_id: i64) -> R<bool> {
    Ok(diesel::delete(calendar_tokens::table.find(user_id)).execute(conn)? > 0)
}

/// The user whose unexpired feed token has this hash.
pub fn user_of_calendar_token(
    conn: &mut DbConn,
    token_hash: &str,
    now: NaiveDateTime,
) -> R<Option<i64>> {
    Ok(calendar_tokens::table
        .filter(calendar_tokens::token_hash.eq(token_hash))
        .filter(calendar_tokens::expires_at.gt(now))
        .select(calendar_tokens::user_id)
        .first(conn)
        .optional()?)
}

/// Feed tokens kept in clear before migration 24 (48 hex characters; a hash
/// has 64) are replaced by their SHA-256. PostgreSQL's migration hashes them
/// in SQL; SQLite has no SHA-256 function, so `Db::migrate` runs this after
/// the migrations. Returns how many were hashed.
pub fn hash_legacy_calendar_tokens(conn: &mut DbConn) -> R<usize> {
    use sha2::{Digest, Sha256};
    let legacy: Vec<(i64, String)> = calendar_tokens::table
        .select((calendar_tokens::user_id, calendar_tokens::token_hash))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .filter(|(_, t)| t.len() != 64)
        .collect();
    for (user_id, token) in &legacy {
        let hash = hex::encode(Sha256::digest(token.as_bytes()));
        diesel::update(calendar_tokens::table.find(user_id))
            .set(calendar_tokens::token_hash.eq(hash))
            .execute(conn)?;
    }
    Ok(legacy.len())
}

/// Every session overlapping [from, to), by start (the dispatchers' calendar).
pub fn sessions_between(
    conn: &mut DbConn,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> R<Vec<VideoSession>> {
    Ok(video_sessions::table
        .filter(video_sessions::starts_at.lt(to))
        .filter(video_sessions::ends_at.gt(from))
        .select(VideoSession::as_select())
        .order((video_sessions::starts_at.asc(), video_sessions::id.asc()))
        .load(conn)?)
}

/// A session with the requests it discusses and its room log.
pub type SessionWithLog = (VideoSession, Vec<i64>, Vec<VideoLogEntry>);

/// For the reports: sessions starting in [from, to), cancelled ones too, each
/// with the requests it discusses and its room log.
pub fn sessions_for_report(
    conn: &mut DbConn,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> R<Vec<SessionWithLog>> {
    let sessions: Vec<VideoSession> = video_sessions::table
        .filter(video_sessions::starts_at.ge(from))
        .filter(video_sessions::starts_at.lt(to))
        .select(VideoSession::as_select())
        .order(video_sessions::id.asc())
        .load(conn)?;
    let mut links: Vec<(i64, i64)> = Vec::new();
    let mut logs: Vec<VideoLogEntry> = Vec::new();
    let ids: Vec<i64> = sessions.iter().map(|s| s.id).collect();
    for chunk in ids.chunks(500) {
        links.extend(
            video_consultations::table
                .filter(video_consultations::session_id.eq_any(chunk))
                .select((
                    video_consultations::session_id,
                    video_consultations::consultation_id,
                ))
                .load::<(i64, i64)>(conn)?,
        );
        logs.extend(
            video_log::table
                .filter(video_log::session_id.eq_any(chunk))
                .select(VideoLogEntry::as_select())
                .order(video_log::id.asc())
                .load(conn)?,
        );
    }
    Ok(sessions
        .into_iter()
        .map(|s| {
            let c = links
                .iter()
                .filter(|(sid, _)| *sid == s.id)
                .map(|(_, c)| *c)
                .collect();
            let l = logs
                .iter()
                .filter(|e| e.session_id == s.id)
                .cloned()
                .collect();
            (s, c, l)
        })
        .collect())
}

/// Someone connected to a room, on some instance.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = video_peers)]
pub struct RoomPeer {
    pub peer_id: i64,
    pub session_id: i64,
    pub user_id: i64,
    pub name: String,
    pub seen_at: NaiveDateTime,
}

/// Enters a peer into a room's roster.
pub fn add_peer(conn: &mut DbConn, p: &RoomPeer) -> R<()> {
    diesel::insert_into(video_peers::table)
        .values((
            video_peers::peer_id.eq(p.peer_id),
            video_peers::session_id.eq(p.session_id),
            video_peers::user_id.eq(p.user_id),
            video_peers::name.eq(&p.name),
            video_peers::seen_at.eq(p.seen_at),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn remove_peer(conn: &mut DbConn, peer_id: i64) -> R<()> {
    diesel::delete(video_peers::table.find(peer_id)).execute(conn)?;
    Ok(())
}

/// The peers of a room seen since `since`, in the order they came.
pub fn room_peers(conn: &mut DbConn, session_id: i64, since: NaiveDateTime) -> R<Vec<RoomPeer>> {
    Ok(video_peers::table
        .filter(video_peers::session_id.eq(session_id))
        .filter(video_peers::seen_at.ge(since))
        .select(RoomPeer::as_select())
        .order(video_peers::peer_id.asc())
        .load(conn)?)
}

/// An instance says its peers are still there, and forgets long-gone ones.
pub fn touch_peers(
    conn: &mut DbConn,
    peer_ids: &[i64],
    now: NaiveDateTime,
    forget_before: NaiveDateTime,
) -> R<()> {
    for chunk in peer_ids.chunks(500) {
        diesel::update(video_peers::table.filter(video_peers::peer_id.eq_any(chunk)))
            .set(video_peers::seen_at.eq(now))
            .execute(conn)?;
    }
    diesel::delete(video_peers::table.filter(video_peers::seen_at.lt(forget_before)))
        .execute(conn)?;
    Ok(())
}
