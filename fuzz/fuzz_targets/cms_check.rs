//! A signer's detached CMS signature (DER) checked against a document, with
//! no trusted roots (every verdict path but "trusted" is reachable).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let roots = rtms_documents::cms::TrustRoots::default();
    let at = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
    let _ = rtms_documents::cms::check_detached(data, b"%PDF-1.7 conclusion", &roots, at);
});
