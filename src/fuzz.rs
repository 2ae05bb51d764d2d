//! Regression property suites over generated scenarios (proptest).
//!
//! [`scenarios`] generates valid scenarios that fit loom's thread limit:
//! 1–3 modules with files, names, aliases and an acyclic dependency graph;
//! init behaviours (succeed, fail, request an alias, register an algorithm
//! whose self-test requests one); 1–3 modprobe actors; an optional signal
//! and timer; a kmod budget. A failing case shrinks to a small scenario,
//! printed in the scenario file format ([`crate::scenario_file::to_toml`]).
//!
//! The suites ([`Suite`]) check a variant against what must hold whatever
//! the scenario:
//!
//! - *differential*: with no request from inside init, no failing init and
//!   no signal, the variant ends in the same module states with the same
//!   modprobe successes as every deduplicating kernel (legacy, idempotent,
//!   idempotent-interruptible) and recursion-aware;
//! - *metamorphic*: a signal actor never turns a terminating scenario into
//!   a hanging one; renaming modules and adding an unrelated module change
//!   no verdict (nor the number of executions);
//! - *engine agreement*: where loom finishes, the stateful engine gives the
//!   same verdicts (`engine::disagreements`); a violation shuttle (PCT,
//!   random) finds, the stateful engine finds too;
//! - *no-deadlock*: the variant never deadlocks on scenarios whose only
//!   cycles go through `request_module` from init (the recursion-aware
//!   proposal's claim), with one loader or with several.
//!
//! The suites run the stateful engine (loom too, in engine agreement). Every
//! run is bounded ([`FuzzOptions::max_executions`]); a case whose run hits
//! the bound is counted as skipped, never as a pass.

use crate::engine::Outcome;
use crate::engine::{check_cell, CellResult, CheckOptions, EngineKind, Observer, Verdict};
use kmodcheck_model::errno::ENODEV;
use kmodcheck_model::scenario::{
    Actor, Expect, InitStep, ModuleSpec, Scenario, Sig, SignalTarget, MAX_KMOD_CONCURRENT,
};
use kmodcheck_model::variant::{self, Variant};
use kmodcheck_properties::End;
use proptest::prelude::*;
use proptest::test_runner::{
    Config, FileFailurePersistence, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner,
};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

/// What generated scenarios may contain.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    /// Inits may call `request_module`.
    pub requests: bool,
    /// Inits may register an algorithm whose self-test requests an alias.
    pub crypto: bool,
    /// Inits may fail.
    pub failing: bool,
    /// Inits may oops: the loader dies in init, its module COMING for good.
    pub oops: bool,
    /// Actors may be `insmod FILE` (no dependency loaded first, so an
    /// importer can meet its provider COMING in `resolve_symbol_wait()`).
    pub insmod: bool,
    /// A signal actor may be added.
    pub signal: bool,
    /// A kmod budget below the kernel's (1 to 3 slots).
    pub budget: bool,
    /// The least and most loading actors (modprobe or insmod).
    pub actors: (usize, usize),
}

impl Shape {
    /// Everything the generator knows.
    pub const ALL: Shape = Shape {
        requests: true,
        crypto: true,
        failing: true,
        oops: true,
        insmod: true,
        signal: true,
        budget: true,
        actors: (1, 3),
    };
    /// The differential suite's: nothing but loads (no request from init,
    /// no failing init, no signal, the kernel's budget).
    pub const PLAIN: Shape = Shape {
        requests: false,
        crypto: false,
        failing: false,
        oops: false,
        insmod: false,
        signal: false,
        budget: false,
        actors: (1, 3),
    };
    /// The no-deadlock suite's: requests from init (so every cycle goes
    /// through `request_module`), failing inits, no crypto self-test (its
    /// request comes from a kthread), the kernel's budget (so no cycle goes
    /// through a kmod slot), no signal.
    pub const RECURSIVE: Shape = Shape {
        requests: true,
        crypto: false,
        failing: true,
        oops: false,
        insmod: false,
        signal: false,
        budget: false,
        actors: (1, 2),
    };
}

/// The properties every generated scenario is checked for (`ends-live` and
/// `bounded-helpers` need expectations a generator cannot know).
pub const GENERATED_PROPERTIES: &[&str] = &[
    "no-deadlock",
    "init-at-most-once",
    "consistent-result",
    "success-means-live",
    "dependents-load",
    "idem-memory-safety",
    "module-memory-safety",
    "coming-before-init",
    "live-deps",
    "budget-respected",
];

/// What one generated init does, as numbers drawn: module indices rather
/// than names, so that proptest shrinks a case by shrinking numbers. The
/// draws are not a scenario form: [`build`] turns them into the one form,
/// [`Scenario`], and `Scenario::validate` checks the result.
#[derive(Clone, Debug)]
enum Init {
    Succeed,
    Fail,
    Oops,
    /// Request module `target` (== n: an alias nobody provides), by its
    /// alias or its name; required or not.
    Request {
        target: usize,
        by_alias: bool,
        required: bool,
    },
    /// Register an algorithm whose self-test requests `target`.
    Alg {
        target: usize,
        by_alias: bool,
    },
}

/// One module's draws (see [`Init`]).
#[derive(Clone, Debug)]
struct DrawnModule {
    alias: bool,
    deps: Vec<bool>,
    init: Init,
}

/// One case's draws (see [`Init`]).
#[derive(Clone, Debug)]
struct Draws {
    modules: Vec<DrawnModule>,
    /// Each actor's target module, whether by alias, and whether it is an
    /// insmod of the module's file rather than a modprobe.
    actors: Vec<(usize, bool, bool)>,
    signal: Option<(usize, bool)>,
    timer: bool,
    kmod_limit: u32,
}

fn name(i: usize) -> String {
    format!("m{i}")
}

fn alias(i: usize) -> String {
    format!("alias-m{i}")
}

fn init_strategy(shape: Shape, n: usize) -> BoxedStrategy<Init> {
    let mut options: Vec<BoxedStrategy<Init>> = vec![Just(Init::Succeed).boxed()];
    if shape.failing {
        options.push(Just(Init::Fail).boxed());
    }
    if shape.oops {
        options.push(Just(Init::Oops).boxed());
    }
    if shape.requests {
        options.push(
            (0..=n, any::<bool>(), any::<bool>())
                .prop_map(|(target, by_alias, required)| Init::Request {
                    target,
                    by_alias,
                    required,
                })
                .boxed(),
        );
    }
    if shape.crypto {
        options.push(
            (0..=n, any::<bool>())
                .prop_map(|(target, by_alias)| Init::Alg { target, by_alias })
                .boxed(),
        );
    }
    proptest::strategy::Union::new(options).boxed()
}

fn draws_strategy(shape: Shape) -> BoxedStrategy<Draws> {
    (1usize..=3)
        .prop_flat_map(move |n| {
            let modules = (0..n)
                .map(|i| {
                    (
                        any::<bool>(),
                        proptest::collection::vec(any::<bool>(), i),
                        init_strategy(shape, n),
                    )
                        .prop_map(|(alias, deps, init)| DrawnModule {
                            alias,
                            deps,
                            init,
                        })
                })
                .collect::<Vec<_>>();
            let insmod = if shape.insmod {
                any::<bool>().boxed()
            } else {
                Just(false).boxed()
            };
            let actors = proptest::collection::vec(
                (0..n, any::<bool>(), insmod),
                shape.actors.0..=shape.actors.1,
            );
            let signal = if shape.signal {
                proptest::option::of((0..shape.actors.1, any::<bool>())).boxed()
            } else {
                Just(None).boxed()
            };
            let limit = if shape.budget {
                (1u32..=3).boxed()
            } else {
                Just(MAX_KMOD_CONCURRENT).boxed()
            };
            (modules, actors, signal, any::<bool>(), limit).prop_map(
                |(modules, actors, signal, timer, kmod_limit)| Draws {
                    modules,
                    actors,
                    signal,
                    timer,
                    kmod_limit,
                },
            )
        })
        .boxed()
}

fn build(raw: &Draws) -> Scenario {
    let n = raw.modules.len();
    let target = |t: usize, by_alias: bool| -> String {
        if t >= n {
            ABSENT.to_string()
        } else if by_alias && raw.modules[t].alias {
            alias(t)
        } else {
            name(t)
        }
    };
    let modules: Vec<ModuleSpec> = raw
        .modules
        .iter()
        .enumerate()
        .map(|(i, m)| ModuleSpec {
            name: name(i),
            file: format!("{}.ko", name(i)),
            aliases: if m.alias { vec![alias(i)] } else { vec![] },
            deps: m
                .deps
                .iter()
                .enumerate()
                .filter(|(_, d)| **d)
                .map(|(j, _)| name(j))
                .collect(),
            init: match &m.init {
                Init::Succeed => vec![],
                Init::Fail => vec![InitStep::Fail(ENODEV)],
                Init::Oops => vec![InitStep::Oops],
                Init::Request {
                    target: t,
                    by_alias,
                    required,
                } => vec![InitStep::RequestModule {
                    alias: target(*t, *by_alias),
                    required: *required,
                }],
                Init::Alg {
                    target: t,
                    by_alias,
                } => vec![InitStep::RegisterAlg {
                    alg: format!("alg-{}", name(i)),
                    test_requests: target(*t, *by_alias),
                }],
            },
        })
        .collect();
    let mut actors: Vec<Actor> = raw
        .actors
        .iter()
        .map(|(t, by_alias, insmod)| {
            if *insmod && *t < n {
                Actor::Insmod(format!("{}.ko", name(*t)))
            } else {
                Actor::Modprobe(target(*t, *by_alias))
            }
        })
        .collect();
    // A signal goes to a modprobe actor or an insmod actor (the i-th of
    // them, 0-based, modprobes first): an insmod is the only task that
    // waits in resolve_symbol_wait() for a provider nobody loaded first.
    let modprobes = actors
        .iter()
        .filter(|a| matches!(a, Actor::Modprobe(_)))
        .count();
    let insmods = actors.len() - modprobes;
    if let (Some((i, fatal)), true) = (raw.signal, modprobes + insmods > 0) {
        let i = i % (modprobes + insmods);
        actors.push(Actor::Signal {
            target: if i < modprobes {
                SignalTarget::Actor(i)
            } else {
                SignalTarget::Insmod(i - modprobes)
            },
            kind: if fatal { Sig::Kill } else { Sig::Handled },
        });
    }
    let requests_absent = modules.iter().any(|m: &ModuleSpec| {
        m.init.iter().any(|s| match s {
            InitStep::RequestModule { alias, .. } => alias == ABSENT,
            InitStep::RegisterAlg { test_requests, .. } => test_requests == ABSENT,
            InitStep::Fail(_) | InitStep::Oops => false,
        })
    }) || actors
        .iter()
        .any(|a| matches!(a, Actor::Modprobe(t) if t == ABSENT));
    let sc = Scenario {
        name: "generated".into(),
        summary: "a scenario generated by kmodcheck fuzz".into(),
        reference: "kmodcheck fuzz (proptest)".into(),
        modules,
        actors,
        timer: raw.timer,
        kmod_limit: raw.kmod_limit,
        helper_bound: None,
        exec_requests: None,
        absent: if requests_absent {
            vec![ABSENT.to_string()]
        } else {
            vec![]
        },
        expect_live: vec![],
        expect: vec![],
        properties: GENERATED_PROPERTIES.iter().map(|s| s.to_string()).collect(),
    };
    if let Err(e) = crate::scenario_file::validate(&sc) {
        panic!("the generator made a scenario Scenario::validate refuses: {e}\n{sc:#?}");
    }
    sc
}

/// The name a generated init or actor asks for when it targets no module.
const ABSENT: &str = "absent-module";

/// Valid scenarios of this shape that loom can run (at most
/// [`crate::engine::LOOM_MAX_THREADS`] threads).
pub fn scenarios(shape: Shape) -> BoxedStrategy<Scenario> {
    draws_strategy(shape)
        .prop_map(|r| build(&r))
        .prop_filter("fits loom's thread limit", |s| {
            s.max_threads() <= crate::engine::LOOM_MAX_THREADS
        })
        .boxed()
}

/// A regression suite.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Suite {
    /// Same end states as the deduplicating kernels.
    Differential,
    /// Signals, renaming, an unrelated module.
    Metamorphic,
    /// loom and shuttle agree.
    EngineAgreement,
    /// Never deadlocks where every cycle goes through `request_module`.
    NoDeadlock,
}

impl Suite {
    /// Every suite.
    pub const ALL: [Suite; 4] = [
        Suite::Differential,
        Suite::Metamorphic,
        Suite::EngineAgreement,
        Suite::NoDeadlock,
    ];

    /// Command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Suite::Differential => "differential",
            Suite::Metamorphic => "metamorphic",
            Suite::EngineAgreement => "engine-agreement",
            Suite::NoDeadlock => "no-deadlock",
        }
    }

    /// Parse a command-line name.
    pub fn parse(s: &str) -> Option<Suite> {
        Suite::ALL.into_iter().find(|x| x.name() == s)
    }

    /// The cases the default `cargo test --release` runs (sized to keep
    /// the test run within its budget; `PROPTEST_CASES` overrides).
    pub fn default_cases(self) -> u32 {
        match self {
            Suite::Differential => 16,
            Suite::Metamorphic => 16,
            Suite::EngineAgreement => 12,
            Suite::NoDeadlock => 32,
        }
    }
}

/// A callback given one line of progress.
pub type ProgressLine = Arc<dyn Fn(&str) + Send + Sync>;

/// How to run a suite.
#[derive(Clone)]
pub struct FuzzOptions {
    /// Generated cases that must pass (skipped cases do not count).
    pub cases: u32,
    /// Seed of the generator: the same seed gives the same cases.
    pub seed: u64,
    /// loom's bound per run, in executions; a case that hits it is skipped
    /// (engine agreement then compares only what was sampled).
    pub max_executions: usize,
    /// The stateful engine's bound per run, in states; a case that hits it
    /// is skipped.
    pub max_states: usize,
    /// Samples of each shuttle sampler in the engine-agreement suite.
    pub samples: usize,
    /// Where failing cases are saved and replayed first
    /// (`proptest-regressions/...`); `None`: nowhere.
    pub persist: Option<&'static str>,
    /// Called after each case with a one-line summary.
    pub progress: Option<ProgressLine>,
}

impl Default for FuzzOptions {
    fn default() -> Self {
        FuzzOptions {
            cases: 32,
            seed: 0x6b6d6f64,
            max_executions: 20_000,
            max_states: 2_000,
            samples: 200,
            persist: None,
            progress: None,
        }
    }
}

/// What a suite run found.
#[derive(Clone, Debug)]
pub struct SuiteReport {
    /// The suite.
    pub suite: Suite,
    /// The variant under test.
    pub variant: &'static str,
    /// Cases that passed.
    pub passed: u32,
    /// Cases skipped because a run hit its bound.
    pub skipped: u32,
    /// Engine agreement: cases where only the sampled half ran (loom or the
    /// stateful engine did not finish, so exact agreement was not checked).
    pub partial: u32,
    /// Executions over all cases (every engine).
    pub executions: usize,
    /// The first failure, shrunk.
    pub failure: Option<Failure>,
}

/// A failing case, after shrinking.
#[derive(Clone, Debug)]
pub struct Failure {
    /// What went wrong.
    pub message: String,
    /// The smallest scenario proptest found that still fails (`None` when
    /// the run gave up instead: too many cases skipped).
    pub scenario: Option<Scenario>,
    /// It, as a scenario file.
    pub toml: Option<String>,
}

/// Case counts. Once a case fails, shrinking runs more cases: those are
/// not counted (only their executions are).
#[derive(Default)]
struct Counters {
    skipped: u32,
    passed: u32,
    partial: u32,
    executions: usize,
    failed: bool,
}

fn cell(v: Variant, sc: &Scenario, opts: &CheckOptions) -> Result<CellResult, TestCaseError> {
    check_cell(v, sc, opts).map_err(|e| TestCaseError::fail(format!("cannot check: {e}")))
}

/// One property verdict per property, as text (`holds`, `violated`,
/// `inconclusive`), for comparisons.
fn kinds(c: &CellResult) -> Vec<(&'static str, &'static str)> {
    c.properties
        .iter()
        .map(|p| (p.property, p.verdict.kind()))
        .collect()
}

/// The stateful engine, bounded.
fn bounded(opts: &FuzzOptions) -> CheckOptions {
    CheckOptions {
        engine: Some(EngineKind::Stateful),
        max_states: Some(opts.max_states),
        ..CheckOptions::default()
    }
}

/// loom, bounded.
fn loom_bounded(opts: &FuzzOptions) -> CheckOptions {
    CheckOptions {
        engine: Some(EngineKind::Loom),
        max_executions: Some(opts.max_executions),
        ..CheckOptions::default()
    }
}

/// How many states (the stateful engine) or executions a run took.
fn size(c: &CellResult) -> u64 {
    c.states.as_ref().map_or(c.executions as u64, |s| s.states)
}

/// End states of every execution: module states, and which modprobe actors
/// succeeded.
fn end_states(
    v: Variant,
    sc: &Scenario,
    opts: &FuzzOptions,
) -> Result<(CellResult, BTreeSet<String>), TestCaseError> {
    let seen = Arc::new(Mutex::new(BTreeSet::new()));
    let s2 = seen.clone();
    // With symmetry the search keeps one end state per orbit: compared up
    // to renaming the interchangeable actors (no signal in these scenarios).
    let mut o = bounded(opts);
    o.observer = Some(Observer(Arc::new(move |out: &Outcome| {
        let mut text = match out.end {
            End::Completed => String::new(),
            End::Deadlock { .. } => "deadlock; ".into(),
        };
        text.push_str(&crate::engine::end_state_up_to_renaming(
            out.summary.as_deref().unwrap_or(""),
        ));
        s2.lock().unwrap().insert(text);
    })));
    let c = cell(v, sc, &o)?;
    let states = std::mem::take(&mut *seen.lock().unwrap());
    Ok((c, states))
}

fn rename(sc: &Scenario) -> Scenario {
    let r = |s: &str| format!("renamed-{s}");
    let mut out = sc.clone();
    for m in &mut out.modules {
        m.name = r(&m.name);
        m.file = r(&m.file);
        m.aliases = m.aliases.iter().map(|a| r(a)).collect();
        m.deps = m.deps.iter().map(|a| r(a)).collect();
        for s in &mut m.init {
            match s {
                InitStep::RequestModule { alias, .. } => *alias = r(alias),
                InitStep::RegisterAlg { test_requests, .. } => *test_requests = r(test_requests),
                InitStep::Fail(_) | InitStep::Oops => {}
            }
        }
    }
    for a in &mut out.actors {
        match a {
            Actor::Modprobe(t) => *t = r(t),
            Actor::Insmod(f) => *f = r(f),
            Actor::ForceUnload(m) | Actor::Rmmod(m) => *m = r(m),
            Actor::Request { alias, .. } => *alias = r(alias),
            Actor::Signal {
                target: SignalTarget::HelperFor(h),
                ..
            } => *h = r(h),
            Actor::Signal { .. } => {}
        }
    }
    out.expect_live = out.expect_live.iter().map(|a| r(a)).collect();
    out.absent = out.absent.iter().map(|a| r(a)).collect();
    for e in &mut out.expect {
        match e {
            Expect::Request { alias, .. } => *alias = r(alias),
            Expect::NeverLive(m) | Expect::Rmmod { module: m, .. } => *m = r(m),
            Expect::Insmod { file, .. } => *file = r(file),
            Expect::Exit { .. } => {}
        }
    }
    out
}

fn with_unrelated_module(sc: &Scenario) -> Scenario {
    let mut out = sc.clone();
    out.modules.push(ModuleSpec {
        name: "unrelated".into(),
        file: "unrelated.ko".into(),
        aliases: vec!["alias-unrelated".into()],
        deps: vec![],
        init: vec![],
    });
    out
}

/// The dedup kernels (and the proposal) the differential suite compares
/// the variant under test with.
pub const DIFFERENTIAL_WITH: &[&str] = &[
    "legacy",
    "idempotent",
    "idempotent-interruptible",
    "recursion-aware",
];

fn case(
    suite: Suite,
    v: Variant,
    sc: &Scenario,
    opts: &FuzzOptions,
    count: &Mutex<Counters>,
) -> Result<(), TestCaseError> {
    let skip = |count: &Mutex<Counters>, why: &str| {
        let mut c = count.lock().unwrap();
        if !c.failed {
            c.skipped += 1;
        }
        Err(TestCaseError::reject(why.to_string()))
    };
    let add = |c: &CellResult| count.lock().unwrap().executions += c.executions;
    match suite {
        Suite::Differential => {
            let (c, mine) = end_states(v, sc, opts)?;
            add(&c);
            if !c.exhaustive {
                return skip(count, "bound");
            }
            for other in DIFFERENTIAL_WITH {
                let ov = variant::by_id(other).expect("a catalogue variant");
                if ov.id == v.id {
                    continue;
                }
                let (oc, theirs) = end_states(ov, sc, opts)?;
                add(&oc);
                if !oc.exhaustive {
                    return skip(count, "bound");
                }
                if mine != theirs {
                    let only = |a: &BTreeSet<String>, b: &BTreeSet<String>| {
                        a.difference(b).cloned().collect::<Vec<_>>().join("; ")
                    };
                    return Err(TestCaseError::fail(format!(
                        "end states differ: only under {}: [{}]; only under {}: [{}]",
                        v.id,
                        only(&mine, &theirs),
                        ov.id,
                        only(&theirs, &mine)
                    )));
                }
            }
        }
        Suite::Metamorphic => {
            let o = bounded(opts);
            let base = cell(v, sc, &o)?;
            add(&base);
            if !base.exhaustive {
                return skip(count, "bound");
            }
            for (what, other) in [
                ("renaming every module", rename(sc)),
                ("adding an unrelated module", with_unrelated_module(sc)),
            ] {
                let c = cell(v, &other, &o)?;
                add(&c);
                if kinds(&c) != kinds(&base) || size(&c) != size(&base) {
                    return Err(TestCaseError::fail(format!(
                        "{what} changed the verdicts: {:?} in {} became {:?} in {}",
                        kinds(&base),
                        base.explored(),
                        kinds(&c),
                        c.explored()
                    )));
                }
            }
            // A signal to a task never makes a terminating scenario hang.
            let terminates = matches!(
                base.properties
                    .iter()
                    .find(|p| p.property == "no-deadlock")
                    .map(|p| &p.verdict),
                Some(Verdict::Holds { exhaustive: true })
            );
            let modprobes = sc
                .actors
                .iter()
                .filter(|a| matches!(a, Actor::Modprobe(_)))
                .count();
            if terminates {
                for i in 0..modprobes {
                    for kind in [Sig::Kill, Sig::Handled, Sig::Stop] {
                        let mut s = sc.clone();
                        s.actors.push(Actor::Signal {
                            target: SignalTarget::Actor(i),
                            kind,
                        });
                        s.properties = vec!["no-deadlock".into()];
                        let c = cell(v, &s, &o)?;
                        add(&c);
                        if let Verdict::Violated(ce) = &c.properties[0].verdict {
                            return Err(TestCaseError::fail(format!(
                                "terminates without a signal, but hangs with {} to modprobe actor {i}: {}\n{}",
                                kind.name(),
                                ce.message,
                                ce.trace
                            )));
                        }
                    }
                }
            }
        }
        Suite::EngineAgreement => {
            let stateful = cell(v, sc, &bounded(opts))?;
            add(&stateful);
            let loom = cell(v, sc, &loom_bounded(opts))?;
            add(&loom);
            if let Some(d) = crate::engine::disagreements(&loom, &stateful) {
                if !d.is_empty() {
                    return Err(TestCaseError::fail(format!(
                        "loom and the stateful engine disagree: {}",
                        d.join("; ")
                    )));
                }
            }
            for engine in [EngineKind::ShuttlePct, EngineKind::ShuttleRandom] {
                let o = CheckOptions {
                    engine: Some(engine),
                    max_executions: Some(opts.samples),
                    seed: opts.seed,
                    ..CheckOptions::default()
                };
                let s = cell(v, sc, &o)?;
                for (p, l) in s.properties.iter().zip(&stateful.properties) {
                    if let Verdict::Violated(ce) = &p.verdict {
                        if stateful.exhaustive && !matches!(l.verdict, Verdict::Violated(_)) {
                            return Err(TestCaseError::fail(format!(
                                "{} found {} violated ({}), the stateful engine says {} after {}",
                                engine.name(),
                                p.property,
                                ce.message,
                                l.verdict.kind(),
                                stateful.explored()
                            )));
                        }
                    }
                }
            }
            let loom_finished = loom.exhaustive
                || loom
                    .stopped
                    .as_deref()
                    .is_some_and(|s| s.contains("deadlock"));
            if !(loom_finished && stateful.exhaustive) {
                // The sampled half ran; the exact half could not.
                let mut c = count.lock().unwrap();
                if !c.failed {
                    c.partial += 1;
                }
            }
        }
        Suite::NoDeadlock => {
            let mut s = sc.clone();
            s.properties = vec!["no-deadlock".into()];
            let c = cell(v, &s, &bounded(opts))?;
            add(&c);
            if let Verdict::Violated(ce) = &c.properties[0].verdict {
                return Err(TestCaseError::fail(format!(
                    "{}{}\n{}",
                    ce.message,
                    ce.cycle
                        .as_ref()
                        .map_or(String::new(), |c| format!("\ncycle: {}", c.join("; "))),
                    ce.trace
                )));
            }
            if !c.exhaustive {
                return skip(count, "bound");
            }
        }
    }
    let mut c = count.lock().unwrap();
    if !c.failed {
        c.passed += 1;
    }
    Ok(())
}

/// The shape a suite generates.
pub fn shape_of(suite: Suite) -> Shape {
    match suite {
        Suite::Differential => Shape::PLAIN,
        Suite::Metamorphic | Suite::EngineAgreement => Shape::ALL,
        Suite::NoDeadlock => Shape::RECURSIVE,
    }
}

/// Run a suite against a variant: `opts.cases` generated cases, shrunk to a
/// small scenario on failure.
pub fn run_suite(suite: Suite, v: Variant, opts: &FuzzOptions) -> SuiteReport {
    run_suite_on(suite, v, scenarios(shape_of(suite)), opts)
}

/// [`run_suite`] on scenarios of a given strategy.
pub fn run_suite_on(
    suite: Suite,
    v: Variant,
    strategy: BoxedStrategy<Scenario>,
    opts: &FuzzOptions,
) -> SuiteReport {
    let mut seed = [0u8; 32];
    seed[..8].copy_from_slice(&opts.seed.to_le_bytes());
    let config = Config {
        cases: opts.cases,
        // Skipped cases (bounds) are rejections; allow many before giving up.
        max_global_rejects: opts.cases.saturating_mul(20).max(1024),
        max_local_rejects: 1 << 16,
        failure_persistence: opts
            .persist
            .map(|p| Box::new(FileFailurePersistence::Direct(p)) as _),
        source_file: Some("kmodcheck fuzz"),
        max_shrink_iters: 256,
        verbose: 0,
        ..Config::default()
    };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed));
    let count = Mutex::new(Counters::default());
    let result = runner.run(&strategy, |sc| {
        let r = case(suite, v, &sc, opts, &count);
        let mut c = count.lock().unwrap();
        let what = match &r {
            Ok(()) => "passed",
            Err(TestCaseError::Reject(_)) => "skipped (bound)",
            Err(TestCaseError::Fail(_)) if c.failed => "still fails (shrinking)",
            Err(TestCaseError::Fail(_)) => "FAILED; shrinking",
        };
        if matches!(r, Err(TestCaseError::Fail(_))) {
            c.failed = true;
        }
        if let Some(p) = &opts.progress {
            p(&format!(
                "{} × {}: {what} ({} passed, {} skipped, {} executions)",
                suite.name(),
                v.id,
                c.passed,
                c.skipped,
                c.executions
            ));
        }
        r
    });
    let c = count.into_inner().unwrap();
    let failure = match result {
        Ok(()) => None,
        Err(TestError::Fail(why, sc)) => Some(Failure {
            message: why.message().to_string(),
            toml: Some(crate::scenario_file::to_toml(&sc)),
            scenario: Some(sc),
        }),
        Err(TestError::Abort(why)) => Some(Failure {
            message: format!(
                "gave up: {} (too many cases skipped at the bound of {} executions)",
                why.message(),
                opts.max_executions
            ),
            toml: None,
            scenario: None,
        }),
    };
    SuiteReport {
        suite,
        variant: v.id,
        passed: c.passed,
        skipped: c.skipped,
        partial: c.partial,
        executions: c.executions,
        failure,
    }
}

/// `PROPTEST_CASES` if set, else `default`.
pub fn cases_from_env(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}
