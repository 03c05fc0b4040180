//! E-mail out: the SMTP relay's configuration, the job that sends one
//! letter, and which notification kinds may go by e-mail and how a letter
//! names them. What to write and to whom is decided by the notifications
//! (`lifecycle::notifications`); this module only carries it.

use lettre::message::header::ContentType;
use lettre::{Message, SmtpTransport, Transport};
use rtms_domain::Lang;
use serde::{Deserialize, Serialize};

use crate::platform::jobs::{Job, JobRow};
use crate::Services;

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

/// One letter, queued in the transaction of what it announces and sent by
/// the job worker with retries.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SendEmail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

impl Job for SendEmail {
    const KIND: &'static str = "email";

    fn run(self, svc: &Services, _row: &JobRow) -> Result<(), String> {
        let mail = svc.mail.as_ref().ok_or("no SMTP relay configured")?;
        let message = Message::builder()
            .from(mail.from.parse().map_err(|e| format!("from: {e}"))?)
            .to(self.to.parse().map_err(|e| format!("to: {e}"))?)
            .subject(self.subject)
            .header(ContentType::TEXT_PLAIN)
            .body(self.body)
            .map_err(|e| e.to_string())?;
        let relay = mail.transport()?;
        relay.send(&message).map(|_| ()).map_err(|e| e.to_string())
    }
}

impl Services {
    pub fn with_mail(mut self, mail: MailConfig) -> Self {
        self.mail = Some(std::sync::Arc::new(mail));
        self
    }
}

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
    "duty_call",
    "duty_alarm",
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
