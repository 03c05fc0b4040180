//! The services: the one place where the lifecycle, access and validation rules
//! are applied. The API and the web UI both call these; neither changes a
//! status or checks a role on its own.

// Capabilities, from the top floor down; each folder's `mod.rs` says what
// it owns and what it may call. Nothing calls up: where a lower capability
// needs a higher one to act (the lifecycle's changes reaching the federal
// outbox), the higher one registers below (`CHANGE_HOOKS`, `JOB_TYPES`).
pub mod access;
pub mod attachments;
pub mod directory;
pub mod documents;
pub mod error;
pub mod exchange;
pub mod lifecycle;
pub mod page;
pub mod platform;
pub mod reporting;
pub mod scheduling;
pub mod seed;

pub use access::auth::Actor;
pub use error::ServiceError;
pub use platform::clock::{Clock, ManualClock, SystemClock};

use std::time::Duration;

use platform::jobs::JobType;
use platform::periodic::{Periodic, Task};

/// Every kind of background job (`platform::jobs`): the workers look a
/// stored row's kind up here.
pub static JOB_TYPES: &[JobType] = &[
    JobType::of::<platform::mail::SendEmail>(),
    JobType::of::<exchange::federal::SendEscalation>(),
    JobType::of::<exchange::federal::PollEscalation>(),
    JobType::of::<lifecycle::duty_calls::DutyWebhook>(),
];

/// Who hears of every change to a request, in its transaction (`lifecycle::Change`).
pub static CHANGE_HOOKS: &[lifecycle::ChangeHook] = &[
    exchange::federal::on_change,
    exchange::fhir_hooks::on_change,
];

/// Everything that runs on its own, every instance (`platform::periodic`).
pub static PERIODIC: &[Periodic] = &[
    // The job workers; the federal outbox has its own (a transfer of
    // gigabytes holds up no e-mail).
    Periodic {
        name: "jobs",
        every: Duration::from_secs(2),
        task: Task::Blocking(|s| s.run_other_jobs(platform::periodic::worker_name(), 50)),
        log_count: false,
    },
    Periodic {
        name: "federal outbox",
        every: Duration::from_secs(2),
        task: Task::Blocking(|s| s.run_outbox(platform::periodic::worker_name(), 50)),
        log_count: false,
    },
    // FHIR subscription deliveries, apart from the job workers: a slow
    // endpoint holds up only its own subscription's delivery, never e-mail.
    Periodic {
        name: "FHIR deliveries",
        every: Duration::from_secs(2),
        task: Task::Blocking(|s| s.run_deliveries(50)),
        log_count: false,
    },
    // Each alert goes out once, whichever instance comes first.
    Periodic {
        name: "deadline monitor",
        every: Duration::from_secs(60),
        task: Task::Blocking(Services::run_deadline_monitor),
        log_count: false,
    },
    // Emergency calls nobody acknowledged pass to the backup, then to the
    // dispatchers; each once, whichever instance comes first.
    Periodic {
        name: "duty calls",
        every: Duration::from_secs(15),
        task: Task::Blocking(Services::run_duty_calls),
        log_count: true,
    },
    // Yesterday's digests, queued once per user.
    Periodic {
        name: "daily digests",
        every: Duration::from_secs(60),
        task: Task::Blocking(Services::queue_digests),
        log_count: true,
    },
    Periodic {
        name: "video reminders",
        every: Duration::from_secs(60),
        task: Task::Blocking(Services::run_video_reminders),
        log_count: false,
    },
    // The audit chain's head, anchored outside the database.
    Periodic {
        name: "audit anchor",
        every: Duration::from_secs(60 * access::audit::ANCHOR_EVERY_MINUTES),
        task: Task::Blocking(|s| s.audit_anchor().map(|a| usize::from(a.is_some()))),
        log_count: false,
    },
    // Finished jobs are kept for a month, then deleted.
    Periodic {
        name: "finished jobs pruned",
        every: Duration::from_secs(3600),
        task: Task::Blocking(Services::prune_jobs),
        log_count: true,
    },
    // Uploads abandoned for a day are removed with their bytes.
    Periodic {
        name: "abandoned uploads",
        every: Duration::from_secs(3600),
        task: Task::Async(|s| Box::pin(async move { s.sweep_uploads().await })),
        log_count: true,
    },
];

use std::sync::Arc;

use rtms_store::Db;

/// Everything a request handler needs: the database, the clock and the live hub.
#[derive(Clone)]
pub struct Services {
    pub db: Db,
    pub clock: Arc<dyn Clock>,
    pub live: platform::live::LiveHub,
    /// E-mail, when an SMTP relay is configured.
    pub mail: Option<Arc<platform::mail::MailConfig>>,
    /// Attachments: the object store and the uploads in progress.
    pub files: Arc<attachments::files::FileStore>,
    /// TURN for the video rooms, when coturn is configured.
    pub turn: Option<Arc<scheduling::video::TurnConfig>>,
    /// The address users open the system at (`--public-url`), for absolute
    /// links on documents; e-mail has its own copy in `mail`.
    pub public_url: Option<String>,
    /// The federal level's FHIR interface, for escalations (`--federal-url`).
    pub federal: Option<Arc<exchange::federal::FederalConfig>>,
    /// This instance runs the federal level (`--level federal`): nothing above it.
    pub federal_level: bool,
    /// Where FHIR subscriptions may send notifications (`fhir_hooks`).
    pub fhir_hooks: Arc<exchange::fhir_hooks::HookPolicy>,
    /// Who may read `/metrics` (`--metrics-token`, `--metrics-allow`); nobody by default.
    pub metrics_access: Arc<MetricsAccess>,
    /// The audit chain's key (kept outside the database), once keyed.
    pub(crate) audit_key: Option<Arc<rtms_store::audit::ChainKey>>,
    /// Where the chain's heads are anchored (`--audit-anchor-file`).
    pub(crate) audit_anchors: Option<Arc<std::path::PathBuf>>,
    /// Render a conclusion's document right after its last signature (the
    /// demo seed turns it off: its documents are made when first opened).
    pub(crate) render_at_signing: bool,
    /// Conclusion documents are rendered one at a time (see `issue_document`).
    pub(crate) documents_lock: Arc<tokio::sync::Mutex<()>>,
    /// The document seal's key (`--seal-key-file`; kept outside the database).
    pub(crate) seal: Arc<rtms_documents::seal::SealKey>,
    /// Roots the signers' own CMS signatures must chain up to (`--trust-roots`).
    pub trust_roots: Arc<rtms_documents::cms::TrustRoots>,
    /// The child process that indexes uploaded DICOM (`serve` sets this
    /// binary); without one, indexing runs in this process.
    pub dicom_worker: Option<attachments::dicom::DicomWorker>,
    /// Reads recorded by group commit (see `audit::AuditQueue`).
    pub(crate) audit_queue: Arc<access::audit::AuditQueue>,
    /// Organizations as lists name them (see `consultations::Kept`).
    pub(crate) org_cache: Arc<lifecycle::consultations::Kept<lifecycle::consultations::Orgs>>,
    /// Medical profiles, as the filters and forms list them.
    /// The job types the workers run (`JOB_TYPES`).
    pub(crate) job_types: &'static [JobType],
    /// Who hears of every change to a request (`CHANGE_HOOKS`).
    pub(crate) change_hooks: &'static [lifecycle::ChangeHook],
    pub(crate) profile_cache: Arc<lifecycle::consultations::Kept<Vec<rtms_store::models::Profile>>>,
}

impl Services {
    pub fn new(db: Db, clock: Arc<dyn Clock>) -> Self {
        Services {
            db,
            clock,
            live: platform::live::LiveHub::new(),
            mail: None,
            files: Arc::new(attachments::files::FileStore::temporary()),
            turn: None,
            public_url: None,
            federal: None,
            federal_level: false,
            fhir_hooks: Arc::default(),
            metrics_access: Arc::default(),
            audit_key: None,
            trust_roots: Arc::default(),
            render_at_signing: true,
            documents_lock: Arc::default(),
            seal: Arc::new(rtms_documents::seal::SealKey::generate()),
            audit_anchors: None,
            dicom_worker: None,
            audit_queue: Arc::default(),
            org_cache: Arc::default(),
            profile_cache: Arc::default(),
            job_types: JOB_TYPES,
            change_hooks: CHANGE_HOOKS,
        }
    }

    /// Signers' CMS signatures are trusted when they chain up to these roots.
    pub fn with_trust_roots(mut self, roots: rtms_documents::cms::TrustRoots) -> Self {
        self.trust_roots = Arc::new(roots);
        self
    }

    /// Uploaded DICOM is indexed by this child process.
    pub fn with_dicom_worker(mut self, worker: attachments::dicom::DicomWorker) -> Self {
        self.dicom_worker = Some(worker);
        self
    }

    /// Attachments go to this store (`serve` sets the configured one).
    pub fn with_files(mut self, files: attachments::files::FileStore) -> Self {
        self.files = Arc::new(files);
        self
    }
}

/// Who may read the Prometheus metrics: a scraper presenting the bearer
/// token, or one calling from a listed address (the client's address, after
/// trusted proxies). With neither configured, nobody: the default refuses.
#[derive(Debug, Clone, Default)]
pub struct MetricsAccess {
    pub token: Option<String>,
    pub allow: Vec<std::net::IpAddr>,
}

/// A validation message in Russian, for reports read by the administrator.
pub(crate) fn text(code: &str) -> String {
    rtms_i18n::refusal(code, rtms_domain::Lang::Ru).to_string()
}

/// The house keeps its shape: each capability folder calls only the folders
/// its `mod.rs` names on its "May call:" line; the domain crate has no I/O
/// dependency; every file path docs/ARCHITECTURE.md names exists.
#[cfg(test)]
mod house {
    use std::path::{Path, PathBuf};

    const FOLDERS: &[&str] = &[
        "seed",
        "reporting",
        "exchange",
        "scheduling",
        "documents",
        "attachments",
        "lifecycle",
        "directory",
        "access",
        "platform",
    ];

    fn src() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
    }

    fn rust_files(dir: &Path) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "rs"))
            .collect();
        out.sort();
        out
    }

    /// The folders a capability may call, from its `mod.rs`.
    fn may_call(folder: &str) -> Vec<&'static str> {
        let text = std::fs::read_to_string(src().join(folder).join("mod.rs")).unwrap();
        // The paragraph from "May call:" to the next empty doc line.
        let line: String = text
            .lines()
            .skip_while(|l| !l.starts_with("//! May call:"))
            .take_while(|l| l.trim() != "//!" && l.starts_with("//!"))
            .collect::<Vec<_>>()
            .join(" ");
        assert!(
            !line.is_empty(),
            "{folder}/mod.rs has no \"May call:\" line"
        );
        if line.contains("anything in this crate") {
            return FOLDERS.to_vec();
        }
        FOLDERS
            .iter()
            .copied()
            .filter(|f| line.split(|c: char| !c.is_alphanumeric()).any(|w| w == *f))
            .collect()
    }

    /// `crate::<folder>::` references in a file, outside comments.
    fn calls(path: &Path) -> Vec<&'static str> {
        let text = std::fs::read_to_string(path).unwrap();
        let mut out = Vec::new();
        for line in text.lines() {
            let code = line.split("//").next().unwrap_or("");
            for f in FOLDERS {
                if code.contains(&format!("crate::{f}::")) && !out.contains(f) {
                    out.push(*f);
                }
            }
        }
        out
    }

    #[test]
    fn folders_call_only_what_their_mod_rs_allows() {
        let mut wrong = Vec::new();
        for folder in FOLDERS {
            let allowed = may_call(folder);
            for file in rust_files(&src().join(folder)) {
                for called in calls(&file) {
                    if called != *folder && !allowed.contains(&called) {
                        let name = file.strip_prefix(src()).unwrap_or(&file).display();
                        wrong.push(format!("{name} calls {called}"));
                    }
                }
            }
        }
        assert!(wrong.is_empty(), "calls a folder may not make: {wrong:#?}");
        // The check itself sees a call: lifecycle's hooks are the way up, and
        // platform may call no capability.
        assert!(may_call("platform").is_empty());
        assert!(calls(&src().join("exchange/federal.rs")).contains(&"lifecycle"));
    }

    #[test]
    fn the_domain_crate_does_no_io() {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../domain/Cargo.toml");
        let text = std::fs::read_to_string(manifest).unwrap();
        let deps = text
            .split("[dependencies]")
            .nth(1)
            .unwrap_or("")
            .split("\n[")
            .next()
            .unwrap_or("");
        for io in [
            "tokio",
            "diesel",
            "reqwest",
            "axum",
            "hyper",
            "lettre",
            "object_store",
            "rtms-store",
        ] {
            assert!(
                !deps.lines().any(|l| l.trim_start().starts_with(io)),
                "the domain crate depends on {io}"
            );
        }
    }

    #[test]
    fn every_path_the_architecture_map_names_exists() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let map = std::fs::read_to_string(root.join("docs/ARCHITECTURE.md")).unwrap();
        let mut missing = Vec::new();
        let mut checked = 0;
        for (i, quoted) in map.split('`').enumerate() {
            // Odd pieces are inside backticks.
            // Globs and brace lists name families of files, not one.
            if i % 2 == 0
                || quoted.contains(' ')
                || !quoted.contains('/')
                || quoted.contains(['*', '{'])
            {
                continue;
            }
            let path = quoted.split("::").next().unwrap_or(quoted);
            let known = [
                ".rs", ".md", ".sh", ".html", ".ftl", ".mjs", ".typ", ".toml", ".conf", ".py",
            ];
            if !known.iter().any(|e| path.ends_with(e)) {
                continue;
            }
            checked += 1;
            // Paths are written from the repository, from `crates/`, or
            // (short forms) from the web crate's sources or the browser suite.
            let found = [
                root.clone(),
                root.join("crates"),
                root.join("crates/web"),
                root.join("crates/web/src"),
                root.join("e2e"),
            ]
            .iter()
            .any(|base| base.join(path).exists());
            if !found {
                missing.push(path.to_string());
            }
        }
        assert!(checked > 50, "the map names files: {checked}");
        assert!(
            missing.is_empty(),
            "docs/ARCHITECTURE.md names files that do not exist: {missing:#?}"
        );
    }
}
