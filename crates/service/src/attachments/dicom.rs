//! DICOM studies among the attachments: the index of a study, computed once
//! when the upload completes and kept in the attachment's `details`, and
//! frames rendered as PNG for the browser's viewer with window/level presets.
//!
//! Uploaded bytes are hostile until proven otherwise. The dicom crate checks
//! a file's structure before parsing it (nesting depth, declared lengths, ZIP
//! budgets); on top of that, `rtms serve` indexes each upload in a child
//! process ([`DicomWorker`]: `rtms internal dicom-index <file>`) under memory,
//! CPU and wall-clock limits, so that not even a parser bug can end the
//! server. An indexing that never finished (the process died while it ran)
//! is not tried more than [`INDEX_ATTEMPTS`] times: the file is then kept as
//! failed, with a reason the file list shows.

use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rtms_dicom::{Preset, StudyIndex, Window};

use crate::attachments::kinds::FileKind;
use crate::error::ServiceError;
use crate::{Actor, Services};

/// Address space of the indexing child process (RLIMIT_AS): 2 GiB.
pub const WORKER_MEMORY_BYTES: u64 = 2 << 30;
/// CPU time of the indexing child process (RLIMIT_CPU), in seconds.
pub const WORKER_CPU_SECONDS: u64 = 60;
/// Wall-clock time the server waits for the indexing child before killing it.
pub const WORKER_WALL_TIME: Duration = Duration::from_secs(120);
/// Most bytes of JSON read from the indexing child (an index of a
/// 20,000-entry archive is a few megabytes).
pub const WORKER_OUTPUT_BYTES: u64 = 64 << 20;
/// Times the indexing of one upload is started before it is given up as
/// failed (`index_abandoned`): a run that killed the server leaves a marker
/// beside the staged file, counted on the next completion attempt.
pub const INDEX_ATTEMPTS: u32 = 2;

/// How to start the indexing child: `program args… <file>`, which prints the
/// attachment's details as JSON ([`index_worker_main`]) on standard output.
#[derive(Debug, Clone)]
pub struct DicomWorker {
    pub program: PathBuf,
    pub args: Vec<OsString>,
    /// Killed after this long; [`WORKER_WALL_TIME`] by default.
    pub wall_time: Duration,
}

impl DicomWorker {
    /// This very binary as the worker (`rtms internal dicom-index`).
    pub fn rtms(program: PathBuf) -> Self {
        DicomWorker {
            program,
            args: vec!["internal".into(), "dicom-index".into()],
            wall_time: WORKER_WALL_TIME,
        }
    }
}

/// The details of an index result: `{"dicom": …}` or `{"dicom_error": code}`.
fn details_of(indexed: Result<StudyIndex, rtms_dicom::DicomError>) -> String {
    match indexed {
        Ok(index) => serde_json::json!({ "dicom": index }).to_string(),
        Err(e) => failed(e.code()),
    }
}

fn failed(code: &str) -> String {
    serde_json::json!({ "dicom_error": code }).to_string()
}

/// The body of `rtms internal dicom-index <file>`: the details JSON of the
/// file, to print. Runs in the child process.
pub fn index_worker_main(path: &Path) -> String {
    details_of(rtms_dicom::index_path(path))
}

/// The reason a DICOM attachment could not be indexed, from its `details`.
pub fn details_error(details: &str) -> Option<String> {
    // A failure is a few bytes; an index may be megabytes not worth parsing here.
    if details.len() > 256 || !details.contains("dicom_error") {
        return None;
    }
    let details: serde_json::Value = serde_json::from_str(details).ok()?;
    details
        .get("dicom_error")
        .and_then(|e| e.as_str())
        .map(str::to_string)
}

/// Sets the child's limits; runs between fork and exec.
#[cfg(target_os = "linux")]
fn limit_child(cmd: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: only setrlimit, which is async-signal-safe, runs in the child
    // between fork and exec; nothing is allocated there.
    unsafe {
        cmd.pre_exec(|| {
            let set = |resource, value: u64| {
                let limit = libc::rlimit {
                    rlim_cur: value as libc::rlim_t,
                    rlim_max: value as libc::rlim_t,
                };
                if libc::setrlimit(resource, &limit) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            };
            set(libc::RLIMIT_AS, WORKER_MEMORY_BYTES)?;
            set(libc::RLIMIT_CPU, WORKER_CPU_SECONDS)?;
            set(libc::RLIMIT_CORE, 0)?;
            Ok(())
        });
    }
}

#[cfg(not(target_os = "linux"))]
fn limit_child(_cmd: &mut std::process::Command) {}

/// Indexes `path` in a child process; whatever happens to the child, the
/// answer is details JSON (`index_crashed`, `index_timeout` when it died or
/// hung).
fn index_in_worker(worker: &DicomWorker, path: &Path) -> String {
    let mut cmd = std::process::Command::new(&worker.program);
    cmd.args(&worker.args)
        .arg(path)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    limit_child(&mut cmd);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, program = %worker.program.display(), "cannot start the DICOM worker");
            return failed("index_crashed");
        }
    };
    // Read while waiting, so a large index cannot fill the pipe and stall.
    let stdout = child.stdout.take();
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        if let Some(s) = stdout {
            let _ = s.take(WORKER_OUTPUT_BYTES).read_to_end(&mut out);
        }
        out
    });
    let deadline = Instant::now() + worker.wall_time;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    let out = reader.join().unwrap_or_default();
    let Some(status) = status else {
        tracing::warn!(file = %path.display(), "DICOM indexing timed out; child killed");
        return failed("index_timeout");
    };
    let parsed = serde_json::from_slice::<serde_json::Value>(&out)
        .ok()
        .filter(|v| v.get("dicom").is_some() || v.get("dicom_error").is_some());
    match parsed {
        Some(v) if status.success() => v.to_string(),
        _ => {
            tracing::warn!(file = %path.display(), %status, "DICOM indexing crashed");
            failed("index_crashed")
        }
    }
}

/// The marker beside a staged file that says its indexing started, holding
/// the number of attempts.
fn marker_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".indexing");
    PathBuf::from(name)
}

/// Removes an upload's indexing marker (when its staged file goes).
pub(crate) fn forget_marker(path: &Path) {
    let _ = std::fs::remove_file(marker_path(path));
}

/// The index of a staged DICOM file as details JSON, in the worker when one
/// is configured, else in this thread (after the structural pre-scan).
/// An attempt is counted in a marker before the parse starts, so a parse
/// that ends the process is not run again after [`INDEX_ATTEMPTS`].
pub fn index_file(worker: Option<&DicomWorker>, path: &Path) -> String {
    let marker = marker_path(path);
    let attempts: u32 = std::fs::read_to_string(&marker)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0);
    if attempts >= INDEX_ATTEMPTS {
        tracing::warn!(file = %path.display(), attempts, "DICOM indexing given up after earlier attempts died");
        forget_marker(path);
        return failed("index_abandoned");
    }
    if let Err(e) = std::fs::write(&marker, (attempts + 1).to_string()) {
        tracing::warn!(error = %e, "cannot write the DICOM indexing marker");
    }
    let details = match worker {
        Some(w) => index_in_worker(w, path),
        None => details_of(rtms_dicom::index_path(path)),
    };
    forget_marker(path);
    details
}

/// The attachment's `details`: the study index for DICOM, else `{}`. A study
/// that cannot be indexed is still kept (the file is DICOM by its marker);
/// the file list and the viewer then say why it cannot be shown.
pub(crate) async fn index_details(
    kind: FileKind,
    path: &Path,
    worker: Option<DicomWorker>,
) -> String {
    if !kind.is_dicom() {
        return "{}".into();
    }
    let p = path.to_path_buf();
    let indexed = tokio::task::spawn_blocking(move || index_file(worker.as_ref(), &p)).await;
    match indexed {
        Ok(details) => details,
        Err(e) => {
            tracing::error!(error = %e, "DICOM indexing panicked");
            failed("index_crashed")
        }
    }
}

/// What the viewer needs about a study.
pub struct StudyView {
    pub attachment_id: i64,
    pub consultation_id: i64,
    pub file_name: String,
    pub index: Option<StudyIndex>,
    /// Why there is no index (a message code), if there is none.
    pub error: Option<String>,
}

/// One frame to render.
#[derive(Debug, Clone)]
pub struct FrameRequest {
    pub study: usize,
    pub series: usize,
    pub instance: usize,
    pub frame: u32,
    pub preset: Preset,
    /// A custom window overrides the preset.
    pub window: Option<Window>,
    pub max_side: Option<u32>,
}

impl Services {
    /// The study index of a DICOM attachment (the read is audited).
    pub fn study(&self, actor: &Actor, attachment_id: i64) -> Result<StudyView, ServiceError> {
        let a = self.attachment_for_reading(actor, attachment_id)?;
        let kind = FileKind::parse(&a.kind);
        if !kind.is_some_and(FileKind::is_dicom) {
            return Err(ServiceError::NotFound);
        }
        let details: serde_json::Value =
            serde_json::from_str(&a.details).unwrap_or(serde_json::Value::Null);
        let index = details
            .get("dicom")
            .and_then(|d| serde_json::from_value::<StudyIndex>(d.clone()).ok());
        let error = details
            .get("dicom_error")
            .and_then(|e| e.as_str())
            .map(str::to_string);
        Ok(StudyView {
            attachment_id: a.id,
            consultation_id: a.consultation_id,
            file_name: a.file_name,
            index,
            error,
        })
    }

    /// A frame of a DICOM attachment as PNG. The view of a series is audited
    /// once per user within `files::FRAME_AUDIT_WINDOW` (its first frame;
    /// paging through the rest would flood the log), naming the series; the
    /// frame is not handed out unless that entry is recorded.
    pub async fn dicom_frame(
        &self,
        actor: &Actor,
        attachment_id: i64,
        req: FrameRequest,
    ) -> Result<Vec<u8>, ServiceError> {
        let svc = self.clone();
        let a = actor.clone();
        let meta = tokio::task::spawn_blocking(move || svc.attachment_meta(&a, attachment_id))
            .await
            .map_err(|e| ServiceError::Store(rtms_store::StoreError::Other(e.to_string())))??;
        let details: serde_json::Value =
            serde_json::from_str(&meta.details).unwrap_or(serde_json::Value::Null);
        let index: StudyIndex = details
            .get("dicom")
            .and_then(|d| serde_json::from_value(d.clone()).ok())
            .ok_or(ServiceError::NotFound)?;
        let instance = index
            .studies
            .get(req.study)
            .and_then(|s| s.series.get(req.series))
            .and_then(|s| s.instances.get(req.instance))
            .ok_or(ServiceError::NotFound)?
            .clone();
        let key = (actor.user.id, attachment_id, req.study, req.series);
        if self.files.first_frame_read(key) {
            let series = &index.studies[req.study].series[req.series];
            let title = [
                series.modality.clone().unwrap_or_default(),
                series.description.clone().unwrap_or_default(),
            ]
            .into_iter()
            .filter(|x| !x.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
            let details = serde_json::json!({
                "attachment": attachment_id,
                "study": req.study,
                "series": req.series,
                "title": title,
            })
            .to_string();
            let svc = self.clone();
            let a = actor.clone();
            let consultation = meta.consultation_id;
            let recorded = tokio::task::spawn_blocking(move || {
                svc.audit_read(
                    &a,
                    svc.acting_role(&a, consultation)?,
                    ("attachment", &attachment_id.to_string()),
                    &details,
                )
            })
            .await
            .map_err(|e| ServiceError::Store(rtms_store::StoreError::Other(e.to_string())))
            .and_then(|r| r);
            if let Err(e) = recorded {
                self.files.forget_frame_read(key);
                return Err(e);
            }
        }
        let path = self
            .files
            .local_path(&meta.storage_key)
            .await
            .map_err(|e| ServiceError::Store(rtms_store::StoreError::Other(e.to_string())))?;
        let window = req.window.or_else(|| req.preset.to_window());
        let rendered = tokio::task::spawn_blocking(move || {
            rtms_dicom::render_png(
                &path,
                instance.entry.as_deref(),
                req.frame,
                window,
                req.max_side,
            )
        })
        .await
        .map_err(|e| ServiceError::Store(rtms_store::StoreError::Other(e.to_string())))?;
        rendered.map_err(|e| match e.code() {
            "frame_out_of_range" | "entry_not_found" => ServiceError::NotFound,
            code => ServiceError::Refused {
                code: dicom_code(code),
            },
        })
    }
}

/// Message codes for what the renderer can refuse.
fn dicom_code(code: &str) -> &'static str {
    match code {
        "unsupported_transfer_syntax" => "dicom_unsupported",
        "unsupported_image" => "dicom_unsupported",
        "no_pixel_data" => "dicom_no_image",
        _ => "dicom_unreadable",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dicom_file(dir: &Path) -> PathBuf {
        use rtms_dicom::fixtures::*;
        write_file(dir, "upload", &ct_object(&Spec::ct(1)))
    }

    #[test]
    fn an_indexing_that_died_twice_is_not_started_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dicom_file(dir.path());
        // Two earlier completions started indexing and never came back.
        std::fs::write(marker_path(&path), INDEX_ATTEMPTS.to_string()).unwrap();
        let details = index_file(None, &path);
        assert_eq!(details_error(&details).as_deref(), Some("index_abandoned"));
        assert!(!marker_path(&path).exists());
        // One earlier death is retried, and the marker goes with success.
        std::fs::write(marker_path(&path), "1").unwrap();
        let details = index_file(None, &path);
        assert_eq!(details_error(&details), None, "{details}");
        assert!(details.contains("\"dicom\""));
        assert!(!marker_path(&path).exists());
    }

    fn shell(script: &str) -> DicomWorker {
        DicomWorker {
            program: "/bin/sh".into(),
            args: vec!["-c".into(), script.into(), "sh".into()],
            wall_time: Duration::from_millis(500),
        }
    }

    #[test]
    fn a_worker_that_dies_or_hangs_marks_the_file_failed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dicom_file(dir.path());
        let crashed = index_file(Some(&shell("kill -SEGV $$")), &path);
        assert_eq!(details_error(&crashed).as_deref(), Some("index_crashed"));
        let started = Instant::now();
        let hung = index_file(Some(&shell("exec sleep 30")), &path);
        assert_eq!(details_error(&hung).as_deref(), Some("index_timeout"));
        assert!(started.elapsed() < Duration::from_secs(10));
        let garbage = index_file(Some(&shell("echo not json")), &path);
        assert_eq!(details_error(&garbage).as_deref(), Some("index_crashed"));
        // A worker that answers is believed.
        let good = index_file(
            Some(&shell("echo '{\"dicom_error\":\"truncated\"}'")),
            &path,
        );
        assert_eq!(details_error(&good).as_deref(), Some("truncated"));
        assert!(!marker_path(&path).exists());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_worker_runs_under_a_memory_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dicom_file(dir.path());
        // The shell reports its own address-space limit as its answer.
        let out = index_file(
            Some(&shell("printf '{\"dicom_error\":\"%s\"}' $(ulimit -v)")),
            &path,
        );
        let kib = WORKER_MEMORY_BYTES / 1024;
        assert_eq!(details_error(&out), Some(kib.to_string()));
    }
}
