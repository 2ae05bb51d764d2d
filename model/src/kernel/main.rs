//! `finit_module(2)`, `load_module()`, `do_init_module()` and the module's
//! init function (`kernel/module/main.c`).

use super::module::{
    add_unformed_module, complete_formation, find_module_all, free_module, resolve_symbol_wait,
    set_module_state, unlink_mod,
};
use super::{Kernel, Oops};
use crate::errno::{Ret, EEXIST, ENOENT, ETXTBSY};
use crate::scenario::{InitStep, ModuleSpec};
use crate::trace::{Fact, FinitRole, ModState, Recorder, TaskId};
use crate::variant::{FinitDedup, Userspace};
use std::sync::Arc;

/// `SYSCALL_DEFINE3(finit_module, ...)`: one arm per [`FinitDedup`].
///
/// - v6.4: `init_module_from_file()` straight away.
/// - 9828ed3f695a: `exclusive_deny_write_access()` first (`-ETXTBSY` if
///   another load holds it), `allow_write_access()` after the load.
/// - 9b9879fc0327+: `idempotent_init_module()`.
///
/// `Err(Oops)`: the caller died in the module's init and returns nothing;
/// its call stays open in the trace.
pub fn finit_module(k: &Arc<Kernel>, me: TaskId, file: &str) -> Result<Ret, Oops> {
    load_syscall(k, me, file, "finit_module", &|k, me, file| {
        Ok(match k.variant.finit() {
            FinitDedup::NameCheckOnly => init_module_from_file(k, me, file)?,
            FinitDedup::ExclusiveDenyWrite => {
                if exclusive_deny_write_access(k, me, file) != 0 {
                    (-ETXTBSY, FinitRole::Denied)
                } else {
                    // Assumed: nothing on the exit path of a task that dies in
                    // init undoes the deny; 9828ed3f695a pairs it only with this
                    // allow_write_access(), so the file stays denied.
                    let r = init_module_from_file(k, me, file)?;
                    allow_write_access(k, file);
                    r
                }
            }
            FinitDedup::Idempotent => super::idempotent::idempotent_init_module(k, me, file)?,
        })
    })
}

/// `SYSCALL_DEFINE3(init_module, umod, len, uargs)`: the image userspace
/// read (libkmod's fallback, [`Userspace::InitModule`]) is copied in
/// (`copy_module_from_user()`, a vmalloc'ed copy) and goes straight to
/// `load_module()`: no in-flight table, no deny-write, whatever the
/// kernel's [`FinitDedup`].
pub fn init_module(k: &Arc<Kernel>, me: TaskId, file: &str) -> Result<Ret, Oops> {
    load_syscall(k, me, file, "init_module", &|k, me, file| {
        init_module_from_file(k, me, file)
    })
}

/// How userspace loads `file` under this variant: `finit_module(2)`, or
/// libkmod's `init_module(2)` fallback ([`Userspace`]).
pub fn insert_module(k: &Arc<Kernel>, me: TaskId, file: &str) -> Result<Ret, Oops> {
    match k.variant.userspace() {
        Userspace::Finit => finit_module(k, me, file),
        Userspace::InitModule => init_module(k, me, file),
    }
}

/// What both load syscalls share: the facts at their start and end, and the
/// module list as the call returns. `body` is the syscall's own path.
type LoadBody = dyn Fn(&Arc<Kernel>, TaskId, &str) -> Result<(Ret, FinitRole), Oops>;

fn load_syscall(
    k: &Arc<Kernel>,
    me: TaskId,
    file: &str,
    syscall: &'static str,
    body: &LoadBody,
) -> Result<Ret, Oops> {
    let name = k
        .scenario
        .modules
        .iter()
        .find(|m| m.file == file)
        .map(|m| m.name.clone())
        .unwrap_or_default();
    k.rec.fact(Fact::FinitStart {
        task: me,
        file,
        module: &name,
    });
    k.rec.event(me, syscall, || file.to_string());
    let (ret, role) = body(k, me, file)?;
    // Ghost, read without a lock: it only qualifies an -EINTR or
    // -ERESTARTSYS result, which the caller returns only after it saw the
    // signal under its task lock, where the ghost is written.
    let signalled = k.was_signalled(me);
    // success-means-live looks at the module list as the syscall returns,
    // as modprobe reading /sys/module/NAME/initstate would, after any
    // success or -EEXIST. It takes no conclusion of the model's at its word
    // (not the winner's "init succeeded, so LIVE", nor the name check's "it
    // saw LIVE"): it reads the list, so a bug that returns -EEXIST for a
    // COMING module is seen as one.
    //
    // Where the result was decided under module_mutex by this task (the
    // winner stored LIVE; the name check saw the module) or through a
    // completion fired after that store (an in-flight waiter no signal can
    // reach), and nothing takes a module off the list, it reads the ghost
    // list, which mirrors the list after every change
    // (`Kernel::ghost_module`): the list at this moment, under both engines,
    // without a lock that would add a scheduling point the kernel does not
    // have. Elsewhere the list can change between the decision and the
    // return in ways loom must see, so it reads the list under module_mutex,
    // as an engine operation: a waiter a signal can reach may return
    // without the completion (where the ret-starts-at-0 mutant hides), and
    // an rmmod actor can take the module off the list.
    let decided_under_the_lock = match role {
        FinitRole::Winner => ret == 0,
        FinitRole::NameCheck => ret == -EEXIST,
        FinitRole::IdemWaiter => !k.signals_possible(me),
        _ => false,
    };
    let state = if ret != 0 && ret != -EEXIST {
        None
    } else if decided_under_the_lock && !k.modules_can_go() {
        k.ghost_state(&name)
    } else {
        let list = k.module_mutex.lock();
        find_module_all(&list, &name).map(|m| m.state)
    };
    // Before v3.8 no module was ever seen UNFORMED (module::resolve_symbol).
    let state = match (k.variant.name_check(), state) {
        (crate::variant::NameCheck::AnyIsLoaded, Some(ModState::Unformed)) => {
            Some(ModState::Coming)
        }
        (_, state) => state,
    };
    k.rec.fact(Fact::FinitEnd {
        task: me,
        file,
        ret,
        role,
        signalled,
        state,
    });
    k.rec.event(me, syscall, || {
        format!("{file} returns {}", Recorder::ret(ret))
    });
    Ok(ret)
}

/// `exclusive_deny_write_access(file)` (9828ed3f695a):
/// `atomic_try_cmpxchg(&inode->i_writecount, &old = 0, -1) ? 0 : -ETXTBSY`.
pub fn exclusive_deny_write_access(k: &Kernel, me: TaskId, file: &str) -> Ret {
    let idx = k.scenario.file_index(file);
    let mut w = k.i_writecount.lock();
    let ok = w[idx].0 == 0;
    if ok {
        w[idx] = (-1, Some(me));
    } else if let Some(holder) = w[idx].1 {
        k.ghost_against(me, holder);
    }
    drop(w);
    k.rec.event(me, "exclusive_deny_write_access", || {
        if ok {
            format!("{file}: i_writecount 0 -> -1, exclusive")
        } else {
            format!("{file}: another load holds it: -ETXTBSY")
        }
    });
    if ok {
        0
    } else {
        -ETXTBSY
    }
}

/// `allow_write_access(file)`: `atomic_inc(&inode->i_writecount)`.
pub fn allow_write_access(k: &Kernel, file: &str) {
    let idx = k.scenario.file_index(file);
    let mut w = k.i_writecount.lock();
    w[idx].0 += 1;
    w[idx].1 = None;
}

/// `init_module_from_file()`: read the file (`kernel_read_file()`, a
/// vmalloc'ed image of the whole file), then `load_module()`, which frees
/// the image (`free_copy()`) before init runs or on its error paths.
pub fn init_module_from_file(
    k: &Arc<Kernel>,
    me: TaskId,
    file: &str,
) -> Result<(Ret, FinitRole), Oops> {
    let spec = k
        .scenario
        .modules
        .iter()
        .find(|m| m.file == file)
        .expect("validated scenario: every file belongs to a module");
    k.rec.fact(Fact::ImageRead { task: me, file });
    load_module(k, me, spec)
}

/// `load_module()`, the steps that matter for concurrency, in kernel order:
/// the name check (`early_mod_check`, folded into the next), `add_unformed_module`
/// (name check, UNFORMED on the list), `simplify_symbols` (`resolve_symbol_wait` per
/// dependency, while UNFORMED), `complete_formation` (COMING),
/// `do_init_module`. A failure after the module is on the list unlinks it
/// and wakes `module_wq` (`unlink_mod:`).
pub fn load_module(
    k: &Arc<Kernel>,
    me: TaskId,
    spec: &ModuleSpec,
) -> Result<(Ret, FinitRole), Oops> {
    let name = &spec.name;
    // early_mod_check() (v6.4, 064f4536d139) runs the same
    // module_patient_check_exists() as add_unformed_module() a little earlier,
    // with nothing of this load's own in between. The model runs the check
    // once, at add_unformed_module: a check whose moment is free within the
    // window has the same set of outcomes as two checks in it, and each
    // module_mutex section multiplies the interleavings to explore.
    let freed = || {
        k.rec.fact(Fact::ImageFreed {
            task: me,
            file: &spec.file,
        })
    };
    let ret = add_unformed_module(k, me, name, &spec.file);
    if ret != 0 {
        freed();
        return Ok((ret, FinitRole::NameCheck));
    }
    for dep in &spec.deps {
        let ret = resolve_symbol_wait(k, me, name, dep);
        if ret != 0 {
            if ret == -ENOENT {
                k.rec.printk(me, "simplify_symbols", || {
                    format!("{name}: Unknown symbol from {dep} (err -2)")
                });
            }
            unlink_mod(k, me, name);
            freed();
            return Ok((ret, FinitRole::Other));
        }
    }
    if k.variant.mutant() != Some(crate::variant::Mutant::SkipCompleteFormation) {
        complete_formation(k, me, name);
    }
    // free_copy(): the image is not needed once the module is formed.
    freed();
    Ok((do_init_module(k, me, spec)?, FinitRole::Winner))
}

/// `do_init_module()`: run init with no loader lock held. On success: LIVE,
/// then `wake_up_all(&module_wq)` after `mutex_unlock(&module_mutex)`. On
/// failure: GOING, `free_module()` (UNFORMED under `module_mutex`, then
/// unlinked), then `wake_up_all(&module_wq)`.
///
/// The kernel stores LIVE (and GOING) without `module_mutex`; the model
/// stores it under the lock. Every reader of the state takes the lock, so
/// the orders a reader can observe are the same.
pub fn do_init_module(k: &Arc<Kernel>, me: TaskId, spec: &ModuleSpec) -> Result<Ret, Oops> {
    let name = &spec.name;
    // coming-before-init: its monitor compares with the module's state as
    // the facts so far left it (this task made it COMING itself, in
    // complete_formation, unless a mutant skipped that).
    k.rec.fact(Fact::InitRuns {
        task: me,
        module: name,
    });
    k.rec
        .event(me, "do_init_module", || format!("runs {name}'s init"));
    let ret = run_init(k, me, spec)?;
    k.rec.fact(Fact::InitResult { ret });
    if ret == 0 {
        let mut list = k.module_mutex.lock();
        set_module_state(k, &mut list, name, ModState::Live);
        drop(list);
        k.rec.event(me, "do_init_module", || {
            format!("{name}: init returned 0; COMING -> LIVE; wake_up_all(module_wq)")
        });
        wake_up_live(k);
        Ok(0)
    } else {
        let mut list = k.module_mutex.lock();
        set_module_state(k, &mut list, name, ModState::Going);
        drop(list);
        k.rec.event(me, "do_init_module", || {
            format!(
                "{name}: init returned {}; COMING -> GOING",
                Recorder::ret(ret)
            )
        });
        free_module(k, name);
        if k.variant.mutant() == Some(crate::variant::Mutant::NoWakeOnFailedLoad) {
            k.rec.event(me, "free_module", || {
                format!("{name}: UNFORMED, unlinked; module_wq not woken (mutant)")
            });
        } else {
            k.rec.event(me, "free_module", || {
                format!("{name}: UNFORMED, unlinked; wake_up_all(module_wq)")
            });
            wake_up_failed_init(k);
        }
        Ok(ret)
    }
}

/// `wake_up_all(&module_wq)` in `do_init_module()` once the module is LIVE
/// (`kernel/module/main.c`, v6.4+): ends the name check's wait
/// (`module_patient_check_exists()`) and `resolve_symbol_wait()`'s for a
/// COMING provider. One function per wake-up, so that cargo-mutants'
/// "replace with ()" removes exactly this one (`.ci/wakeups`,
/// reports/wakeups.md).
fn wake_up_live(k: &Kernel) {
    k.module_wq.wake_up_all_if_active();
}

/// `wake_up_all(&module_wq)` after `free_module()` on `do_init_module()`'s
/// failure path (`fail_free_freeinit:`): ends the same two waits when the
/// module they waited for is gone. mutant-lost-wakeup is this removal as a
/// seeded bug.
fn wake_up_failed_init(k: &Kernel) {
    k.module_wq.wake_up_all_if_active();
}

/// The module's `init` function, as the scenario describes it.
pub fn run_init(k: &Arc<Kernel>, me: TaskId, spec: &ModuleSpec) -> Result<Ret, Oops> {
    for step in &spec.init {
        match step {
            InitStep::RequestModule { alias, required } => {
                let r = super::kmod::request_module(k, me, alias);
                if r != 0 && *required {
                    k.rec.event(me, "init", || {
                        format!("{}: no {alias}, init fails: -ENOENT", spec.name)
                    });
                    return Ok(-ENOENT);
                }
                k.rec.event(me, "init", || {
                    format!(
                        "{}: request_module({alias}) returned {}; carries on",
                        spec.name,
                        Recorder::ret(r)
                    )
                });
            }
            InitStep::RegisterAlg { alg, test_requests } => {
                let r = super::crypto::crypto_register_alg(k, me, alg, test_requests);
                if r != 0 {
                    return Ok(r);
                }
            }
            InitStep::Fail(e) => return Ok(-e),
            InitStep::Oops => {
                k.rec.event(me, "do_one_initcall", || {
                    format!(
                        "{}'s init: BUG: kernel NULL pointer dereference; Oops; make_task_dead(SIGSEGV): {} exits here, {} stays COMING",
                        spec.name,
                        k.name(me),
                        spec.name
                    )
                });
                return Err(Oops);
            }
        }
    }
    Ok(0)
}
