//! kmodcheck's development tasks, run as `cargo xtask ...` (the alias is in
//! .cargo/config.toml): tools of this repository, kept out of the kmodcheck
//! library and binary that it ships.
//!
//! - [`bench`]: `cargo xtask bench`, what each verdict costs, written as
//!   reports/performance.md and its charts.
#![deny(missing_docs)]

pub mod bench;
