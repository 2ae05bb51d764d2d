//! Kernel primitives built on [`crate::sync`]: wait queues with the
//! `wait_event*` family, completions, signals, and the timer actor.
//!
//! Every sleep goes through [`waitqueue::sleep_until`], which follows the
//! kernel's protocol: queue the task on the wait queue under the queue's
//! lock (`prepare_to_wait_event`), test the condition with no wait-queue
//! lock held, then `schedule()` until a waker has dequeued it. A waker
//! (`wake_up_all`, `complete`, a signal, the timer) dequeues sleepers under
//! the queue's lock, so no wake-up is lost, and the condition is free to
//! take other locks (`finished_loading` takes `module_mutex`), as in the
//! kernel. Each queue has its own engine lock, as each task has its own
//! (taken only for a task a signal can reach), so loom need not order
//! sleeps and wake-ups of unrelated queues and tasks against each other.

pub mod completion;
pub mod signal;
pub mod timer;
pub mod waitqueue;

pub use completion::Completion;
pub use waitqueue::{WaitMode, WaitQueue, Woken};
