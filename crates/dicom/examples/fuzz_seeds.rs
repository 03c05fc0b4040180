//! Writes the seed inputs of the DICOM and ZIP fuzz targets (the ones
//! committed under `fuzz/corpus/`), so they can be made again:
//!
//! ```sh
//! cargo run -p rtms-dicom --features fixtures --example fuzz_seeds -- fuzz/corpus
//! ```

use std::path::PathBuf;

use rtms_dicom::fixtures::hostile::{nested_sequences, truncated};
use rtms_dicom::fixtures::{ct_object, report_object, rgb_object, to_bytes, write_zip, Spec};

fn main() {
    let root = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "fuzz/corpus".into()),
    );
    let single = root.join("dicom_index");
    let zips = root.join("zip_source");
    std::fs::create_dir_all(&single).unwrap();
    std::fs::create_dir_all(&zips).unwrap();
    let ct = to_bytes(&ct_object(&Spec::ct(1)));
    let mut multi = Spec::ct(2);
    multi.frames = 2;
    let seeds = [
        ("ct.dcm", ct.clone()),
        ("rgb.dcm", to_bytes(&rgb_object(&Spec::ct(3)))),
        ("multi_frame.dcm", to_bytes(&ct_object(&multi))),
        ("report.dcm", to_bytes(&report_object(&Spec::ct(4)))),
        ("nested_8.dcm", nested_sequences(8)),
        ("truncated.dcm", truncated(ct.len() - 700)),
    ];
    for (name, bytes) in &seeds {
        std::fs::write(single.join(name), bytes).unwrap();
    }
    write_zip(
        &zips.join("study.zip"),
        &[
            ("DICOM/", Vec::new()),
            ("DICOM/IM0001", ct.clone()),
            ("DICOM/IM0002", to_bytes(&ct_object(&Spec::ct(2)))),
            ("README.txt", b"exported study".to_vec()),
        ],
    );
    write_zip(&zips.join("nested.zip"), &[("IM", nested_sequences(8))]);
}
