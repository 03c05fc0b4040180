//! Attachments: resumable uploads (the tus 1.0 protocol's server side lives in
//! the web crate; the rules and the bytes live here), content checks, and the
//! object store the finished files go to.
//!
//! The life of an upload:
//! 1. `begin_upload` checks access and size and creates an empty staging file
//!    on this instance's disk (`<data-dir>/uploads/<id>`). Its length is the
//!    upload's offset, so a restart loses nothing that was acknowledged.
//! 2. `append_upload` streams a request body onto the staging file (memory does
//!    not grow with the file) and hashes it on the way.
//! 3. When the last byte arrives the file is checked by content (never by its
//!    name), scanned by clamd when one is configured, moved into the object
//!    store, and only then does an `attachments` row make it visible. Each step
//!    can be repeated after a crash: the storage key is the upload's id.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use chrono::{Datelike, Duration};
use futures_util::{Stream, StreamExt};
use object_store::path::Path as ObjectPath;
use object_store::{GetOptions, GetRange, ObjectStore, WriteMultipart};
use rtms_domain::Role;
use rtms_store::models::{Attachment, NewAttachment, Upload};
use rtms_store::{files as repo_files, repo};
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use utoipa::ToSchema;

use crate::error::ServiceError;
use crate::lifecycle::views::UserRef;
use crate::{Actor, Services};

type SResult<T> = Result<T, ServiceError>;

pub use super::kinds::*;

/// Where finished files are kept: a directory (the default), or any
/// S3-compatible store. Uploads in progress always stage on the local disk.
pub struct FileStore {
    staging: PathBuf,
    cache: PathBuf,
    backend: Backend,
    /// The largest file accepted, in bytes.
    pub max_bytes: u64,
    /// `host:port` of a clamd to scan every file with, if any.
    pub clamd: Option<String>,
    /// Hash state of uploads this process is receiving, so a resumed upload
    /// does not read its file again. Lost on restart; then rebuilt from the file.
    hashing: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Option<Hashing>>>>>,
    /// DICOM series views recorded in the audit log lately: (user,
    /// attachment, study, series) → when. See [`FRAME_AUDIT_WINDOW`].
    frame_reads: Mutex<HashMap<(i64, i64, usize, usize), std::time::Instant>>,
}

/// Frames of one series a user pages through within this time are one read
/// in the audit log (the first frame records it); after it, a frame records
/// the view again.
pub const FRAME_AUDIT_WINDOW: std::time::Duration = std::time::Duration::from_secs(10 * 60);

/// Series views remembered at most before the expired ones are dropped.
const FRAME_READS_MAX: usize = 10_000;

enum Backend {
    Local {
        root: PathBuf,
        store: object_store::local::LocalFileSystem,
    },
    Remote {
        store: Box<dyn ObjectStore>,
        label: String,
    },
}

struct Hashing {
    offset: u64,
    sha: Sha256,
}

/// Bytes gathered from the request body before one write to the staging file.
const WRITE_BLOCK: usize = 4 << 20;

/// Direct I/O wants memory, length and file offset aligned to the device's
/// block; 4 KiB suits every disk in use.
const ALIGN: usize = 4096;

/// A block buffer whose bytes start at an [`ALIGN`]ed address.
struct Block {
    buf: Vec<u8>,
    start: usize,
    len: usize,
}

impl Block {
    fn new() -> Block {
        let buf = vec![0u8; WRITE_BLOCK + ALIGN];
        let start = buf.as_ptr().align_offset(ALIGN);
        Block { buf, start, len: 0 }
    }

    fn bytes(&self) -> &[u8] {
        &self.buf[self.start..self.start + self.len]
    }

    /// Appends up to `room` bytes of `data`; returns how many it took.
    fn fill(&mut self, data: &[u8], room: usize) -> usize {
        let n = data.len().min(room.saturating_sub(self.len));
        let at = self.start + self.len;
        self.buf[at..at + n].copy_from_slice(&data[..n]);
        self.len += n;
        n
    }
}

/// The staging file, opened twice where the file system allows: with
/// `O_DIRECT` for whole aligned blocks (the disk takes them without the
/// kernel's copy into the page cache, which was most of an upload's CPU), and
/// plainly for the rest (a resumed upload's unaligned start, the last block).
struct Staging {
    plain: std::fs::File,
    direct: Option<std::fs::File>,
    len: u64,
}

impl Staging {
    fn open(path: &Path) -> std::io::Result<Staging> {
        let plain = std::fs::OpenOptions::new().append(true).open(path)?;
        let len = plain.metadata()?.len();
        #[cfg(target_os = "linux")]
        let direct = {
            use std::os::unix::fs::OpenOptionsExt;
            // tmpfs and some others refuse O_DIRECT: then every write is plain.
            std::fs::OpenOptions::new()
                .append(true)
                .custom_flags(libc::O_DIRECT)
                .open(path)
                .ok()
        };
        #[cfg(not(target_os = "linux"))]
        let direct = None;
        Ok(Staging { plain, direct, len })
    }

    fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        use std::io::Write;
        let aligned = self.len.is_multiple_of(ALIGN as u64) && bytes.len().is_multiple_of(ALIGN);
        let mut rest = bytes;
        if let Some(direct) = self.direct.as_mut().filter(|_| aligned) {
            match direct.write_all(bytes) {
                Ok(()) => rest = &[],
                Err(e) => {
                    // A file system may take the open and refuse the write:
                    // the length shows what it kept; the rest goes plainly.
                    tracing::debug!(error = %e, "direct write refused; writing plainly");
                    self.direct = None;
                    let kept = self.plain.metadata()?.len().saturating_sub(self.len);
                    rest = &bytes[(kept as usize).min(bytes.len())..];
                }
            }
        }
        self.plain.write_all(rest)?;
        self.len += bytes.len() as u64;
        Ok(())
    }
}

/// Writes blocks to the staging file and hashes them on blocking threads,
/// one block behind the caller (who fills the next block meanwhile); the
/// write and the hash of a block run side by side.
struct BlockWriter {
    state: Option<(Staging, Sha256)>,
    running: Option<tokio::task::JoinHandle<std::io::Result<Written>>>,
}

/// The file, the hash after the block, and the block's buffer for reuse.
type Written = (Staging, Sha256, Block);

impl BlockWriter {
    fn new(file: Staging, sha: Sha256) -> Self {
        BlockWriter {
            state: Some((file, sha)),
            running: None,
        }
    }

    /// Waits for the block in flight, if any; hands back its emptied buffer.
    async fn settle(&mut self) -> std::io::Result<Block> {
        match self.running.take() {
            Some(task) => {
                let (file, sha, mut spare) = task.await.map_err(std::io::Error::other)??;
                self.state = Some((file, sha));
                spare.len = 0;
                Ok(spare)
            }
            None => Ok(Block::new()),
        }
    }

    /// Starts writing `block`; returns an empty buffer for the next one.
    async fn write(&mut self, block: Block) -> std::io::Result<Block> {
        let spare = self.settle().await?;
        let (mut file, mut sha) = self
            .state
            .take()
            .ok_or_else(|| std::io::Error::other("writer"))?;
        self.running = Some(tokio::task::spawn_blocking(move || {
            let written = std::thread::scope(|s| {
                let hashing = s.spawn(|| {
                    sha.update(block.bytes());
                    sha
                });
                let written = file.write(block.bytes());
                (written, hashing.join())
            });
            match written {
                (Ok(()), Ok(sha)) => Ok((file, sha, block)),
                (Err(e), _) => Err(e),
                (_, Err(_)) => Err(std::io::Error::other("hashing failed")),
            }
        }));
        Ok(spare)
    }

    /// Writes the last block, then `fdatasync`; returns the running hash.
    async fn finish(mut self, last: Block) -> std::io::Result<Sha256> {
        if last.len > 0 {
            self.write(last).await?;
        }
        self.settle().await?;
        let (file, sha) = self
            .state
            .take()
            .ok_or_else(|| std::io::Error::other("writer"))?;
        tokio::task::spawn_blocking(move || file.plain.sync_data().map(|_| sha))
            .await
            .map_err(std::io::Error::other)?
    }
}

/// A body that sends nothing for this long is treated as dropped.
const BODY_IDLE: std::time::Duration = std::time::Duration::from_secs(30);

/// The default size limit: 4 GiB (a CT study of 2 GB is normal).
pub const DEFAULT_MAX_BYTES: u64 = 4 << 30;

impl FileStore {
    /// Files under `<dir>/files`, uploads staged in `<dir>/uploads`.
    pub fn local(dir: &Path) -> std::io::Result<FileStore> {
        let root = dir.join("files");
        std::fs::create_dir_all(&root)?;
        let store = object_store::local::LocalFileSystem::new_with_prefix(&root)
            .map_err(std::io::Error::other)?;
        FileStore::with_backend(dir, Backend::Local { root, store })
    }

    /// `s3://bucket[/prefix]` with the standard `AWS_*` variables (endpoint,
    /// keys, region, `AWS_ALLOW_HTTP`), or `file:///dir`; staging under `dir`.
    pub fn from_url(url: &str, dir: &Path) -> std::io::Result<FileStore> {
        if let Some(path) = url.strip_prefix("file://") {
            let mut s = FileStore::local(Path::new(path))?;
            s.staging = dir.join("uploads");
            std::fs::create_dir_all(&s.staging)?;
            return Ok(s);
        }
        if url.starts_with("s3://") {
            let store = object_store::aws::AmazonS3Builder::from_env()
                .with_url(url)
                .build()
                .map_err(std::io::Error::other)?;
            return FileStore::with_backend(
                dir,
                Backend::Remote {
                    store: Box::new(store),
                    label: url.to_string(),
                },
            );
        }
        Err(std::io::Error::other(format!(
            "unsupported storage URL {url}: use s3://bucket or file:///dir"
        )))
    }

    /// An S3-compatible bucket with explicit settings (tests, and setups
    /// that do not use the `AWS_*` variables).
    pub fn s3(bucket: &str, opts: &S3Options, dir: &Path) -> std::io::Result<FileStore> {
        let mut b = object_store::aws::AmazonS3Builder::new()
            .with_bucket_name(bucket)
            .with_region(&opts.region)
            .with_access_key_id(&opts.access_key_id)
            .with_secret_access_key(&opts.secret_access_key);
        if let Some(e) = &opts.endpoint {
            b = b
                .with_endpoint(e)
                .with_allow_http(e.starts_with("http://"))
                .with_virtual_hosted_style_request(false);
        }
        let store = b.build().map_err(std::io::Error::other)?;
        FileStore::with_backend(
            dir,
            Backend::Remote {
                store: Box::new(store),
                label: format!("s3://{bucket}"),
            },
        )
    }

    fn with_backend(dir: &Path, backend: Backend) -> std::io::Result<FileStore> {
        let staging = dir.join("uploads");
        let cache = dir.join("cache");
        std::fs::create_dir_all(&staging)?;
        std::fs::create_dir_all(&cache)?;
        Ok(FileStore {
            staging,
            cache,
            backend,
            max_bytes: DEFAULT_MAX_BYTES,
            clamd: None,
            hashing: Mutex::new(HashMap::new()),
            frame_reads: Mutex::new(HashMap::new()),
        })
    }

    /// A fresh directory under the system's temporary one (tests and tools).
    pub fn temporary() -> FileStore {
        static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "rtms-files-{}-{}",
            std::process::id(),
            N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        FileStore::local(&dir).expect("a temporary directory")
    }

    pub fn describe(&self) -> String {
        match &self.backend {
            Backend::Local { root, .. } => format!("directory {}", root.display()),
            Backend::Remote { label, .. } => label.clone(),
        }
    }

    fn staging_path(&self, id: &str) -> PathBuf {
        self.staging.join(id)
    }

    fn store(&self) -> &dyn ObjectStore {
        match &self.backend {
            Backend::Local { store, .. } => store,
            Backend::Remote { store, .. } => store.as_ref(),
        }
    }

    fn lock_for(&self, id: &str) -> Arc<tokio::sync::Mutex<Option<Hashing>>> {
        self.hashing
            .lock()
            .unwrap()
            .entry(id.to_string())
            .or_default()
            .clone()
    }

    /// Whether this view of a series is new (not recorded within
    /// [`FRAME_AUDIT_WINDOW`]); if so, it counts as recorded from now.
    pub(crate) fn first_frame_read(&self, key: (i64, i64, usize, usize)) -> bool {
        let now = std::time::Instant::now();
        let mut seen = self.frame_reads.lock().unwrap_or_else(|p| p.into_inner());
        if seen.len() >= FRAME_READS_MAX {
            seen.retain(|_, at| now.duration_since(*at) < FRAME_AUDIT_WINDOW);
        }
        match seen.get(&key) {
            Some(at) if now.duration_since(*at) < FRAME_AUDIT_WINDOW => false,
            _ => {
                seen.insert(key, now);
                true
            }
        }
    }

    /// Forgets a recorded view (its audit entry could not be written).
    pub(crate) fn forget_frame_read(&self, key: (i64, i64, usize, usize)) {
        self.frame_reads
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&key);
    }

    fn forget(&self, id: &str) {
        self.hashing.lock().unwrap().remove(id);
    }

    /// Moves a finished staging file into the store under `key`. On a local
    /// store this is a rename (no second copy of a 2 GB study); on S3 a
    /// multipart upload read from the file piece by piece.
    async fn put_file(&self, key: &str, file: &Path) -> std::io::Result<()> {
        match &self.backend {
            Backend::Local { root, .. } => {
                let target = root.join(key);
                if let Some(parent) = target.parent() {
                    tokio::fs::create_dir_all(parent).await?;
                }
                tokio::fs::rename(file, &target).await
            }
            Backend::Remote { store, .. } => {
                let upload = store
                    .put_multipart(&ObjectPath::from(key))
                    .await
                    .map_err(std::io::Error::other)?;
                let mut writer = WriteMultipart::new_with_chunk_size(upload, 8 << 20);
                let mut f = tokio::fs::File::open(file).await?;
                let mut buf = vec![0u8; 1 << 20];
                loop {
                    let n = tokio::io::AsyncReadExt::read(&mut f, &mut buf).await?;
                    if n == 0 {
                        break;
                    }
                    writer
                        .wait_for_capacity(2)
                        .await
                        .map_err(std::io::Error::other)?;
                    writer.write(&buf[..n]);
                }
                writer.finish().await.map_err(std::io::Error::other)?;
                tokio::fs::remove_file(file).await
            }
        }
    }

    /// Stores a small object (a rendered document) whole.
    pub async fn put_bytes(&self, key: &str, bytes: Vec<u8>) -> std::io::Result<()> {
        self.store()
            .put(&ObjectPath::from(key), bytes.into())
            .await
            .map(|_| ())
            .map_err(std::io::Error::other)
    }

    async fn exists(&self, key: &str) -> bool {
        self.store().head(&ObjectPath::from(key)).await.is_ok()
    }

    /// The bytes of a stored file, or of the given range of it, as a stream.
    pub async fn open(
        &self,
        key: &str,
        range: Option<std::ops::Range<u64>>,
    ) -> std::io::Result<(
        u64,
        std::pin::Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send>>,
    )> {
        let opts = GetOptions {
            range: range.map(GetRange::Bounded),
            ..Default::default()
        };
        let got = self
            .store()
            .get_opts(&ObjectPath::from(key), opts)
            .await
            .map_err(std::io::Error::other)?;
        let size = got.meta.size;
        let stream = got.into_stream().map(|r| r.map_err(std::io::Error::other));
        Ok((size, Box::pin(stream)))
    }

    /// A path on this machine with the file's bytes: the file itself on a
    /// local store, else a cached copy fetched once (the DICOM reader needs to seek).
    pub async fn local_path(&self, key: &str) -> std::io::Result<PathBuf> {
        match &self.backend {
            Backend::Local { root, .. } => Ok(root.join(key)),
            Backend::Remote { .. } => {
                let cached = self.cache.join(key.replace('/', "_"));
                if tokio::fs::metadata(&cached).await.is_ok() {
                    return Ok(cached);
                }
                let tmp = cached.with_extension(format!("part{}", rand::random::<u32>()));
                let (_, mut stream) = self.open(key, None).await?;
                let mut out = tokio::fs::File::create(&tmp).await?;
                while let Some(chunk) = stream.next().await {
                    out.write_all(&chunk?).await?;
                }
                out.sync_all().await?;
                tokio::fs::rename(&tmp, &cached).await?;
                Ok(cached)
            }
        }
    }

    pub async fn delete(&self, key: &str) -> std::io::Result<()> {
        self.store()
            .delete(&ObjectPath::from(key))
            .await
            .map_err(std::io::Error::other)
    }
}

/// Settings of an S3-compatible store.
#[derive(Debug, Clone)]
pub struct S3Options {
    /// `http://host:port` of a non-AWS server (MinIO, Garage, moto…).
    pub endpoint: Option<String>,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
}

/// Scans a file with clamd's INSTREAM command. `Ok(None)`: clean;
/// `Ok(Some(name))`: the signature found.
pub fn clamd_scan(addr: &str, path: &Path) -> std::io::Result<Option<String>> {
    use std::io::Write;
    let mut sock = std::net::TcpStream::connect(addr)?;
    sock.set_read_timeout(Some(std::time::Duration::from_secs(300)))?;
    sock.write_all(b"zINSTREAM\0")?;
    let mut f = std::fs::File::open(path)?;
    let mut buf = vec![0u8; 64 << 10];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        sock.write_all(&(n as u32).to_be_bytes())?;
        sock.write_all(&buf[..n])?;
    }
    sock.write_all(&0u32.to_be_bytes())?;
    let mut reply = String::new();
    sock.read_to_string(&mut reply)?;
    let reply = reply.trim_end_matches('\0').trim();
    if reply.ends_with("OK") {
        Ok(None)
    } else if let Some(found) = reply.strip_suffix("FOUND") {
        Ok(Some(
            found
                .trim()
                .trim_start_matches("stream:")
                .trim()
                .to_string(),
        ))
    } else {
        Err(std::io::Error::other(format!("clamd: {reply}")))
    }
}

/// An upload in progress, as the tus `HEAD` reports it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UploadState {
    pub id: String,
    pub offset: u64,
    pub length: u64,
    /// Set once the file is complete, checked and visible.
    pub attachment_id: Option<i64>,
}

/// A file attached to a request, as everyone who may see the request sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AttachmentView {
    pub id: i64,
    pub message_id: Option<i64>,
    pub file_name: String,
    pub kind: FileKind,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    /// `clean` when clamd scanned it, `not_scanned` when none is configured.
    pub scan: String,
    pub uploaded_by: UserRef,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Why a DICOM file could not be indexed (a code: `nesting_too_deep`,
    /// `zip_ratio`, `index_crashed`…); absent when it was, or is not DICOM.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dicom_error: Option<String>,
}

/// What a new upload says about itself (tus `Upload-Length` and `Upload-Metadata`).
#[derive(Debug, Clone)]
pub struct NewUpload {
    pub consultation_id: i64,
    pub message_id: Option<i64>,
    pub file_name: String,
    pub length: u64,
}

/// The storage key of an upload's finished file: stable, so a retried
/// completion finds what an interrupted one already stored.
fn storage_key(u: &Upload) -> String {
    format!(
        "attachments/{:04}/{:02}/{}",
        u.created_at.year(),
        u.created_at.month(),
        u.id
    )
}

/// A file name as shown and offered for download: no directories, no control
/// characters, not empty, at most 200 characters.
pub fn clean_file_name(name: &str) -> Option<String> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && !is_format_char(*c))
        .take(200)
        .collect();
    let cleaned = cleaned.trim().to_string();
    if cleaned.is_empty() || cleaned == "." || cleaned == ".." {
        None
    } else {
        Some(cleaned)
    }
}

/// Invisible characters that change how a name reads: bidirectional
/// overrides (`отчёт` U+202E `fdp.exe` reads as `отчётexe.pdf`), zero-width ones, the
/// byte-order mark.
pub fn is_format_char(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206F}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}')
}

impl Services {
    async fn db_blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Services) -> SResult<T> + Send + 'static,
    ) -> SResult<T> {
        let svc = self.clone();
        tokio::task::spawn_blocking(move || f(&svc))
            .await
            .map_err(|e| ServiceError::Store(rtms_store::StoreError::Other(e.to_string())))?
    }

    /// Who may add files: the requesting side and the assigned consultants,
    /// while the request is not finished.
    fn may_attach(
        &self,
        conn: &mut rtms_store::DbConn,
        actor: &Actor,
        consultation_id: i64,
        message_id: Option<i64>,
    ) -> SResult<Role> {
        let c = self.visible(conn, actor, consultation_id)?;
        let consultants = repo::assigned_consultants(conn, consultation_id)?;
        let roles = self.roles_on(actor, &c, &consultants, None);
        let status = crate::lifecycle::consultations::status_of(&c);
        // The dispatcher attaches the protocol the federal level returned by other means.
        let federal_paper = status == rtms_domain::Status::Escalated
            && roles.contains(&Role::Dispatcher)
            && message_id.is_none();
        let role = [Role::Doctor, Role::Head, Role::Consultant]
            .into_iter()
            .find(|r| roles.contains(r))
            .or(federal_paper.then_some(Role::Dispatcher))
            .ok_or(ServiceError::Forbidden)?;
        if status.is_final() {
            return Err(ServiceError::WrongState {
                status,
                action: rtms_domain::Action::Answer,
            });
        }
        if let Some(mid) = message_id {
            let own = repo::messages(conn, consultation_id)?
                .iter()
                .any(|m| m.id == mid && m.author_id == actor.user.id);
            if !own {
                return Err(ServiceError::field("message_id", "unknown_value"));
            }
        }
        Ok(role)
    }

    /// Whether the actor may add files to the request now (for showing the control).
    pub fn can_attach(&self, actor: &Actor, consultation_id: i64) -> bool {
        match self.db.conn() {
            Ok(mut conn) => self
                .may_attach(&mut conn, actor, consultation_id, None)
                .is_ok(),
            Err(_) => false,
        }
    }

    /// Starts a resumable upload; returns its id.
    pub fn begin_upload(&self, actor: &Actor, new: &NewUpload) -> SResult<String> {
        let name = clean_file_name(&new.file_name)
            .ok_or_else(|| ServiceError::field("filename", "required"))?;
        check_name(&name).map_err(ServiceError::refused)?;
        let now = self.clock.now().naive_utc();
        let id = hex::encode(rand::random::<[u8; 16]>());
        self.db.write(|conn| {
            let role = self.may_attach(conn, actor, new.consultation_id, new.message_id)?;
            if new.length == 0 {
                return Err(ServiceError::refused("file_empty"));
            }
            if new.length > self.files.max_bytes {
                return Err(ServiceError::refused("file_too_large"));
            }
            self.check_quotas(conn, actor, role, new.length)?;
            repo_files::insert_upload(
                conn,
                &Upload {
                    id: id.clone(),
                    consultation_id: new.consultation_id,
                    message_id: new.message_id,
                    user_id: actor.user.id,
                    file_name: name.clone(),
                    length: new.length as i64,
                    sha256: None,
                    kind: None,
                    created_at: now,
                    updated_at: now,
                },
            )?;
            Ok(())
        })?;
        std::fs::File::create(self.files.staging_path(&id))
            .map_err(|e| ServiceError::Store(rtms_store::StoreError::Other(e.to_string())))?;
        Ok(id)
    }

    /// Refuses an upload of `length` bytes that would take the user, or the
    /// organization they attach for, past its quota (`upload_quota_*_mb`):
    /// what they hold in attachments plus uploads in progress at their
    /// announced length. Checked in the transaction that creates the upload.
    fn check_quotas(
        &self,
        conn: &mut rtms_store::DbConn,
        actor: &Actor,
        role: Role,
        length: u64,
    ) -> SResult<()> {
        let (org_mb, user_mb) = crate::directory::admin::upload_quotas(conn)?;
        let over = |scope: &'static str, limit_mb: i64, used: i64| {
            let limit = (limit_mb.max(0) as u64).saturating_mul(1 << 20);
            let used = used.max(0) as u64;
            if limit_mb > 0 && used.saturating_add(length) > limit {
                Err(ServiceError::QuotaExceeded {
                    scope,
                    limit,
                    used,
                    requested: length,
                })
            } else {
                Ok(())
            }
        };
        if user_mb > 0 {
            over(
                "user",
                user_mb,
                repo_files::bytes_of_user(conn, actor.user.id)?,
            )?;
        }
        if org_mb > 0 {
            if let Some(m) = actor.roles.iter().find(|m| m.role == role) {
                over(
                    "organization",
                    org_mb,
                    repo_files::bytes_of_org(conn, m.org.id)?,
                )?;
            }
        }
        Ok(())
    }

    /// The upload, if it is the actor's own.
    fn own_upload(&self, actor: &Actor, id: &str) -> SResult<Upload> {
        let mut conn = self.db.conn()?;
        match repo_files::upload(&mut conn, id)? {
            Some(u) if u.user_id == actor.user.id => Ok(u),
            _ => Err(ServiceError::refused("upload_gone")),
        }
    }

    /// Where an upload stands: how many bytes arrived, and the attachment it
    /// became once complete. A finished upload stays answerable by its id.
    pub async fn upload_state(&self, actor: &Actor, id: &str) -> SResult<UploadState> {
        let a = actor.clone();
        let key_id = id.to_string();
        let found = self
            .db_blocking(move |svc| {
                let mut conn = svc.db.conn()?;
                let up = repo_files::upload(&mut conn, &key_id)?;
                match up {
                    Some(u) if u.user_id == a.user.id => Ok((Some(u), None)),
                    Some(_) => Err(ServiceError::refused("upload_gone")),
                    None => {
                        let done = repo_files::attachment_of_upload(&mut conn, &key_id)?;
                        let key_suffix = done.filter(|x| x.uploaded_by == a.user.id);
                        Ok((None, key_suffix))
                    }
                }
            })
            .await?;
        match found {
            (Some(u), _) => {
                // A body still arriving (or a dropped one still being written)
                // finishes first: the offset answered is the one to resume from.
                let lock = self.files.lock_for(id);
                let _guard = tokio::time::timeout(BODY_IDLE * 2, lock.lock())
                    .await
                    .map_err(|_| ServiceError::refused("upload_busy"))?;
                let offset = staged_len(&self.files.staging_path(id)).await;
                Ok(UploadState {
                    id: id.to_string(),
                    offset: offset.unwrap_or(u.length as u64),
                    length: u.length as u64,
                    attachment_id: None,
                })
            }
            (None, Some(att)) => Ok(UploadState {
                id: id.to_string(),
                offset: att.size as u64,
                length: att.size as u64,
                attachment_id: Some(att.id),
            }),
            (None, None) => Err(ServiceError::refused("upload_gone")),
        }
    }

    /// Appends a request body at `offset`. Bytes that arrived before the
    /// connection dropped are kept; the client resumes from the new offset.
    /// When the last byte is in, the file is checked and becomes an attachment.
    pub async fn append_upload<S, E>(
        &self,
        actor: &Actor,
        id: &str,
        offset: u64,
        body: S,
    ) -> SResult<UploadState>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let a = actor.clone();
        let uid = id.to_string();
        let upload = self
            .db_blocking(move |svc| svc.own_upload(&a, &uid))
            .await?;
        let lock = self.files.lock_for(id);
        let mut guard = tokio::time::timeout(BODY_IDLE * 2, lock.lock())
            .await
            .map_err(|_| ServiceError::refused("upload_busy"))?;
        let path = self.files.staging_path(id);
        let Some(current) = staged_len(&path).await else {
            // The bytes already moved on (a completion was interrupted after the move).
            return self.complete_upload(actor, upload, None).await;
        };
        if current != offset {
            return Err(ServiceError::refused("upload_offset"));
        }
        // Resume the running hash, or rebuild it from the file after a restart.
        let mut hashing = match guard.take() {
            Some(h) if h.offset == current => h,
            _ => Hashing {
                offset: current,
                sha: hash_prefix(&path).await.map_err(io)?,
            },
        };
        let length = upload.length as u64;
        let file = Staging::open(&path).map_err(io)?;
        // The body arrives in small frames; it is gathered into large blocks,
        // each written and hashed on blocking threads while the next block
        // arrives (two blocks in flight at most). Blocks end on aligned file
        // offsets, so that all but a resumed upload's first and last go direct.
        let mut writer = BlockWriter::new(file, hashing.sha.clone());
        // The first block brings the file to an aligned length.
        let mut room = WRITE_BLOCK - (hashing.offset % ALIGN as u64) as usize;
        let mut block = Block::new();
        let mut received = hashing.offset;
        let mut body = body;
        let mut failure = None;
        'body: loop {
            let chunk = match tokio::time::timeout(BODY_IDLE, body.next()).await {
                Ok(Some(c)) => c,
                Ok(None) => break,
                Err(_) => {
                    // A half-open connection: keep what came, free the upload.
                    failure = Some(ServiceError::refused("upload_interrupted"));
                    break;
                }
            };
            match chunk {
                Ok(bytes) => {
                    if received + bytes.len() as u64 > length {
                        failure = Some(ServiceError::refused("file_too_large"));
                        break;
                    }
                    received += bytes.len() as u64;
                    let mut data = &bytes[..];
                    while !data.is_empty() {
                        let took = block.fill(data, room);
                        data = &data[took..];
                        if block.len == room {
                            match writer.write(block).await {
                                Ok(spare) => block = spare,
                                Err(e) => {
                                    // The file's length says what was kept.
                                    failure = Some(io(e));
                                    block = Block::new();
                                    break 'body;
                                }
                            }
                            room = WRITE_BLOCK;
                        }
                    }
                }
                Err(e) => {
                    tracing::info!(upload = id, error = %e, "upload interrupted");
                    failure = Some(ServiceError::refused("upload_interrupted"));
                    break;
                }
            }
        }
        // What arrived is kept and made durable before anyone is told the offset.
        match writer.finish(block).await {
            Ok(sha) => {
                hashing = Hashing {
                    offset: received,
                    sha,
                };
            }
            Err(e) => {
                // The file's length says what was kept; the hash is rebuilt from it.
                drop(guard);
                return Err(failure.unwrap_or(io(e)));
            }
        }
        let reached = hashing.offset;
        let done = reached == length;
        let digest = if done {
            Some(hex::encode(hashing.sha.clone().finalize()))
        } else {
            None
        };
        *guard = Some(hashing);
        drop(guard);
        let now = self.clock.now().naive_utc();
        let uid = id.to_string();
        self.db_blocking(move |svc| {
            svc.db
                .write(|conn| -> SResult<()> { Ok(repo_files::touch_upload(conn, &uid, now)?) })
        })
        .await?;
        if let Some(e) = failure {
            return Err(e);
        }
        if done {
            return self.complete_upload(actor, upload, digest).await;
        }
        Ok(UploadState {
            id: id.to_string(),
            offset: reached,
            length,
            attachment_id: None,
        })
    }

    /// Checks a complete upload, stores it and makes it visible. Repeatable:
    /// each step looks at what an interrupted earlier attempt left.
    async fn complete_upload(
        &self,
        actor: &Actor,
        upload: Upload,
        digest: Option<String>,
    ) -> SResult<UploadState> {
        let path = self.files.staging_path(&upload.id);
        let key = storage_key(&upload);
        let staged = tokio::fs::metadata(&path).await.is_ok();
        let (sha, kind, details) = if staged {
            let sha = match digest {
                Some(d) => d,
                None => hex::encode(hash_prefix(&path).await.map_err(io)?.finalize()),
            };
            let p = path.clone();
            let name = upload.file_name.clone();
            let clamd = self.files.clamd.clone();
            let checked = tokio::task::spawn_blocking(move || -> SResult<(FileKind, String)> {
                let kind = classify(&p).map_err(ServiceError::refused)?;
                check_agreement(kind, &name).map_err(ServiceError::refused)?;
                let scan = match clamd {
                    None => "not_scanned".to_string(),
                    Some(addr) => match clamd_scan(&addr, &p) {
                        Ok(None) => "clean".to_string(),
                        Ok(Some(sig)) => {
                            tracing::warn!(signature = %sig, "infected upload refused");
                            return Err(ServiceError::refused("file_infected"));
                        }
                        Err(e) => {
                            tracing::error!(error = %e, "clamd unavailable");
                            return Err(ServiceError::refused("scan_unavailable"));
                        }
                    },
                };
                Ok((kind, scan))
            })
            .await
            .map_err(|e| ServiceError::Store(rtms_store::StoreError::Other(e.to_string())))?;
            let (kind, scan) = match checked {
                Ok(k) => k,
                Err(e) => {
                    // A refused file is not kept half-way: the upload goes.
                    if !matches!(
                        &e,
                        ServiceError::Refused {
                            code: "scan_unavailable"
                        }
                    ) {
                        self.drop_upload(&upload.id).await;
                    }
                    return Err(e);
                }
            };
            let details =
                crate::attachments::dicom::index_details(kind, &path, self.dicom_worker.clone())
                    .await;
            let now = self.clock.now().naive_utc();
            let (uid, s, k) = (upload.id.clone(), sha.clone(), kind.as_str().to_string());
            self.db_blocking(move |svc| {
                svc.db.write(|conn| -> SResult<()> {
                    Ok(repo_files::set_upload_checked(conn, &uid, &s, &k, now)?)
                })
            })
            .await?;
            self.files.put_file(&key, &path).await.map_err(io)?;
            (sha, kind, (scan, details))
        } else {
            // Moved before a crash: the row remembers what the check found.
            match (
                &upload.sha256,
                upload.kind.as_deref().and_then(FileKind::parse),
            ) {
                (Some(sha), Some(kind)) if self.files.exists(&key).await => (
                    sha.clone(),
                    kind,
                    ("not_scanned".to_string(), String::from("{}")),
                ),
                _ => return Err(ServiceError::refused("upload_gone")),
            }
        };
        let (scan, details) = details;
        let a = actor.clone();
        let up = upload.clone();
        let now = self.clock.now().naive_utc();
        let attachment_id = self
            .db_blocking(move |svc| {
                svc.db.write(|conn| {
                    if let Some(done) = repo_files::attachment_by_key(conn, &key)? {
                        return Ok((done.id, Vec::new()));
                    }
                    let role = svc.may_attach(conn, &a, up.consultation_id, up.message_id)?;
                    let id = repo_files::insert_attachment(
                        conn,
                        &NewAttachment {
                            consultation_id: up.consultation_id,
                            message_id: up.message_id,
                            uploaded_by: a.user.id,
                            file_name: up.file_name.clone(),
                            kind: kind.as_str().to_string(),
                            content_type: kind.content_type().to_string(),
                            size: up.length,
                            sha256: sha.clone(),
                            storage_key: key.clone(),
                            scan: scan.clone(),
                            details: details.clone(),
                            created_at: now,
                        },
                    )?;
                    repo_files::delete_upload(conn, &up.id)?;
                    // The other side of the case hears of the new file.
                    let c = repo::consultation(conn, up.consultation_id)?;
                    let mut told: Vec<i64> = repo::assigned_consultants(conn, c.id)?
                        .into_iter()
                        .map(|m| m.user_id)
                        .chain([c.requester_id])
                        .filter(|u| *u != a.user.id)
                        .collect();
                    told.sort_unstable();
                    told.dedup();
                    svc.deliver(conn, &told, c.id, "attachment")?;
                    svc.audit_in(
                        conn,
                        &a,
                        Some(role),
                        "attach",
                        ("consultation", &up.consultation_id.to_string()),
                        &serde_json::json!({
                            "attachment": id,
                            "name": up.file_name,
                            "bytes": up.length,
                            "sha256": sha,
                        })
                        .to_string(),
                    )?;
                    Ok((id, told))
                })
            })
            .await?;
        let (attachment_id, told) = attachment_id;
        self.files.forget(&upload.id);
        self.live.publish(crate::platform::live::LiveEvent {
            consultation_id: upload.consultation_id,
            users: told,
            kind: "attachment".into(),
            queue_changed: false,
        });
        Ok(UploadState {
            id: upload.id,
            offset: upload.length as u64,
            length: upload.length as u64,
            attachment_id: Some(attachment_id),
        })
    }

    async fn drop_upload(&self, id: &str) {
        let _ = tokio::fs::remove_file(self.files.staging_path(id)).await;
        crate::attachments::dicom::forget_marker(&self.files.staging_path(id));
        self.files.forget(id);
        let uid = id.to_string();
        let _ = self
            .db_blocking(move |svc| {
                svc.db
                    .write(|conn| -> SResult<bool> { Ok(repo_files::delete_upload(conn, &uid)?) })
            })
            .await;
    }

    /// tus termination: the client gives up on an upload.
    pub async fn cancel_upload(&self, actor: &Actor, id: &str) -> SResult<()> {
        let a = actor.clone();
        let uid = id.to_string();
        self.db_blocking(move |svc| svc.own_upload(&a, &uid))
            .await?;
        self.drop_upload(id).await;
        Ok(())
    }

    /// Removes uploads nobody touched for a day, with their staged bytes.
    pub async fn sweep_uploads(&self) -> SResult<usize> {
        let before = (self.clock.now() - Duration::hours(24)).naive_utc();
        let stale = self
            .db_blocking(move |svc| {
                let mut conn = svc.db.conn()?;
                Ok(repo_files::stale_uploads(&mut conn, before)?)
            })
            .await?;
        for u in &stale {
            self.drop_upload(&u.id).await;
        }
        Ok(stale.len())
    }

    /// The files of a request, for everyone who may see the request. The
    /// list names files of a patient: the read is audited.
    pub fn attachments(&self, actor: &Actor, consultation_id: i64) -> SResult<Vec<AttachmentView>> {
        let list = self.attachments_unaudited(actor, consultation_id)?;
        let ids: Vec<String> = list.iter().map(|a| a.id.to_string()).collect();
        self.audit_read(
            actor,
            self.acting_role(actor, consultation_id)?,
            ("attachment_list", &consultation_id.to_string()),
            &format!("attachments [{}]", ids.join(",")),
        )?;
        Ok(list)
    }

    /// The same list, for a read that is audited as a whole (the request page).
    pub(crate) fn attachments_unaudited(
        &self,
        actor: &Actor,
        consultation_id: i64,
    ) -> SResult<Vec<AttachmentView>> {
        let mut conn = self.db.conn()?;
        self.visible(&mut conn, actor, consultation_id)?;
        let rows = repo_files::attachments_of(&mut conn, consultation_id)?;
        let users = repo::users_by_ids(
            &mut conn,
            &rows.iter().map(|a| a.uploaded_by).collect::<Vec<_>>(),
        )?;
        Ok(rows
            .into_iter()
            .map(|a| attachment_view(a, &users))
            .collect())
    }

    /// One attachment for reading; the read is audited (it carries personal data).
    pub fn attachment_for_reading(&self, actor: &Actor, id: i64) -> SResult<Attachment> {
        self.db.write(|conn| {
            let a = repo_files::attachment(conn, id)?.ok_or(ServiceError::NotFound)?;
            self.visible(conn, actor, a.consultation_id)?;
            self.audit_in(
                conn,
                actor,
                None,
                "read_attachment",
                ("consultation", &a.consultation_id.to_string()),
                &format!("attachment {id}"),
            )?;
            Ok(a)
        })
    }

    /// One attachment's row, if the actor may see its request (no audit: metadata only).
    pub fn attachment_meta(&self, actor: &Actor, id: i64) -> SResult<Attachment> {
        let mut conn = self.db.conn()?;
        let a = repo_files::attachment(&mut conn, id)?.ok_or(ServiceError::NotFound)?;
        self.visible(&mut conn, actor, a.consultation_id)?;
        Ok(a)
    }
}

pub(crate) fn attachment_view(a: Attachment, users: &[rtms_store::models::User]) -> AttachmentView {
    AttachmentView {
        id: a.id,
        message_id: a.message_id,
        kind: FileKind::parse(&a.kind).unwrap_or(FileKind::Pdf),
        content_type: a.content_type,
        size: a.size,
        sha256: a.sha256,
        scan: a.scan,
        uploaded_by: UserRef {
            id: a.uploaded_by,
            name: users
                .iter()
                .find(|u| u.id == a.uploaded_by)
                .map(|u| u.short_name())
                .unwrap_or_default(),
        },
        created_at: chrono::DateTime::from_naive_utc_and_offset(a.created_at, chrono::Utc),
        dicom_error: crate::attachments::dicom::details_error(&a.details),
        file_name: a.file_name,
    }
}

async fn staged_len(path: &Path) -> Option<u64> {
    tokio::fs::metadata(path).await.ok().map(|m| m.len())
}

async fn hash_prefix(path: &Path) -> std::io::Result<Sha256> {
    let p = path.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let mut f = std::fs::File::open(p)?;
        let mut sha = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = f.read(&mut buf)?;
            if n == 0 {
                return Ok(sha);
            }
            sha.update(&buf[..n]);
        }
    })
    .await
    .map_err(std::io::Error::other)?
}

fn io(e: std::io::Error) -> ServiceError {
    ServiceError::Store(rtms_store::StoreError::Other(format!("file storage: {e}")))
}

impl Services {
    /// Attaches a file received whole (e.g. inside a FHIR Bundle): the same
    /// checks, store and audit as a resumable upload.
    pub async fn attach_bytes(
        &self,
        actor: &Actor,
        consultation_id: i64,
        name: &str,
        bytes: Vec<u8>,
    ) -> SResult<i64> {
        let svc = self.clone();
        let a = actor.clone();
        let new = NewUpload {
            consultation_id,
            message_id: None,
            file_name: name.to_string(),
            length: bytes.len() as u64,
        };
        let id = tokio::task::spawn_blocking(move || svc.begin_upload(&a, &new))
            .await
            .map_err(|e| ServiceError::Store(rtms_store::StoreError::Other(e.to_string())))??;
        let body = futures_util::stream::iter([Ok::<_, std::io::Error>(Bytes::from(bytes))]);
        let state = self.append_upload(actor, &id, 0, body).await?;
        state
            .attachment_id
            .ok_or(ServiceError::refused("upload_gone"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_content_agree() {
        assert_eq!(type_extension("Эхо-КГ 12.11.pdf").as_deref(), Some("pdf"));
        assert_eq!(type_extension("Иванова И.И"), None);
        assert_eq!(type_extension("1.2.840.10008.5.1"), None);
        assert_eq!(type_extension("IM0001"), None);
        assert_eq!(check_name("отчёт.pdf.EXE"), Err("file_active_content"));
        assert_eq!(check_name("x.svg"), Err("file_active_content"));
        assert_eq!(check_name("x.pdf"), Ok(()));
        assert_eq!(
            check_agreement(FileKind::Png, "a.jpeg"),
            Err("file_extension_mismatch")
        );
        assert_eq!(check_agreement(FileKind::Jpeg, "a.JPG"), Ok(()));
        assert_eq!(check_agreement(FileKind::Dicom, "1.2.840.1"), Ok(()));
        assert_eq!(
            check_agreement(FileKind::Pdf, "скан.txt"),
            Err("file_extension_mismatch")
        );
        assert_eq!(
            clean_file_name("a\u{202E}gnp.exe").as_deref(),
            Some("agnp.exe")
        );
    }
}
