//! The deadline monitor: when 75 % of a request's time has passed, and when it
//! is overdue, the dispatchers, the responsible centre's coordinators and the
//! assigned consultants are told (in-app and live). Each alert goes out once
//! per deadline, whichever instance runs the monitor first. A configurable time
//! after the deadline, an overdue request is escalated to the heads of the КТЦ
//! (regional coordination centre), once as well.

use chrono::DateTime;
use rtms_domain::{DeadlineClock, Role, Status};
use rtms_store::models::Consultation;
use rtms_store::repo;

use crate::platform::live::LiveEvent;
use crate::{ServiceError, Services};

/// The share of the time after which "the deadline is near".
pub const NEAR_FRACTION: f64 = 0.75;

fn clock_of(c: &Consultation) -> Option<DeadlineClock> {
    c.submitted_at.map(|s| DeadlineClock {
        started_at: DateTime::from_naive_utc_and_offset(s, chrono::Utc),
        budget_seconds: c.budget_seconds,
        paused_seconds: c.paused_seconds,
        paused_at: None,
    })
}

impl Services {
    /// One pass over the running deadlines; returns how many alerts went out.
    /// Overdue requests also go to the heads of the КТЦ once the region's
    /// escalation delay (admin settings) has passed since the deadline.
    pub fn run_deadline_monitor(&self) -> Result<usize, ServiceError> {
        let now = self.clock.now();
        let running = self.db.read(repo::running_deadlines)?;
        let escalate_after = self
            .db
            .read(crate::directory::admin::escalate_head_minutes)?;
        let mut sent = 0;
        for c in running {
            let (Some(clock), Some(deadline)) = (clock_of(&c), c.deadline_at) else {
                continue;
            };
            let mut kinds = Vec::new();
            if clock.is_overdue(now) {
                kinds.push("deadline_over");
                // How long it has been overdue, by the request's own clock (pauses excluded).
                let overdue_for = -clock.remaining(now);
                if escalate_after.is_some_and(|m| overdue_for >= chrono::Duration::minutes(m)) {
                    kinds.push("deadline_escalated");
                }
            } else if clock.fraction_used(now) >= NEAR_FRACTION {
                kinds.push("deadline_near");
            }
            for kind in kinds {
                if self.alert(&c, kind, deadline, now.naive_utc())? {
                    sent += 1;
                }
            }
        }
        Ok(sent)
    }

    /// Sends one deadline alert unless it was already sent; true when sent.
    fn alert(
        &self,
        c: &Consultation,
        kind: &str,
        deadline: chrono::NaiveDateTime,
        now: chrono::NaiveDateTime,
    ) -> Result<bool, ServiceError> {
        // The claim stands alone, so a lost race cannot take anything else with it.
        if !self
            .db
            .write(|conn| repo::claim_deadline_alert(conn, c.id, kind, deadline, now))?
        {
            return Ok(false);
        }
        let users = self.db.write(|conn| {
            let mut users = if kind == "deadline_escalated" {
                repo::users_with_role(conn, Role::Head.as_str(), None, Some("ktc"))?
            } else {
                let mut users =
                    repo::users_with_role(conn, Role::Dispatcher.as_str(), None, Some("ktc"))?;
                if let Some(tkc) = c.assigned_tkc_id {
                    users.extend(repo::users_with_role(
                        conn,
                        Role::Coordinator.as_str(),
                        Some(tkc),
                        None,
                    )?);
                }
                users.extend(
                    repo::assigned_consultants(conn, c.id)?
                        .into_iter()
                        .map(|a| a.user_id),
                );
                users
            };
            users.sort_unstable();
            users.dedup();
            self.deliver(conn, &users, c.id, kind)?;
            Ok::<_, ServiceError>(users)
        })?;
        tracing::info!(consultation = c.id, kind, status = %Status::parse(&c.status).map(|s| s.as_str()).unwrap_or(""), "deadline alert");
        self.live.publish(LiveEvent {
            consultation_id: c.id,
            users,
            kind: kind.to_string(),
            queue_changed: true,
        });
        Ok(true)
    }
}
