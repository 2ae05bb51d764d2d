//! # kmodcheck
//!
//! A model checker for Linux kernel module-loading concurrency: the
//! in-flight table of `finit_module`, the module list and its name check,
//! and the `request_module` budget, modelled in [`kmodcheck_model`] and
//! explored exhaustively with loom (and cross-checked or sampled with
//! shuttle).
//!
//! - [`engine`]: run a (variant, scenario) cell under an engine; verdicts;
//!   replay of a counterexample handle.
//! - [`report`]: the verdict matrix as text and JSON lines.
#![deny(missing_docs)]

pub mod engine;
pub mod report;

pub use kmodcheck_model as model;
pub use kmodcheck_properties as properties;
