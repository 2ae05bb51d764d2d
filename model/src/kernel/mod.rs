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
//! The task table ([`TaskCell`]) is the part of `task_struct` the model
//! needs (pending signal, an expired timeout, where the task sleeps), with
//! one engine lock per task; a sleep is an entry on a wait queue under that
//! queue's own lock, as in the kernel. Unrelated tasks' sleeps and wake-ups
//! therefore touch different engine objects, and loom's partial-order
//! reduction need not order them against each other.

pub mod crypto;
pub mod idempotent;
pub mod kmod;
pub mod main;
pub mod module;
pub mod umh;

use crate::primitives::timer::TimerBase;
use crate::primitives::{WaitMode, WaitQueue};
use crate::scenario::{Actor, Scenario, SignalTarget};
use crate::sync::{self, Mutex};
use crate::trace::{ModState, Recorder, TaskId, TaskKind, TaskRecord};
use crate::variant::Variant;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex as StdMutex, Weak};

pub use idempotent::IdemHash;
pub use kmod::KmodState;
pub use module::Module;

/// The task died in a module's init (an oops): `make_task_dead()` does not
/// return, so every function between `do_one_initcall()` and the task's top
/// returns this at once and does nothing more: no `idempotent_complete()`,
/// no `allow_write_access()`, no state change. The model holds no engine
/// lock at that point (`do_init_module()` runs init with none held), as the
/// kernel holds none of the loader's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Oops;

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

/// Per-task kernel state that other tasks read or change: the pending
/// signal (`p->pending`, under `p->sighand->siglock`), and where the task
/// last went to sleep (what `signal_wake_up()` must wake it from).
///
/// A task's sleep itself is its entry on a wait queue (see
/// [`WaitQueue`]): a waker dequeues it, as `autoremove_wake_function()`
/// does, and the sleeper sleeps while it is queued. This lock is only taken
/// by and for a task some signal actor of the scenario targets.
pub struct Task {
    /// Pending signal: `Some(fatal)`.
    pub pending: Option<bool>,
    /// The last sleep the task prepared (it may since have been woken).
    pub sleeping_on: Option<Sleep>,
}

/// A task slot: `p->pi_lock` and `siglock` in one engine lock.
pub struct TaskCell {
    /// The lock and what it protects.
    pub lock: Mutex<Task>,
}

impl TaskCell {
    fn new() -> Self {
        TaskCell {
            lock: Mutex::new(Task {
                pending: None,
                sleeping_on: None,
            }),
        }
    }
}

/// Per-task facts fixed when the task starts.
pub struct TaskMeta {
    kernel_task: bool,
    /// A signal actor of the scenario targets this task.
    signal_target: bool,
    /// Tasks whose `request_module` led to this one, nearest first. Only the
    /// recursion-aware proposal reads it.
    pub ancestry: Vec<TaskId>,
    /// The alias a usermode helper was started for.
    pub helper_for: Option<String>,
}

/// The kernel: every lock, wait queue and table the model covers.
pub struct Kernel {
    me: Weak<Kernel>,
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
    /// `kmod_wq`: requests waiting for a kmod slot (throttle, semaphore).
    pub kmod_wq: Arc<WaitQueue>,
    /// Environment actors (signal sender, timer) sleep here.
    pub env_wq: Arc<WaitQueue>,
    /// Task slots, preallocated for every task the scenario can start: see
    /// [`Task`].
    pub tasks: Vec<TaskCell>,
    /// The armed timers of timed waits, and whether a timer actor runs:
    /// see [`crate::primitives::timer`].
    pub timers: Mutex<TimerBase>,
    /// The harness saw every kernel task exit. Written before `env_wq` is
    /// woken, read by the environment actors' wait conditions.
    finished: AtomicBool,
    meta: StdMutex<Vec<TaskMeta>>,
    exited: StdMutex<Vec<TaskId>>,
    handles: StdMutex<Vec<(bool, sync::JoinHandle)>>,
    slots: usize,
    signals: bool,
    time_passes: bool,
    signal_waits_for_helper: bool,
    unload_waits_for_oops: bool,
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
        let unload_waits_for_oops = scenario
            .actors
            .iter()
            .any(|a| matches!(a, crate::scenario::Actor::ForceUnload(_)));
        Arc::new_cyclic(|me| Kernel {
            me: me.clone(),
            variant,
            rec,
            module_mutex: Mutex::new(Vec::new()),
            module_wq: WaitQueue::new("module_wq"),
            idem_lock: Mutex::new(IdemHash::default()),
            i_writecount: Mutex::new(vec![(0, None); files]),
            kmod: Mutex::new(KmodState::default()),
            kmod_wq: WaitQueue::new("kmod_wq"),
            env_wq: WaitQueue::new("env_wq"),
            tasks: (0..slots).map(|_| TaskCell::new()).collect(),
            timers: Mutex::new(TimerBase::default()),
            finished: AtomicBool::new(false),
            meta: StdMutex::new(Vec::new()),
            exited: StdMutex::new(Vec::new()),
            handles: StdMutex::new(Vec::new()),
            slots,
            signals,
            time_passes: scenario.timer,
            signal_waits_for_helper,
            unload_waits_for_oops,
            scenario,
        })
    }

    /// Register a task without starting a thread (the harness's main thread).
    ///
    /// Its [`TaskCell`] was preallocated at boot, so this is not an engine
    /// operation unless a signal actor may be waiting for a task to exist;
    /// then it wakes that actor: the registration (a plain store) comes
    /// before the wake-up, and the actor tests for it after queueing itself
    /// on `env_wq`, so the actor cannot miss it.
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
            let signal_target = self.scenario.actors.iter().any(|a| match a {
                Actor::Signal {
                    target: SignalTarget::Actor(i),
                    ..
                } => {
                    // The i-th modprobe actor: world::execute registers them
                    // first, in order, right after the harness.
                    kind == TaskKind::Modprobe && helper_for.is_none() && meta.len() == 1 + i
                }
                Actor::Signal {
                    target: SignalTarget::HelperFor(alias),
                    ..
                } => {
                    helper_for.as_deref() == Some(alias.as_str())
                        && !meta.iter().any(|m| m.helper_for.as_deref() == Some(alias))
                }
                Actor::Modprobe(_)
                | Actor::Insmod(_)
                | Actor::Request { .. }
                | Actor::ForceUnload(_) => false,
            });
            self.rec.with(|r| {
                r.tasks.push(TaskRecord {
                    name,
                    label,
                    kind,
                    ancestry: ancestry.clone(),
                })
            });
            meta.push(TaskMeta {
                kernel_task,
                signal_target,
                ancestry,
                helper_for,
            });
            meta.len() - 1
        };
        assert!(
            id < self.slots,
            "task {id} exceeds the {} slots Scenario::max_threads allowed",
            self.slots
        );
        if self.signal_waits_for_helper
            && self.meta.lock().unwrap_or_else(|e| e.into_inner())[id].signal_target
        {
            self.env_wq.wake_up_all();
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

    /// Start a timer actor (see [`crate::primitives::timer`]).
    pub(crate) fn start_timer_actor(&self) {
        let k = self.me.upgrade().expect("the kernel outlives its tasks");
        k.spawn_task(
            TaskKind::Environment,
            "timer (time passes: may expire any armed timed wait)".into(),
            Vec::new(),
            None,
            |k, me| crate::primitives::timer::timer_actor(k, me),
        );
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

    /// `make_task_dead()` after an oops in init, once the task's frames are
    /// gone ([`Oops`] has reached its top): it has exited. Wakes an
    /// `rmmod -f` actor waiting for it (ghost `died` is published first).
    pub fn task_died(&self, me: TaskId) {
        self.rec.with(|r| r.died.push(me));
        self.task_exit(me);
        if self.unload_waits_for_oops {
            self.env_wq.wake_up_all();
        }
    }

    /// Whether a LIVE module can leave the list in this scenario: only an
    /// `rmmod -f` actor removes modules. Without one, LIVE is absorbing, and
    /// `finit_module`'s ghost reads rely on it.
    pub fn modules_can_go(&self) -> bool {
        self.unload_waits_for_oops
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

    /// The first helper started for `request_module(alias)` (see
    /// [`Kernel::register_task`] for how the signal actor waits for it).
    pub fn helper_for(&self, alias: &str) -> Option<TaskId> {
        self.meta
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .position(|t| t.helper_for.as_deref() == Some(alias))
    }

    /// Mark the run finished and wake the environment actors.
    pub fn finish(&self) {
        self.finished.store(true, Ordering::SeqCst);
        self.env_wq.wake_up_all();
    }

    /// Whether [`Kernel::finish`] has run: the environment actors' exit
    /// condition, tested after they queue themselves on `env_wq`.
    pub fn is_finished(&self) -> bool {
        self.finished.load(Ordering::SeqCst)
    }

    /// Whether time passes in this scenario: only then can a timed wait
    /// expire ([`crate::primitives::timer`]).
    pub fn time_passes(&self) -> bool {
        self.time_passes
    }

    /// Whether a signal can ever be pending for `t`: a signal actor of the
    /// scenario targets it (fixed when `t` registered). Other tasks never
    /// take their task lock for signals.
    pub fn signals_possible(&self, t: TaskId) -> bool {
        self.signals && self.meta.lock().unwrap_or_else(|e| e.into_inner())[t].signal_target
    }

    /// `fatal_signal_pending(current)`. Without a signal actor in the
    /// scenario no signal can be pending, and the lock is skipped.
    pub fn fatal_signal_pending(&self, me: TaskId) -> bool {
        self.signals_possible(me) && self.tasks[me].lock.lock().pending == Some(true)
    }

    /// `send_sig()` → `signal_wake_up()`: set the pending flag; if the target
    /// sleeps in a state the signal breaks, make it runnable. Returns
    /// whether it was alive, and the queue it was woken from.
    pub(crate) fn deliver_signal(
        &self,
        target: TaskId,
        fatal: bool,
    ) -> (bool, Option<Arc<WaitQueue>>) {
        let sleep = {
            let mut t = self.tasks[target].lock.lock();
            if self.has_exited(target) {
                return (false, None);
            }
            self.rec.with(|r| r.signalled.push(target));
            t.pending = Some(t.pending.unwrap_or(false) | fatal);
            t.sleeping_on.clone().filter(|sl| sl.mode.broken_by(fatal))
        };
        // try_to_wake_up(): dequeue it from where it sleeps, if it still does.
        let woken = sleep.map(|sl| sl.wq).filter(|wq| wq.wake_one(target));
        (true, woken)
    }

    /// Ghost: record a module's state (absent = `None`) for properties,
    /// and check `live-deps` on the new module list: every LIVE module's
    /// imports (modules.dep of every file with its name) are LIVE.
    pub fn ghost_module(&self, name: &str, state: Option<ModState>) {
        self.rec.with(|r| {
            match state {
                Some(s) => {
                    r.modules.insert(name.to_string(), s);
                }
                None => {
                    r.modules.remove(name);
                }
            }
            for (m, s) in &r.modules {
                if *s != ModState::Live {
                    continue;
                }
                let deps = self
                    .scenario
                    .modules
                    .iter()
                    .filter(|spec| &spec.name == m)
                    .flat_map(|spec| spec.deps.iter());
                for d in deps {
                    let ds = r.modules.get(d).copied();
                    if ds != Some(ModState::Live) {
                        let what = format!(
                            "{m} is LIVE while {d}, which it imports from, is {}",
                            ds.map_or("not loaded", ModState::name)
                        );
                        if !r.live_deps_broken.contains(&what) {
                            r.live_deps_broken.push(what);
                        }
                    }
                }
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
