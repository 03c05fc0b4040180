//! The audit trail: who read or changed what, from where. Every service that
//! touches patient data records here; the store keeps the rows hash-chained.

use chrono::NaiveDateTime;
use rtms_domain::{Lang, Role};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rtms_store::audit::{self, Anchor, AuditEntry, AuditFilter, ChainKey, Verdict};
use rtms_store::DbConn;
use serde::Serialize;
use utoipa::ToSchema;

use crate::access::audit_text::{Gender, Names, Person};
use crate::{Actor, ServiceError, Services};

pub use crate::access::audit_text::AuditView;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditView>,
    pub total: i64,
}

fn entry(
    actor: &Actor,
    role: Option<Role>,
    action: &str,
    object_type: &str,
    object_id: &str,
    details: &str,
) -> AuditEntry {
    let membership = match role {
        Some(r) => actor.roles.iter().find(|m| m.role == r),
        None => actor.roles.first(),
    };
    AuditEntry {
        at: None,
        user_id: Some(actor.user.id),
        login: actor.user.login.clone(),
        org_id: membership.map(|m| m.org.id),
        role: membership
            .map(|m| m.role.as_str().to_string())
            .unwrap_or_default(),
        ip: actor.ip.clone(),
        action: action.into(),
        object_type: object_type.into(),
        object_id: object_id.into(),
        details: details.into(),
    }
}

impl Services {
    /// Records inside the caller's write transaction.
    pub(crate) fn audit_in(
        &self,
        conn: &mut DbConn,
        actor: &Actor,
        role: Option<Role>,
        action: &str,
        (object_type, object_id): (&str, &str),
        details: &str,
    ) -> Result<(), ServiceError> {
        audit::append(
            conn,
            &entry(actor, role, action, object_type, object_id, details),
            self.clock.now().naive_utc(),
            self.audit_key.as_deref(),
        )?;
        Ok(())
    }

    /// Records what the system did on its own (a duty call passed on), as
    /// login `system`, in the caller's transaction.
    pub(crate) fn audit_system(
        &self,
        conn: &mut DbConn,
        action: &str,
        (object_type, object_id): (&str, &str),
        details: &str,
    ) -> Result<(), ServiceError> {
        let e = AuditEntry {
            login: "system".into(),
            action: action.into(),
            object_type: object_type.into(),
            object_id: object_id.into(),
            details: details.into(),
            ..Default::default()
        };
        audit::append(
            conn,
            &e,
            self.clock.now().naive_utc(),
            self.audit_key.as_deref(),
        )?;
        Ok(())
    }

    /// Records a read. The data is not handed out unless the read is recorded.
    /// `role`: the role under which the caller sees the object (its organization is recorded too).
    pub(crate) fn audit_read(
        &self,
        actor: &Actor,
        role: Option<Role>,
        (object_type, object_id): (&str, &str),
        details: &str,
    ) -> Result<(), ServiceError> {
        let mut e = entry(actor, role, "read", object_type, object_id, details);
        e.at = Some(self.clock.now().naive_utc());
        self.audit_queue
            .record(&self.db, self.audit_key.as_deref(), e)
    }

    /// Records an event without a signed-in actor (a failed sign-in).
    pub(crate) fn audit_anonymous(
        &self,
        login: &str,
        ip: &str,
        action: &str,
        details: &str,
    ) -> Result<(), ServiceError> {
        let now = self.clock.now().naive_utc();
        let e = AuditEntry {
            login: login.into(),
            ip: ip.into(),
            action: action.into(),
            object_type: "session".into(),
            details: details.into(),
            ..Default::default()
        };
        let key = self.audit_key.as_deref();
        self.db
            .write_beside_requests(|c| audit::append(c, &e, now, key).map(|_| ()))?;
        Ok(())
    }

    /// The auditor's search. Only auditors read the audit log. Each row
    /// comes with its sentence in `lang` (`crate::access::audit_text`).
    pub fn audit_search(
        &self,
        actor: &Actor,
        f: &AuditFilter,
        page: i64,
        per_page: i64,
        lang: Lang,
    ) -> Result<AuditPage, ServiceError> {
        if !actor.has(Role::Auditor) {
            return Err(ServiceError::Forbidden);
        }
        let mut conn = self.db.conn()?;
        // A page far past the end is an empty page, not an overflow.
        let offset = (page.max(1) - 1).saturating_mul(per_page);
        let (rows, total) = audit::search(&mut conn, f, offset, per_page)?;
        let names = self.audit_names(&mut conn, &rows, lang)?;
        drop(conn);
        let mut items: Vec<AuditView> = rows
            .into_iter()
            .map(|r| AuditView {
                id: r.id,
                at: r.at.and_utc(),
                login: r.login,
                user_id: r.user_id,
                organization_id: r.org_id,
                role: r.role,
                ip: r.ip,
                action: r.action,
                object_type: r.object_type,
                object_id: r.object_id,
                details: r.details,
                actor_name: r
                    .user_id
                    .and_then(|id| names.users.get(&id))
                    .map(|p| p.short_name.clone())
                    .unwrap_or_default(),
                organization_name: r
                    .org_id
                    .and_then(|o| names.org_short_names.get(&o).cloned())
                    .unwrap_or_default(),
                text: String::new(),
            })
            .collect();
        for v in &mut items {
            v.text = crate::access::audit_text::sentence(v, &names, lang);
        }
        Ok(AuditPage { items, total })
    }

    /// The people, organizations and profiles a page of the journal names:
    /// one read each.
    fn audit_names(
        &self,
        conn: &mut DbConn,
        rows: &[rtms_store::models::AuditRow],
        lang: Lang,
    ) -> Result<Names, ServiceError> {
        let mut ids: Vec<i64> = rows.iter().filter_map(|r| r.user_id).collect();
        for r in rows {
            if r.object_type == "user" {
                ids.extend(r.object_id.parse::<i64>().ok());
            }
            if r.object_type == "video_session" || r.object_type == "consultation_list" {
                // Participants, or a FHIR search's consultant.
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(&r.details) {
                    for key in ["people", "practitioner"] {
                        match &v[key] {
                            serde_json::Value::Array(a) => {
                                ids.extend(a.iter().filter_map(|x| x.as_i64()))
                            }
                            x => ids.extend(x.as_i64()),
                        }
                    }
                }
            }
        }
        ids.sort_unstable();
        ids.dedup();
        let users = rtms_store::repo::users_by_ids(conn, &ids)?
            .into_iter()
            .map(|u| {
                let person = Person {
                    short_name: u.short_name(),
                    login: u.login.clone(),
                    gender: Gender::of_patronymic(&u.middle_name),
                };
                (u.id, person)
            })
            .collect();
        let all = rtms_store::repo::organizations(conn, None)?;
        let org_short_names = all.iter().map(|o| (o.id, o.short_name.clone())).collect();
        let orgs = all.into_iter().map(|o| (o.id, o.name)).collect();
        let profiles = self
            .profiles(lang)?
            .into_iter()
            .map(|p| (p.code, p.name))
            .collect();
        Ok(Names {
            users,
            orgs,
            org_short_names,
            profiles,
        })
    }

    /// Keys the audit chain from now on: rows appended by these services are
    /// linked with an HMAC under `key` (kept outside the database). The first
    /// keyed row is recorded once, so older rows keep their plain links.
    pub fn with_audit_key(mut self, key: ChainKey) -> Result<Self, ServiceError> {
        self.db.write_beside_requests(audit::start_keyed)?;
        self.audit_key = Some(Arc::new(key));
        Ok(self)
    }

    /// Anchors the chain's head in this file (see `audit_anchor`).
    pub fn with_audit_anchors(mut self, path: PathBuf) -> Self {
        self.audit_anchors = Some(Arc::new(path));
        self
    }

    /// Writes the chain's head to the anchor file (appending a line, the file
    /// readable by its owner only) unless it is the head anchored last.
    /// `rtms serve` calls it at start and every `ANCHOR_EVERY_MINUTES`.
    pub fn audit_anchor(&self) -> Result<Option<Anchor>, ServiceError> {
        let Some(path) = self.audit_anchors.as_deref() else {
            return Ok(None);
        };
        let head = {
            let mut conn = self.db.conn()?;
            audit::head(&mut conn, self.clock.now().naive_utc())?
        };
        let Some(head) = head else {
            return Ok(None);
        };
        let last = read_anchors(path)?.pop();
        if last.is_some_and(|l| l.id == head.id && l.hash == head.hash) {
            return Ok(None);
        }
        let mut options = std::fs::OpenOptions::new();
        options.append(true).create(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut f = options.open(path).map_err(|e| anchor_error(path, e))?;
        writeln!(f, "{}", head.line()).map_err(|e| anchor_error(path, e))?;
        f.sync_all().map_err(|e| anchor_error(path, e))?;
        Ok(Some(head))
    }

    /// Checks the whole chain (the `rtms audit verify` command): every link,
    /// keyed ones with the key, then every anchored head.
    pub fn audit_verify(&self) -> Result<Verdict, ServiceError> {
        let anchors = match self.audit_anchors.as_deref() {
            Some(p) => read_anchors(p)?,
            None => Vec::new(),
        };
        let mut conn = self.db.conn()?;
        Ok(audit::verify(
            &mut conn,
            self.audit_key.as_deref(),
            &anchors,
        )?)
    }

    /// The key the chain is checked with, for `rtms audit verify` (which
    /// must not start keying a log itself).
    pub fn with_audit_key_for_checking(mut self, key: ChainKey) -> Self {
        self.audit_key = Some(Arc::new(key));
        self
    }
}

/// How often `rtms serve` anchors the chain's head outside the database.
pub const ANCHOR_EVERY_MINUTES: u64 = 5;

fn anchor_error(path: &Path, e: std::io::Error) -> ServiceError {
    ServiceError::Store(rtms_store::StoreError::Other(format!(
        "the audit anchor file {}: {e}",
        path.display()
    )))
}

/// The anchors recorded so far, oldest first (none while the file is absent).
pub fn read_anchors(path: &Path) -> Result<Vec<Anchor>, ServiceError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(anchor_error(path, e)),
    };
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let a = Anchor::parse(line).ok_or_else(|| {
            anchor_error(
                path,
                std::io::Error::other(format!("line {} is not an anchor", n + 1)),
            )
        })?;
        out.push(a);
    }
    Ok(out)
}

/// Parses `ДД.ММ.ГГГГ` or `ГГГГ-ММ-ДД` as the start of that day (UTC).
pub fn day_start(raw: &str) -> Option<NaiveDateTime> {
    rtms_domain::validate::parse_date(raw)
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
}

/// Group commit for reads: concurrent readers' entries are appended together,
/// in one transaction, by whichever of them finds no batch being written; the
/// others wait until the batch holding their entry is committed. Each read
/// still returns only after its entry is durable, but fifty readers cost one
/// commit (and one turn of the chain's lock) instead of fifty.
#[derive(Default)]
pub struct AuditQueue {
    state: std::sync::Mutex<QueueState>,
    written: std::sync::Condvar,
}

#[derive(Default)]
struct QueueState {
    pending: Vec<AuditEntry>,
    /// The batch new entries join; batches below `done` are finished.
    open: u64,
    done: u64,
    writing: bool,
    /// Batches that failed, with the reason (kept briefly for their waiters).
    failed: Vec<(u64, String)>,
}

impl AuditQueue {
    fn lock(&self) -> std::sync::MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn record(
        &self,
        db: &rtms_store::Db,
        key: Option<&ChainKey>,
        e: AuditEntry,
    ) -> Result<(), ServiceError> {
        let mut st = self.lock();
        let mine = st.open;
        st.pending.push(e);
        loop {
            if st.done > mine {
                return match st.failed.iter().find(|(b, _)| *b == mine) {
                    Some((_, reason)) => Err(ServiceError::Store(rtms_store::StoreError::Other(
                        reason.clone(),
                    ))),
                    None => Ok(()),
                };
            }
            if !st.writing {
                // Lead: write everything waiting, this entry included.
                st.writing = true;
                let batch = std::mem::take(&mut st.pending);
                let number = st.open;
                st.open += 1;
                drop(st);
                // The audit log is no request: kept list counts stay.
                let outcome = db.write_beside_requests(|c| {
                    for e in &batch {
                        let at = e.at.unwrap_or_default();
                        audit::append(c, e, at, key)?;
                    }
                    Ok::<_, rtms_store::StoreError>(())
                });
                st = self.lock();
                st.writing = false;
                st.done = number + 1;
                if let Err(e) = &outcome {
                    st.failed.push((number, e.to_string()));
                }
                let keep_from = number.saturating_sub(64);
                st.failed.retain(|(b, _)| *b >= keep_from);
                self.written.notify_all();
                continue;
            }
            st = self.written.wait(st).unwrap_or_else(|p| p.into_inner());
        }
    }
}
