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
use std::sync::Arc;

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

/// Per-task kernel state.
pub struct Task {
    /// Sleep state.
    pub state: TaskState,
    /// Pending signal: `Some(fatal)`.
    pub pending: Option<bool>,
    alive: bool,
    kernel_task: bool,
    timer_armed: bool,
    timed_out: bool,
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
                    t.state = TaskState::Running;
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
        t.state = TaskState::Running;
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
                t.state = TaskState::Running;
            }
        }
        Some(id)
    }

    /// Kernel tasks still running.
    pub fn live_tasks(&self) -> usize {
        self.tasks.iter().filter(|t| t.kernel_task && t.alive).count()
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
    /// The reaper (the harness's main thread) sleeps here until all tasks exit.
    pub reaper_wq: Arc<WaitQueue>,
    /// Task states, signals, timers: see [`Sched`].
    pub sched: Mutex<Sched>,
    /// Sleeping tasks wait here for a waker to mark them runnable.
    pub sched_cv: Condvar,
    signals: bool,
}

impl Kernel {
    /// Boot: empty module list, empty tables.
    pub fn boot(variant: Variant, scenario: Arc<Scenario>, rec: Recorder) -> Arc<Kernel> {
        let files = scenario.modules.len();
        let signals = scenario
            .actors
            .iter()
            .any(|a| matches!(a, crate::scenario::Actor::Signal { .. }));
        Arc::new(Kernel {
            variant,
            rec,
            module_mutex: Mutex::new(Vec::new()),
            module_wq: WaitQueue::new("module_wq"),
            idem_lock: Mutex::new(IdemHash::default()),
            i_writecount: Mutex::new(vec![(0, None); files]),
            kmod: Mutex::new(KmodState::default()),
            env_wq: WaitQueue::new("env_wq"),
            reaper_wq: WaitQueue::new("the reaper's wait queue"),
            sched: Mutex::new(Sched {
                tasks: Vec::new(),
                finished: false,
            }),
            sched_cv: Condvar::new(),
            signals,
            scenario,
        })
    }

    /// Register a task without starting a thread (the harness's main thread).
    pub fn register_task(
        &self,
        kind: TaskKind,
        label: String,
        ancestry: Vec<TaskId>,
        helper_for: Option<String>,
    ) -> TaskId {
        let kernel_task = kind != TaskKind::Environment;
        let mut s = self.sched.lock();
        let name = match kind {
            TaskKind::Environment => label.split(' ').next().unwrap_or("env").to_string(),
            _ => {
                let n = s.tasks.iter().filter(|t| t.kernel_task).count() + 1;
                format!("T{n}")
            }
        };
        s.tasks.push(Task {
            state: TaskState::Running,
            pending: None,
            alive: true,
            kernel_task,
            timer_armed: false,
            timed_out: false,
            ancestry,
            helper_for,
        });
        let id = s.tasks.len() - 1;
        self.rec.with(|r| r.tasks.push(TaskRecord { name, label, kind }));
        if kernel_task && self.signals {
            // A signal actor may be waiting for this task to exist.
            s.wake(&self.env_wq);
            self.sched_cv.notify_all();
        }
        id
    }

    /// Start a task on a new model thread. Kernel tasks (not environment
    /// actors) are counted by the reaper, and exit through [`Kernel::task_exit`].
    pub fn spawn_task(
        self: &Arc<Self>,
        kind: TaskKind,
        label: String,
        ancestry: Vec<TaskId>,
        helper_for: Option<String>,
        body: impl FnOnce(&Arc<Kernel>, TaskId) + Send + 'static,
    ) -> (TaskId, sync::JoinHandle) {
        let kernel_task = kind != TaskKind::Environment;
        let id = self.register_task(kind, label, ancestry, helper_for);
        let k = self.clone();
        let h = sync::spawn(move || {
            body(&k, id);
            if kernel_task {
                k.task_exit(id);
            }
        });
        (id, h)
    }

    /// `do_exit()`: the task is gone; wake the reaper.
    pub fn task_exit(&self, me: TaskId) {
        let mut s = self.sched.lock();
        s.tasks[me].alive = false;
        s.wake(&self.reaper_wq);
        self.sched_cv.notify_all();
    }

    /// Number of kernel tasks still running.
    pub fn live_tasks(&self) -> usize {
        self.sched.lock().live_tasks()
    }

    /// The ancestry a helper started by `me` inherits: `me`, then `me`'s.
    pub fn ancestry_of(&self, me: TaskId) -> Vec<TaskId> {
        let s = self.sched.lock();
        let mut a = vec![me];
        a.extend(s.tasks[me].ancestry.iter().copied());
        a
    }

    /// The first helper started for `request_module(alias)`.
    pub fn helper_for(&self, alias: &str) -> Option<TaskId> {
        self.sched
            .lock()
            .tasks
            .iter()
            .position(|t| t.helper_for.as_deref() == Some(alias))
    }

    /// Whether the harness has seen every kernel task exit.
    pub fn finished(&self) -> bool {
        self.sched.lock().finished
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

    /// `signal_pending(current)`: `Some(fatal)`.
    pub fn pending_signal(&self, me: TaskId) -> Option<bool> {
        if !self.signals {
            return None;
        }
        self.sched.lock().tasks[me].pending
    }

    /// `send_sig()` → `signal_wake_up()`: set the pending flag; if the target
    /// sleeps in a state the signal breaks, make it runnable. Returns
    /// whether it was alive, and the queue it was woken from.
    pub(crate) fn deliver_signal(&self, target: TaskId, fatal: bool) -> (bool, Option<Arc<WaitQueue>>) {
        let mut s = self.sched.lock();
        let t = &mut s.tasks[target];
        if !t.alive {
            return (false, None);
        }
        t.pending = Some(t.pending.unwrap_or(false) | fatal);
        let mut woken = None;
        if let TaskState::Sleeping(sl) = &t.state {
            if sl.mode.broken_by(fatal) {
                woken = Some(sl.wq.clone());
                t.state = TaskState::Running;
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
            if let Some(c) = r.finits.iter_mut().rev().find(|c| c.task == me && c.end.is_none()) {
                c.against.get_or_insert(owner);
            }
        });
    }

    /// Short name of a task, for trace text.
    pub fn name(&self, t: TaskId) -> String {
        self.rec.with(|r| r.task_name(t).to_string())
    }
}
