//! # kmodcheck-properties: named properties of module loading
//!
//! Each property has an id, a one-line statement, its kernel rationale, and
//! a vacuity witness: a state the scenario must reach at least once for a
//! "holds" to mean anything (stateright's `sometimes`). A property is checked
//! against what one execution recorded ([`Outcome`]); the engine driver
//! folds the results of every execution into a verdict.
#![deny(missing_docs)]

use kmodcheck_model::errno::{ret_name, EBUSY, EDEADLK, EEXIST, EINTR, ERESTARTSYS};
use kmodcheck_model::trace::{FinitCall, FinitRole, ModState, Record};
use kmodcheck_model::{Scenario, Variant};
use serde::Serialize;

/// How an execution ended.
#[derive(Clone, Debug, Serialize)]
pub enum End {
    /// Every task exited.
    Completed,
    /// Every thread was asleep: the engine reported a deadlock.
    Deadlock {
        /// The wait-for cycle, one sentence per task, if there is one.
        cycle: Option<Vec<String>>,
        /// Every sleeping task and what it waits for.
        blocked: Vec<String>,
    },
}

/// One execution, as properties see it.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// What the execution recorded.
    pub record: Record,
    /// How it ended.
    pub end: End,
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

/// A named property.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Property {
    /// Id used on the command line and in reports.
    pub id: &'static str,
    /// What must hold, in one line.
    pub statement: &'static str,
    /// Why a kernel developer cares, with references.
    pub rationale: &'static str,
    /// The state a scenario must reach for "holds" to be meaningful.
    pub witness: &'static str,
    #[serde(skip)]
    check: fn(&Outcome, &Scenario, &Variant) -> Check,
}

impl Property {
    /// Check one execution.
    pub fn check(&self, o: &Outcome, s: &Scenario, v: &Variant) -> Check {
        (self.check)(o, s, v)
    }
}

fn completed(o: &Outcome) -> bool {
    matches!(o.end, End::Completed)
}

fn deadlock_text(o: &Outcome) -> String {
    match &o.end {
        End::Deadlock { cycle: Some(c), .. } => format!("deadlock: {}", c.join("; ")),
        End::Deadlock { blocked, .. } => format!("every task asleep: {}", blocked.join("; ")),
        End::Completed => String::new(),
    }
}

fn no_deadlock(o: &Outcome, _: &Scenario, _: &Variant) -> Check {
    if completed(o) {
        Check::Ok {
            witness: o.record.slept,
        }
    } else {
        Check::Violated(deadlock_text(o))
    }
}

fn terminates_when_killed(o: &Outcome, _: &Scenario, _: &Variant) -> Check {
    if completed(o) {
        Check::Ok {
            witness: o.record.signal_delivered && o.record.slept,
        }
    } else {
        let sent = if o.record.signal_sent {
            "the signal was sent"
        } else {
            "no signal was sent yet"
        };
        Check::Violated(format!("{}; {sent}", deadlock_text(o)))
    }
}

fn init_at_most_once(o: &Outcome, _: &Scenario, _: &Variant) -> Check {
    let r = &o.record;
    if r.max_inits.0 > 1 {
        return Check::Violated(format!(
            "{} loads of {} were COMING (running init) at the same time",
            r.max_inits.0, r.max_inits.1
        ));
    }
    Check::Ok {
        witness: r.finits.iter().any(|c| c.against.is_some()),
    }
}

/// The call of `w_task` that `c` ran into: a load of the same module (the
/// same file, or another file of a module with the same name, which the
/// name check compares).
fn collided_with<'a>(r: &'a Record, s: &Scenario, c: &FinitCall) -> Option<&'a FinitCall> {
    let w_task = c.against?;
    let name = |file: &str| {
        s.modules
            .iter()
            .find(|m| m.file == file)
            .map(|m| m.name.as_str())
    };
    r.finits.iter().rev().find(|w| {
        w.task == w_task && name(&w.file) == name(&c.file) && w.start <= c.end.unwrap_or(usize::MAX)
    })
}

fn consistent_result(o: &Outcome, s: &Scenario, _: &Variant) -> Check {
    if !completed(o) {
        return Check::Unknown;
    }
    let r = &o.record;
    let mut witness = false;
    for c in &r.finits {
        let Some(w) = collided_with(r, s, c) else {
            continue;
        };
        let Some(cr) = c.ret else {
            continue;
        };
        let Some(wr) = w.ret else {
            if !r.died.contains(&w.task) {
                continue;
            }
            // The load died in init (an oops) and returns nothing. Only a
            // forced unload can answer its waiters (-EBUSY: the heap
            // proposal's idempotent_complete, or the name check once the
            // module is GOING or gone), unless a signal interrupted them.
            witness = true;
            let interrupted = c.signalled && (cr == -EINTR || cr == -ERESTARTSYS);
            if cr != -EBUSY && !interrupted {
                return Check::Violated(format!(
                    "{} returned {} for {} while {}'s concurrent load of it had died in init (an oops) and returned nothing",
                    r.task_name(c.task),
                    ret_name(cr),
                    c.file,
                    r.task_name(w.task)
                ));
            }
            continue;
        };
        witness = true;
        // -EDEADLK says: had this task waited, it would have waited for
        // itself. That is so only if the load it ran into is its ancestor's,
        // which waits in request_module() for this helper to exit; any other
        // load completes without it.
        if c.role == FinitRole::Recursion
            && cr == -EDEADLK
            && !r
                .tasks
                .get(c.task)
                .is_some_and(|t| t.ancestry.contains(&w.task))
        {
            return Check::Violated(format!(
                "{} returned -EDEADLK for {}, but {}, whose load of it was in flight, did not start {} (it is not one of its request_module() ancestors): there was no recursion, and that load returned {}",
                r.task_name(c.task),
                c.file,
                r.task_name(w.task),
                r.task_name(c.task),
                ret_name(wr)
            ));
        }
        let ok = cr == wr
            || match c.role {
                FinitRole::NameCheck => {
                    (wr == 0 && cr == -EEXIST)
                        || (wr != 0 && cr == -EBUSY)
                        || (c.signalled && cr == -ERESTARTSYS)
                }
                FinitRole::IdemWaiter => c.signalled && cr == -EINTR,
                FinitRole::Recursion => cr == -EDEADLK,
                _ => false,
            };
        if !ok {
            return Check::Violated(format!(
                "{} returned {} for {} while {}'s concurrent load of it returned {}",
                r.task_name(c.task),
                ret_name(cr),
                c.file,
                r.task_name(w.task),
                ret_name(wr)
            ));
        }
    }
    Check::Ok { witness }
}

fn success_means_live(o: &Outcome, _: &Scenario, _: &Variant) -> Check {
    let r = &o.record;
    if let Some(first) = r.success_not_live.first() {
        return Check::Violated(first.clone());
    }
    Check::Ok {
        witness: r
            .finits
            .iter()
            .any(|f| f.ret == Some(0) || f.ret == Some(-EEXIST)),
    }
}

fn dependents_load(o: &Outcome, _: &Scenario, _: &Variant) -> Check {
    if !completed(o) {
        return Check::Unknown;
    }
    let r = &o.record;
    let inits_ok = r.init_results.iter().all(|(_, ret)| *ret == 0);
    if !inits_ok || r.signal_sent || !r.died.is_empty() {
        return Check::Ok { witness: false };
    }
    for m in r.modprobes.iter().filter(|m| m.actor) {
        if m.ret != Some(0) {
            return Check::Violated(format!(
                "every init succeeded, yet {} (modprobe {}) failed with {}",
                r.task_name(m.task),
                m.target,
                m.ret.map_or("no result".into(), ret_name)
            ));
        }
    }
    Check::Ok { witness: true }
}

fn ends_live(o: &Outcome, s: &Scenario, _: &Variant) -> Check {
    if !completed(o) {
        return Check::Unknown;
    }
    for name in &s.expect_live {
        let state = o.record.modules.get(name).copied();
        if state != Some(ModState::Live) {
            return Check::Violated(format!(
                "every task exited with {name} {}",
                state.map_or("not loaded", ModState::name)
            ));
        }
    }
    Check::Ok { witness: true }
}

fn budget_respected(o: &Outcome, s: &Scenario, _: &Variant) -> Check {
    let r = &o.record;
    let limit = i64::from(s.kmod_limit);
    if r.kmod_max_in_use > limit {
        return Check::Violated(format!(
            "{} kmod slots were taken at once; max_modprobes is {limit}",
            r.kmod_max_in_use
        ));
    }
    if r.kmod_min_in_use < 0 {
        return Check::Violated(format!(
            "a slot was given back that was never taken: the budget now allows {} requests at once, not {limit}",
            limit - r.kmod_min_in_use
        ));
    }
    if !completed(o) {
        return Check::Unknown;
    }
    if r.kmod_in_use != 0 {
        return Check::Violated(format!(
            "every task exited with {} kmod slots still taken",
            r.kmod_in_use
        ));
    }
    Check::Ok {
        witness: r.kmod_full,
    }
}

fn bounded_helpers(o: &Outcome, s: &Scenario, _: &Variant) -> Check {
    let r = &o.record;
    let bound = s.helper_bound.unwrap_or(usize::MAX);
    if let Some(starts) = &r.runaway {
        // The repeating part: from the first helper's start to the second's.
        let part = match starts.as_slice() {
            [a, b, ..] => r.events[*a..*b]
                .iter()
                .map(|e| format!("{} {}: {}", r.task_name(e.task), e.func, e.what))
                .collect::<Vec<_>>()
                .join(" / "),
            _ => String::new(),
        };
        return Check::Violated(format!(
            "runaway loop: a helper past the bound of {bound} was about to start; repeating part: {part}"
        ));
    }
    Check::Ok {
        witness: !r.helper_starts.is_empty(),
    }
}

fn idem_memory_safety(o: &Outcome, _: &Scenario, _: &Variant) -> Check {
    let r = &o.record;
    if let Some(first) = r.idem_unsafe.first() {
        return Check::Violated(first.clone());
    }
    Check::Ok {
        witness: r.idem_outlived
            || r.finits
                .iter()
                .any(|c| c.role == FinitRole::IdemWaiter && c.signalled),
    }
}

fn module_memory_safety(o: &Outcome, _: &Scenario, _: &Variant) -> Check {
    let r = &o.record;
    if let Some(first) = r.module_unsafe.first() {
        return Check::Violated(first.clone());
    }
    Check::Ok {
        witness: r.module_gone_after_wait,
    }
}

fn coming_before_init(o: &Outcome, _: &Scenario, _: &Variant) -> Check {
    let r = &o.record;
    if let Some(first) = r.init_not_coming.first() {
        return Check::Violated(first.clone());
    }
    Check::Ok {
        witness: r
            .events
            .iter()
            .any(|e| e.func == "do_init_module" && e.what.starts_with("runs ")),
    }
}

fn live_deps(o: &Outcome, _: &Scenario, _: &Variant) -> Check {
    let r = &o.record;
    if let Some(first) = r.live_deps_broken.first() {
        return Check::Violated(first.clone());
    }
    Check::Ok {
        witness: r.resolved_against_coming,
    }
}

/// Every property, in report order.
pub fn catalogue() -> &'static [Property] {
    const ALL: &[Property] = &[
        Property {
            id: "no-deadlock",
            statement: "no reachable state in which every task is asleep",
            rationale: "a module load that never returns hangs modprobe, udev and boot; 9b9879fc0327 made the aes-arm-bs self-load hang (cb5b81bc9a44)",
            witness: "some task slept in a kernel wait",
            check: no_deadlock,
        },
        Property {
            id: "terminates-when-killed",
            statement: "with the scenario's signal sent, every execution ends",
            rationale: "a hang a signal can break is recoverable; one no signal breaks is not (kernel-semantics §4.1; 2124d84db293)",
            witness: "the signal reached a live task, and some task slept",
            check: terminates_when_killed,
        },
        Property {
            id: "init-at-most-once",
            statement: "a module's init never runs twice at the same time",
            rationale: "init code assumes it runs once; the name check and the in-flight table both exist to ensure it (9b9879fc0327)",
            witness: "a finit_module ran into another task's load of the same module",
            check: init_at_most_once,
        },
        Property {
            id: "consistent-result",
            statement: "a finit_module that overlaps another's load of the same file returns that load's result (or -EEXIST/-EBUSY from the name check, -EINTR if signalled, -EDEADLK if that load is its request_module() ancestor's; -EBUSY if that load died in init)",
            rationale: "a waiter that reports failure while the module loads, or success while it fails, misleads modprobe and its dependents (ac2263b588df)",
            witness: "a finit_module ran into another task's load of the same module",
            check: consistent_result,
        },
        Property {
            id: "success-means-live",
            statement: "when finit_module returns 0 or -EEXIST, the module is LIVE at that moment",
            rationale: "modprobe then loads dependents, whose symbol resolution needs a LIVE provider (resolve_symbol_wait)",
            witness: "some finit_module returned 0 or -EEXIST",
            check: success_means_live,
        },
        Property {
            id: "dependents-load",
            statement: "if every module init succeeds and no signal is sent, every modprobe run succeeds",
            rationale: "the race that got 9828ed3f695a reverted: a modprobe that fails on a shared dependency never loads its own module (ac2263b588df)",
            witness: "an execution in which every init succeeded and no signal was sent",
            check: dependents_load,
        },
        Property {
            id: "ends-live",
            statement: "when every task has exited, the scenario's modules are LIVE",
            rationale: "the load a user asked for happened (kernel-semantics §4.1: \"X goes LIVE\")",
            witness: "an execution in which every task exited",
            check: ends_live,
        },
        Property {
            id: "idem-memory-safety",
            statement: "no walk, completion, store or unlink touches an in-flight entry whose owner's frame is gone (returned, or died in init), and no entry is unlinked twice",
            rationale: "struct idempotent lives on its owner's stack; 2124d84db293 made waiters interruptible, so a waiter can leave while the completer still walks the chain (hlist_del_init, the -EINTR default, the unlink under idem_lock); a winner that dies in init leaves its entry in idem_hash on a dead stack (kernel-semantics.md §4.8; the 2025 heap proposal)",
            witness: "an in-flight waiter was signalled, or a winner died in init with its entry linked",
            check: idem_memory_safety,
        },
        Property {
            id: "budget-respected",
            statement: "kmod slots taken never exceed max_modprobes, none is given back that was not taken, and all are back when every task has exited",
            rationale: "the budget is what stops a request loop (the 2008 \"runaway loop\"; 6d7964a722af, 25a1b5b518f4); one that leaks or inflates stops nothing",
            witness: "every kmod slot was taken at some moment",
            check: budget_respected,
        },
        Property {
            id: "bounded-helpers",
            statement: "an execution starts no more modprobe helpers than the scenario's bound",
            rationale: "more helpers than any bound is the runaway loop (kernel-semantics §4.6): each helper's request starts another",
            witness: "a modprobe helper was started",
            check: bounded_helpers,
        },
        Property {
            id: "module-memory-safety",
            statement: "no task reads a struct module after free_module() freed it",
            rationale: "module_patient_check_exists() sleeps without module_mutex; the module it saw may fail and be freed meanwhile, hence its re-lookup (\"The module might have gone in the meantime.\", kernel/module/main.c, v6.4+)",
            witness: "a name-check waiter woke to find the module it waited on gone",
            check: module_memory_safety,
        },
        Property {
            id: "coming-before-init",
            statement: "a module's init runs only once the module is COMING (complete_formation has run)",
            rationale: "complete_formation() makes the module's text read-only and the MODULE_STATE_COMING notifiers (ftrace, livepatch, jump labels) run before init, and other loaders treat COMING as \"init running\" (include/linux/module.h, kernel/module/main.c)",
            witness: "a module's init ran",
            check: coming_before_init,
        },
        Property {
            id: "live-deps",
            statement: "a LIVE module never imports from a module that is not LIVE",
            rationale: "resolve_symbol() takes a reference only on a LIVE provider (strong_try_module_get: -EBUSY while COMING), and resolve_symbol_wait() waits for it; an importer LIVE before its provider calls into code whose init has not finished, or has failed",
            witness: "resolve_symbol() found its provider COMING",
            check: live_deps,
        },
    ];
    ALL
}

/// Look a property up by id.
pub fn by_id(id: &str) -> Option<&'static Property> {
    catalogue().iter().find(|p| p.id == id)
}
