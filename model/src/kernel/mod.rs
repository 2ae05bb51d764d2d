//! The kernel side: shared state and the functions that act on it.
//!
//! | file | kernel source it mirrors |
//! |---|---|
//! | [`module`] | `kernel/module/main.c`: module list, `module_patient_check_exists`, `resolve_symbol_wait` |
//! | [`idempotent`] | `kernel/module/main.c`: the in-flight table (9b9879fc0327 and its v6.11 changes) |
//! | [`main`] | `kernel/module/main.c`: `finit_module`, `load_module`, `do_init_module` |
//! | [`kmod`] | `kernel/module/kmod.c` (`kernel/kmod.c` before v6.4): `__request_module` |
//! | [`umh`] | `kernel/umh.c`: `call_usermodehelper_exec` |
//! | [`crypto`] | `crypto/algapi.c`, `crypto/algboss.c`: registration and the self-test kthread |
//!
//! The task table ([`Sched`]) is the part of `task_struct` the model needs
//! (sleep state, pending signal, timers), under one engine lock.

pub mod crypto;
pub mod idempotent;
pub mod kmod;
pub mod main;
pub mod module;
pub mod umh;

use crate::primitives::{WaitMode, WaitQueue};
use crate::scenario::Scenario;
use crate::sync::{self, Condvar, Mutex};
use crate::trace::{ModState, Recorder, TaskId, TaskKind, TaskRecord};
use crate::variant::Variant;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex as StdMutex};

pub use idempotent::IdemHash;
pub use kmod::KmodState;
pub use module::Module;

/// Where a sleeping task sleeps.
#[derive(Clone)]
pub struct Sleep {
    /// The wait queue (or completion) it sleeps on.
    pub wq: Arc<WaitQueue>,
    /// `TASK_*` state.
    pub mode: WaitMode,
    /// A timed wait (the timer actor may expire it).
    pub timed: bool,
}

/// `current->__state`, reduced to what the model needs.
#[derive(Clone)]
pub enum TaskState {
    /// `TASK_RUNNING`.
    Running,
    /// Between `prepare_to_wait` and a wake-up.
    Sleeping(Sleep),
}

/// Per-task kernel state that changes while the task runs.
pub struct Task {
    /// Sleep state.
    pub state: TaskState,
    /// Pending signal: `Some(fatal)`.
    pub pending: Option<bool>,
    timer_armed: bool,
    timed_out: bool,
}

impl Task {
    /// Change the sleep state, keeping each wait queue's sleeper count
    /// (read by [`WaitQueue::wake_up_all_if_active`]).
    pub fn set_state(&mut self, new: TaskState) {
        if let TaskState::Sleeping(old) = &self.state {
            old.wq.sleepers.fetch_sub(1, Ordering::SeqCst);
        }
        if let TaskState::Sleeping(s) = &new {
            s.wq.sleepers.fetch_add(1, Ordering::SeqCst);
        }
        self.state = new;
    }
}

/// Per-task facts fixed when the task starts.
pub struct TaskMeta {
    kernel_task: bool,
    /// Tasks whose `request_module` led to this one, nearest first. Only the
    /// recursion-aware proposal reads it.
    pub ancestry: Vec<TaskId>,
    /// The alias a usermode helper was started for.
    pub helper_for: Option<String>,
}

/// Everything about tasks, under one lock: the model's stand-in for the
/// runqueue and `pi_lock` of `try_to_wake_up()` and the per-task `siglock`.
/// Every cross-task interaction (sleep, wake-up, signal, exit) goes through
/// this engine lock, so the engines see it and explore its orders; a plain
/// `std` flag would be invisible to loom's partial-order reduction.
pub struct Sched {
    /// Tasks by id.
    pub tasks: Vec<Task>,
    /// The harness saw every kernel task exit.
    pub finished: bool,
}

impl Sched {
    /// Mark runnable every task sleeping on `wq`.
    pub fn wake(&mut self, wq: &Arc<WaitQueue>) {
        for t in &mut self.tasks {
            if let TaskState::Sleeping(s) = &t.state {
                if Arc::ptr_eq(&s.wq, wq) {
                    t.set_state(TaskState::Running);
                }
            }
        }
    }

    /// Whether `me` is still marked sleeping.
    pub fn is_sleeping(&self, me: TaskId) -> bool {
        matches!(self.tasks[me].state, TaskState::Sleeping(_))
    }

    /// Take `me`'s expired-timeout flag.
    pub fn take_timeout(&mut self, me: TaskId) -> bool {
        std::mem::take(&mut self.tasks[me].timed_out)
    }

    /// Arm `me`'s timer (the timer actor may now expire it).
    pub fn arm_timer(&mut self, me: TaskId) {
        self.tasks[me].timer_armed = true;
    }

    /// Leave a sleep: running, timer disarmed.
    pub fn finish_wait(&mut self, me: TaskId) {
        let t = &mut self.tasks[me];
        t.set_state(TaskState::Running);
        t.timer_armed = false;
        t.timed_out = false;
    }

    /// The first task with an armed timer.
    pub fn armed_timer(&self) -> Option<TaskId> {
        self.tasks.iter().position(|t| t.timer_armed)
    }

    /// Expire the first armed timer: returns its task.
    pub fn fire_timer(&mut self) -> Option<TaskId> {
        let id = self.armed_timer()?;
        let t = &mut self.tasks[id];
        t.timer_armed = false;
        t.timed_out = true;
        if let TaskState::Sleeping(s) = &t.state {
            if s.timed {
                t.set_state(TaskState::Running);
            }
        }
        Some(id)
    }
}

/// The kernel: every lock, wait queue and table the model covers.
pub struct Kernel {
    /// The loader variant being checked.
    pub variant: Variant,
    /// The scenario being run.
    pub scenario: Arc<Scenario>,
    /// What this execution records.
    pub rec: Recorder,
    /// `module_mutex` and the list `modules` it protects.
    pub module_mutex: Mutex<Vec<Module>>,
    /// `module_wq`: woken when a load finishes, either way.
    pub module_wq: Arc<WaitQueue>,
    /// `idem_lock` and `idem_hash` (v6.5+).
    pub idem_lock: Mutex<IdemHash>,
    /// `inode->i_writecount` of each module file (for the deny-write
    /// variant), with the task holding the exclusive deny (ghost).
    pub i_writecount: Mutex<Vec<(i32, Option<TaskId>)>>,
    /// The kmod budget.
    pub kmod: Mutex<KmodState>,
    /// Environment actors (signal sender, timer) sleep here.
    pub env_wq: Arc<WaitQueue>,
    /// Task states, signals, timers: see [`Sched`].
    pub sched: Mutex<Sched>,
    /// Sleeping tasks wait here for a waker to mark them runnable.
    pub sched_cv: Condvar,
    meta: StdMutex<Vec<TaskMeta>>,
    exited: StdMutex<Vec<TaskId>>,
    handles: StdMutex<Vec<(bool, sync::JoinHandle)>>,
    slots: usize,
    signals: bool,
    signal_waits_for_helper: bool,
}

impl Kernel {
    /// Boot: empty module list, empty tables.
    pub fn boot(variant: Variant, scenario: Arc<Scenario>, rec: Recorder) -> Arc<Kernel> {
        let files = scenario.modules.len();
        let slots = scenario.max_threads() + 1;
        let signals = scenario
            .actors
            .iter()
            .any(|a| matches!(a, crate::scenario::Actor::Signal { .. }));
        let signal_waits_for_helper = scenario.actors.iter().any(|a| {
            matches!(
                a,
                crate::scenario::Actor::Signal {
                    target: crate::scenario::SignalTarget::HelperFor(_),
                    ..
                }
            )
        });
        Arc::new(Kernel {
            variant,
            rec,
            module_mutex: Mutex::new(Vec::new()),
            module_wq: WaitQueue::new("module_wq"),
            idem_lock: Mutex::new(IdemHash::default()),
            i_writecount: Mutex::new(vec![(0, None); files]),
            kmod: Mutex::new(KmodState::default()),
            env_wq: WaitQueue::new("env_wq"),
            sched: Mutex::new(Sched {
                tasks: (0..slots)
                    .map(|_| Task {
                        state: TaskState::Running,
                        pending: None,
                        timer_armed: false,
                        timed_out: false,
                    })
                    .collect(),
                finished: false,
            }),
            meta: StdMutex::new(Vec::new()),
            exited: StdMutex::new(Vec::new()),
            handles: StdMutex::new(Vec::new()),
            slots,
            sched_cv: Condvar::new(),
            signals,
            signal_waits_for_helper,
            scenario,
        })
    }

    /// Register a task without starting a thread (the harness's main thread).
    ///
    /// Its state slot in [`Sched`] was preallocated at boot, so this is not
    /// an engine operation unless a signal actor may be waiting for a task to
    /// exist; then it wakes that actor under the `Sched` lock.
    pub fn register_task(
        &self,
        kind: TaskKind,
        label: String,
        ancestry: Vec<TaskId>,
        helper_for: Option<String>,
    ) -> TaskId {
        let kernel_task = kind != TaskKind::Environment;
        let id = {
            let mut meta = self.meta.lock().unwrap_or_else(|e| e.into_inner());
            let name = match kind {
                TaskKind::Environment => label.split(' ').next().unwrap_or("env").to_string(),
                _ => format!("T{}", meta.iter().filter(|m| m.kernel_task).count() + 1),
            };
            meta.push(TaskMeta {
                kernel_task,
                ancestry,
                helper_for,
            });
            self.rec
                .with(|r| r.tasks.push(TaskRecord { name, label, kind }));
            meta.len() - 1
        };
        assert!(
            id < self.slots,
            "task {id} exceeds the {} slots Scenario::max_threads allowed",
            self.slots
        );
        if kernel_task && self.signal_waits_for_helper {
            let mut s = self.sched.lock();
            s.wake(&self.env_wq);
            self.sched_cv.notify_all();
        }
        id
    }

    /// Start a task on a new model thread. Kernel tasks (not environment
    /// actors) are reaped by the harness, which joins them all.
    pub fn spawn_task(
        self: &Arc<Self>,
        kind: TaskKind,
        label: String,
        ancestry: Vec<TaskId>,
        helper_for: Option<String>,
        body: impl FnOnce(&Arc<Kernel>, TaskId) + Send + 'static,
    ) -> TaskId {
        let kernel_task = kind != TaskKind::Environment;
        let id = self.register_task(kind, label, ancestry, helper_for);
        let k = self.clone();
        let h = sync::spawn(move || {
            body(&k, id);
            k.task_exit(id);
        });
        self.handles
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((kernel_task, h));
        id
    }

    /// `do_exit()`. A plain store, not an engine operation: the only reader
    /// is a signal sender, and a signal to an exited task has no effect
    /// whichever way the two are ordered (only the trace's wording differs).
    pub fn task_exit(&self, me: TaskId) {
        self.exited
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(me);
    }

    /// Whether `t` has exited (see [`Kernel::task_exit`]).
    pub fn has_exited(&self, t: TaskId) -> bool {
        self.exited
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(&t)
    }

    /// The harness's reaping: join every task thread, kernel tasks first,
    /// including those started while it waits (usermode helpers, kthreads),
    /// then mark the run finished so the environment actors exit, and join
    /// them. A join blocks like a sleep, so a hang is still a deadlock.
    pub fn reap(&self) {
        loop {
            let next = {
                let mut hs = self.handles.lock().unwrap_or_else(|e| e.into_inner());
                let i = hs.iter().position(|(kernel, _)| *kernel);
                i.map(|i| hs.remove(i).1)
            };
            match next {
                Some(h) => h.join(),
                None => break,
            }
        }
        self.finish();
        let rest: Vec<_> =
            std::mem::take(&mut *self.handles.lock().unwrap_or_else(|e| e.into_inner()));
        for (_, h) in rest {
            h.join();
        }
    }

    /// The ancestry a helper started by `me` inherits: `me`, then `me`'s.
    /// Written once before the task starts, so read without an engine lock.
    pub fn ancestry_of(&self, me: TaskId) -> Vec<TaskId> {
        let meta = self.meta.lock().unwrap_or_else(|e| e.into_inner());
        let mut a = vec![me];
        a.extend(meta[me].ancestry.iter().copied());
        a
    }

    /// The first helper started for `request_module(alias)`. The signal
    /// actor calls it with the `Sched` lock held (registration takes that
    /// lock when a signal actor exists), which orders it after registration.
    pub fn helper_for(&self, alias: &str) -> Option<TaskId> {
        self.meta
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .position(|t| t.helper_for.as_deref() == Some(alias))
    }

    /// Mark the run finished and wake the environment actors.
    pub fn finish(&self) {
        let mut s = self.sched.lock();
        s.finished = true;
        s.wake(&self.env_wq);
        self.sched_cv.notify_all();
    }

    /// `fatal_signal_pending(current)`. Without a signal actor in the
    /// scenario no signal can be pending, and the lock is skipped.
    pub fn fatal_signal_pending(&self, me: TaskId) -> bool {
        self.signals && self.sched.lock().tasks[me].pending == Some(true)
    }

    /// `send_sig()` → `signal_wake_up()`: set the pending flag; if the target
    /// sleeps in a state the signal breaks, make it runnable. Returns
    /// whether it was alive, and the queue it was woken from.
    pub(crate) fn deliver_signal(
        &self,
        target: TaskId,
        fatal: bool,
    ) -> (bool, Option<Arc<WaitQueue>>) {
        let mut s = self.sched.lock();
        if self.has_exited(target) {
            return (false, None);
        }
        self.rec.with(|r| r.signalled.push(target));
        let t = &mut s.tasks[target];
        t.pending = Some(t.pending.unwrap_or(false) | fatal);
        let mut woken = None;
        if let TaskState::Sleeping(sl) = &t.state {
            if sl.mode.broken_by(fatal) {
                woken = Some(sl.wq.clone());
                t.set_state(TaskState::Running);
            }
        }
        self.sched_cv.notify_all();
        (true, woken)
    }

    /// Ghost: record a module's state (absent = `None`) for properties.
    pub fn ghost_module(&self, name: &str, state: Option<ModState>) {
        self.rec.with(|r| match state {
            Some(s) => {
                r.modules.insert(name.to_string(), s);
            }
            None => {
                r.modules.remove(name);
            }
        });
    }

    /// Ghost: `me`'s running `finit_module` ran into `owner`'s load of the
    /// same module (a waiter's owner, the name check's loader, the deny's
    /// holder). `consistent-result` compares the two results.
    pub fn ghost_against(&self, me: TaskId, owner: TaskId) {
        self.rec.with(|r| {
            if let Some(c) = r
                .finits
                .iter_mut()
                .rev()
                .find(|c| c.task == me && c.end.is_none())
            {
                c.against.get_or_insert(owner);
            }
        });
    }

    /// Short name of a task, for trace text.
    pub fn name(&self, t: TaskId) -> String {
        self.rec.with(|r| r.task_name(t).to_string())
    }
}
