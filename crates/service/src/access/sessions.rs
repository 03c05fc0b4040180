//! Signing in and staying signed in: password check with lockout, the second
//! factor, sessions with idle and absolute timeouts, API tokens with scopes.

use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use rtms_domain::Role;
use rtms_store::models::Token;
use rtms_store::repo::{self, NewToken};
use rtms_store::signin;
use rtms_store::DbConn;
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::access::auth::{check_password, hash_password, verify_password};
use crate::access::totp;
use crate::{Actor, ServiceError, Services};

/// A session lives at most this long, however active.
pub const SESSION_ABSOLUTE_HOURS: i64 = 12;
/// An API login token lives this long.
pub const API_LOGIN_HOURS: i64 = 12;
/// Time to type the second factor after the password.
pub const PENDING_MINUTES: i64 = 5;
/// Failures before the first lock; each further failure doubles the lock.
pub const FREE_ATTEMPTS: i32 = 5;
/// The sign-in throttle's window: attempts are counted per client address and
/// per login in fixed windows of this length (table `login_attempts`, so the
/// count holds across instances on PostgreSQL).
pub const LOGIN_WINDOW_SECONDS: i64 = 15 * 60;
/// Password attempts one client address may have in flight or fail within a
/// window (a right password gives its attempt back). Over it, every sign-in
/// from the address is answered 429 before any password is hashed.
pub const LOGIN_ATTEMPTS_PER_ADDRESS: i32 = 30;
/// The same for one login, whether it exists or not, from any address.
pub const LOGIN_ATTEMPTS_PER_LOGIN: i32 = 10;
/// The longest login looked up; a longer one is refused unread.
pub const MAX_LOGIN_CHARS: usize = 100;
/// Streams (SSE, the video signaling WebSocket) check their session this often
/// and end once it is revoked, expired or its user deactivated.
pub const STREAM_RECHECK_SECONDS: u64 = 5;
pub const MAX_LOCK_MINUTES: i64 = 60;
/// Default idle timeout of a session (setting `session_idle_minutes`).
pub const DEFAULT_IDLE_MINUTES: i64 = 30;
/// The shortest idle timeout an administrator may set: a session seen more
/// recently than this is alive whatever the setting, without reading it.
pub const MIN_IDLE_MINUTES: i64 = 5;
/// Scopes an API token may carry.
/// `read` and `write` for the REST API, `fhir` for the FHIR interface.
pub const SCOPES: &[&str] = &["read", "write", "fhir"];

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// How long a lock lasts after `failed` consecutive failures.
pub fn lock_duration(failed: i32) -> Option<Duration> {
    if failed < FREE_ATTEMPTS {
        return None;
    }
    let minutes = 1i64 << (failed - FREE_ATTEMPTS).min(6);
    Some(Duration::minutes(minutes.min(MAX_LOCK_MINUTES)))
}

/// Where a request comes from, for sessions and the audit trail.
#[derive(Debug, Clone, Default)]
pub struct Client {
    pub ip: String,
    pub user_agent: String,
}

/// What a correct password leads to.
pub enum SignIn {
    /// Signed in: the token and who.
    Done(String, Box<Actor>),
    /// The second factor is needed: a short-lived token to present with the code.
    NeedsCode(String),
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SessionView {
    pub id: i64,
    pub kind: String,
    pub name: String,
    pub scopes: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: Option<DateTime<Utc>>,
    pub expires_at: DateTime<Utc>,
    pub ip: String,
    pub user_agent: String,
    pub current: bool,
}

fn session_view(t: &Token, current: Option<i64>) -> SessionView {
    SessionView {
        id: t.id,
        kind: t.kind.clone(),
        name: t.name.clone(),
        scopes: t.scopes.clone(),
        created_at: t.created_at.and_utc(),
        last_seen_at: t.last_seen_at.map(|x| x.and_utc()),
        expires_at: t.expires_at.and_utc(),
        ip: t.ip.clone(),
        user_agent: t.user_agent.clone(),
        current: Some(t.id) == current,
    }
}

impl Services {
    /// On the caller's connection: a second checkout while one is held could
    /// wait on a small pool.
    fn idle_limit(conn: &mut DbConn) -> Duration {
        let minutes = repo::setting(conn, "session_idle_minutes")
            .ok()
            .flatten()
            .and_then(|v| v.parse().ok())
            .unwrap_or(DEFAULT_IDLE_MINUTES);
        Duration::minutes(minutes)
    }

    /// Whether administrators must use a second factor (setting `require_totp_admins`).
    pub fn totp_required_for(&self, actor: &Actor) -> bool {
        actor.has(Role::Admin)
            && self
                .db
                .read(|c| repo::setting(c, "require_totp_admins"))
                .ok()
                .flatten()
                .as_deref()
                == Some("1")
    }

    fn issue(
        &self,
        user_id: i64,
        kind: &str,
        lifetime: Duration,
        client: &Client,
        name: &str,
        scopes: &str,
    ) -> Result<String, ServiceError> {
        let now = self.clock.now().naive_utc();
        let token = new_token();
        let hash = token_hash(&token);
        self.db.write(|c| {
            repo::insert_token(
                c,
                &NewToken {
                    user_id,
                    token_hash: &hash,
                    kind,
                    name,
                    scopes,
                    ip: &client.ip,
                    user_agent: &client.user_agent,
                },
                now,
                now + lifetime,
            )
        })?;
        Ok(token)
    }

    /// Checks a login and password. The throttle comes first (before any
    /// password is hashed); failures are counted in the database (so a lock
    /// holds across instances); from the fifth, the account locks for a
    /// growing time. An unknown login, a wrong password and a locked account
    /// get the same answer after the same work, so the answer tells nobody
    /// which logins exist.
    pub fn sign_in(
        &self,
        login: &str,
        password: &str,
        kind: &str,
        client: &Client,
    ) -> Result<SignIn, ServiceError> {
        let now = self.clock.now();
        let login = login.trim();
        let subject: String = login.to_lowercase().chars().take(MAX_LOGIN_CHARS).collect();
        self.throttle(client, &subject)?;
        if login.chars().count() > MAX_LOGIN_CHARS {
            return Err(ServiceError::BadCredentials);
        }
        let user = self.db.read(|c| repo::user_by_login(c, login))?;
        let Some(user) = user.filter(|u| u.active) else {
            // Same work as for a real account, so timing does not tell which logins exist.
            verify_password(password, DUMMY_HASH);
            self.audit_anonymous(
                login,
                &client.ip,
                "login_failed",
                "unknown or inactive login",
            )?;
            return Err(ServiceError::BadCredentials);
        };
        // Checked even while locked: the same work whatever the answer.
        let right = verify_password(password, &user.password_hash);
        if user.locked_until.is_some_and(|t| t > now.naive_utc()) {
            self.audit_anonymous(login, &client.ip, "login_refused", "locked")?;
            return Err(ServiceError::BadCredentials);
        }
        if !right {
            self.audit_anonymous(login, &client.ip, "login_failed", "wrong password")?;
            self.count_failure(user.id)?;
            return Err(ServiceError::BadCredentials);
        }
        // The right password gives its attempt back: people signing in are not throttled.
        self.db.write_beside_requests(|c| {
            signin::refund_attempt(c, "address", &client.ip)?;
            signin::refund_attempt(c, "login", &subject)
        })?;
        if kind != "session" && (user.totp_enabled || self.totp_required_for_user(user.id)?) {
            // The API has no second step: such accounts use API tokens made in the interface.
            self.audit_anonymous(login, &client.ip, "login_refused", "second factor required")?;
            return Err(ServiceError::field("login", "api_login_needs_token"));
        }
        if user.totp_enabled {
            // The failure count is reset only once the code is right too, or a
            // password holder could guess codes forever.
            let pending = self.issue(
                user.id,
                "pending",
                Duration::minutes(PENDING_MINUTES),
                client,
                "",
                "",
            )?;
            return Ok(SignIn::NeedsCode(pending));
        }
        if user.failed_logins > 0 || user.locked_until.is_some() {
            self.db
                .write(|c| repo::set_login_failures(c, user.id, 0, None))?;
        }
        self.finish_sign_in(user.id, kind, client)
    }

    /// Counts a password attempt for the client's address and for the login
    /// (known or not) and refuses it, before anything is hashed, once either
    /// is over its limit in the current window.
    fn throttle(&self, client: &Client, subject: &str) -> Result<(), ServiceError> {
        let now = self.clock.now().naive_utc();
        let window = Duration::seconds(LOGIN_WINDOW_SECONDS);
        let count = || {
            self.db.write_beside_requests(|c| {
                signin::prune_attempts(c, now - window)?;
                let address =
                    signin::count_attempt(c, "address", &client.ip, now, LOGIN_WINDOW_SECONDS)?;
                let login = signin::count_attempt(c, "login", subject, now, LOGIN_WINDOW_SECONDS)?;
                Ok::<_, rtms_store::StoreError>((address, login))
            })
        };
        // Two first attempts racing to insert one counter: the loser counts again.
        let ((by_address, address_since), (by_login, login_since)) = match count() {
            Err(rtms_store::StoreError::Duplicate) => count()?,
            other => other?,
        };
        let mut until = None;
        if by_address > LOGIN_ATTEMPTS_PER_ADDRESS {
            until = Some(address_since + window);
        }
        if by_login > LOGIN_ATTEMPTS_PER_LOGIN {
            until = until.max(Some(login_since + window));
        }
        match until {
            Some(until) => Err(ServiceError::Throttled {
                retry_after: (until - now).num_seconds().max(1),
            }),
            None => Ok(()),
        }
    }

    /// Counts a failure (atomically, so parallel guesses all count) and locks the
    /// account when the count calls for it.
    fn count_failure(&self, user_id: i64) -> Result<(), ServiceError> {
        let now = self.clock.now().naive_utc();
        self.db.write(|c| {
            let failed = repo::count_login_failure(c, user_id)?;
            if let Some(d) = lock_duration(failed) {
                repo::set_locked_until(c, user_id, Some(now + d))?;
                // Every half-finished sign-in ends with the lock.
                repo::revoke_tokens_of(c, user_id, "pending", None, now)?;
            }
            Ok(())
        })
    }

    /// An administrator unlocks an account: its failures are forgotten and its
    /// login's throttle counter too. Audited.
    pub fn unlock_user(&self, actor: &Actor, user_id: i64) -> Result<(), ServiceError> {
        if !actor.has(Role::Admin) {
            return Err(ServiceError::Forbidden);
        }
        self.db.write(|c| {
            let user = repo::user(c, user_id)?;
            repo::set_login_failures(c, user_id, 0, None)?;
            signin::clear_attempts(c, "login", &user.login.to_lowercase())?;
            self.audit_in(
                c,
                actor,
                Some(Role::Admin),
                "user_unlock",
                ("user", &user_id.to_string()),
                "",
            )
        })
    }

    fn totp_required_for_user(&self, user_id: i64) -> Result<bool, ServiceError> {
        let actor = self.db.read(|c| {
            Actor::load(c, user_id).map_err(|e| rtms_store::StoreError::Other(e.to_string()))
        })?;
        Ok(self.totp_required_for(&actor) && !actor.user.totp_enabled)
    }

    fn finish_sign_in(
        &self,
        user_id: i64,
        kind: &str,
        client: &Client,
    ) -> Result<SignIn, ServiceError> {
        let lifetime = Duration::hours(if kind == "session" {
            SESSION_ABSOLUTE_HOURS
        } else {
            API_LOGIN_HOURS
        });
        let token = self.issue(user_id, kind, lifetime, client, "", "*")?;
        let mut actor = self.db.read(|c| {
            Actor::load(c, user_id).map_err(|e| rtms_store::StoreError::Other(e.to_string()))
        })?;
        actor.ip = client.ip.clone();
        self.db.write(|c| {
            self.audit_in(
                c,
                &actor,
                None,
                "login",
                ("session", kind),
                &client.user_agent,
            )
        })?;
        Ok(SignIn::Done(token, Box::new(actor)))
    }

    /// The second step: the code from the authenticator app.
    pub fn sign_in_code(
        &self,
        pending: &str,
        code: &str,
        client: &Client,
    ) -> Result<SignIn, ServiceError> {
        let now = self.clock.now();
        let hash = token_hash(pending);
        let token = self.db.read(|c| repo::token_by_hash(c, &hash))?;
        let Some(t) = token.filter(|t| {
            t.kind == "pending" && t.revoked_at.is_none() && t.expires_at > now.naive_utc()
        }) else {
            return Err(ServiceError::Unauthenticated);
        };
        let user = self.db.read(|c| repo::user(c, t.user_id))?;
        if user.locked_until.is_some_and(|u| u > now.naive_utc()) {
            return Err(ServiceError::BadCredentials);
        }
        let secret = user.totp_secret.clone().unwrap_or_default();
        // A code is good once: its time step must be later than the last one spent.
        let fresh = match totp::verify_step(&secret, code, now.timestamp()) {
            Some(step) => self
                .db
                .write(|c| signin::spend_totp_step(c, user.id, step))
                .unwrap_or(false),
            None => false,
        };
        if !fresh {
            self.audit_anonymous(
                &user.login,
                &client.ip,
                "login_failed",
                "wrong second-factor code",
            )?;
            self.count_failure(user.id)?;
            let locked = self
                .db
                .read(|c| repo::user(c, user.id))?
                .locked_until
                .is_some_and(|u| u > now.naive_utc());
            return Err(if locked {
                ServiceError::BadCredentials
            } else {
                ServiceError::field("code", "totp_wrong")
            });
        }
        self.db.write(|c| {
            repo::revoke_token_of(c, user.id, t.id, now.naive_utc())?;
            repo::set_login_failures(c, user.id, 0, None)
        })?;
        self.finish_sign_in(user.id, "session", client)
    }

    /// API login (`POST /api/v1/auth/login`). It has no second-factor step:
    /// `sign_in` refuses accounts with one; they use API tokens instead.
    pub fn login(
        &self,
        login: &str,
        password: &str,
        client: &Client,
    ) -> Result<(String, Actor), ServiceError> {
        match self.sign_in(login, password, "api", client)? {
            SignIn::Done(token, actor) => Ok((token, *actor)),
            SignIn::NeedsCode(_) => Err(ServiceError::field("login", "api_login_needs_token")),
        }
    }

    /// The caller behind a session cookie or a bearer token; a session idle
    /// longer than the region's limit has ended.
    /// `kinds`: the tokens this door takes (`session` for pages, `api` for the API).
    pub fn authenticate(
        &self,
        token: &str,
        client: &Client,
        kinds: &[&str],
    ) -> Result<Actor, ServiceError> {
        let now = self.clock.now().naive_utc();
        let hash = token_hash(token);
        let mut conn = self.db.conn()?;
        let (t, user) =
            repo::token_with_user(&mut conn, &hash)?.ok_or(ServiceError::Unauthenticated)?;
        if t.revoked_at.is_some() || t.expires_at <= now || !kinds.contains(&t.kind.as_str()) {
            return Err(ServiceError::Unauthenticated);
        }
        if t.kind == "session" {
            let idle = now - t.last_seen_at.unwrap_or(t.created_at);
            // Activity is remembered once a minute, so in use a session is
            // never idle long enough to need the setting read.
            if idle > Duration::minutes(MIN_IDLE_MINUTES) && idle > Self::idle_limit(&mut conn) {
                drop(conn);
                self.db
                    .write(|c| repo::revoke_token_of(c, t.user_id, t.id, now).map(|_| ()))?;
                return Err(ServiceError::SessionExpired);
            }
        }
        if !user.active {
            return Err(ServiceError::Unauthenticated);
        }
        // Remember activity at most once a minute: a write per request would be waste.
        if t.last_seen_at
            .is_none_or(|seen| now - seen > Duration::seconds(60))
        {
            drop(conn);
            // No request changes: the list counts kept on PostgreSQL stay.
            self.db
                .write_beside_requests(|c| repo::touch_token(c, t.id, now))?;
            conn = self.db.conn()?;
        }
        let mut actor = Actor::of_user(&mut conn, user)?;
        actor.ip = client.ip.clone();
        actor.token_id = Some(t.id);
        actor.scopes = t
            .scopes
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        Ok(actor)
    }

    /// Whether a session still holds, for a stream opened with it (SSE, the
    /// video signaling socket): not revoked, not expired, not idle past the
    /// region's limit, its user active. Unlike [`Services::authenticate`] it
    /// records no activity, so an open stream does not keep a session alive.
    pub fn session_alive(&self, token: &str) -> bool {
        let now = self.clock.now().naive_utc();
        let hash = token_hash(token);
        // A database that does not answer ends the stream too (the browser
        // reconnects through the door that checks everything).
        let Ok(mut conn) = self.db.conn() else {
            return false;
        };
        let Ok(found) = repo::token_with_user(&mut conn, &hash) else {
            return false;
        };
        let Some((t, user)) = found else {
            return false;
        };
        if t.revoked_at.is_some() || t.expires_at <= now || !user.active {
            return false;
        }
        let idle = now - t.last_seen_at.unwrap_or(t.created_at);
        !(idle > Duration::minutes(MIN_IDLE_MINUTES) && idle > Self::idle_limit(&mut conn))
    }

    /// Ends a session or revokes a token.
    pub fn sign_out(&self, actor: &Actor) -> Result<(), ServiceError> {
        let now = self.clock.now().naive_utc();
        if let Some(id) = actor.token_id {
            self.db.write(|c| {
                repo::revoke_token_of(c, actor.user.id, id, now)?;
                self.audit_in(c, actor, None, "logout", ("session", &id.to_string()), "")
            })?;
        }
        Ok(())
    }

    /// The caller's browser sessions and API tokens.
    pub fn sessions(&self, actor: &Actor) -> Result<Vec<SessionView>, ServiceError> {
        let now = self.clock.now().naive_utc();
        let mut conn = self.db.conn()?;
        let mut out: Vec<SessionView> = repo::tokens_of(&mut conn, actor.user.id, "session", now)?
            .iter()
            .map(|t| session_view(t, actor.token_id))
            .collect();
        out.extend(
            repo::tokens_of(&mut conn, actor.user.id, "api", now)?
                .iter()
                .map(|t| session_view(t, actor.token_id)),
        );
        Ok(out)
    }

    /// Ends one of the caller's sessions or tokens.
    pub fn end_session(&self, actor: &Actor, id: i64) -> Result<(), ServiceError> {
        let now = self.clock.now().naive_utc();
        self.db.write(|c| {
            if !repo::revoke_token_of(c, actor.user.id, id, now)? {
                return Err(ServiceError::NotFound);
            }
            self.audit_in(
                c,
                actor,
                None,
                "session_end",
                ("session", &id.to_string()),
                "",
            )
        })
    }

    /// Ends every browser session of the caller but the current one.
    pub fn end_other_sessions(&self, actor: &Actor) -> Result<usize, ServiceError> {
        let now = self.clock.now().naive_utc();
        self.db.write(|c| {
            let n = repo::revoke_tokens_of(c, actor.user.id, "session", actor.token_id, now)?;
            self.audit_in(
                c,
                actor,
                None,
                "session_end_others",
                ("session", ""),
                &n.to_string(),
            )?;
            Ok(n)
        })
    }

    /// A token for an integration (a МИС): named, scoped, expiring.
    pub fn create_api_token(
        &self,
        actor: &Actor,
        name: &str,
        scopes: &[String],
        days: i64,
    ) -> Result<(String, i64), ServiceError> {
        let mut errors = Vec::new();
        if name.trim().is_empty() {
            errors.push(rtms_domain::FieldError::new("name", "required"));
        }
        if scopes.is_empty() || scopes.iter().any(|s| !SCOPES.contains(&s.as_str())) {
            errors.push(rtms_domain::FieldError::new("scopes", "unknown_value"));
        }
        if !(1..=366).contains(&days) {
            errors.push(rtms_domain::FieldError::new("days", "out_of_range"));
        }
        if !errors.is_empty() {
            return Err(ServiceError::Invalid(errors));
        }
        let token = self.issue(
            actor.user.id,
            "api",
            Duration::days(days),
            &Client {
                ip: actor.ip.clone(),
                user_agent: String::new(),
            },
            name.trim(),
            &scopes.join(","),
        )?;
        let hash = token_hash(&token);
        let id = self
            .db
            .read(|c| repo::token_by_hash(c, &hash))?
            .map(|t| t.id)
            .unwrap_or(0);
        self.db.write(|c| {
            self.audit_in(
                c,
                actor,
                None,
                "token_create",
                ("api_token", &id.to_string()),
                &scopes.join(","),
            )
        })?;
        Ok((token, id))
    }

    /// Changes the caller's own password after checking the current one.
    pub fn change_password(
        &self,
        actor: &Actor,
        current: &str,
        new: &str,
    ) -> Result<(), ServiceError> {
        if !verify_password(current, &actor.user.password_hash) {
            return Err(ServiceError::field("current_password", "wrong_password"));
        }
        if let Err(code) = check_password(&actor.user.login, new) {
            return Err(ServiceError::field("new_password", code));
        }
        if new == current {
            return Err(ServiceError::field("new_password", "same_password"));
        }
        let hash = hash_password(new)?;
        let now = self.clock.now().naive_utc();
        self.db.write(|c| {
            repo::set_password(c, actor.user.id, &hash, false)?;
            // Whoever else held a session or a token with the old password loses it.
            for kind in ["session", "api", "pending"] {
                repo::revoke_tokens_of(c, actor.user.id, kind, actor.token_id, now)?;
            }
            self.audit_in(
                c,
                actor,
                None,
                "password_change",
                ("user", &actor.user.id.to_string()),
                "",
            )
        })
    }

    /// Whether notifications also come by e-mail: `instant` or `off`.
    pub fn set_email_mode(&self, actor: &Actor, mode: &str) -> Result<(), ServiceError> {
        if !matches!(mode, "instant" | "off") {
            return Err(ServiceError::field("email_mode", "unknown_value"));
        }
        self.db
            .write(|c| repo::set_email_mode(c, actor.user.id, mode))?;
        Ok(())
    }

    /// E-mail preferences: the mode (`off`, `instant`, `digest`) and which kinds
    /// of notification go by e-mail (every kind of [`MAIL_KINDS`] chosen is stored as `*`).
    ///
    /// [`MAIL_KINDS`]: crate::platform::mail::MAIL_KINDS
    pub fn set_email_prefs(
        &self,
        actor: &Actor,
        mode: &str,
        kinds: &[String],
    ) -> Result<(), ServiceError> {
        use crate::platform::mail::MAIL_KINDS;
        if !matches!(mode, "instant" | "off" | "digest") {
            return Err(ServiceError::field("email_mode", "unknown_value"));
        }
        if kinds.iter().any(|k| !MAIL_KINDS.contains(&k.as_str())) {
            return Err(ServiceError::field("email_kinds", "unknown_value"));
        }
        let stored = if MAIL_KINDS.iter().all(|k| kinds.iter().any(|x| x == k)) {
            "*".to_string()
        } else {
            MAIL_KINDS
                .iter()
                .filter(|k| kinds.iter().any(|x| x == *k))
                .copied()
                .collect::<Vec<_>>()
                .join(",")
        };
        self.db
            .write(|c| repo::set_email_prefs(c, actor.user.id, mode, &stored))?;
        Ok(())
    }

    pub fn set_locale(&self, actor: &Actor, locale: &str) -> Result<(), ServiceError> {
        let locale = if locale == "en" { "en" } else { "ru" };
        self.db
            .write(|c| repo::set_locale(c, actor.user.id, locale))?;
        Ok(())
    }

    /// Starts enrolment: a new secret, not yet in force until a code proves the app has it.
    pub fn totp_begin(&self, actor: &Actor) -> Result<(String, String), ServiceError> {
        if actor.user.totp_enabled {
            // Enrolled already: a new secret would switch the second factor off.
            return Err(ServiceError::Forbidden);
        }
        let mut key = [0u8; 20];
        rand::thread_rng().fill_bytes(&mut key);
        let secret = totp::base32_encode(&key);
        self.db
            .write(|c| repo::set_totp(c, actor.user.id, Some(&secret), false))?;
        Ok((
            secret.clone(),
            totp::otpauth_uri(&secret, &actor.user.login, "РТМС"),
        ))
    }

    /// Confirms enrolment with a code from the app.
    pub fn totp_confirm(&self, actor: &Actor, code: &str) -> Result<(), ServiceError> {
        let user = self.db.read(|c| repo::user(c, actor.user.id))?;
        let secret = user
            .totp_secret
            .ok_or_else(|| ServiceError::field("code", "totp_wrong"))?;
        // The code that proves enrolment is spent too: it cannot sign in afterwards.
        let fresh = match totp::verify_step(&secret, code, self.clock.now().timestamp()) {
            Some(step) => self
                .db
                .write(|c| signin::spend_totp_step(c, actor.user.id, step))
                .unwrap_or(false),
            None => false,
        };
        if !fresh {
            return Err(ServiceError::field("code", "totp_wrong"));
        }
        self.db.write(|c| {
            repo::set_totp(c, actor.user.id, Some(&secret), true)?;
            self.audit_in(
                c,
                actor,
                None,
                "totp_enable",
                ("user", &actor.user.id.to_string()),
                "",
            )
        })
    }
}

/// A valid argon2id hash of a random string, checked against when the login is unknown.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0U1Ffo6vJ7fWlR3H6V6E3yV7y8C8gJmQ0T9V9m1b1yE";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_grow_after_the_free_attempts_and_are_capped() {
        assert_eq!(lock_duration(4), None);
        assert_eq!(lock_duration(5), Some(Duration::minutes(1)));
        assert_eq!(lock_duration(6), Some(Duration::minutes(2)));
        assert_eq!(lock_duration(8), Some(Duration::minutes(8)));
        assert_eq!(lock_duration(40), Some(Duration::minutes(MAX_LOCK_MINUTES)));
    }
}
