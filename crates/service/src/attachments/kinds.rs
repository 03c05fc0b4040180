//! What kinds of file are accepted, judged by content and never by name
//! alone: the magic bytes, the structure of a ZIP (Office documents without
//! macros, a DICOM study), and whether the name agrees with what was found.

use std::io::{Read, Seek};
use std::path::Path;

use serde::Serialize;
use utoipa::ToSchema;

/// What a file turned out to be, by its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    Pdf,
    Jpeg,
    Png,
    Dicom,
    DicomZip,
    Mp4,
    Docx,
    Xlsx,
}

impl FileKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::Pdf => "pdf",
            FileKind::Jpeg => "jpeg",
            FileKind::Png => "png",
            FileKind::Dicom => "dicom",
            FileKind::DicomZip => "dicom_zip",
            FileKind::Mp4 => "mp4",
            FileKind::Docx => "docx",
            FileKind::Xlsx => "xlsx",
        }
    }

    pub fn parse(s: &str) -> Option<FileKind> {
        [
            FileKind::Pdf,
            FileKind::Jpeg,
            FileKind::Png,
            FileKind::Dicom,
            FileKind::DicomZip,
            FileKind::Mp4,
            FileKind::Docx,
            FileKind::Xlsx,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }

    pub fn content_type(self) -> &'static str {
        match self {
            FileKind::Pdf => "application/pdf",
            FileKind::Jpeg => "image/jpeg",
            FileKind::Png => "image/png",
            FileKind::Dicom => "application/dicom",
            FileKind::DicomZip => "application/zip",
            FileKind::Mp4 => "video/mp4",
            FileKind::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            FileKind::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }

    /// A study the DICOM viewer can open.
    pub fn is_dicom(self) -> bool {
        matches!(self, FileKind::Dicom | FileKind::DicomZip)
    }

    /// The file name extensions (lower case) a file of this kind may carry.
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            FileKind::Pdf => &["pdf"],
            FileKind::Jpeg => &["jpg", "jpeg", "jpe", "jfif"],
            FileKind::Png => &["png"],
            FileKind::Dicom => &["dcm", "dicom", "dic", "ima"],
            FileKind::DicomZip => &["zip"],
            FileKind::Mp4 => &["mp4", "m4v", "mov"],
            FileKind::Docx => &["docx"],
            FileKind::Xlsx => &["xlsx"],
        }
    }
}

/// Extensions refused whatever the content: programs, scripts, web pages,
/// vector images that can hold script, and Office documents that can hold
/// macros. The name is checked when an upload is created, before any byte.
pub const ACTIVE_EXTENSIONS: &[&str] = &[
    // programs and installers
    "exe", "com", "dll", "scr", "pif", "cpl", "msi", "msp", "msc", "jar", "apk", "app", "elf",
    "bin", "sys", "drv", "ocx", "lnk", "reg", "inf", // scripts
    "bat", "cmd", "ps1", "psm1", "vbs", "vbe", "js", "jse", "mjs", "cjs", "wsf", "wsh", "ws", "sh",
    "bash", "py", "pl", "php", "rb", "hta", "chm", "scf", "url", "iqy", "slk",
    // web pages and active images
    "html", "htm", "xhtml", "shtml", "mht", "mhtml", "svg", "svgz", "xml", "xsl", "swf",
    // Office documents with macros
    "docm", "dotm", "xlsm", "xltm", "xlam", "xlsb", "pptm", "potm", "ppam", "ppsm", "sldm",
];

/// The extension of a file name that says a type, lower case: the part after
/// the last dot when it is 1 to 5 ASCII letters or digits with a letter
/// among them. None when there is none (`Иванова И.И`, a DICOM file named by
/// its UID `1.2.840.10008.1`, a name without a dot).
pub fn type_extension(name: &str) -> Option<String> {
    let (_, ext) = name.rsplit_once('.')?;
    let ok = (1..=5).contains(&ext.len())
        && ext.chars().all(|c| c.is_ascii_alphanumeric())
        && ext.chars().any(|c| c.is_ascii_alphabetic());
    ok.then(|| ext.to_ascii_lowercase())
}

/// The name's verdict before any byte arrives: active content is refused.
pub fn check_name(name: &str) -> Result<(), &'static str> {
    match type_extension(name) {
        Some(ext) if ACTIVE_EXTENSIONS.contains(&ext.as_str()) => Err("file_active_content"),
        _ => Ok(()),
    }
}

/// Whether the name agrees with what the content turned out to be: a name
/// with a type extension must carry one of the kind's own. A name without
/// one is taken (the stored type comes from the content).
pub fn check_agreement(kind: FileKind, name: &str) -> Result<(), &'static str> {
    check_name(name)?;
    match type_extension(name) {
        Some(ext) if !kind.extensions().contains(&ext.as_str()) => Err("file_extension_mismatch"),
        _ => Ok(()),
    }
}

/// What the first bytes say. `None` means no accepted type starts like this.
/// A ZIP is only a candidate here: its entries decide (`classify`).
pub fn sniff(prefix: &[u8]) -> Option<FileKind> {
    if prefix.starts_with(b"%PDF-") {
        Some(FileKind::Pdf)
    } else if prefix.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(FileKind::Jpeg)
    } else if prefix.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some(FileKind::Png)
    } else if prefix.len() >= 132 && &prefix[128..132] == b"DICM" {
        Some(FileKind::Dicom)
    } else if prefix.starts_with(b"PK\x03\x04") {
        Some(FileKind::DicomZip)
    } else if prefix.len() >= 12 && &prefix[4..8] == b"ftyp" {
        Some(FileKind::Mp4)
    } else {
        None
    }
}

/// Bytes a prefix needs before `sniff` can tell (DICOM's marker is at 128).
pub const SNIFF_LEN: usize = 132;

/// Decides the kind of a complete file by its content; a refusal names why.
pub fn classify(path: &Path) -> Result<FileKind, &'static str> {
    let mut f = std::fs::File::open(path).map_err(|_| "upload_gone")?;
    let mut prefix = vec![0u8; 512];
    let n = read_up_to(&mut f, &mut prefix).map_err(|_| "upload_gone")?;
    prefix.truncate(n);
    if n == 0 {
        return Err("file_empty");
    }
    match sniff(&prefix) {
        None => Err("file_type"),
        Some(FileKind::DicomZip) => {
            f.rewind().map_err(|_| "upload_gone")?;
            classify_zip(f)
        }
        Some(k) => Ok(k),
    }
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// An Office document, or a ZIP with at least one DICOM file in it.
fn classify_zip(f: std::fs::File) -> Result<FileKind, &'static str> {
    let mut zip = zip::ZipArchive::new(f).map_err(|_| "zip_broken")?;
    let names: Vec<String> = zip
        .file_names()
        .filter_map(|n| n.ok().map(|n| n.into_owned()))
        .collect();
    let office = names
        .iter()
        .any(|n| n == "word/document.xml" || n == "xl/workbook.xml");
    if office && names.iter().any(|n| is_active_part(n)) {
        return Err("file_macro");
    }
    if names.iter().any(|n| n == "word/document.xml") {
        return Ok(FileKind::Docx);
    }
    if names.iter().any(|n| n == "xl/workbook.xml") {
        return Ok(FileKind::Xlsx);
    }
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(|_| "zip_broken")?;
        if !entry.is_file() || entry.size() < SNIFF_LEN as u64 {
            continue;
        }
        let mut head = [0u8; SNIFF_LEN];
        if read_up_to(&mut entry, &mut head).map_err(|_| "zip_broken")? == SNIFF_LEN
            && &head[128..132] == b"DICM"
        {
            return Ok(FileKind::DicomZip);
        }
    }
    Err("zip_without_dicom")
}

/// A part of an Office document that carries code: a VBA project (macros,
/// whatever the file is called) or ActiveX controls.
fn is_active_part(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with("vbaproject.bin")
        || lower.ends_with("vbadata.xml")
        || lower.contains("/activex/")
}
