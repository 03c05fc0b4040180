//! Correcting a signed conclusion. A signed conclusion is never changed: a
//! consultant who signed it opens a new version that references it, edits it
//! like the first one, and every member of the consilium signs it again. The
//! request keeps its state (`completed` or `closed`); the original version and
//! its document stay readable; the requesting doctor is told when the
//! correction is signed, and gets a new document that says what it replaces.

use rtms_domain::{Role, Status};
use rtms_store::models::{ConclusionContent, NewEvent};
use rtms_store::repo;

use crate::lifecycle::consultations::{conclusion_hash, status_of};
use crate::platform::live::LiveEvent;
use crate::{Actor, ServiceError, Services};

type SResult<T> = Result<T, ServiceError>;

impl Services {
    /// Opens a correction of the signed conclusion (a consultant who signed it),
    /// with the reason written in the case timeline. The signed version's
    /// document is made first, so that it stays readable as it was.
    pub async fn start_correction(&self, actor: &Actor, id: i64, reason: &str) -> SResult<()> {
        self.conclusion_document(actor, id).await?;
        let reason = reason.trim().to_string();
        if reason.is_empty() {
            return Err(ServiceError::field("comment", "required"));
        }
        if reason.chars().count() > 2000 {
            return Err(ServiceError::field("comment", "too_long"));
        }
        let svc = self.clone();
        let actor = actor.clone();
        tokio::task::spawn_blocking(move || svc.start_correction_tx(&actor, id, &reason))
            .await
            .map_err(|e| {
                ServiceError::Store(rtms_store::StoreError::Connect(format!("task failed: {e}")))
            })?
    }

    fn start_correction_tx(&self, actor: &Actor, id: i64, reason: &str) -> SResult<()> {
        let now = self.clock.now().naive_utc();
        self.db.write(|conn| {
            let c = self.visible(conn, actor, id)?;
            let members = repo::assigned_consultants(conn, id)?;
            let status = status_of(&c);
            let current = repo::current_conclusion(conn, id)?;
            super::rules::may_correct(&super::rules::Facts {
                status,
                roles: &[],
                me: actor.user.id,
                members: &members,
                current: current.as_ref(),
            })?;
            let current = current.ok_or(ServiceError::NotFound)?;
            let version = current.version + 1;
            let new_id = repo::insert_correction(
                conn,
                id,
                version,
                current.id,
                &ConclusionContent {
                    author_id: actor.user.id,
                    diagnosis_main: current.diagnosis_main.clone(),
                    diagnosis_text: current.diagnosis_text.clone(),
                    findings: current.findings.clone(),
                    recommendations: current.recommendations.clone(),
                    transfer: current.transfer.clone(),
                    follow_up_needed: current.follow_up_needed,
                    follow_up: current.follow_up.clone(),
                    patient_condition: current.patient_condition.clone(),
                    updated_at: now,
                },
            )?;
            repo::clear_signatures(conn, id)?;
            self.correction_event(
                conn,
                actor,
                id,
                status,
                "correct",
                reason,
                serde_json::json!({"conclusion_id": new_id, "version": version, "supersedes_id": current.id}),
                now,
            )?;
            self.audit_in(
                conn,
                actor,
                Some(Role::Consultant),
                "conclusion_correct",
                ("consultation", &id.to_string()),
                &format!("version {version} supersedes {}", current.id),
            )
        })
    }

    /// Signs the open correction. When the last member has signed, the
    /// requesting doctor is told.
    pub fn sign_correction(&self, actor: &Actor, id: i64) -> SResult<()> {
        let now = self.clock.now().naive_utc();
        let (told, issued) = self.db.write(|conn| {
            let c = self.visible(conn, actor, id)?;
            let members = repo::assigned_consultants(conn, id)?;
            let current = repo::current_conclusion(conn, id)?;
            super::rules::may_sign_correction(&super::rules::Facts {
                status: status_of(&c),
                roles: &[],
                me: actor.user.id,
                members: &members,
                current: current.as_ref(),
            })?;
            let current = current.ok_or(ServiceError::NotFound)?;
            if current.findings.is_empty() || current.recommendations.is_empty() {
                return Err(ServiceError::field("conclusion", "conclusion_missing"));
            }
            let hash = conclusion_hash(&current);
            if current.signed_at.is_none() {
                repo::seal_conclusion(conn, current.id, &hash, current.updated_at, now)?;
            }
            repo::mark_signed(conn, id, actor.user.id, now)?;
            let last = members
                .iter()
                .all(|m| m.user_id == actor.user.id || m.signed_at.is_some());
            self.correction_event(
                conn,
                actor,
                id,
                status_of(&c),
                "correct_sign",
                "",
                serde_json::json!({"conclusion_id": current.id, "version": current.version, "content_hash": hash}),
                now,
            )?;
            self.audit_in(
                conn,
                actor,
                Some(Role::Consultant),
                "conclusion_correct_sign",
                ("consultation", &id.to_string()),
                &format!("version {}", current.version),
            )?;
            let told = if last { vec![c.requester_id] } else { Vec::new() };
            let mut issued = None;
            if last {
                self.deliver(conn, &told, id, "conclusion_corrected")?;
                // The last signature fixes what the new document prints,
                // and its СЭМД.
                issued = self.snapshot_document(conn, id)?;
                if issued.is_some() {
                    self.store_semd(conn, id)?;
                }
            }
            Ok::<_, ServiceError>((told, issued))
        })?;
        if let Some(conclusion_id) = issued {
            self.issue_document_soon(id, conclusion_id);
        }
        if !told.is_empty() {
            self.live.publish(LiveEvent {
                consultation_id: id,
                users: told,
                kind: "conclusion_corrected".into(),
                queue_changed: false,
            });
        }
        Ok(())
    }

    /// True while a correction of the signed conclusion is open (being edited
    /// or waiting for signatures).
    pub fn correction_open(&self, id: i64) -> SResult<bool> {
        let mut conn = self.db.conn()?;
        Ok(repo::current_conclusion(&mut conn, id)?
            .is_some_and(|k| k.supersedes_id.is_some() && !self.all_signed(&mut conn, id)))
    }

    fn all_signed(&self, conn: &mut rtms_store::DbConn, id: i64) -> bool {
        repo::assigned_consultants(conn, id)
            .map(|m| !m.is_empty() && m.iter().all(|a| a.signed_at.is_some()))
            .unwrap_or(false)
    }

    #[allow(clippy::too_many_arguments)]
    fn correction_event(
        &self,
        conn: &mut rtms_store::DbConn,
        actor: &Actor,
        id: i64,
        status: Status,
        action: &str,
        comment: &str,
        details: serde_json::Value,
        now: chrono::NaiveDateTime,
    ) -> SResult<()> {
        repo::append_event(
            conn,
            &NewEvent {
                consultation_id: id,
                at: now,
                actor_user_id: Some(actor.user.id),
                actor_org_id: actor.org_for(Role::Consultant).map(|o| o.id),
                actor_role: Some(Role::Consultant.as_str().into()),
                action: action.into(),
                from_status: Some(status.as_str().into()),
                to_status: status.as_str().into(),
                comment: comment.into(),
                reason_code: None,
                details: details.to_string(),
            },
        )?;
        self.announce(
            conn,
            super::Change {
                consultation: id,
                action: None,
                at: now,
            },
        )?;
        Ok(())
    }
}
