//! Who is told about what. Notifications are written in the same transaction as
//! the change they announce, then published live after the commit.

use chrono::{DateTime, Utc};
use rtms_domain::{Action, FormOfCare, Lang, Role, Status};
use rtms_store::models::Consultation;
use rtms_store::repo;
use rtms_store::DbConn;
use serde::Serialize;
use utoipa::ToSchema;

use chrono::Duration;
use rtms_i18n::{tr, tr_args};

use crate::platform::jobs;
use crate::platform::mail::SendEmail;
use crate::{Actor, ServiceError, Services};

/// Recipients of one change.
#[derive(Debug, Default, Clone)]
pub struct Outbox {
    pub users: Vec<i64>,
    pub kind: String,
}

/// The dispatchers of the КТЦ and of the federal level.
pub(crate) fn dispatchers(conn: &mut DbConn) -> Result<Vec<i64>, ServiceError> {
    let mut ids = repo::users_with_role(conn, Role::Dispatcher.as_str(), None, Some("ktc"))?;
    ids.extend(repo::users_with_role(
        conn,
        Role::Dispatcher.as_str(),
        None,
        Some("federal"),
    )?);
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

/// Decides who hears about an action that brought `c` to `to`.
pub fn recipients(
    conn: &mut DbConn,
    c: &Consultation,
    action: Action,
    to: Status,
    consultants: &[i64],
    tkc: Option<i64>,
    actor: &Actor,
) -> Result<Outbox, ServiceError> {
    let emergency = c.form_of_care.as_deref() == Some(FormOfCare::Emergency.as_str());
    let coordinators = |conn: &mut DbConn| -> Result<Vec<i64>, ServiceError> {
        Ok(match tkc {
            Some(t) => repo::users_with_role(conn, Role::Coordinator.as_str(), Some(t), None)?,
            None => Vec::new(),
        })
    };
    let (mut users, kind) = match (action, to) {
        (Action::Submit, Status::Assigned) => {
            let mut u = dispatchers(conn)?;
            u.extend(coordinators(conn)?);
            u.extend(consultants);
            // An urgent request the region routes like an emergency.
            (u, if emergency { "emergency" } else { "assigned" })
        }
        (Action::Submit | Action::Approve | Action::Resubmit, Status::Submitted) => (
            dispatchers(conn)?,
            if emergency {
                "emergency"
            } else {
                "new_request"
            },
        ),
        (Action::Submit, Status::AwaitingApproval) => (
            repo::users_with_role(conn, Role::Head.as_str(), Some(c.requesting_org_id), None)?,
            "approval_needed",
        ),
        (Action::Return, _) => (vec![c.requester_id], "returned"),
        (Action::SendBack, _) => (vec![c.requester_id], "returned"),
        (Action::Reject, _) => (vec![c.requester_id], "rejected"),
        (Action::Assign, _) if consultants.is_empty() => (coordinators(conn)?, "assigned"),
        (Action::Assign, _) => (consultants.to_vec(), "assigned"),
        (Action::Decline, _) => {
            let mut u = dispatchers(conn)?;
            u.extend(coordinators(conn)?);
            u.extend(consultants);
            (u, "declined")
        }
        (Action::Schedule, _) => {
            let mut u = consultants.to_vec();
            u.push(c.requester_id);
            (u, "scheduled")
        }
        (Action::Ask, _) => (vec![c.requester_id], "question"),
        (Action::Answer, _) => (consultants.to_vec(), "answer"),
        (Action::Sign | Action::RecordFederalConclusion, Status::Completed) => {
            (vec![c.requester_id], "conclusion_ready")
        }
        (Action::Escalate, _) => (vec![c.requester_id], "escalated"),
        _ => (Vec::new(), ""),
    };
    users.retain(|u| *u != actor.user.id);
    users.sort_unstable();
    users.dedup();
    Ok(Outbox {
        users,
        kind: kind.to_string(),
    })
}

pub use crate::platform::mail::{kind_label, wants_kind, MAIL_KINDS};

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NotificationView {
    pub id: i64,
    pub consultation_id: i64,
    pub kind: String,
    pub text: String,
    pub created_at: DateTime<Utc>,
    pub read: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NotificationList {
    pub unread: i64,
    pub items: Vec<NotificationView>,
}

impl Services {
    pub fn notifications(
        &self,
        actor: &Actor,
        lang: Lang,
        limit: i64,
    ) -> Result<NotificationList, ServiceError> {
        let mut conn = self.db.conn()?;
        let (rows, unread) = repo::notifications_of(&mut conn, actor.user.id, limit)?;
        // No patient data here: a notification outlives the reader's access to the
        // request (a declined consultant, a reassigned centre), and is not audited.
        let mut items = Vec::with_capacity(rows.len());
        for n in rows {
            items.push(NotificationView {
                id: n.id,
                consultation_id: n.consultation_id,
                text: kind_label(&n.kind, lang).to_string(),
                kind: n.kind,
                created_at: n.created_at.and_utc(),
                read: n.read_at.is_some(),
            });
        }
        Ok(NotificationList { unread, items })
    }

    pub fn mark_notifications_read(&self, actor: &Actor) -> Result<(), ServiceError> {
        let now = self.clock.now().naive_utc();
        self.db
            .write(|c| repo::mark_notifications_read(c, actor.user.id, now))?;
        Ok(())
    }
}

/// Digests cover a calendar day in Moscow time (UTC+3).
const DIGEST_OFFSET_MINUTES: i64 = 180;

impl Services {
    /// Tells users about a request: in-app notifications, and e-mails to those who
    /// want them, queued in the same transaction. No patient data goes by e-mail.
    pub(crate) fn deliver(
        &self,
        conn: &mut DbConn,
        users: &[i64],
        consultation_id: i64,
        kind: &str,
    ) -> Result<(), ServiceError> {
        let now = self.clock.now().naive_utc();
        repo::notify(conn, users, consultation_id, kind, now)?;
        let Some(mail) = &self.mail else {
            return Ok(());
        };
        for user in repo::users_by_ids(conn, users)? {
            if user.email.is_empty()
                || user.email_mode != "instant"
                || !wants_kind(&user.email_kinds, kind)
            {
                continue;
            }
            let lang = if user.locale == "en" {
                Lang::En
            } else {
                Lang::Ru
            };
            let what = kind_label(kind, lang);
            let id = consultation_id.to_string();
            let url = format!("{}/requests/{consultation_id}", mail.public_url);
            let event = [("what", what.clone().into()), ("id", id.into())];
            let subject = tr_args(lang, "mail-subject", &event);
            let body = format!(
                "{}\n\n{}\n\n{}",
                tr_args(lang, "mail-event", &event),
                tr_args(lang, "mail-open", &[("url", url.into())]),
                tr(lang, "mail-signature")
            );
            let letter = SendEmail {
                to: user.email.clone(),
                subject,
                body,
            };
            jobs::enqueue(conn, &letter, now, now)?;
        }
        Ok(())
    }

    /// Queues the daily digest of yesterday (Moscow time) for every user who
    /// chose one: a single e-mail listing the day's notifications of the kinds
    /// they want. The digest is claimed in the transaction that queues it, so
    /// however many instances call this, each user gets one digest per day; the
    /// job queue then sends it, with retries. Returns how many were queued.
    pub fn queue_digests(&self) -> Result<usize, ServiceError> {
        let Some(mail) = self.mail.clone() else {
            return Ok(0);
        };
        let msk = Duration::minutes(DIGEST_OFFSET_MINUTES);
        let now = self.clock.now().naive_utc();
        let day = (now + msk).date() - Duration::days(1);
        let start = day.and_hms_opt(0, 0, 0).unwrap_or_default() - msk;
        let end = start + Duration::days(1);
        let day_key = day.format("%Y-%m-%d").to_string();
        let mut queued = 0;
        for user in self.db.read(repo::digest_users)? {
            let items: Vec<_> = self
                .db
                .read(|c| repo::notifications_between(c, user.id, start, end))?
                .into_iter()
                .filter(|n| wants_kind(&user.email_kinds, &n.kind))
                .collect();
            if items.is_empty() {
                continue;
            }
            let lang = if user.locale == "en" {
                Lang::En
            } else {
                Lang::Ru
            };
            let mut lines = String::new();
            for n in &items {
                let at = (n.created_at + msk).format("%H:%M");
                let what = kind_label(&n.kind, lang);
                let id = n.consultation_id;
                let line = tr_args(
                    lang,
                    "mail-digest-line",
                    &[
                        ("at", at.to_string().into()),
                        ("what", what.into()),
                        ("id", id.to_string().into()),
                    ],
                );
                lines.push_str(&format!("{line}\n  {}/requests/{id}\n", mail.public_url));
            }
            let count = items.len();
            let day_text = rtms_i18n::date(day, lang);
            let subject = tr_args(
                lang,
                "mail-digest-subject",
                &[("day", day_text.clone().into()), ("count", count.into())],
            );
            let body = format!(
                "{}\n\n{lines}\n{}",
                tr_args(lang, "mail-digest-heading", &[("day", day_text.into())]),
                tr(lang, "mail-signature")
            );
            let letter = SendEmail {
                to: user.email.clone(),
                subject,
                body,
            };
            let claimed = self.db.write(|c| {
                if !repo::claim_digest(c, user.id, &day_key, now)? {
                    return Ok::<_, ServiceError>(false);
                }
                jobs::enqueue(c, &letter, now, now)?;
                Ok(true)
            })?;
            if claimed {
                queued += 1;
            }
        }
        Ok(queued)
    }
}
