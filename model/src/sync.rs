//! The one file of the model that names loom or shuttle.
//!
//! Every other file of the model is written against the types here: [`Mutex`],
//! [`Condvar`], [`Plain`] and [`spawn`]. Each dispatches, at run time, to the
//! engine that started the current execution, so one build runs the same model
//! under loom and under shuttle in one `cargo test`, with no cfg flag or feature
//! switch (design.md, "One model source, both engines").
//!
//! How the dispatch works: both engines run every model thread as a coroutine
//! on the OS thread that called them (loom through `generator`, shuttle through
//! `corosensei`), so an ordinary `std` thread-local set around the engine call
//! is seen by every model thread of that execution. [`explore_loom`],
//! [`explore_shuttle`] and [`explore_with`] set it; outside them, constructing
//! a primitive panics with a message that says so.
//!
//! # State is values
//!
//! All state that model tasks share lives in the objects of this file (the
//! architecture invariant of [`crate::state`]):
//!
//! - a [`Mutex`] is a kernel lock and the data it protects; taking it is a
//!   scheduling point of every engine;
//! - a [`Plain`] is memory tasks share without a lock of the model's (the
//!   kernel's lockless reads, and the model's ghost state); an access is not
//!   a scheduling point: both engines switch tasks only at their own
//!   operations, so an access is atomic between two of them.
//!
//! Each object's contents implement [`Fingerprint`]; under the stateful
//! engine the facade records, for each task, what it observed (the contents
//! of each lock it takes, each value it reads), which [`crate::state`]
//! hashes into the state's fingerprint. Under loom and the sampling engines
//! that bookkeeping is off.

use crate::state::{self, Fingerprint, ObjId, Op, TaskId};
use std::any::Any;
use std::cell::Cell;
use std::ops::{Deref, DerefMut};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

/// The engine running the current execution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// loom 0.7: exhaustive, with dynamic partial-order reduction.
    Loom,
    /// shuttle 0.9: DFS, PCT, random, replay, or kmodcheck's stateful scheduler.
    Shuttle,
}

thread_local! {
    static BACKEND: Cell<Option<Backend>> = const { Cell::new(None) };
}

fn backend() -> Backend {
    BACKEND.with(|b| b.get()).expect(
        "kmodcheck-model primitive used outside an engine run (call explore_loom/explore_shuttle)",
    )
}

struct BackendScope(Option<Backend>);
impl BackendScope {
    fn enter(b: Backend) -> Self {
        BackendScope(BACKEND.with(|c| c.replace(Some(b))))
    }
}
impl Drop for BackendScope {
    fn drop(&mut self) {
        BACKEND.with(|c| c.set(self.0));
    }
}

/// A sleeping lock (`struct mutex`) or spinlock and the data it protects:
/// every acquisition is a scheduling point of the engine.
pub struct Mutex<T: Fingerprint> {
    inner: MutexImpl<T>,
    slot: Option<u32>,
    id: ObjId,
}
enum MutexImpl<T> {
    Loom(loom::sync::Mutex<T>),
    Shuttle(shuttle::sync::Mutex<T>),
}

/// Guard of a [`Mutex`].
pub struct MutexGuard<'a, T: Fingerprint> {
    inner: Option<GuardImpl<'a, T>>,
    slot: Option<u32>,
    /// The contents were borrowed mutably since the lock was taken (or
    /// retaken after a wait): only then are they hashed again when it is
    /// released. The model holds no interior mutability outside this file
    /// (tests/discipline.rs), so contents change only through `&mut T`.
    changed: bool,
}
enum GuardImpl<'a, T> {
    Loom(loom::sync::MutexGuard<'a, T>),
    Shuttle(shuttle::sync::MutexGuard<'a, T>),
}

impl<T: Fingerprint> Mutex<T> {
    /// A new lock on the current execution's engine.
    pub fn new(value: T) -> Self {
        let reg = state::register(&value);
        Mutex {
            inner: match backend() {
                Backend::Loom => MutexImpl::Loom(loom::sync::Mutex::new(value)),
                Backend::Shuttle => MutexImpl::Shuttle(shuttle::sync::Mutex::new(value)),
            },
            slot: reg.map(|r| r.0),
            id: reg.map(|r| r.1).unwrap_or_default(),
        }
    }

    /// Take the lock, sleeping while another thread holds it.
    pub fn lock(&self) -> MutexGuard<'_, T> {
        if let Some(s) = self.slot {
            state::pending(Op::Acquire(s));
        }
        // A poisoned lock means a model thread panicked; the engine reports
        // that panic as the execution's failure, so the data is still usable.
        let g = match &self.inner {
            MutexImpl::Loom(m) => GuardImpl::Loom(m.lock().unwrap_or_else(|e| e.into_inner())),
            MutexImpl::Shuttle(m) => {
                GuardImpl::Shuttle(m.lock().unwrap_or_else(|e| e.into_inner()))
            }
        };
        if let Some(s) = self.slot {
            state::acquired(s);
        }
        MutexGuard {
            inner: Some(g),
            slot: self.slot,
            changed: false,
        }
    }

    /// This object's identity (for a [`Fingerprint`] of what refers to it).
    pub fn id(&self) -> ObjId {
        self.id
    }
}

impl<T: Fingerprint> Drop for Mutex<T> {
    fn drop(&mut self) {
        if let Some(s) = self.slot {
            state::unregister(s);
        }
    }
}

impl<T: Fingerprint> MutexGuard<'_, T> {
    fn get(&self) -> &T {
        match self.inner.as_ref().expect("a live guard") {
            GuardImpl::Loom(g) => g,
            GuardImpl::Shuttle(g) => g,
        }
    }
}

impl<T: Fingerprint> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.get()
    }
}

impl<T: Fingerprint> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.changed = true;
        match self.inner.as_mut().expect("a live guard") {
            GuardImpl::Loom(g) => g,
            GuardImpl::Shuttle(g) => g,
        }
    }
}

impl<T: Fingerprint> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        if self.inner.is_none() {
            return;
        }
        // The contents as released, then the engine's release.
        if let Some(s) = self.slot {
            state::releasing(s, self.changed.then(|| self.get() as &dyn Fingerprint));
        }
        self.inner = None;
    }
}

/// A condition variable; the model builds kernel wait queues on it.
pub struct Condvar(CondvarImpl);
enum CondvarImpl {
    Loom(loom::sync::Condvar),
    Shuttle(shuttle::sync::Condvar),
}

impl Condvar {
    /// A new condition variable on the current execution's engine.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Condvar(match backend() {
            Backend::Loom => CondvarImpl::Loom(loom::sync::Condvar::new()),
            Backend::Shuttle => CondvarImpl::Shuttle(shuttle::sync::Condvar::new()),
        })
    }

    fn addr(&self) -> usize {
        self as *const Condvar as usize
    }

    /// Release the guard's lock, sleep until notified, retake the lock.
    /// Neither engine produces spurious wake-ups; callers loop anyway, as
    /// kernel `wait_event*` does.
    pub fn wait<'a, T: Fingerprint>(&self, mut guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
        let slot = guard.slot;
        if let Some(s) = slot {
            let v = guard.changed.then(|| guard.get() as &dyn Fingerprint);
            state::wait_begins(s, self.addr(), v);
        }
        let inner = guard.inner.take().expect("a live guard");
        drop(guard);
        let g = match (&self.0, inner) {
            (CondvarImpl::Loom(c), GuardImpl::Loom(g)) => {
                GuardImpl::Loom(c.wait(g).unwrap_or_else(|e| e.into_inner()))
            }
            (CondvarImpl::Shuttle(c), GuardImpl::Shuttle(g)) => {
                GuardImpl::Shuttle(c.wait(g).unwrap_or_else(|e| e.into_inner()))
            }
            _ => unreachable!("a lock and a condvar from different engines"),
        };
        if let Some(s) = slot {
            state::wait_ends(s);
        }
        MutexGuard {
            inner: Some(g),
            slot,
            changed: false,
        }
    }

    /// Wake every thread sleeping on this condition variable. The caller
    /// holds the lock the waiters sleep with (`_held`), as every wake-up of
    /// the model does: so the wake-up commutes with anything another task
    /// could do meanwhile, and needs no scheduling decision of its own.
    pub fn notify_all<T: Fingerprint>(&self, _held: &MutexGuard<'_, T>) {
        state::notify_all(self.addr());
        match &self.0 {
            CondvarImpl::Loom(c) => c.notify_all(),
            CondvarImpl::Shuttle(c) => c.notify_all(),
        }
        state::pending(Op::Running);
    }
}

/// Memory that tasks share without a lock of the model's: the kernel's
/// lockless reads (`waitqueue_active()`, a flag read after the engine
/// operation that orders it), and the model's ghost state. An access is not
/// a scheduling point. Under the stateful engine the contents are part of
/// the state, and what an access returns is part of the task's history.
///
/// Each place that uses one argues in a comment why no order of accesses
/// the engines do not explore could change an outcome.
pub struct Plain<T: Fingerprint> {
    data: PlainData<T>,
    slot: Option<u32>,
    id: ObjId,
}

/// Where the value lives: shared with the state's registry under the
/// stateful engine (which reads it when it takes a state), in place
/// otherwise.
enum PlainData<T> {
    Inline(std::sync::Mutex<T>),
    Shared(std::sync::Arc<PlainCell<T>>),
}

struct PlainCell<T>(std::sync::Mutex<T>);

impl<T: Fingerprint> state::Contents for PlainCell<T> {
    fn hash_into(&self, fp: &mut state::Fp<'_>) -> Option<()> {
        self.0.try_lock().ok()?.fingerprint(fp);
        Some(())
    }
}

impl<T: Fingerprint + 'static> Plain<T> {
    /// New shared memory holding `v`.
    pub fn new(v: T) -> Self {
        let reg = state::register(&v);
        let data = match reg {
            Some((slot, _)) => {
                let cell = std::sync::Arc::new(PlainCell(std::sync::Mutex::new(v)));
                let weak: std::sync::Weak<dyn state::Contents> =
                    std::sync::Arc::downgrade(&cell) as std::sync::Weak<PlainCell<T>>;
                state::lazy(slot, weak);
                PlainData::Shared(cell)
            }
            None => PlainData::Inline(std::sync::Mutex::new(v)),
        };
        Plain {
            data,
            slot: reg.map(|r| r.0),
            id: reg.map(|r| r.1).unwrap_or_default(),
        }
    }
}

impl<T: Fingerprint> Plain<T> {
    fn lock(&self) -> std::sync::MutexGuard<'_, T> {
        // No engine operation runs inside an access, so this std lock is
        // never contended; a poisoned one means a model thread panicked in
        // an access, which the engine already reports.
        match &self.data {
            PlainData::Inline(m) => m.lock(),
            PlainData::Shared(c) => c.0.lock(),
        }
        .unwrap_or_else(|e| e.into_inner())
    }

    /// Read: what `f` returns is what the task observed.
    pub fn read<R: Fingerprint>(&self, f: impl FnOnce(&T) -> R) -> R {
        let r = f(&self.lock());
        if self.slot.is_some() {
            state::observed(&r);
        }
        r
    }

    /// Read and write: what `f` returns is what the task observed.
    pub fn update<R: Fingerprint>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        let mut g = self.lock();
        let r = f(&mut g);
        if let Some(s) = self.slot {
            state::observed(&r);
            state::stored(s);
        }
        r
    }

    /// Write, observing nothing: the task's own future does not depend on
    /// what `f` finds (ghost state, the model's record of what happened).
    pub fn write(&self, f: impl FnOnce(&mut T)) {
        let mut g = self.lock();
        f(&mut g);
        if let Some(s) = self.slot {
            state::stored(s);
        }
    }

    /// [`Plain::write`], where `f` says whether it changed anything (a
    /// contents left alone is not hashed again) and returns a value for the
    /// caller that is not part of the model (a monitor's message).
    pub fn write_tracked<R>(&self, f: impl FnOnce(&mut T) -> (bool, R)) -> R {
        let mut g = self.lock();
        let (changed, r) = f(&mut g);
        if changed {
            if let Some(s) = self.slot {
                state::stored(s);
            }
        }
        r
    }

    /// A copy of the value.
    pub fn get(&self) -> T
    where
        T: Copy,
    {
        self.read(|v| *v)
    }

    /// Store a value.
    pub fn set(&self, v: T) {
        self.update(|x| *x = v);
    }

    /// This object's identity (for a [`Fingerprint`] of what refers to it).
    pub fn id(&self) -> ObjId {
        self.id
    }

    /// Look at the contents from outside the model: an engine reading an
    /// execution's outcome, or trace rendering. Model behaviour must not
    /// call it (it records no observation).
    pub fn outside_view<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        f(&self.lock())
    }
}

impl<T: Fingerprint> Drop for Plain<T> {
    fn drop(&mut self) {
        if let Some(s) = self.slot {
            state::unregister(s);
        }
    }
}

/// From now on the calling task's state is `v`, together with the shared
/// state, instead of what it has observed: only for a task whose stack the
/// caller can describe in full, and whose steps no property observes (the
/// harness while it reaps, `Kernel::reap`).
pub fn describe_own_state(v: &dyn Fingerprint) {
    state::describe_self(v);
}

/// Handle of a model thread.
pub struct JoinHandle {
    inner: JoinImpl,
    task: TaskId,
}
enum JoinImpl {
    Loom(loom::thread::JoinHandle<()>),
    Shuttle(shuttle::thread::JoinHandle<()>),
}

impl Fingerprint for JoinHandle {
    fn fingerprint(&self, fp: &mut state::Fp<'_>) {
        fp.task(self.task);
    }
}

/// Start model task `task` as a new thread on the current execution's
/// engine. `birth` describes in full what `f` captured, where the caller
/// can (an actor's specification, the timer); `None` means: a function of
/// what the calling task has observed so far.
pub fn spawn<F: FnOnce() + Send + 'static>(
    task: TaskId,
    birth: Option<&dyn Fingerprint>,
    f: F,
) -> JoinHandle {
    let inner = match backend() {
        Backend::Loom => {
            // loom keeps every thread an execution started, finished or
            // not, and asserts on one past its limit. A timer actor that
            // exited and is started again by a later timed wait (a request
            // that repeats under a timed budget) is such a thread: stop the
            // execution here, in words, instead of inside loom.
            let n = LOOM_SPAWNED.with(|c| {
                c.set(c.get() + 1);
                c.get()
            });
            if n + 1 > LOOM_MAX_THREADS {
                panic!(
                    "{LOOM_THREAD_LIMIT}: this execution starts its {} thread (main included), and loom never reclaims a finished one (a timer started again after its actor exited, or a helper past the static count); loom allows {LOOM_MAX_THREADS}: the stateful engine has no such limit",
                    ordinal(n + 1)
                );
            }
            JoinImpl::Loom(loom::thread::spawn(f))
        }
        Backend::Shuttle => {
            let stateful = state::active();
            let index = if stateful {
                let i = state::engine_task_count();
                state::spawned(task, i, birth);
                i
            } else {
                0
            };
            JoinImpl::Shuttle(shuttle::thread::spawn(move || {
                if stateful {
                    let me = shuttle::current::get_current_task().map(usize::from);
                    assert_eq!(
                        me,
                        Some(index),
                        "facade: shuttle numbered task {task:?} differently than expected"
                    );
                    state::started(task);
                }
                f();
                state::exiting();
            }))
        }
    };
    JoinHandle { inner, task }
}

impl JoinHandle {
    /// The task it joins.
    pub fn task(&self) -> TaskId {
        self.task
    }

    /// Wait for the thread to finish.
    pub fn join(self) {
        state::joining();
        // A panicking model thread fails the whole execution in both engines,
        // which reports it; the join result carries nothing more.
        let _ = match self.inner {
            JoinImpl::Loom(h) => h.join().map_err(|_| ()),
            JoinImpl::Shuttle(h) => h.join().map_err(|_| ()),
        };
        state::joined(self.task);
    }
}

/// What stopped an exploration early, read from the engine's panic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stop {
    /// Every thread blocked: the engine's deadlock report.
    Deadlock(String),
    /// The engine's own bound (loom `max_branches`, shuttle `max_steps`).
    Bound(String),
    /// A panic inside the model, or the driver's own stop request.
    Panic(String),
}

/// Text of a panic payload.
pub fn panic_text(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_string()
    }
}

fn classify(payload: Box<dyn Any + Send>) -> Stop {
    let text = panic_text(&*payload);
    if text.starts_with("deadlock") {
        // loom: "deadlock; threads = ..."; shuttle: "deadlock! blocked tasks: ..."
        Stop::Deadlock(text)
    } else if text.contains("exceeded maximum number of branches")
        || text.contains("exceeded max_steps")
        || text.contains("max_steps")
    {
        Stop::Bound(text)
    } else {
        Stop::Panic(text)
    }
}

/// Options of a loom exploration. `None` bounds mean unbounded.
#[derive(Clone, Debug)]
pub struct LoomOptions {
    /// `LOOM_MAX_PREEMPTIONS`: `Some(k)` makes the run a bounded, non-exhaustive search.
    pub preemption_bound: Option<usize>,
    /// `LOOM_MAX_BRANCHES`: scheduling points in one execution before loom gives up.
    pub max_branches: usize,
    /// Stop after this many executions (loom's `max_permutations`).
    pub max_executions: Option<usize>,
    /// Stop after this much wall time (loom's `max_duration`).
    pub max_duration: Option<Duration>,
}

impl Default for LoomOptions {
    fn default() -> Self {
        LoomOptions {
            preemption_bound: None,
            max_branches: 10_000,
            max_executions: None,
            max_duration: None,
        }
    }
}

/// loom 0.7.2's `MAX_THREADS` (`src/rt/mod.rs`), main thread included.
pub const LOOM_MAX_THREADS: usize = 5;

/// How a panic of the loom thread guard in [`spawn`] starts.
pub const LOOM_THREAD_LIMIT: &str = "loom's thread limit";

thread_local! {
    /// Threads [`spawn`] started in the current loom execution. loom runs
    /// an exploration's executions one after another, and its model threads
    /// as coroutines, on the OS thread that called `check`; explorations on
    /// other OS threads (parallel cells) have their own count.
    static LOOM_SPAWNED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// Run `f` once per interleaving under loom. `Ok` when loom returned (all
/// executions explored, or one of the stated bounds hit: the caller tells
/// which from its own counts); `Err` when an execution stopped the run.
pub fn explore_loom<F>(opts: &LoomOptions, f: F) -> Result<(), Stop>
where
    F: Fn() + Send + Sync + 'static,
{
    let _scope = BackendScope::enter(Backend::Loom);
    let mut b = loom::model::Builder::new();
    b.preemption_bound = opts.preemption_bound;
    b.max_branches = opts.max_branches;
    // loom checks max_permutations before running iteration i, with i from 1.
    b.max_permutations = opts.max_executions.map(|n| n + 1);
    b.max_duration = opts.max_duration;
    b.checkpoint_file = None;
    // loom tests max_permutations and max_duration only when
    // `i % checkpoint_interval == 0` (default 20,000): check every iteration.
    b.checkpoint_interval = 1;
    catch_unwind(AssertUnwindSafe(|| {
        b.check(move || {
            LOOM_SPAWNED.with(|c| c.set(0));
            f()
        })
    }))
    .map_err(classify)
}

/// A shuttle scheduling strategy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ShuttleStrategy {
    /// Depth-first over all schedules (no partial-order reduction).
    Dfs {
        /// Stop after this many executions.
        max_executions: Option<usize>,
    },
    /// Probabilistic concurrency testing (Burckhardt et al.), seeded.
    Pct {
        /// Seed of the random choices.
        seed: u64,
        /// Bug depth the priorities aim at.
        depth: usize,
        /// Executions to run.
        executions: usize,
    },
    /// Uniformly random scheduling, seeded.
    Random {
        /// Seed of the random choices.
        seed: u64,
        /// Executions to run.
        executions: usize,
    },
    /// Replay one schedule recorded by [`explore_shuttle`].
    Replay(String),
}

/// Result of a shuttle exploration.
#[derive(Clone, Debug)]
pub struct ShuttleRun {
    /// `None` when shuttle ran to its end; otherwise what stopped it.
    pub stop: Option<Stop>,
    /// The schedule of the last execution that started, as a replay string.
    pub last_schedule: String,
    /// Schedules of the executions that called [`keep_this_schedule`], in order.
    pub kept: Vec<String>,
}

#[derive(Default)]
struct Sink {
    seed: u64,
    steps: Vec<Option<usize>>,
    keep: bool,
    kept: Vec<String>,
}

impl Sink {
    fn close(&mut self) {
        if std::mem::take(&mut self.keep) {
            let s = encode_schedule(self.seed, &self.steps);
            self.kept.push(s);
        }
    }
}

type SharedSink = std::sync::Arc<std::sync::Mutex<Sink>>;

thread_local! {
    static SHUTTLE_SINK: std::cell::RefCell<Option<SharedSink>> = const { std::cell::RefCell::new(None) };
}

/// Called from inside a shuttle execution: keep this execution's schedule
/// (returned in [`ShuttleRun::kept`] once the execution is over). A no-op
/// under loom, whose handle is the execution's index.
pub fn keep_this_schedule() {
    SHUTTLE_SINK.with(|s| {
        if let Some(sink) = &*s.borrow() {
            sink.lock().unwrap().keep = true;
        }
    });
}

/// Wraps a shuttle scheduler and records every decision it makes, so that
/// the failing execution's schedule is known without parsing stderr.
struct Recording<S> {
    inner: S,
    sink: SharedSink,
}

impl<S: shuttle::scheduler::Scheduler> shuttle::scheduler::Scheduler for Recording<S> {
    fn new_execution(&mut self) -> Option<shuttle::scheduler::Schedule> {
        self.sink.lock().unwrap().close();
        let s = self.inner.new_execution()?;
        let mut g = self.sink.lock().unwrap();
        g.seed = s.seed;
        g.steps.clear();
        drop(g);
        Some(s)
    }
    fn next_task(
        &mut self,
        runnable: &[&shuttle::scheduler::Task],
        current: Option<shuttle::scheduler::TaskId>,
        is_yielding: bool,
    ) -> Option<shuttle::scheduler::TaskId> {
        let t = self.inner.next_task(runnable, current, is_yielding)?;
        self.sink.lock().unwrap().steps.push(Some(usize::from(t)));
        Some(t)
    }
    fn next_u64(&mut self) -> u64 {
        self.sink.lock().unwrap().steps.push(None);
        self.inner.next_u64()
    }
}

/// A scheduler that is never dropped. shuttle's `RandomScheduler` prints
/// "failing seed: ... pass the seed to `shuttle::check_random_with_seed`"
/// on stderr when it is dropped after a failed execution (a drop guard in
/// shuttle-schedulers 0.1.1, `src/random.rs`); kmodcheck hands the seed
/// back in its own replay handle, so the banner is stray output. The
/// scheduler is a few words of RNG state, left behind once per run.
struct Undropped<S>(std::mem::ManuallyDrop<S>);

impl<S: shuttle::scheduler::Scheduler> shuttle::scheduler::Scheduler for Undropped<S> {
    fn new_execution(&mut self) -> Option<shuttle::scheduler::Schedule> {
        self.0.new_execution()
    }
    fn next_task(
        &mut self,
        runnable: &[&shuttle::scheduler::Task],
        current: Option<shuttle::scheduler::TaskId>,
        is_yielding: bool,
    ) -> Option<shuttle::scheduler::TaskId> {
        self.0.next_task(runnable, current, is_yielding)
    }
    fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }
}

/// Encode a recorded schedule: `seed;t,t,t,r,...` (`r` = a random draw).
fn encode_schedule(seed: u64, steps: &[Option<usize>]) -> String {
    let body: Vec<String> = steps
        .iter()
        .map(|s| s.map_or_else(|| "r".to_string(), |t| t.to_string()))
        .collect();
    format!("{seed};{}", body.join(","))
}

/// Parse a schedule produced by [`encode_schedule`].
pub fn decode_schedule(text: &str) -> Option<(u64, Vec<Option<usize>>)> {
    let (seed, body) = text.split_once(';')?;
    let seed = seed.parse().ok()?;
    let mut steps = Vec::new();
    for part in body.split(',').filter(|p| !p.is_empty()) {
        steps.push(if part == "r" {
            None
        } else {
            Some(part.parse().ok()?)
        });
    }
    Some((seed, steps))
}

/// Run `f` under shuttle with the given strategy.
pub fn explore_shuttle<F>(
    strategy: &ShuttleStrategy,
    max_time: Option<Duration>,
    f: F,
) -> Result<ShuttleRun, String>
where
    F: Fn() + Send + Sync + 'static,
{
    use shuttle::scheduler::{
        DfsScheduler, PctScheduler, RandomScheduler, ReplayScheduler, Schedule,
    };
    quiet_shuttle_panic_hook();
    let _scope = BackendScope::enter(Backend::Shuttle);
    let mut config = shuttle::Config::new();
    config.failure_persistence = shuttle::FailurePersistence::None;
    config.max_time = max_time;
    // Every deadlock is a verdict: no hint about backtraces on stderr.
    config.silence_warnings = true;
    let sink: SharedSink = Default::default();
    SHUTTLE_SINK.with(|s| *s.borrow_mut() = Some(sink.clone()));
    let result = match strategy {
        ShuttleStrategy::Dfs { max_executions } => {
            let s = Recording {
                inner: DfsScheduler::new(*max_executions, false),
                sink: sink.clone(),
            };
            catch_unwind(AssertUnwindSafe(|| {
                shuttle::Runner::new(s, config).run(f);
            }))
        }
        ShuttleStrategy::Pct {
            seed,
            depth,
            executions,
        } => {
            let s = Recording {
                inner: PctScheduler::new_from_seed(*seed, *depth, *executions),
                sink: sink.clone(),
            };
            catch_unwind(AssertUnwindSafe(|| {
                shuttle::Runner::new(s, config).run(f);
            }))
        }
        ShuttleStrategy::Random { seed, executions } => {
            let s = Recording {
                inner: Undropped(std::mem::ManuallyDrop::new(RandomScheduler::new_from_seed(
                    *seed,
                    *executions,
                ))),
                sink: sink.clone(),
            };
            catch_unwind(AssertUnwindSafe(|| {
                shuttle::Runner::new(s, config).run(f);
            }))
        }
        ShuttleStrategy::Replay(text) => {
            let (seed, steps) =
                decode_schedule(text).ok_or_else(|| format!("malformed schedule `{text}`"))?;
            let mut schedule = Schedule::new(seed);
            for s in steps {
                match s {
                    Some(t) => schedule.push_task(t.into()),
                    None => schedule.push_random(),
                }
            }
            let s = Recording {
                inner: ReplayScheduler::new_from_schedule(schedule),
                sink: sink.clone(),
            };
            catch_unwind(AssertUnwindSafe(|| {
                shuttle::Runner::new(s, config).run(f);
            }))
        }
    };
    SHUTTLE_SINK.with(|s| *s.borrow_mut() = None);
    let mut g = sink.lock().unwrap();
    let last_schedule = encode_schedule(g.seed, &g.steps);
    g.close();
    Ok(ShuttleRun {
        stop: result.err().map(classify),
        last_schedule,
        kept: std::mem::take(&mut g.kept),
    })
}

/// What a scheduler of kmodcheck's own sees of shuttle: the trait it
/// implements and the types of its arguments (the stateful engine,
/// `src/engines/stateful.rs`, is one).
pub mod scheduler {
    pub use shuttle::scheduler::{Schedule, Scheduler, Task, TaskId};
}

/// Run `f` under shuttle, once per execution `scheduler` starts. `Ok` when
/// the scheduler ended the run; `Err` when an execution stopped it (a
/// deadlock, a panic).
pub fn explore_with<S, F>(scheduler: S, f: F) -> Result<(), Stop>
where
    S: shuttle::scheduler::Scheduler + 'static,
    F: Fn() + Send + Sync + 'static,
{
    quiet_shuttle_panic_hook();
    let _scope = BackendScope::enter(Backend::Shuttle);
    let mut config = shuttle::Config::new();
    config.failure_persistence = shuttle::FailurePersistence::None;
    config.max_steps = shuttle::MaxSteps::None;
    // Every deadlock is a verdict: no hint about backtraces on stderr.
    config.silence_warnings = true;
    catch_unwind(AssertUnwindSafe(|| {
        shuttle::Runner::new(scheduler, config).run(f);
    }))
    .map_err(classify)
}

thread_local! {
    static IN_ENGINE: Cell<bool> = const { Cell::new(false) };
}

/// Shuttle installs (once) a panic hook that prints its own failure banner.
/// kmodcheck turns every panic inside an execution into a verdict, so the
/// banner is noise: install, once, a hook in front of shuttle's that stays
/// silent while an engine is running on this OS thread.
fn quiet_shuttle_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Make shuttle install its hook now, so ours ends up in front of it.
        let s = shuttle::scheduler::RoundRobinScheduler::new(1);
        shuttle::Runner::new(s, shuttle::Config::new()).run(|| {});
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !IN_ENGINE.with(|c| c.get()) {
                previous(info);
            }
        }));
    });
}

/// Run `f` with panic messages from engine executions silenced on this
/// OS thread (their text is still returned as the [`Stop`]).
pub fn silently<R>(f: impl FnOnce() -> R) -> R {
    quiet_shuttle_panic_hook();
    let old = IN_ENGINE.with(|c| c.replace(true));
    let r = f();
    IN_ENGINE.with(|c| c.set(old));
    r
}
