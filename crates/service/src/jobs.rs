//! Background work from the job queue: e-mail now. Workers on any number of
//! instances claim jobs one at a time; a failure is retried with a growing delay.

use std::sync::Arc;

use chrono::Duration;
use lettre::message::header::ContentType;
use lettre::{Message, SmtpTransport, Transport};
use rtms_domain::Lang;
use rtms_store::models::Job;
use rtms_store::{jobs, repo, DbConn};
use serde::{Deserialize, Serialize};

use crate::notifications::kind_label;
use crate::{ServiceError, Services};

/// Where e-mail goes out (a plain SMTP relay inside the hospital network).
#[derive(Debug, Clone)]
pub struct MailConfig {
    pub smtp_host: String,
    pub smtp_port: u16,
    pub from: String,
    /// The address people open the system at, for links in e-mails.
    pub public_url: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Email {
    to: String,
    subject: String,
    body: String,
}

/// How long a worker holds a claimed job before another may take it.
const LEASE_MINUTES: i64 = 5;

fn backoff(attempts: i32) -> Duration {
    Duration::minutes((1i64 << attempts.clamp(0, 9)).min(360))
}

impl Services {
    pub fn with_mail(mut self, mail: MailConfig) -> Self {
        self.mail = Some(Arc::new(mail));
        self
    }

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
            if user.email.is_empty() || user.email_mode != "instant" {
                continue;
            }
            let lang = if user.locale == "en" {
                Lang::En
            } else {
                Lang::Ru
            };
            let what = kind_label(kind, lang);
            let (subject, body) = match lang {
                Lang::Ru => (
                    format!("РТМС: {what} · запрос № {consultation_id}"),
                    format!("{what}: запрос № {consultation_id}.\n\nОткрыть: {}/requests/{consultation_id}\n\n— РТМС, региональная телемедицинская система", mail.public_url),
                ),
                Lang::En => (
                    format!("RTMS: {what} · request № {consultation_id}"),
                    format!("{what}: request № {consultation_id}.\n\nOpen: {}/requests/{consultation_id}\n\n— RTMS, regional telemedicine system", mail.public_url),
                ),
            };
            let payload = serde_json::to_string(&Email {
                to: user.email.clone(),
                subject,
                body,
            })
            .unwrap_or_default();
            jobs::enqueue(conn, "email", &payload, now, now)?;
        }
        Ok(())
    }

    fn send_email(&self, payload: &str) -> Result<(), String> {
        let mail = self.mail.as_ref().ok_or("no SMTP relay configured")?;
        let e: Email = serde_json::from_str(payload).map_err(|e| e.to_string())?;
        let message = Message::builder()
            .from(mail.from.parse().map_err(|e| format!("from: {e}"))?)
            .to(e.to.parse().map_err(|e| format!("to: {e}"))?)
            .subject(e.subject)
            .header(ContentType::TEXT_PLAIN)
            .body(e.body)
            .map_err(|e| e.to_string())?;
        let relay = SmtpTransport::builder_dangerous(&mail.smtp_host)
            .port(mail.smtp_port)
            .timeout(Some(std::time::Duration::from_secs(15)))
            .build();
        relay.send(&message).map(|_| ()).map_err(|e| e.to_string())
    }

    fn execute(&self, job: &Job) -> Result<(), String> {
        match job.kind.as_str() {
            "email" => self.send_email(&job.payload),
            other => Err(format!("unknown job kind {other}")),
        }
    }

    /// Runs due jobs until none is left (or `max` ran); returns how many ran.
    pub fn run_jobs(&self, worker: &str, max: usize) -> Result<usize, ServiceError> {
        let mut ran = 0;
        while ran < max {
            let now = self.clock.now().naive_utc();
            let Some(job) = self
                .db
                .write(|c| jobs::claim(c, worker, now, Duration::minutes(LEASE_MINUTES)))?
            else {
                break;
            };
            let outcome = self.execute(&job);
            let now = self.clock.now().naive_utc();
            match outcome {
                Ok(()) => self.db.write(|c| jobs::complete(c, job.id, now))?,
                Err(error) => {
                    tracing::warn!(job = job.id, kind = %job.kind, attempt = job.attempts, %error, "job failed");
                    self.db
                        .write(|c| jobs::fail(c, &job, &error, now + backoff(job.attempts), now))?
                }
            }
            ran += 1;
        }
        Ok(ran)
    }
}
