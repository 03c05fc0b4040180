//! The request page's data in one read: the request, its history, thread,
//! conclusion and files, and what the caller may do now. It reads across
//! capabilities (lifecycle, attachments), so it sits above them; the page
//! and the API both take it from here.

use rtms_domain::{Action, Lang};
use rtms_store::repo;

use crate::attachments::files::AttachmentView;
use crate::lifecycle::consultations::status_of;
use crate::lifecycle::rules::{Allowed, Facts};
use crate::lifecycle::views::{ConclusionView, ConsultationView, EventView, MessageView};
use crate::{Actor, ServiceError, Services};

type SResult<T> = Result<T, ServiceError>;

impl Services {
    /// Everything the request page shows, recorded as one read.
    pub fn consultation_page(
        &self,
        actor: &Actor,
        id: i64,
        lang: Lang,
    ) -> SResult<ConsultationPageView> {
        let view = self.consultation_unaudited(actor, id, lang)?;
        let events = self.events_unaudited(actor, id, lang)?;
        let messages = self.messages_unaudited(actor, id)?;
        let conclusion = match self.conclusion_unaudited(actor, id) {
            Ok(k) => Some(k),
            Err(ServiceError::NotFound) => None,
            Err(e) => return Err(e),
        };
        let attachments = self.attachments_unaudited(actor, id)?;
        let files: Vec<String> = attachments.iter().map(|a| a.id.to_string()).collect();
        let details = match &conclusion {
            Some(k) => format!("page, conclusion version {}", k.version),
            None => "page".into(),
        };
        let details = format!("{details}, attachments [{}]", files.join(","));
        self.audit_read(
            actor,
            self.acting_role(actor, id)?,
            ("consultation", &id.to_string()),
            &details,
        )?;
        let allowed = self.allowed(actor, id, view.available_actions.clone())?;
        let duty = {
            let mut conn = self.db.conn()?;
            self.duty_state(&mut conn, actor, id)?
        };
        Ok(ConsultationPageView {
            view,
            events,
            messages,
            conclusion,
            attachments,
            allowed,
            duty,
        })
    }

    /// What the caller may do on the request now (`lifecycle::rules`), with
    /// the transition table's `actions` already worked out for them.
    fn allowed(&self, actor: &Actor, id: i64, actions: Vec<Action>) -> SResult<Allowed> {
        let mut conn = self.db.conn()?;
        let c = repo::consultation(&mut conn, id)?;
        let members = repo::assigned_consultants(&mut conn, id)?;
        let roles = self.roles_on(actor, &c, &members, None);
        let current = repo::current_conclusion(&mut conn, id)?;
        let ctx = self.guard_context(&mut conn, &c, &members)?;
        drop(conn);
        let table = rtms_domain::lifecycle::available_actions(status_of(&c), &roles, &ctx);
        let facts = Facts {
            status: status_of(&c),
            roles: &roles,
            me: actor.user.id,
            members: &members,
            current: current.as_ref(),
        };
        Ok(Allowed::of(
            &facts,
            actions,
            &table,
            self.can_attach(actor, id),
        ))
    }
}

/// The request page's data in one read.
#[derive(Debug, Clone)]
pub struct ConsultationPageView {
    pub view: ConsultationView,
    pub events: Vec<EventView>,
    pub messages: Vec<MessageView>,
    pub conclusion: Option<ConclusionView>,
    pub attachments: Vec<AttachmentView>,
    /// What the caller may do now: the page shows exactly these.
    pub allowed: Allowed,
    /// The emergency call chain, when somebody was called.
    pub duty: Option<crate::lifecycle::duty_calls::DutyState>,
}
