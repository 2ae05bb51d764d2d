//! # kmodcheck-model: the Linux module loader, modelled
//!
//! The system under check. Each kernel function the model covers has a model
//! function of the same name whose doc comment cites the kernel file, function
//! and commit it mirrors. Locks stay separate as in the kernel
//! (`module_mutex`, `idem_lock`, the kmod budget), so a proposal that changes
//! locking can be written as it is.
//!
//! - [`sync`]: the only file that names loom or shuttle: the engine facade.
//! - [`state`]: what a state is, and its fingerprint (the stateful engine).
//! - [`primitives`]: wait queues, completions, signals, the timer actor.
//! - [`kernel`]: module list and name check, in-flight table, kmod budget,
//!   `finit_module`/`load_module`/`do_init_module`, the usermode helper, crypto.
//! - [`userspace`] holds modprobe.
//! - [`variant`], [`scenario`]: the catalogue, as data.
//! - [`trace`]: what one execution records: the trace (write-only, for
//!   counterexamples) and the properties' monitors (fed facts; their state is
//!   part of the execution's state).
//! - [`world`]: one execution: boot the kernel, start the actors, wait.
#![deny(missing_docs)]

pub mod errno;
pub mod kernel;
pub mod primitives;
pub mod scenario;
pub mod state;
pub mod sync;
pub mod trace;
pub mod userspace;
pub mod variant;
pub mod world;

pub use scenario::Scenario;
pub use trace::Trace;
pub use variant::Variant;
