//! A single uploaded DICOM file: the structural pre-scan, the header index,
//! and the first frame rendered. Any input may be refused; none may crash,
//! hang or exhaust memory.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Seeds and mutations alike are treated as Part-10 files.
    let _ = rtms_dicom::index_bytes(data);
    let _ = rtms_dicom::render_png_bytes(data, None, 0, None, Some(64));
});
