//! `__request_module()` (`kernel/kmod.c`; `kernel/module/kmod.c` since v6.4)
//! and its budget, one arm per [`KmodBudget`].

use super::Kernel;
use crate::errno::{Ret, ENOMEM, ERESTARTSYS, ETIME};
use crate::primitives::waitqueue::{sleep_until, Cond};
use crate::primitives::{WaitMode, Woken};
use crate::state::{Fingerprint, Fp};
use crate::trace::{Fact, Recorder, TaskId, WaitFor};
use crate::variant::{AutoloadDups, KmodBudget, Mutant};
use std::sync::Arc;

/// The budget's state, under the `kmod` lock (the kernel uses an atomic or
/// a semaphore; each test-and-change is one step here, as it is one atomic
/// operation there).
#[derive(Default, Debug, Clone)]
pub struct KmodState {
    /// Slots taken: `kmod_concurrent` (2008), `MAX_KMOD_CONCURRENT -
    /// kmod_concurrent_max` (throttle), or `max_modprobes` minus the
    /// semaphore's count. Signed: the 2017 throttle can give back a slot it
    /// never took.
    pub in_use: i64,
    /// `kmod_loop_msg`: how many "runaway loop" messages were printed (2008).
    pub kmod_loop_msg: u32,
    /// `dup_kmod_reqs` (`CONFIG_MODULE_DEBUG_AUTOLOAD_DUPS`): each name
    /// requested, who asked first, and the result once announced. Under
    /// `kmod_dup_mutex` in the kernel; under the budget's lock here.
    pub dups: Vec<DupRequest>,
}

/// One `struct kmod_dup_req`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DupRequest {
    /// The name requested.
    pub name: String,
    /// The first request's task.
    pub first: TaskId,
    /// `dup_ret`, once `kmod_dup_request_announce()` stored it
    /// (`first_req_done` completed).
    pub ret: Option<Ret>,
}

impl Fingerprint for DupRequest {
    fn fingerprint(&self, fp: &mut Fp<'_>) {
        self.name.fingerprint(fp);
        self.first.fingerprint(fp);
        self.ret.fingerprint(fp);
    }
}

impl Fingerprint for KmodState {
    fn fingerprint(&self, fp: &mut Fp<'_>) {
        self.in_use.fingerprint(fp);
        self.kmod_loop_msg.fingerprint(fp);
        self.dups.fingerprint(fp);
    }
}

/// Ghost: `me` took a kmod slot; `in_use` slots are now taken of `limit`.
fn ghost_take(k: &Kernel, me: TaskId, in_use: i64, limit: i64) {
    k.kmod_holders.write(|h| h.push(me));
    k.rec.fact(Fact::KmodTake { in_use, limit });
}

/// Ghost: `me` gave a kmod slot back; `in_use` are now taken.
fn ghost_put(k: &Kernel, me: TaskId, in_use: i64) {
    k.kmod_holders.write(|h| {
        if let Some(i) = h.iter().position(|t| *t == me) {
            h.remove(i);
        }
    });
    k.rec.fact(Fact::KmodPut { in_use });
}

/// Take a slot if one is free (`atomic_dec_if_positive(&kmod_concurrent_max)
/// >= 0`, or the fast path of `down()`): one step under the `kmod` lock.
fn try_take_slot(k: &Kernel, me: TaskId) -> bool {
    let limit = i64::from(k.scenario.kmod_limit);
    let mut g = k.kmod.lock();
    if g.in_use < limit {
        g.in_use += 1;
        let in_use = g.in_use;
        drop(g);
        ghost_take(k, me, in_use, limit);
        true
    } else {
        false
    }
}

/// Give a slot back (`atomic_dec(&kmod_concurrent)`, `atomic_inc(&kmod_concurrent_max);
/// wake_up(&kmod_wq)`, or `up()`).
fn put_slot(k: &Kernel, me: TaskId) {
    let in_use = {
        let mut g = k.kmod.lock();
        g.in_use -= 1;
        g.in_use
    };
    ghost_put(k, me, in_use);
    if k.variant.kmod() != KmodBudget::FailFast2008 {
        wake_up_kmod_wq(k);
    }
}

/// `wake_up(&kmod_wq)` (the throttle) or `up()`'s wake-up (the semaphore)
/// as a slot is given back: ends a request's wait for a slot (one function
/// per wake-up: `.ci/wakeups`, reports/wakeups.md).
fn wake_up_kmod_wq(k: &Kernel) {
    k.kmod_wq.wake_up_all_if_active();
}

/// Sleep on `kmod_wq` until a slot is free and taken (the slot is taken by
/// the condition itself, as `atomic_dec_if_positive` is in the kernel's).
fn wait_for_slot(k: &Kernel, me: TaskId, mode: WaitMode, timeout: Option<&'static str>) -> Woken {
    let limit = k.scenario.kmod_limit;
    let why = || WaitFor {
        what: format!("one of the {limit} kmod slots, all held"),
        on: k.kmod_holders.outside_view(Vec::clone),
    };
    sleep_until(
        k,
        me,
        &k.kmod_wq.clone(),
        mode,
        timeout,
        &why,
        Cond::Unlocked(&mut || try_take_slot(k, me)),
    )
}

/// The throttle's first warning: no slot free, the caller will wait.
fn throttling(k: &Kernel, me: TaskId, alias: &str) {
    k.rec.printk(me, "request_module", || {
        format!(
            "request_module: kmod_concurrent_max (0) close to 0 (max_modprobes: {}), for module {alias}, throttling...",
            k.scenario.kmod_limit
        )
    });
}

/// The bounded wait for a slot ran out (throttle-timeout, semaphore):
/// warn and return `-ETIME`.
fn kmod_busy(k: &Kernel, me: TaskId, alias: &str) -> Ret {
    k.rec.printk(me, "request_module", || {
        format!(
            "request_module: modprobe {alias} cannot be processed, kmod busy with {} threads for more than 5 seconds now",
            k.scenario.kmod_limit
        )
    });
    k.rec
        .event(me, "request_module", || format!("{alias}: returns -ETIME"));
    -ETIME
}

/// `__request_module(wait = true, "%s", alias)`: take a slot of the budget,
/// run modprobe as a usermode helper and wait for it (killable), give the
/// slot back. What it returns to its caller is reported as a fact
/// (`expected-results` checks it against what a scenario states).
pub fn request_module(k: &Arc<Kernel>, me: TaskId, alias: &str) -> Ret {
    let ret = request_module_body(k, me, alias);
    k.rec.fact(Fact::RequestReturn {
        task: me,
        alias,
        ret,
    });
    ret
}

/// The body of `__request_module()`, every return path of it.
fn request_module_body(k: &Arc<Kernel>, me: TaskId, alias: &str) -> Ret {
    k.rec.event(me, "request_module", || alias.to_string());
    let limit = k.scenario.kmod_limit;
    match k.variant.kmod() {
        KmodBudget::FailFast2008 => {
            // atomic_inc(&kmod_concurrent); if (atomic_read(&kmod_concurrent)
            // > max_modprobes) { if (kmod_loop_msg < 5) { printk(..); kmod_loop_msg++; }
            // atomic_dec(&kmod_concurrent); return -ENOMEM; }
            let over = {
                let mut g = k.kmod.lock();
                g.in_use += 1;
                if g.in_use > i64::from(limit) {
                    let leak = k.variant.mutant() == Some(Mutant::KmodNoDecOnError);
                    if leak {
                        k.rec.fact(Fact::KmodLeak { in_use: g.in_use });
                    } else {
                        g.in_use -= 1;
                    }
                    let print = g.kmod_loop_msg < 5;
                    g.kmod_loop_msg += 1;
                    Some(print)
                } else {
                    None
                }
            };
            match over {
                Some(print) => {
                    if print {
                        k.rec.printk(me, "request_module", || {
                            format!("request_module: runaway loop modprobe {alias}")
                        });
                    }
                    k.rec.event(me, "request_module", || {
                        if k.variant.mutant() == Some(Mutant::KmodNoDecOnError) {
                            format!("kmod_concurrent above max_modprobes ({limit}): -ENOMEM, without atomic_dec (mutant)")
                        } else {
                            format!("kmod_concurrent above max_modprobes ({limit}): -ENOMEM")
                        }
                    });
                    return -ENOMEM;
                }
                None => {
                    let in_use = k.kmod.lock().in_use;
                    ghost_take(k, me, in_use, i64::from(limit));
                }
            }
        }
        KmodBudget::Throttle => {
            if !try_take_slot(k, me) {
                throttling(k, me, alias);
                // wait_event_interruptible(): its result is not looked at. A
                // signal ends the wait without a slot, and the caller goes on
                // to run the helper and to give back a slot it never took.
                if wait_for_slot(k, me, WaitMode::Interruptible, None) == Woken::Signal {
                    k.rec.event(me, "request_module", || {
                        "wait for a kmod slot interrupted; goes on without one".into()
                    });
                }
            }
        }
        KmodBudget::ThrottleTimeout => {
            if !try_take_slot(k, me) {
                throttling(k, me, alias);
                match wait_for_slot(k, me, WaitMode::Killable, Some("5 s")) {
                    Woken::Condition => {}
                    Woken::Timeout => {
                        return kmod_busy(k, me, alias);
                    }
                    Woken::Signal => {
                        k.rec.printk(me, "request_module", || {
                            format!("request_module: sigkill sent for modprobe {alias}, giving up")
                        });
                        k.rec.event(me, "request_module", || {
                            format!("{alias}: returns -ERESTARTSYS")
                        });
                        return -ERESTARTSYS;
                    }
                }
            }
        }
        KmodBudget::Semaphore => {
            // down_timeout(): the fast path takes a free count; otherwise an
            // uninterruptible timed sleep until up() (the kernel hands the
            // count to the first waiter; here each woken waiter tries to take
            // it, which gives the same counts).
            if !try_take_slot(k, me)
                && wait_for_slot(k, me, WaitMode::Uninterruptible, Some("5 s")) == Woken::Timeout
            {
                return kmod_busy(k, me, alias);
            }
        }
    }
    if k.variant.autoload_dups() == AutoloadDups::WaitForFirst {
        if let Some(ret) = kmod_dup_request_exists_wait(k, me, alias) {
            put_slot(k, me);
            k.rec.event(me, "request_module", || {
                format!(
                    "{alias}: returns {} (the first request's)",
                    Recorder::ret(ret)
                )
            });
            return ret;
        }
    }
    let ret = super::umh::call_modprobe(k, me, alias);
    if k.variant.autoload_dups() == AutoloadDups::WaitForFirst {
        kmod_dup_request_announce(k, me, alias, ret);
    }
    put_slot(k, me);
    k.rec.event(me, "request_module", || {
        format!("{alias}: returns {}", Recorder::ret(ret))
    });
    ret
}

/// `kmod_dup_request_exists_wait(module_name, wait = true, &dup_ret)`
/// (kernel/module/dups.c, 8660484ed1cf): the first request for a name
/// records it and returns `None` (it runs modprobe); a duplicate warns and
/// waits killably for the first one's result, still holding its kmod slot:
/// `Some(dup_ret)`, or `Some(-ERESTARTSYS)` if killed.
fn kmod_dup_request_exists_wait(k: &Kernel, me: TaskId, alias: &str) -> Option<Ret> {
    let first = {
        let mut g = k.kmod.lock();
        match g.dups.iter().find(|d| d.name == alias) {
            Some(d) => d.first,
            None => {
                g.dups.push(DupRequest {
                    name: alias.to_string(),
                    first: me,
                    ret: None,
                });
                return None;
            }
        }
    };
    k.rec.printk(me, "kmod_dup_request_exists_wait", || {
        format!("module-autoload: duplicate request for module {alias}")
    });
    let announced = || {
        k.kmod
            .lock()
            .dups
            .iter()
            .find(|d| d.name == alias)
            .and_then(|d| d.ret)
    };
    let why = || WaitFor {
        what: format!(
            "{}'s request for {alias} to be announced (first_req_done)",
            k.name(first)
        ),
        on: vec![first],
    };
    let woken = sleep_until(
        k,
        me,
        &k.kmod_dup_wq.clone(),
        WaitMode::Killable,
        None,
        &why,
        Cond::Unlocked(&mut || announced().is_some()),
    );
    if woken == Woken::Signal {
        return Some(-ERESTARTSYS);
    }
    announced()
}

/// `kmod_dup_request_announce(module_name, ret)`: store the first request's
/// result and `complete_all(&first_req_done)`.
fn kmod_dup_request_announce(k: &Kernel, me: TaskId, alias: &str, ret: Ret) {
    {
        let mut g = k.kmod.lock();
        match g.dups.iter_mut().find(|d| d.name == alias && d.first == me) {
            Some(d) if d.ret.is_none() => d.ret = Some(ret),
            _ => return,
        }
    }
    wake_up_dup_waiters(k);
}

/// `complete_all(&kmod_req->first_req_done)` in
/// `kmod_dup_request_announce()` (`kernel/module/dups.c`, 8660484ed1cf):
/// ends the duplicate requests' wait (one function per wake-up:
/// `.ci/wakeups`, reports/wakeups.md).
fn wake_up_dup_waiters(k: &Kernel) {
    k.kmod_dup_wq.wake_up_all();
}

/// Whether a request for `alias` now would be answered from the stored
/// result of an earlier one (`CONFIG_MODULE_DEBUG_AUTOLOAD_DUPS`), without a
/// helper.
pub fn answered_from_cache(k: &Kernel, alias: &str) -> bool {
    k.variant.autoload_dups() == AutoloadDups::WaitForFirst
        && k.kmod
            .lock()
            .dups
            .iter()
            .any(|d| d.name == alias && d.ret.is_some())
}
