//! Renders the sample documents used by the tests and writes them to a
//! directory (the first argument, or `rtms-documents-samples` in the system
//! temporary directory), printing how long rendering takes.
//!
//! `cargo run -p rtms-documents --release --example render_samples -- out/`

#[path = "../tests/common/mod.rs"]
mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use rtms_documents::{render_conclusion, render_request_summary, DocumentError};

/// Renders one sample; the argument makes each call's input distinct so that
/// typst's memoization cannot reuse a whole earlier result.
type Sample = fn(u32) -> Result<Vec<u8>, DocumentError>;

fn conclusion(i: u32) -> Result<Vec<u8>, DocumentError> {
    let mut doc = common::conclusion();
    doc.number = format!("ТМК-2026-{i:06}");
    render_conclusion(&doc)
}

fn unsealed_conclusion(i: u32) -> Result<Vec<u8>, DocumentError> {
    let mut doc = common::conclusion();
    doc.number = format!("ТМК-2026-{i:06}");
    doc.version = 1;
    doc.supersedes = None;
    doc.seal = None;
    render_conclusion(&doc)
}

fn long_conclusion(i: u32) -> Result<Vec<u8>, DocumentError> {
    let mut doc = common::long_conclusion();
    doc.number = format!("ТМК-2026-{i:06}");
    render_conclusion(&doc)
}

fn request_summary(i: u32) -> Result<Vec<u8>, DocumentError> {
    let mut doc = common::request_summary();
    doc.number = format!("ТМК-2026-{i:06}");
    render_request_summary(&doc)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("rtms-documents-samples"));
    std::fs::create_dir_all(&dir)?;

    let samples: [(&str, Sample); 4] = [
        ("conclusion.pdf", conclusion),
        ("conclusion-unsealed.pdf", unsealed_conclusion),
        ("conclusion-long.pdf", long_conclusion),
        ("request-summary.pdf", request_summary),
    ];
    const RUNS: u32 = 10;
    for (name, render) in samples {
        // The very first rendering also parses the embedded fonts.
        let started = Instant::now();
        let pdf = render(123)?;
        let first = started.elapsed();
        let mut total = Duration::ZERO;
        for i in 0..RUNS {
            let started = Instant::now();
            render(1000 + i)?;
            total += started.elapsed();
        }
        let path = dir.join(name);
        std::fs::write(&path, &pdf)?;
        println!(
            "{}: {} bytes, first {:.1?}, then {:.1?} on average",
            path.display(),
            pdf.len(),
            first,
            total / RUNS
        );
    }
    Ok(())
}
