//! Kernel primitives built on [`crate::sync`]: wait queues with the
//! `wait_event*` family, completions, signals, and the timer actor.
//!
//! Every sleep goes through [`waitqueue::sleep_until`], which follows the
//! kernel's protocol: mark the task sleeping (`prepare_to_wait`), test the
//! condition with no wait-queue lock held, then `schedule()` until a waker
//! marks the task runnable. A waker (`wake_up_all`, `complete`, a signal, the
//! timer) marks sleepers runnable under the wait-queue lock, so no wake-up is
//! lost, and the condition is free to take other locks (`finished_loading`
//! takes `module_mutex`), as in the kernel.

pub mod completion;
pub mod signal;
pub mod timer;
pub mod waitqueue;

pub use completion::Completion;
pub use waitqueue::{WaitMode, WaitQueue, Woken};
