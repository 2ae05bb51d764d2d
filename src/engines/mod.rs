//! The engines, one file each behind one trait ([`Engine`]), as shuttle keeps
//! one file per scheduler:
//!
//! | engine | file | exhaustive | how |
//! |---|---|---|---|
//! | `stateful` | [`stateful`] | when it finishes | kmodcheck's shuttle scheduler: depth-first over scheduling decisions, a visited set of state fingerprints, symmetry among interchangeable actors |
//! | `loom` | [`loom`] | when it finishes unbounded | loom 0.7: dynamic partial-order reduction over interleavings |
//! | `shuttle-dfs` | [`shuttle_dfs`] | when it finishes | shuttle's depth-first scheduler, no reduction |
//! | `shuttle-pct` | [`shuttle_pct`] | never | probabilistic concurrency testing |
//! | `shuttle-random` | [`shuttle_random`] | never | uniformly random schedules |
//!
//! An engine explores a cell ([`Engine::explore`]) and replays one of its
//! executions with the trace on ([`Engine::replay`]), from a typed
//! [`ReplayHandle`].

pub mod loom;
pub mod shuttle_dfs;
pub mod shuttle_pct;
pub mod shuttle_random;
pub mod stateful;

use crate::engine::CheckOptions;
use kmodcheck_model::scenario::Scenario;
use kmodcheck_model::state::TaskId;
use kmodcheck_model::sync::{self, ShuttleStrategy, Stop};
use kmodcheck_model::trace::{Check, End, Recorder, Trace};
use kmodcheck_model::variant::Variant;
use kmodcheck_model::world::execute;
use kmodcheck_properties::{Monitor, Property};
use serde::Serialize;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// An exploration engine.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub enum EngineKind {
    /// kmodcheck's stateful search: exhaustive when it finishes. The default.
    #[default]
    Stateful,
    /// loom: exhaustive with partial-order reduction (unless preemption-bounded).
    Loom,
    /// shuttle depth-first: exhaustive when it finishes within its budget.
    ShuttleDfs,
    /// shuttle PCT: sampled, never exhaustive.
    ShuttlePct,
    /// shuttle random: sampled, never exhaustive.
    ShuttleRandom,
}

impl EngineKind {
    /// Every engine, the default first.
    pub const ALL: [EngineKind; 5] = [
        EngineKind::Stateful,
        EngineKind::Loom,
        EngineKind::ShuttleDfs,
        EngineKind::ShuttlePct,
        EngineKind::ShuttleRandom,
    ];

    /// Command-line name.
    pub fn name(self) -> &'static str {
        match self {
            EngineKind::Stateful => "stateful",
            EngineKind::Loom => "loom",
            EngineKind::ShuttleDfs => "shuttle-dfs",
            EngineKind::ShuttlePct => "shuttle-pct",
            EngineKind::ShuttleRandom => "shuttle-random",
        }
    }

    /// Parse a command-line name.
    pub fn parse(s: &str) -> Option<Self> {
        EngineKind::ALL.into_iter().find(|e| e.name() == s)
    }

    /// Whether a finished run explored every schedule (a sampling engine
    /// never does).
    pub fn explores(self) -> bool {
        matches!(
            self,
            EngineKind::Stateful | EngineKind::Loom | EngineKind::ShuttleDfs
        )
    }

    /// What an exhaustive run of this engine covered, for "proved: ...".
    pub fn covers(self) -> &'static str {
        match self {
            EngineKind::Stateful => "every reachable state",
            EngineKind::Loom | EngineKind::ShuttleDfs => "every interleaving",
            EngineKind::ShuttlePct | EngineKind::ShuttleRandom => "the executions sampled",
        }
    }

    /// The engine itself.
    pub fn engine(self) -> &'static dyn Engine {
        match self {
            EngineKind::Stateful => &stateful::Stateful,
            EngineKind::Loom => &loom::Loom,
            EngineKind::ShuttleDfs => &shuttle_dfs::ShuttleDfs,
            EngineKind::ShuttlePct => &shuttle_pct::ShuttlePct,
            EngineKind::ShuttleRandom => &shuttle_random::ShuttleRandom,
        }
    }
}

impl std::fmt::Display for EngineKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for EngineKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        EngineKind::parse(s).ok_or_else(|| {
            format!(
                "unknown engine `{s}`; expected one of {}{}",
                EngineKind::ALL.map(EngineKind::name).join(", "),
                crate::suggest::did_you_mean(s, EngineKind::ALL.map(EngineKind::name))
            )
        })
    }
}

/// Where an execution is in the exploration that found it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReplayAt {
    /// loom's execution `n` (1-based) of a run with this preemption bound.
    Loom {
        /// The execution.
        n: usize,
        /// `LOOM_MAX_PREEMPTIONS` of the run, if it had one.
        preemption_bound: Option<usize>,
    },
    /// A shuttle schedule (`seed;t,t,...`), for shuttle's replay scheduler.
    Schedule(String),
    /// The stateful engine's decisions: the task run at each scheduling
    /// decision, in order.
    Decisions(Vec<TaskId>),
}

impl ReplayAt {
    /// The engine that replays it.
    pub fn engine(&self) -> EngineKind {
        match self {
            ReplayAt::Loom { .. } => EngineKind::Loom,
            ReplayAt::Schedule(_) => EngineKind::ShuttleDfs,
            ReplayAt::Decisions(_) => EngineKind::Stateful,
        }
    }

    fn prefix(&self) -> &'static str {
        match self {
            ReplayAt::Loom { .. } => "loom",
            ReplayAt::Schedule(_) => "shuttle",
            ReplayAt::Decisions(_) => "stateful",
        }
    }
}

/// A counterexample's address: `ENGINE:VARIANT:SCENARIO:WHERE`, which
/// `kmodcheck replay` takes. SCENARIO is a built-in name or a scenario file
/// (`.toml`, no `:` in its path).
///
/// - `loom:idempotent:recursive-self-load:1` (loom's execution 1; `:pb=K` for
///   a run bounded to K preemptions);
/// - `shuttle:legacy:recursive-self-load:SEED;1,2,r,...` (a shuttle schedule);
/// - `stateful:idempotent:concurrent-same-file-3:1.2.2.1` (the task run at
///   each scheduling decision).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplayHandle {
    /// Variant id (`LOADER+BUDGET` too).
    pub variant: String,
    /// Built-in scenario name, or scenario file path.
    pub scenario: String,
    /// Where in the exploration.
    pub at: ReplayAt,
}

impl std::fmt::Display for ReplayHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}:",
            self.at.prefix(),
            self.variant,
            self.scenario
        )?;
        match &self.at {
            ReplayAt::Loom {
                n,
                preemption_bound,
            } => {
                write!(f, "{n}")?;
                if let Some(b) = preemption_bound {
                    write!(f, ":pb={b}")?;
                }
                Ok(())
            }
            ReplayAt::Schedule(s) => f.write_str(s),
            ReplayAt::Decisions(d) => {
                let parts: Vec<String> = d.iter().map(|t| t.0.to_string()).collect();
                f.write_str(&parts.join("."))
            }
        }
    }
}

impl std::str::FromStr for ReplayHandle {
    type Err = String;
    fn from_str(handle: &str) -> Result<Self, String> {
        let mut parts = handle.splitn(4, ':');
        let (Some(engine), Some(variant), Some(scenario), Some(rest)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(format!(
                "malformed replay handle; handle={handle}, expected=ENGINE:VARIANT:SCENARIO:WHERE"
            ));
        };
        let at = match engine {
            "loom" => {
                let mut it = rest.split(':');
                let n: usize = it
                    .next()
                    .and_then(|s| s.parse().ok())
                    .filter(|n| *n > 0)
                    .ok_or_else(|| format!("malformed execution index; handle={handle}"))?;
                let mut preemption_bound = None;
                for extra in it {
                    match extra.strip_prefix("pb=").and_then(|b| b.parse().ok()) {
                        Some(b) => preemption_bound = Some(b),
                        None => {
                            return Err(format!(
                                "unknown handle option; option={extra}, handle={handle}"
                            ))
                        }
                    }
                }
                ReplayAt::Loom {
                    n,
                    preemption_bound,
                }
            }
            "shuttle" => {
                if sync::decode_schedule(rest).is_none() {
                    return Err(format!("malformed shuttle schedule; handle={handle}"));
                }
                ReplayAt::Schedule(rest.to_string())
            }
            "stateful" => {
                let d: Option<Vec<TaskId>> = if rest.is_empty() {
                    Some(Vec::new())
                } else {
                    rest.split('.').map(|t| t.parse().ok().map(TaskId)).collect()
                };
                ReplayAt::Decisions(
                    d.ok_or_else(|| format!("malformed decision list; handle={handle}"))?,
                )
            }
            _ => {
                return Err(format!(
                    "unknown engine in handle; engine={engine}, handle={handle}, expected=loom|shuttle|stateful"
                ))
            }
        };
        Ok(ReplayHandle {
            variant: variant.to_string(),
            scenario: scenario.to_string(),
            at,
        })
    }
}

impl Serialize for ReplayHandle {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// One cell to explore.
pub struct Job<'a> {
    /// The variant.
    pub variant: Variant,
    /// The scenario.
    pub scenario: Arc<Scenario>,
    /// How replay handles name the scenario (built-in name or file path).
    pub scenario_ref: String,
    /// The properties checked.
    pub properties: Vec<&'static Property>,
    /// Bounds and settings.
    pub opts: &'a CheckOptions,
}

impl Job<'_> {
    /// A handle for an execution of this job.
    pub fn handle(&self, at: ReplayAt) -> ReplayHandle {
        ReplayHandle {
            variant: self.variant.id.to_string(),
            scenario: self.scenario_ref.clone(),
            at,
        }
    }
}

/// What the stateful engine counted.
#[derive(Clone, Debug, Serialize)]
pub struct StateCounts {
    /// Distinct states (fingerprints) visited.
    pub states: u64,
    /// Scheduling decisions taken from visited states (edges of the state graph).
    pub transitions: u64,
    /// Interchangeable actors whose renamings were merged (0: no symmetry).
    pub symmetric_actors: usize,
    /// The probability bound that two different states were merged.
    pub collision_bound: f64,
    /// The longest path, in scheduling decisions.
    pub max_depth: usize,
}

/// A property's violation, as an engine found it.
#[derive(Clone, Debug)]
pub struct Found {
    /// The execution that found it (1-based, in the engine's order).
    pub execution: usize,
    /// What was violated, in one line.
    pub message: String,
    /// How the execution ended.
    pub end: End,
    /// Its trace.
    pub trace: Trace,
    /// Where to replay it.
    pub at: ReplayAt,
}

/// What an exploration found about one property.
#[derive(Clone, Debug, Default)]
pub struct Finding {
    /// The counterexample, if any.
    pub violation: Option<Found>,
    /// The property's vacuity witness was reached.
    pub witness: bool,
}

/// The result of one exploration.
#[derive(Clone, Debug)]
pub struct Exploration {
    /// Engine used.
    pub engine: EngineKind,
    /// Whether every schedule was explored.
    pub exhaustive: bool,
    /// Executions run.
    pub executions: usize,
    /// The stateful engine's counts.
    pub states: Option<StateCounts>,
    /// Why the exploration ended early, if it did (it is then not exhaustive).
    pub stopped: Option<String>,
    /// The budget that ended an unfinished exploration.
    pub bounded_by: Option<String>,
    /// One per property, in the job's order.
    pub findings: Vec<Finding>,
    /// Wall time until the first violation of any property.
    pub first_violation_after: Option<Duration>,
}

/// A replayed execution.
#[derive(Clone, Debug)]
pub struct Replayed {
    /// Its trace.
    pub trace: Trace,
    /// How it ended.
    pub end: End,
    /// Properties it violates, with their messages.
    pub violations: Vec<(&'static str, String)>,
}

/// One execution as an observer sees it.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// How it ended.
    pub end: End,
    /// Its end state (module states, which modprobe actors succeeded).
    pub summary: Option<String>,
    /// Its trace, for the engines that keep it.
    pub trace: Option<Trace>,
}

/// An engine.
pub trait Engine: Sync {
    /// Which one.
    fn kind(&self) -> EngineKind;
    /// Explore a cell.
    fn explore(&self, job: &Job<'_>) -> Exploration;
    /// Re-run one execution of an exploration, with the trace on.
    fn replay(&self, job: &Job<'_>, at: &ReplayAt) -> Result<Replayed, String>;
}

/// The checks of one execution: a violation a monitor reported as it
/// happened, else the monitor's verdict on how the execution ended.
pub(crate) fn checks(rec: &Recorder, end: &End, n: usize) -> Vec<Check> {
    let mut out = rec.finish(end);
    out.truncate(n);
    let mut seen = vec![false; n];
    for (i, msg) in rec.take_violations() {
        if i < n && !seen[i] {
            seen[i] = true;
            out[i] = Check::Violated(msg);
        }
    }
    out
}

/// Makes each execution's monitors: one per property, then the end-state
/// observer if someone observes.
pub(crate) type MonitorFactory = Arc<dyn Fn() -> Vec<Box<dyn Monitor>> + Send + Sync>;

pub(crate) fn monitor_factory(job: &Job<'_>) -> MonitorFactory {
    let (sc, v, props) = (job.scenario.clone(), job.variant, job.properties.clone());
    let observe = job.opts.observer.is_some();
    Arc::new(move || {
        let mut m: Vec<Box<dyn Monitor>> = props.iter().map(|p| p.monitor(&sc, &v)).collect();
        if observe {
            m.push(kmodcheck_properties::end_state_monitor());
        }
        m
    })
}

// ---------------------------------------------------------------------------
// The trace-on driver shared by loom and shuttle's schedulers: every
// execution records its trace, and the first violation of each property
// keeps it.

#[derive(Default)]
struct Acc {
    executions: usize,
    current: Option<Recorder>,
    findings: Vec<Finding>,
    /// Executions whose schedule shuttle keeps (in order).
    kept: Vec<usize>,
    reported: Option<Instant>,
    started: Option<Instant>,
    first_violation_after: Option<Duration>,
}

struct Driver {
    acc: Arc<Mutex<Acc>>,
    start: Instant,
}

impl Driver {
    fn new(job: &Job<'_>) -> Driver {
        Driver {
            acc: Arc::new(Mutex::new(Acc {
                findings: vec![Finding::default(); job.properties.len()],
                started: Some(Instant::now()),
                ..Acc::default()
            })),
            start: Instant::now(),
        }
    }

    fn executions(&self) -> usize {
        self.acc.lock().unwrap().executions
    }

    /// The body each engine runs once per execution.
    fn body(&self, job: &Job<'_>) -> impl Fn() + Send + Sync + 'static {
        let acc = self.acc.clone();
        let (v, sc) = (job.variant, job.scenario.clone());
        let props: Vec<&'static Property> = job.properties.clone();
        let monitors = monitor_factory(job);
        let progress = job.opts.progress.clone();
        let observer = job.opts.observer.clone();
        let start = self.start;
        move || {
            let rec = Recorder::new(monitors(), true);
            let n = {
                let mut a = acc.lock().unwrap_or_else(|e| e.into_inner());
                a.executions += 1;
                a.current = Some(rec.clone());
                if let Some(p) = &progress {
                    let last = *a.reported.get_or_insert(start);
                    if last.elapsed() >= crate::engine::PROGRESS_EVERY {
                        a.reported = Some(Instant::now());
                        (p.0)(a.executions, None, start.elapsed());
                    }
                }
                a.executions
            };
            execute(v, sc.clone(), rec.clone());
            fold(&acc, &props, n, &rec, &End::Completed, observer.as_ref());
        }
    }

    /// An execution the engine stopped at a deadlock: fold it.
    fn deadlock(&self, props: &[&'static Property], observer: Option<&crate::engine::Observer>) {
        let (n, rec) = {
            let a = self.acc.lock().unwrap();
            (a.executions, a.current.clone())
        };
        if let Some(rec) = rec {
            let end = rec.deadlock();
            fold(&self.acc, props, n, &rec, &end, observer);
        }
    }
}

/// Fold one execution's checks into the findings; a new violation keeps the
/// execution's trace and asks shuttle to keep its schedule.
fn fold(
    acc: &Mutex<Acc>,
    props: &[&'static Property],
    n: usize,
    rec: &Recorder,
    end: &End,
    observer: Option<&crate::engine::Observer>,
) {
    let cs = checks(rec, end, props.len());
    let mut a = acc.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(obs) = observer {
        (obs.0)(&Outcome {
            end: end.clone(),
            summary: rec.summaries().into_iter().next(),
            trace: Some(rec.trace()),
        });
    }
    let mut new_violation = false;
    for (i, c) in cs.into_iter().enumerate() {
        match c {
            Check::Ok { witness } => a.findings[i].witness |= witness,
            Check::Violated(msg) => {
                if a.findings[i].violation.is_none() {
                    let trace = rec.trace();
                    a.findings[i].violation = Some(Found {
                        execution: n,
                        message: props[i].describe(&msg, &trace),
                        end: end.clone(),
                        trace,
                        at: ReplayAt::Loom {
                            n,
                            preemption_bound: None,
                        },
                    });
                    new_violation = true;
                }
            }
            Check::Unknown => {}
        }
    }
    if new_violation {
        if a.first_violation_after.is_none() {
            a.first_violation_after = a.started.map(|t| t.elapsed());
        }
        a.kept.push(n);
        sync::keep_this_schedule();
    }
}

/// Run a shuttle strategy as an exploration (shuttle-dfs, -pct, -random).
fn explore_shuttle(job: &Job<'_>, kind: EngineKind, strategy: ShuttleStrategy) -> Exploration {
    let d = Driver::new(job);
    let opts = job.opts;
    let body = d.body(job);
    let run = match sync::silently(|| sync::explore_shuttle(&strategy, opts.time_limit, body)) {
        Ok(r) => r,
        Err(e) => {
            return Exploration {
                engine: kind,
                exhaustive: false,
                executions: d.executions(),
                states: None,
                stopped: Some(e),
                bounded_by: None,
                findings: vec![Finding::default(); job.properties.len()],
                first_violation_after: None,
            }
        }
    };
    let mut stopped = None;
    match &run.stop {
        None => {}
        Some(Stop::Deadlock(_)) => {
            d.deadlock(&job.properties, opts.observer.as_ref());
            stopped = Some(format!(
                "{} stopped at the deadlock in execution {}",
                kind.name(),
                d.executions()
            ));
        }
        Some(Stop::Bound(msg)) | Some(Stop::Panic(msg)) => {
            stopped = Some(format!(
                "{} stopped in execution {}: {}",
                kind.name(),
                d.executions(),
                msg.lines().next().unwrap_or("")
            ));
        }
    }
    let mut a = d.acc.lock().unwrap();
    let n = a.executions;
    // Schedules of the executions that found a violation, in order; the one
    // that stopped the run is the last schedule started.
    let mut schedules: Vec<(usize, String)> = a.kept.iter().copied().zip(run.kept).collect();
    if run.stop.is_some() {
        schedules.push((n, run.last_schedule.clone()));
    }
    for f in a.findings.iter_mut() {
        if let Some(v) = &mut f.violation {
            if let Some((_, s)) = schedules.iter().find(|(k, _)| *k == v.execution) {
                v.at = ReplayAt::Schedule(s.clone());
            }
        }
    }
    let ran_out = opts.max_executions.is_some_and(|m| n >= m)
        || opts.time_limit.is_some_and(|t| d.start.elapsed() >= t);
    let exhaustive = stopped.is_none() && kind == EngineKind::ShuttleDfs && !ran_out;
    let bounded_by = if kind != EngineKind::ShuttleDfs || stopped.is_some() {
        None
    } else if opts.max_executions.is_some_and(|m| n >= m) {
        Some(format!("{n} executions per cell"))
    } else {
        opts.time_limit
            .filter(|t| d.start.elapsed() >= *t)
            .map(|t| format!("{} s per cell", t.as_secs()))
    };
    Exploration {
        engine: kind,
        exhaustive,
        executions: n,
        states: None,
        stopped,
        bounded_by,
        findings: std::mem::take(&mut a.findings),
        first_violation_after: a.first_violation_after,
    }
}

/// Replay a shuttle schedule with the trace on.
fn replay_shuttle(job: &Job<'_>, schedule: &str) -> Result<Replayed, String> {
    let d = Driver::new(job);
    let body = d.body(job);
    let strategy = ShuttleStrategy::Replay(schedule.to_string());
    let run = sync::silently(|| sync::explore_shuttle(&strategy, None, body))?;
    if let Some(Stop::Deadlock(_)) = run.stop {
        d.deadlock(&job.properties, None);
    }
    Ok(d.replayed(&job.properties))
}

impl Driver {
    /// The last execution, as a replay.
    fn replayed(&self, props: &[&'static Property]) -> Replayed {
        let a = self.acc.lock().unwrap();
        let last = a.executions;
        let trace = a.current.as_ref().map(Recorder::trace).unwrap_or_default();
        let mut end = End::Completed;
        let mut violations = Vec::new();
        for (i, f) in a.findings.iter().enumerate() {
            if let Some(v) = &f.violation {
                if v.execution == last {
                    violations.push((props[i].id, v.message.clone()));
                    end = v.end.clone();
                }
            }
        }
        Replayed {
            trace,
            end,
            violations,
        }
    }
}
