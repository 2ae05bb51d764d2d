//! One execution: boot the kernel, start the scenario's actors together, and
//! reap every task. This is the body each engine runs once per interleaving.

use crate::kernel::Kernel;
use crate::primitives::signal::send_sig;
use crate::primitives::waitqueue::{sleep_until, Cond};
use crate::primitives::WaitMode;
use crate::scenario::{Actor, Scenario, SignalTarget};
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
    let mut actor_tasks = Vec::new();
    for actor in &scenario.actors {
        if let Actor::Modprobe(target) = actor {
            let target = target.clone();
            let id = k.spawn_task(
                TaskKind::Modprobe,
                format!("modprobe {target}"),
                Vec::new(),
                None,
                move |k, id| {
                    modprobe(k, id, &target, true);
                },
            );
            actor_tasks.push(id);
        }
    }
    for actor in &scenario.actors {
        if let Actor::Insmod(file) = actor {
            let file = file.clone();
            k.spawn_task(
                TaskKind::Modprobe,
                format!("insmod {file}"),
                Vec::new(),
                None,
                move |k, id| {
                    crate::userspace::modprobe::insmod(k, id, &file);
                },
            );
        }
    }
    for actor in &scenario.actors {
        if let Actor::Request { alias, repeat } = actor {
            let (alias, repeat) = (alias.clone(), *repeat);
            assert!(
                !repeat || scenario.helper_bound.is_some(),
                "scenario {}: a repeating request needs a helper_bound",
                scenario.name
            );
            k.spawn_task(
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
                move |k, me| loop {
                    crate::kernel::kmod::request_module(k, me, &alias);
                    if !repeat || k.rec.with(|r| r.runaway.is_some()) {
                        break;
                    }
                },
            );
        }
    }
    for actor in &scenario.actors {
        if let Actor::Signal { target, fatal } = actor {
            let (target, fatal) = (target.clone(), *fatal);
            let fixed = match &target {
                SignalTarget::Actor(i) => Some(actor_tasks[*i]),
                SignalTarget::HelperFor(_) => None,
            };
            let sig = if fatal { "SIGKILL" } else { "a handled signal" };
            let whom = match &target {
                SignalTarget::Actor(i) => k.name(actor_tasks[*i]),
                SignalTarget::HelperFor(a) => format!("the modprobe helper for {a}"),
            };
            k.spawn_task(
                TaskKind::Environment,
                format!("signal (sends {sig} to {whom} at any moment)"),
                Vec::new(),
                None,
                move |k, me| {
                    let resolve = || match &target {
                        SignalTarget::Actor(_) => fixed,
                        SignalTarget::HelperFor(alias) => k.helper_for(alias),
                    };
                    // Both are published before a wake-up of env_wq.
                    wait_on_env(k, me, "its target to exist", &mut || {
                        resolve().is_some() || k.is_finished()
                    });
                    if let Some(t) = resolve() {
                        send_sig(k, me, t, fatal);
                    }
                },
            );
        }
    }
    for actor in &scenario.actors {
        if let Actor::ForceUnload(module) = actor {
            let module = module.clone();
            k.spawn_task(
                TaskKind::Environment,
                format!("rmmod -f {module} (once a task has died in init)"),
                Vec::new(),
                None,
                move |k, me| {
                    // Published by Kernel::task_died before its wake-up of env_wq.
                    let oops = || k.rec.with(|r| !r.died.is_empty());
                    wait_on_env(k, me, "an oops in some module's init", &mut || {
                        oops() || k.is_finished()
                    });
                    if oops() {
                        crate::kernel::module::delete_module(k, me, &module);
                    }
                },
            );
        }
    }
    k.reap();
    rec.with(|r| r.completed = true);
}

/// An environment actor sleeps on `env_wq` until `ready` (tested after it
/// queues itself, so a wake-up that follows the state it reads is not lost).
fn wait_on_env(k: &Kernel, me: crate::trace::TaskId, what: &str, ready: &mut dyn FnMut() -> bool) {
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
