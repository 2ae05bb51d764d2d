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
use crate::state::{Fingerprint, Fp};
use crate::sync::{self, Mutex, Plain};
use crate::trace::{Fact, ModState, Recorder, TaskId, TaskKind, TaskRecord};
use crate::variant::Variant;
use std::collections::BTreeMap;
use std::sync::{Arc, Weak};

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

impl Fingerprint for Sleep {
    fn fingerprint(&self, fp: &mut Fp<'_>) {
        self.wq.fingerprint(fp);
        fp.tok(self.mode as u64);
        self.timed.fingerprint(fp);
    }
}

/// Per-task kernel state that other tasks read or change: the pending
/// signal (`p->pending`, under `p->sighand->siglock`), and where the task
/// last went to sleep (what `signal_wake_up()` must wake it from).
///
/// A task's sleep itself is its entry on a wait queue (see
/// [`WaitQueue`]): a waker dequeues it, as `autoremove_wake_function()`
/// does, and the sleeper sleeps while it is queued. This lock exists only
/// for a task some signal actor of the scenario targets.
pub struct Task {
    /// Pending signal: `Some(fatal)`.
    pub pending: Option<bool>,
    /// The pending non-fatal signal is a stop signal (SIGSTOP): on the way
    /// back to userspace the task stops, and a syscall that returned
    /// `-ERESTARTSYS` restarts on SIGCONT.
    pub stop: bool,
    /// The last sleep the task prepared (it may since have been woken).
    pub sleeping_on: Option<Sleep>,
}

impl Fingerprint for Task {
    fn fingerprint(&self, fp: &mut Fp<'_>) {
        self.pending.fingerprint(fp);
        self.stop.fingerprint(fp);
        self.sleeping_on.fingerprint(fp);
    }
}

/// What a syscall's `-ERESTARTSYS` becomes on the way back to userspace
/// ([`Kernel::signal_return`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignalReturn {
    /// A stop signal: the task stopped, SIGCONT came, the syscall restarts.
    Restart,
    /// A handled signal: its handler ran; userspace sees `-EINTR`.
    HandlerRan,
    /// No non-fatal signal pending (a fatal one kills the task instead).
    Nothing,
}

/// A signal target's slot: `p->pi_lock` and `siglock` in one engine lock.
pub struct TaskCell {
    /// The lock and what it protects.
    pub lock: Mutex<Task>,
}

impl Fingerprint for TaskCell {
    fn fingerprint(&self, fp: &mut Fp<'_>) {
        fp.obj(self.lock.id());
    }
}

/// Per-task facts: fixed when the task starts, and what other tasks may ask
/// of it (has it exited, died, been signalled).
pub struct TaskMeta {
    /// The task (the table is indexed by it: a renaming of interchangeable
    /// actors must rename the index too).
    id: TaskId,
    kernel_task: bool,
    /// A signal actor of the scenario targets this task: its lock.
    cell: Option<Arc<TaskCell>>,
    /// Tasks whose `request_module` led to this one, nearest first. Only the
    /// recursion-aware proposal reads it.
    pub ancestry: Vec<TaskId>,
    /// The alias a usermode helper was started for.
    pub helper_for: Option<String>,
    /// `do_exit()` has run.
    exited: bool,
    /// It died in a module's init.
    died: bool,
    /// A signal reached it while it ran.
    signalled: bool,
    /// Its timed waits so far (each wait's generation).
    timed_waits: u32,
}

impl Fingerprint for TaskMeta {
    fn fingerprint(&self, fp: &mut Fp<'_>) {
        self.id.fingerprint(fp);
        self.kernel_task.fingerprint(fp);
        self.cell.as_deref().fingerprint(fp);
        self.ancestry.fingerprint(fp);
        self.helper_for.fingerprint(fp);
        self.exited.fingerprint(fp);
        self.died.fingerprint(fp);
        self.signalled.fingerprint(fp);
        self.timed_waits.fingerprint(fp);
    }
}

/// The task table, indexed by task id. Each task's entry is hashed apart
/// ([`Fp::entry`]): a renaming of interchangeable actors renames the index.
#[derive(Default)]
pub struct TaskTable(Vec<TaskMeta>);

impl std::ops::Deref for TaskTable {
    type Target = Vec<TaskMeta>;
    fn deref(&self) -> &Vec<TaskMeta> {
        &self.0
    }
}

impl std::ops::DerefMut for TaskTable {
    fn deref_mut(&mut self) -> &mut Vec<TaskMeta> {
        &mut self.0
    }
}

impl Fingerprint for TaskTable {
    fn fingerprint(&self, fp: &mut Fp<'_>) {
        fp.tok(self.0.len() as u64);
        for m in &self.0 {
            fp.entry(|fp| m.fingerprint(fp));
        }
    }
}

/// The usermode helpers started so far (`bounded-helpers`): how many, and
/// whether one past the scenario's bound was refused.
#[derive(Clone, Copy, Debug, Default)]
pub struct Helpers {
    /// Started so far.
    pub started: usize,
    /// One past the bound was about to start.
    pub runaway: bool,
}

impl Fingerprint for Helpers {
    fn fingerprint(&self, fp: &mut Fp<'_>) {
        self.started.fingerprint(fp);
        self.runaway.fingerprint(fp);
    }
}

/// A task's join handle, and whether the harness reaps it with the kernel
/// tasks (actors, helpers, kthreads) or with the environment.
pub struct Reapable {
    kernel_task: bool,
    handle: sync::JoinHandle,
}

impl Fingerprint for Reapable {
    fn fingerprint(&self, fp: &mut Fp<'_>) {
        self.kernel_task.fingerprint(fp);
        self.handle.fingerprint(fp);
    }
}

/// The tasks the harness has yet to reap: their handles, and the one it is
/// joining. Hashed as a set: the order in which the harness joins them
/// changes nothing any task or property sees (a join only waits), so two
/// states that differ only in it are one.
#[derive(Default)]
pub struct Reapables {
    list: Vec<Reapable>,
    joining: Option<(bool, TaskId)>,
}

impl Fingerprint for Reapables {
    fn fingerprint(&self, fp: &mut Fp<'_>) {
        let all: std::collections::BTreeSet<(bool, TaskId)> = self
            .list
            .iter()
            .map(|r| (r.kernel_task, r.handle.task()))
            .chain(self.joining)
            .collect();
        all.fingerprint(fp);
    }
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
    /// The `first_req_done` completions of duplicate requests
    /// (`CONFIG_MODULE_DEBUG_AUTOLOAD_DUPS`), one queue for all names.
    pub kmod_dup_wq: Arc<WaitQueue>,
    /// Ghost: the tasks holding a kmod slot now (the wait-for graph's edges).
    pub kmod_holders: Plain<Vec<TaskId>>,
    /// The usermode helpers started so far.
    pub helpers: Plain<Helpers>,
    /// Environment actors (signal sender, timer) sleep here.
    pub env_wq: Arc<WaitQueue>,
    /// The armed timers of timed waits, and whether a timer actor runs:
    /// see [`crate::primitives::timer`].
    pub timers: Mutex<TimerBase>,
    /// Ghost: the module list's states, as `set_module_state()` and the list
    /// changes leave them (the reads `finit_module` makes without the lock
    /// argue their order where they are made).
    pub ghost_modules: Plain<BTreeMap<String, ModState>>,
    /// The harness saw every kernel task exit. Written before `env_wq` is
    /// woken, read by the environment actors' wait conditions.
    finished: Plain<bool>,
    /// Per task: see [`TaskMeta`].
    meta: Plain<TaskTable>,
    /// Tasks the harness has yet to reap.
    handles: Plain<Reapables>,
    signals: bool,
    time_passes: bool,
    signal_waits_for_helper: bool,
    unload_waits_for_oops: bool,
    modules_can_go: bool,
}

impl Kernel {
    /// Boot: empty module list, empty tables.
    pub fn boot(variant: Variant, scenario: Arc<Scenario>, rec: Recorder) -> Arc<Kernel> {
        let files = scenario.modules.len();
        let signals = scenario.signal_targets().next().is_some();
        let signal_waits_for_helper = scenario
            .signal_targets()
            .any(|t| matches!(t, crate::scenario::SignalTarget::HelperFor(_)));
        let unload_waits_for_oops = scenario
            .actors
            .iter()
            .any(|a| matches!(a, crate::scenario::Actor::ForceUnload(_)));
        let modules_can_go = scenario.actors.iter().any(|a| {
            matches!(
                a,
                crate::scenario::Actor::ForceUnload(_) | crate::scenario::Actor::Rmmod(_)
            )
        });
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
            kmod_dup_wq: WaitQueue::new("first_req_done"),
            kmod_holders: Plain::new(Vec::new()),
            helpers: Plain::new(Helpers::default()),
            env_wq: WaitQueue::new("env_wq"),
            timers: Mutex::new(TimerBase::default()),
            ghost_modules: Plain::new(BTreeMap::new()),
            finished: Plain::new(false),
            meta: Plain::new(TaskTable::default()),
            handles: Plain::new(Reapables::default()),
            signals,
            time_passes: scenario.timer || variant.needs_time(),
            signal_waits_for_helper,
            unload_waits_for_oops,
            modules_can_go,
            scenario,
        })
    }

    /// Register a task without starting a thread (the harness's main thread).
    ///
    /// A registration is not an engine operation unless a signal actor may
    /// be waiting for a task to exist; then it wakes that actor: the
    /// registration (a plain store) comes before the wake-up, and the actor
    /// tests for it after queueing itself on `env_wq`, so the actor cannot
    /// miss it.
    pub fn register_task(
        &self,
        kind: TaskKind,
        label: String,
        ancestry: Vec<TaskId>,
        helper_for: Option<String>,
    ) -> TaskId {
        let kernel_task = kind != TaskKind::Environment;
        let (id, kernel_count, signal_target) = self.meta.read(|meta| {
            let id = TaskId(meta.len());
            let signal_target = self.scenario.actors.iter().any(|a| match a {
                Actor::Signal {
                    target: SignalTarget::Actor(i),
                    ..
                } => {
                    // The i-th modprobe actor: world::execute registers them
                    // first, in order, right after the harness.
                    kind == TaskKind::Modprobe && helper_for.is_none() && id.0 == 1 + i
                }
                Actor::Signal {
                    target: SignalTarget::Insmod(i),
                    ..
                } => {
                    // The i-th insmod actor: registered right after the
                    // modprobe actors (world::execute), also as TaskKind::Modprobe.
                    kind == TaskKind::Modprobe
                        && helper_for.is_none()
                        && id.0 == 1 + self.scenario.modprobe_actors() + i
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
                | Actor::ForceUnload(_)
                | Actor::Rmmod(_) => false,
            });
            let kernel_count = meta.iter().filter(|m| m.kernel_task).count();
            (id, kernel_count, signal_target)
        });
        let name = match kind {
            TaskKind::Environment => label.split(' ').next().unwrap_or("env").to_string(),
            _ => format!("T{}", kernel_count + 1),
        };
        self.rec.register_task(
            id,
            TaskRecord {
                name,
                label,
                kind,
                ancestry: ancestry.clone(),
            },
        );
        let cell = (self.signals && signal_target).then(|| {
            Arc::new(TaskCell {
                lock: Mutex::new(Task {
                    pending: None,
                    stop: false,
                    sleeping_on: None,
                }),
            })
        });
        self.meta.write(|meta| {
            meta.push(TaskMeta {
                id,
                kernel_task,
                cell,
                ancestry,
                helper_for,
                exited: false,
                died: false,
                signalled: false,
                timed_waits: 0,
            })
        });
        if self.signal_waits_for_helper && signal_target {
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
        let id = self.register_task(kind, label, ancestry, helper_for);
        self.start_task(id, None, body);
        id
    }

    /// Start a registered task on a new model thread. `birth` describes in
    /// full what `body` captured, where the caller can (see [`sync::spawn`]).
    pub fn start_task(
        self: &Arc<Self>,
        id: TaskId,
        birth: Option<&dyn Fingerprint>,
        body: impl FnOnce(&Arc<Kernel>, TaskId) + Send + 'static,
    ) {
        // Whether the harness joins it before or after finish(): decided
        // once, at registration, for every kind of task.
        let kernel_task = self.meta.read(|meta| meta[id.0].kernel_task);
        let k = self.clone();
        let h = sync::spawn(id, birth, move || {
            body(&k, id);
            k.task_exit(id);
        });
        self.handles.write(|hs| {
            hs.list.push(Reapable {
                kernel_task,
                handle: h,
            })
        });
    }

    /// Start a timer actor (see [`crate::primitives::timer`]).
    pub(crate) fn start_timer_actor(&self) {
        let k = self.me.upgrade().expect("the kernel outlives its tasks");
        let id = k.register_task(
            TaskKind::Environment,
            "timer (time passes: may expire any armed timed wait)".into(),
            Vec::new(),
            None,
        );
        // Its body captures nothing of the task that starts it.
        k.start_task(id, Some(&"timer actor"), |k, me| {
            crate::primitives::timer::timer_actor(k, me)
        });
    }

    /// `do_exit()`. A plain store, not an engine operation: the only reader
    /// is a signal sender, and a signal to an exited task has no effect
    /// whichever way the two are ordered (only the trace's wording differs).
    pub fn task_exit(&self, me: TaskId) {
        self.meta.write(|m| m[me.0].exited = true);
    }

    /// `make_task_dead()` after an oops in init, once the task's frames are
    /// gone ([`Oops`] has reached its top): it has exited. Wakes an
    /// `rmmod -f` actor waiting for it (its death is published first).
    pub fn task_died(&self, me: TaskId) {
        self.meta.write(|m| m[me.0].died = true);
        self.rec.fact(Fact::Died { task: me });
        self.task_exit(me);
        if self.unload_waits_for_oops {
            self.env_wq.wake_up_all();
        }
    }

    /// Whether some task has died in a module's init (published by
    /// [`Kernel::task_died`] before its wake-up of `env_wq`).
    pub fn some_task_died(&self) -> bool {
        self.meta.read(|m| m.iter().any(|t| t.died))
    }

    /// Whether `t` died in a module's init.
    pub fn has_died(&self, t: TaskId) -> bool {
        self.meta.read(|m| m[t.0].died)
    }

    /// Whether a LIVE module can leave the list in this scenario: only an
    /// `rmmod` or `rmmod -f` actor removes modules. Without one, LIVE is
    /// absorbing, and `finit_module`'s ghost reads rely on it.
    pub fn modules_can_go(&self) -> bool {
        self.modules_can_go
    }

    /// Whether `t` has exited (see [`Kernel::task_exit`]).
    pub fn has_exited(&self, t: TaskId) -> bool {
        self.meta.read(|m| m[t.0].exited)
    }

    /// Whether a signal reached `t` while it ran (written under `t`'s task
    /// lock by the sender; `t` reads it only after it saw the signal there).
    pub fn was_signalled(&self, t: TaskId) -> bool {
        self.meta.read(|m| m[t.0].signalled)
    }

    /// The generation of `t`'s next timed wait.
    pub(crate) fn next_timed_wait(&self, t: TaskId) -> u32 {
        self.meta.update(|m| {
            let g = m[t.0].timed_waits;
            m[t.0].timed_waits += 1;
            g
        })
    }

    /// The harness's reaping: join every task thread, kernel tasks first,
    /// including those started while it waits (usermode helpers, kthreads),
    /// then mark the run finished so the environment actors exit, and join
    /// them. A join blocks like a sleep, so a hang is still a deadlock.
    ///
    /// Its state while it reaps is the set of tasks it has yet to join, not
    /// its history (which records the order it started and joined them in):
    /// interchangeable actors are then interchangeable for it too.
    pub fn reap(&self) {
        sync::describe_own_state(&"reaping the kernel tasks");
        self.reap_where(true);
        sync::describe_own_state(&"finishing");
        self.finish();
        sync::describe_own_state(&"reaping the environment");
        self.reap_where(false);
    }

    /// Join every task of that kind, in the order they started (while it
    /// joins one, the task stays in the hashed set of those left).
    fn reap_where(&self, kernel: bool) {
        loop {
            let next = self.handles.update(|hs| {
                let i = hs.list.iter().position(|r| r.kernel_task == kernel);
                let next = i.map(|i| hs.list.remove(i).handle);
                hs.joining = next.as_ref().map(|h| (kernel, h.task()));
                next
            });
            match next {
                Some(h) => h.join(),
                None => break,
            }
            self.handles.write(|hs| hs.joining = None);
        }
    }

    /// The ancestry a helper started by `me` inherits: `me`, then `me`'s.
    /// Written once before the task starts.
    pub fn ancestry_of(&self, me: TaskId) -> Vec<TaskId> {
        self.meta.read(|meta| {
            let mut a = vec![me];
            a.extend(meta[me.0].ancestry.iter().copied());
            a
        })
    }

    /// The first helper started for `request_module(alias)` (see
    /// [`Kernel::register_task`] for how the signal actor waits for it).
    pub fn helper_for(&self, alias: &str) -> Option<TaskId> {
        self.meta.read(|meta| {
            meta.iter()
                .position(|t| t.helper_for.as_deref() == Some(alias))
                .map(TaskId)
        })
    }

    /// Mark the run finished and wake the environment actors.
    pub fn finish(&self) {
        self.finished.set(true);
        self.env_wq.wake_up_all();
    }

    /// Whether [`Kernel::finish`] has run: the environment actors' exit
    /// condition, tested after they queue themselves on `env_wq`.
    pub fn is_finished(&self) -> bool {
        self.finished.get()
    }

    /// Whether time passes in this scenario: only then can a timed wait
    /// expire ([`crate::primitives::timer`]).
    pub fn time_passes(&self) -> bool {
        self.time_passes
    }

    /// The task lock of `t`, if a signal actor of the scenario targets it
    /// (fixed when `t` registered). Other tasks have none: no signal can be
    /// pending for them.
    pub fn signal_cell(&self, t: TaskId) -> Option<Arc<TaskCell>> {
        if !self.signals {
            return None;
        }
        self.meta.read(|m| m[t.0].cell.clone())
    }

    /// Whether a signal can ever be pending for `t`.
    pub fn signals_possible(&self, t: TaskId) -> bool {
        self.signal_cell(t).is_some()
    }

    /// `fatal_signal_pending(current)`. Without a signal actor aimed at the
    /// task no signal can be pending, and the lock is skipped.
    pub fn fatal_signal_pending(&self, me: TaskId) -> bool {
        self.signal_cell(me)
            .is_some_and(|c| c.lock.lock().pending == Some(true))
    }

    /// What the way back to userspace does with a syscall's
    /// `-ERESTARTSYS` and the non-fatal signal pending (`get_signal()`,
    /// `handle_signal()` / `do_signal()`, arch/x86/kernel/signal.c): a stop
    /// signal stops the task and, on SIGCONT, the syscall restarts; a
    /// handled signal runs its handler and the syscall returns `-EINTR`
    /// (no `SA_RESTART`). Either way the signal is no longer pending.
    pub fn signal_return(&self, me: TaskId) -> SignalReturn {
        let Some(cell) = self.signal_cell(me) else {
            return SignalReturn::Nothing;
        };
        let mut t = cell.lock.lock();
        match (t.pending, t.stop) {
            (Some(false), true) => {
                t.pending = None;
                t.stop = false;
                SignalReturn::Restart
            }
            (Some(false), false) => {
                t.pending = None;
                SignalReturn::HandlerRan
            }
            (Some(true), _) | (None, _) => SignalReturn::Nothing,
        }
    }

    /// `send_sig()` → `signal_wake_up()`: set the pending flag; if the target
    /// sleeps in a state the signal breaks, make it runnable. Returns
    /// whether it was alive, and the queue it was woken from.
    pub(crate) fn deliver_signal(
        &self,
        target: TaskId,
        sig: crate::scenario::Sig,
    ) -> (bool, Option<Arc<WaitQueue>>) {
        let fatal = sig.fatal();
        let cell = self
            .signal_cell(target)
            .expect("a signal actor's target has a task lock");
        let sleep = {
            let mut t = cell.lock.lock();
            if self.has_exited(target) {
                return (false, None);
            }
            self.meta.write(|m| m[target.0].signalled = true);
            t.pending = Some(t.pending.unwrap_or(false) | fatal);
            t.stop |= sig == crate::scenario::Sig::Stop;
            t.sleeping_on.clone().filter(|sl| sl.mode.broken_by(fatal))
        };
        // try_to_wake_up(): dequeue it from where it sleeps, if it still does.
        let woken = sleep.map(|sl| sl.wq).filter(|wq| wq.wake_one(target));
        (true, woken)
    }

    /// Ghost: the module list changed where `name` is: mirror what the list
    /// itself now holds for it (absent = `None`) into the kernel's ghost
    /// list, the trace's, and the monitors'. Called with `module_mutex` held,
    /// right after every change of the list, so the ghost list is the list
    /// at every moment, read from the list and not from what the caller
    /// meant to write.
    pub fn ghost_module(&self, list: &[crate::kernel::module::Module], name: &str) {
        let state = crate::kernel::module::find_module_all(list, name).map(|m| m.state);
        self.ghost_modules.write(|g| match state {
            Some(s) => match g.get_mut(name) {
                Some(v) => *v = s,
                None => {
                    g.insert(name.to_string(), s);
                }
            },
            None => {
                g.remove(name);
            }
        });
        self.rec.module_state(name, state);
        self.rec.fact(Fact::Module { name, state });
    }

    /// Ghost: a module's state as the ghost list has it.
    pub fn ghost_state(&self, name: &str) -> Option<ModState> {
        self.ghost_modules.read(|g| g.get(name).copied())
    }

    /// Ghost: `me`'s running `finit_module` ran into `owner`'s load of the
    /// same module (a waiter's owner, the name check's loader, the deny's
    /// holder). `consistent-result` compares the two results.
    pub fn ghost_against(&self, me: TaskId, owner: TaskId) {
        self.rec.fact(Fact::FinitAgainst { task: me, owner });
    }

    /// Short name of a task, for trace text.
    pub fn name(&self, t: TaskId) -> String {
        self.rec.name(t)
    }
}
