//! A duty roster as a coordinator uploads it: CSV or XLSX (a ZIP), read
//! into shifts as entered. A refusal is fine; a panic, a hang or a runaway
//! allocation is not.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = rtms_service::directory::duty::parse_roster(data);
});
