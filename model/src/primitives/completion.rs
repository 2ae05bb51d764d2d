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

    /// `complete()`: one `done`, wake the waiter.
    pub fn complete(&self, k: &Kernel) {
        self.add_done(k, 1);
    }

    /// `complete_all()`: `done` = UINT_MAX, wake everyone.
    pub fn complete_all(&self, k: &Kernel) {
        self.add_done(k, u32::MAX / 2);
    }

    /// `complete()` on several completions within one `Sched` section.
    pub fn complete_each<'a>(k: &Kernel, cs: impl Iterator<Item = &'a Completion>) {
        let mut s = k.sched.lock();
        for c in cs {
            *c.0.done.lock().unwrap_or_else(|e| e.into_inner()) += 1;
            s.wake(&c.0);
        }
        k.sched_cv.notify_all();
    }

    fn add_done(&self, k: &Kernel, n: u32) {
        let mut s = k.sched.lock();
        {
            let mut done = self.0.done.lock().unwrap_or_else(|e| e.into_inner());
            *done = done.saturating_add(n);
        }
        s.wake(&self.0);
        k.sched_cv.notify_all();
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
