//! The module list, its name check, and symbol resolution for dependents
//! (`kernel/module/main.c`).

use super::Kernel;
use crate::errno::{Ret, EBUSY, EEXIST, ENOENT, ERESTARTSYS, EWOULDBLOCK};
use crate::primitives::waitqueue::{sleep_until, Cond};
use crate::primitives::{WaitMode, Woken};
use crate::state::{Fingerprint, Fp};
use crate::trace::{Fact, ModState, Recorder, TaskId, WaitFor};
use crate::variant::{IdemStorage, Mutant, NameCheck};

/// `struct module`, reduced: name, file, state, and the loading task (for
/// the wait-for graph).
#[derive(Clone, Debug)]
pub struct Module {
    /// `mod->name`.
    pub name: String,
    /// The file it was loaded from.
    pub file: String,
    /// `mod->state`.
    pub state: ModState,
    /// The task running `load_module()` for it.
    pub loader: TaskId,
    /// The modules it holds a reference on, one per import resolved
    /// (`ref_module()` → `add_module_usage()`: this module on the
    /// provider's `source_list`). Dropped with it (`module_unload_free()`).
    pub uses: Vec<String>,
}

impl Fingerprint for Module {
    fn fingerprint(&self, fp: &mut Fp<'_>) {
        self.name.fingerprint(fp);
        self.file.fingerprint(fp);
        self.state.fingerprint(fp);
        self.loader.fingerprint(fp);
        self.uses.fingerprint(fp);
    }
}

/// `find_module_all(name, len, even_unformed = true)`.
pub fn find_module_all<'a>(list: &'a [Module], name: &str) -> Option<&'a Module> {
    list.iter().find(|m| m.name == name)
}

/// Set a module's state under `module_mutex` (the caller holds it) and
/// mirror it into ghost state.
///
/// Fact: COMING is the window in which init runs (set by
/// `complete_formation`, left for LIVE or GOING by `do_init_module`); the
/// count of modules of one name in it feeds `init-at-most-once`.
pub fn set_module_state(k: &Kernel, list: &mut [Module], name: &str, state: ModState) {
    let mut old = None;
    if let Some(m) = list.iter_mut().find(|m| m.name == name && m.state != state) {
        old = Some(m.state);
        m.state = state;
    }
    k.ghost_module(list, name);
    k.rec.fact(Fact::Transition {
        name,
        old,
        new: state,
    });
}

/// `finished_loading(name)`: takes `module_mutex`; true when the module is
/// absent, LIVE or GOING (before 6e6de3dee51a, and again from 0254127ab977,
/// v6.2), or absent or LIVE (6e6de3dee51a, v5.3, to v6.1).
pub fn finished_loading(k: &Kernel, name: &str) -> bool {
    let list = k.module_mutex.lock();
    match find_module_all(&list, name) {
        None => true,
        Some(m) => match (k.variant.name_check(), m.state) {
            (_, ModState::Live) => true,
            (
                NameCheck::AnyIsLoaded | NameCheck::GoingIsLoaded | NameCheck::Patient,
                ModState::Going,
            ) => true,
            (NameCheck::WaitAndRetry, ModState::Going) => false,
            (_, ModState::Unformed | ModState::Coming) => false,
        },
    }
}

/// `module_patient_check_exists(name, reason)` (f71afa6a4201, v6.4; the same
/// logic was inline in `add_unformed_module` from 0254127ab977, v6.2).
///
/// Called with `module_mutex` held (`list` is its guard); may drop and retake
/// it around an interruptible wait on `module_wq`. Returns the guard and 0,
/// `-EEXIST` (old is LIVE), `-EBUSY` (old GOING, or gone after the wait), or
/// `-ERESTARTSYS` (signal during the wait). No retry after the wait.
///
/// Before v6.2 the same check was inline in `add_unformed_module()`, with
/// `goto again` after the wait ([`NameCheck`]): the check starts over, and
/// a waiter whose module went away loads it itself. Before v5.3 a GOING
/// module gave `-EEXIST` at once.
pub fn module_patient_check_exists<'a>(
    k: &'a Kernel,
    me: TaskId,
    list: crate::sync::MutexGuard<'a, Vec<Module>>,
    name: &str,
    caller: &'static str,
) -> (crate::sync::MutexGuard<'a, Vec<Module>>, Ret) {
    let mut list = list;
    let policy = k.variant.name_check();
    // `again:` (before v6.2); one pass from v6.2.
    let mut waited = false;
    let old = loop {
        let Some(old) = find_module_all(&list, name).cloned() else {
            if waited {
                // The load it waited for went away: this task loads the
                // module itself, and runs its init again.
                k.rec.fact(Fact::LoadsAfterWaiting { task: me });
                k.rec.event(me, caller, || {
                    format!("{name} is gone: loads it itself (a second attempt)")
                });
            }
            return (list, 0);
        };
        let mut old = Some(old);
        let coming_is_loaded = k.variant.mutant() == Some(Mutant::ComingIsLoaded);
        if let Some(o) = &old {
            let loading = match (policy, o.state) {
                (NameCheck::AnyIsLoaded, _) => false,
                (_, ModState::Unformed) => true,
                (_, ModState::Coming) => !coming_is_loaded,
                (NameCheck::WaitAndRetry, ModState::Going) => true,
                (NameCheck::GoingIsLoaded | NameCheck::Patient, ModState::Going) => false,
                (_, ModState::Live) => false,
            };
            if loading {
                let loader = o.loader;
                k.ghost_against(me, loader);
                let state = o.state;
                k.rec.event(me, caller, || {
                    format!(
                    "{name} is already {} (loaded by {}): drops module_mutex, waits on module_wq",
                    state.name(),
                    k.name(loader)
                )
                });
                drop(list);
                let woken = sleep_until(
                    k,
                    me,
                    &k.module_wq,
                    WaitMode::Interruptible,
                    None,
                    &|| WaitFor {
                        what: format!("{}'s load of {name} to finish (module_wq)", k.name(loader)),
                        on: vec![loader],
                    },
                    Cond::Unlocked(&mut || finished_loading(k, name)),
                );
                list = k.module_mutex.lock();
                if woken == Woken::Signal {
                    k.rec.event(me, caller, || {
                        "wait_event_interruptible on module_wq broken by a signal: -ERESTARTSYS"
                            .into()
                    });
                    return (list, -ERESTARTSYS);
                }
                if policy.retries() {
                    // `goto again`: the check from the top, under the lock.
                    k.rec
                        .event(me, caller, || "woken: looks again (goto again)".into());
                    waited = true;
                    continue;
                }
                // "The module might have gone in the meantime." The struct the
                // waiter saw is the one with the same loader and file.
                let again = find_module_all(&list, name).cloned();
                let seen = old.take().expect("set above");
                let same = again
                    .as_ref()
                    .filter(|m| m.loader == seen.loader && m.file == seen.file);
                if same.is_none() {
                    k.rec.fact(Fact::ModuleGoneAfterWait);
                }
                old = if k.variant.mutant() == Some(Mutant::NoRelookupAfterWait) {
                    // old->state through the pointer from before the wait.
                    match same {
                        Some(m) => Some(m.clone()),
                        None => {
                            let what = format!(
                            "{} reads old->state of {name} after its wait, but {}'s struct module was freed by free_module(): a use-after-free",
                            k.name(me),
                            k.name(seen.loader)
                        );
                            k.rec.violation_step(me, "module-memory-safety", &what);
                            k.rec.fact(Fact::ModuleUnsafe { what: &what });
                            // Freed memory keeps what free_module() last stored.
                            Some(Module {
                                state: ModState::Unformed,
                                ..seen
                            })
                        }
                    }
                } else {
                    again
                };
            }
        }
        break old;
    };
    if let Some(o) = &old {
        k.ghost_against(me, o.loader);
    }
    let coming_is_loaded = k.variant.mutant() == Some(Mutant::ComingIsLoaded);
    let ret = match &old {
        Some(o) if o.state == ModState::Live => -EEXIST,
        Some(o) if coming_is_loaded && o.state == ModState::Coming => -EEXIST,
        Some(o) if policy == NameCheck::GoingIsLoaded && o.state == ModState::Going => -EEXIST,
        Some(_) if policy == NameCheck::AnyIsLoaded => -EEXIST,
        _ => -EBUSY,
    };
    let state = old.as_ref().map_or("gone", |o| o.state.name());
    k.rec.event(me, caller, || {
        format!("{name} is {state}: {}", Recorder::ret(ret))
    });
    (list, ret)
}

/// `add_unformed_module()`: state UNFORMED, the name check again, then
/// `list_add_rcu` onto `modules`, all under `module_mutex`.
pub fn add_unformed_module(k: &Kernel, me: TaskId, name: &str, file: &str) -> Ret {
    let list = k.module_mutex.lock();
    let (mut list, ret) = module_patient_check_exists(k, me, list, name, "add_unformed_module");
    if ret != 0 {
        return ret;
    }
    list.push(Module {
        name: name.to_string(),
        file: file.to_string(),
        state: ModState::Unformed,
        loader: me,
        uses: Vec::new(),
    });
    k.ghost_module(&list, name);
    k.rec.event(me, "add_unformed_module", || {
        format!("{name} added to modules: UNFORMED")
    });
    0
}

/// `complete_formation()`: UNFORMED → COMING under `module_mutex`.
pub fn complete_formation(k: &Kernel, me: TaskId, name: &str) {
    let mut list = k.module_mutex.lock();
    set_module_state(k, &mut list, name, ModState::Coming);
    k.rec.event(me, "complete_formation", || {
        format!("{name}: UNFORMED -> COMING")
    });
}

/// `free_module()`, the part the loader's concurrency sees: UNFORMED under
/// `module_mutex`, then, in a second section, `list_del_rcu` off `modules`.
/// The caller wakes `module_wq` after it (`do_init_module()`'s failure path,
/// `delete_module()`).
pub fn free_module(k: &Kernel, name: &str) {
    let mut list = k.module_mutex.lock();
    set_module_state(k, &mut list, name, ModState::Unformed);
    drop(list);
    let mut list = k.module_mutex.lock();
    list.retain(|m| m.name != name);
    k.ghost_module(&list, name);
    drop(list);
}

/// `SYSCALL_DEFINE2(delete_module, name, flags)` (`kernel/module/main.c`,
/// v6.4+): `rmmod NAME` passes `O_NONBLOCK`, `rmmod -f NAME` (`force`)
/// `O_NONBLOCK | O_TRUNC` (kmod's `tools/rmmod.c`), with the heap
/// proposal's arm ([`IdemStorage`]; patches 2/6 and 5/6 of "module: enable
/// force unloading of modules that have crashed during init").
///
/// Under `module_mutex`: `find_module()` (UNFORMED is skipped: `-ENOENT`);
/// another module using it (`source_list`) gives `-EWOULDBLOCK`; a module
/// that is not LIVE gives `-EBUSY` ("Doing init or already dying?"), except
/// that the proposal lets a COMING module through when its init task is
/// gone (`get_pid_task(mod->init_pid)` finds nothing). `try_stop_module()`:
/// the reference count is not zero for a crashed init (the initial
/// reference is never dropped), so O_TRUNC forces it
/// (`try_force_unload()`, taints the kernel); GOING. Then, without the
/// mutex: `mod->exit()` (nothing the model sees), the proposal's
/// `idempotent_complete(mod->idempotent, -EBUSY)`, `free_module()`,
/// `wake_up_all(&module_wq)`.
///
/// Assumed: the module has an exit function (otherwise `try_force_unload()`
/// decides earlier, with the same outcome under O_TRUNC); `source_list` is
/// the importers' `uses` (each resolved import); the reference count is not modelled otherwise: a LIVE module nothing
/// imports from has none (modprobe's load drops the initial reference,
/// and no scenario opens a device of the module), so `try_stop_module()`
/// stops it without O_TRUNC too. The crashed-init arm of the proposal
/// needs O_TRUNC (its `try_force_unload()`).
pub fn delete_module(k: &Kernel, me: TaskId, name: &str, force: bool) -> Ret {
    let ret = delete_module_locked(k, me, name, force);
    k.rec.fact(Fact::DeleteModuleReturn {
        task: me,
        module: name,
        ret,
    });
    ret
}

fn delete_module_locked(k: &Kernel, me: TaskId, name: &str, force: bool) -> Ret {
    let flags = if force {
        "O_NONBLOCK | O_TRUNC"
    } else {
        "O_NONBLOCK"
    };
    let mut list = k.module_mutex.lock();
    let found = find_module_all(&list, name)
        .filter(|m| m.state != ModState::Unformed)
        .cloned();
    let refuse = |list: crate::sync::MutexGuard<'_, Vec<Module>>, ret: Ret, why: String| {
        drop(list);
        k.rec.event(me, "delete_module", || {
            format!("{name} ({flags}): {why}: {}", Recorder::ret(ret))
        });
        ret
    };
    let Some(m) = found else {
        return refuse(list, -ENOENT, "not loaded".into());
    };
    // `!list_empty(&mod->source_list)`: a module that resolved an import
    // from it holds a reference.
    let user = list
        .iter()
        .find(|o| o.name != name && o.uses.iter().any(|u| u == name));
    if let Some(user) = user {
        let why = format!("{} uses it", user.name);
        return refuse(list, -EWOULDBLOCK, why);
    }
    let mut crashed = false;
    match (m.state, k.variant.idem_storage()) {
        (ModState::Live, _) => {}
        (ModState::Coming, IdemStorage::HeapForceUnload) if force && k.has_exited(m.loader) => {
            crashed = true;
        }
        (ModState::Coming, IdemStorage::HeapForceUnload) if force => {
            let why = format!("COMING, and its init task {} is alive", k.name(m.loader));
            return refuse(list, -EBUSY, why);
        }
        (state, _) => {
            let why = format!("{} (doing init or already dying)", state.name());
            return refuse(list, -EBUSY, why);
        }
    }
    set_module_state(k, &mut list, name, ModState::Going);
    drop(list);
    k.rec.event(me, "delete_module", || {
        format!(
            "{name} ({flags}): try_stop_module {}{}: {} -> GOING",
            if force { "forces it" } else { "stops it" },
            if crashed {
                format!(", its init task {} being dead", k.name(m.loader))
            } else {
                String::new()
            },
            m.state.name()
        )
    });
    if crashed {
        super::idempotent::complete_crashed_load(k, me, &m.file, m.loader, -EBUSY);
    }
    free_module(k, name);
    k.rec.event(me, "free_module", || {
        format!("{name}: UNFORMED, unlinked; wake_up_all(module_wq)")
    });
    wake_up_unloaded(k);
    0
}

/// `delete_module()`'s `wake_up_all(&module_wq)` after `free_module()`: ends
/// the name check's wait of a load that met the module GOING (one function
/// per wake-up: `.ci/wakeups`, reports/wakeups.md).
fn wake_up_unloaded(k: &Kernel) {
    k.module_wq.wake_up_all_if_active();
}

/// The unlink on `load_module()`'s error paths (`unlink_mod:`): `list_del_rcu`
/// and `wake_up_all(&module_wq)` with `module_mutex` still held.
pub fn unlink_mod(k: &Kernel, me: TaskId, name: &str) {
    let mut list = k.module_mutex.lock();
    list.retain(|m| m.name != name);
    k.ghost_module(&list, name);
    k.rec.event(me, "load_module", || {
        format!("unlink_mod: {name} removed from modules")
    });
    wake_up_unlinked(k);
    drop(list);
}

/// `unlink_mod:`'s `wake_up_all(&module_wq)`: ends the name check's wait of
/// a load that met the failed load UNFORMED or COMING (one function per
/// wake-up: `.ci/wakeups`, reports/wakeups.md).
fn wake_up_unlinked(k: &Kernel) {
    k.module_wq.wake_up_all_if_active();
}

/// `resolve_symbol()` for an import of `module` from `provider`: under
/// `module_mutex`, `find_symbol` skips UNFORMED modules (unknown symbol,
/// `-ENOENT`); `ref_module` → `strong_try_module_get` gives `-EBUSY` for
/// COMING, `-ENOENT` for GOING, and for LIVE takes the reference
/// (`add_module_usage`: `module` joins the provider's `source_list`) and 0.
pub fn resolve_symbol(k: &Kernel, module: &str, provider: &str) -> Ret {
    let mut list = k.module_mutex.lock();
    // Before 1fb9341ac348 (v3.8) a module went on the list COMING, its
    // symbols searchable, under the module_mutex its load held from the
    // name check on: the model's UNFORMED step is invisible there, and a
    // provider in it is found as COMING would be (assumed, docs/kernel.md §3).
    let pre_unformed = k.variant.name_check() == NameCheck::AnyIsLoaded;
    match find_module_all(&list, provider).map(|m| m.state) {
        None => -ENOENT,
        Some(ModState::Unformed) if !pre_unformed => -ENOENT,
        Some(ModState::Unformed | ModState::Coming) => {
            k.rec.fact(Fact::ResolvedAgainstComing);
            if k.variant.mutant() == Some(Mutant::ResolveComingAsLive) {
                0
            } else {
                -EBUSY
            }
        }
        Some(ModState::Live) => {
            if let Some(m) = list.iter_mut().find(|m| m.name == module) {
                if !m.uses.iter().any(|u| u == provider) {
                    m.uses.push(provider.to_string());
                }
            }
            0
        }
        Some(ModState::Going) => -ENOENT,
    }
}

/// `resolve_symbol_wait()`: while the provider is COMING, wait
/// interruptibly on `module_wq`, up to 30 s ("gave up waiting for init of
/// module %s"); the result is the last `resolve_symbol` result.
pub fn resolve_symbol_wait(k: &Kernel, me: TaskId, module: &str, provider: &str) -> Ret {
    let mut last = resolve_symbol(k, module, provider);
    if last == -EBUSY {
        let loader = {
            let list = k.module_mutex.lock();
            find_module_all(&list, provider).map_or(me, |m| m.loader)
        };
        let woken = sleep_until(
            k,
            me,
            &k.module_wq,
            WaitMode::Interruptible,
            Some("30 s"),
            &|| WaitFor {
                what: format!(
                    "{provider} (COMING, init run by {}) to go LIVE",
                    k.name(loader)
                ),
                on: vec![loader],
            },
            Cond::Unlocked(&mut || {
                last = resolve_symbol(k, module, provider);
                last != -EBUSY
            }),
        );
        if woken != Woken::Condition {
            k.rec.printk(me, "resolve_symbol_wait", || {
                format!("{module}: gave up waiting for init of module {provider}.")
            });
        }
    }
    k.rec.event(me, "resolve_symbol_wait", || {
        format!("{module} imports from {provider}: {}", Recorder::ret(last))
    });
    last
}
