//! Data made by the product itself: the demo region (`serve --demo`) and the
//! load generator behind the benchmarks. Both go through the real services.
//!
//! May call: anything in this crate; nothing calls it but the binary.

pub mod demo;
pub mod generate;
