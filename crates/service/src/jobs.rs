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

use crate::notifications::{kind_label, wants_kind};
use crate::{ServiceError, Services};
use rtms_i18n::{tr, tr_args};

/// How the connection to the relay is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SmtpTls {
    /// Plain SMTP (only for a relay on the same host or a closed network).
    None,
    /// Plain connection upgraded with STARTTLS, which is required: a relay
    /// that does not offer it is not sent to (port 587).
    #[default]
    StartTls,
    /// TLS from the first byte ("implicit TLS", port 465).
    Tls,
}

impl SmtpTls {
    pub fn parse(s: &str) -> Option<SmtpTls> {
        match s {
            "none" => Some(SmtpTls::None),
            "starttls" => Some(SmtpTls::StartTls),
            "tls" => Some(SmtpTls::Tls),
            _ => None,
        }
    }
}

/// Where e-mail goes out: an SMTP relay, over TLS with a login unless
/// configured otherwise.
#[derive(Clone, Default)]
pub struct MailConfig {
    pub smtp_host: String,
    pub smtp_port: u16,
    pub from: String,
    /// The address people open the system at, for links in e-mails.
    pub public_url: String,
    pub tls: SmtpTls,
    /// SMTP AUTH (PLAIN or LOGIN, only over TLS): user and password.
    pub user: Option<String>,
    pub password: Option<String>,
    /// Extra CA certificates (PEM) the relay's certificate may chain up to,
    /// beside the system's (`--smtp-ca-file`).
    pub ca_pem: Option<Vec<u8>>,
}

impl std::fmt::Debug for MailConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailConfig")
            .field("smtp_host", &self.smtp_host)
            .field("smtp_port", &self.smtp_port)
            .field("from", &self.from)
            .field("tls", &self.tls)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .finish_non_exhaustive()
    }
}

/// How long one SMTP conversation may take before the job is retried.
pub const SMTP_TIMEOUT_SECONDS: u64 = 15;

impl MailConfig {
    /// The SMTP transport this configuration describes.
    pub fn transport(&self) -> Result<SmtpTransport, String> {
        use lettre::transport::smtp::authentication::Credentials;
        use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
        let tls = || -> Result<TlsParameters, String> {
            let mut b = TlsParameters::builder(self.smtp_host.clone());
            if let Some(pem) = &self.ca_pem {
                b = b.add_root_certificate(
                    Certificate::from_pem(pem).map_err(|e| format!("the SMTP CA file: {e}"))?,
                );
            }
            b.build_rustls().map_err(|e| format!("TLS: {e}"))
        };
        let mut builder = SmtpTransport::builder_dangerous(&self.smtp_host)
            .port(self.smtp_port)
            .timeout(Some(std::time::Duration::from_secs(SMTP_TIMEOUT_SECONDS)));
        builder = match self.tls {
            SmtpTls::None => builder.tls(Tls::None),
            SmtpTls::StartTls => builder.tls(Tls::Required(tls()?)),
            SmtpTls::Tls => builder.tls(Tls::Wrapper(tls()?)),
        };
        if let Some(user) = &self.user {
            if self.tls == SmtpTls::None {
                return Err("SMTP AUTH is not sent without TLS".into());
            }
            builder = builder.credentials(Credentials::new(
                user.clone(),
                self.password.clone().unwrap_or_default(),
            ));
        }
        Ok(builder.build())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Email {
    to: String,
    subject: String,
    body: String,
}

/// Digests cover a calendar day in Moscow time (UTC+3).
const DIGEST_OFFSET_MINUTES: i64 = 180;

/// How long a worker holds a claimed job before another may take it.
pub(crate) const LEASE_MINUTES: i64 = 5;

/// The federal outbox's job kinds.
const OUTBOX_KINDS: &[&str] = &[crate::federal::SEND_JOB, crate::federal::POLL_JOB];

pub(crate) fn backoff(attempts: i32) -> Duration {
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
            let payload = serde_json::to_string(&Email {
                to: user.email.clone(),
                subject,
                body,
            })
            .unwrap_or_default();
            let claimed = self.db.write(|c| {
                if !repo::claim_digest(c, user.id, &day_key, now)? {
                    return Ok::<_, ServiceError>(false);
                }
                jobs::enqueue(c, "email", &payload, now, now)?;
                Ok(true)
            })?;
            if claimed {
                queued += 1;
            }
        }
        Ok(queued)
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
        let relay = mail.transport()?;
        relay.send(&message).map(|_| ()).map_err(|e| e.to_string())
    }

    fn execute(&self, job: &Job) -> Result<(), String> {
        match job.kind.as_str() {
            "email" => self.send_email(&job.payload),
            crate::federal::SEND_JOB => self.federal_send(job),
            crate::federal::POLL_JOB => self.federal_poll(job),
            other => Err(format!("unknown job kind {other}")),
        }
    }

    /// How long after a failed attempt the job runs again.
    pub(crate) fn retry_delay(&self, job: &Job) -> Duration {
        match (job.kind.as_str(), &self.federal) {
            (crate::federal::SEND_JOB | crate::federal::POLL_JOB, Some(f)) => {
                f.retry_delay(job.attempts)
            }
            _ => backoff(job.attempts),
        }
    }

    /// Runs due jobs until none is left (or `max` ran); returns how many ran.
    pub fn run_jobs(&self, worker: &str, max: usize) -> Result<usize, ServiceError> {
        self.run_jobs_of(worker, max, jobs::Kinds::All)
    }

    /// Runs due jobs of the federal outbox only: `rtms serve` gives it a
    /// worker of its own, so a transfer of gigabytes holds up no e-mail.
    pub fn run_outbox(&self, worker: &str, max: usize) -> Result<usize, ServiceError> {
        self.run_jobs_of(worker, max, jobs::Kinds::Only(OUTBOX_KINDS))
    }

    /// Runs due jobs other than the federal outbox's.
    pub fn run_other_jobs(&self, worker: &str, max: usize) -> Result<usize, ServiceError> {
        self.run_jobs_of(worker, max, jobs::Kinds::Except(OUTBOX_KINDS))
    }

    fn run_jobs_of(
        &self,
        worker: &str,
        max: usize,
        kinds: jobs::Kinds,
    ) -> Result<usize, ServiceError> {
        let mut ran = 0;
        while ran < max {
            let now = self.clock.now().naive_utc();
            let Some(job) = self.db.write(|c| {
                jobs::claim_of(c, worker, now, Duration::minutes(LEASE_MINUTES), kinds)
            })?
            else {
                break;
            };
            let outcome = self.execute(&job);
            let now = self.clock.now().naive_utc();
            match outcome {
                Ok(()) => self.db.write(|c| jobs::complete(c, job.id, now))?,
                Err(error) => {
                    tracing::warn!(job = job.id, kind = %job.kind, attempt = job.attempts, %error, "job failed");
                    let retry_at = now + self.retry_delay(&job);
                    self.db.write(|c| -> Result<(), ServiceError> {
                        jobs::fail(c, &job, &error, retry_at, now)?;
                        // The request's page says when the outbox tries again: this time.
                        if let Some(id) = crate::federal::job_consultation(&job) {
                            rtms_store::fhir::escalation_next_attempt(c, id, retry_at)?;
                        }
                        Ok(())
                    })?
                }
            }
            ran += 1;
        }
        Ok(ran)
    }
}
