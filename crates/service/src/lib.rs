//! The services: the one place where the lifecycle, access and validation rules
//! are applied. The API and the web UI both call these; neither changes a
//! status or checks a role on its own.

pub mod admin;
pub mod audit;
pub mod audit_text;
pub mod auth;
pub mod clock;
pub mod consultations;
pub mod corrections;
pub mod demo;
pub mod dicom;
pub mod documents;
pub mod error;
pub mod federal;
pub mod fhir;
pub mod fhir_hooks;
pub mod files;
pub mod generate;
pub mod jobs;
pub mod keys;
pub mod live;
pub mod monitor;
pub mod notifications;
pub mod reports;
pub mod semd;
pub mod sessions;
pub mod totp;
pub mod video;
pub mod views;

pub use auth::Actor;
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::ServiceError;

use std::sync::Arc;

use rtms_store::Db;

/// Everything a request handler needs: the database, the clock and the live hub.
#[derive(Clone)]
pub struct Services {
    pub db: Db,
    pub clock: Arc<dyn Clock>,
    pub live: live::LiveHub,
    /// E-mail, when an SMTP relay is configured.
    pub mail: Option<Arc<jobs::MailConfig>>,
    /// Attachments: the object store and the uploads in progress.
    pub files: Arc<files::FileStore>,
    /// TURN for the video rooms, when coturn is configured.
    pub turn: Option<Arc<video::TurnConfig>>,
    /// The address users open the system at (`--public-url`), for absolute
    /// links on documents; e-mail has its own copy in `mail`.
    pub public_url: Option<String>,
    /// The federal level's FHIR interface, for escalations (`--federal-url`).
    pub federal: Option<Arc<federal::FederalConfig>>,
    /// This instance runs the federal level (`--level federal`): nothing above it.
    pub federal_level: bool,
    /// Where FHIR subscriptions may send notifications (`fhir_hooks`).
    pub fhir_hooks: Arc<fhir_hooks::HookPolicy>,
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
    pub dicom_worker: Option<dicom::DicomWorker>,
    /// Reads recorded by group commit (see `audit::AuditQueue`).
    pub(crate) audit_queue: Arc<audit::AuditQueue>,
    /// Organizations as lists name them (see `consultations::Kept`).
    pub(crate) org_cache: Arc<consultations::Kept<consultations::Orgs>>,
    /// Medical profiles, as the filters and forms list them.
    pub(crate) profile_cache: Arc<consultations::Kept<Vec<rtms_store::models::Profile>>>,
}

impl Services {
    pub fn new(db: Db, clock: Arc<dyn Clock>) -> Self {
        Services {
            db,
            clock,
            live: live::LiveHub::new(),
            mail: None,
            files: Arc::new(files::FileStore::temporary()),
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
        }
    }

    /// Signers' CMS signatures are trusted when they chain up to these roots.
    pub fn with_trust_roots(mut self, roots: rtms_documents::cms::TrustRoots) -> Self {
        self.trust_roots = Arc::new(roots);
        self
    }

    /// Uploaded DICOM is indexed by this child process.
    pub fn with_dicom_worker(mut self, worker: dicom::DicomWorker) -> Self {
        self.dicom_worker = Some(worker);
        self
    }

    /// Attachments go to this store (`serve` sets the configured one).
    pub fn with_files(mut self, files: files::FileStore) -> Self {
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
