//! The emergency call chain: an emergency request is assigned at submission
//! to the consultant on duty for its profile (`directory::duty`), who must
//! acknowledge it within the region's time (setting `duty.ack_minutes`,
//! default 10). Otherwise it passes to the shift's next backup who is not
//! absent, and after the last one to the dispatchers of the КТЦ with an
//! alarm. Each call is a `duty_calls` row; each pass is in the request's
//! history and the audit trail; each person is notified once, in-app (the
//! page plays a sound and shows a browser notification), by e-mail when
//! they chose it, and by the region's webhook (`DutyWebhook`) when one is set.
//!
//! Acknowledging is one click (`Services::duty_ack`); any lifecycle action
//! the called consultant takes on the request acknowledges too.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use hmac::{Hmac, Mac};
use rtms_domain::Status;
use rtms_store::duty::{self, Call};
use rtms_store::models::NewEvent;
use rtms_store::{repo, DbConn, StoreError};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use utoipa::ToSchema;

use super::notifications::dispatchers;
use crate::directory::duty::{
    ack_minutes, chain_at, chain_of, check_webhook_url, WEBHOOK_SECRET_SETTING,
    WEBHOOK_TEMPLATE_SETTING, WEBHOOK_URL_SETTING,
};
use crate::platform::jobs::{self, Job, JobRow};
use crate::platform::live::LiveEvent;
use crate::{Actor, ServiceError, Services};

type SResult<T> = Result<T, ServiceError>;

/// The webhook's answer must come within this time.
const WEBHOOK_TIMEOUT_SECONDS: u64 = 10;

/// Who the chain reached for a request, for its page and the API.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DutyCallView {
    pub step: i32,
    /// Empty for the dispatchers' alarm.
    pub user_id: Option<i64>,
    pub name: Option<String>,
    pub called_at: DateTime<Utc>,
    /// When the call passes on unless acknowledged.
    pub due_at: DateTime<Utc>,
    pub acked_at: Option<DateTime<Utc>>,
    pub passed_at: Option<DateTime<Utc>>,
}

/// The chain of one request as its page shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DutyState {
    pub calls: Vec<DutyCallView>,
    /// The caller is the one called now (or a dispatcher, after the alarm)
    /// and may acknowledge.
    pub may_ack: bool,
    /// The open call, if any.
    pub open: Option<DutyCallView>,
}

/// One message to the region's webhook: ids only, never a patient.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DutyWebhook {
    /// `duty_call` (a consultant is called) or `duty_alarm` (the dispatchers).
    pub event: String,
    pub consultation_id: i64,
    pub user_id: Option<i64>,
    pub step: i32,
}

impl Job for DutyWebhook {
    const KIND: &'static str = "duty_webhook";

    fn run(self, svc: &Services, _row: &JobRow) -> Result<(), String> {
        let (url, template, secret) = svc
            .db
            .read(|c| {
                Ok::<_, StoreError>((
                    repo::setting(c, WEBHOOK_URL_SETTING)?.unwrap_or_default(),
                    repo::setting(c, WEBHOOK_TEMPLATE_SETTING)?.unwrap_or_default(),
                    repo::setting(c, WEBHOOK_SECRET_SETTING)?.unwrap_or_default(),
                ))
            })
            .map_err(|e| e.to_string())?;
        if url.trim().is_empty() {
            return Ok(());
        }
        check_webhook_url(&url).map_err(|code| format!("webhook URL refused: {code}"))?;
        let link = match &svc.public_url {
            Some(base) => format!(
                "{}/requests/{}",
                base.trim_end_matches('/'),
                self.consultation_id
            ),
            None => format!("/requests/{}", self.consultation_id),
        };
        let text = template
            .replace("{id}", &self.consultation_id.to_string())
            .replace("{step}", &self.step.to_string())
            .replace("{link}", &link);
        let body = serde_json::json!({
            "event": self.event,
            "consultation_id": self.consultation_id,
            "user_id": self.user_id,
            "step": self.step,
            "text": text,
            "link": link,
        })
        .to_string();
        let signature = sign(&secret, &body);
        crate::platform::outbound::block_on(async move {
            let client = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(std::time::Duration::from_secs(WEBHOOK_TIMEOUT_SECONDS))
                .build()
                .map_err(|e| e.to_string())?;
            let answer = client
                .post(url.trim())
                .header("Content-Type", "application/json")
                .header("X-RTMS-Signature", format!("sha256={signature}"))
                .body(body)
                .send()
                .await
                .map_err(|e| format!("webhook: {}", e.without_url()))?;
            if answer.status().is_success() {
                Ok(())
            } else {
                Err(format!("webhook answered {}", answer.status().as_u16()))
            }
        })
    }
}

/// HMAC-SHA256 of `body` under `secret`, in hex (what `X-RTMS-Signature` carries).
pub fn sign(secret: &str, body: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(body.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The call of a request that waits for an acknowledgement, if any.
fn open_call(calls: Vec<Call>) -> Option<Call> {
    calls
        .into_iter()
        .find(|k| k.acked_at.is_none() && k.passed_at.is_none())
}

/// Whether `actor` is the one a call waits for: its consultant, or any
/// dispatcher for the alarm.
fn answers(call: &Call, actor: &Actor) -> bool {
    match call.user_id {
        Some(u) => u == actor.user.id,
        None => actor.is_dispatcher(),
    }
}

fn view(c: &Call, names: &[rtms_store::models::User]) -> DutyCallView {
    DutyCallView {
        step: c.step,
        user_id: c.user_id,
        name: c
            .user_id
            .and_then(|u| names.iter().find(|n| n.id == u))
            .map(|u| u.short_name()),
        called_at: c.called_at.and_utc(),
        due_at: c.due_at.and_utc(),
        acked_at: c.acked_at.map(|t| t.and_utc()),
        passed_at: c.passed_at.map(|t| t.and_utc()),
    }
}

/// Who an emergency goes to at submission: the on-duty consultant of the
/// profile in the route's centre (or in any centre when the route names
/// none), skipping absent people. (centre, shift, position in the chain, user)
pub(crate) fn on_duty_for(
    conn: &mut DbConn,
    tkc: Option<i64>,
    profile: &str,
    at: NaiveDateTime,
) -> SResult<Option<(i64, i64, usize, i64)>> {
    let chain = match chain_at(conn, tkc, profile, at)? {
        Some(c) => Some(c),
        None if tkc.is_some() => None,
        None => chain_at(conn, None, profile, at)?,
    };
    Ok(chain.and_then(|ch| {
        ch.first_present(0)
            .map(|(i, u)| (ch.shift.tkc_id, ch.shift.id, i, u))
    }))
}

impl Services {
    /// Calls a consultant (or the dispatchers, when `user` is none) for a
    /// request, in the caller's transaction: the call row, the notification
    /// (unless the caller sends its own: `notify`) and the webhook's message.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn duty_call(
        &self,
        conn: &mut DbConn,
        consultation: i64,
        shift: Option<i64>,
        step: i32,
        user: Option<i64>,
        now: NaiveDateTime,
        notify: bool,
    ) -> SResult<Vec<i64>> {
        let due = now + Duration::minutes(ack_minutes(conn)?);
        duty::insert_call(conn, consultation, shift, step, user, now, due)?;
        let (told, kind) = match user {
            Some(u) => (vec![u], "duty_call"),
            None => (dispatchers(conn)?, "duty_alarm"),
        };
        if notify {
            self.deliver(conn, &told, consultation, kind)?;
        }
        let message = DutyWebhook {
            event: kind.to_string(),
            consultation_id: consultation,
            user_id: user,
            step,
        };
        if repo::setting(conn, WEBHOOK_URL_SETTING)?.is_some_and(|u| !u.trim().is_empty()) {
            jobs::enqueue(conn, &message, now, now)?;
        }
        Ok(told)
    }

    /// Acknowledges the open call of a request: its consultant, or after the
    /// alarm a dispatcher. One click; recorded in the history and the audit trail.
    pub fn duty_ack(&self, actor: &Actor, id: i64) -> SResult<()> {
        let now = self.clock.now();
        self.db.write(|conn| {
            let c = self.visible(conn, actor, id)?;
            let open = open_call(duty::calls_of(conn, id)?)
                .ok_or(ServiceError::refused("duty_nothing_to_ack"))?;
            if !answers(&open, actor) {
                return Err(ServiceError::Forbidden);
            }
            duty::ack_calls(conn, id, actor.user.id, now.naive_utc())?;
            let minutes = (now.naive_utc() - open.called_at).num_seconds();
            system_event(
                conn,
                &c,
                "duty_ack",
                Some(actor),
                serde_json::json!({"step": open.step, "seconds": minutes}),
                now.naive_utc(),
            )?;
            self.audit_in(
                conn,
                actor,
                None,
                "duty_ack",
                ("consultation", &id.to_string()),
                &format!("step {}", open.step),
            )?;
            Ok(())
        })?;
        // Open queues refresh; nobody is notified of an acknowledgement.
        self.live.publish(LiveEvent {
            consultation_id: id,
            users: Vec::new(),
            kind: String::new(),
            queue_changed: true,
        });
        Ok(())
    }

    /// Acknowledges a request's open call when its called consultant acts
    /// on it (accepts, declines, starts), in that action's transaction.
    pub(crate) fn duty_ack_by_action(
        &self,
        conn: &mut DbConn,
        actor: &Actor,
        id: i64,
        now: NaiveDateTime,
    ) -> SResult<()> {
        if open_call(duty::calls_of(conn, id)?).is_some_and(|open| answers(&open, actor)) {
            duty::ack_calls(conn, id, actor.user.id, now)?;
        }
        Ok(())
    }

    /// The chain of a request for its page (the caller must see the request).
    pub fn duty_state(
        &self,
        conn: &mut DbConn,
        actor: &Actor,
        id: i64,
    ) -> SResult<Option<DutyState>> {
        let calls = duty::calls_of(conn, id)?;
        if calls.is_empty() {
            return Ok(None);
        }
        let ids: Vec<i64> = calls.iter().filter_map(|c| c.user_id).collect();
        let names = repo::users_by_ids(conn, &ids)?;
        let views: Vec<DutyCallView> = calls.iter().map(|c| view(c, &names)).collect();
        let open = open_call(calls);
        Ok(Some(DutyState {
            calls: views,
            may_ack: open.as_ref().is_some_and(|o| answers(o, actor)),
            open: open.map(|c| view(&c, &names)),
        }))
    }

    /// One pass over the calls whose time ran out: each passes to the next
    /// backup present, or to the dispatchers after the last. Each call passes
    /// once, whichever instance comes first. Returns how many passed.
    pub fn run_duty_calls(&self) -> SResult<usize> {
        let now = self.clock.now().naive_utc();
        let due = self.db.read(|c| duty::overdue_calls(c, now, 100))?;
        let mut passed = 0;
        for call in due {
            let told = self.db.write(|conn| self.pass_call(conn, &call, now))?;
            if let Some((users, kind)) = told {
                passed += 1;
                self.live.publish(LiveEvent {
                    consultation_id: call.consultation_id,
                    users,
                    kind: kind.into(),
                    queue_changed: true,
                });
            }
        }
        Ok(passed)
    }

    /// Passes one overdue call on; the users told, or none when it had
    /// been answered or passed meanwhile, or the request moved on.
    fn pass_call(
        &self,
        conn: &mut DbConn,
        call: &Call,
        now: NaiveDateTime,
    ) -> SResult<Option<(Vec<i64>, &'static str)>> {
        if !duty::pass_call(conn, call.id, now)? {
            return Ok(None);
        }
        let c = repo::consultation(conn, call.consultation_id)?;
        if Status::parse(&c.status) != Some(Status::Assigned) {
            // Somebody took it on (or it was cancelled): the chain ends here.
            return Ok(None);
        }
        let chain = match call.shift_id {
            Some(s) => {
                let shift = duty::shift(conn, s)?;
                Some(chain_of(conn, shift, now)?)
            }
            None => None,
        };
        let next = chain
            .as_ref()
            .and_then(|ch| ch.first_present(call.step as usize + 1));
        let told = match next {
            Some((i, user)) => {
                repo::set_consultants(conn, c.id, &[user], now)?;
                system_event(
                    conn,
                    &c,
                    "duty_pass",
                    None,
                    serde_json::json!({"step": i, "consultant_ids": [user], "from": call.user_id}),
                    now,
                )?;
                (
                    self.duty_call(conn, c.id, call.shift_id, i as i32, Some(user), now, true)?,
                    "duty_call",
                )
            }
            None => {
                system_event(
                    conn,
                    &c,
                    "duty_alarm",
                    None,
                    serde_json::json!({"step": call.step + 1, "from": call.user_id}),
                    now,
                )?;
                (
                    self.duty_call(conn, c.id, call.shift_id, call.step + 1, None, now, true)?,
                    "duty_alarm",
                )
            }
        };
        self.audit_system(
            conn,
            if next.is_some() {
                "duty_pass"
            } else {
                "duty_alarm"
            },
            ("consultation", &c.id.to_string()),
            &format!("step {} unanswered", call.step),
        )?;
        Ok(Some(told))
    }
}

/// A step of the chain in the request's history (its status unchanged).
fn system_event(
    conn: &mut DbConn,
    c: &rtms_store::models::Consultation,
    action: &str,
    actor: Option<&Actor>,
    details: serde_json::Value,
    now: NaiveDateTime,
) -> SResult<()> {
    repo::append_event(
        conn,
        &NewEvent {
            consultation_id: c.id,
            at: now,
            actor_user_id: actor.map(|a| a.user.id),
            actor_org_id: None,
            actor_role: None,
            action: action.into(),
            from_status: Some(c.status.clone()),
            to_status: c.status.clone(),
            comment: String::new(),
            reason_code: None,
            details: details.to_string(),
        },
    )?;
    Ok(())
}

impl Services {
    /// The call chain of a request the caller sees; none when nobody was called.
    pub fn duty_of(&self, actor: &Actor, id: i64) -> SResult<Option<DutyState>> {
        let mut conn = self.db.conn()?;
        self.visible(&mut conn, actor, id)?;
        self.duty_state(&mut conn, actor, id)
    }
}
