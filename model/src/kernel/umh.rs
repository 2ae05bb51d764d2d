//! The usermode helper: `call_modprobe()` (`kernel/module/kmod.c`) and
//! `call_usermodehelper_exec()` (`kernel/umh.c`), with
//! `UMH_WAIT_PROC | UMH_KILLABLE`.

use super::Kernel;
use crate::errno::{Ret, ENOEXEC, ENOMEM, ERESTARTSYS};
use crate::primitives::{Completion, WaitMode, Woken};
use crate::sync::Mutex;
use crate::trace::{Fact, TaskId, TaskKind, WaitFor};
use crate::userspace::modprobe::{modprobe, Exit};
use std::sync::Arc;

/// `struct subprocess_info`, reduced: the `complete` pointer (taken with
/// `xchg` by whichever of caller and helper gets there first) and `retval`.
/// Both race between two tasks, so they sit behind an engine lock.
struct SubprocessInfo {
    /// (`complete` still set, `retval`).
    inner: Mutex<(bool, Ret)>,
}

impl SubprocessInfo {
    /// `xchg(&sub_info->complete, NULL)`: true if it was still set.
    fn take_complete(&self) -> bool {
        std::mem::take(&mut self.inner.lock().0)
    }
}

/// wait(2) status of a helper: exit code in bits 8..15, or the signal number.
fn wait_status(exit: Exit) -> Ret {
    match exit {
        Exit::Ok => 0,
        Exit::Failed(_) => 1 << 8,
        Exit::Killed => 9,
        // make_task_dead(SIGSEGV): the umh kthread's kernel_wait() sees it.
        Exit::Oops => 11,
    }
}

/// `call_modprobe(alias, UMH_WAIT_PROC)` → `call_usermodehelper_exec(info,
/// UMH_WAIT_PROC | UMH_KILLABLE)`: start `modprobe -q -- alias` as a new
/// task and wait, killably, until it exits.
///
/// If the caller is killed first, `xchg(&sub_info->complete, NULL)` hands
/// the helper off: the caller returns `-ERESTARTSYS` and modprobe runs on.
/// If the helper had already taken it, the caller waits for the imminent
/// `complete()` and returns the real `retval`.
///
/// The helper inherits the caller's request ancestry; only the
/// recursion-aware proposal reads it.
pub fn call_modprobe(k: &Arc<Kernel>, me: TaskId, alias: &str) -> Ret {
    // The scenario's bound on helpers (bounded-helpers): the model does not
    // start one more; it records the runaway and cuts the request short.
    let started = k.helpers.update(|h| {
        h.started += 1;
        h.started
    });
    if let Some(bound) = k.scenario.helper_bound {
        if started > bound {
            k.helpers.write(|h| h.runaway = true);
            k.rec.event(me, "call_usermodehelper_exec", || {
                format!("would start helper #{started} (modprobe -q -- {alias}): past the scenario's bound of {bound}; the model stops this chain here")
            });
            k.rec.fact(Fact::Runaway);
            return -ENOMEM;
        }
    }
    k.rec.fact(Fact::HelperStart);
    let done = Completion::new(format!("the umh completion of modprobe {alias}"));
    let sub = Arc::new(SubprocessInfo {
        inner: Mutex::new((true, 0)),
    });
    let (helper_done, helper_sub, target) = (done.clone(), sub.clone(), alias.to_string());
    let label = format!("umh modprobe {alias} (started by {})", k.name(me));
    let helper = k.spawn_task(
        TaskKind::Helper,
        label,
        k.ancestry_of(me),
        Some(alias.to_string()),
        move |k, id| {
            // exec(): a binary whose format needs a handler module asks for
            // it first (search_binary_handler()); none is found: -ENOEXEC.
            let exit = match &k.scenario.exec_requests {
                Some(binfmt) => {
                    k.rec.event(id, "search_binary_handler", || {
                        format!("exec of modprobe: unknown binary format; asks for {binfmt}")
                    });
                    super::kmod::request_module(k, id, binfmt);
                    k.rec.event(id, "search_binary_handler", || {
                        "no handler: exec fails with -ENOEXEC".into()
                    });
                    None
                }
                None => Some(modprobe(k, id, &target, false)),
            };
            // sub_info->retval = ...; umh_complete(): if (xchg(&sub_info->complete,
            // NULL)) complete(comp); (the two stores in one engine section)
            let still_set = {
                let mut g = helper_sub.inner.lock();
                g.1 = exit.map_or(-ENOEXEC, wait_status);
                std::mem::take(&mut g.0)
            };
            if still_set {
                umh_complete(&helper_done);
            }
        },
    );
    k.rec.event(me, "call_usermodehelper_exec", || {
        format!(
            "starts {} (modprobe -q -- {alias}); waits {} for it to exit",
            k.name(helper),
            match (k.variant.umh(), k.variant.mutant()) {
                (_, Some(crate::variant::Mutant::HelperWaitNotKillable)) => {
                    "uninterruptibly (mutant: no UMH_KILLABLE)"
                }
                (crate::variant::UmhWait::Uninterruptible, _) => {
                    "uninterruptibly (no UMH_KILLABLE before v3.4)"
                }
                (crate::variant::UmhWait::Killable, _) => "killably",
            }
        )
    });
    let why = || WaitFor {
        what: format!("helper {} (modprobe {alias}) to exit", k.name(helper)),
        on: vec![helper],
    };
    // UMH_KILLABLE: wait_for_completion_killable() since v3.4;
    // wait_for_completion() before it, and in the mutant that drops it.
    let mode = match (k.variant.umh(), k.variant.mutant()) {
        (_, Some(crate::variant::Mutant::HelperWaitNotKillable)) => WaitMode::Uninterruptible,
        (crate::variant::UmhWait::Uninterruptible, _) => WaitMode::Uninterruptible,
        (crate::variant::UmhWait::Killable, _) => WaitMode::Killable,
    };
    if done.wait(k, me, mode, None, &why) == Woken::Signal {
        if sub.take_complete() {
            k.rec.event(me, "call_usermodehelper_exec", || {
                format!(
                    "killed: returns -ERESTARTSYS; {} runs on, detached",
                    k.name(helper)
                )
            });
            return -ERESTARTSYS;
        }
        done.wait(k, me, WaitMode::Uninterruptible, None, &why);
    }
    let ret = sub.inner.lock().1;
    ret
}

/// `umh_complete()`'s `complete(comp)` (`kernel/umh.c`), for a
/// `sub_info->complete` the helper found still set: ends the requester's
/// wait in `call_usermodehelper_exec()` (one function per wake-up:
/// `.ci/wakeups`, reports/wakeups.md).
fn umh_complete(done: &Completion) {
    done.complete();
}
