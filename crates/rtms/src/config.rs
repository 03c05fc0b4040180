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
    mail_from: Option<String>,
    public_url: Option<String>,
    storage_url: Option<String>,
    max_upload_mb: Option<u64>,
    clamd: Option<String>,
    turn_url: Option<Vec<String>>,
    turn_secret: Option<String>,
    federal_url: Option<String>,
    federal_token: Option<String>,
    level: Option<String>,
    fhir_subscription_origins: Option<Vec<String>>,
    fhir_subscription_allow_private: Option<bool>,
    metrics_token: Option<String>,
    metrics_allow: Option<Vec<std::net::IpAddr>>,
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
    pub mail: Option<rtms_service::jobs::MailConfig>,
    pub storage_url: Option<String>,
    pub max_upload_bytes: u64,
    pub clamd: Option<String>,
    pub turn: Option<rtms_service::video::TurnConfig>,
    /// The address users open the system at (links in e-mails and on documents).
    pub public_url: Option<String>,
    pub federal: Option<rtms_service::federal::FederalConfig>,
    pub federal_level: bool,
    /// Where FHIR Subscriptions may send notifications.
    pub fhir_hooks: rtms_service::fhir_hooks::HookPolicy,
    /// Who may read `/metrics`.
    pub metrics: rtms_service::MetricsAccess,
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
            .unwrap_or(rtms_service::files::DEFAULT_MAX_BYTES);
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
            (false, Some(secret)) if !secret.is_empty() => Some(rtms_service::video::TurnConfig {
                urls: turn_urls,
                secret,
            }),
            _ => bail!("TURN needs both --turn-url and --turn-secret"),
        };
        let fhir_hooks = rtms_service::fhir_hooks::HookPolicy::from_origins(
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
        Ok(Config {
            fhir_hooks,
            metrics,
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
                    Some(rtms_service::federal::FederalConfig { url, token })
                }
                (None, None) => None,
                _ => anyhow::bail!("escalation needs both --federal-url and --federal-token"),
            },
            mail: args.smtp_host.clone().or(file.smtp_host).map(|smtp_host| {
                rtms_service::jobs::MailConfig {
                    smtp_host,
                    smtp_port: args.smtp_port.or(file.smtp_port).unwrap_or(25),
                    from: args
                        .mail_from
                        .clone()
                        .or(file.mail_from)
                        .unwrap_or_else(|| "rtms@localhost".into()),
                    public_url: args
                        .public_url
                        .clone()
                        .or(file.public_url)
                        .unwrap_or_else(|| "http://127.0.0.1:8080".into()),
                }
            }),
        })
    }

    /// The attachment store this configuration names.
    pub fn file_store(&self) -> anyhow::Result<rtms_service::files::FileStore> {
        let mut store = match &self.storage_url {
            Some(url) => rtms_service::files::FileStore::from_url(url, &self.data_dir),
            None => rtms_service::files::FileStore::local(&self.data_dir),
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
