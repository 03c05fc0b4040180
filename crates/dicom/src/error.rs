//! The error type of this crate.

/// Why an upload could not be indexed or an image could not be rendered.
///
/// Every variant has a short, stable machine code ([`DicomError::code`]) that
/// the web layer translates into a message in the user's language; the
/// `Display` text is English and meant for logs.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DicomError {
    /// The file is neither a DICOM Part-10 file nor a ZIP archive.
    #[error("not a DICOM file")]
    NotDicom,
    /// The file looks like DICOM but its header could not be parsed, or a
    /// required attribute is missing or malformed.
    #[error("invalid DICOM file: {0}")]
    InvalidDicom(String),
    /// The ZIP archive itself is damaged or uses an unsupported feature.
    #[error("invalid ZIP archive: {0}")]
    InvalidZip(String),
    /// The ZIP archive has no entry with the requested name.
    #[error("ZIP entry not found: {0}")]
    EntryNotFound(String),
    /// The ZIP entry is larger than this crate is willing to hold in memory.
    #[error("ZIP entry too large: {size} bytes (limit {limit})")]
    EntryTooLarge {
        /// Uncompressed size declared by the archive.
        size: u64,
        /// The limit in bytes.
        limit: u64,
    },
    /// The pixel data is encoded with a transfer syntax that has no
    /// pure-Rust decoder here (e.g. JPEG 2000, JPEG-LS).
    #[error("unsupported transfer syntax: {0}")]
    UnsupportedTransferSyntax(String),
    /// The object has no pixel data (e.g. a structured report or DICOMDIR).
    #[error("no pixel data")]
    NoPixelData,
    /// The requested frame does not exist in the instance.
    #[error("frame {frame} out of range (instance has {frames} frame(s))")]
    FrameOutOfRange {
        /// Requested frame, zero-based.
        frame: u32,
        /// Number of frames in the instance.
        frames: u32,
    },
    /// The image uses a pixel layout this crate cannot display
    /// (e.g. PALETTE COLOR, unusual bit depths).
    #[error("unsupported image: {0}")]
    UnsupportedImage(String),
    /// The pixel data could not be decoded.
    #[error("could not decode pixel data: {0}")]
    Decode(String),
    /// The PNG could not be encoded.
    #[error("could not encode PNG: {0}")]
    Encode(String),
    /// Sequences nest deeper than the parser is allowed to follow.
    #[error("sequences nested deeper than {limit} levels")]
    NestingTooDeep {
        /// The limit ([`crate::MAX_DEPTH`]).
        limit: usize,
    },
    /// A declared length is larger than the bytes that can back it.
    #[error("declared length {length} exceeds what may follow ({limit} bytes)")]
    LengthTooLarge {
        /// The declared length.
        length: u64,
        /// What the file, the enclosing sequence or the named cap allow.
        limit: u64,
    },
    /// More data elements than [`crate::MAX_ELEMENTS`].
    #[error("more than {limit} data elements")]
    TooManyElements {
        /// The limit.
        limit: u64,
    },
    /// The file ends in the middle of an element.
    #[error("the file is truncated")]
    Truncated,
    /// A ZIP archive exceeds one of its budgets ([`crate::MAX_ZIP_ENTRIES`],
    /// [`crate::MAX_ZIP_UNPACKED_BYTES`], [`crate::MAX_ZIP_RATIO`]).
    #[error("ZIP archive over budget: {0}")]
    ZipBudget(ZipBudget),
    /// One decoded frame would be larger than [`crate::MAX_FRAME_BYTES`].
    #[error("frame of {bytes} bytes exceeds the limit of {limit}")]
    FrameTooLarge {
        /// Bytes the decoded frame would take.
        bytes: u64,
        /// The limit.
        limit: u64,
    },
    /// Reading the file failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

impl DicomError {
    /// Short machine code of the error, stable across versions.
    pub fn code(&self) -> &'static str {
        match self {
            DicomError::NotDicom => "not_dicom",
            DicomError::InvalidDicom(_) => "invalid_dicom",
            DicomError::InvalidZip(_) => "invalid_zip",
            DicomError::EntryNotFound(_) => "entry_not_found",
            DicomError::EntryTooLarge { .. } => "entry_too_large",
            DicomError::UnsupportedTransferSyntax(_) => "unsupported_transfer_syntax",
            DicomError::NoPixelData => "no_pixel_data",
            DicomError::FrameOutOfRange { .. } => "frame_out_of_range",
            DicomError::UnsupportedImage(_) => "unsupported_image",
            DicomError::Decode(_) => "decode_failed",
            DicomError::Encode(_) => "encode_failed",
            DicomError::NestingTooDeep { .. } => "nesting_too_deep",
            DicomError::LengthTooLarge { .. } => "length_too_large",
            DicomError::TooManyElements { .. } => "too_many_elements",
            DicomError::Truncated => "truncated",
            DicomError::ZipBudget(ZipBudget::Entries { .. }) => "zip_too_many_entries",
            DicomError::ZipBudget(ZipBudget::Unpacked { .. }) => "zip_too_large",
            DicomError::ZipBudget(ZipBudget::Ratio { .. }) => "zip_ratio",
            DicomError::FrameTooLarge { .. } => "frame_too_large",
            DicomError::Io(_) => "io",
        }
    }
}

/// Which budget of a ZIP archive was exceeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ZipBudget {
    /// More entries than allowed.
    #[error("{count} entries (limit {limit})")]
    Entries {
        /// Entries in the central directory.
        count: u64,
        /// The limit.
        limit: u64,
    },
    /// More bytes inflated (counted, not declared) than allowed.
    #[error("more than {limit} bytes unpacked")]
    Unpacked {
        /// The limit.
        limit: u64,
    },
    /// An entry inflates more than the allowed ratio to its compressed size.
    #[error("an entry unpacks to more than {limit} times its compressed size")]
    Ratio {
        /// The limit.
        limit: u64,
    },
}
