//! What one execution records, in two parts that never mix:
//!
//! - the **trace** ([`Trace`]): the steps in kernel terms, the task table and
//!   the wait-for graph. Write-only for the model: it is read only to print a
//!   counterexample, and no behaviour depends on it. The stateful engine
//!   explores with the trace off and replays a counterexample with it on.
//! - the **monitors** ([`Monitor`]): one per property of the scenario, each a
//!   small state machine fed the [`Fact`]s the model reports as they happen.
//!   Their state is [`Fingerprint`]ed: it is part of the execution's state,
//!   so a schedule cut at a state already seen loses no violation.
//!
//! The model reports facts and steps through the [`Recorder`].

use crate::errno::{ret_name, Ret};
use crate::state::{Fingerprint, Fp};
use crate::sync::Plain;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

pub use crate::state::TaskId;

/// What kind of task.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum TaskKind {
    /// A modprobe run started by the scenario.
    Modprobe,
    /// A usermode-helper modprobe started by `request_module`.
    Helper,
    /// A kernel thread (`cryptomgr_test`).
    Kthread,
    /// An environment actor (signal sender, timer).
    Environment,
}

/// A task, as the trace names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TaskRecord {
    /// Short name: `T1`.
    pub name: String,
    /// What it is: `modprobe aes-arm-bs`, `umh modprobe crypto-cbc(aes) for T1`.
    pub label: String,
    /// Kind.
    pub kind: TaskKind,
    /// The tasks whose `request_module()` started this one, nearest first
    /// (its parent, then the parent's); empty for an actor. A task is
    /// waiting for every one of its descendants: `request_module()` waits for
    /// its helper to exit (`UMH_WAIT_PROC`).
    pub ancestry: Vec<TaskId>,
}

/// Module state as `include/linux/module.h` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum ModState {
    /// `MODULE_STATE_UNFORMED`: on the list, being set up.
    Unformed,
    /// `MODULE_STATE_COMING`: formed, init running.
    Coming,
    /// `MODULE_STATE_LIVE`: init succeeded.
    Live,
    /// `MODULE_STATE_GOING`: init failed or being removed.
    Going,
}

impl ModState {
    /// Kernel spelling.
    pub fn name(self) -> &'static str {
        match self {
            ModState::Unformed => "UNFORMED",
            ModState::Coming => "COMING",
            ModState::Live => "LIVE",
            ModState::Going => "GOING",
        }
    }
}

impl Fingerprint for ModState {
    fn fingerprint(&self, fp: &mut Fp<'_>) {
        fp.tok(*self as u64);
    }
}

/// What a sleeping task waits for, and which tasks could end the wait.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WaitFor {
    /// Sentence fragment after "T2 waits for": `the completion of T1's load of x.ko`.
    pub what: String,
    /// Tasks whose progress ends the wait (edges of the wait-for graph).
    pub on: Vec<TaskId>,
}

/// One step of the trace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Event {
    /// The task that took the step.
    pub task: TaskId,
    /// The kernel (or modprobe) function it was in.
    pub func: &'static str,
    /// What happened, with the relevant state.
    pub what: String,
}

/// How a call of `finit_module` ended up handling its file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum FinitRole {
    /// Ran `do_init_module` for this file.
    Winner,
    /// Waited in the in-flight table for another caller's load.
    IdemWaiter,
    /// Refused by the name check (`-EEXIST`, `-EBUSY`, or interrupted in it).
    NameCheck,
    /// Refused at once: `-ETXTBSY` from the exclusive deny-write.
    Denied,
    /// Refused by the recursion-aware proposal (`-EDEADLK`).
    Recursion,
    /// Failed before or after init for another reason (symbols, ...).
    Other,
}

impl Fingerprint for FinitRole {
    fn fingerprint(&self, fp: &mut Fp<'_>) {
        fp.tok(*self as u64);
    }
}

/// The steps of one execution, in kernel terms: write-only for the model.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Trace {
    /// Tasks, indexed by [`TaskId`].
    pub tasks: Vec<TaskRecord>,
    /// The steps, in execution order.
    pub events: Vec<Event>,
    /// Tasks asleep now, and on what (the wait-for graph).
    pub blocked: BTreeMap<TaskId, WaitFor>,
    /// printk lines (warnings).
    pub printk: Vec<String>,
    /// Module states as the steps left them (absent = not on the list).
    pub modules: BTreeMap<String, ModState>,
}

impl Trace {
    /// Short name of a task (`T1`).
    pub fn task_name(&self, t: TaskId) -> &str {
        self.tasks.get(t.0).map_or("?", |r| r.name.as_str())
    }

    /// The wait-for cycle among blocked tasks, if there is one, as sentences:
    /// "T1 waits for helper T2 to exit".
    pub fn wait_cycle(&self) -> Option<Vec<String>> {
        for &start in self.blocked.keys() {
            let mut path = vec![start];
            let mut cur = start;
            while let Some(w) = self.blocked.get(&cur) {
                let Some(&next) = w.on.iter().find(|t| self.blocked.contains_key(t)) else {
                    break;
                };
                if let Some(pos) = path.iter().position(|&t| t == next) {
                    let cycle = &path[pos..];
                    return Some(
                        cycle
                            .iter()
                            .map(|t| {
                                format!("{} waits for {}", self.task_name(*t), self.blocked[t].what)
                            })
                            .collect(),
                    );
                }
                path.push(next);
                cur = next;
            }
        }
        None
    }

    /// Every sleeping task and what it waits for.
    pub fn blocked_lines(&self) -> Vec<String> {
        self.blocked
            .iter()
            .map(|(t, w)| format!("{} waits for {}", self.task_name(*t), w.what))
            .collect()
    }

    /// The trace as text, one step per line, with a task legend first.
    /// Fits 100 columns: long descriptions wrap under their own column.
    pub fn render(&self) -> String {
        self.render_at(100)
    }

    /// [`Trace::render`] fit to `width` columns where the words allow (a
    /// description keeps at least 30 columns, however narrow the width).
    pub fn render_at(&self, width: usize) -> String {
        let mut out = String::new();
        let nw = self
            .tasks
            .iter()
            .map(|t| t.name.len())
            .max()
            .unwrap_or(4)
            .max(4);
        for t in &self.tasks {
            let _ = writeln!(out, "  {:<nw$} {}", t.name, t.label);
        }
        out.push('\n');
        for (i, e) in self.events.iter().enumerate() {
            let head = format!(
                "{:>3}  {:<nw$} {:<30} ",
                i + 1,
                self.task_name(e.task),
                e.func
            );
            let width = width.saturating_sub(head.len()).max(30);
            let mut first = true;
            for line in wrap(&e.what, width) {
                if first {
                    let _ = writeln!(out, "{head}{line}");
                    first = false;
                } else {
                    let _ = writeln!(out, "{:width$}{line}", "", width = head.len());
                }
            }
        }
        out
    }
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    for word in text.split(' ') {
        if !cur.is_empty() && cur.len() + 1 + word.len() > width {
            lines.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(word);
    }
    lines.push(cur);
    lines
}

/// Something a property may need to know, reported by the model where it
/// happens. Facts carry no step index and no text: a monitor's state must be
/// the same whatever the interleaving that led to it.
#[derive(Clone, Copy, Debug)]
pub enum Fact<'a> {
    /// A task was registered.
    Task {
        /// The task.
        task: TaskId,
        /// What kind.
        kind: TaskKind,
        /// Its `request_module()` ancestry, nearest first.
        ancestry: &'a [TaskId],
    },
    /// A task went to sleep in a kernel wait.
    Slept,
    /// A signal was sent; `delivered`: its target was still running.
    SignalSent {
        /// The target was alive.
        delivered: bool,
    },
    /// The module list changed: `name` now has `state` (absent: `None`).
    Module {
        /// Module name.
        name: &'a str,
        /// Its state now.
        state: Option<ModState>,
    },
    /// `set_module_state()`: a module of `name` went from `old` to `new`.
    Transition {
        /// Module name.
        name: &'a str,
        /// State before (`None`: no module of that name left it).
        old: Option<ModState>,
        /// State after.
        new: ModState,
    },
    /// `finit_module(file)` entered by `task`.
    FinitStart {
        /// Caller.
        task: TaskId,
        /// Module file.
        file: &'a str,
        /// The module the file holds.
        module: &'a str,
    },
    /// `task`'s running `finit_module` ran into `owner`'s load of the same module.
    FinitAgainst {
        /// Caller.
        task: TaskId,
        /// Whose load.
        owner: TaskId,
    },
    /// `init_module_from_file()`: `task` read `file` into a fresh image
    /// (`kernel_read_file()`, vmalloc'ed) for `load_module()`.
    ImageRead {
        /// The loading task.
        task: TaskId,
        /// Module file.
        file: &'a str,
    },
    /// `load_module()` freed `task`'s image of `file` (`free_copy()`: before
    /// init runs, or on an error path).
    ImageFreed {
        /// The loading task.
        task: TaskId,
        /// Module file.
        file: &'a str,
    },
    /// `finit_module` returned to `task`.
    FinitEnd {
        /// Caller.
        task: TaskId,
        /// Module file.
        file: &'a str,
        /// Return value.
        ret: Ret,
        /// How it was handled.
        role: FinitRole,
        /// A signal had been delivered to the caller.
        signalled: bool,
        /// The module's state as the call returned, where the model read it
        /// (`None`: absent, or not read because the call failed).
        state: Option<ModState>,
    },
    /// A modprobe run ended: `ret` its result (`None` when killed or dead).
    ModprobeEnd {
        /// Its task.
        task: TaskId,
        /// What it was asked for.
        target: &'a str,
        /// Started by the scenario (not a usermode helper).
        actor: bool,
        /// `Some(0)` success, `Some(err)` failure.
        ret: Option<Ret>,
    },
    /// An `insmod FILE` actor's `finit_module` returned `ret` (`None`: it
    /// died in init).
    InsmodEnd {
        /// Its task.
        task: TaskId,
        /// The file.
        file: &'a str,
        /// What finit_module returned.
        ret: Option<Ret>,
    },
    /// `request_module(alias)` returned `ret` to `task`, its caller.
    RequestReturn {
        /// The caller (a module's init, a request actor, a kthread).
        task: TaskId,
        /// What it asked for.
        alias: &'a str,
        /// What `__request_module()` returned.
        ret: Ret,
    },
    /// `delete_module(module)` returned `ret` to `task` (an rmmod actor).
    DeleteModuleReturn {
        /// The caller.
        task: TaskId,
        /// The module it removes.
        module: &'a str,
        /// What the syscall returned.
        ret: Ret,
    },
    /// `do_init_module()` is about to run `module`'s init in `task`.
    InitRuns {
        /// The task running it.
        task: TaskId,
        /// Module name.
        module: &'a str,
    },
    /// A module's init returned.
    InitResult {
        /// Its return value.
        ret: Ret,
    },
    /// A kmod slot was taken; `in_use` are taken now, of `limit`.
    KmodTake {
        /// Slots taken now.
        in_use: i64,
        /// `max_modprobes`.
        limit: i64,
    },
    /// A kmod slot was given back; `in_use` are taken now.
    KmodPut {
        /// Slots taken now.
        in_use: i64,
    },
    /// The 2008 counter was left raised (a mutant): `in_use` counted now.
    KmodLeak {
        /// Slots counted now.
        in_use: i64,
    },
    /// `call_usermodehelper_exec()` started a modprobe helper.
    HelperStart,
    /// A helper past the scenario's bound was about to start.
    Runaway,
    /// A task died in a module's init (an oops).
    Died {
        /// The task.
        task: TaskId,
    },
    /// A winner died with its `struct idempotent` linked.
    IdemOutlived,
    /// An in-flight table entry was touched after its frame was gone.
    IdemUnsafe {
        /// What happened, in kernel terms.
        what: &'a str,
    },
    /// A name-check waiter woke to find its module gone.
    ModuleGoneAfterWait,
    /// A name check that waited for another task's load of the module
    /// found it gone on looking again, and lets `task` load it itself
    /// (`goto again`, before v6.2).
    LoadsAfterWaiting {
        /// The task that will load it.
        task: TaskId,
    },
    /// A freed `struct module` was read.
    ModuleUnsafe {
        /// What happened, in kernel terms.
        what: &'a str,
    },
    /// `resolve_symbol()` found its provider COMING.
    ResolvedAgainstComing,
}

/// How an execution ended.
#[derive(Clone, Debug, Serialize)]
pub enum End {
    /// Every task exited.
    Completed,
    /// Every thread was asleep: the engine reported a deadlock.
    Deadlock {
        /// The wait-for cycle, one sentence per task, if the trace was on
        /// and there is one.
        cycle: Option<Vec<String>>,
        /// Every sleeping task and what it waits for (empty with the trace off).
        blocked: Vec<String>,
    },
}

/// A property's result on one execution.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Check {
    /// Satisfied; `witness` says whether the vacuity witness was reached.
    Ok {
        /// The interesting state was reached in this execution.
        witness: bool,
    },
    /// Violated, with a one-line explanation in kernel terms.
    Violated(String),
    /// Cannot be judged on this execution (it deadlocked before the end).
    Unknown,
}

/// The names tasks have in the trace, for a monitor's messages.
pub struct Names<'a>(&'a [TaskRecord]);

impl Names<'_> {
    /// `T1`, or `?` for a task not registered.
    pub fn of(&self, t: TaskId) -> &str {
        self.0.get(t.0).map_or("?", |r| r.name.as_str())
    }
}

/// What a monitor did with a fact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reaction {
    /// Its state did not change.
    Same,
    /// Its state changed.
    Changed,
    /// The property is violated, from now on whatever happens next.
    Violated(String),
}

/// A property's state machine. Its state is part of the execution's state
/// ([`Fingerprint`]): small, and the same whatever interleaving reached it.
/// Messages are built with the trace's names and leave the monitor at once;
/// the state keeps at most a flag that the property was violated.
pub trait Monitor: Fingerprint + Send {
    /// Take a fact in.
    fn on(&mut self, fact: &Fact<'_>, names: &Names<'_>) -> Reaction;
    /// The verdict on an execution that ended as `end`.
    fn finish(&self, end: &End, names: &Names<'_>) -> Check;
    /// A copy, for an outcome kept past its execution.
    fn clone_box(&self) -> Box<dyn Monitor>;
    /// For an observer of end states (not a property): its account of the
    /// execution, in one line.
    fn summary(&self) -> Option<String> {
        None
    }
}

impl Clone for Box<dyn Monitor> {
    fn clone(&self) -> Self {
        self.clone_box()
    }
}

struct Inner {
    /// The task table: names for messages and the trace (kept with the trace off too).
    tasks: Mutex<Vec<TaskRecord>>,
    /// The steps, when recorded.
    trace: Option<Mutex<Trace>>,
    /// One per property, in the order given.
    monitors: Vec<Plain<Box<dyn Monitor>>>,
    /// Violations reported by monitors as facts arrived: (monitor, message).
    violations: Mutex<Vec<(usize, String)>>,
    /// The engine no longer wants facts from this execution.
    muted: std::sync::atomic::AtomicBool,
}

/// Shared handle to what the running execution records.
#[derive(Clone)]
pub struct Recorder(Arc<Inner>);

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A model thread that panicked while holding this std lock is already a
    // failed execution; what it recorded is still worth reading.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Recorder {
    /// A recorder feeding `monitors`; with `trace`, the steps are recorded too.
    /// Create it inside the execution (its monitors are facade objects).
    pub fn new(monitors: Vec<Box<dyn Monitor>>, trace: bool) -> Recorder {
        Recorder(Arc::new(Inner {
            tasks: Mutex::new(Vec::new()),
            trace: trace.then(|| Mutex::new(Trace::default())),
            monitors: monitors.into_iter().map(Plain::new).collect(),
            violations: Mutex::new(Vec::new()),
            muted: std::sync::atomic::AtomicBool::new(false),
        }))
    }

    /// Engine side: stop feeding the monitors (the rest of this execution
    /// repeats what the engine has seen).
    pub fn mute(&self) {
        self.0
            .muted
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Engine side: feed the monitors again, from the states
    /// [`Recorder::load_monitors`] put back (a replay that skipped the
    /// facts of a path the engine had already taken).
    pub fn unmute(&self) {
        self.0
            .muted
            .store(false, std::sync::atomic::Ordering::Relaxed);
    }

    /// Engine side: a copy of every monitor's state, for
    /// [`Recorder::load_monitors`] in a later execution of the same
    /// scenario.
    pub fn save_monitors(&self) -> Vec<Box<dyn Monitor>> {
        self.0
            .monitors
            .iter()
            .map(|m| m.outside_view(|m| m.clone_box()))
            .collect()
    }

    /// Engine side: put back the monitors' states `kept` by
    /// [`Recorder::save_monitors`]. The facade's record of their contents is
    /// the caller's to restore with them (`state::restore`); nothing is
    /// marked as stored.
    pub fn load_monitors(&self, kept: Vec<Box<dyn Monitor>>) {
        assert_eq!(kept.len(), self.0.monitors.len(), "the same properties");
        for (m, k) in self.0.monitors.iter().zip(kept) {
            m.write_tracked(|m| {
                *m = k;
                (false, ())
            });
        }
    }

    /// Whether steps are recorded.
    pub fn tracing(&self) -> bool {
        self.0.trace.is_some()
    }

    fn with_trace(&self, f: impl FnOnce(&mut Trace)) {
        if let Some(t) = &self.0.trace {
            crate::state::unobserved(|| f(&mut lock(t)));
        }
    }

    /// Run `f` for the trace only: `None` when steps are not recorded, and
    /// what `f` reads of the model is not an observation of the task's
    /// ([`crate::state::unobserved`]).
    pub fn for_trace<R>(&self, f: impl FnOnce() -> R) -> Option<R> {
        self.tracing().then(|| crate::state::unobserved(f))
    }

    /// Register a task in the task table (and tell the monitors).
    pub fn register_task(&self, t: TaskId, rec: TaskRecord) {
        self.fact(Fact::Task {
            task: t,
            kind: rec.kind,
            ancestry: &rec.ancestry,
        });
        let mut tasks = lock(&self.0.tasks);
        assert_eq!(tasks.len(), t.0, "tasks register in id order");
        tasks.push(rec);
    }

    /// Short name of a task (`T1`), for step text and messages.
    pub fn name(&self, t: TaskId) -> String {
        lock(&self.0.tasks)
            .get(t.0)
            .map_or("?".into(), |r| r.name.clone())
    }

    /// Append a step; `what` is only built when steps are recorded.
    pub fn event(&self, task: TaskId, func: &'static str, what: impl FnOnce() -> String) {
        self.with_trace(|t| {
            t.events.push(Event {
                task,
                func,
                what: what(),
            })
        });
    }

    /// A printk line, and the step that printed it.
    pub fn printk(&self, task: TaskId, func: &'static str, line: impl FnOnce() -> String) {
        self.with_trace(|t| {
            let line = line();
            t.printk.push(line.clone());
            t.events.push(Event {
                task,
                func,
                what: format!("printk: \"{line}\""),
            });
        });
    }

    /// `task` sleeps, waiting for `why()` (the wait-for graph).
    pub fn sleeps(&self, task: TaskId, why: impl FnOnce() -> WaitFor) {
        self.with_trace(|t| {
            t.blocked.insert(task, why());
        });
    }

    /// `task` no longer sleeps.
    pub fn wakes(&self, task: TaskId) {
        self.with_trace(|t| {
            t.blocked.remove(&task);
        });
    }

    /// A module's state, for the trace's own account of the module list.
    pub fn module_state(&self, name: &str, state: Option<ModState>) {
        self.with_trace(|t| match state {
            Some(s) => match t.modules.get_mut(name) {
                Some(v) => *v = s,
                None => {
                    t.modules.insert(name.to_string(), s);
                }
            },
            None => {
                t.modules.remove(name);
            }
        });
    }

    /// Report a fact to every monitor.
    pub fn fact(&self, fact: Fact<'_>) {
        if self.0.monitors.is_empty() || self.0.muted.load(std::sync::atomic::Ordering::Relaxed) {
            return;
        }
        let tasks = lock(&self.0.tasks);
        let names = Names(&tasks);
        for (i, m) in self.0.monitors.iter().enumerate() {
            // The reporting task observes nothing: the monitor's answer goes
            // to the engine, not back into the model.
            let r = m.write_tracked(|m| match m.on(&fact, &names) {
                Reaction::Same => (false, None),
                Reaction::Changed => (true, None),
                Reaction::Violated(msg) => (true, Some(msg)),
            });
            if let Some(msg) = r {
                lock(&self.0.violations).push((i, msg));
            }
        }
    }

    /// A violation the model found itself, in kernel terms, as a step.
    pub fn violation_step(&self, task: TaskId, func: &'static str, what: &str) {
        self.with_trace(|t| {
            t.events.push(Event {
                task,
                func,
                what: format!("VIOLATION: {what}"),
            })
        });
    }

    /// Engine side: the violations reported since the last call.
    pub fn take_violations(&self) -> Vec<(usize, String)> {
        std::mem::take(&mut *lock(&self.0.violations))
    }

    /// Engine side: each monitor's verdict on an execution that ended as `end`.
    pub fn finish(&self, end: &End) -> Vec<Check> {
        let tasks = lock(&self.0.tasks);
        let names = Names(&tasks);
        self.0
            .monitors
            .iter()
            .map(|m| m.outside_view(|m| m.finish(end, &names)))
            .collect()
    }

    /// Engine side: each monitor's summary line (see [`Monitor::summary`]).
    pub fn summaries(&self) -> Vec<String> {
        self.0
            .monitors
            .iter()
            .filter_map(|m| m.outside_view(|m| m.summary()))
            .collect()
    }

    /// Engine side: the trace (no steps when they were not recorded; the
    /// task table is always there).
    pub fn trace(&self) -> Trace {
        let tasks = lock(&self.0.tasks).clone();
        match &self.0.trace {
            Some(t) => Trace {
                tasks,
                ..lock(t).clone()
            },
            None => Trace {
                tasks,
                ..Trace::default()
            },
        }
    }

    /// Engine side: how a deadlocked execution ended, from the trace.
    pub fn deadlock(&self) -> End {
        let t = self.trace();
        End::Deadlock {
            cycle: t.wait_cycle(),
            blocked: t.blocked_lines(),
        }
    }

    /// Describe a return for the trace.
    pub fn ret(ret: Ret) -> String {
        ret_name(ret)
    }
}
