//! Who is told about what. Notifications are written in the same transaction as
//! the change they announce, then published live after the commit.

use chrono::{DateTime, Utc};
use rtms_domain::{Action, FormOfCare, Lang, Role, Status};
use rtms_store::models::Consultation;
use rtms_store::repo;
use rtms_store::DbConn;
use serde::Serialize;
use utoipa::ToSchema;

use crate::{Actor, ServiceError, Services};

/// Recipients of one change.
#[derive(Debug, Default, Clone)]
pub struct Outbox {
    pub users: Vec<i64>,
    pub kind: String,
}

fn dispatchers(conn: &mut DbConn) -> Result<Vec<i64>, ServiceError> {
    let mut ids = repo::users_with_role(conn, Role::Dispatcher.as_str(), None, Some("ktc"))?;
    ids.extend(repo::users_with_role(
        conn,
        Role::Dispatcher.as_str(),
        None,
        Some("federal"),
    )?);
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
            (u, "emergency")
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

/// The words of a notification kind.
/// The kinds of notification a user may choose to receive by e-mail, in the
/// order the settings form lists them.
pub const MAIL_KINDS: &[&str] = &[
    "new_request",
    "emergency",
    "approval_needed",
    "returned",
    "rejected",
    "assigned",
    "declined",
    "scheduled",
    "question",
    "answer",
    "conclusion_ready",
    "escalated",
    "deadline_near",
    "deadline_over",
    "deadline_escalated",
];

/// Whether a user's e-mail preferences (`*` or a comma-separated list) include `kind`.
pub fn wants_kind(email_kinds: &str, kind: &str) -> bool {
    email_kinds.trim() == "*" || email_kinds.split(',').any(|k| k.trim() == kind)
}

/// The title of a notification of `kind`, from the catalogues
/// (`notification-<kind>`); an unknown kind reads as "request changed".
pub fn kind_label(kind: &str, lang: Lang) -> String {
    let text = rtms_i18n::tr(lang, &format!("notification-{kind}"));
    if text.starts_with('⟦') {
        rtms_i18n::tr(lang, "notification-other")
    } else {
        text
    }
}

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
