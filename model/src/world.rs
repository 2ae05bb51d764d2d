//! One execution: boot the kernel, start the scenario's actors together, and
//! reap every task. This is the body each engine runs once per interleaving.

use crate::kernel::Kernel;
use crate::primitives::signal::send_sig;
use crate::primitives::waitqueue::{sleep_until, Cond};
use crate::primitives::WaitMode;
use crate::scenario::{Actor, Scenario, SignalTarget};
use crate::state::{Symmetry, TaskId};
use crate::trace::{Recorder, TaskKind, WaitFor};
use crate::userspace::modprobe::modprobe;
use crate::variant::Variant;
use std::sync::Arc;

/// Run the scenario once under the current engine, recording into `rec`.
///
/// The calling (main) thread plays `init`: it starts the modprobe actors,
/// then the signal actors and the `rmmod -f` actor (the timer actor starts with the first timed
/// wait), and joins every kernel task
/// (actors, usermode helpers, kthreads). If they never exit, every thread
/// ends up blocked and the engine reports a deadlock; the driver reads the
/// wait-for graph from `rec`.
pub fn execute(variant: Variant, scenario: Arc<Scenario>, rec: Recorder) {
    let k = Kernel::boot(variant, scenario.clone(), rec.clone());
    let _init = k.register_task(
        TaskKind::Environment,
        "init (the harness: starts the actors, reaps every task)".into(),
        Vec::new(),
        None,
    );
    // The kernel actors are registered before any starts, so their ids are
    // 1, 2, ... in this order whatever the engine runs first (`symmetry()`
    // relies on it, and a signal actor's target is the i-th modprobe or
    // insmod).
    // Each actor's birth is its specification: its body captures nothing
    // else (see sync::spawn), so two actors with the same specification are
    // born alike, and the harness's own history (the order it started them
    // in) is no part of them.
    type Body = Box<dyn FnOnce(&Arc<Kernel>, TaskId) + Send>;
    let mut bodies: Vec<(TaskId, Vec<String>, Body)> = Vec::new();
    let mut actor_tasks = Vec::new();
    let mut insmod_tasks = Vec::new();
    for actor in &scenario.actors {
        match actor {
            Actor::Modprobe(target) => {
                let target = target.clone();
                let id = k.register_task(
                    TaskKind::Modprobe,
                    format!("modprobe {target}"),
                    Vec::new(),
                    None,
                );
                actor_tasks.push(id);
                let birth = vec!["modprobe".into(), target.clone()];
                bodies.push((
                    id,
                    birth,
                    Box::new(move |k, id| {
                        modprobe(k, id, &target, true);
                    }),
                ));
            }
            Actor::Insmod(_)
            | Actor::Request { .. }
            | Actor::Signal { .. }
            | Actor::ForceUnload(_)
            | Actor::Rmmod(_) => {}
        }
    }
    for actor in &scenario.actors {
        match actor {
            Actor::Insmod(file) => {
                let file = file.clone();
                let id = k.register_task(
                    TaskKind::Modprobe,
                    format!("insmod {file}"),
                    Vec::new(),
                    None,
                );
                insmod_tasks.push(id);
                let birth = vec!["insmod".into(), file.clone()];
                bodies.push((
                    id,
                    birth,
                    Box::new(move |k, id| {
                        crate::userspace::modprobe::insmod(k, id, &file);
                    }),
                ));
            }
            Actor::Modprobe(_)
            | Actor::Request { .. }
            | Actor::Signal { .. }
            | Actor::ForceUnload(_)
            | Actor::Rmmod(_) => {}
        }
    }
    for actor in &scenario.actors {
        match actor {
            Actor::Request { alias, repeat } => {
                let (alias, repeat) = (alias.clone(), *repeat);
                assert!(
                    !repeat || scenario.helper_bound.is_some(),
                    "scenario {}: a repeating request needs a helper_bound",
                    scenario.name
                );
                let id = k.register_task(
                    TaskKind::Kthread,
                    format!(
                        "exec of a binary that needs {alias}: request_module({alias}){}",
                        if repeat {
                            ", again after each return"
                        } else {
                            ""
                        }
                    ),
                    Vec::new(),
                    None,
                );
                let birth = vec!["request".into(), alias.clone(), repeat.to_string()];
                bodies.push((
                    id,
                    birth,
                    Box::new(move |k, me| loop {
                        crate::kernel::kmod::request_module(k, me, &alias);
                        if !repeat || k.helpers.read(|h| h.runaway) {
                            break;
                        }
                        // Under CONFIG_MODULE_DEBUG_AUTOLOAD_DUPS every later
                        // request is answered from the stored result, at once
                        // and without a helper: the loop spins until the entry
                        // expires (60 s), which the model does not follow.
                        if crate::kernel::kmod::answered_from_cache(k, &alias) {
                            k.rec.event(me, "request_module", || {
                                format!("{alias}: every later request is answered from kmod_dup_req's stored result, without a helper; the loop spins (not followed)")
                            });
                            break;
                        }
                    }),
                ));
            }
            Actor::Modprobe(_)
            | Actor::Insmod(_)
            | Actor::Signal { .. }
            | Actor::ForceUnload(_)
            | Actor::Rmmod(_) => {}
        }
    }
    for (i, (id, birth, body)) in bodies.into_iter().enumerate() {
        assert_eq!(
            id,
            TaskId(1 + i),
            "actors register in the order symmetry() assumes"
        );
        k.start_task(id, Some(&birth), body);
    }
    for actor in &scenario.actors {
        match actor {
            Actor::Signal { target, kind } => {
                let (target, kind) = (target.clone(), *kind);
                let fixed = match &target {
                    SignalTarget::Actor(i) => Some(actor_tasks[*i]),
                    SignalTarget::Insmod(i) => Some(insmod_tasks[*i]),
                    SignalTarget::HelperFor(_) => None,
                };
                let sig = kind.name();
                let whom = match &target {
                    SignalTarget::Actor(_) | SignalTarget::Insmod(_) => {
                        k.name(fixed.expect("an actor's task is registered above"))
                    }
                    SignalTarget::HelperFor(a) => format!("the modprobe helper for {a}"),
                };
                let label = format!("signal (sends {sig} to {whom} at any moment)");
                let birth = (label.clone(), fixed);
                let id = k.register_task(TaskKind::Environment, label, Vec::new(), None);
                k.start_task(id, Some(&birth), move |k, me| {
                    let resolve = || match &target {
                        SignalTarget::Actor(_) | SignalTarget::Insmod(_) => fixed,
                        SignalTarget::HelperFor(alias) => k.helper_for(alias),
                    };
                    // Both are published before a wake-up of env_wq.
                    wait_on_env(k, me, "its target to exist", &mut || {
                        resolve().is_some() || k.is_finished()
                    });
                    if let Some(t) = resolve() {
                        send_sig(k, me, t, kind);
                    }
                });
            }
            Actor::Modprobe(_)
            | Actor::Insmod(_)
            | Actor::Request { .. }
            | Actor::ForceUnload(_)
            | Actor::Rmmod(_) => {}
        }
    }
    for actor in &scenario.actors {
        match actor {
            Actor::ForceUnload(module) => {
                let module = module.clone();
                let label = format!("rmmod -f {module} (once a task has died in init)");
                let id = k.register_task(TaskKind::Environment, label.clone(), Vec::new(), None);
                k.start_task(id, Some(&label), move |k, me| {
                    // Published by Kernel::task_died before its wake-up of env_wq.
                    let oops = || k.some_task_died();
                    wait_on_env(k, me, "an oops in some module's init", &mut || {
                        oops() || k.is_finished()
                    });
                    if oops() {
                        crate::kernel::module::delete_module(k, me, &module, true);
                    }
                });
            }
            Actor::Modprobe(_)
            | Actor::Insmod(_)
            | Actor::Request { .. }
            | Actor::Signal { .. }
            | Actor::Rmmod(_) => {}
        }
        match actor {
            Actor::Rmmod(module) => {
                let module = module.clone();
                let label = format!("rmmod {module}");
                let id = k.register_task(TaskKind::Environment, label.clone(), Vec::new(), None);
                k.start_task(id, Some(&label), move |k, me| {
                    crate::kernel::module::delete_module(k, me, &module, false);
                });
            }
            Actor::Modprobe(_)
            | Actor::Insmod(_)
            | Actor::Request { .. }
            | Actor::Signal { .. }
            | Actor::ForceUnload(_) => {}
        }
    }
    k.reap();
    let _ = rec;
}

/// An environment actor sleeps on `env_wq` until `ready` (tested after it
/// queues itself, so a wake-up that follows the state it reads is not lost).
fn wait_on_env(k: &Kernel, me: TaskId, what: &str, ready: &mut dyn FnMut() -> bool) {
    sleep_until(
        k,
        me,
        &k.env_wq.clone(),
        WaitMode::Uninterruptible,
        None,
        &|| WaitFor {
            what: what.into(),
            on: vec![],
        },
        Cond::Unlocked(ready),
    );
}

/// The interchangeable actors of a scenario, with the task ids
/// [`execute`] gives them: modprobe runs of the same target, insmods of the
/// same file, and requests of the same alias, none of them aimed at by a
/// signal or named by an expected exit (`Expect::Exit`). A signal aimed at a helper makes no actor interchangeable (which
/// actor's request starts that helper is part of what the scenario asks).
///
/// `execute` registers the harness as task 0, then the modprobe actors in
/// order, then the insmods, then the requests (asserted there).
pub fn symmetry(sc: &Scenario) -> Symmetry {
    // A modprobe actor a signal aims at, or whose exit the scenario states
    // (`expected-results`), is told apart from its twins; so is an insmod
    // actor a signal aims at.
    let (mut signalled, mut signalled_insmods) = (Vec::new(), Vec::new());
    for t in sc.signal_targets() {
        match t {
            SignalTarget::Actor(i) => signalled.push(*i),
            SignalTarget::Insmod(i) => signalled_insmods.push(*i),
            SignalTarget::HelperFor(_) => return Symmetry::none(),
        }
    }
    signalled.extend(sc.expect.iter().filter_map(|e| match e {
        crate::scenario::Expect::Exit { actor, .. } => Some(*actor),
        crate::scenario::Expect::Request { .. }
        | crate::scenario::Expect::NeverLive(_)
        | crate::scenario::Expect::Insmod { .. }
        | crate::scenario::Expect::Rmmod { .. } => None,
    }));
    let mut classes: Vec<(String, Vec<TaskId>)> = Vec::new();
    let mut next = 1;
    let mut add = |key: String, id: usize, eligible: bool| {
        if eligible {
            match classes.iter_mut().find(|(k, _)| *k == key) {
                Some((_, v)) => v.push(TaskId(id)),
                None => classes.push((key, vec![TaskId(id)])),
            }
        }
    };
    let modprobes = sc.actors.iter().filter_map(|a| match a {
        Actor::Modprobe(t) => Some(t),
        Actor::Insmod(_)
        | Actor::Request { .. }
        | Actor::Signal { .. }
        | Actor::ForceUnload(_)
        | Actor::Rmmod(_) => None,
    });
    for (i, t) in modprobes.enumerate() {
        add(format!("modprobe {t}"), next, !signalled.contains(&i));
        next += 1;
    }
    let mut insmods = 0;
    for a in &sc.actors {
        match a {
            Actor::Insmod(f) => {
                add(
                    format!("insmod {f}"),
                    next,
                    !signalled_insmods.contains(&insmods),
                );
                insmods += 1;
                next += 1;
            }
            Actor::Modprobe(_)
            | Actor::Request { .. }
            | Actor::Signal { .. }
            | Actor::ForceUnload(_)
            | Actor::Rmmod(_) => {}
        }
    }
    for a in &sc.actors {
        match a {
            Actor::Request { alias, repeat } => {
                add(format!("request {alias} {repeat}"), next, true);
                next += 1;
            }
            Actor::Modprobe(_)
            | Actor::Insmod(_)
            | Actor::Signal { .. }
            | Actor::ForceUnload(_)
            | Actor::Rmmod(_) => {}
        }
    }
    let classes: Vec<Vec<TaskId>> = classes
        .into_iter()
        .map(|(_, v)| v)
        .filter(|v| v.len() > 1)
        .collect();
    let mut n = 0;
    let classes = classes
        .into_iter()
        .filter(|c| {
            n += c.len();
            n <= crate::state::MAX_SYM
        })
        .collect();
    Symmetry { classes }
}
