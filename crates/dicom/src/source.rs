//! Opening uploads: detection of the container, reading a single file or one
//! entry of a ZIP archive, either only up to the pixel data (for indexing) or
//! completely (for rendering).

use std::cell::Cell;
use std::fs::File;
use std::io::{BufReader, Read, Seek};
use std::path::Path;

use dicom_dictionary_std::tags;
use dicom_object::file::ReadPreamble;
use dicom_object::{DefaultDicomObject, OpenFileOptions, ReadError};
use zip::result::ZipError;
use zip::ZipArchive;

use crate::error::ZipBudget;
use crate::{scan, DicomError};

/// Largest ZIP entry that is read into memory for rendering (1 GiB).
pub const MAX_ENTRY_BYTES: u64 = 1 << 30;

/// Most entries (files and directories) a ZIP archive may list.
pub const MAX_ZIP_ENTRIES: u64 = 20_000;

/// Most bytes inflated from one archive in one operation (indexing reads
/// the headers of every entry, rendering one entry), counted as they come
/// out of the decompressor: the sizes the archive declares are not trusted.
pub const MAX_ZIP_UNPACKED_BYTES: u64 = 4 << 30;

/// Largest ratio of inflated to compressed bytes of one entry. DICOM images
/// compress a few times; a zip bomb a thousand.
pub const MAX_ZIP_RATIO: u64 = 100;

/// Bytes an entry may inflate before [`MAX_ZIP_RATIO`] applies (tiny
/// entries of zeros compress far better than 100:1 and harm no one).
pub const ZIP_RATIO_GRACE_BYTES: u64 = 1 << 20;

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

/// Opens a single DICOM file from disk, after [`scan::check`] found its
/// structure safe to parse.
pub(crate) fn open_single(
    path: &Path,
    header_only: bool,
) -> Result<DefaultDicomObject, DicomError> {
    if detect(path)? != Kind::Single {
        return Err(DicomError::NotDicom);
    }
    let file = File::open(path)?;
    let size = file.metadata()?.len();
    scan::check(BufReader::new(file), Some(size), header_only)?;
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

/// Opens a ZIP archive for reading. Only the central directory is read; an
/// archive of more than [`MAX_ZIP_ENTRIES`] entries is refused.
pub(crate) fn open_zip(path: &Path) -> Result<ZipArchive<BufReader<File>>, DicomError> {
    let file = File::open(path)?;
    open_zip_reader(BufReader::new(file))
}

/// [`open_zip`] on any seekable reader (bytes in memory, for instance).
pub(crate) fn open_zip_reader<R: Read + Seek>(reader: R) -> Result<ZipArchive<R>, DicomError> {
    let archive = ZipArchive::new(reader).map_err(map_zip_error)?;
    let count = archive.len() as u64;
    if count > MAX_ZIP_ENTRIES {
        return Err(DicomError::ZipBudget(ZipBudget::Entries {
            count,
            limit: MAX_ZIP_ENTRIES,
        }));
    }
    Ok(archive)
}

/// What one operation on an archive has inflated so far, and which budget
/// (if any) stopped it.
#[derive(Default)]
pub(crate) struct Budget {
    unpacked: Cell<u64>,
    tripped: Cell<Option<ZipBudget>>,
}

impl Budget {
    /// The budget that was exceeded, as this crate's error.
    pub(crate) fn exceeded(&self) -> Result<(), DicomError> {
        match self.tripped.get() {
            Some(b) => Err(DicomError::ZipBudget(b)),
            None => Ok(()),
        }
    }

    /// Reads `entry` under this budget; `compressed` is its compressed size.
    pub(crate) fn meter<R: Read>(&self, entry: R, compressed: u64) -> Metered<'_, R> {
        Metered {
            inner: entry,
            budget: self,
            compressed,
            read: 0,
        }
    }
}

/// An entry's reader that counts what it inflates against a [`Budget`].
pub(crate) struct Metered<'a, R> {
    inner: R,
    budget: &'a Budget,
    compressed: u64,
    read: u64,
}

impl<R: Read> Read for Metered<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.budget.tripped.get().is_some() {
            return Err(std::io::Error::other("ZIP budget exceeded"));
        }
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        let total = self.budget.unpacked.get() + n as u64;
        self.budget.unpacked.set(total);
        let tripped = if total > MAX_ZIP_UNPACKED_BYTES {
            Some(ZipBudget::Unpacked {
                limit: MAX_ZIP_UNPACKED_BYTES,
            })
        } else if self.read > ZIP_RATIO_GRACE_BYTES
            && self.read > self.compressed.max(1).saturating_mul(MAX_ZIP_RATIO)
        {
            Some(ZipBudget::Ratio {
                limit: MAX_ZIP_RATIO,
            })
        } else {
            None
        };
        if let Some(t) = tripped {
            self.budget.tripped.set(Some(t));
            return Err(std::io::Error::other("ZIP budget exceeded"));
        }
        Ok(n)
    }
}

pub(crate) fn map_zip_error(err: ZipError) -> DicomError {
    match err {
        ZipError::Io(e) => DicomError::Io(e),
        other => DicomError::InvalidZip(other.to_string()),
    }
}

/// Reads one ZIP entry completely into memory and parses it; also says the
/// entry's size.
fn open_zip_entry<R: Read + Seek>(
    archive: &mut ZipArchive<R>,
    name: &str,
) -> Result<(DefaultDicomObject, u64), DicomError> {
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
    // The declared size is a hint for the first allocation, never trusted.
    let mut bytes = Vec::with_capacity(size.min(64 << 20) as usize);
    let budget = Budget::default();
    let compressed = entry.compressed_size();
    let read = budget
        .meter(entry, compressed)
        .take(MAX_ENTRY_BYTES + 1)
        .read_to_end(&mut bytes);
    budget.exceeded()?;
    read?;
    if bytes.len() as u64 > MAX_ENTRY_BYTES {
        return Err(DicomError::EntryTooLarge {
            size: bytes.len() as u64,
            limit: MAX_ENTRY_BYTES,
        });
    }
    scan::check_bytes(&bytes, false)?;
    Ok((parse_stream(bytes.as_slice(), false)?, bytes.len() as u64))
}

/// Opens a whole DICOM object (including pixel data) from an upload: the
/// file itself when `entry` is `None`, otherwise the named ZIP entry. Also
/// says how many bytes the object was read from.
pub(crate) fn open_full(
    path: &Path,
    entry: Option<&str>,
) -> Result<(DefaultDicomObject, u64), DicomError> {
    match entry {
        None => {
            let size = std::fs::metadata(path)?.len();
            Ok((open_single(path, false)?, size))
        }
        Some(name) => {
            if detect(path)? != Kind::Zip {
                return Err(DicomError::EntryNotFound(name.to_string()));
            }
            open_zip_entry(&mut open_zip(path)?, name)
        }
    }
}

/// [`open_full`] on an upload held in memory.
pub(crate) fn open_full_bytes(
    bytes: &[u8],
    entry: Option<&str>,
) -> Result<DefaultDicomObject, DicomError> {
    match entry {
        None => {
            scan::check_bytes(bytes, false)?;
            parse_stream(bytes, false)
        }
        Some(name) => {
            if !is_zip_prefix(bytes) {
                return Err(DicomError::EntryNotFound(name.to_string()));
            }
            let mut archive = open_zip_reader(std::io::Cursor::new(bytes))?;
            Ok(open_zip_entry(&mut archive, name)?.0)
        }
    }
}

/// What kind of upload bytes in memory are.
pub(crate) fn detect_bytes(bytes: &[u8]) -> Result<Kind, DicomError> {
    if is_dicom_prefix(bytes) {
        Ok(Kind::Single)
    } else if is_zip_prefix(bytes) {
        Ok(Kind::Zip)
    } else {
        Err(DicomError::NotDicom)
    }
}
