//! `wait_queue_head_t` and the `wait_event*` macros
//! (`include/linux/wait.h`, `kernel/sched/wait.c`).

use crate::kernel::{Kernel, Sleep, TaskState};
use crate::trace::{TaskId, WaitFor};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex as StdMutex};

/// The state a task sleeps in (`TASK_*`), which decides what ends the sleep
/// besides the condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitMode {
    /// `TASK_UNINTERRUPTIBLE`: only the condition (or a timeout) ends it.
    Uninterruptible,
    /// `TASK_INTERRUPTIBLE`: any pending signal ends it.
    Interruptible,
    /// `TASK_KILLABLE`: only a fatal signal ends it.
    Killable,
}

impl WaitMode {
    /// `signal_pending_state()`: does a pending signal of this kind break the wait?
    pub fn broken_by(self, fatal: bool) -> bool {
        match self {
            WaitMode::Uninterruptible => false,
            WaitMode::Interruptible => true,
            WaitMode::Killable => fatal,
        }
    }

    /// Kernel spelling, for the trace.
    pub fn name(self) -> &'static str {
        match self {
            WaitMode::Uninterruptible => "uninterruptibly",
            WaitMode::Interruptible => "interruptibly",
            WaitMode::Killable => "killably",
        }
    }
}

/// Why a sleep ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Woken {
    /// The condition became true.
    Condition,
    /// A signal the wait mode admits is pending (`-ERESTARTSYS`).
    Signal,
    /// The timer actor expired the wait's timeout.
    Timeout,
}

/// A wait queue head. Sleepers and wakers synchronise through the kernel's
/// [`crate::kernel::Sched`] lock; the queue itself is an identity and a name,
/// plus the `done` count when it backs a [`crate::primitives::Completion`]
/// (read and written only with the `Sched` lock held).
pub struct WaitQueue {
    /// Name for the trace (`module_wq`).
    pub name: String,
    pub(crate) done: StdMutex<u32>,
    /// Tasks marked sleeping here (changed only under the `Sched` lock).
    pub(crate) sleepers: AtomicU32,
}

impl WaitQueue {
    /// `DECLARE_WAIT_QUEUE_HEAD` / `init_waitqueue_head`.
    pub fn new(name: impl Into<String>) -> Arc<Self> {
        Arc::new(WaitQueue {
            name: name.into(),
            done: StdMutex::new(0),
            sleepers: AtomicU32::new(0),
        })
    }

    /// `if (waitqueue_active(wq)) wake_up_all(wq)`, for `module_wq` only.
    ///
    /// Sound here for the reason the kernel's idiom is: every `module_wq`
    /// sleeper marks itself sleeping *before* testing a condition that takes
    /// `module_mutex` (`finished_loading`, `resolve_symbol`), and every waker
    /// calls this *after* a `module_mutex` section that changed the state. A
    /// sleeper that could miss the change is therefore already counted. An
    /// empty queue costs no engine operation.
    pub fn wake_up_all_if_active(self: &Arc<Self>, k: &Kernel) {
        if self.sleepers.load(Ordering::SeqCst) > 0 {
            self.wake_up_all(k);
        }
    }

    /// `wake_up_all()`: mark every task sleeping on this queue runnable.
    pub fn wake_up_all(self: &Arc<Self>, k: &Kernel) {
        let mut s = k.sched.lock();
        s.wake(self);
        k.sched_cv.notify_all();
    }
}

/// What ends a sleep besides a signal or timeout.
pub enum Cond<'a> {
    /// A condition evaluated with no lock held (it may take kernel locks,
    /// as `finished_loading()` takes `module_mutex`).
    Unlocked(&'a mut dyn FnMut() -> bool),
    /// A completion's `done` count: taken under the `Sched` lock, as
    /// `do_wait_for_common()` tests `x->done` under `x->wait.lock`.
    Done,
}

/// The body of `___wait_event()` and `do_wait_for_common()`: loop {
/// `prepare_to_wait_event` (mark sleeping); test the condition; test for a
/// signal the mode admits; `schedule()` until a waker marks us runnable }.
/// `timeout` names the timeout for the trace when the wait is timed; the
/// timer actor may expire it at any moment (loom never times out a wait).
pub fn sleep_until(
    k: &Kernel,
    me: TaskId,
    wq: &Arc<WaitQueue>,
    mode: WaitMode,
    timeout: Option<&'static str>,
    why: &dyn Fn() -> WaitFor,
    mut cond: Cond<'_>,
) -> Woken {
    let mut announced = false;
    let sleep = Sleep {
        wq: wq.clone(),
        mode,
        timed: timeout.is_some(),
    };
    // wait_event(): `if (condition) break;` before any prepare_to_wait.
    if let Cond::Unlocked(f) = &mut cond {
        if f() {
            return Woken::Condition;
        }
    }
    loop {
        let unlocked_true = match &mut cond {
            Cond::Unlocked(f) => {
                k.sched.lock().tasks[me].set_state(TaskState::Sleeping(sleep.clone()));
                f()
            }
            Cond::Done => false,
        };
        let mut s = k.sched.lock();
        let mut res = unlocked_true.then_some(Woken::Condition);
        if res.is_none() && matches!(cond, Cond::Done) {
            let mut done = wq.done.lock().unwrap_or_else(|e| e.into_inner());
            if *done > 0 {
                *done -= 1;
                res = Some(Woken::Condition);
            } else {
                s.tasks[me].set_state(TaskState::Sleeping(sleep.clone()));
            }
        }
        if res.is_none() {
            if let Some(fatal) = s.tasks[me].pending {
                if mode.broken_by(fatal) {
                    res = Some(Woken::Signal);
                }
            }
        }
        if res.is_none() && timeout.is_some() && s.take_timeout(me) {
            res = Some(Woken::Timeout);
        }
        if let Some(res) = res {
            s.finish_wait(me);
            if announced {
                k.rec.with(|r| {
                    r.blocked.remove(&me);
                });
            }
            return res;
        }
        if !announced {
            announced = true;
            let w = why();
            k.rec.event(
                me,
                "schedule",
                format!(
                    "sleeps {} on {}{}: waits for {}",
                    mode.name(),
                    wq.name,
                    timeout.map_or(String::new(), |t| format!(" (timeout {t})")),
                    w.what
                ),
            );
            k.rec.with(|r| {
                r.slept = true;
                r.blocked.insert(me, w);
            });
            if timeout.is_some() && k.scenario.timer {
                s.arm_timer(me);
                // The timer actor sleeps on env_wq until a timed wait is armed.
                s.wake(&k.env_wq);
                k.sched_cv.notify_all();
            }
        }
        while s.is_sleeping(me) {
            s = k.sched_cv.wait(s);
        }
        if matches!(cond, Cond::Done) {
            // Everything a completion wait tests is under the Sched lock:
            // test again without dropping it (one engine operation fewer).
            let mut done = wq.done.lock().unwrap_or_else(|e| e.into_inner());
            let res = if *done > 0 {
                *done -= 1;
                Some(Woken::Condition)
            } else {
                None
            };
            drop(done);
            let res = res.or_else(|| match s.tasks[me].pending {
                Some(fatal) if mode.broken_by(fatal) => Some(Woken::Signal),
                _ => (timeout.is_some() && s.take_timeout(me)).then_some(Woken::Timeout),
            });
            if let Some(res) = res {
                s.finish_wait(me);
                k.rec.with(|r| {
                    r.blocked.remove(&me);
                });
                return res;
            }
        }
    }
}
