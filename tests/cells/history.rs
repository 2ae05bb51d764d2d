//! The kernel's history, as verdicts: every row of the foundation issue's
//! table (docs/kernel.md §4), encoded once, checked against what the
//! model finds. A disagreement fails with the expected verdict, the found
//! one, and the trace.
//!
//! These checks read the whole catalogue's results. They run in the cells'
//! binary (`main.rs`), as the trials `history::NAME`, on the results its
//! per-cell trials computed: the catalogue is checked once per `cargo
//! test`, not once for the cells and again for the history.

use crate::common::verdict;
use kmodcheck::engine::{CellResult, EngineKind, Verdict};
use kmodcheck::model::trace::ModState;

/// What history says a cell's property must be.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Expect {
    /// Holds, proved by an exhaustive, unbounded run (the stateful engine's,
    /// cross-checked with loom in tests/engines.rs).
    Proved,
    /// Violated: a counterexample exists.
    Violated,
}
use Expect::*;

const L: &str = "legacy";
const E: &str = "error-out-early";
const I: &str = "idempotent";
const W: &str = "idempotent-warn";
const N: &str = "idempotent-interruptible";
const C: &str = "crypto-async-test";
/// The recursion-aware proposal in its strongest form (every in-flight
/// entry's owner is checked); the first-entry form is a named finding
/// (tests/fuzz.rs, README "Findings").
const R: &str = "recursion-aware-every-entry";
/// The timed in-flight wait (kmodcheck's worked example): time passes in
/// every scenario under it.
const T: &str = "idem-timeout";
/// The 2025 heap proposal (julian-lagattuta's force-unload series).
const H: &str = "heap-idempotent";
/// N with CONFIG_MODULE_DEBUG_AUTOLOAD_DUPS=y (8660484ed1cf).
const D: &str = "autoload-dups";
/// The current loader with each kmod budget (N itself has the semaphore).
const N2008: &str = "idempotent-interruptible+kmod-2008";
const NTHR: &str = "idempotent-interruptible+kmod-throttle";
const NTHR5: &str = "idempotent-interruptible+kmod-throttle-timeout";
/// The releases before v6.4 (docs/kernel.md §3): each its name check,
/// helper wait and kmod budget.
const V2628: &str = "v2.6.28";
const V34: &str = "v3.4";
const V38: &str = "v3.8";
const V413RC1: &str = "v4.13-rc1";
const V413: &str = "v4.13";
const V53: &str = "v5.3";
const V62: &str = "v6.2";
/// The in-flight kernels with libkmod's init_module(2) fallback.
const IINIT: &str = "idempotent+libkmod-init-module";
const NINIT: &str = "idempotent-interruptible+libkmod-init-module";

/// (scenario, variants, property, expected). One table, one place.
///
/// Where the foundation issue's table and the kernel disagree, the kernel
/// wins (the issue says so), and the row says why:
///
/// - recursive-self-load × crypto-async-test: the issue expects no deadlock.
///   37da5d0ffa7b only changes `crypto_register_alg()` (crypto/algapi.c:
///   `crypto_schedule_test()` instead of `crypto_wait_for_test()`); it does
///   not touch `request_module`, `finit_module` or the in-flight table. In
///   this scenario init calls `request_module()` directly, so on a v6.12
///   kernel (interruptible waiters, 2124d84db293) it still hangs until a
///   signal. The aes-arm-bs case the fix was for goes through the self-test,
///   and that is `crypto-self-test`, where crypto-async-test is proved.
const HISTORY: &[(&str, &[&str], &str, Expect)] = &[
    (
        "recursive-self-load",
        &[L, I, W, N],
        "no-deadlock",
        Violated,
    ),
    ("recursive-self-load", &[C], "no-deadlock", Violated),
    ("recursive-self-load", &[E, R], "no-deadlock", Proved),
    ("recursive-self-load", &[E, R], "ends-live", Proved),
    // Where it does not hang, the nested modprobe fails and its requester
    // gets modprobe's exit status 1 (256).
    (
        "recursive-self-load",
        &[E, R, T],
        "expected-results",
        Proved,
    ),
    (
        "recursive-self-load+kill-nested",
        &[L, N, E, C, R],
        "terminates-when-killed",
        Proved,
    ),
    (
        "recursive-self-load+kill-nested",
        &[I, W],
        "terminates-when-killed",
        Violated,
    ),
    (
        "recursive-self-load+kill-outer",
        &[L, E, I, W, N, C, R],
        "terminates-when-killed",
        Proved,
    ),
    ("crypto-self-test", &[I], "no-deadlock", Violated),
    ("crypto-self-test", &[C], "no-deadlock", Proved),
    ("crypto-self-test", &[C], "ends-live", Proved),
    ("shared-dependency", &[E], "dependents-load", Violated),
    (
        "shared-dependency",
        &[L, I, N, R],
        "dependents-load",
        Proved,
    ),
    (
        "shared-dependency",
        &[L, I, N, R],
        "success-means-live",
        Proved,
    ),
    (
        "concurrent-same-file-2",
        &[I, N, R],
        "init-at-most-once",
        Proved,
    ),
    (
        "concurrent-same-file-2",
        &[I, N, R],
        "consistent-result",
        Proved,
    ),
    (
        "concurrent-same-file-3",
        &[I, N, R],
        "init-at-most-once",
        Proved,
    ),
    (
        "concurrent-same-file-3",
        &[I, N, R],
        "consistent-result",
        Proved,
    ),
    // §4.4: no waiter reports success; under I, W, N the winner's error.
    (
        "failing-init",
        &[L, I, W, N, R],
        "consistent-result",
        Proved,
    ),
    ("failing-init", &[L, I, W, N, R], "no-deadlock", Proved),
    // §4.9: the in-flight table keys on the file, so the name check decides.
    (
        "same-name-different-files",
        &[L, E, I, W, N, C, R],
        "consistent-result",
        Proved,
    ),
    (
        "same-name-different-files",
        &[L, E, I, W, N, C, R],
        "success-means-live",
        Proved,
    ),
    // §4.5: an interrupted waiter returns the winner's ret or -EINTR; nothing
    // touches its entry after it returns; nothing is unlinked twice.
    (
        "interrupted-waiter",
        &[N, C, R],
        "consistent-result",
        Proved,
    ),
    (
        "interrupted-waiter",
        &[N, C, R],
        "idem-memory-safety",
        Proved,
    ),
    (
        "interrupted-waiter",
        &[N, C, R],
        "success-means-live",
        Proved,
    ),
    // §4.6: the chain stops at the budget (-ENOMEM in 2008, -ETIME with a
    // bounded wait); the first throttle hangs silently.
    ("runaway-nested", &[N2008, NTHR5, N], "no-deadlock", Proved),
    ("runaway-nested", &[NTHR], "no-deadlock", Violated),
    (
        "runaway-nested",
        &[N2008, NTHR5, N],
        "bounded-helpers",
        Proved,
    ),
    (
        "runaway-nested",
        &[N2008, NTHR5, N],
        "budget-respected",
        Proved,
    ),
    // What each request gets back: the budget's refusal, or its helper's
    // failed exec.
    (
        "runaway-nested",
        &[N2008, NTHR5, N],
        "expected-results",
        Proved,
    ),
    // §4.6, the Debian initramfs case: no budget sees it.
    (
        "runaway-after-exit",
        &[N2008, NTHR, NTHR5, N],
        "bounded-helpers",
        Violated,
    ),
    (
        "runaway-after-exit",
        &[N2008, NTHR, NTHR5, N],
        "budget-respected",
        Proved,
    ),
    // §4.7: as §4.6, with the slot held by the waiting parent.
    ("deep-recursion", &[N2008, NTHR5, N], "no-deadlock", Proved),
    ("deep-recursion", &[NTHR], "no-deadlock", Violated),
    ("deep-recursion", &[N2008, NTHR5, N], "ends-live", Proved),
    // The first throttle ignores an interrupted wait for a slot: the request
    // runs without one and gives back a slot it never took (fixed by the
    // killable, timed wait of its follow-up).
    (
        "deep-recursion+signal-nested",
        &[NTHR],
        "budget-respected",
        Violated,
    ),
    (
        "deep-recursion+signal-nested",
        &[N2008, NTHR5, N],
        "budget-respected",
        Proved,
    ),
    (
        "deep-recursion+signal-nested",
        &[N2008, NTHR, NTHR5, N],
        "no-deadlock",
        Proved,
    ),
    // §4.8: the winner dies in init. Under I and W the later loader hangs
    // for good, rmmod -f or not, and no signal frees it; N lets a signal
    // free it. Every stack variant leaves the entry in idem_hash on a dead
    // stack, and a later loader's walk reads it. The heap proposal frees the
    // waiter with -EBUSY after the forced unload, and touches no dead memory.
    ("winner-dies", &[I, W], "no-deadlock", Violated),
    ("winner-dies", &[I, W, N], "idem-memory-safety", Violated),
    ("winner-dies", &[H], "no-deadlock", Proved),
    // (No signal in this scenario, so "holds" with its witness means a waiter
    // met the dead load and got -EBUSY from the forced unload.)
    ("winner-dies", &[H], "consistent-result", Proved),
    ("winner-dies", &[H], "idem-memory-safety", Proved),
    (
        "winner-dies+kill-waiter",
        &[I, W],
        "terminates-when-killed",
        Violated,
    ),
    (
        "winner-dies+kill-waiter",
        &[N, H],
        "terminates-when-killed",
        Proved,
    ),
    // An importer loaded by insmod alone waits for its COMING provider
    // (resolve_symbol_wait), under every loader.
    (
        "insmod-dependent",
        &[L, E, I, W, N, C, R, H],
        "live-deps",
        Proved,
    ),
    (
        "insmod-dependent",
        &[L, E, I, W, N, C, R, H],
        "no-deadlock",
        Proved,
    ),
    (
        "concurrent-same-file-2",
        &[L, E, I, W, N, C, R, H],
        "coming-before-init",
        Proved,
    ),
    // The name check's waiter re-looks the failed module up (legacy).
    ("failing-init", &[L], "module-memory-safety", Proved),
    // §4.4 with §4.9: the first of two files of one name fails its init.
    // The table keys on the file, so in every variant the second load waits
    // in the name check, wakes after free_module(), re-looks x up and
    // returns -EBUSY: module-memory-safety reached (witness) and proved
    // where failing-init leaves it vacuous.
    (
        "same-name-failing-init",
        &[L, E, I, W, N, C, R, H],
        "module-memory-safety",
        Proved,
    ),
    (
        "same-name-failing-init",
        &[L, E, I, W, N, C, R, H],
        "consistent-result",
        Proved,
    ),
    (
        "same-name-failing-init",
        &[L, E, I, W, N, C, R, H],
        "no-deadlock",
        Proved,
    ),
    // idem-timeout: a waiter that gives up after 30 s frees the recursive
    // self-load and the dead winner's waiter, but reports failure while the
    // load it left goes on, which breaks a dependent's load as the reverted
    // 9828ed3f695a did (ac2263b588df's reason), and every result it hands
    // back instead of the load's.
    ("recursive-self-load", &[T], "no-deadlock", Proved),
    ("crypto-self-test", &[T], "no-deadlock", Proved),
    ("winner-dies", &[T], "no-deadlock", Proved),
    // A waiter that gives up on a load that died in init reports a true
    // failure.
    ("winner-dies", &[T], "consistent-result", Proved),
    ("shared-dependency", &[T], "dependents-load", Violated),
    (
        "concurrent-same-file-2",
        &[T],
        "consistent-result",
        Violated,
    ),
    // 9828ed3f695a gives the file back after each load: a later load of it
    // is not refused (etxtbsy-only-while-loading, found by mutation
    // testing of allow_write_access()).
    ("failing-init", &[E], "etxtbsy-only-while-loading", Proved),
    // delete_module() racing loads (kernel/module/main.c, v6.4+): rmmod gets
    // 0, -ENOENT (not on the list, or UNFORMED) or -EBUSY (COMING); a
    // modprobe that meets the module GOING, or finds it gone after its
    // wait, fails with -EBUSY (since 0254127ab977, v6.2). The name check's
    // -EBUSY after an unload is consistent.
    (
        "rmmod-racing-load",
        &[L, E, I, W, N, C, R, H],
        "expected-results",
        Proved,
    ),
    (
        "rmmod-racing-load",
        &[L, I, W, N, C, R, H],
        "consistent-result",
        Proved,
    ),
    // A provider an importer holds is refused (-EWOULDBLOCK: its
    // source_list), and an importer meeting a GOING or gone provider fails
    // with -ENOENT ("Unknown symbol"), never LIVE without it.
    (
        "rmmod-in-use",
        &[L, E, I, W, N, C, R, H, T],
        "live-deps",
        Proved,
    ),
    (
        "rmmod-in-use",
        &[L, E, I, W, N, C, R, H],
        "expected-results",
        Proved,
    ),
    // A required request that fails: status 256 back to init, -ENOENT to
    // modprobe, the module never LIVE.
    (
        "missing-fallback",
        &[L, E, I, W, N, C, R, H],
        "expected-results",
        Proved,
    ),
    // Only a module that resolved an import from p holds it (-EWOULDBLOCK);
    // an unrelated module on the list does not.
    (
        "rmmod-beside-another",
        &[L, E, I, W, N, C, R, H],
        "expected-results",
        Proved,
    ),
    // A plain rmmod never unloads a module whose init died: the heap
    // proposal's forced unload needs O_TRUNC.
    (
        "winner-dies+rmmod",
        &[L, E, I, W, N, C, R, H],
        "expected-results",
        Proved,
    ),
    // A module left UNFORMED, COMING or GOING with nobody to finish it
    // would block its name: every error path unlinks it.
    (
        "failing-init",
        &[L, E, I, W, N, C, R, H, T],
        "ends-settled",
        Proved,
    ),
    (
        "rmmod-racing-load",
        &[L, E, I, W, N, C, R, H, T],
        "ends-settled",
        Proved,
    ),
    (
        "rmmod-in-use",
        &[L, E, I, W, N, C, R, H, T],
        "ends-settled",
        Proved,
    ),
    // A recursive waiter that leaves (-EDEADLK, or a timeout) takes its
    // entry out of idem_hash first.
    ("recursive-self-load", &[R, T], "idem-memory-safety", Proved),
    // A second fatal signal does not undo the first.
    (
        "recursive-self-load+kill-outer-twice",
        &[L, E, I, W, N, C, R, H, T],
        "terminates-when-killed",
        Proved,
    ),
    // SIGKILL to a request waiting for a kmod slot or for its helper: the
    // killable waits give -ERESTARTSYS; the first throttle's interruptible
    // wait goes on without a slot and gives back one it never took.
    (
        "budget-contended+kill",
        &[N2008, NTHR5, N],
        "budget-respected",
        Proved,
    ),
    (
        "budget-contended+kill",
        &[NTHR],
        "budget-respected",
        Violated,
    ),
    (
        "budget-contended+kill",
        &[N2008, NTHR, NTHR5, N],
        "expected-results",
        Proved,
    ),
    // The cost the in-flight table was made for (docs/kernel.md §4.13): v6.4
    // reads every duplicate load's file into memory before the name check
    // refuses it; the table (and the reverted deny) keep it to one image.
    (
        "concurrent-same-file-2",
        &[L],
        "one-image-per-file",
        Violated,
    ),
    (
        "concurrent-same-file-3",
        &[L],
        "one-image-per-file",
        Violated,
    ),
    ("shared-dependency", &[L], "one-image-per-file", Violated),
    (
        "concurrent-same-file-3",
        &[E, I, W, N, C, R, H, T],
        "one-image-per-file",
        Proved,
    ),
    (
        "shared-dependency",
        &[E, I, W, N, C, R, H, T],
        "one-image-per-file",
        Proved,
    ),
    // An importer loaded alone waits for its COMING provider: insmod gets
    // 0, or -ENOENT while the provider is not yet formed, never -EBUSY.
    (
        "insmod-dependent",
        &[L, E, I, W, N, C, R, H],
        "expected-results",
        Proved,
    ),
    // The releases before v6.4 (docs/kernel.md §3, §4.14).
    //
    // Before 1fb9341ac348 (v3.8), load_module()'s `if
    // (find_module(mod->name)) return -EEXIST` counted a module still in its
    // init as loaded: the nested modprobe of a recursive self-load "succeeds"
    // at once, so nothing hangs, and a success is reported while the module
    // is COMING.
    ("recursive-self-load", &[V2628, V34], "no-deadlock", Proved),
    (
        "recursive-self-load",
        &[V2628, V34],
        "success-means-live",
        Violated,
    ),
    ("crypto-self-test", &[V2628, V34], "no-deadlock", Proved),
    (
        "concurrent-same-file-2",
        &[V2628, V34],
        "success-means-live",
        Violated,
    ),
    (
        "shared-dependency",
        &[V2628, V34],
        "success-means-live",
        Violated,
    ),
    // From 1fb9341ac348 (v3.8) the name check waits for a load in
    // progress, and the self-load hangs as on v6.4 (interruptibly).
    (
        "recursive-self-load",
        &[V38, V413RC1, V413, V53, V62],
        "no-deadlock",
        Violated,
    ),
    // Until 6e6de3dee51a (v5.3) a GOING module counted as loaded: a waiter
    // of a failed load got -EEXIST, and modprobe reported success
    // (6e6de3dee51a's own reason: user space then loaded a dependent).
    (
        "failing-init",
        &[V2628, V34, V38, V413RC1, V413],
        "consistent-result",
        Violated,
    ),
    ("failing-init", &[V62, L], "consistent-result", Proved),
    // From 1fb9341ac348 (v3.8) to v6.1 the name check's waiter looked again
    // (`goto again`) and, the failed load gone, made its own attempt: one
    // full load per request of a burst. 0254127ab977 (v6.2) stopped it.
    (
        "failing-init",
        &[V38, V413RC1, V413, V53],
        "one-attempt-per-burst",
        Violated,
    ),
    (
        "failing-init",
        &[V2628, V34, V62, L, I, N],
        "one-attempt-per-burst",
        Proved,
    ),
    // Every release before 9b9879fc0327 (v6.5) reads one image per
    // concurrent finit_module of a file.
    (
        "concurrent-same-file-2",
        &[V2628, V34, V38, V413RC1, V413, V53, V62],
        "one-image-per-file",
        Violated,
    ),
    // The first throttle (6d7964a722af, v4.13-rc1) waits for a kmod slot
    // with no timeout: a chain of nested requests longer than the budget
    // hangs. Its follow-up, and the 2008 budget before it, do not.
    ("deep-recursion", &[V413RC1], "no-deadlock", Violated),
    // A load of another file walks the same idem_hash bucket and reads the
    // dead winner's entry (docs/kernel.md §4.8): every stack variant; the
    // heap proposal's entry is kmalloc'ed.
    (
        "winner-dies+other-file",
        &[I, W, N, C, R, T],
        "idem-memory-safety",
        Violated,
    ),
    ("winner-dies+other-file", &[H], "idem-memory-safety", Proved),
    // CONFIG_MODULE_DEBUG_AUTOLOAD_DUPS (8660484ed1cf, kernel/module/dups.c):
    // a helper's exec asks for the same binfmt-XXXX as the request that
    // started it, is taken as its duplicate, and waits (killably, holding a
    // slot) for that request's result, which waits for the helper to exit:
    // a deadlock only SIGKILL ends, where the budget alone stops the chain.
    ("runaway-nested", &[D], "no-deadlock", Violated),
    ("runaway-nested", &[N], "no-deadlock", Proved),
    // Two requests for one name: the second gets the first's result
    // (modprobe's status 256), stored, without a modprobe of its own.
    ("budget-contended", &[D], "expected-results", Proved),
    // A stop signal to the waiter of a dead load (docs/kernel.md §2, §4.8):
    // the name check's -ERESTARTSYS restarts finit_module on SIGCONT, so it
    // waits again; 2124d84db293's waiter returns -EINTR, which no restart
    // undoes; I and W do not notice it.
    (
        "winner-dies+stop-waiter",
        &[L, V38, V53, V62, I, W],
        "no-deadlock",
        Violated,
    ),
    (
        "winner-dies+stop-waiter",
        &[N, C, R, H, T],
        "no-deadlock",
        Proved,
    ),
    // libkmod's init_module(2) fallback (a compressed module the kernel
    // cannot decompress; older kmod for every compressed module; Pavlu and
    // De Marchi, LKML, May 2023) never reaches idem_hash: the nested
    // self-load meets the interruptible name check, so a signal to it frees
    // the chain where 9b9879fc0327's uninterruptible wait did not, and each
    // concurrent load reads its own image again.
    (
        "recursive-self-load+kill-nested",
        &[I, W],
        "terminates-when-killed",
        Violated,
    ),
    (
        "recursive-self-load+kill-nested",
        &[IINIT, NINIT],
        "terminates-when-killed",
        Proved,
    ),
    (
        "recursive-self-load",
        &[IINIT, NINIT],
        "no-deadlock",
        Violated,
    ),
    (
        "concurrent-same-file-2",
        &[IINIT, NINIT],
        "one-image-per-file",
        Violated,
    ),
    (
        "deep-recursion",
        &[V2628, V34, V38, V413, V53, V62],
        "no-deadlock",
        Proved,
    ),
    // Found by the wake-up analysis (issue 15, reports/wakeups.md): each
    // wait of the kernel in a cell where its wake-up is what ends it.
    //
    // resolve_symbol_wait() (v6.4+ kernel/module/main.c) ends for a failed
    // provider when do_init_module()'s failure path wakes module_wq after
    // free_module(): the importer gets -ENOENT and is never LIVE.
    (
        "insmod-dependent+failing-provider",
        &[L, E, I, W, N, C, R, H],
        "no-deadlock",
        Proved,
    ),
    (
        "insmod-dependent+failing-provider",
        &[L, E, I, W, N, C, R, H],
        "expected-results",
        Proved,
    ),
    // ... and for a provider whose init died (COMING for good) only by its
    // 30 * HZ timeout: -EBUSY, "gave up waiting for init of module".
    (
        "insmod-dependent+dead-provider",
        &[L, E, I, W, N, C, R, H],
        "no-deadlock",
        Proved,
    ),
    (
        "insmod-dependent+dead-provider",
        &[L, E, I, W, N, C, R, H],
        "expected-results",
        Proved,
    ),
    // ... and without time, only SIGKILL ends that wait (interruptible):
    // resolve_symbol_wait() then hands back -EBUSY, and insmod dies on its
    // way out.
    (
        "insmod-dependent+dead-provider+kill",
        &[L, E, I, W, N, C, R, H],
        "terminates-when-killed",
        Proved,
    ),
    (
        "insmod-dependent+dead-provider+kill",
        &[L, E, I, W, N, C, R, H],
        "expected-results",
        Proved,
    ),
    // A program with a handler for a signal gets -EINTR from finit_module
    // when the signal breaks an interruptible wait of the load (the name
    // check since 1fb9341ac348, the in-flight table's since 2124d84db293);
    // under error-out-early the second insmod may get -ETXTBSY instead.
    (
        "interrupted-insmod",
        &[V38, V62, L, I, N, C, H],
        "expected-results",
        Proved,
    ),
    ("interrupted-insmod", &[E], "expected-results", Violated),
    // load_module()'s unlink_mod: wakes module_wq for a second load of the
    // name waiting on the UNFORMED module whose imports failed (v3.8+:
    // 1fb9341ac348 put UNFORMED modules on the list).
    (
        "insmod-unknown-symbol-twice",
        &[V38, V53, V62, L, I, N, H],
        "no-deadlock",
        Proved,
    ),
    // CONFIG_MODULE_DEBUG_AUTOLOAD_DUPS (8660484ed1cf): a duplicate request
    // waits for the first one's result, announced by complete_all().
    ("dup-requests", &[D], "no-deadlock", Proved),
    ("dup-requests", &[D], "expected-results", Proved),
    // ... killably: SIGKILL to a helper whose own request waits for the
    // request that started it ends the runaway-nested deadlock.
    (
        "runaway-nested+kill-helper",
        &[D, N, NTHR, NTHR5],
        "terminates-when-killed",
        Proved,
    ),
    // crypto_wait_for_test() waits killably (wait_for_completion_killable):
    // SIGKILL frees a loader stuck on its algorithm's self-test, even where
    // the self-test itself hangs (9b9879fc0327 to 2124d84db293).
    (
        "crypto-self-test+kill",
        &[I, W, N, C, R, H],
        "terminates-when-killed",
        Proved,
    ),
];

/// The mutation suite: every seeded bug (`variant::mutants()`) is killed by
/// its expected property, with a counterexample, on a scenario where
/// the kernel it mutates holds that property (proved), so the kill is the
/// seeded line's doing (a failure prints the kill table); `reports/mutants.md`
/// and the README show that table (checked below and by `reports_are_current`).
fn every_mutant_is_killed(cells: &[CellResult]) {
    let kills = kmodcheck::report::kills(cells);
    assert!(kills.len() >= 12, "the suite has {} mutants", kills.len());
    let mut escaped = Vec::new();
    for k in &kills {
        let m = k.spec;
        match (k.mutant, k.kernel) {
            (Some((c, Verdict::Violated(_))), Some((_, Verdict::Holds { exhaustive: true })))
                if c.engine == EngineKind::Stateful => {}
            (got, base) => escaped.push(format!(
                "{} × {} × {}: mutant {}; its kernel {} {}",
                m.variant.id,
                m.scenario,
                m.property,
                got.map_or("not checked".into(), |(_, v)| describe(v)),
                m.of,
                base.map_or("not checked".into(), |(_, v)| describe(v)),
            )),
        }
    }
    assert!(
        escaped.is_empty(),
        "mutants escaped:\n{}\n\nthe kill table:\n{}",
        escaped.join("\n"),
        kmodcheck::report::kill_table(cells, "reports/")
    );
}

/// The README's kill table is the generated one.
fn readme_shows_the_kill_table(cells: &[CellResult]) {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let table = kmodcheck::report::kill_table(cells, "reports/");
    assert!(
        readme.contains(&table),
        "README.md's kill table is stale; paste this in its place:\n{table}"
    );
}

fn describe(v: &Verdict) -> String {
    match v {
        Verdict::Holds { exhaustive } => format!("holds (exhaustive: {exhaustive})"),
        Verdict::Violated(ce) => format!("violated: {}\n{}", ce.message, ce.trace),
        Verdict::Inconclusive { reason } => format!("inconclusive: {reason}"),
    }
}

/// `reports/` is what the code generates now: `cargo run --release --
/// report` rewrites it. (The files hold no times, so nothing is ignored.)
fn reports_are_current(cells: &[CellResult]) {
    let files = kmodcheck::reports(cells);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("reports");
    let stale = kmodcheck::stale_reports(&dir, &files);
    assert!(
        stale.is_empty(),
        "reports/ is stale; run `cargo run --release -- report`:\n{}",
        stale.join("\n")
    );
}

/// Every row of the history table is a cell the catalogue checks.
fn history_rows_are_in_the_catalogue(cells: &[CellResult]) {
    for (s, vs, p, _) in HISTORY {
        for v in *vs {
            let c = cells
                .iter()
                .find(|c| c.variant == *v && c.scenario == *s)
                .unwrap_or_else(|| panic!("{v} × {s} is not a cell of the catalogue"));
            assert!(
                c.properties.iter().any(|r| r.property == *p),
                "{s} does not check {p}"
            );
        }
    }
}

fn history_table(cells: &[CellResult]) {
    let mut failures = Vec::new();
    for (s, vs, p, want) in HISTORY {
        for v in *vs {
            let c = cells
                .iter()
                .find(|c| c.variant == *v && c.scenario == *s)
                .unwrap();
            let got = verdict(c, p);
            let ok = match (want, got) {
                (Proved, Verdict::Holds { exhaustive: true }) => c.exhaustive,
                (Violated, Verdict::Violated(_)) => true,
                _ => false,
            };
            if !ok {
                failures.push(format!(
                    "{v} × {s} × {p}: expected {want:?}, found {}",
                    describe(got)
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "history disagrees:\n\n{}",
        failures.join("\n\n")
    );

    // The recursive self-load deadlocks end in the cycle "outer waits for the
    // nested helper; nested waits for X".
    for v in [L, I, W, N] {
        let c = cells
            .iter()
            .find(|c| c.variant == v && c.scenario == "recursive-self-load")
            .unwrap();
        let Verdict::Violated(ce) = verdict(c, "no-deadlock") else {
            unreachable!()
        };
        let cycle = ce.cycle.as_ref().expect("a deadlock has a wait-for cycle");
        assert_eq!(cycle.len(), 2, "{v}: {cycle:?}");
        assert!(
            cycle[0].starts_with("T1 waits for helper T2 (modprobe crypto-cbc(aes)) to exit"),
            "{v}: {cycle:?}"
        );
        assert!(cycle[1].starts_with("T2 waits for "), "{v}: {cycle:?}");
        assert!(
            cycle[1].contains("T1's load of aes-arm-bs"),
            "{v}: {cycle:?}"
        );
    }

    // error-out-early's shared-dependency failure is the revert's race: one
    // modprobe gets -ETXTBSY on a and never loads its own module.
    let c = cells
        .iter()
        .find(|c| c.variant == E && c.scenario == "shared-dependency")
        .unwrap();
    let Verdict::Violated(ce) = verdict(c, "dependents-load") else {
        unreachable!()
    };
    assert!(
        ce.message.contains("failed with -ETXTBSY"),
        "{}",
        ce.message
    );
    assert!(
        ce.trace.contains("another load holds it: -ETXTBSY"),
        "{}",
        ce.trace
    );

    // idempotent-warn is idempotent plus one warning.
    let c = cells
        .iter()
        .find(|c| c.variant == W && c.scenario == "recursive-self-load")
        .unwrap();
    let Verdict::Violated(ce) = verdict(c, "no-deadlock") else {
        unreachable!()
    };
    let warnings = ce
        .record
        .printk
        .iter()
        .filter(|l| l.contains("taking a long time to load"))
        .count();
    assert!(warnings <= 1, "pr_warn_once printed {warnings} times");

    // §4.6 in kernel words: how each budget ends the nested chain.
    let first = |v: &str, s: &str| {
        kmodcheck::engine::replay(
            &format!("loom:{v}:{s}:1"),
            &kmodcheck::model::scenario::catalogue(),
        )
        .unwrap()
        .record
        .render()
    };
    let t = first(N2008, "runaway-nested");
    assert!(
        t.contains("request_module: runaway loop modprobe binfmt-0000"),
        "{t}"
    );
    assert!(t.contains("-ENOMEM"), "{t}");
    for v in [NTHR5, N] {
        let t = first(v, "runaway-nested");
        assert!(t.contains("-ETIME"), "{v}: {t}");
        assert!(t.contains("kmod busy with 2 threads"), "{v}: {t}");
    }
    let c = cells
        .iter()
        .find(|c| c.variant == NTHR && c.scenario == "runaway-nested")
        .unwrap();
    let Verdict::Violated(ce) = verdict(c, "no-deadlock") else {
        unreachable!()
    };
    let cycle = ce.cycle.as_ref().expect("a cycle");
    assert!(
        cycle
            .last()
            .unwrap()
            .contains("waits for one of the 2 kmod slots, all held"),
        "{cycle:?}"
    );
    let c = cells
        .iter()
        .find(|c| c.variant == N && c.scenario == "runaway-after-exit")
        .unwrap();
    let Verdict::Violated(ce) = verdict(c, "bounded-helpers") else {
        unreachable!()
    };
    assert!(
        ce.message.contains("runaway loop")
            && ce
                .message
                .contains("repeating part: T1 call_usermodehelper_exec: starts T2"),
        "{}",
        ce.message
    );
}

/// Vacuity: where recursion is refused or survived, X really goes LIVE in
/// every execution (ends-live proved above) and the nested load really ran
/// into the outer one (the nested finit_module met T1's load).
fn recursion_is_really_exercised(catalogue: &[CellResult]) {
    let cells: Vec<CellResult> = [E, R]
        .iter()
        .map(|v| {
            catalogue
                .iter()
                .find(|c| c.variant == *v && c.scenario == "recursive-self-load")
                .unwrap()
                .clone()
        })
        .collect();
    for c in &cells {
        assert_eq!(
            verdict(c, "init-at-most-once").kind(),
            "holds",
            "{}: the nested load must meet the outer one (witness)",
            c.variant
        );
    }
    // And one replayed execution of each shows it: the nested modprobe fails
    // with the variant's error while X goes LIVE.
    for (c, err) in cells.iter().zip(["-ETXTBSY", "-EDEADLK"]) {
        let r = kmodcheck::engine::replay(
            &format!("loom:{}:{}:1", c.variant, c.scenario),
            &kmodcheck::model::scenario::catalogue(),
        )
        .unwrap();
        assert_eq!(r.record.modules.get("aes-arm-bs"), Some(&ModState::Live));
        assert!(r.record.render().contains(err), "{}", r.record.render());
    }
}

/// consistent-result takes -EDEADLK only where there is recursion: the
/// recursion-aware proposal's -EDEADLK on recursive-self-load (the helper ran
/// into its own parent's load) is accepted, in every interleaving, and the
/// check is reached (witness). mutant-recursion-any-load's -EDEADLK for a
/// plain concurrent waiter is refused (`every_mutant_is_killed`).
fn consistent_result_takes_edeadlk_only_from_real_recursion(_: &[CellResult]) {
    let mut sc = kmodcheck::model::scenario::catalogue()
        .into_iter()
        .find(|s| s.name == "recursive-self-load")
        .unwrap();
    assert!(!sc.properties.iter().any(|p| p == "consistent-result"));
    sc.properties = vec!["consistent-result".into()];
    let v = kmodcheck::model::variant::by_id(R).unwrap();
    for engine in [EngineKind::Stateful, EngineKind::Loom] {
        let c = kmodcheck::engine::check_cell(
            v,
            &sc,
            &kmodcheck::engine::CheckOptions {
                engine: Some(engine),
                ..Default::default()
            },
        )
        .unwrap();
        assert!(
            matches!(
                verdict(&c, "consistent-result"),
                Verdict::Holds { exhaustive: true }
            ),
            "{}: {}",
            engine.name(),
            describe(verdict(&c, "consistent-result"))
        );
    }
    // The -EDEADLK really is among the results it judged.
    let r = kmodcheck::engine::replay(
        &format!("loom:{R}:recursive-self-load:1"),
        &kmodcheck::model::scenario::catalogue(),
    )
    .unwrap();
    let t = r.record.render();
    assert!(t.contains("-EDEADLK") && t.contains("recursion"), "{t}");
}

/// A check of the whole catalogue, given its results in catalogue order.
pub type Check = fn(&[CellResult]);

/// The checks, by name: each a trial `history::NAME` of the cells' binary.
pub const CHECKS: &[(&str, Check)] = &[
    ("history_table", history_table),
    (
        "history_rows_are_in_the_catalogue",
        history_rows_are_in_the_catalogue,
    ),
    ("every_mutant_is_killed", every_mutant_is_killed),
    ("readme_shows_the_kill_table", readme_shows_the_kill_table),
    ("reports_are_current", reports_are_current),
    (
        "recursion_is_really_exercised",
        recursion_is_really_exercised,
    ),
    (
        "consistent_result_takes_edeadlk_only_from_real_recursion",
        consistent_result_takes_edeadlk_only_from_real_recursion,
    ),
];
