//! Loader variants: each a real kernel state or a fix proposal, as data.
//!
//! A variant is a named value that picks one policy at each variation point.
//! The model functions `match` on the policy where the kernels differ, and
//! nowhere else. To add a fix proposal:
//!
//! 1. add one [`Variant`] value to [`catalogue`];
//! 2. if it needs behaviour no existing arm has, add one arm to the policy
//!    enum of the function it changes, and the code of that arm in that
//!    function (the compiler then lists every `match` that must handle it).
//!
//! Nothing else changes: scenarios, properties, engines and reports read
//! the catalogue.

use serde::Serialize;

/// How `finit_module(2)` treats a second load of a file already being loaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum FinitDedup {
    /// No in-flight table: only the name check in `load_module` notices a
    /// duplicate (v6.4 and earlier).
    NameCheckOnly,
    /// 9828ed3f695a (v6.4-rc4): `exclusive_deny_write_access()` on the file
    /// for the whole load and init; a concurrent finit of the same inode
    /// fails at once with `-ETXTBSY`. Reverted by ac2263b588df.
    ExclusiveDenyWrite,
    /// 9b9879fc0327 (v6.5): `idempotent()` links an entry keyed by the inode;
    /// later callers wait for the first one's result.
    Idempotent,
}

/// How a waiter in the in-flight table waits (`idempotent_init_module`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum IdemWait {
    /// 9b9879fc0327 (v6.5): `wait_for_completion()`, uninterruptible, forever;
    /// `ret` starts at 0 and the completer uses `hlist_del`.
    Uninterruptible,
    /// cb5b81bc9a44 (v6.11-rc3): `wait_for_completion_timeout(10*HZ)` in a
    /// loop with `pr_warn_once("module '%pD' taking a long time to load")`.
    /// Still uninterruptible, still forever.
    TimeoutWarn,
    /// 2124d84db293 (v6.11-rc3): `wait_for_completion_interruptible()`; `ret`
    /// starts at `-EINTR`, the completer uses `hlist_del_init`, and an
    /// interrupted waiter unlinks its own entry under `idem_lock` if it is
    /// still hashed.
    Interruptible,
    /// Proposal (`idem-timeout`, this project's worked example):
    /// `wait_for_completion_killable_timeout(&u->complete, 30 * HZ)`. A waiter
    /// that times out or is killed takes `idem_lock`: if its entry is still
    /// hashed it unlinks it (`hlist_del_init`) and returns `-ETIMEDOUT` (or
    /// `-EINTR`); if the completer got there first, it returns `u->ret`.
    KillableTimeout,
}

/// What a waiter does when its own request ancestry holds the in-flight load.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum RecursionPolicy {
    /// The kernel as merged: the loader cannot see the recursion (cb5b81bc9a44:
    /// "the module load is always done from a usermode helper").
    Blind,
    /// Proposal: `request_module` passes the requesting task's identity to its
    /// helper; a finit whose ancestry holds the in-flight entry's owner unlinks
    /// its own entry and fails at once with `-EDEADLK`. Unrelated waiters
    /// still wait.
    ///
    /// The owner it compares is that of the entry `idempotent()` found: the
    /// first with the cookie on the hash chain, which is the newest
    /// (`hlist_add_head`), so possibly another waiter, not the loader.
    /// `kmodcheck fuzz` found the deadlock this leaves (README, "Findings").
    AncestryCheck,
    /// Proposal (kmodcheck's mend of the above): the waiter walks every
    /// entry with its cookie under `idem_lock`, and fails with `-EDEADLK`
    /// if any entry's owner is in its ancestry.
    AncestryCheckEveryEntry,
}

/// Where `struct idempotent` lives, and what a forced unload does with a
/// module whose init crashed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum IdemStorage {
    /// 9b9879fc0327: on the stack of `idempotent_init_module()`. If the
    /// winner's task dies in init (an oops), its entry stays linked in
    /// `idem_hash`, pointing into a dead stack, and nothing ever completes
    /// it. `delete_module()` refuses a module that is not LIVE (`-EBUSY`).
    Stack,
    /// julian-lagattuta's 2025 series "module: enable force unloading of
    /// modules that have crashed during init" (not merged): the entry is
    /// `kmalloc`ed and stored in `mod->idempotent`; each owner `kfree`s its
    /// own after use. `delete_module(O_TRUNC)` of a COMING module whose init
    /// task is gone unloads it and calls `idempotent_complete(mod->idempotent,
    /// -EBUSY)`, so the waiters return `-EBUSY`.
    HeapForceUnload,
}

/// Whether `crypto_register_alg` waits for the algorithm's self-test.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum CryptoTest {
    /// Before v6.12: `crypto_wait_for_test()` waits, killable, on the larval's
    /// completion, which the `cryptomgr_test` kthread completes.
    WaitForTest,
    /// 37da5d0ffa7b (v6.12-rc1, "crypto: api - Do not wait for tests during
    /// registration"): `crypto_schedule_test()` starts the test and returns.
    Async,
}

/// The `request_module` budget (`kernel/kmod.c`; `kernel/module/kmod.c`
/// since v6.4). A budget combines with any loader variant: `LOADER+BUDGET`
/// on the command line (`idempotent+kmod-2008`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KmodBudget {
    /// 2008 (the LWN "runaway loop" code, until v4.13): `atomic_inc(&kmod_concurrent)`;
    /// above `max_modprobes` print "request_module: runaway loop modprobe %s"
    /// (at most 5 times), decrement and return `-ENOMEM`.
    FailFast2008,
    /// 6d7964a722af (v4.13-rc1, "kmod: throttle kmod thread limit"): with no
    /// slot free, `wait_event_interruptible(kmod_wq,
    /// atomic_dec_if_positive(&kmod_concurrent_max) >= 0)`, with no timeout
    /// and its result ignored.
    Throttle,
    /// The v4.13-rc follow-up "kmod: fix wait on recursive loop" (commit id
    /// not verified here): `wait_event_killable_timeout(kmod_wq, ..,
    /// MAX_KMOD_ALL_BUSY_TIMEOUT * HZ)`, 5 s; a timeout returns `-ETIME`
    /// ("kmod busy with %d threads for more than %d seconds now"), SIGKILL
    /// returns `-ERESTARTSYS`.
    ThrottleTimeout,
    /// 25a1b5b518f4 (v6.4): `down_timeout(&kmod_concurrent_max,
    /// MAX_KMOD_ALL_BUSY_TIMEOUT * HZ)`, an uninterruptible 5 s wait for a
    /// semaphore slot; `-ETIME` on timeout; `up()` after the helper.
    Semaphore,
}

impl KmodBudget {
    /// Every budget, in history order.
    pub const ALL: [KmodBudget; 4] = [
        KmodBudget::FailFast2008,
        KmodBudget::Throttle,
        KmodBudget::ThrottleTimeout,
        KmodBudget::Semaphore,
    ];

    /// Command-line id.
    pub fn id(self) -> &'static str {
        match self {
            KmodBudget::FailFast2008 => "kmod-2008",
            KmodBudget::Throttle => "kmod-throttle",
            KmodBudget::ThrottleTimeout => "kmod-throttle-timeout",
            KmodBudget::Semaphore => "kmod-semaphore",
        }
    }

    /// Kernel commit or version.
    pub fn kernel(self) -> &'static str {
        match self {
            KmodBudget::FailFast2008 => "2008, until v4.13",
            KmodBudget::Throttle => "6d7964a722af (v4.13-rc1)",
            KmodBudget::ThrottleTimeout => {
                "\"kmod: fix wait on recursive loop\" (v4.13-rc, id unverified)"
            }
            KmodBudget::Semaphore => "25a1b5b518f4 (v6.4)",
        }
    }

    /// Look a budget up by id.
    pub fn by_id(id: &str) -> Option<KmodBudget> {
        KmodBudget::ALL.into_iter().find(|b| b.id() == id)
    }
}

/// A budget is written by its id (`"kmod-semaphore"`), in JSON and in a
/// scenario file's `[[expect]]`.
impl Serialize for KmodBudget {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

impl<'de> serde::Deserialize<'de> for KmodBudget {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        const IDS: &[&str] = &[
            "kmod-2008",
            "kmod-throttle",
            "kmod-throttle-timeout",
            "kmod-semaphore",
        ];
        let id = String::deserialize(d)?;
        KmodBudget::by_id(&id).ok_or_else(|| serde::de::Error::unknown_variant(&id, IDS))
    }
}

/// One line per policy, for `kmodcheck explain`: next to the enums, so a
/// new arm gets its words where it is declared.
impl FinitDedup {
    /// What this policy does, with its commit.
    pub fn describe(self) -> &'static str {
        match self {
            FinitDedup::NameCheckOnly => "no in-flight table: only the name check in load_module sees a duplicate (v6.4 and earlier)",
            FinitDedup::ExclusiveDenyWrite => "exclusive_deny_write_access on the file; a concurrent finit fails with -ETXTBSY (9828ed3f695a, reverted)",
            FinitDedup::Idempotent => "in-flight table: idempotent() links an entry per inode; later callers wait for the first one's result (9b9879fc0327)",
        }
    }
}

impl IdemWait {
    /// What this policy does, with its commit.
    pub fn describe(self) -> &'static str {
        match self {
            IdemWait::Uninterruptible => "wait_for_completion: uninterruptible, forever (9b9879fc0327)",
            IdemWait::TimeoutWarn => "uninterruptible, with one warning after 10 s, forever (cb5b81bc9a44)",
            IdemWait::Interruptible => "wait_for_completion_interruptible; ret starts at -EINTR, hlist_del_init, self-unlink under idem_lock (2124d84db293)",
            IdemWait::KillableTimeout => "killable, at most 30 s; a waiter that leaves unlinks its own entry and returns -ETIMEDOUT or -EINTR; time passes in every scenario checked under it (proposal)",
        }
    }
}

impl RecursionPolicy {
    /// What this policy does.
    pub fn describe(self) -> &'static str {
        match self {
            RecursionPolicy::Blind => "the loader cannot see a recursive request (the kernel as merged)",
            RecursionPolicy::AncestryCheck => "request_module passes the requester; a waiter whose ancestry holds the load fails with -EDEADLK (proposal)",
            RecursionPolicy::AncestryCheckEveryEntry => "as the ancestry check, but against the owner of every in-flight entry of the file, not only the first found (proposal)",
        }
    }
}

impl IdemStorage {
    /// What this policy does.
    pub fn describe(self) -> &'static str {
        match self {
            IdemStorage::Stack => "on the loader's stack; delete_module refuses a module that is not LIVE",
            IdemStorage::HeapForceUnload => "kmalloc'ed; rmmod -f of a module whose init task died completes its waiters with -EBUSY (2025 proposal)",
        }
    }
}

impl CryptoTest {
    /// What this policy does, with its commit.
    pub fn describe(self) -> &'static str {
        match self {
            CryptoTest::WaitForTest => "crypto_register_alg waits for the self-test (before v6.12)",
            CryptoTest::Async => {
                "crypto_register_alg does not wait for the self-test (37da5d0ffa7b)"
            }
        }
    }
}

impl NameCheck {
    /// What this policy does, with its commit.
    pub fn describe(self) -> &'static str {
        match self {
            NameCheck::AnyIsLoaded => "load_module refuses any same-name module with -EEXIST, one still in init included; nothing waits (before 1fb9341ac348, v3.8)",
            NameCheck::GoingIsLoaded => "waits on module_wq for UNFORMED or COMING, then looks again; LIVE or GOING: -EEXIST (1fb9341ac348, v3.8, to v5.2)",
            NameCheck::WaitAndRetry => "waits on module_wq for anything not LIVE, GOING too, then looks again; gone: loads it itself (6e6de3dee51a, v5.3, to v6.1)",
            NameCheck::Patient => "waits once for UNFORMED or COMING; LIVE: -EEXIST, GOING or gone: -EBUSY (0254127ab977, v6.2)",
        }
    }
}

impl UmhWait {
    /// What this policy does, with its commit.
    pub fn describe(self) -> &'static str {
        match self {
            UmhWait::Uninterruptible => "wait_for_completion: nothing frees the requester before its helper exits (before v3.4)",
            UmhWait::Killable => "UMH_KILLABLE: wait_for_completion_killable; SIGKILL returns -ERESTARTSYS and the helper runs on (v3.4)",
        }
    }
}

impl KmodBudget {
    /// What this budget does when no slot is free.
    pub fn describe(self) -> &'static str {
        match self {
            KmodBudget::FailFast2008 => {
                "over the limit: -ENOMEM and \"runaway loop\" (at most 5 times)"
            }
            KmodBudget::Throttle => {
                "wait_event_interruptible for a slot, no timeout, result ignored"
            }
            KmodBudget::ThrottleTimeout => "wait_event_killable_timeout, 5 s, -ETIME",
            KmodBudget::Semaphore => "down_timeout on a semaphore, 5 s, -ETIME",
        }
    }
}

/// What the name check (`add_unformed_module()`, and since f71afa6a4201
/// `module_patient_check_exists()`, kernel/module/main.c) does when a module
/// of the same name is on the list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum NameCheck {
    /// Before 1fb9341ac348 (v3.8, "module: put modules in list much
    /// earlier"): `load_module()` ran under `module_mutex` and refused any
    /// module of the same name with `-EEXIST` (`if (find_module(mod->name))`),
    /// whatever its state: a load still in its init (COMING) counts as
    /// loaded, and nothing waits. The model keeps its UNFORMED step, which
    /// the check refuses the same way (a second loader blocked on
    /// `module_mutex` until the first was COMING, then got `-EEXIST`).
    AnyIsLoaded,
    /// 1fb9341ac348 (v3.8) to before 6e6de3dee51a (v5.3): an UNFORMED or COMING module is waited
    /// for (`wait_event_interruptible(module_wq, finished_loading(name))`,
    /// `finished_loading`: absent, LIVE or GOING), then the check starts
    /// again (`goto again`); a LIVE *or GOING* module gives `-EEXIST`, which
    /// modprobe takes as loaded.
    GoingIsLoaded,
    /// 6e6de3dee51a (v5.3-rc1) to v6.1: every module that is not LIVE is
    /// waited for (`finished_loading`: absent or LIVE), GOING too, then the
    /// check starts again: a waiter whose module failed loads it itself,
    /// and init runs again.
    WaitAndRetry,
    /// 0254127ab977 (v6.2, "module: Don't wait for GOING modules"): only an
    /// UNFORMED or COMING module is waited for (`finished_loading`: absent,
    /// LIVE or GOING), once; then LIVE gives `-EEXIST` and anything else,
    /// or nothing, `-EBUSY`. No retry.
    Patient,
}

impl NameCheck {
    /// Whether the check starts again from the top after its wait.
    pub fn retries(self) -> bool {
        match self {
            NameCheck::GoingIsLoaded | NameCheck::WaitAndRetry => true,
            NameCheck::AnyIsLoaded | NameCheck::Patient => false,
        }
    }
}

/// How `call_usermodehelper_exec()` waits for the modprobe helper that
/// `__request_module()` started (`UMH_WAIT_PROC`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum UmhWait {
    /// Before v3.4: `wait_for_completion()`: nothing, SIGKILL included,
    /// frees the requester before its helper exits.
    Uninterruptible,
    /// `UMH_KILLABLE` (d0bd587a8096 "usermodehelper: implement
    /// UMH_KILLABLE" and 1cc684ab7512 "kmod: make __request_module()
    /// killable", v3.4-rc1, CVE-2012-4398; ids as the series is known, not
    /// checked against a tree here): `wait_for_completion_killable()`.
    Killable,
}

/// How userspace hands a module to the kernel: kmod's `modprobe` and
/// `insmod` through libkmod's `kmod_module_insert_module()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Userspace {
    /// `finit_module(2)` on the opened file: what libkmod does for an
    /// uncompressed module, or a compressed one the kernel decompresses
    /// itself (`MODULE_INIT_COMPRESSED_FILE`).
    Finit,
    /// libkmod's fallback: it reads (and decompresses) the file itself and
    /// calls `init_module(2)` with the image, when `finit_module` cannot
    /// take the file: `-ENOSYS` for a compressed module the kernel cannot
    /// decompress, and in older kmod for every compressed module (Petr
    /// Pavlu and Lucas De Marchi, LKML, May 2023). `init_module(2)` goes
    /// straight to `load_module()`: no in-flight table, no deny-write.
    InitModule,
}

impl Userspace {
    /// Every userspace, finit first.
    pub const ALL: [Userspace; 2] = [Userspace::Finit, Userspace::InitModule];

    /// Command-line id (`LOADER+USERSPACE`, `LOADER+BUDGET+USERSPACE`).
    pub fn id(self) -> &'static str {
        match self {
            Userspace::Finit => "libkmod-finit",
            Userspace::InitModule => "libkmod-init-module",
        }
    }

    /// What this userspace does.
    pub fn describe(self) -> &'static str {
        match self {
            Userspace::Finit => "libkmod calls finit_module(2) on the module file",
            Userspace::InitModule => "libkmod reads the file itself and calls init_module(2) with the image (its fallback when finit_module cannot take a compressed file): no in-flight table, no deny-write",
        }
    }

    /// Look one up by id.
    pub fn by_id(id: &str) -> Option<Userspace> {
        Userspace::ALL.into_iter().find(|u| u.id() == id)
    }
}

/// `CONFIG_MODULE_DEBUG_AUTOLOAD_DUPS` (8660484ed1cf, v6.4,
/// kernel/module/dups.c): what `__request_module()` does with a second
/// request for a name whose first is still in flight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum AutoloadDups {
    /// The option off (the default): every request runs its own modprobe.
    Off,
    /// The option on: after taking its kmod slot, a request looks the name
    /// up (`kmod_dup_request_exists_wait()`); a duplicate prints
    /// "module-autoload: duplicate request for module %s" and waits,
    /// killably and still holding its slot, for the first request's result
    /// (`wait_for_completion_state(TASK_KILLABLE)`), which
    /// `kmod_dup_request_announce()` stores after the first's modprobe; a
    /// later request gets the stored result at once (the model keeps it; the
    /// kernel drops it 60 s later).
    WaitForFirst,
}

impl AutoloadDups {
    /// What this policy does, with its commit.
    pub fn describe(self) -> &'static str {
        match self {
            AutoloadDups::Off => "CONFIG_MODULE_DEBUG_AUTOLOAD_DUPS off: every request runs modprobe",
            AutoloadDups::WaitForFirst => "CONFIG_MODULE_DEBUG_AUTOLOAD_DUPS=y: a duplicate request waits killably, holding its kmod slot, for the first one's result (8660484ed1cf)",
        }
    }
}

/// Where a variant comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Origin {
    /// A state of the kernel tree (merged, possibly later reverted).
    Kernel,
    /// A proposal that was not merged.
    Proposal,
    /// A seeded bug the model must catch: not a kernel, never reported as one.
    Mutant,
}

/// A seeded bug (a mutant): the one line of a kernel variant it changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Mutant {
    /// `idempotent_complete()` uses `hlist_del()` (poisoning `pprev`) where
    /// 2124d84db293 uses `hlist_del_init()`: an interrupted waiter then sees
    /// its entry as still hashed and unlinks it a second time.
    CompleterHlistDel,
    /// The waiter's `ret` starts at 0 instead of `-EINTR`: an interrupted
    /// waiter reports success for a load that has not finished.
    RetStartsAtZero,
    /// An interrupted waiter tests and unlinks its own entry without
    /// `idem_lock`: the completer can unlink it in between, and the
    /// waiter's `hlist_del()` then writes through a NULL `pprev`.
    SelfUnlinkUnlocked,
    /// `free_module()` leaves out `wake_up_all(&module_wq)`: a name-check
    /// waiter of a failed load sleeps on (a lost wake-up).
    NoWakeOnFailedLoad,
    /// `idempotent()` links its entry only when it is the first for the
    /// cookie (`hlist_add_head` moved under `if (first)`): a waiter's own
    /// entry is never in `idem_hash`, so `idempotent_complete()` never
    /// completes it. (Dropping the winner's link too would leave the table
    /// empty, which is v6.4 behaviour that the result properties accept.)
    WaiterNotLinked,
    /// `idempotent_complete()` breaks out of its walk after the first entry
    /// it completes: with two waiters, the older one is never completed.
    CompleteFirstOnly,
    /// The waiter reads `idem.ret` before `wait_for_completion()`
    /// (`ret = u->ret; wait...; return ret;`): it returns the initial value,
    /// not the winner's result.
    RetReadBeforeWait,
    /// The 2008 budget's over-limit path returns `-ENOMEM` without
    /// `atomic_dec(&kmod_concurrent)`: every refused request leaks a slot.
    KmodNoDecOnError,
    /// `module_patient_check_exists()` leaves out the re-lookup after its
    /// wait ("The module might have gone in the meantime."): it reads
    /// `old->state` through the pointer it had before sleeping, into a
    /// `struct module` that `free_module()` may have freed.
    NoRelookupAfterWait,
    /// `module_patient_check_exists()` takes a COMING module as loaded: no
    /// wait on `module_wq`, `-EEXIST` at once, as for LIVE. modprobe then
    /// reports success while the module's init is still running, or about
    /// to fail. `success-means-live` catches it only by reading the module
    /// list as `finit_module` returns, not by trusting the name check.
    ComingIsLoaded,
    /// `load_module()` skips `complete_formation()`: the module goes from
    /// UNFORMED straight into `do_init_module()`, never COMING (no RO/NX
    /// protection, no `MODULE_STATE_COMING` notifiers before init runs).
    SkipCompleteFormation,
    /// `resolve_symbol()` takes a COMING provider as LIVE (no
    /// `strong_try_module_get()` `-EBUSY`): the importer can go LIVE while
    /// its provider's init is still running, or then fails.
    ResolveComingAsLive,
    /// `call_usermodehelper_exec()` waits for the helper with
    /// `wait_for_completion()`, without `UMH_KILLABLE`: SIGKILL no longer
    /// frees the requester.
    HelperWaitNotKillable,
    /// The recursion-aware proposal's waiter (either form) takes every in-flight load as
    /// recursion (its ancestry test left out): a plain concurrent waiter
    /// fails with `-EDEADLK` although the load it waits for completes.
    RecursionAnyLoad,
}

/// A mutant, the scenario it is seeded for, and the property that must
/// catch it there (the kernel it mutates must hold that property on it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct MutantSpec {
    /// The mutated variant.
    pub variant: Variant,
    /// The kernel variant it mutates (by id).
    pub of: &'static str,
    /// The scenario it is checked on.
    pub scenario: &'static str,
    /// The property expected to be violated.
    pub property: &'static str,
}

/// One loader variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Variant {
    /// Short id used on the command line and in reports.
    pub id: &'static str,
    /// Kernel commit or version this variant is.
    pub kernel: &'static str,
    /// The releases a kernel variant models, oldest first (`v5.3 – v6.1`);
    /// empty for a state that was never a release (an -rc form, a reverted
    /// commit), a proposal or a mutant. `kmodcheck list` shows the
    /// timeline.
    pub releases: &'static str,
    /// One line: what changes.
    pub summary: &'static str,
    /// Kernel state or proposal.
    pub origin: Origin,
    /// Duplicate handling in `finit_module`.
    finit: FinitDedup,
    /// Kind of wait in the in-flight table (ignored without one).
    idem_wait: IdemWait,
    /// Recursion detection (proposals only).
    recursion: RecursionPolicy,
    /// Where the in-flight entry lives (ignored without an in-flight table).
    idem_storage: IdemStorage,
    /// Crypto registration and its self-test.
    crypto: CryptoTest,
    /// The kmod budget of `request_module`.
    kmod: KmodBudget,
    /// The name check's handling of a same-name module.
    name_check: NameCheck,
    /// The wait for a usermode helper.
    umh: UmhWait,
    /// The syscall userspace loads modules with.
    userspace: Userspace,
    /// Duplicate `request_module()` calls.
    autoload_dups: AutoloadDups,
    /// The seeded bug of a mutant (`None` for kernels and proposals).
    mutant: Option<Mutant>,
}

/// The policies of a [`Variant`], one bit each in a [`Consulted`] mask, and
/// after them the reads of less than a whole policy: a run that learns only
/// whether the in-flight wait is timed ([`Variant::needs_time`]) shares its
/// search with a variant whose wait differs otherwise.
const POLICIES: [&str; 12] = [
    "finit",
    "idem_wait",
    "recursion",
    "idem_storage",
    "crypto",
    "kmod",
    "name_check",
    "umh",
    "userspace",
    "autoload_dups",
    "mutant",
    "idem_wait (timed or not)",
];

/// A variant's policies, as [`Variant::policies`] reads them.
#[allow(missing_docs)]
pub struct Policies {
    pub finit: FinitDedup,
    pub idem_wait: IdemWait,
    pub recursion: RecursionPolicy,
    pub idem_storage: IdemStorage,
    pub crypto: CryptoTest,
    pub kmod: KmodBudget,
    pub name_check: NameCheck,
    pub umh: UmhWait,
    pub userspace: Userspace,
    pub autoload_dups: AutoloadDups,
    pub mutant: Option<Mutant>,
}

/// Which of a variant's policies a run read ([`consulted`]): one bit per
/// policy, in the order of [`POLICIES`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Consulted(u16);

impl Consulted {
    /// The names of the policies read.
    pub fn names(self) -> Vec<&'static str> {
        POLICIES
            .iter()
            .enumerate()
            .filter(|(i, _)| self.0 & (1 << i) != 0)
            .map(|(_, n)| *n)
            .collect()
    }
}

thread_local! {
    /// The policies read on this thread since [`consulted`] began, if it did.
    static CONSULTED: std::cell::Cell<Option<u16>> = const { std::cell::Cell::new(None) };
}

fn read(bit: u16) {
    CONSULTED.with(|c| {
        if let Some(m) = c.get() {
            c.set(Some(m | (1 << bit)));
        }
    });
}

/// Run `f` and say which policies of any variant it read on this thread
/// (the model reads a variant only through the accessors below, which the
/// fields' privacy enforces outside this module). A run that reads the
/// same policies with the same values does the same: the model is
/// deterministic, and a variant is nothing else to it.
pub fn consulted<R>(f: impl FnOnce() -> R) -> (R, Consulted) {
    let before = CONSULTED.with(|c| c.replace(Some(0)));
    let r = f();
    let mask = CONSULTED.with(|c| c.replace(before)).unwrap_or(0);
    if let Some(b) = before {
        // A nested run's reads are the outer run's too.
        CONSULTED.with(|c| c.set(Some(b | mask)));
    }
    (r, Consulted(mask))
}

impl Variant {
    /// The `finit` policy (a read: see [`consulted`]).
    pub fn finit(&self) -> FinitDedup {
        read(0);
        self.finit
    }

    /// The `idem_wait` policy (a read: see [`consulted`]).
    pub fn idem_wait(&self) -> IdemWait {
        read(1);
        self.idem_wait
    }

    /// The `recursion` policy (a read: see [`consulted`]).
    pub fn recursion(&self) -> RecursionPolicy {
        read(2);
        self.recursion
    }

    /// The `idem_storage` policy (a read: see [`consulted`]).
    pub fn idem_storage(&self) -> IdemStorage {
        read(3);
        self.idem_storage
    }

    /// The `crypto` policy (a read: see [`consulted`]).
    pub fn crypto(&self) -> CryptoTest {
        read(4);
        self.crypto
    }

    /// The `kmod` policy (a read: see [`consulted`]).
    pub fn kmod(&self) -> KmodBudget {
        read(5);
        self.kmod
    }

    /// The `name_check` policy (a read: see [`consulted`]).
    pub fn name_check(&self) -> NameCheck {
        read(6);
        self.name_check
    }

    /// The `umh` policy (a read: see [`consulted`]).
    pub fn umh(&self) -> UmhWait {
        read(7);
        self.umh
    }

    /// The `userspace` policy (a read: see [`consulted`]).
    pub fn userspace(&self) -> Userspace {
        read(8);
        self.userspace
    }

    /// The `autoload_dups` policy (a read: see [`consulted`]).
    pub fn autoload_dups(&self) -> AutoloadDups {
        read(9);
        self.autoload_dups
    }

    /// The `mutant` policy (a read: see [`consulted`]).
    pub fn mutant(&self) -> Option<Mutant> {
        read(10);
        self.mutant
    }

    /// Every policy at once, for a description of the variant (`kmodcheck
    /// explain`), whose destructuring of [`Policies`] makes a new policy a
    /// compile error there until it is described. Reads them all.
    pub fn policies(&self) -> Policies {
        let Variant {
            id: _,
            kernel: _,
            releases: _,
            summary: _,
            origin: _,
            finit: _,
            idem_wait: _,
            recursion: _,
            idem_storage: _,
            crypto: _,
            kmod: _,
            name_check: _,
            umh: _,
            userspace: _,
            autoload_dups: _,
            mutant: _,
        } = self;
        Policies {
            finit: self.finit(),
            idem_wait: self.idem_wait(),
            recursion: self.recursion(),
            idem_storage: self.idem_storage(),
            crypto: self.crypto(),
            kmod: self.kmod(),
            name_check: self.name_check(),
            umh: self.umh(),
            userspace: self.userspace(),
            autoload_dups: self.autoload_dups(),
            mutant: self.mutant(),
        }
    }

    /// Whether `other` has this variant's value of every policy in `mask`:
    /// then a run of `other` that reads only those policies does what this
    /// variant's did.
    pub fn agrees_on(&self, other: &Variant, mask: Consulted) -> bool {
        let same = [
            self.finit == other.finit,
            self.idem_wait == other.idem_wait,
            self.recursion == other.recursion,
            self.idem_storage == other.idem_storage,
            self.crypto == other.crypto,
            self.kmod == other.kmod,
            self.name_check == other.name_check,
            self.umh == other.umh,
            self.userspace == other.userspace,
            self.autoload_dups == other.autoload_dups,
            self.mutant == other.mutant,
            self.timed_idem_wait() == other.timed_idem_wait(),
        ];
        same.iter()
            .enumerate()
            .all(|(i, same)| mask.0 & (1 << i) == 0 || *same)
    }
}

const BASE: Variant = Variant {
    id: "",
    kernel: "",
    releases: "",
    summary: "",
    origin: Origin::Kernel,
    finit: FinitDedup::NameCheckOnly,
    idem_wait: IdemWait::Uninterruptible,
    recursion: RecursionPolicy::Blind,
    idem_storage: IdemStorage::Stack,
    crypto: CryptoTest::WaitForTest,
    // v6.4 unless a variant says otherwise: the semaphore, the patient
    // name check of 0254127ab977 (v6.2), UMH_KILLABLE (v3.4).
    kmod: KmodBudget::Semaphore,
    name_check: NameCheck::Patient,
    umh: UmhWait::Killable,
    userspace: Userspace::Finit,
    autoload_dups: AutoloadDups::Off,
    mutant: None,
};

/// The seeded-bug variants (the mutation suite), each with the scenario it
/// is meant to be caught on and the property that must catch it. Kept out
/// of [`catalogue`] and of the matrix, so no report mistakes one for a
/// kernel; `reports/mutants.md` is their kill table.
pub fn mutants() -> &'static [MutantSpec] {
    const N: Variant = Variant {
        id: "",
        kernel: "mutant of 2124d84db293",
        summary: "",
        origin: Origin::Mutant,
        finit: FinitDedup::Idempotent,
        idem_wait: IdemWait::Interruptible,
        ..BASE
    };
    const L: Variant = Variant {
        kernel: "mutant of v6.4",
        origin: Origin::Mutant,
        ..BASE
    };
    const fn m(
        id: &'static str,
        base: Variant,
        of: &'static str,
        summary: &'static str,
        mutant: Mutant,
        scenario: &'static str,
        property: &'static str,
    ) -> MutantSpec {
        MutantSpec {
            variant: Variant {
                id,
                summary,
                mutant: Some(mutant),
                ..base
            },
            of,
            scenario,
            property,
        }
    }
    const NID: &str = "idempotent-interruptible";
    const ALL: &[MutantSpec] = &[
        m(
            "mutant-hlist-del",
            N,
            NID,
            "idempotent_complete() uses hlist_del, not hlist_del_init",
            Mutant::CompleterHlistDel,
            "interrupted-waiter",
            "idem-memory-safety",
        ),
        m(
            "mutant-ret-zero",
            N,
            NID,
            "the waiter's ret starts at 0, not -EINTR",
            Mutant::RetStartsAtZero,
            "interrupted-waiter",
            "success-means-live",
        ),
        m(
            "mutant-unlocked-unlink",
            N,
            NID,
            "an interrupted waiter unlinks its own entry without idem_lock",
            Mutant::SelfUnlinkUnlocked,
            "interrupted-waiter",
            "idem-memory-safety",
        ),
        m(
            "mutant-lost-wakeup",
            L,
            "legacy",
            "free_module() does not wake module_wq after a failed load",
            Mutant::NoWakeOnFailedLoad,
            "failing-init",
            "no-deadlock",
        ),
        m(
            "mutant-waiter-unlinked",
            N,
            NID,
            "idempotent() links a waiter's own entry only if it is the first",
            Mutant::WaiterNotLinked,
            "concurrent-same-file-2",
            "no-deadlock",
        ),
        m(
            "mutant-complete-one",
            N,
            NID,
            "idempotent_complete() completes only the first entry it finds",
            Mutant::CompleteFirstOnly,
            "concurrent-same-file-3",
            "no-deadlock",
        ),
        m(
            "mutant-early-ret",
            N,
            NID,
            "the waiter reads idem.ret before its wait for the completion",
            Mutant::RetReadBeforeWait,
            "concurrent-same-file-2",
            "consistent-result",
        ),
        m(
            "mutant-kmod-leak",
            Variant {
                kmod: KmodBudget::FailFast2008,
                ..N
            },
            "idempotent-interruptible+kmod-2008",
            "the 2008 budget returns -ENOMEM without atomic_dec(&kmod_concurrent)",
            Mutant::KmodNoDecOnError,
            "deep-recursion",
            "budget-respected",
        ),
        m(
            "mutant-no-relookup",
            L,
            "legacy",
            "module_patient_check_exists() reads old->state after its wait without looking the module up again",
            Mutant::NoRelookupAfterWait,
            "failing-init",
            "module-memory-safety",
        ),
        m(
            "mutant-coming-loaded",
            L,
            "legacy",
            "module_patient_check_exists() returns -EEXIST for a COMING module, as for a LIVE one",
            Mutant::ComingIsLoaded,
            "concurrent-same-file-2",
            "success-means-live",
        ),
        m(
            "mutant-no-coming",
            N,
            NID,
            "load_module() skips complete_formation(): init runs on an UNFORMED module",
            Mutant::SkipCompleteFormation,
            "concurrent-same-file-2",
            "coming-before-init",
        ),
        m(
            "mutant-coming-is-live",
            N,
            NID,
            "resolve_symbol() takes a COMING provider as LIVE",
            Mutant::ResolveComingAsLive,
            "insmod-dependent",
            "live-deps",
        ),
        m(
            "mutant-umh-unkillable",
            N,
            NID,
            "call_usermodehelper_exec() waits for the helper without UMH_KILLABLE",
            Mutant::HelperWaitNotKillable,
            "recursive-self-load+kill-outer",
            "terminates-when-killed",
        ),
        m(
            "mutant-recursion-any-load",
            Variant {
                kernel: "mutant of the recursion-aware-every-entry proposal",
                recursion: RecursionPolicy::AncestryCheckEveryEntry,
                ..N
            },
            "recursion-aware-every-entry",
            "the recursion check takes every in-flight load as recursion",
            Mutant::RecursionAnyLoad,
            "concurrent-same-file-2",
            "consistent-result",
        ),
    ];
    ALL
}

/// Every built-in variant, in history order.
pub fn catalogue() -> &'static [Variant] {
    // The releases before v6.4: no in-flight table, and the name check,
    // the helper wait and the kmod budget as each release had them
    // (docs/kernel.md §3).
    const OLD: Variant = Variant {
        kmod: KmodBudget::FailFast2008,
        name_check: NameCheck::AnyIsLoaded,
        ..BASE
    };
    const ALL: &[Variant] = &[
        Variant {
            id: "v2.6.28",
            kernel: "before d0bd587a8096 and 1fb9341ac348: no UMH_KILLABLE; load_module() refuses any same-name module with -EEXIST; the 2008 budget",
            releases: "v2.6.28 – v3.3",
            summary: "request_module waits for its helper uninterruptibly; a module still in init counts as loaded",
            umh: UmhWait::Uninterruptible,
            ..OLD
        },
        Variant {
            id: "v3.4",
            kernel: "UMH_KILLABLE (d0bd587a8096, 1cc684ab7512; CVE-2012-4398); the name check and budget of v2.6.28",
            releases: "v3.4 – v3.7",
            summary: "as v2.6.28, but SIGKILL frees a requester waiting for its helper",
            ..OLD
        },
        Variant {
            id: "v3.8",
            kernel: "1fb9341ac348 (modules on the list UNFORMED; the name check waits for UNFORMED or COMING, then looks again; GOING gives -EEXIST); the 2008 budget",
            releases: "v3.8 – v4.12",
            summary: "the name check waits for a load in progress and looks again; a GOING module counts as loaded",
            name_check: NameCheck::GoingIsLoaded,
            ..OLD
        },
        Variant {
            id: "v4.13-rc1",
            kernel: "6d7964a722af (v4.13-rc1): the kmod throttle, an interruptible wait for a slot with no timeout",
            summary: "as v3.8, with the first throttle: a request waits for a kmod slot, forever",
            name_check: NameCheck::GoingIsLoaded,
            kmod: KmodBudget::Throttle,
            ..OLD
        },
        Variant {
            id: "v4.13",
            kernel: "the throttle's follow-up, a killable 5 s wait for a slot (-ETIME); the name check of v3.8",
            releases: "v4.13 – v5.2",
            summary: "as v3.8, with the timed throttle: a request waits at most 5 s for a kmod slot",
            name_check: NameCheck::GoingIsLoaded,
            kmod: KmodBudget::ThrottleTimeout,
            ..OLD
        },
        Variant {
            id: "v5.3",
            kernel: "6e6de3dee51a (v5.3-rc1): the name check waits for any module that is not LIVE, GOING too, then looks again",
            releases: "v5.3 – v6.1",
            summary: "the name check waits until the module is LIVE or gone, then loads it again if it is gone",
            name_check: NameCheck::WaitAndRetry,
            kmod: KmodBudget::ThrottleTimeout,
            ..OLD
        },
        Variant {
            id: "v6.2",
            kernel: "0254127ab977 (v6.2): waits once for UNFORMED or COMING; GOING or gone gives -EBUSY",
            releases: "v6.2 – v6.3",
            summary: "the name check of v6.4 (no retry; -EBUSY for GOING) with the timed throttle",
            name_check: NameCheck::Patient,
            kmod: KmodBudget::ThrottleTimeout,
            ..OLD
        },
        Variant {
            id: "legacy",
            kernel: "v6.4",
            releases: "v6.4",
            summary: "no in-flight table; the name check waits interruptibly on module_wq",
            ..BASE
        },
        Variant {
            id: "error-out-early",
            kernel: "9828ed3f695a (v6.4-rc4, reverted by ac2263b588df)",
            summary: "exclusive deny-write on the file; a concurrent finit fails with -ETXTBSY",
            finit: FinitDedup::ExclusiveDenyWrite,
            ..BASE
        },
        Variant {
            id: "idempotent",
            kernel: "9b9879fc0327 (v6.5)",
            releases: "v6.5 – v6.10",
            summary: "in-flight table; waiters wait uninterruptibly, forever",
            finit: FinitDedup::Idempotent,
            ..BASE
        },
        Variant {
            id: "idempotent-warn",
            kernel: "cb5b81bc9a44 (v6.11-rc3)",
            summary: "as idempotent, but warns once after 10 s: \"taking a long time to load\"",
            finit: FinitDedup::Idempotent,
            idem_wait: IdemWait::TimeoutWarn,
            ..BASE
        },
        Variant {
            id: "idempotent-interruptible",
            kernel: "2124d84db293 (v6.11-rc3)",
            releases: "v6.11",
            summary: "waiters wait interruptibly; an interrupted waiter returns -EINTR",
            finit: FinitDedup::Idempotent,
            idem_wait: IdemWait::Interruptible,
            ..BASE
        },
        Variant {
            id: "crypto-async-test",
            kernel: "37da5d0ffa7b (v6.12-rc1) on 2124d84db293",
            releases: "v6.12 –",
            summary: "crypto registration no longer waits for the algorithm's self-test",
            finit: FinitDedup::Idempotent,
            idem_wait: IdemWait::Interruptible,
            crypto: CryptoTest::Async,
            ..BASE
        },
        Variant {
            id: "autoload-dups",
            kernel: "2124d84db293 with CONFIG_MODULE_DEBUG_AUTOLOAD_DUPS=y (8660484ed1cf, v6.4)",
            summary: "a duplicate request_module waits killably, holding its kmod slot, for the first one's result",
            finit: FinitDedup::Idempotent,
            idem_wait: IdemWait::Interruptible,
            autoload_dups: AutoloadDups::WaitForFirst,
            ..BASE
        },
        Variant {
            id: "recursion-aware-every-entry",
            kernel: "proposal on 2124d84db293 (the recursion-aware proposal as kmodcheck mends it, not posted)",
            summary: "request_module passes the requester; a waiter whose ancestry holds any in-flight load of its file fails with -EDEADLK",
            origin: Origin::Proposal,
            finit: FinitDedup::Idempotent,
            idem_wait: IdemWait::Interruptible,
            recursion: RecursionPolicy::AncestryCheckEveryEntry,
            ..BASE
        },
        Variant {
            id: "heap-idempotent",
            kernel: "proposal on 2124d84db293 (julian-lagattuta, Sep 2025, not merged)",
            summary: "struct idempotent on the heap; rmmod -f of a module whose init crashed completes its waiters with -EBUSY",
            origin: Origin::Proposal,
            finit: FinitDedup::Idempotent,
            idem_wait: IdemWait::Interruptible,
            idem_storage: IdemStorage::HeapForceUnload,
            ..BASE
        },
        Variant {
            id: "idem-timeout",
            kernel: "proposal on 2124d84db293 (kmodcheck's worked example, not posted)",
            summary: "in-flight waiters wait killably for at most 30 s, then leave with -ETIMEDOUT",
            origin: Origin::Proposal,
            finit: FinitDedup::Idempotent,
            idem_wait: IdemWait::KillableTimeout,
            ..BASE
        },
    ];
    ALL
}

/// Fix proposals under review: `check`, `diff` and `explain` know them, the
/// history matrix does not. A reviewer adds theirs here (or to
/// [`catalogue`], to make it a column of the matrix and of `reports/`).
pub fn proposals() -> &'static [Variant] {
    const ALL: &[Variant] = &[
        // A named finding, not a matrix column: the form first sketched
        // compares the owner of the first entry only, and deadlocks with a
        // sibling loader (README, "Findings";
        // examples/findings/recursion-aware-waiter-first.toml). The matrix
        // carries its mend, recursion-aware-every-entry.
        Variant {
            id: "recursion-aware",
            kernel: "proposal on 2124d84db293 (not merged; first-entry form)",
            summary: "request_module passes the requester; a waiter whose ancestry holds the first in-flight entry's owner fails with -EDEADLK",
            origin: Origin::Proposal,
            finit: FinitDedup::Idempotent,
            idem_wait: IdemWait::Interruptible,
            recursion: RecursionPolicy::AncestryCheck,
            ..BASE
        },
    ];
    ALL
}

/// The matrix's columns: every loader of [`catalogue`] with its own kmod
/// budget, then the current loader (`idempotent-interruptible`) with each
/// older budget, for the scenarios about the budget
/// ([`crate::scenario::Scenario::about_the_budget`]).
pub fn matrix_columns() -> Vec<Variant> {
    let mut v: Vec<Variant> = catalogue().to_vec();
    v.extend(userspace_columns());
    for b in budget_columns() {
        if !v.contains(&b) {
            v.push(b);
        }
    }
    v
}

/// The variants the catalogue checks `scenario` under: every loader, or for
/// a scenario about the budget the current loader with each budget; plus
/// the mutants meant to be caught on it.
pub fn columns_for(scenario: &crate::scenario::Scenario) -> Vec<Variant> {
    let mut v = if scenario.about_the_budget() {
        let mut v = budget_columns();
        // The releases before v6.4 carry their own budgets, each with the
        // helper wait and name check of its time.
        v.extend(
            catalogue()
                .iter()
                .filter(|r| r.kmod != KmodBudget::Semaphore)
                .copied(),
        );
        // Duplicate requests wait holding their kmod slot: the budget's
        // scenarios are where that option shows.
        v.extend(
            catalogue()
                .iter()
                .filter(|r| r.autoload_dups != AutoloadDups::Off)
                .copied(),
        );
        v
    } else {
        let mut v = catalogue().to_vec();
        v.extend(userspace_columns());
        v
    };
    for m in mutants() {
        if m.scenario == scenario.name {
            v.push(m.variant);
        }
    }
    v
}

/// The userspace axis in the matrix: the in-flight kernels whose hang
/// verdicts depend on `finit_module` (9b9879fc0327 and 2124d84db293), with
/// libkmod's `init_module(2)` fallback.
pub fn userspace_columns() -> Vec<Variant> {
    ["idempotent", "idempotent-interruptible"]
        .into_iter()
        .map(|id| {
            by_id(id)
                .expect("a catalogue loader")
                .with_userspace(Userspace::InitModule)
        })
        .collect()
}

/// The columns a scenario about the budget is checked under: the current
/// loader (`idempotent-interruptible`, which has the semaphore) with every
/// budget. Its own column comes first.
pub fn budget_columns() -> Vec<Variant> {
    let current = by_id("idempotent-interruptible").expect("a catalogue loader");
    KmodBudget::ALL
        .into_iter()
        .map(|b| current.with_budget(b))
        .collect()
}

/// Look a variant up by id: a loader of [`catalogue`] or [`proposals`], a
/// mutant, or a loader with a kmod budget and a userspace after `+`, in
/// that order (`idempotent+kmod-2008`, `idempotent+libkmod-init-module`,
/// `idempotent+kmod-2008+libkmod-init-module`).
pub fn by_id(id: &str) -> Option<Variant> {
    let mut parts = id.split('+');
    let loader = parts.next()?;
    let rest: Vec<&str> = parts.collect();
    if rest.is_empty() {
        return catalogue()
            .iter()
            .chain(proposals())
            .copied()
            .chain(mutants().iter().map(|m| m.variant))
            .find(|v| v.id == id);
    }
    let mut v = catalogue()
        .iter()
        .chain(proposals())
        .copied()
        .find(|v| v.id == loader)?;
    let (budget, userspace) = match rest.as_slice() {
        [one] => match (KmodBudget::by_id(one), Userspace::by_id(one)) {
            (Some(b), _) => (Some(b), None),
            (None, Some(u)) => (None, Some(u)),
            (None, None) => return None,
        },
        [b, u] => (Some(KmodBudget::by_id(b)?), Some(Userspace::by_id(u)?)),
        _ => return None,
    };
    if let Some(b) = budget {
        v = v.with_budget(b);
    }
    if let Some(u) = userspace {
        v = v.with_userspace(u);
    }
    Some(v)
}

impl Variant {
    /// Whether time passes in every scenario checked under this variant,
    /// whatever the scenario's `timer` says: its in-flight wait has a
    /// timeout, and that timeout is what the variant proposes, so a check
    /// in which it can never fire would say nothing about it. The kmod
    /// budgets' 5 s timeouts follow the scenario's `timer` (README,
    /// "Time").
    /// (A read of that alone, not of the whole `idem_wait` policy: see
    /// [`consulted`].)
    pub fn needs_time(&self) -> bool {
        read(11);
        self.timed_idem_wait()
    }

    /// Whether the in-flight wait is timed, without recording a read.
    fn timed_idem_wait(&self) -> bool {
        self.idem_wait == IdemWait::KillableTimeout
    }

    /// This loader with kmod budget `b`, under the id `LOADER+BUDGET` (the
    /// loader's own budget keeps the plain id).
    pub fn with_budget(self, b: KmodBudget) -> Variant {
        if b == self.kmod {
            return self;
        }
        Variant {
            id: interned(format!("{}+{}", self.id, b.id())),
            kmod: b,
            ..self
        }
    }

    /// This variant with userspace `u`, under the id `ID+USERSPACE` (finit,
    /// every variant's own, keeps the id).
    pub fn with_userspace(self, u: Userspace) -> Variant {
        if u == self.userspace {
            return self;
        }
        Variant {
            id: interned(format!("{}+{}", self.id, u.id())),
            userspace: u,
            ..self
        }
    }
}

/// A combined id (`LOADER+BUDGET`), kept for the life of the process so
/// that a `Variant` stays `Copy` with `&'static str` ids.
fn interned(id: String) -> &'static str {
    static IDS: std::sync::Mutex<Vec<&'static str>> = std::sync::Mutex::new(Vec::new());
    let mut ids = IDS.lock().unwrap_or_else(|e| e.into_inner());
    match ids.iter().find(|s| **s == id) {
        Some(s) => s,
        None => {
            let s: &'static str = Box::leak(id.into_boxed_str());
            ids.push(s);
            s
        }
    }
}
