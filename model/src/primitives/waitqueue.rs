//! `wait_queue_head_t` and the `wait_event*` macros
//! (`include/linux/wait.h`, `kernel/sched/wait.c`).

use crate::kernel::{Kernel, Sleep};
use crate::state::{Fingerprint, Fp};
use crate::sync::{Condvar, Mutex, MutexGuard, Plain};
use crate::trace::{Fact, TaskId, WaitFor};
use std::sync::Arc;

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

/// A wait queue head: `wq_head->lock`, the queued tasks, and the `done`
/// count when it backs a [`crate::primitives::Completion`] (`x->done` is
/// protected by `x->wait.lock` in the kernel too).
///
/// A queued task is asleep (or about to call `schedule()`); a waker
/// dequeues it (`autoremove_wake_function()`), and `schedule()` returns
/// once the task is no longer queued. The engine condition variable stands
/// for the scheduler: it is notified whenever an entry is dequeued.
pub struct WaitQueue {
    /// Name for the trace (`module_wq`).
    pub name: String,
    pub(crate) lock: Mutex<WqInner>,
    cv: Condvar,
    /// Bit `t` set while task `t` is queued: a copy of the list, written only
    /// with `lock` held, for the kernel's lockless peeks (`waitqueue_active`,
    /// `list_empty_careful` in `finish_wait`).
    queued: Plain<Queued>,
}

/// The queued tasks, as bits.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
struct Queued(u64);

/// Nothing of its own: it is a copy of the queue's list, which the list
/// shows when the queue's lock is free, and its holder's history when not
/// (every write is made with the lock held, next to the list's). What a
/// lockless peek reads is part of the reader's history (a `bool`).
impl Fingerprint for Queued {
    fn fingerprint(&self, _: &mut Fp<'_>) {}
}

/// A wait queue, where something refers to it: its identity.
impl Fingerprint for WaitQueue {
    fn fingerprint(&self, fp: &mut Fp<'_>) {
        fp.obj(self.lock.id());
    }
}

/// What `wq_head->lock` protects.
pub(crate) struct WqInner {
    list: Vec<TaskId>,
    /// The completion count.
    pub(crate) done: u32,
    /// Timed waits in progress on this queue whose timer is armed: task,
    /// the wait's generation, and whether the timer has expired. (The
    /// kernel keeps this on the sleeper's stack, in its `hrtimer_sleeper`;
    /// here it sits under the queue's lock, which both the sleeper and the
    /// timer actor take anyway.)
    timed: Vec<(TaskId, u32, bool)>,
}

impl Fingerprint for WqInner {
    fn fingerprint(&self, fp: &mut Fp<'_>) {
        self.list.fingerprint(fp);
        self.done.fingerprint(fp);
        self.timed.fingerprint(fp);
    }
}

fn bit(t: TaskId) -> u64 {
    assert!(t.0 < 64, "a wait queue tracks at most 64 tasks");
    1 << t.0
}

impl WqInner {
    fn add(&mut self, wq: &WaitQueue, me: TaskId) {
        if !self.list.contains(&me) {
            self.list.push(me);
            wq.queued.write(|q| q.0 |= bit(me));
        }
    }

    /// Dequeue `t`; whether it was queued.
    fn remove(&mut self, wq: &WaitQueue, t: TaskId) -> bool {
        let before = self.list.len();
        self.list.retain(|x| *x != t);
        wq.queued.write(|q| q.0 &= !bit(t));
        self.list.len() != before
    }

    fn is_queued(&self, t: TaskId) -> bool {
        self.list.contains(&t)
    }
}

impl WaitQueue {
    /// `DECLARE_WAIT_QUEUE_HEAD` / `init_waitqueue_head`.
    pub fn new(name: impl Into<String>) -> Arc<Self> {
        Arc::new(WaitQueue {
            name: name.into(),
            lock: Mutex::new(WqInner {
                list: Vec::new(),
                done: 0,
                timed: Vec::new(),
            }),
            cv: Condvar::new(),
            queued: Plain::new(Queued(0)),
        })
    }

    fn peek_queued(&self, t: TaskId) -> bool {
        self.queued.read(|q| q.0 & bit(t) != 0)
    }

    /// `if (waitqueue_active(wq)) wake_up_all(wq)`, for `module_wq` only.
    ///
    /// Sound here for the reason the kernel's idiom is: every `module_wq`
    /// sleeper queues itself *before* testing a condition that takes
    /// `module_mutex` (`finished_loading`, `resolve_symbol`), and every waker
    /// calls this *after* a `module_mutex` section that changed the state. A
    /// sleeper that could miss the change is therefore already queued. An
    /// empty queue costs no engine operation.
    pub fn wake_up_all_if_active(&self) {
        if self.queued.read(|q| q.0 != 0) {
            self.wake_up_all();
        }
    }

    /// `wake_up_all()` with `autoremove_wake_function`: under the queue's
    /// lock, dequeue every task, waking it.
    pub fn wake_up_all(&self) {
        let mut g = self.lock.lock();
        self.wake_locked(&mut g);
    }

    /// The body of `__wake_up_common()`, with the queue's lock held.
    pub(crate) fn wake_locked(&self, g: &mut MutexGuard<'_, WqInner>) {
        if !g.list.is_empty() {
            g.list.clear();
            self.queued.set(Queued(0));
            self.cv.notify_all(g);
        }
    }

    /// `hrtimer_wakeup()` for task `t`'s timed wait `gen` on this queue: if
    /// that wait is still in progress, mark it timed out and wake the task.
    /// Whether it was.
    pub(crate) fn expire(&self, t: TaskId, gen: u32) -> bool {
        let mut g = self.lock.lock();
        let Some(e) = g.timed.iter_mut().find(|e| e.0 == t && e.1 == gen) else {
            return false;
        };
        e.2 = true;
        if g.remove(self, t) {
            self.cv.notify_all(&g);
        }
        true
    }

    /// `try_to_wake_up(t)` of a task that went to sleep here, for a signal:
    /// dequeue it if it is still queued. Whether it was. The lockless peek
    /// skips the lock when a waker or the task itself has already dequeued
    /// it: it then runs, and will see the signal, which was stored before
    /// this call, when it next prepares to sleep.
    pub(crate) fn wake_one(&self, t: TaskId) -> bool {
        if !self.peek_queued(t) {
            return false;
        }
        let mut g = self.lock.lock();
        let was = g.remove(self, t);
        if was {
            self.cv.notify_all(&g);
        }
        was
    }
}

/// What ends a sleep besides a signal or timeout.
pub enum Cond<'a> {
    /// A condition evaluated with no lock held (it may take kernel locks,
    /// as `finished_loading()` takes `module_mutex`): `wait_event*()`.
    Unlocked(&'a mut dyn FnMut() -> bool),
    /// A completion's `done` count, tested under the queue's lock:
    /// `wait_for_completion*()`.
    Done,
}

/// One sleeper's bookkeeping across the iterations of its wait loop.
struct Waiter<'a> {
    k: &'a Kernel,
    me: TaskId,
    wq: &'a Arc<WaitQueue>,
    sleep: Sleep,
    timeout: Option<&'static str>,
    why: &'a dyn Fn() -> WaitFor,
    /// The task's lock, if a signal actor targets this task: it is needed
    /// to see a signal. Otherwise no other task reads or writes this
    /// task's state.
    cell: Option<Arc<crate::kernel::TaskCell>>,
    /// This wait's generation: tells a timer armed for it from one armed
    /// for an earlier wait of the same task.
    gen: u32,
    announced: bool,
    armed: bool,
}

impl Waiter<'_> {
    /// With the queue's lock held (`g`): what ends the sleep early: an
    /// expired timer, then a signal the wait's state admits (read under the
    /// task's lock, where it notes where it sleeps, for a signal sender).
    fn interrupted(&self, g: &WqInner) -> Option<Woken> {
        if self.armed
            && g.timed
                .iter()
                .any(|e| e.0 == self.me && e.1 == self.gen && e.2)
        {
            return Some(Woken::Timeout);
        }
        let Some(cell) = &self.cell else {
            return None;
        };
        let mut t = cell.lock.lock();
        if t.pending
            .is_some_and(|fatal| self.sleep.mode.broken_by(fatal))
        {
            return Some(Woken::Signal);
        }
        t.sleeping_on = Some(self.sleep.clone());
        None
    }

    /// With the queue's lock held and the task queued: record the first
    /// sleep (for the trace and the wait-for graph), arm the timer of a
    /// timed wait, and `schedule()` until dequeued.
    fn schedule<'g>(&mut self, mut g: MutexGuard<'g, WqInner>) -> MutexGuard<'g, WqInner> {
        let k = self.k;
        if !self.announced {
            self.announced = true;
            if let Some(w) = k.rec.for_trace(self.why) {
                k.rec.event(self.me, "schedule", || {
                    format!(
                        "sleeps {} on {}{}: waits for {}",
                        self.sleep.mode.name(),
                        self.wq.name,
                        self.timeout
                            .map_or(String::new(), |t| format!(" (timeout {t})")),
                        w.what
                    )
                });
                k.rec.sleeps(self.me, || w);
            }
            k.rec.fact(Fact::Slept);
        }
        if self.sleep.timed && !self.armed {
            // schedule_timeout(): the timer is armed for the rest of the
            // wait (the time left carries over from one sleep to the next).
            self.armed = true;
            self.gen = k.next_timed_wait(self.me);
            g.timed.push((self.me, self.gen, false));
            crate::primitives::timer::arm(k, self.me, self.wq, self.gen);
        }
        while g.is_queued(self.me) {
            g = self.wq.cv.wait(g);
        }
        g
    }

    /// With the queue's lock held: the wait is over; its timer, if armed,
    /// can no longer expire it (`del_timer_sync()`: the timer actor skips
    /// a wait that is no longer in progress).
    fn disarm(&self, g: &mut WqInner) {
        if self.armed {
            g.timed.retain(|e| !(e.0 == self.me && e.1 == self.gen));
        }
    }

    /// The wait is over: leave the wait-for graph.
    fn end(self, res: Woken) -> Woken {
        if self.announced {
            self.k.rec.wakes(self.me);
        }
        res
    }
}

/// Sleep on `wq` in `mode` until `cond` holds, a signal the mode admits is
/// pending, or (for a timed wait, when the scenario lets time pass) the
/// timer actor expires the wait. `timeout` names the timeout for the trace.
///
/// `Cond::Unlocked` is `___wait_event()` (`include/linux/wait.h`): test the
/// condition; then loop { `prepare_to_wait_event()`; test the condition;
/// leave on a signal or an expired timeout; `schedule()` }; `finish_wait()`.
/// `Cond::Done` is `do_wait_for_common()` (`kernel/sched/completion.c`).
pub fn sleep_until(
    k: &Kernel,
    me: TaskId,
    wq: &Arc<WaitQueue>,
    mode: WaitMode,
    timeout: Option<&'static str>,
    why: &dyn Fn() -> WaitFor,
    cond: Cond<'_>,
) -> Woken {
    let timed = timeout.is_some() && k.time_passes();
    let mut w = Waiter {
        k,
        me,
        wq,
        sleep: Sleep {
            wq: wq.clone(),
            mode,
            timed,
        },
        timeout,
        why,
        cell: k.signal_cell(me),
        gen: 0,
        announced: false,
        armed: false,
    };
    let res = match cond {
        Cond::Unlocked(f) => {
            // `if (condition) break;` before any prepare_to_wait.
            if f() {
                return Woken::Condition;
            }
            let mut g = wq.lock.lock();
            loop {
                // prepare_to_wait_event(): if a signal the state admits is
                // pending, dequeue and report it; else queue the task (the
                // state is set: it sleeps once it calls schedule()).
                let int = w.interrupted(&g);
                if int == Some(Woken::Signal) {
                    g.remove(wq, me);
                } else {
                    g.add(wq, me);
                }
                drop(g);
                // The condition wins over a signal or a timeout that arrived
                // meanwhile (___wait_cond_timeout).
                if f() {
                    break Woken::Condition;
                }
                match int {
                    // prepare_to_wait_event() already dequeued us.
                    Some(Woken::Signal) => {
                        if w.armed {
                            w.disarm(&mut wq.lock.lock());
                        }
                        return w.end(Woken::Signal);
                    }
                    Some(other) => break other,
                    None => {}
                }
                g = w.schedule(wq.lock.lock());
            }
        }
        Cond::Done => {
            let mut g = wq.lock.lock();
            let mut res = Woken::Condition;
            if g.done == 0 {
                // __add_wait_queue_entry_tail_exclusive(); then loop {
                // signal_pending_state()? __set_current_state(); unlock;
                // schedule_timeout(); lock } while (!x->done && timeout).
                loop {
                    g.add(wq, me);
                    if let Some(int) = w.interrupted(&g) {
                        res = int;
                        break;
                    }
                    g = w.schedule(g);
                    if g.done > 0 {
                        break;
                    }
                }
                g.remove(wq, me);
                w.disarm(&mut g);
            }
            if g.done > 0 {
                res = Woken::Condition;
                if g.done != u32::MAX {
                    g.done -= 1;
                }
            }
            return w.end(res);
        }
    };
    // finish_wait(): dequeue, unless a waker already has (list_empty_careful).
    if wq.peek_queued(me) || w.armed {
        let mut g = wq.lock.lock();
        g.remove(wq, me);
        w.disarm(&mut g);
    }
    w.end(res)
}
