//! Rows behind signing in that are not the user's own: the attempt counters of
//! the sign-in throttle and the last TOTP step each user spent.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::{login_attempts, totp_steps};
use crate::{DbConn, StoreError};

type R<T> = Result<T, StoreError>;

/// Counts one attempt of `subject` in `scope` in a fixed window of
/// `window_seconds` (a window older than that starts again at `now`).
/// Returns the attempts counted in the current window, this one included, and
/// when that window started. Run it inside a write transaction: the increment
/// is one `UPDATE`, so attempts racing on PostgreSQL all count.
pub fn count_attempt(
    conn: &mut DbConn,
    scope: &str,
    subject: &str,
    now: NaiveDateTime,
    window_seconds: i64,
) -> R<(i32, NaiveDateTime)> {
    let stale = now - chrono::Duration::seconds(window_seconds);
    let row = || {
        login_attempts::table
            .filter(login_attempts::scope.eq(scope))
            .filter(login_attempts::subject.eq(subject))
    };
    diesel::update(row().filter(login_attempts::window_start.le(stale)))
        .set((
            login_attempts::window_start.eq(now),
            login_attempts::attempts.eq(0),
        ))
        .execute(conn)?;
    let counted = diesel::update(row())
        .set(login_attempts::attempts.eq(login_attempts::attempts + 1))
        .execute(conn)?;
    if counted == 0 {
        // A first attempt: a parallel one inserting the same row makes this
        // insert fail as a duplicate, and the caller tries again.
        diesel::insert_into(login_attempts::table)
            .values((
                login_attempts::scope.eq(scope),
                login_attempts::subject.eq(subject),
                login_attempts::window_start.eq(now),
                login_attempts::attempts.eq(1),
            ))
            .execute(conn)?;
    }
    Ok(row()
        .select((login_attempts::attempts, login_attempts::window_start))
        .first(conn)?)
}

/// Takes back one counted attempt (a sign-in whose password was right).
pub fn refund_attempt(conn: &mut DbConn, scope: &str, subject: &str) -> R<()> {
    diesel::update(
        login_attempts::table
            .filter(login_attempts::scope.eq(scope))
            .filter(login_attempts::subject.eq(subject))
            .filter(login_attempts::attempts.gt(0)),
    )
    .set(login_attempts::attempts.eq(login_attempts::attempts - 1))
    .execute(conn)?;
    Ok(())
}

/// Forgets the attempts of one subject (an administrator unlocked the login).
pub fn clear_attempts(conn: &mut DbConn, scope: &str, subject: &str) -> R<()> {
    diesel::delete(
        login_attempts::table
            .filter(login_attempts::scope.eq(scope))
            .filter(login_attempts::subject.eq(subject)),
    )
    .execute(conn)?;
    Ok(())
}

/// Removes counters whose window ended before `before`; returns how many.
pub fn prune_attempts(conn: &mut DbConn, before: NaiveDateTime) -> R<usize> {
    Ok(
        diesel::delete(login_attempts::table.filter(login_attempts::window_start.lt(before)))
            .execute(conn)?,
    )
}

/// Spends TOTP time step `step` of a user: true if it is later than every step
/// spent before (the code is accepted), false if it was used already or an
/// earlier one was. One conditional `UPDATE`, so two sign-ins racing with the
/// same code cannot both win; the first code of a user inserts the row (a
/// parallel insert fails as a duplicate, which refuses that one).
pub fn spend_totp_step(conn: &mut DbConn, user_id: i64, step: i64) -> R<bool> {
    let moved = diesel::update(
        totp_steps::table
            .filter(totp_steps::user_id.eq(user_id))
            .filter(totp_steps::last_step.lt(step)),
    )
    .set(totp_steps::last_step.eq(step))
    .execute(conn)?;
    if moved == 1 {
        return Ok(true);
    }
    let known = totp_steps::table
        .find(user_id)
        .select(totp_steps::last_step)
        .first::<i64>(conn)
        .optional()?;
    if known.is_some() {
        return Ok(false);
    }
    diesel::insert_into(totp_steps::table)
        .values((
            totp_steps::user_id.eq(user_id),
            totp_steps::last_step.eq(step),
        ))
        .execute(conn)?;
    Ok(true)
}

/// Switches a user account off or on (`users.active`).
pub fn set_user_active(conn: &mut DbConn, user_id: i64, active: bool) -> R<()> {
    use crate::schema::users;
    diesel::update(users::table.find(user_id))
        .set(users::active.eq(active))
        .execute(conn)?;
    Ok(())
}
