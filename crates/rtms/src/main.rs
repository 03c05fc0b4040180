//! `rtms`: the one binary of the regional telemedicine system.

mod config;

use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use rtms_domain::Role;
use rtms_service::access::auth::NewUserSpec;
use rtms_service::{Services, SystemClock};

use config::{Config, ConfigArgs};

#[derive(Parser)]
#[command(name = "rtms", version, about = "РТМС — regional telemedicine system")]
struct Cli {
    #[command(flatten)]
    config: ConfigArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web interface and the API.
    Serve {
        /// Seed a demo region when the database is empty.
        #[arg(long, env = "RTMS_DEMO")]
        demo: bool,
        /// Without --demo, `serve` refuses to start while a demo account still
        /// has the demo password; this switches such accounts off instead.
        #[arg(long, env = "RTMS_DISABLE_DEMO_ACCOUNTS")]
        disable_demo_accounts: bool,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Administration from the command line.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// The audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Check a conclusion PDF: with `--seal` and `--key` offline (no database),
    /// else against the documents this system issued.
    Verify {
        pdf: std::path::PathBuf,
        /// The detached seal (`…seal.json`, downloaded beside the PDF).
        #[arg(long)]
        seal: Option<std::path::PathBuf>,
        /// The published public key (base64, from /api/v1/seal/key).
        #[arg(long)]
        key: Option<String>,
    },
    /// A consistent copy of the SQLite database while it serves (SQLite's
    /// `VACUUM INTO`); with PostgreSQL use `pg_dump`. Attachments are files:
    /// copy the data directory's `files/` (or rely on the S3 store's own).
    Backup {
        /// Where to write the copy (must not exist).
        to: std::path::PathBuf,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check the audit log's chain (keyed rows with the key file) and every
    /// anchored head; name the first broken row (exit code 2).
    Verify,
    /// Anchor the chain's head now (`rtms serve` does every few minutes);
    /// e.g. from cron, before copying the anchor file off the server.
    Anchor,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create a user with one role in one organization.
    CreateUser {
        #[arg(long)]
        login: String,
        /// At least 10 characters. The user must change it at first sign-in unless --permanent.
        #[arg(long, env = "RTMS_NEW_PASSWORD")]
        password: String,
        #[arg(long)]
        last_name: String,
        #[arg(long)]
        first_name: String,
        #[arg(long, default_value = "")]
        middle_name: String,
        /// admin, dispatcher, doctor, head, coordinator, consultant, analyst or auditor.
        #[arg(long)]
        role: String,
        /// Organization id.
        #[arg(long)]
        org: i64,
        #[arg(long)]
        permanent: bool,
    },
    /// Set a new password for a user.
    ResetPassword {
        #[arg(long)]
        login: String,
        #[arg(long, env = "RTMS_NEW_PASSWORD")]
        password: String,
        /// Make the user change it at next sign-in.
        #[arg(long)]
        temporary: bool,
    },
    /// Replace the МКБ-10 reference with a newer НСИ CSV release (OID 1.2.643.5.1.13.13.11.1005).
    ImportIcd10 { file: std::path::PathBuf },
    /// List organizations with their ids.
    Orgs,
    /// Generate a region's worth of requests for benchmarks and trials:
    /// `--count` requests spread over `--years` up to now, with their events,
    /// threads, consilia, signed conclusions and attachment metadata. Seeds the
    /// demo region first on an empty database (its users sign in with the
    /// demo password).
    Generate {
        #[arg(long, default_value_t = 10_000)]
        count: u64,
        #[arg(long, default_value_t = 5)]
        years: u32,
        /// District hospitals to add, two doctors each.
        #[arg(long, default_value_t = 40)]
        districts: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Issue an API token for a user (e.g. the region's account at the
    /// federal level, or a hospital system); printed once.
    Token {
        #[arg(long)]
        login: String,
        #[arg(long, default_value = "integration")]
        name: String,
        /// Comma-separated: read, write, fhir.
        #[arg(long, value_delimiter = ',', default_value = "read,write,fhir")]
        scopes: Vec<String>,
        #[arg(long, default_value_t = 365)]
        days: i64,
    },
}

fn main() -> anyhow::Result<()> {
    // glibc gives each allocating thread an arena of its own (up to 8 per
    // core) and keeps what is freed there: after a burst of requests across
    // the blocking pool that is 100+ MB held by an idle server. Two arenas
    // serve two cores.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: called first thing, before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
    // `rtms internal dicom-index <file>`: the child process `serve` indexes an
    // uploaded DICOM file in, under limits (rtms_service::attachments::dicom::DicomWorker).
    // Hidden from the help; reads no configuration and no database.
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.len() == 4 && args[1] == "internal" && args[2] == "dicom-index" {
        let details =
            rtms_service::attachments::dicom::index_worker_main(std::path::Path::new(&args[3]));
        println!("{details}");
        return Ok(());
    }
    let cli = Cli::parse();
    if let Command::Verify {
        pdf,
        seal: Some(seal),
        key: Some(key),
    } = &cli.command
    {
        // Offline: the PDF, its seal and the published key are all it needs.
        let bytes = std::fs::read(pdf).with_context(|| format!("cannot read {}", pdf.display()))?;
        let seal_text = std::fs::read_to_string(seal)
            .with_context(|| format!("cannot read {}", seal.display()))?;
        match rtms_service::documents::verify_detached(&bytes, &seal_text, key) {
            Ok(s) => {
                println!("VALID: sealed {} with key {}", s.sealed_at, s.key_id);
                return Ok(());
            }
            Err(reason) => {
                println!("INVALID: {reason}");
                std::process::exit(2);
            }
        }
    }
    let config = Config::resolve(&cli.config)?;
    init_logging(config.log_json);
    // One server per SQLite file; administration commands may run beside it.
    let _lock = if matches!(cli.command, Command::Serve { .. } | Command::Migrate) {
        config.lock_sqlite()?
    } else {
        None
    };
    let db = rtms_store::Db::connect(&config.database_url, config.pool_size())
        .with_context(|| format!("cannot open the database {}", config.database_display()))?;
    let applied = db.migrate()?;
    if applied > 0 {
        tracing::info!(applied, "migrations applied");
    }
    let mut svc = Services::new(db, Arc::new(SystemClock));
    // The audit chain's key and anchors live outside the database. Serving and
    // administration key the chain; the other commands only check with the key.
    svc = svc.with_audit_anchors(config.audit_anchor_file.clone());
    let keys_chain = matches!(
        cli.command,
        Command::Serve { .. } | Command::Admin(_) | Command::Audit(AuditCommand::Anchor)
    );
    if let Some(key) = audit_key(&config.audit_key_file, keys_chain)? {
        svc = if keys_chain {
            svc.with_audit_key(key)
                .map_err(|e| anyhow::anyhow!("cannot key the audit log: {e}"))?
        } else {
            svc.with_audit_key_for_checking(key)
        };
    }
    if matches!(cli.command, Command::Serve { .. }) {
        svc = svc.with_files(config.file_store()?);
        match std::env::current_exe() {
            Ok(me) => {
                svc = svc.with_dicom_worker(rtms_service::attachments::dicom::DicomWorker::rtms(me))
            }
            Err(e) => tracing::warn!(error = %e, "DICOM is indexed in-process: own path unknown"),
        }
    }
    // The seal key from its file (moved out of the database if an earlier version kept it there).
    let seal_key = svc
        .load_seal_key(&config.seal_key_file)
        .map_err(|e| anyhow::anyhow!("the seal key: {e}"))?;
    svc = svc.with_seal_key(seal_key);
    if let Some(dir) = &config.trust_roots {
        let roots =
            rtms_service::documents::TrustRoots::from_dir(dir).map_err(anyhow::Error::msg)?;
        tracing::info!(roots = roots.len(), dir = %dir.display(), "CMS trust roots");
        svc = svc.with_trust_roots(roots);
    }
    if let Some(mail) = config.mail.clone() {
        svc = svc.with_mail(mail);
    }
    if let Some(turn) = config.turn.clone() {
        svc = svc.with_turn(turn);
    }
    if let Some(url) = config.public_url.clone() {
        svc.public_url = Some(url);
    }
    if let Some(f) = config.federal.clone() {
        svc = svc.with_federal(f);
    }
    svc.federal_level = config.federal_level;
    svc = svc.with_fhir_hooks(config.fhir_hooks.clone());
    svc.metrics_access = Arc::new(config.metrics.clone());
    let outcome = match cli.command {
        Command::Migrate => {
            println!("migrations applied: {applied}");
            Ok(0)
        }
        Command::Serve {
            demo,
            disable_demo_accounts,
        } => serve(config, svc.clone(), demo, disable_demo_accounts).map(|_| 0),
        Command::Admin(cmd) => admin(svc.clone(), cmd).map(|_| 0),
        Command::Backup { to } => {
            if !config.is_sqlite() {
                anyhow::bail!(
                    "PostgreSQL is backed up with its own tools: pg_dump --format=custom --file=rtms.dump <database>"
                );
            }
            if to.exists() {
                anyhow::bail!("{} exists already; name a new file", to.display());
            }
            rtms_store::repo::backup_sqlite(&svc.db, &to.to_string_lossy())?;
            println!("backup written: {}", to.display());
            Ok(0)
        }
        Command::Verify { pdf, .. } => {
            let bytes =
                std::fs::read(&pdf).with_context(|| format!("cannot read {}", pdf.display()))?;
            let v = svc
                .verify_pdf(&bytes, rtms_domain::Lang::Ru)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            if v.valid {
                println!(
                    "VALID: request {} version {}, sealed {} with key {}",
                    v.consultation_id.unwrap_or_default(),
                    v.version.unwrap_or_default(),
                    v.sealed_at.unwrap_or_default(),
                    v.key_id.unwrap_or_default()
                );
                Ok(0)
            } else {
                println!("INVALID: {}", v.reason.unwrap_or_default());
                Ok(2)
            }
        }
        Command::Audit(AuditCommand::Anchor) => {
            match svc.audit_anchor().map_err(|e| anyhow::anyhow!("{e}"))? {
                Some(a) => println!(
                    "anchored row {} in {}",
                    a.id,
                    config.audit_anchor_file.display()
                ),
                None => println!("nothing new to anchor"),
            }
            Ok(0)
        }
        Command::Audit(AuditCommand::Verify) => {
            match svc.audit_verify().map_err(|e| anyhow::anyhow!("{e}")) {
                Ok(rtms_store::audit::Verdict::Intact {
                    rows,
                    keyed_from,
                    anchors,
                }) => {
                    let keyed = match keyed_from {
                        Some(k) => format!("keyed from row {k}"),
                        None => "not keyed".into(),
                    };
                    println!(
                        "audit log intact: {rows} rows, {keyed}, {anchors} anchors in place ({})",
                        config.audit_anchor_file.display()
                    );
                    Ok(0)
                }
                Ok(rtms_store::audit::Verdict::Broken { row_id, reason }) => {
                    println!("audit log BROKEN at row {row_id}: {reason}");
                    Ok(2)
                }
                Err(e) => Err(e),
            }
        }
    };
    // Close the database connections before the process exits: libpq's TLS state
    // must not outlive the C library's exit handlers.
    drop(svc);
    match outcome? {
        0 => Ok(()),
        code => std::process::exit(code),
    }
}

fn serve(
    config: Config,
    svc: Services,
    demo: bool,
    disable_demo_accounts: bool,
) -> anyhow::Result<()> {
    let loaded = svc.db.write(rtms_store::reference::ensure_loaded)?;
    if loaded != (0, 0, 0) {
        tracing::info!(
            icd10 = loaded.0,
            profiles = loaded.1,
            purposes = loaded.2,
            "reference data loaded"
        );
    }
    if demo && rtms_service::seed::demo::seed_if_empty(&svc)? {
        tracing::info!(
            "demo region seeded; every demo user's password is {}",
            rtms_service::seed::demo::DEMO_PASSWORD
        );
    }
    if !demo {
        // A real region never serves accounts whose password is printed in the docs.
        if disable_demo_accounts {
            let off = rtms_service::seed::demo::disable_demo_accounts(&svc)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            if !off.is_empty() {
                tracing::warn!(accounts = %off.join(", "), "demo accounts with the demo password switched off");
            }
        } else {
            let open = rtms_service::seed::demo::accounts_with_demo_password(&svc)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            if !open.is_empty() {
                anyhow::bail!(
                    "demo accounts still sign in with the published demo password: {}. \
                     Change their passwords (rtms admin reset-password), or start with \
                     --disable-demo-accounts to switch them off, or with --demo for a demonstration",
                    open.join(", ")
                );
            }
        }
    }
    // The only instance of a SQLite database: leases a killed worker
    // held are nobody's now (the outbox resumes at once, not in minutes).
    if svc.db.backend() == rtms_store::BackendKind::Sqlite {
        let freed = svc.db.write(rtms_store::jobs::release_leases)?;
        if freed > 0 {
            tracing::info!(jobs = freed, "job leases of a previous run released");
        }
    }
    // Database work runs on blocking threads; more of them than pooled
    // connections only wait (and hold memory).
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(64)
        .build()?;
    runtime.block_on(async move {
        // Job workers, deliveries, the deadline monitor, digests, reminders,
        // the audit anchor, the upload sweep: one table, in the service crate.
        rtms_service::platform::periodic::spawn_all(&svc, rtms_service::PERIODIC);
        tracing::info!(files = %svc.files.describe(), "attachment store");
        let listener = tokio::net::TcpListener::bind(&config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        let addr = listener.local_addr()?;
        tracing::info!(%addr, data_dir = %config.data_dir.display(), tls = config.tls.is_some(), "serving");
        match &config.tls {
            Some((cert, key)) => {
                println!("РТМС: https://{addr}");
                rtms_web::serve_tls(listener, svc, config.trusted_proxies.clone(), cert, key, shutdown_signal())
                    .await
                    .with_context(|| format!("HTTPS with {} and {}", cert.display(), key.display()))?;
            }
            None => {
                println!("РТМС: http://{addr}");
                rtms_web::serve(listener, svc, config.trusted_proxies.clone(), shutdown_signal()).await?;
            }
        }
        Ok(())
    })
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => return ctrl_c.await.unwrap_or(()),
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    ctrl_c.await.unwrap_or(());
}

fn admin(svc: Services, cmd: AdminCommand) -> anyhow::Result<()> {
    let report = |e: rtms_service::ServiceError| match e {
        rtms_service::ServiceError::Invalid(errors) => anyhow::anyhow!(
            "{}",
            errors
                .iter()
                .map(|e| format!(
                    "{}: {}",
                    e.field,
                    rtms_web::ui::i18n::refusal(e.code, rtms_domain::Lang::Ru)
                ))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        other => anyhow::anyhow!("{other}"),
    };
    match cmd {
        AdminCommand::CreateUser {
            login,
            password,
            last_name,
            first_name,
            middle_name,
            role,
            org,
            permanent,
        } => {
            let role = Role::parse(&role).with_context(|| format!("unknown role {role}"))?;
            let id = svc
                .create_user(&NewUserSpec {
                    login,
                    password,
                    last_name,
                    first_name,
                    middle_name,
                    position: String::new(),
                    phone: String::new(),
                    email: String::new(),
                    roles: vec![(role, org)],
                    profiles: vec![],
                    must_change_password: !permanent,
                    snils: None,
                    position_code: None,
                })
                .map_err(report)?;
            println!("user created: id {id}");
        }
        AdminCommand::ResetPassword {
            login,
            password,
            temporary,
        } => {
            svc.reset_password(&login, &password, temporary)
                .map_err(report)?;
            println!("password changed for {login}");
        }
        AdminCommand::ImportIcd10 { file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let n = svc
                .db
                .write(|c| rtms_store::reference::load_icd10_csv(c, &text))?;
            println!("МКБ-10 codes loaded: {n}");
        }
        AdminCommand::Token {
            login,
            name,
            scopes,
            days,
        } => {
            let user = svc
                .db
                .read(|c| rtms_store::repo::user_by_login(c, &login))?
                .with_context(|| format!("no user {login}"))?;
            let actor = svc.db.read(|c| {
                rtms_service::Actor::load(c, user.id)
                    .map_err(|e| rtms_store::StoreError::Other(e.to_string()))
            })?;
            let (token, _) = svc
                .create_api_token(&actor, &name, &scopes, days)
                .map_err(report)?;
            println!("{token}");
        }
        AdminCommand::Generate {
            count,
            years,
            districts,
            seed,
        } => {
            let spec = rtms_service::seed::generate::GenerateSpec {
                count,
                years,
                districts,
                seed,
                ..Default::default()
            };
            let started = std::time::Instant::now();
            let mut shown = 0;
            let done = svc
                .generate(&spec, |n| {
                    // A line per tenth, so a long run shows it is alive.
                    if n * 10 / count.max(1) > shown || n == count {
                        shown = n * 10 / count.max(1);
                        eprintln!(
                            "  {n} of {count} requests, {:.0} s",
                            started.elapsed().as_secs_f64()
                        );
                    }
                })
                .map_err(report)?;
            let secs = started.elapsed().as_secs_f64();
            println!(
                "generated {} requests ({} rows, {} district hospitals, {} users) in {:.1} s: {:.0} requests/s",
                done.consultations,
                done.rows,
                done.organizations,
                done.users,
                secs,
                done.consultations as f64 / secs.max(0.001)
            );
        }
        AdminCommand::Orgs => {
            for o in svc.db.read(|c| rtms_store::repo::organizations(c, None))? {
                println!("{}\t{}\t{}", o.id, o.kind, o.name);
            }
        }
    }
    Ok(())
}

/// The audit chain's key from its file; made (mode 0600) when `create` and absent.
fn audit_key(
    path: &std::path::Path,
    create: bool,
) -> anyhow::Result<Option<rtms_store::audit::ChainKey>> {
    use rtms_service::platform::keys::{self, KeyFileError};
    use rtms_store::audit::ChainKey;
    let parse = |text: String| {
        ChainKey::from_hex(&text).ok_or_else(|| KeyFileError::Malformed {
            path: path.display().to_string(),
        })
    };
    if let Some(text) = keys::read_key_file(path)? {
        return Ok(Some(parse(text)?));
    }
    if !create {
        return Ok(None);
    }
    let key = ChainKey::generate();
    match keys::create_key_file(path, &key.to_hex()) {
        Ok(()) => {
            tracing::info!(file = %path.display(), "audit chain key created");
            Ok(Some(key))
        }
        // Another process made it first: use theirs.
        Err(KeyFileError::Create { source, .. })
            if source.kind() == std::io::ErrorKind::AlreadyExists =>
        {
            let text = keys::read_key_file(path)?.unwrap_or_default();
            Ok(Some(parse(text)?))
        }
        Err(e) => Err(e.into()),
    }
}

fn init_logging(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("RTMS_LOG")
        .unwrap_or_else(|_| "info,tower_http=warn".into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}
