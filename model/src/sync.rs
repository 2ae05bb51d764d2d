//! The one file that names loom or shuttle.
//!
//! Every other file of the model is written against the types here: [`Mutex`],
//! [`Condvar`] and [`spawn`]. Each dispatches, at run time, to the engine that
//! started the current execution, so one build runs the same model under loom
//! and under shuttle in one `cargo test`, with no cfg flag or feature switch
//! (design.md, "One model source, both engines").
//!
//! How the dispatch works: both engines run every model thread as a coroutine
//! on the OS thread that called them (loom through `generator`, shuttle through
//! `corosensei`), so an ordinary `std` thread-local set around the engine call
//! is seen by every model thread of that execution. [`explore_loom`],
//! [`explore_shuttle`] set it; outside them, constructing a primitive panics
//! with a message that says so.
//!
//! Shared state that is *not* a kernel lock (the trace, ghost state read by
//! properties) lives in plain `std` types: both engines switch threads only
//! at their own operations, so a `std` access is atomic between two of them and
//! adds no scheduling point.

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
    /// shuttle 0.9: DFS, PCT, random or replay scheduling.
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

/// A sleeping lock (`struct mutex`) or spinlock: every acquisition is a
/// scheduling point of the engine.
pub struct Mutex<T>(MutexImpl<T>);
enum MutexImpl<T> {
    Loom(loom::sync::Mutex<T>),
    Shuttle(shuttle::sync::Mutex<T>),
}

/// Guard of a [`Mutex`].
pub struct MutexGuard<'a, T>(GuardImpl<'a, T>);
enum GuardImpl<'a, T> {
    Loom(loom::sync::MutexGuard<'a, T>),
    Shuttle(shuttle::sync::MutexGuard<'a, T>),
}

impl<T> Mutex<T> {
    /// A new lock on the current execution's engine.
    pub fn new(value: T) -> Self {
        Mutex(match backend() {
            Backend::Loom => MutexImpl::Loom(loom::sync::Mutex::new(value)),
            Backend::Shuttle => MutexImpl::Shuttle(shuttle::sync::Mutex::new(value)),
        })
    }

    /// Take the lock, sleeping while another thread holds it.
    pub fn lock(&self) -> MutexGuard<'_, T> {
        // A poisoned lock means a model thread panicked; the engine reports
        // that panic as the execution's failure, so the data is still usable.
        MutexGuard(match &self.0 {
            MutexImpl::Loom(m) => GuardImpl::Loom(m.lock().unwrap_or_else(|e| e.into_inner())),
            MutexImpl::Shuttle(m) => {
                GuardImpl::Shuttle(m.lock().unwrap_or_else(|e| e.into_inner()))
            }
        })
    }
}

impl<T> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        match &self.0 {
            GuardImpl::Loom(g) => g,
            GuardImpl::Shuttle(g) => g,
        }
    }
}

impl<T> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        match &mut self.0 {
            GuardImpl::Loom(g) => g,
            GuardImpl::Shuttle(g) => g,
        }
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

    /// Release the guard's lock, sleep until notified, retake the lock.
    /// Neither engine produces spurious wake-ups; callers loop anyway, as
    /// kernel `wait_event*` does.
    pub fn wait<'a, T>(&self, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
        MutexGuard(match (&self.0, guard.0) {
            (CondvarImpl::Loom(c), GuardImpl::Loom(g)) => {
                GuardImpl::Loom(c.wait(g).unwrap_or_else(|e| e.into_inner()))
            }
            (CondvarImpl::Shuttle(c), GuardImpl::Shuttle(g)) => {
                GuardImpl::Shuttle(c.wait(g).unwrap_or_else(|e| e.into_inner()))
            }
            _ => unreachable!("a lock and a condvar from different engines"),
        })
    }

    /// Wake every thread sleeping on this condition variable.
    pub fn notify_all(&self) {
        match &self.0 {
            CondvarImpl::Loom(c) => c.notify_all(),
            CondvarImpl::Shuttle(c) => c.notify_all(),
        }
    }
}

/// Handle of a model thread.
pub struct JoinHandle(JoinImpl);
enum JoinImpl {
    Loom(loom::thread::JoinHandle<()>),
    Shuttle(shuttle::thread::JoinHandle<()>),
}

/// Start a model thread on the current execution's engine.
pub fn spawn<F: FnOnce() + Send + 'static>(f: F) -> JoinHandle {
    JoinHandle(match backend() {
        Backend::Loom => JoinImpl::Loom(loom::thread::spawn(f)),
        Backend::Shuttle => JoinImpl::Shuttle(shuttle::thread::spawn(f)),
    })
}

impl JoinHandle {
    /// Wait for the thread to finish.
    pub fn join(self) {
        // A panicking model thread fails the whole execution in both engines,
        // which reports it; the join result carries nothing more.
        let _ = match self.0 {
            JoinImpl::Loom(h) => h.join().map_err(|_| ()),
            JoinImpl::Shuttle(h) => h.join().map_err(|_| ()),
        };
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
    catch_unwind(AssertUnwindSafe(|| b.check(f))).map_err(classify)
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
                inner: RandomScheduler::new_from_seed(*seed, *executions),
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
