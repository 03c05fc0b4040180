//! Configuration: flags, then `RTMS_*` environment variables, then an optional
//! TOML file (`--config`, or `rtms.toml` in the working directory), then defaults.

use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::Args;
use fs4::fs_std::FileExt;
use serde::Deserialize;

#[derive(Args, Debug, Default)]
pub struct ConfigArgs {
    /// TOML configuration file.
    #[arg(long, global = true, env = "RTMS_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, global = true, env = "RTMS_LISTEN")]
    pub listen: Option<String>,
    /// Directory for the SQLite database and uploaded files [default: ./rtms-data].
    #[arg(long, global = true, env = "RTMS_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// `postgres://…` for PostgreSQL; SQLite in the data directory by default.
    #[arg(long, global = true, env = "RTMS_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Log as JSON lines.
    #[arg(long, global = true, env = "RTMS_LOG_JSON")]
    pub log_json: bool,
    /// HTTPS: the certificate chain (PEM). Needs --tls-key too.
    #[arg(long, global = true, env = "RTMS_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,
    /// HTTPS: the private key (PEM).
    #[arg(long, global = true, env = "RTMS_TLS_KEY")]
    pub tls_key: Option<PathBuf>,
    /// SMTP relay for e-mail notifications (none: no e-mail).
    #[arg(long, global = true, env = "RTMS_SMTP_HOST")]
    pub smtp_host: Option<String>,
    #[arg(long, global = true, env = "RTMS_SMTP_PORT")]
    pub smtp_port: Option<u16>,
    /// How the relay connection is protected: `starttls` (default; port 587),
    /// `tls` (implicit TLS, port 465) or `none` (plain; port 25, a relay on
    /// a closed network only).
    #[arg(long, global = true, env = "RTMS_SMTP_TLS")]
    pub smtp_tls: Option<String>,
    /// SMTP AUTH user (sent only over TLS).
    #[arg(long, global = true, env = "RTMS_SMTP_USER")]
    pub smtp_user: Option<String>,
    /// SMTP AUTH password; prefer the environment variable to the flag.
    #[arg(
        long,
        global = true,
        env = "RTMS_SMTP_PASSWORD",
        hide_env_values = true
    )]
    pub smtp_password: Option<String>,
    /// A PEM file of CA certificates the relay's certificate may chain up
    /// to (beside the system's trusted CAs).
    #[arg(long, global = true, env = "RTMS_SMTP_CA_FILE")]
    pub smtp_ca_file: Option<PathBuf>,
    /// Sender address of e-mails.
    #[arg(long, global = true, env = "RTMS_MAIL_FROM")]
    pub mail_from: Option<String>,
    /// The address users open the system at, for links in e-mails and the
    /// verification address printed on documents.
    #[arg(long, global = true, env = "RTMS_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Where attachments are kept: `s3://bucket` (with the standard AWS_*
    /// variables) or `file:///dir` [default: <data-dir>/files].
    #[arg(long, global = true, env = "RTMS_STORAGE_URL")]
    pub storage_url: Option<String>,
    /// The largest attachment accepted, in megabytes [default: 4096].
    #[arg(long, global = true, env = "RTMS_MAX_UPLOAD_MB")]
    pub max_upload_mb: Option<u64>,
    /// `host:port` of a clamd that scans every upload (none: not scanned).
    #[arg(long, global = true, env = "RTMS_CLAMD")]
    pub clamd: Option<String>,
    /// TURN/STUN URLs handed to the video rooms' browsers, comma-separated
    /// (`turn:host:3478?transport=udp,turns:host:5349?transport=tcp`).
    #[arg(long, global = true, env = "RTMS_TURN_URL", value_delimiter = ',')]
    pub turn_url: Vec<String>,
    /// coturn's `static-auth-secret`: the server mints time-limited TURN credentials with it.
    #[arg(long, global = true, env = "RTMS_TURN_SECRET")]
    pub turn_secret: Option<String>,
    /// The federal level's address (its FHIR interface is `/fhir/r4` under it):
    /// escalated requests are sent there and their answers fetched back.
    #[arg(long, global = true, env = "RTMS_FEDERAL_URL")]
    pub federal_url: Option<String>,
    /// The region's API token at the federal level (scope `fhir`).
    #[arg(long, global = true, env = "RTMS_FEDERAL_TOKEN")]
    pub federal_token: Option<String>,
    /// The longest wait between two attempts to reach the federal level, in
    /// minutes (the wait doubles from 1 up to it; attempts never stop while
    /// the request stays escalated) [default: 15].
    #[arg(long, global = true, env = "RTMS_FEDERAL_RETRY_CAP_MINUTES")]
    pub federal_retry_cap_minutes: Option<i64>,
    /// After how many minutes undelivered an escalation raises the
    /// coordinator's alarm (dashboard, `/metrics`) [default: 60].
    #[arg(long, global = true, env = "RTMS_FEDERAL_ALARM_MINUTES")]
    pub federal_alarm_minutes: Option<i64>,
    /// `regional` (default) or `federal`: the federal level escalates nowhere.
    #[arg(long, global = true, env = "RTMS_LEVEL")]
    pub level: Option<String>,
    /// Origins FHIR Subscriptions may send notifications to, comma-separated
    /// (`https://mis.example:443,https://lis.example`); none: no subscriptions.
    #[arg(
        long,
        global = true,
        env = "RTMS_FHIR_SUBSCRIPTION_ORIGINS",
        value_delimiter = ','
    )]
    pub fhir_subscription_origins: Vec<String>,
    /// Let FHIR Subscriptions call allowed origins inside the network
    /// (loopback, private, link-local, CGNAT addresses). Off by default.
    #[arg(long, global = true, env = "RTMS_FHIR_SUBSCRIPTION_ALLOW_PRIVATE")]
    pub fhir_subscription_allow_private: bool,
    /// The audit chain's HMAC key (hex), kept outside the database; created
    /// (mode 0600) at first start if absent [default: <data-dir>/audit.key].
    #[arg(long, global = true, env = "RTMS_AUDIT_KEY_FILE")]
    pub audit_key_file: Option<PathBuf>,
    /// Where the audit chain's head is anchored, one line per anchor
    /// (append-only; keep a copy off the server) [default: <data-dir>/audit-anchors.log].
    #[arg(long, global = true, env = "RTMS_AUDIT_ANCHOR_FILE")]
    pub audit_anchor_file: Option<PathBuf>,
    /// The document seal's Ed25519 secret key (hex), kept outside the
    /// database; created (mode 0600) at first start if absent
    /// [default: <data-dir>/seal.key].
    #[arg(long, global = true, env = "RTMS_SEAL_KEY_FILE")]
    pub seal_key_file: Option<PathBuf>,
    /// A directory of PEM certificates (`*.pem`, `*.crt`) trusted as roots
    /// for signers' own CMS signatures (none: no signature is trusted).
    #[arg(long, global = true, env = "RTMS_TRUST_ROOTS")]
    pub trust_roots: Option<PathBuf>,
    /// Addresses of reverse proxies whose X-Forwarded-For is trusted (comma-separated).
    #[arg(
        long,
        global = true,
        env = "RTMS_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Prometheus reads `/metrics` with `Authorization: Bearer <this token>`.
    #[arg(long, global = true, env = "RTMS_METRICS_TOKEN")]
    pub metrics_token: Option<String>,
    /// Client addresses that may read `/metrics` without the token (comma-separated;
    /// behind a proxy, the address the trusted proxies forward). Neither set: nobody.
    #[arg(long, global = true, env = "RTMS_METRICS_ALLOW", value_delimiter = ',')]
    pub metrics_allow: Vec<std::net::IpAddr>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<String>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    log_json: Option<bool>,
    trusted_proxies: Option<Vec<std::net::IpAddr>>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    smtp_host: Option<String>,
    smtp_port: Option<u16>,
    smtp_tls: Option<String>,
    smtp_user: Option<String>,
    smtp_password: Option<String>,
    smtp_ca_file: Option<PathBuf>,
    mail_from: Option<String>,
    public_url: Option<String>,
    storage_url: Option<String>,
    max_upload_mb: Option<u64>,
    clamd: Option<String>,
    turn_url: Option<Vec<String>>,
    turn_secret: Option<String>,
    federal_url: Option<String>,
    federal_token: Option<String>,
    federal_retry_cap_minutes: Option<i64>,
    federal_alarm_minutes: Option<i64>,
    level: Option<String>,
    fhir_subscription_origins: Option<Vec<String>>,
    fhir_subscription_allow_private: Option<bool>,
    metrics_token: Option<String>,
    metrics_allow: Option<Vec<std::net::IpAddr>>,
    audit_key_file: Option<PathBuf>,
    audit_anchor_file: Option<PathBuf>,
    seal_key_file: Option<PathBuf>,
    trust_roots: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub listen: String,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub log_json: bool,
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// (certificate, key) when serving HTTPS.
    pub tls: Option<(PathBuf, PathBuf)>,
    pub mail: Option<rtms_service::platform::mail::MailConfig>,
    pub storage_url: Option<String>,
    pub max_upload_bytes: u64,
    pub clamd: Option<String>,
    pub turn: Option<rtms_service::scheduling::video::TurnConfig>,
    /// The address users open the system at (links in e-mails and on documents).
    pub public_url: Option<String>,
    pub federal: Option<rtms_service::exchange::federal::FederalConfig>,
    pub federal_level: bool,
    /// Where FHIR Subscriptions may send notifications.
    pub fhir_hooks: rtms_service::exchange::fhir_hooks::HookPolicy,
    /// Who may read `/metrics`.
    pub metrics: rtms_service::MetricsAccess,
    /// The audit chain's key file and the anchor file.
    pub audit_key_file: PathBuf,
    pub audit_anchor_file: PathBuf,
    /// The seal's secret key file.
    pub seal_key_file: PathBuf,
    /// Trusted roots for CMS signatures (a directory of PEM files).
    pub trust_roots: Option<PathBuf>,
}

impl Config {
    pub fn resolve(args: &ConfigArgs) -> anyhow::Result<Config> {
        let file_path = args
            .config
            .clone()
            .or_else(|| Some(PathBuf::from("rtms.toml")).filter(|p| p.exists()));
        let file: FileConfig = match &file_path {
            Some(path) => {
                let text = std::fs::read_to_string(path).with_context(|| {
                    format!("cannot read the configuration file {}", path.display())
                })?;
                toml::from_str(&text).with_context(|| {
                    format!("error in the configuration file {}", path.display())
                })?
            }
            None => FileConfig::default(),
        };
        let data_dir = args
            .data_dir
            .clone()
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("rtms-data"));
        let database_url = match args.database_url.clone().or(file.database_url) {
            Some(url) => url
                .strip_prefix("sqlite://")
                .map(str::to_string)
                .unwrap_or(url),
            None => {
                std::fs::create_dir_all(&data_dir).with_context(|| {
                    format!("cannot create the data directory {}", data_dir.display())
                })?;
                data_dir.join("rtms.sqlite").to_string_lossy().into_owned()
            }
        };
        let storage_url = args.storage_url.clone().or(file.storage_url);
        let max_upload_bytes = args
            .max_upload_mb
            .or(file.max_upload_mb)
            .map(|mb| mb << 20)
            .unwrap_or(rtms_service::attachments::files::DEFAULT_MAX_BYTES);
        let clamd = args.clamd.clone().or(file.clamd);
        let turn_urls = if args.turn_url.is_empty() {
            file.turn_url.unwrap_or_default()
        } else {
            args.turn_url.clone()
        };
        let turn = match (
            turn_urls.is_empty(),
            args.turn_secret.clone().or(file.turn_secret),
        ) {
            (true, None) => None,
            (false, Some(secret)) if !secret.is_empty() => {
                Some(rtms_service::scheduling::video::TurnConfig {
                    urls: turn_urls,
                    secret,
                })
            }
            _ => bail!("TURN needs both --turn-url and --turn-secret"),
        };
        let fhir_hooks = rtms_service::exchange::fhir_hooks::HookPolicy::from_origins(
            &if args.fhir_subscription_origins.is_empty() {
                file.fhir_subscription_origins.clone().unwrap_or_default()
            } else {
                args.fhir_subscription_origins.clone()
            },
            args.fhir_subscription_allow_private
                || file.fhir_subscription_allow_private.unwrap_or(false),
        )
        .map_err(|e| anyhow::anyhow!("--fhir-subscription-origins: {e}"))?;
        let metrics = rtms_service::MetricsAccess {
            token: args
                .metrics_token
                .clone()
                .or(file.metrics_token)
                .filter(|t| !t.trim().is_empty()),
            allow: if args.metrics_allow.is_empty() {
                file.metrics_allow.unwrap_or_default()
            } else {
                args.metrics_allow.clone()
            },
        };
        let audit_key_file = args
            .audit_key_file
            .clone()
            .or(file.audit_key_file)
            .unwrap_or_else(|| data_dir.join("audit.key"));
        let audit_anchor_file = args
            .audit_anchor_file
            .clone()
            .or(file.audit_anchor_file)
            .unwrap_or_else(|| data_dir.join("audit-anchors.log"));
        let seal_key_file = args
            .seal_key_file
            .clone()
            .or(file.seal_key_file)
            .unwrap_or_else(|| data_dir.join("seal.key"));
        let trust_roots = args.trust_roots.clone().or(file.trust_roots);
        let mail = match args.smtp_host.clone().or(file.smtp_host) {
            None => None,
            Some(smtp_host) => {
                use rtms_service::platform::mail::SmtpTls;
                let tls = match args.smtp_tls.clone().or(file.smtp_tls).as_deref() {
                    None => SmtpTls::StartTls,
                    Some(t) => SmtpTls::parse(t)
                        .with_context(|| format!("--smtp-tls is none, starttls or tls, not {t}"))?,
                };
                let user = args.smtp_user.clone().or(file.smtp_user);
                let password = args.smtp_password.clone().or(file.smtp_password);
                if tls == SmtpTls::None && (user.is_some() || password.is_some()) {
                    bail!("--smtp-user/--smtp-password need TLS (--smtp-tls starttls or tls): a password is never sent in plain text");
                }
                let ca_pem = match args.smtp_ca_file.clone().or(file.smtp_ca_file) {
                    Some(path) => Some(std::fs::read(&path).with_context(|| {
                        format!("cannot read the SMTP CA file {}", path.display())
                    })?),
                    None => None,
                };
                Some(rtms_service::platform::mail::MailConfig {
                    smtp_host,
                    smtp_port: args.smtp_port.or(file.smtp_port).unwrap_or(match tls {
                        SmtpTls::None => 25,
                        SmtpTls::StartTls => 587,
                        SmtpTls::Tls => 465,
                    }),
                    from: args
                        .mail_from
                        .clone()
                        .or(file.mail_from)
                        .unwrap_or_else(|| "rtms@localhost".into()),
                    public_url: args
                        .public_url
                        .clone()
                        .or(file.public_url.clone())
                        .unwrap_or_else(|| "http://127.0.0.1:8080".into()),
                    tls,
                    user,
                    password,
                    ca_pem,
                })
            }
        };
        Ok(Config {
            fhir_hooks,
            metrics,
            audit_key_file,
            audit_anchor_file,
            seal_key_file,
            trust_roots,
            turn,
            storage_url,
            max_upload_bytes,
            clamd,
            listen: args
                .listen
                .clone()
                .or(file.listen)
                .unwrap_or_else(|| "127.0.0.1:8080".into()),
            data_dir,
            database_url,
            log_json: args.log_json || file.log_json.unwrap_or(false),
            trusted_proxies: if args.trusted_proxies.is_empty() {
                file.trusted_proxies.unwrap_or_default()
            } else {
                args.trusted_proxies.clone()
            },
            tls: match (
                args.tls_cert.clone().or(file.tls_cert),
                args.tls_key.clone().or(file.tls_key),
            ) {
                (Some(c), Some(k)) => Some((c, k)),
                (None, None) => None,
                _ => anyhow::bail!("HTTPS needs both --tls-cert and --tls-key"),
            },
            public_url: args.public_url.clone().or(file.public_url.clone()),
            federal_level: match args.level.clone().or(file.level).as_deref() {
                None | Some("regional") => false,
                Some("federal") => true,
                Some(other) => anyhow::bail!("--level is regional or federal, not {other}"),
            },
            federal: match (
                args.federal_url.clone().or(file.federal_url),
                args.federal_token.clone().or(file.federal_token),
            ) {
                (Some(url), Some(token)) => {
                    let mut f = rtms_service::exchange::federal::FederalConfig::new(url, token);
                    if let Some(m) = args
                        .federal_retry_cap_minutes
                        .or(file.federal_retry_cap_minutes)
                    {
                        anyhow::ensure!(m >= 1, "--federal-retry-cap-minutes is at least 1");
                        f.retry_cap_minutes = m;
                    }
                    if let Some(m) = args.federal_alarm_minutes.or(file.federal_alarm_minutes) {
                        anyhow::ensure!(m >= 1, "--federal-alarm-minutes is at least 1");
                        f.alarm_minutes = m;
                    }
                    Some(f)
                }
                (None, None) => None,
                _ => anyhow::bail!("escalation needs both --federal-url and --federal-token"),
            },
            mail,
        })
    }

    /// The attachment store this configuration names.
    pub fn file_store(&self) -> anyhow::Result<rtms_service::attachments::files::FileStore> {
        let mut store = match &self.storage_url {
            Some(url) => rtms_service::attachments::files::FileStore::from_url(url, &self.data_dir),
            None => rtms_service::attachments::files::FileStore::local(&self.data_dir),
        }
        .with_context(|| "cannot open the attachment store".to_string())?;
        store.max_bytes = self.max_upload_bytes;
        store.clamd = self.clamd.clone();
        Ok(store)
    }

    pub fn is_sqlite(&self) -> bool {
        rtms_store::BackendKind::of_url(&self.database_url) == rtms_store::BackendKind::Sqlite
    }

    pub fn pool_size(&self) -> u32 {
        if self.is_sqlite() {
            8
        } else {
            16
        }
    }

    /// The database for messages: the file, or the URL without its password.
    pub fn database_display(&self) -> String {
        if self.is_sqlite() {
            return self.database_url.clone();
        }
        match (self.database_url.find("://"), self.database_url.rfind('@')) {
            (Some(s), Some(at)) if at > s => format!(
                "{}***{}",
                &self.database_url[..s + 3],
                &self.database_url[at..]
            ),
            _ => self.database_url.clone(),
        }
    }

    /// SQLite mode is one instance: an exclusive lock on a file beside the
    /// database refuses a second one. The lock lives as long as the returned file.
    pub fn lock_sqlite(&self) -> anyhow::Result<Option<File>> {
        if !self.is_sqlite() {
            return Ok(None);
        }
        let db = Path::new(&self.database_url);
        if let Some(parent) = db.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        let lock_path = PathBuf::from(format!("{}.lock", self.database_url));
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .with_context(|| format!("cannot open {}", lock_path.display()))?;
        match file.try_lock_exclusive() {
            Ok(true) => Ok(Some(file)),
            _ => bail!(
                "another rtms instance is already using {}; SQLite mode runs a single instance (stop the other one, or use PostgreSQL to run several)",
                self.database_url
            ),
        }
    }
}
