//! Writes a small generated CT study as a ZIP of DICOM Part-10 files, for
//! trying the uploader and the viewer by hand and for the browser tests.
//!
//! ```sh
//! cargo run -p rtms-dicom --features fixtures --example make_study -- out.zip 12
//! ```
//!
//! The ZIP holds `N` instances of one axial series (instance numbers 1..=N,
//! 5 mm apart) under `DICOM/`, the way a scanner's export usually looks.

use std::path::PathBuf;
use std::process::ExitCode;

use rtms_dicom::fixtures::{ct_object, to_bytes, write_zip, Spec};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (out, count) = match args.as_slice() {
        [out] => (PathBuf::from(out), 8),
        [out, n] => match n.parse::<i32>() {
            Ok(n) if (1..=10_000).contains(&n) => (PathBuf::from(out), n),
            _ => {
                eprintln!("make_study: the number of instances must be 1..=10000, not {n}");
                return ExitCode::from(2);
            }
        },
        _ => {
            eprintln!("usage: make_study OUT.zip [INSTANCES]");
            return ExitCode::from(2);
        }
    };

    let names: Vec<String> = (1..=count).map(|n| format!("DICOM/IM{n:05}")).collect();
    let mut entries: Vec<(&str, Vec<u8>)> = vec![("DICOM/", Vec::new())];
    for (n, name) in (1..=count).zip(&names) {
        entries.push((name.as_str(), to_bytes(&ct_object(&Spec::ct(n)))));
    }
    write_zip(&out, &entries);

    let size = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
    println!("{}: {count} CT instances, {size} bytes", out.display());
    ExitCode::SUCCESS
}
