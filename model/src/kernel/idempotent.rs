//! The in-flight table: `struct idempotent`, `idempotent()`,
//! `idempotent_complete()`, `idempotent_wait_for_completion()`,
//! `idempotent_init_module()` (`kernel/module/main.c`, added by 9b9879fc0327
//! in v6.5; the wait changed in cb5b81bc9a44 and 2124d84db293, v6.11-rc3).
//!
//! Each `struct idempotent` lives on its caller's stack (the 2025 heap
//! proposal `kmalloc`s it: [`IdemStorage`]). Its hash link, `ret`
//! and completion are written by the completer under `idem_lock` and read by
//! the owner without it; the model keeps them in [`Plain`] memory of an
//! `Arc` (the "stack frame"), and the hash chain itself in the engine lock.

use super::{Kernel, Oops};
use crate::errno::{Ret, EDEADLK, EINTR, ETIMEDOUT};
use crate::primitives::{Completion, WaitMode, Woken};
use crate::state::{Fingerprint, Fp};
use crate::sync::Plain;
use crate::trace::{Fact, FinitRole, Recorder, TaskId, WaitFor};
use crate::variant::{IdemStorage, IdemWait, Mutant, RecursionPolicy};
use std::sync::Arc;

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

impl Fingerprint for Link {
    fn fingerprint(&self, fp: &mut Fp<'_>) {
        fp.tok(*self as u64);
    }
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
    /// without it. Plain memory: every read is ordered after the store by an
    /// engine operation (the completion, or the owner's own `idem_lock`
    /// section, after which the completer cannot reach the unlinked entry).
    pub ret: Plain<Ret>,
    /// `entry`. Every kernel access is under `idem_lock`, which orders
    /// them, so plain memory does.
    pub link: Plain<Link>,
    /// The link words as an engine object, so that each read or write of
    /// them is a step the engines order: only for the self-unlink mutant,
    /// which reads and then writes them without `idem_lock`. Elsewhere the
    /// extra steps would only multiply the interleavings (measured: idempotent
    /// × concurrent-same-file-3 went from 47,201 to 80,474 executions).
    pub word: Option<crate::sync::Mutex<()>>,
    /// Ghost: the owner's `idempotent_init_module()` frame has returned, so
    /// this memory is gone (`idem-memory-safety`). Set by the owner; read by
    /// the completer under `idem_lock`, which the owner's last touch of the
    /// entry (its own unlink, or the completion it waited for) orders.
    pub returned: Plain<bool>,
}

/// An entry, where the chain refers to it: its identity, cookie and owner.
impl Fingerprint for Idempotent {
    fn fingerprint(&self, fp: &mut Fp<'_>) {
        fp.obj(self.link.id());
        self.cookie.fingerprint(fp);
        self.owner.fingerprint(fp);
    }
}

impl Idempotent {
    fn link(&self) -> Link {
        let _w = self.word.as_ref().map(crate::sync::Mutex::lock);
        self.link.get()
    }
    fn set_link(&self, l: Link) {
        let _w = self.word.as_ref().map(crate::sync::Mutex::lock);
        self.link.set(l);
    }
    fn ret(&self) -> Ret {
        self.ret.get()
    }
    fn set_ret(&self, r: Ret) {
        self.ret.set(r);
    }
    fn is_returned(&self) -> bool {
        self.returned.get()
    }
    fn set_returned(&self) {
        self.returned.set(true);
    }
}

/// `idem_hash`: the linked entries, newest first (`hlist_add_head`). The
/// model uses one chain; the kernel's 256 buckets only split it by hash.
#[derive(Default)]
pub struct IdemHash {
    /// Linked entries.
    pub chain: Vec<Arc<Idempotent>>,
}

impl Fingerprint for IdemHash {
    fn fingerprint(&self, fp: &mut Fp<'_>) {
        self.chain.fingerprint(fp);
    }
}

/// A load in flight, as `idempotent()` met it.
#[derive(Clone, Copy, Debug)]
pub struct InFlight {
    /// The owner of the first entry with the cookie on the chain (the
    /// newest: `hlist_add_head`): what the kernel's walk stops at. It may
    /// be another waiter.
    pub first: TaskId,
    /// Ghost: the owner of the oldest entry, the task running the load.
    /// The wait-for graph and `consistent-result` compare with it.
    pub loader: TaskId,
}

/// `idempotent(u, cookie)`: set `u->ret` (0 before 2124d84db293, `-EINTR`
/// after), link `u` under `idem_lock`, and report the entries with the
/// same cookie that were already there (`None`: we are the winner).
pub fn idempotent(k: &Kernel, me: TaskId, u: &Arc<Idempotent>) -> Option<InFlight> {
    let mut h = k.idem_lock.lock();
    // hlist_for_each_entry(existing, head, entry): reads each entry's
    // cookie, newest first, up to the first with this cookie, or all of
    // them. The bucket is `hash_ptr(cookie, IDEM_HASH_BITS)`; the model puts
    // every file in one bucket, as two files whose inodes hash alike share
    // one (assumed: the worst case of the 256 buckets), so the walk reads
    // other files' entries too.
    for e in h.chain.iter() {
        if e.is_returned() {
            let owner = k.name(e.owner);
            let whose = if e.cookie == u.cookie {
                format!("{owner}'s entry for {}", u.file)
            } else {
                format!(
                    "{owner}'s entry for {} (another file in the same idem_hash bucket)",
                    e.file
                )
            };
            idem_unsafe(
                k,
                me,
                &format!("idempotent() for {} reads {whose}, but {owner}'s frame is gone (its task died in init): a pointer into a dead stack", u.file),
            );
            break;
        }
        if e.cookie == u.cookie {
            break;
        }
    }
    let first = h.chain.iter().find(|e| e.cookie == u.cookie);
    let existing = first.map(|e| InFlight {
        first: e.owner,
        loader: h
            .chain
            .iter()
            .rev()
            .find(|e| e.cookie == u.cookie)
            .map_or(e.owner, |l| l.owner),
    });
    // hlist_add_head(&u->entry, idem_hash + hash); the mutant does it only
    // for the first of a cookie.
    let link = existing.is_none() || k.variant.mutant() != Some(Mutant::WaiterNotLinked);
    if link {
        u.set_link(Link::Linked);
        h.chain.insert(0, u.clone());
    }
    drop(h);
    k.rec.event(me, "idempotent", || match existing {
        None => format!(
            "{}: no load in flight; links its entry and loads it",
            u.file
        ),
        Some(o) if link => format!(
            "{}: {}'s load is in flight; links its own entry and waits",
            u.file,
            k.name(o.loader)
        ),
        Some(o) => format!(
            "{}: {}'s load is in flight; waits, its own entry not linked (mutant)",
            u.file,
            k.name(o.loader)
        ),
    });
    existing
}

/// Report an in-flight table memory-safety violation, and its step.
fn idem_unsafe(k: &Kernel, me: TaskId, what: &str) {
    k.rec.violation_step(me, "idem-memory-safety", what);
    k.rec.fact(Fact::IdemUnsafe { what });
}

/// `idempotent_complete(u, ret)`: under `idem_lock`, unlink every entry with
/// `u`'s cookie (`hlist_del`, or `hlist_del_init` since 2124d84db293), store
/// `ret` in it and `complete()` it.
pub fn idempotent_complete(k: &Kernel, me: TaskId, u: &Arc<Idempotent>, ret: Ret) -> Ret {
    complete_cookie(k, me, u.cookie, &u.file, ret);
    ret
}

/// The heap proposal's `idempotent_complete(mod->idempotent, -EBUSY)` in
/// `delete_module()` for a module whose init task died: complete every
/// entry of the file, then `kfree()` the dead loader's own entry (patch 4/6
/// frees it at the end of `idempotent_complete()`).
pub fn complete_crashed_load(k: &Kernel, me: TaskId, file: &str, loader: TaskId, ret: Ret) {
    let mine = complete_cookie(k, me, k.scenario.file_index(file), file, ret);
    if let Some(u) = mine.iter().find(|e| e.owner == loader) {
        // Unlinked above, so nothing can reach it: a plain store.
        u.set_returned();
        k.rec.event(me, "idempotent_complete", || {
            format!("kfree({}'s struct idempotent)", k.name(loader))
        });
    }
}

/// The body of `idempotent_complete()`: returns the entries it unlinked.
fn complete_cookie(
    k: &Kernel,
    me: TaskId,
    cookie: usize,
    file: &str,
    ret: Ret,
) -> Vec<Arc<Idempotent>> {
    let mut h = k.idem_lock.lock();
    let (mut mine, mut rest): (Vec<_>, Vec<_>) =
        h.chain.drain(..).partition(|e| e.cookie == cookie);
    if k.variant.mutant() == Some(Mutant::CompleteFirstOnly) && mine.len() > 1 {
        // The walk breaks after the first entry (the newest: hlist_add_head).
        rest.extend(mine.drain(1..));
    }
    h.chain = rest;
    let unlinked = match (k.variant.idem_wait(), k.variant.mutant()) {
        (_, Some(Mutant::CompleterHlistDel)) => Link::Poisoned,
        (IdemWait::Interruptible | IdemWait::KillableTimeout, _) => Link::Unhashed,
        (IdemWait::Uninterruptible | IdemWait::TimeoutWarn, _) => Link::Poisoned,
    };
    let mut woken = Vec::new();
    for pos in &mine {
        if pos.is_returned() {
            let owner = k.name(pos.owner);
            idem_unsafe(
                k,
                me,
                &format!("idempotent_complete writes ret into {owner}'s entry after {owner} returned: its stack frame is gone"),
            );
        }
        pos.set_link(unlinked);
        pos.set_ret(ret);
        // (A dead owner's completion wakes nobody: for the trace only.)
        if pos.owner != me && k.rec.for_trace(|| !k.has_exited(pos.owner)) == Some(true) {
            woken.push(k.name(pos.owner));
        }
    }
    complete_each(&mine);
    drop(h);
    k.rec.event(me, "idempotent_complete", || {
        format!(
            "{}: unlinks {} entr{}, stores {}, completes{}",
            file,
            mine.len(),
            if mine.len() == 1 { "y" } else { "ies" },
            Recorder::ret(ret),
            if woken.is_empty() {
                String::new()
            } else {
                format!(" (wakes {})", woken.join(", "))
            }
        )
    });
    mine
}

/// `complete(&pos->complete)` for each entry `idempotent_complete()`
/// unlinked, still under `idem_lock`: ends each waiter's
/// `idempotent_wait_for_completion()` (one function per wake-up:
/// `.ci/wakeups`, reports/wakeups.md).
fn complete_each(mine: &[Arc<Idempotent>]) {
    for pos in mine {
        pos.complete.complete();
    }
}

/// `idempotent_wait_for_completion(u)` and its predecessors: the waiter's
/// side, one arm per [`IdemWait`], after the [`RecursionPolicy`] arm.
pub fn idempotent_wait_for_completion(
    k: &Kernel,
    me: TaskId,
    u: &Arc<Idempotent>,
    in_flight: InFlight,
) -> (Ret, FinitRole) {
    let owner = in_flight.loader;
    let owner_name = || k.name(owner);
    k.ghost_against(me, owner);
    let why = || WaitFor {
        what: format!("the completion of {}'s load of {}", owner_name(), u.file),
        on: vec![owner],
    };
    let recursive = match k.variant.recursion() {
        _ if k.variant.mutant() == Some(Mutant::RecursionAnyLoad) => true,
        RecursionPolicy::Blind => false,
        // The owner of the entry the walk found (the finding: possibly a
        // waiter, not the loader).
        RecursionPolicy::AncestryCheck => k.ancestry_of(me).contains(&in_flight.first),
        RecursionPolicy::AncestryCheckEveryEntry => {
            let ancestry = k.ancestry_of(me);
            let h = k.idem_lock.lock();
            h.chain
                .iter()
                .any(|e| e.cookie == u.cookie && e.owner != me && ancestry.contains(&e.owner))
        }
    };
    if recursive {
        // Proposal: the in-flight load belongs to a task that (through
        // request_module helpers) is waiting for us. Leave, do not wait.
        let mut h = k.idem_lock.lock();
        if u.link() == Link::Linked {
            u.set_link(Link::Unhashed);
            h.chain.retain(|e| !Arc::ptr_eq(e, u));
        }
        drop(h);
        k.rec.event(me, "idempotent_wait_for_completion", || {
            format!(
                "{} is being loaded by {}, which waits for this task: recursion, -EDEADLK",
                u.file,
                owner_name()
            )
        });
        return (-EDEADLK, FinitRole::Recursion);
    }
    // The mutant reads idem.ret before it waits.
    let early = (k.variant.mutant() == Some(Mutant::RetReadBeforeWait)).then(|| u.ret());
    match k.variant.idem_wait() {
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
                k.rec.printk(me, "idempotent_init_module", || {
                    format!("module '{}' taking a long time to load", u.file)
                });
                u.complete
                    .wait(k, me, WaitMode::Uninterruptible, None, &why);
            }
        }
        IdemWait::KillableTimeout => {
            // Proposal idem-timeout: wait_for_completion_killable_timeout(.., 30 * HZ).
            let woken = u
                .complete
                .wait(k, me, WaitMode::Killable, Some("30 s"), &why);
            if woken != Woken::Condition {
                let mut h = k.idem_lock.lock();
                let mine = u.link() == Link::Linked;
                if mine {
                    u.set_link(Link::Unhashed);
                    h.chain.retain(|e| !Arc::ptr_eq(e, u));
                }
                drop(h);
                let ret = match (mine, woken) {
                    (false, _) => u.ret(),
                    (true, Woken::Signal) => -EINTR,
                    (true, _) => -ETIMEDOUT,
                };
                k.rec.event(me, "idempotent_wait_for_completion", || {
                    format!(
                        "{}; {}: {}",
                        if woken == Woken::Signal {
                            "killed"
                        } else {
                            "gave up after 30 s"
                        },
                        if mine {
                            "unlinks its own entry (hlist_del_init)"
                        } else {
                            "idempotent_complete already unlinked it; takes idem.ret"
                        },
                        Recorder::ret(ret)
                    )
                });
                return (ret, FinitRole::IdemWaiter);
            }
        }
        IdemWait::Interruptible => {
            // 2124d84db293
            if u.complete.wait(k, me, WaitMode::Interruptible, None, &why) == Woken::Signal {
                // if (!hlist_unhashed(&u->entry)) hlist_del(&u->entry); under
                // idem_lock. A poisoned entry looks hashed: hlist_del() would
                // write through LIST_POISON2.
                if k.variant.mutant() == Some(Mutant::SelfUnlinkUnlocked) {
                    self_unlink_unlocked(k, me, u);
                    return (u.ret(), FinitRole::IdemWaiter);
                }
                let mut h = k.idem_lock.lock();
                match u.link() {
                    Link::Unhashed => {}
                    Link::Linked => {
                        u.set_link(Link::Poisoned);
                        h.chain.retain(|e| !Arc::ptr_eq(e, u));
                    }
                    Link::Poisoned => idem_unsafe(
                        k,
                        me,
                        &format!("hlist_del on {}'s own entry, which idempotent_complete already unlinked with hlist_del (pprev = LIST_POISON2): unlinked twice", k.name(me)),
                    ),
                }
                drop(h);
                let r = u.ret();
                k.rec.event(me, "idempotent_wait_for_completion", || {
                    format!(
                        "interrupted; unlinks its own entry if still hashed; returns idem.ret = {}",
                        Recorder::ret(r)
                    )
                });
            }
        }
    }
    // The waiter reads idem.ret from its own entry: under the heap proposal
    // that entry is memory the completer may have freed (kfree of the
    // dead loader's entry, and of no other).
    if u.is_returned() {
        idem_unsafe(
            k,
            me,
            &format!(
                "{} reads idem.ret from its own entry for {}, which was freed while it waited: a use-after-free",
                k.name(me),
                u.file
            ),
        );
    }
    let ret = early.unwrap_or_else(|| u.ret());
    k.rec.event(me, "idempotent_wait_for_completion", || {
        let whose = if early.is_some() {
            "idem.ret as read before the wait (mutant)".to_string()
        } else if k.has_died(owner) {
            format!("idem.ret ({}'s load died in init)", owner_name())
        } else {
            format!("{}'s result", owner_name())
        };
        format!("returns {whose}: {}", Recorder::ret(ret))
    });
    (ret, FinitRole::IdemWaiter)
}

/// The self-unlink mutant: `if (!hlist_unhashed(&u->entry))
/// hlist_del(&u->entry);` without `idem_lock`. Between the test and the
/// unlink, `idempotent_complete()` may take the entry off the chain
/// (`hlist_del_init`: `pprev = NULL`); `hlist_del()` then writes through
/// the NULL `pprev`.
fn self_unlink_unlocked(k: &Kernel, me: TaskId, u: &Arc<Idempotent>) {
    let seen = u.link();
    if seen == Link::Linked {
        let now = {
            let _w = u.word.as_ref().map(crate::sync::Mutex::lock);
            u.link.update(|l| {
                let now = *l;
                if now == Link::Linked {
                    *l = Link::Poisoned;
                }
                now
            })
        };
        if now == Link::Linked {
            // The model's copy of the chain: the kernel's unlink rewrites the
            // neighbours' words; the model drops the entry from its list
            // under idem_lock, after the racy part.
            k.idem_lock.lock().chain.retain(|e| !Arc::ptr_eq(e, u));
        } else {
            idem_unsafe(
                k,
                me,
                &format!(
                    "{} saw its own entry hashed, then hlist_del ran after idempotent_complete had unlinked it ({}): the self-unlink is outside idem_lock",
                    k.name(me),
                    if now == Link::Unhashed { "pprev = NULL: a NULL dereference" } else { "pprev = LIST_POISON2" }
                ),
            );
        }
    }
    let r = u.ret();
    k.rec.event(me, "idempotent_wait_for_completion", || {
        format!(
            "interrupted; unlinks its own entry without idem_lock (mutant); returns idem.ret = {}",
            Recorder::ret(r)
        )
    });
}

/// `idempotent_init_module(f, uargs, flags)`: the winner loads and completes;
/// everyone else waits.
pub fn idempotent_init_module(
    k: &Arc<Kernel>,
    me: TaskId,
    file: &str,
) -> Result<(Ret, FinitRole), Oops> {
    let initial = match (k.variant.idem_wait(), k.variant.mutant()) {
        (_, Some(Mutant::RetStartsAtZero)) => 0,
        (IdemWait::Interruptible | IdemWait::KillableTimeout, _) => -EINTR,
        (IdemWait::Uninterruptible | IdemWait::TimeoutWarn, _) => 0,
    };
    let u = Arc::new(Idempotent {
        cookie: k.scenario.file_index(file),
        file: file.to_string(),
        owner: me,
        complete: Completion::new(format!("the idempotent completion of {file}")),
        ret: Plain::new(initial),
        link: Plain::new(Link::Unhashed),
        word: (k.variant.mutant() == Some(Mutant::SelfUnlinkUnlocked))
            .then(|| crate::sync::Mutex::new(())),
        returned: Plain::new(false),
    });
    let r = match idempotent(k, me, &u) {
        None => {
            let Ok((ret, role)) = super::main::init_module_from_file(k, me, file) else {
                died_with_entry(k, me, &u);
                return Err(Oops);
            };
            (idempotent_complete(k, me, &u, ret), role)
        }
        Some(in_flight) => idempotent_wait_for_completion(k, me, &u, in_flight),
    };
    // The frame holding `struct idempotent idem` is gone (the heap
    // proposal: the owner has kfree()d its entry).
    u.set_returned();
    Ok(r)
}

/// The winner died in init with its entry linked and never completed.
/// On the stack (every merged kernel) the entry now lies in a dead stack.
/// The ghost store is made under `idem_lock`, which the kernel does not take
/// here: it orders the end of the frame against every walk of the chain, so
/// the engines explore a later loader's walk on both sides of it.
fn died_with_entry(k: &Kernel, me: TaskId, u: &Arc<Idempotent>) {
    k.rec.fact(Fact::IdemOutlived);
    match k.variant.idem_storage() {
        IdemStorage::Stack => {
            let h = k.idem_lock.lock();
            u.set_returned();
            drop(h);
            k.rec.event(me, "make_task_dead", || {
                format!(
                    "{}'s stack is freed; its struct idempotent for {} stays linked in idem_hash, never completed",
                    k.name(me),
                    u.file
                )
            });
        }
        IdemStorage::HeapForceUnload => k.rec.event(me, "make_task_dead", || {
            format!(
                "{}'s struct idempotent for {} (kmalloc'ed, in mod->idempotent) stays linked in idem_hash, never completed",
                k.name(me),
                u.file
            )
        }),
    }
}
