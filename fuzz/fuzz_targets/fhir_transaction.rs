//! A FHIR transaction Bundle as another system posts it: JSON, then the
//! Bundle read into a new request.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(bundle) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = rtms_service::exchange::fhir::parse_transaction(&bundle);
    }
});
