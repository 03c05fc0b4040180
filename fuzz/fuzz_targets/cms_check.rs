//! A signer's detached CMS signature (DER) checked against a document.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = rtms_documents::cms::check_detached(data, b"%PDF-1.7 conclusion");
});
