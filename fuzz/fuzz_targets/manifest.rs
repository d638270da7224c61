//! cargo-fuzz run of the `manifest` target; what it checks is in
//! tests/fuzz/targets.rs, shared with the seeded runs of `cargo test`.

#![no_main]

// Each binary uses one of the shared targets.
#[allow(dead_code)]
#[path = "../../tests/fuzz/targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::manifest(data));
