//! A ZIP upload: the archive's directory, the budgets while inflating, the
//! index of every entry, and each indexed instance opened for rendering.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(index) = rtms_dicom::index_bytes(data) {
        for study in &index.studies {
            for series in &study.series {
                for instance in &series.instances {
                    let _ = rtms_dicom::render_png_bytes(
                        data,
                        instance.entry.as_deref(),
                        0,
                        None,
                        Some(64),
                    );
                }
            }
        }
    }
});
