//! The in-flight table: `struct idempotent`, `idempotent()`,
//! `idempotent_complete()`, `idempotent_wait_for_completion()`,
//! `idempotent_init_module()` (`kernel/module/main.c`, added by 9b9879fc0327
//! in v6.5; the wait changed in cb5b81bc9a44 and 2124d84db293, v6.11-rc3).
//!
//! Each `struct idempotent` lives on its caller's stack. Its hash link, `ret`
//! and completion are written by the completer under `idem_lock` and read by
//! the owner without it; the model keeps them in `std` cells of an `Arc`
//! (the "stack frame"), and the hash chain itself in the engine lock.

use super::Kernel;
use crate::errno::{Ret, EDEADLK, EINTR};
use crate::primitives::{Completion, WaitMode, Woken};
use crate::trace::{FinitRole, Recorder, TaskId, WaitFor};
use crate::variant::{IdemWait, Mutant, RecursionPolicy};
use std::sync::{Arc, Mutex as StdMutex};

/// State of `struct hlist_node entry`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Link {
    /// `pprev == NULL`: never added, or removed with `hlist_del_init`.
    Unhashed,
    /// On the chain.
    Linked,
    /// Removed with `hlist_del`: `pprev = LIST_POISON2`, so `hlist_unhashed()`
    /// is false although the node is off the chain.
    Poisoned,
}

/// `struct idempotent`, on the caller's stack.
pub struct Idempotent {
    /// `cookie`: the file's inode (here the file's index).
    pub cookie: usize,
    /// The file, for the trace.
    pub file: String,
    /// The task whose stack holds it.
    pub owner: TaskId,
    /// `complete`.
    pub complete: Completion,
    /// `ret`: written by the completer under `idem_lock`, read by the owner
    /// without it. A plain cell: every read is ordered after the store by an
    /// engine operation (the completion, or the owner's own `idem_lock`
    /// section, after which the completer cannot reach the unlinked entry).
    pub ret: StdMutex<Ret>,
    /// `entry`.
    pub link: StdMutex<Link>,
    /// Ghost: the owner's `idempotent_init_module()` frame has returned, so
    /// this memory is gone (`idem-memory-safety`). Set by the owner; read by
    /// the completer under `idem_lock`, which the owner's last touch of the
    /// entry (its own unlink, or the completion it waited for) orders.
    pub returned: std::sync::atomic::AtomicBool,
}

impl Idempotent {
    fn link(&self) -> Link {
        *self.link.lock().unwrap_or_else(|e| e.into_inner())
    }
    fn set_link(&self, l: Link) {
        *self.link.lock().unwrap_or_else(|e| e.into_inner()) = l;
    }
    fn ret(&self) -> Ret {
        *self.ret.lock().unwrap_or_else(|e| e.into_inner())
    }
    fn set_ret(&self, r: Ret) {
        *self.ret.lock().unwrap_or_else(|e| e.into_inner()) = r;
    }
}

/// `idem_hash`: the linked entries, newest first (`hlist_add_head`). The
/// model uses one chain; the kernel's 256 buckets only split it by hash.
#[derive(Default)]
pub struct IdemHash {
    /// Linked entries.
    pub chain: Vec<Arc<Idempotent>>,
}

/// `idempotent(u, cookie)`: set `u->ret` (0 before 2124d84db293, `-EINTR`
/// after), link `u` under `idem_lock`, and report the owner of an entry with
/// the same cookie that was already there (`None`: we are the winner).
pub fn idempotent(k: &Kernel, me: TaskId, u: &Arc<Idempotent>) -> Option<TaskId> {
    let mut h = k.idem_lock.lock();
    let existing = h
        .chain
        .iter()
        .find(|e| e.cookie == u.cookie)
        .map(|e| e.owner);
    u.set_link(Link::Linked);
    h.chain.insert(0, u.clone());
    drop(h);
    let what = match existing {
        None => format!(
            "{}: no load in flight; links its entry and loads it",
            u.file
        ),
        Some(o) => format!(
            "{}: {}'s load is in flight; links its own entry and waits",
            u.file,
            k.name(o)
        ),
    };
    k.rec.event(me, "idempotent", what);
    existing
}

/// `idempotent_complete(u, ret)`: under `idem_lock`, unlink every entry with
/// `u`'s cookie (`hlist_del`, or `hlist_del_init` since 2124d84db293), store
/// `ret` in it and `complete()` it.
pub fn idempotent_complete(k: &Kernel, me: TaskId, u: &Arc<Idempotent>, ret: Ret) -> Ret {
    let mut h = k.idem_lock.lock();
    let (mine, rest): (Vec<_>, Vec<_>) = h.chain.drain(..).partition(|e| e.cookie == u.cookie);
    h.chain = rest;
    let unlinked = match (k.variant.idem_wait, k.variant.mutant) {
        (_, Some(Mutant::CompleterHlistDel)) => Link::Poisoned,
        (IdemWait::Interruptible, _) => Link::Unhashed,
        (IdemWait::Uninterruptible | IdemWait::TimeoutWarn, _) => Link::Poisoned,
    };
    let mut woken = Vec::new();
    for pos in &mine {
        if pos.returned.load(std::sync::atomic::Ordering::SeqCst) {
            let owner = k.name(pos.owner);
            k.rec.idem_unsafe(
                me,
                format!("idempotent_complete writes ret into {owner}'s entry after {owner} returned: its stack frame is gone"),
            );
        }
        pos.set_link(unlinked);
        pos.set_ret(ret);
        if pos.owner != me {
            woken.push(k.name(pos.owner));
        }
    }
    // complete(&pos->complete) for each, still under idem_lock.
    for pos in &mine {
        pos.complete.complete();
    }
    drop(h);
    k.rec.event(
        me,
        "idempotent_complete",
        format!(
            "{}: unlinks {} entr{}, stores {}, completes{}",
            u.file,
            mine.len(),
            if mine.len() == 1 { "y" } else { "ies" },
            Recorder::ret(ret),
            if woken.is_empty() {
                String::new()
            } else {
                format!(" (wakes {})", woken.join(", "))
            }
        ),
    );
    ret
}

/// `idempotent_wait_for_completion(u)` and its predecessors: the waiter's
/// side, one arm per [`IdemWait`], after the [`RecursionPolicy`] arm.
pub fn idempotent_wait_for_completion(
    k: &Kernel,
    me: TaskId,
    u: &Arc<Idempotent>,
    owner: TaskId,
) -> (Ret, FinitRole) {
    let owner_name = k.name(owner);
    k.ghost_against(me, owner);
    let why = || WaitFor {
        what: format!("the completion of {owner_name}'s load of {}", u.file),
        on: vec![owner],
    };
    if k.variant.recursion == RecursionPolicy::AncestryCheck && k.ancestry_of(me).contains(&owner) {
        // Proposal: the in-flight load belongs to a task that (through
        // request_module helpers) is waiting for us. Leave, do not wait.
        let mut h = k.idem_lock.lock();
        if u.link() == Link::Linked {
            u.set_link(Link::Unhashed);
            h.chain.retain(|e| !Arc::ptr_eq(e, u));
        }
        drop(h);
        k.rec.event(
            me,
            "idempotent_wait_for_completion",
            format!(
                "{} is being loaded by {owner_name}, which waits for this task: recursion, -EDEADLK",
                u.file
            ),
        );
        return (-EDEADLK, FinitRole::Recursion);
    }
    match k.variant.idem_wait {
        IdemWait::Uninterruptible => {
            // 9b9879fc0327: wait_for_completion(&idem.complete); return idem.ret;
            u.complete
                .wait(k, me, WaitMode::Uninterruptible, None, &why);
        }
        IdemWait::TimeoutWarn => {
            // cb5b81bc9a44: for (;;) { if (wait_for_completion_timeout(.., 10*HZ))
            // return idem.ret; pr_warn_once(...); }. After the one warning a
            // further slice changes nothing observable, so the model waits
            // out the rest untimed.
            let woken = u
                .complete
                .wait(k, me, WaitMode::Uninterruptible, Some("10 s"), &why);
            if woken == Woken::Timeout {
                k.rec.printk(
                    me,
                    "idempotent_init_module",
                    format!("module '{}' taking a long time to load", u.file),
                );
                u.complete
                    .wait(k, me, WaitMode::Uninterruptible, None, &why);
            }
        }
        IdemWait::Interruptible => {
            // 2124d84db293
            if u.complete.wait(k, me, WaitMode::Interruptible, None, &why) == Woken::Signal {
                // if (!hlist_unhashed(&u->entry)) hlist_del(&u->entry); under
                // idem_lock. A poisoned entry looks hashed: hlist_del() would
                // write through LIST_POISON2.
                let mut h = k.idem_lock.lock();
                match u.link() {
                    Link::Unhashed => {}
                    Link::Linked => {
                        u.set_link(Link::Poisoned);
                        h.chain.retain(|e| !Arc::ptr_eq(e, u));
                    }
                    Link::Poisoned => k.rec.idem_unsafe(
                        me,
                        format!("hlist_del on {}'s own entry, which idempotent_complete already unlinked with hlist_del (pprev = LIST_POISON2): unlinked twice", k.name(me)),
                    ),
                }
                drop(h);
                k.rec.event(
                    me,
                    "idempotent_wait_for_completion",
                    format!(
                        "interrupted; unlinks its own entry if still hashed; returns idem.ret = {}",
                        Recorder::ret(u.ret())
                    ),
                );
            }
        }
    }
    let ret = u.ret();
    k.rec.event(
        me,
        "idempotent_wait_for_completion",
        format!("returns {}'s result: {}", owner_name, Recorder::ret(ret)),
    );
    (ret, FinitRole::IdemWaiter)
}

/// `idempotent_init_module(f, uargs, flags)`: the winner loads and completes;
/// everyone else waits.
pub fn idempotent_init_module(k: &Arc<Kernel>, me: TaskId, file: &str) -> (Ret, FinitRole) {
    let initial = match (k.variant.idem_wait, k.variant.mutant) {
        (_, Some(Mutant::RetStartsAtZero)) => 0,
        (IdemWait::Interruptible, _) => -EINTR,
        (IdemWait::Uninterruptible | IdemWait::TimeoutWarn, _) => 0,
    };
    let u = Arc::new(Idempotent {
        cookie: k.scenario.file_index(file),
        file: file.to_string(),
        owner: me,
        complete: Completion::new(format!("the idempotent completion of {file}")),
        ret: StdMutex::new(initial),
        link: StdMutex::new(Link::Unhashed),
        returned: std::sync::atomic::AtomicBool::new(false),
    });
    let r = match idempotent(k, me, &u) {
        None => {
            let (ret, role) = super::main::init_module_from_file(k, me, file);
            (idempotent_complete(k, me, &u, ret), role)
        }
        Some(owner) => idempotent_wait_for_completion(k, me, &u, owner),
    };
    // The frame holding `struct idempotent idem` is gone.
    u.returned.store(true, std::sync::atomic::Ordering::SeqCst);
    r
}
