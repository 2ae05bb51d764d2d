//! `struct completion` (`include/linux/completion.h`, `kernel/sched/completion.c`).

use super::waitqueue::{sleep_until, Cond, WaitMode, WaitQueue, Woken};
use crate::kernel::Kernel;
use crate::trace::{TaskId, WaitFor};
use std::sync::Arc;

/// A completion: a `done` count and a wait queue.
#[derive(Clone)]
pub struct Completion(pub Arc<WaitQueue>);

impl Completion {
    /// `init_completion()`.
    pub fn new(name: impl Into<String>) -> Self {
        Completion(WaitQueue::new(name))
    }

    /// `complete()`: under the queue's lock, one more `done`, and wake the
    /// waiter (the model wakes every queued waiter; each retests `done`
    /// under the lock, so only as many proceed as there are `done`s).
    pub fn complete(&self) {
        let mut g = self.0.lock.lock();
        g.done = g.done.saturating_add(1);
        self.0.wake_locked(&mut g);
    }

    /// `complete_all()`: `done` = `UINT_MAX`, never taken again; wake everyone.
    pub fn complete_all(&self) {
        let mut g = self.0.lock.lock();
        g.done = u32::MAX;
        self.0.wake_locked(&mut g);
    }

    /// `wait_for_completion*()`: the one body of `do_wait_for_common()`,
    /// with the mode and timeout of the variant called.
    /// `Woken::Condition` means `done` was taken.
    pub fn wait(
        &self,
        k: &Kernel,
        me: TaskId,
        mode: WaitMode,
        timeout: Option<&'static str>,
        why: &dyn Fn() -> WaitFor,
    ) -> Woken {
        sleep_until(k, me, &self.0, mode, timeout, why, Cond::Done)
    }
}
