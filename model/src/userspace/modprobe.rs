//! `modprobe NAME` (kmod, `tools/modprobe.c` with libkmod).
//!
//! Resolves NAME (a module name or an alias) to a module file and its
//! dependencies (modules.dep), inserts the dependencies first, then the
//! module, each with `finit_module(2)`, or with `init_module(2)` where the
//! variant's userspace is libkmod's fallback (`Variant::userspace`). `-EEXIST` counts as success; any
//! other error on a needed module stops the run. As in kmod, a failure is a
//! negative result: libkmod's `kmod_module_insert_module()` returns what
//! the syscall returned (`-errno` only when it is `< 0`), and
//! `tools/modprobe.c`'s `insmod_insert()` reads `err >= 0` as success
//! ("ignore flag return values"); `tools/insmod.c` tests `err < 0`. A
//! kernel that returned a positive value would be believed.
//!
//! libkmod skips a module whose `/sys/module/NAME/initstate` reads `live`;
//! the model always calls `finit_module`, because for a LIVE module it
//! returns `-EEXIST`, which modprobe counts as success: the outcome is the
//! same, with fewer steps. A COMING module is inserted again, as libkmod does.
//! A task with a fatal signal pending dies on its way back to userspace, so
//! modprobe stops there. A task that oopses in a module's init never comes
//! back from `finit_module`.

use crate::errno::{Ret, EEXIST, EINTR, ENOENT, ERESTARTSYS};
use crate::kernel::main::insert_module;
use crate::kernel::{Kernel, Oops, SignalReturn};
use crate::scenario::ModuleSpec;
use crate::trace::{Fact, Recorder, TaskId};
use std::sync::Arc;

/// How a modprobe process ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Exit code 0.
    Ok,
    /// Exit code 1 after this error on a needed module.
    Failed(Ret),
    /// Killed by SIGKILL.
    Killed,
    /// Died of an oops in a module's init (`make_task_dead(SIGSEGV)`).
    Oops,
}

fn load_order<'a>(k: &'a Kernel, spec: &'a ModuleSpec, out: &mut Vec<&'a ModuleSpec>) {
    for dep in &spec.deps {
        if let Some(d) = k.scenario.module(dep) {
            load_order(k, d, out);
        }
    }
    if !out.iter().any(|m| m.name == spec.name) {
        out.push(spec);
    }
}

/// The load syscall as userspace sees it: `-ERESTARTSYS` never reaches
/// it. With a stop signal pending the task stops on its way out, and on
/// SIGCONT the syscall starts again from the top; with a handled signal the
/// handler runs and the syscall returns `-EINTR` (kernel/signal.c
/// `get_signal()`; arch/x86/kernel/signal.c `arch_do_signal_or_restart()`).
/// A fatal signal kills the task there, which the callers check.
fn load_syscall_from_userspace(k: &Arc<Kernel>, me: TaskId, file: &str) -> Result<Ret, Oops> {
    loop {
        let ret = insert_module(k, me, file)?;
        if ret != -ERESTARTSYS || k.fatal_signal_pending(me) {
            return Ok(ret);
        }
        match k.signal_return(me) {
            SignalReturn::Restart => k.rec.event(me, "do_signal", || {
                format!("SIGSTOP: stops on its way back to userspace; on SIGCONT the syscall restarts (-ERESTARTSYS): {file} again")
            }),
            SignalReturn::HandlerRan => {
                k.rec.event(me, "do_signal", || {
                    "the signal's handler runs; without SA_RESTART the syscall returns -EINTR".into()
                });
                return Ok(-EINTR);
            }
            SignalReturn::Nothing => return Ok(ret),
        }
    }
}

/// Run `insmod FILE` as task `me` (kmod's `tools/insmod.c`): one
/// `finit_module(2)`, no dependencies, exit code 1 on an error.
pub fn insmod(k: &Arc<Kernel>, me: TaskId, file: &str) {
    let r = load_syscall_from_userspace(k, me, file);
    k.rec.fact(Fact::InsmodEnd {
        task: me,
        file,
        ret: r.ok(),
    });
    match r {
        Err(_) => k.task_died(me),
        // A fatal signal kills it on its way back to userspace, whatever
        // finit_module returned (`get_signal()` → `do_group_exit()`).
        Ok(_) if k.fatal_signal_pending(me) => k.rec.event(me, "insmod", || {
            "killed by SIGKILL on return from finit_module".into()
        }),
        Ok(ret) if ret >= 0 => k
            .rec
            .event(me, "insmod", || format!("{file}: done, exit 0")),
        Ok(ret) => k.rec.event(me, "insmod", || {
            format!(
                "ERROR: could not insert module {file}: {}",
                Recorder::ret(ret)
            )
        }),
    }
}

/// Run `modprobe target` as task `me`.
pub fn modprobe(k: &Arc<Kernel>, me: TaskId, target: &str, actor: bool) -> Exit {
    let finish = |exit: Exit| {
        let ret = match exit {
            Exit::Ok => Some(0),
            Exit::Failed(e) => Some(e),
            // Killed, or dead (Kernel::task_died reports that).
            Exit::Killed | Exit::Oops => None,
        };
        k.rec.fact(Fact::ModprobeEnd {
            task: me,
            target,
            actor,
            ret,
        });
        exit
    };
    let Some(spec) = k.scenario.resolve(target) else {
        k.rec.event(me, "modprobe", || {
            format!("FATAL: Module {target} not found")
        });
        return finish(Exit::Failed(-ENOENT));
    };
    let mut order = Vec::new();
    load_order(k, spec, &mut order);
    for m in order {
        if k.fatal_signal_pending(me) {
            k.rec.event(me, "modprobe", || {
                "killed by SIGKILL before its next finit_module".into()
            });
            return finish(Exit::Killed);
        }
        let Ok(ret) = load_syscall_from_userspace(k, me, &m.file) else {
            k.task_died(me);
            return finish(Exit::Oops);
        };
        if k.fatal_signal_pending(me) {
            k.rec.event(me, "modprobe", || {
                "killed by SIGKILL on return from finit_module".into()
            });
            return finish(Exit::Killed);
        }
        if ret < 0 && ret != -EEXIST {
            k.rec.event(me, "modprobe", || {
                format!(
                    "ERROR: could not insert '{}': {}; stops",
                    m.name,
                    Recorder::ret(ret)
                )
            });
            return finish(Exit::Failed(ret));
        }
    }
    k.rec
        .event(me, "modprobe", || format!("{target}: done, exit 0"));
    finish(Exit::Ok)
}
