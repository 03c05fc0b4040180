//! Opening uploads: detection of the container, reading a single file or one
//! entry of a ZIP archive, either only up to the pixel data (for indexing) or
//! completely (for rendering).

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use dicom_dictionary_std::tags;
use dicom_object::file::ReadPreamble;
use dicom_object::{DefaultDicomObject, OpenFileOptions, ReadError};
use zip::result::ZipError;
use zip::ZipArchive;

use crate::DicomError;

/// Largest ZIP entry that is read into memory for rendering (1 GiB).
pub(crate) const MAX_ENTRY_BYTES: u64 = 1 << 30;

/// Length of the Part-10 preamble plus the `DICM` magic code.
const PREFIX_LEN: usize = 132;

/// Returns true when `first_bytes` start like a DICOM Part-10 file:
/// a 128-byte preamble followed by the magic code `DICM`.
pub fn is_dicom_prefix(first_bytes: &[u8]) -> bool {
    first_bytes.len() >= PREFIX_LEN && &first_bytes[128..PREFIX_LEN] == b"DICM"
}

/// Returns true when the bytes start like a ZIP archive (local file header,
/// or the end-of-central-directory record of an empty archive).
fn is_zip_prefix(first_bytes: &[u8]) -> bool {
    first_bytes.starts_with(b"PK\x03\x04") || first_bytes.starts_with(b"PK\x05\x06")
}

/// What kind of upload a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Single,
    Zip,
}

/// Reads as many bytes as are available, up to `buf.len()`.
fn read_up_to<R: Read>(reader: &mut R, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Detects whether the file at `path` is a single DICOM file or a ZIP.
pub(crate) fn detect(path: &Path) -> Result<Kind, DicomError> {
    let mut file = File::open(path)?;
    let mut prefix = [0u8; PREFIX_LEN];
    let n = read_up_to(&mut file, &mut prefix)?;
    let prefix = &prefix[..n];
    if is_dicom_prefix(prefix) {
        Ok(Kind::Single)
    } else if is_zip_prefix(prefix) {
        Ok(Kind::Zip)
    } else {
        Err(DicomError::NotDicom)
    }
}

fn options(header_only: bool) -> OpenFileOptions {
    let options = OpenFileOptions::new();
    if header_only {
        options.read_until(tags::PIXEL_DATA)
    } else {
        options
    }
}

/// Translates a parse error of dicom-object into this crate's error.
fn map_read_error(err: ReadError) -> DicomError {
    match err {
        ReadError::OpenFile { source, .. }
        | ReadError::ReadFile { source, .. }
        | ReadError::ReadPreambleBytes { source, .. } => DicomError::Io(source),
        ReadError::ReadUnrecognizedTransferSyntax { uid, .. } => {
            DicomError::UnsupportedTransferSyntax(uid)
        }
        ReadError::ReadUnsupportedTransferSyntax { uid, name, .. }
        | ReadError::ReadUnsupportedTransferSyntaxWithSuggestion { uid, name, .. } => {
            DicomError::UnsupportedTransferSyntax(format!("{uid} ({name})"))
        }
        other => DicomError::InvalidDicom(error_chain(&other)),
    }
}

/// The error and its sources on one line, for logs and `skipped` reasons.
pub(crate) fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Opens a single DICOM file from disk.
pub(crate) fn open_single(
    path: &Path,
    header_only: bool,
) -> Result<DefaultDicomObject, DicomError> {
    if detect(path)? != Kind::Single {
        return Err(DicomError::NotDicom);
    }
    options(header_only)
        .read_preamble(ReadPreamble::Always)
        .open_file(path)
        .map_err(map_read_error)
}

/// Parses a DICOM object from a non-seekable byte stream that starts with
/// the Part-10 preamble (such as a ZIP entry).
pub(crate) fn parse_stream<R: Read>(
    mut reader: R,
    header_only: bool,
) -> Result<DefaultDicomObject, DicomError> {
    let mut prefix = [0u8; PREFIX_LEN];
    let n = read_up_to(&mut reader, &mut prefix)?;
    if !is_dicom_prefix(&prefix[..n]) {
        return Err(DicomError::NotDicom);
    }
    // The preamble has been consumed; give the parser the magic code back.
    let rest = std::io::Cursor::new(*b"DICM").chain(reader);
    options(header_only)
        .read_preamble(ReadPreamble::Never)
        .from_reader(rest)
        .map_err(map_read_error)
}

/// Opens a ZIP archive for reading. Only the central directory is read.
pub(crate) fn open_zip(path: &Path) -> Result<ZipArchive<BufReader<File>>, DicomError> {
    let file = File::open(path)?;
    ZipArchive::new(BufReader::new(file)).map_err(map_zip_error)
}

pub(crate) fn map_zip_error(err: ZipError) -> DicomError {
    match err {
        ZipError::Io(e) => DicomError::Io(e),
        other => DicomError::InvalidZip(other.to_string()),
    }
}

/// Reads one ZIP entry completely into memory and parses it.
fn open_zip_entry(path: &Path, name: &str) -> Result<DefaultDicomObject, DicomError> {
    let mut archive = open_zip(path)?;
    let entry = match archive.by_name(name) {
        Ok(entry) => entry,
        Err(ZipError::FileNotFound) => return Err(DicomError::EntryNotFound(name.to_string())),
        Err(e) => return Err(map_zip_error(e)),
    };
    if entry.is_dir() {
        return Err(DicomError::EntryNotFound(name.to_string()));
    }
    let size = entry.size();
    if size > MAX_ENTRY_BYTES {
        return Err(DicomError::EntryTooLarge {
            size,
            limit: MAX_ENTRY_BYTES,
        });
    }
    let mut bytes = Vec::with_capacity(size as usize);
    // Do not trust the declared size: never read more than the limit.
    entry.take(MAX_ENTRY_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_ENTRY_BYTES {
        return Err(DicomError::EntryTooLarge {
            size: bytes.len() as u64,
            limit: MAX_ENTRY_BYTES,
        });
    }
    parse_stream(bytes.as_slice(), false)
}

/// Opens a whole DICOM object (including pixel data) from an upload: the
/// file itself when `entry` is `None`, otherwise the named ZIP entry.
pub(crate) fn open_full(
    path: &Path,
    entry: Option<&str>,
) -> Result<DefaultDicomObject, DicomError> {
    match entry {
        None => open_single(path, false),
        Some(name) => {
            if detect(path)? != Kind::Zip {
                return Err(DicomError::EntryNotFound(name.to_string()));
            }
            open_zip_entry(path, name)
        }
    }
}
