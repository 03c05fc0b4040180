//! DICOM studies among the attachments: the index of a study, computed once
//! when the upload completes and kept in the attachment's `details`, and
//! frames rendered as PNG for the browser's viewer with window/level presets.

use std::path::Path;

use rtms_dicom::{Preset, StudyIndex, Window};

use crate::error::ServiceError;
use crate::files::FileKind;
use crate::{Actor, Services};

/// The attachment's `details`: the study index for DICOM, else `{}`. A study
/// that cannot be indexed is still kept (the file is DICOM by its marker);
/// the viewer then says why it cannot show it.
pub(crate) async fn index_details(kind: FileKind, path: &Path) -> String {
    if !kind.is_dicom() {
        return "{}".into();
    }
    let p = path.to_path_buf();
    let indexed = tokio::task::spawn_blocking(move || rtms_dicom::index_path(&p)).await;
    match indexed {
        Ok(Ok(index)) => serde_json::json!({ "dicom": index }).to_string(),
        Ok(Err(e)) => serde_json::json!({ "dicom_error": e.code() }).to_string(),
        Err(e) => serde_json::json!({ "dicom_error": e.to_string() }).to_string(),
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
            let details = format!(
                "attachment {attachment_id}: DICOM frames, study {} series {} ({title})",
                req.study, req.series
            );
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
