//! Renders the sample documents used by the tests and writes them to a
//! directory (the first argument, or `rtms-documents-samples` in the system
//! temporary directory), printing how long each rendering took.
//!
//! `cargo run -p rtms-documents --release --example render_samples -- out/`

#[path = "../tests/common/mod.rs"]
mod common;

use std::path::PathBuf;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("rtms-documents-samples"));
    std::fs::create_dir_all(&dir)?;

    let mut unsealed = common::conclusion();
    unsealed.seal = None;
    unsealed.version = 1;
    unsealed.supersedes = None;

    let jobs: Vec<(
        &str,
        Box<dyn Fn() -> Result<Vec<u8>, rtms_documents::DocumentError>>,
    )> = vec![
        (
            "conclusion.pdf",
            Box::new(|| rtms_documents::render_conclusion(&common::conclusion())),
        ),
        (
            "conclusion-unsealed.pdf",
            Box::new(move || rtms_documents::render_conclusion(&unsealed)),
        ),
        (
            "conclusion-long.pdf",
            Box::new(|| rtms_documents::render_conclusion(&common::long_conclusion())),
        ),
        (
            "request-summary.pdf",
            Box::new(|| rtms_documents::render_request_summary(&common::request_summary())),
        ),
    ];
    for (name, job) in jobs {
        // The first rendering also parses the embedded fonts; repeat to show
        // the steady-state time too.
        let started = Instant::now();
        let pdf = job()?;
        let first = started.elapsed();
        let started = Instant::now();
        job()?;
        let again = started.elapsed();
        let path = dir.join(name);
        std::fs::write(&path, &pdf)?;
        println!(
            "{}: {} bytes, first {:?}, again {:?}",
            path.display(),
            pdf.len(),
            first,
            again
        );
    }
    Ok(())
}
