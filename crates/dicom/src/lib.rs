//! Reading uploaded DICOM material for РТМС.
//!
//! An upload is either a single DICOM Part-10 file or a ZIP archive of such
//! files (a whole study exported from a PACS or a CD). This crate
//!
//! * builds a [`StudyIndex`] of everything readable in an upload
//!   (patients, studies, series, instances), reading only the header of each
//!   file so that a large archive is indexed quickly and with bounded memory;
//! * renders one frame of one instance to a PNG ([`render_png`]) with a
//!   radiology window ([`Preset`], [`Window`]), optionally downscaled for
//!   thumbnails.
//!
//! Only pure-Rust decoders are compiled in: uncompressed (implicit/explicit
//! VR, little/big endian), deflated, RLE lossless and JPEG (baseline,
//! extended, lossless). JPEG 2000, JPEG-LS and JPEG XL pixel data are
//! reported as [`DicomError::UnsupportedTransferSyntax`]; their headers are
//! still indexed.

mod error;
#[cfg(feature = "fixtures")]
pub mod fixtures;
mod index;
mod render;
mod scan;
mod source;

pub use error::{DicomError, ZipBudget};
pub use index::{index_bytes, index_path, Container, Instance, Series, Study, StudyIndex};
pub use render::{
    cache_stats, render_png, render_png_bytes, Preset, UnknownPreset, Window, MAX_CACHE_BYTES,
    MAX_FRAME_BYTES,
};
pub use scan::{MAX_DEPTH, MAX_ELEMENTS, MAX_ELEMENT_BYTES, MAX_META_VALUE_BYTES};
pub use source::{
    is_dicom_prefix, MAX_ENTRY_BYTES, MAX_ZIP_ENTRIES, MAX_ZIP_RATIO, MAX_ZIP_UNPACKED_BYTES,
    ZIP_RATIO_GRACE_BYTES,
};
