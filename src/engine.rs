//! Verdicts: check one (variant, scenario) cell with an engine
//! ([`crate::engines`]), and fold what it found into one verdict per
//! property; replay a counterexample from its handle.
//!
//! Verdicts are honest (design.md): *holds* carries the engine, whether the
//! run was exhaustive, and the executions (and, for the stateful engine, the
//! states); *violated* carries a counterexample and a replay handle;
//! *inconclusive* says what bound was hit and how far the run got, or that
//! the property's witness was never reached (a vacuous "holds" is not
//! reported as one).

use kmodcheck_model::scenario::Scenario;
use kmodcheck_model::trace::{End, Trace};
use kmodcheck_model::variant::{self, Variant};
use kmodcheck_properties::Property;
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;

pub use crate::engines::{EngineKind, Outcome, ReplayAt, ReplayHandle, StateCounts};

/// loom 0.7.2's `MAX_THREADS` (`src/rt/mod.rs`), main thread included.
pub const LOOM_MAX_THREADS: usize = crate::engines::loom::MAX_THREADS;

/// How to check a cell.
#[derive(Clone, Debug)]
pub struct CheckOptions {
    /// `None`: the stateful engine.
    pub engine: Option<EngineKind>,
    /// loom preemption bound (`LOOM_MAX_PREEMPTIONS`); `Some` makes loom non-exhaustive.
    pub preemption_bound: Option<usize>,
    /// loom branch limit per execution (`LOOM_MAX_BRANCHES`).
    pub max_branches: usize,
    /// Stop after this many executions (the run is then not exhaustive).
    pub max_executions: Option<usize>,
    /// The stateful engine: stop after this many states (the run is then
    /// not exhaustive).
    pub max_states: Option<usize>,
    /// Stop after this much time (the run is then not exhaustive).
    pub time_limit: Option<Duration>,
    /// Seed of shuttle PCT and random (`SHUTTLE_RANDOM_SEED`).
    pub seed: u64,
    /// Executions of a sampling engine.
    pub samples: usize,
    /// PCT bug depth.
    pub pct_depth: usize,
    /// The stateful engine merges renamings of interchangeable actors.
    pub symmetry: bool,
    /// The stateful engine stops a schedule at a state it has seen (off
    /// only to test that pruning loses nothing).
    pub prune: bool,
    /// How the stateful engine treats the prefix a schedule replays
    /// ([`Replays::Restore`] but to test that restoring loses nothing).
    pub replays: Replays,
    /// The catalogue's driver ([`crate::check_scenarios`]) gives a column the
    /// search of an earlier column of the same scenario whose variant agrees
    /// with it on every policy that search read (`KMODCHECK_SHARE=0`: every
    /// column searches on its own).
    pub share: bool,
    /// Called about every [`PROGRESS_EVERY`] while a cell runs.
    pub progress: Option<Progress>,
    /// Called with every execution's outcome (the regression suites read
    /// end states through it); the stateful engine calls it once per
    /// distinct end.
    pub observer: Option<Observer>,
}

/// How the stateful engine treats the prefix of decisions a schedule
/// replays to reach the decision it takes a new choice at (the search
/// re-runs the model from the start for every schedule).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Replays {
    /// Hash nothing while replaying; at the decision, restore the state the
    /// search kept when it first reached it ([`kmodcheck_model::state::Snapshot`]).
    Restore,
    /// Hash every step again, as the first execution through it did.
    Hash,
    /// Hash every step again, and check at the decision that the state is
    /// the one kept (panics if not: the model is not deterministic, or a
    /// snapshot leaves something out).
    Verify,
}

/// A callback that sees an execution's outcome, deadlocks included.
#[derive(Clone)]
pub struct Observer(pub Arc<dyn Fn(&Outcome) + Send + Sync>);

impl std::fmt::Debug for Observer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Observer(..)")
    }
}

/// How often a long run reports progress.
pub const PROGRESS_EVERY: Duration = Duration::from_secs(5);

/// A progress callback: executions so far, states so far (the stateful
/// engine), time so far.
#[derive(Clone)]
pub struct Progress(pub Arc<dyn Fn(usize, Option<u64>, Duration) + Send + Sync>);

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Progress(..)")
    }
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            engine: None,
            preemption_bound: None,
            max_branches: 10_000,
            max_executions: None,
            max_states: None,
            time_limit: None,
            seed: 0x6b6d6f64,
            samples: 10_000,
            pct_depth: 3,
            symmetry: true,
            prune: true,
            replays: Replays::Restore,
            share: true,
            progress: None,
            observer: None,
        }
    }
}

impl CheckOptions {
    /// Defaults, overridden by the environment variables loom and shuttle
    /// users know: `LOOM_MAX_PREEMPTIONS`, `LOOM_MAX_BRANCHES`,
    /// `SHUTTLE_RANDOM_SEED`; and `KMODCHECK_SHARE` ([`CheckOptions::share`]).
    /// A malformed value is an error naming it.
    pub fn from_env() -> Result<Self, String> {
        let mut o = CheckOptions::default();
        let num = |k: &str| -> Result<Option<u64>, String> {
            match std::env::var(k) {
                Ok(v) => v
                    .trim()
                    .parse()
                    .map(Some)
                    .map_err(|_| format!("{k}={v:?} is not a whole number")),
                Err(_) => Ok(None),
            }
        };
        if let Some(v) = num("LOOM_MAX_PREEMPTIONS")? {
            o.preemption_bound = Some(v as usize);
        }
        if let Some(v) = num("LOOM_MAX_BRANCHES")? {
            o.max_branches = v as usize;
        }
        if let Some(v) = num("SHUTTLE_RANDOM_SEED")? {
            o.seed = v;
        }
        if let Some(v) = num("KMODCHECK_SHARE")? {
            o.share = v != 0;
        }
        Ok(o)
    }
}

/// A counterexample: one execution that violates a property.
#[derive(Clone, Debug, Serialize)]
pub struct Counterexample {
    /// Index of the execution in the engine's exploration order (1-based).
    pub execution: usize,
    /// What was violated, in one line.
    pub message: String,
    /// The wait-for cycle, for a deadlock.
    pub cycle: Option<Vec<String>>,
    /// The steps, rendered (see [`Trace::render`]).
    pub trace: String,
    /// Replays this execution: `kmodcheck replay HANDLE`.
    pub replay: ReplayHandle,
    /// The raw trace.
    #[serde(skip)]
    pub record: Trace,
}

/// One property's verdict on one cell.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "verdict", rename_all = "lowercase")]
pub enum Verdict {
    /// Every execution explored satisfies it, and its witness was reached.
    Holds {
        /// The exploration covered every interleaving.
        exhaustive: bool,
    },
    /// An execution violates it.
    Violated(Box<Counterexample>),
    /// Neither: a bound was hit, the run stopped early, or the witness was
    /// never reached.
    Inconclusive {
        /// Why, and how far the run got.
        reason: String,
    },
}

impl Verdict {
    /// `holds` / `violated` / `inconclusive`.
    pub fn kind(&self) -> &'static str {
        match self {
            Verdict::Holds { .. } => "holds",
            Verdict::Violated(_) => "violated",
            Verdict::Inconclusive { .. } => "inconclusive",
        }
    }
}

/// One property's result on a cell.
#[derive(Clone, Debug, Serialize)]
pub struct PropertyResult {
    /// Property id.
    pub property: &'static str,
    /// Its verdict.
    pub verdict: Verdict,
}

/// The result of checking one (variant, scenario) cell.
#[derive(Clone, Debug, Serialize)]
pub struct CellResult {
    /// Variant id.
    pub variant: &'static str,
    /// Scenario name.
    pub scenario: String,
    /// Engine used.
    pub engine: EngineKind,
    /// Whether every interleaving was explored.
    pub exhaustive: bool,
    /// Executions run.
    pub executions: usize,
    /// The stateful engine's states and transitions.
    pub states: Option<StateCounts>,
    /// Why the exploration ended early, if it did.
    pub stopped: Option<String>,
    /// Wall time.
    #[serde(skip)]
    pub elapsed: Duration,
    /// Wall time until the first violation of any property was found.
    #[serde(skip)]
    pub first_violation_after: Option<Duration>,
    /// One verdict per property of the scenario.
    pub properties: Vec<PropertyResult>,
    /// The variant whose search of this scenario this cell's is: the two
    /// agree on every policy that search read, so this variant's search
    /// does the same, state for state ([`crate::check_scenarios`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub same_search_as: Option<&'static str>,
}

impl CellResult {
    /// This cell's result as variant `v`'s, which agrees with this cell's
    /// variant on every policy its search read: the same search, with `v`
    /// in the replay handles.
    pub fn as_variant(&self, v: &Variant, elapsed: Duration) -> CellResult {
        let mut c = self.clone();
        c.same_search_as = Some(self.same_search_as.unwrap_or(self.variant));
        c.variant = v.id;
        c.elapsed = elapsed;
        c.first_violation_after = None;
        for p in &mut c.properties {
            if let Verdict::Violated(ce) = &mut p.verdict {
                ce.replay.variant = v.id.to_string();
            }
        }
        c
    }

    /// What the run explored, in words: `48 executions`, or for the
    /// stateful engine `312 states, 590 transitions, 201 executions,
    /// symmetry over 3 actors`.
    pub fn explored(&self) -> String {
        let n = crate::report::thousands(self.executions);
        match &self.states {
            Some(s) => format!(
                "{} states, {} transitions, {n} executions, {}",
                crate::report::thousands(s.states as usize),
                crate::report::thousands(s.transitions as usize),
                if s.symmetric_actors > 0 {
                    format!("symmetry over {} actors", s.symmetric_actors)
                } else {
                    "no symmetry".to_string()
                }
            ),
            None => format!("{n} executions"),
        }
    }
}

/// Resolve the scenario's property ids.
pub fn scenario_properties(sc: &Scenario) -> Result<Vec<&'static Property>, String> {
    sc.properties
        .iter()
        .map(|id| {
            kmodcheck_properties::by_id(id)
                .ok_or_else(|| format!("unknown property; property={id}, scenario={}", sc.name))
        })
        .collect()
}

/// Check every property of `sc` on variant `v`; replay handles name the
/// scenario by its name.
pub fn check_cell(v: Variant, sc: &Scenario, opts: &CheckOptions) -> Result<CellResult, String> {
    check_cell_as(v, sc, &sc.name, opts)
}

/// [`check_cell`], with replay handles that name the scenario
/// `scenario_ref` (a scenario file's path).
pub fn check_cell_as(
    v: Variant,
    sc: &Scenario,
    scenario_ref: &str,
    opts: &CheckOptions,
) -> Result<CellResult, String> {
    let props = scenario_properties(sc)?;
    let threads = sc.max_threads_under(&v);
    let engine = match opts.engine {
        Some(EngineKind::Loom) if threads > LOOM_MAX_THREADS => {
            return Err(format!(
                "scenario needs {threads} threads, loom allows {LOOM_MAX_THREADS}; scenario={}, engine=loom",
                sc.name
            ))
        }
        Some(e) => e,
        None => EngineKind::Stateful,
    };
    let job = crate::engines::Job {
        variant: v,
        scenario: Arc::new(sc.clone()),
        scenario_ref: scenario_ref.to_string(),
        properties: props.clone(),
        opts,
    };
    let start = std::time::Instant::now();
    let out = engine.engine().explore(&job);
    let elapsed = start.elapsed();
    let executions = out.executions;
    let mut results = Vec::new();
    for (p, f) in props.iter().zip(out.findings) {
        let verdict = if let Some(found) = f.violation {
            let cycle = match &found.end {
                End::Deadlock { cycle, .. } => cycle.clone(),
                End::Completed => None,
            };
            Verdict::Violated(Box::new(Counterexample {
                execution: found.execution,
                message: found.message,
                cycle,
                trace: found.trace.render(),
                replay: job.handle(found.at),
                record: found.trace,
            }))
        } else if let Some(why) = &out.stopped {
            Verdict::Inconclusive {
                reason: format!(
                    "{why}; no violation of {} in {executions} executions before that",
                    p.id
                ),
            }
        } else if let Some(bound) = &out.bounded_by {
            Verdict::Inconclusive {
                reason: format!(
                    "{} explored {}and stopped at its bound ({bound}) without finishing: no violation, not a proof",
                    out.engine.name(),
                    match &out.states {
                        Some(s) => format!("{} states in {executions} executions ", s.states),
                        None => format!("{executions} executions "),
                    }
                ),
            }
        } else if !f.witness {
            Verdict::Inconclusive {
                reason: match &out.states {
                    Some(s) => format!(
                        "vacuous: \"{}\" never happened in the {} states explored",
                        p.witness, s.states
                    ),
                    None => format!(
                        "vacuous: \"{}\" never happened in {executions} executions",
                        p.witness
                    ),
                },
            }
        } else {
            Verdict::Holds {
                exhaustive: out.exhaustive,
            }
        };
        results.push(PropertyResult {
            property: p.id,
            verdict,
        });
    }
    Ok(CellResult {
        variant: v.id,
        scenario: sc.name.clone(),
        engine: out.engine,
        exhaustive: out.exhaustive,
        executions,
        states: out.states,
        stopped: out.stopped,
        elapsed,
        first_violation_after: out.first_violation_after,
        properties: results,
        same_search_as: None,
    })
}

/// Point a cell's replay handles at the scenario file it came from, so
/// `replay` can find it: a file's scenario is not in the built-in catalogue.
pub fn retarget_handles(c: &mut CellResult, path: &str) {
    for p in &mut c.properties {
        if let Verdict::Violated(ce) = &mut p.verdict {
            ce.replay.scenario = path.to_string();
        }
    }
}

/// What replaying a handle produced.
#[derive(Clone, Debug)]
pub struct Replayed {
    /// The replayed execution's trace.
    pub record: Trace,
    /// Properties it violates, with their messages.
    pub violations: Vec<(&'static str, String)>,
    /// The wait-for cycle if it deadlocked.
    pub cycle: Option<Vec<String>>,
    /// Whether every task ran to its end (not a deadlock).
    pub completed: bool,
    /// The scenario's properties, which the replay checked.
    pub checked: Vec<&'static str>,
}

impl Replayed {
    /// One line: what this execution does to the scenario's properties (one
    /// execution: a property it does not violate is not thereby proved).
    pub fn verdict(&self) -> String {
        let ending = if self.completed {
            "every task ran to its end"
        } else {
            "it ends in a deadlock"
        };
        let broken: Vec<&str> = self.violations.iter().map(|(p, _)| *p).collect();
        let kept: Vec<&str> = self
            .checked
            .iter()
            .copied()
            .filter(|p| !broken.contains(p))
            .collect();
        let mut parts = vec![ending.to_string()];
        if !broken.is_empty() {
            parts.push(format!("violated: {}", broken.join(", ")));
        }
        if !kept.is_empty() {
            parts.push(format!("not violated by it: {}", kept.join(", ")));
        }
        format!("verdict of this one execution: {}", parts.join("; "))
    }
}

/// Replay a counterexample handle ([`ReplayHandle`]): SCENARIO is a built-in
/// name, one of `scenarios`, or a path ending in `.toml`.
pub fn replay(handle: &str, scenarios: &[Scenario]) -> Result<Replayed, String> {
    let h: ReplayHandle = handle.parse()?;
    let v = variant::by_id(&h.variant)
        .ok_or_else(|| format!("unknown variant; variant={}, handle={handle}", h.variant))?;
    let from_file;
    let sc = if h.scenario.ends_with(".toml") {
        from_file = crate::scenario_file::load(std::path::Path::new(&h.scenario))
            .map_err(|e| e.to_string())?;
        &from_file
    } else {
        scenarios
            .iter()
            .find(|s| s.name == h.scenario)
            .ok_or_else(|| format!("unknown scenario; scenario={}, handle={handle}", h.scenario))?
    };
    let props = scenario_properties(sc)?;
    let opts = CheckOptions::default();
    let job = crate::engines::Job {
        variant: v,
        scenario: Arc::new(sc.clone()),
        scenario_ref: h.scenario.clone(),
        properties: props,
        opts: &opts,
    };
    let r = h.at.engine().engine().replay(&job, &h.at)?;
    let cycle = match &r.end {
        End::Deadlock { cycle, .. } => cycle.clone(),
        End::Completed => None,
    };
    Ok(Replayed {
        record: r.trace,
        violations: r.violations,
        cycle,
        completed: matches!(r.end, End::Completed),
        checked: job.properties.iter().map(|p| p.id).collect(),
    })
}

/// Where `other` disagrees with `loom` on a cell that loom finished: loom's
/// "holds" (exhaustive) must be `other`'s, loom's violation must be a
/// violation, and loom's vacuous "inconclusive" must be inconclusive. Where
/// loom stopped at a deadlock, only its violations bind (loom cannot go on
/// past a deadlock; the stateful engine can, and may decide the rest).
/// `None`: loom did not finish, so there is nothing to compare.
pub fn disagreements(loom: &CellResult, other: &CellResult) -> Option<Vec<String>> {
    let at_deadlock = loom
        .stopped
        .as_deref()
        .is_some_and(|s| s.contains("deadlock"));
    if !loom.exhaustive && !at_deadlock {
        return None;
    }
    let mut out = Vec::new();
    for (l, o) in loom.properties.iter().zip(&other.properties) {
        let ok = match (&l.verdict, &o.verdict) {
            (Verdict::Violated(_), Verdict::Violated(_)) => true,
            (Verdict::Violated(_), _) => false,
            (_, _) if at_deadlock => true,
            (Verdict::Holds { exhaustive: true }, Verdict::Holds { exhaustive: true }) => true,
            (Verdict::Inconclusive { .. }, Verdict::Inconclusive { .. }) => true,
            _ => false,
        };
        if !ok {
            out.push(format!(
                "{} × {} × {}: loom {} ({}), {} {} ({})",
                loom.variant,
                loom.scenario,
                l.property,
                l.verdict.kind(),
                loom.explored(),
                other.engine.name(),
                o.verdict.kind(),
                other.explored()
            ));
        }
    }
    Some(out)
}

/// An end state as an observer sees it (`Outcome::summary`), with the
/// interchangeable actors' results sorted by target and result, and their
/// task ids dropped: the same for two end states that differ only in which
/// of several modprobe runs of one target did what. (Only modprobe actors of
/// the same target are interchangeable; a signal aimed at one breaks that,
/// so compare this way only scenarios without signals aimed at actors.)
pub fn end_state_up_to_renaming(summary: &str) -> String {
    let (head, tail) = summary.split_once("| modprobe ").unwrap_or((summary, ""));
    let mut results: Vec<&str> = tail
        .split(' ')
        .filter(|r| !r.is_empty())
        .map(|r| r.split_once('(').map_or(r, |(_, rest)| rest))
        .collect();
    results.sort();
    format!("{head}| modprobe {}", results.join(" "))
}
