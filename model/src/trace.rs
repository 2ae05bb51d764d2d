//! What one execution records: the steps, in kernel terms, and ghost state.
//!
//! Ghost state is written by model code at the point where the kernel state
//! it mirrors changes, and is read only by properties and reports. It lives
//! in a plain `std` mutex, which adds no scheduling point (see [`crate::sync`]).

use crate::errno::{ret_name, Ret};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

/// A task of the execution: `T1`, `T2`, ... in start order of the kind that
/// starts it (so names do not depend on the interleaving).
pub type TaskId = usize;

/// What kind of task.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
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
    /// Ghost: the tasks whose `request_module()` started this one, nearest
    /// first (its parent, then the parent's); empty for an actor. A task is
    /// waiting for every one of its descendants: `request_module()` waits for
    /// its helper to exit (`UMH_WAIT_PROC`).
    pub ancestry: Vec<TaskId>,
}

/// Module state as `include/linux/module.h` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
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

/// One `finit_module` call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FinitCall {
    /// Caller.
    pub task: TaskId,
    /// Module file.
    pub file: String,
    /// Step index at entry and at return (overlap = concurrency).
    pub start: usize,
    /// Step index at return; `None` while the call is still running.
    pub end: Option<usize>,
    /// Return value.
    pub ret: Option<Ret>,
    /// How it was handled.
    pub role: FinitRole,
    /// Whether the caller had a signal pending when it returned.
    pub signalled: bool,
    /// The task whose load of this module the call ran into, if any.
    pub against: Option<TaskId>,
}

/// One modprobe run (actor or helper).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ModprobeRun {
    /// Its task.
    pub task: TaskId,
    /// What it was asked for.
    pub target: String,
    /// `Some(0)` success, `Some(err)` failure; `None` while running.
    pub ret: Option<Ret>,
    /// Killed by a fatal signal before finishing its work.
    pub killed: bool,
    /// Started by the scenario (not a usermode helper).
    pub actor: bool,
}

/// Everything one execution recorded.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Record {
    /// Tasks, indexed by [`TaskId`].
    pub tasks: Vec<TaskRecord>,
    /// The steps, in execution order.
    pub events: Vec<Event>,
    /// Module states now (ghost of the module list); absent = not on the list.
    pub modules: BTreeMap<String, ModState>,
    /// Every `finit_module` call.
    pub finits: Vec<FinitCall>,
    /// Every modprobe run.
    pub modprobes: Vec<ModprobeRun>,
    /// Inits running now, per module, and the most ever at once.
    pub inits_running: BTreeMap<String, usize>,
    /// Highest count of simultaneous inits of one module, with its name.
    pub max_inits: (usize, String),
    /// Results of module inits: (module, return value).
    pub init_results: Vec<(String, Ret)>,
    /// finit returned 0 or -EEXIST while the module was not LIVE: descriptions.
    pub success_not_live: Vec<String>,
    /// Some task slept in a kernel wait.
    pub slept: bool,
    /// A signal reached a task that was still running.
    pub signal_delivered: bool,
    /// A signal was sent at all.
    pub signal_sent: bool,
    /// Tasks a signal was delivered to.
    pub signalled: Vec<TaskId>,
    /// Tasks asleep now, and on what.
    pub blocked: BTreeMap<TaskId, WaitFor>,
    /// printk lines (warnings).
    pub printk: Vec<String>,
    /// In-flight table memory-safety violations (`idem-memory-safety`).
    pub idem_unsafe: Vec<String>,
    /// Tasks holding a kmod slot now.
    pub kmod_holders: Vec<TaskId>,
    /// kmod slots taken now, the most ever taken, the fewest (below zero
    /// only if a slot was given back that was never taken).
    pub kmod_in_use: i64,
    /// See `kmod_in_use`.
    pub kmod_max_in_use: i64,
    /// See `kmod_in_use`.
    pub kmod_min_in_use: i64,
    /// Every kmod slot was taken at some moment.
    pub kmod_full: bool,
    /// Where each modprobe helper was started (`call_usermodehelper_exec`):
    /// the event index at that moment.
    pub helper_starts: Vec<usize>,
    /// A helper the scenario's bound did not allow: the runaway, with the
    /// event index where each helper started.
    pub runaway: Option<Vec<usize>>,
    /// Tasks that died in a module's init (an oops).
    pub died: Vec<TaskId>,
    /// A `struct idempotent` stayed linked in `idem_hash` after its owner's
    /// task died: the state `idem-memory-safety` is about in `winner-dies`.
    pub idem_outlived: bool,
    /// Every task exited and the reaper saw it.
    pub completed: bool,
    /// Reads of a `struct module` that `free_module()` had freed
    /// (`module-memory-safety`).
    pub module_unsafe: Vec<String>,
    /// A name-check waiter woke to find the module it waited on gone: the
    /// state `module-memory-safety` is about.
    pub module_gone_after_wait: bool,
    /// Inits that started on a module that was not COMING
    /// (`coming-before-init`).
    pub init_not_coming: Vec<String>,
    /// A module was LIVE while one it imports from was not
    /// (`live-deps`).
    pub live_deps_broken: Vec<String>,
    /// `resolve_symbol()` found its provider COMING: the race `live-deps`
    /// is about.
    pub resolved_against_coming: bool,
}

impl Record {
    /// Step index of the next event.
    pub fn now(&self) -> usize {
        self.events.len()
    }

    /// Short name of a task (`T1`).
    pub fn task_name(&self, t: TaskId) -> &str {
        self.tasks.get(t).map_or("?", |r| r.name.as_str())
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

    /// The trace as text, one step per line, with a task legend first.
    /// Fits 100 columns: long descriptions wrap under their own column.
    pub fn render(&self) -> String {
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
            let width = 100usize.saturating_sub(head.len()).max(30);
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

/// Shared handle to the record of the running execution.
#[derive(Clone, Default)]
pub struct Recorder(Arc<Mutex<Record>>);

impl Recorder {
    /// A fresh, empty record.
    pub fn new() -> Self {
        Recorder::default()
    }

    /// Run `f` on the record.
    pub fn with<R>(&self, f: impl FnOnce(&mut Record) -> R) -> R {
        // A model thread that panicked while holding this std lock is already
        // a failed execution; the record is still worth reading.
        let mut g = self.0.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut g)
    }

    /// A copy of the record.
    pub fn snapshot(&self) -> Record {
        self.with(|r| r.clone())
    }

    /// Move the record out, leaving an empty one: the end of an execution
    /// reads it without copying every step ([`Recorder::restore`] puts it back).
    pub fn take(&self) -> Record {
        self.with(std::mem::take)
    }

    /// Put back a record moved out by [`Recorder::take`].
    pub fn restore(&self, record: Record) {
        self.with(|r| *r = record);
    }

    /// Append a step.
    pub fn event(&self, task: TaskId, func: &'static str, what: impl Into<String>) {
        let what = what.into();
        self.with(|r| r.events.push(Event { task, func, what }));
    }

    /// Ghost: `me` took a kmod slot; `in_use` slots are now taken of `limit`.
    pub fn kmod_take(&self, me: TaskId, in_use: i64, limit: i64) {
        self.with(|r| {
            r.kmod_holders.push(me);
            r.kmod_in_use = in_use;
            r.kmod_max_in_use = r.kmod_max_in_use.max(in_use);
            r.kmod_full |= in_use >= limit;
        });
    }

    /// Ghost: `me` gave a kmod slot back; `in_use` are now taken.
    pub fn kmod_put(&self, me: TaskId, in_use: i64) {
        self.with(|r| {
            if let Some(i) = r.kmod_holders.iter().position(|t| *t == me) {
                r.kmod_holders.remove(i);
            }
            r.kmod_in_use = in_use;
            r.kmod_min_in_use = r.kmod_min_in_use.min(in_use);
        });
    }

    /// Ghost: the 2008 budget's counter was left raised (a mutant's leak);
    /// `in_use` are now counted as taken.
    pub fn kmod_leak(&self, in_use: i64) {
        self.with(|r| r.kmod_in_use = in_use);
    }

    /// Ghost: a read of a freed `struct module`, and the step.
    pub fn module_unsafe(&self, me: TaskId, what: String) {
        self.with(|r| {
            r.module_unsafe.push(what.clone());
            r.events.push(Event {
                task: me,
                func: "module-memory-safety",
                what: format!("VIOLATION: {what}"),
            });
        });
    }

    /// Ghost: an in-flight table memory-safety violation, and the step.
    pub fn idem_unsafe(&self, me: TaskId, what: String) {
        self.with(|r| {
            r.idem_unsafe.push(what.clone());
            r.events.push(Event {
                task: me,
                func: "idem-memory-safety",
                what: format!("VIOLATION: {what}"),
            });
        });
    }

    /// Record a printk line, and the step that printed it.
    pub fn printk(&self, task: TaskId, func: &'static str, line: String) {
        self.with(|r| {
            r.printk.push(line.clone());
            r.events.push(Event {
                task,
                func,
                what: format!("printk: \"{line}\""),
            });
        });
    }

    /// Describe a return for the trace.
    pub fn ret(ret: Ret) -> String {
        ret_name(ret)
    }
}
