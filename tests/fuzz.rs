//! The regression property suites (`kmodcheck fuzz`), run on generated
//! scenarios in the default `cargo test --release`. Each suite's case count
//! is its `Suite::default_cases()`; `PROPTEST_CASES=N` runs N cases of each
//! for a long run. Failing cases are saved under `proptest-regressions/` and
//! replayed first on the next run.

use kmodcheck::fuzz::{self, FuzzOptions, Suite, SuiteReport};
use kmodcheck::model::variant;
use kmodcheck::scenario_file;
use proptest::prelude::*;

fn opts(suite: Suite, persist: &'static str) -> FuzzOptions {
    FuzzOptions {
        cases: fuzz::cases_from_env(suite.default_cases()),
        persist: Some(persist),
        ..FuzzOptions::default()
    }
}

fn run(suite: Suite, v: &str, persist: &'static str) -> SuiteReport {
    let v = variant::by_id(v).expect("a known variant");
    let r = fuzz::run_suite(suite, v, &opts(suite, persist));
    println!(
        "{} × {}: {} passed, {} skipped, {} sampled only, {} executions",
        suite.name(),
        r.variant,
        r.passed,
        r.skipped,
        r.partial,
        r.executions
    );
    r
}

fn assert_passes(r: &SuiteReport, suite: Suite) {
    if let Some(f) = &r.failure {
        panic!(
            "{} × {} failed: {}\n{}",
            suite.name(),
            r.variant,
            f.message,
            f.toml.as_deref().unwrap_or("")
        );
    }
    // Not vacuous: the cases that count ran to the end of their exploration.
    let wanted = fuzz::cases_from_env(suite.default_cases());
    assert!(
        r.passed >= wanted,
        "only {} of {wanted} cases passed ({} skipped)",
        r.passed,
        r.skipped
    );
}

proptest! {
    #![proptest_config(ProptestConfig {
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::Direct(
                "proptest-regressions/fuzz-generator.txt",
            ),
        )),
        ..ProptestConfig::default()
    })]

    /// A generated scenario is valid: printed as a scenario file, it parses
    /// back to itself, and loom can run it.
    #[test]
    fn generated_scenarios_are_valid_files(sc in fuzz::scenarios(fuzz::Shape::ALL)) {
        let text = scenario_file::to_toml(&sc);
        let back = scenario_file::parse(&text, "generated.toml")
            .map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(back, sc.clone());
        prop_assert!(sc.max_threads() <= kmodcheck::engine::LOOM_MAX_THREADS);
        prop_assert!(!sc.modules.is_empty() && sc.modules.len() <= 3);
    }
}

/// The generator reaches what the hand-written catalogue once missed
/// (issue 15): an insmod of an importer, whose provider it does not load
/// first (resolve_symbol_wait()), an init that oopses (a provider or
/// winner COMING for good), and a signal to an insmod (the one way to
/// break resolve_symbol_wait()). Sampled from Shape::ALL with a fixed seed.
#[test]
fn the_generator_draws_insmod_importers_oopses_and_signalled_insmods() {
    use kmodcheck::model::scenario::{Actor, InitStep};
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = fuzz::scenarios(fuzz::Shape::ALL);
    use kmodcheck::model::scenario::SignalTarget;
    let (mut importer, mut oops, mut signalled_insmod) = (false, false, false);
    for _ in 0..500 {
        let sc = strategy.new_tree(&mut runner).expect("a case").current();
        importer |= sc.actors.iter().any(|a| match a {
            Actor::Insmod(f) => sc
                .modules
                .iter()
                .any(|m| &m.file == f && !m.deps.is_empty()),
            _ => false,
        });
        oops |= sc
            .modules
            .iter()
            .any(|m| m.init.iter().any(|s| matches!(s, InitStep::Oops)));
        signalled_insmod |= sc.actors.iter().any(|a| {
            matches!(
                a,
                Actor::Signal {
                    target: SignalTarget::Insmod(_),
                    ..
                }
            )
        });
    }
    assert!(importer, "no insmod of an importer in 500 cases");
    assert!(signalled_insmod, "no signal to an insmod in 500 cases");
    assert!(oops, "no oopsing init in 500 cases");
}

/// recursion-aware ends like legacy, idempotent and
/// idempotent-interruptible on plain loads.
#[test]
fn differential_suite() {
    let r = run(
        Suite::Differential,
        "recursion-aware",
        "proptest-regressions/fuzz-differential.txt",
    );
    assert_passes(&r, Suite::Differential);
}

/// Signals, renaming, an unrelated module, on the current kernel.
#[test]
fn metamorphic_suite() {
    let r = run(
        Suite::Metamorphic,
        "idempotent-interruptible",
        "proptest-regressions/fuzz-metamorphic.txt",
    );
    assert_passes(&r, Suite::Metamorphic);
}

/// shuttle's violations are loom's; exhaustive runs agree exactly.
#[test]
fn engine_agreement_suite() {
    let r = run(
        Suite::EngineAgreement,
        "idempotent-interruptible",
        "proptest-regressions/fuzz-engine-agreement.txt",
    );
    assert_passes(&r, Suite::EngineAgreement);
    assert!(
        r.partial < r.passed,
        "exact agreement was checked on too few cases: {} of {}",
        r.passed - r.partial,
        r.passed
    );
}

/// The finding: recursion-aware deadlocks on a generated scenario whose
/// only cycle goes through request_module from init. Its ancestry check
/// compares the owner of the entry idempotent() found, the newest on the
/// chain, which can be a second loader's waiter, not the load in flight.
/// The suite finds it (replaying the committed seed in
/// proptest-regressions/) and shrinks it to one module and two modprobes.
#[test]
fn no_deadlock_suite_finds_recursion_aware_hole() {
    let r = run(
        Suite::NoDeadlock,
        "recursion-aware",
        "proptest-regressions/fuzz-no-deadlock-recursion-aware.txt",
    );
    let f = r
        .failure
        .expect("the suite finds recursion-aware's deadlock with two loaders");
    println!("{}\n{}", f.message, f.toml.as_deref().unwrap_or(""));
    assert!(f.message.starts_with("deadlock: "), "{}", f.message);
    let sc = f.scenario.expect("a shrunk scenario");
    assert_eq!(sc.modules.len(), 1, "{}", f.toml.unwrap_or_default());
    assert_eq!(sc.actors.len(), 2, "{}", f.toml.unwrap_or_default());
}

/// The two findings, as scenario files under examples/findings/: the
/// waiter-first deadlock (recursion-aware violates no-deadlock; the mend
/// proves every property, exhaustively), and the two-loader cycle, which
/// the suite's thread bound keeps out and no ancestry check can see
/// (shuttle PCT finds it under the mend; a sampled violation is a real
/// counterexample).
#[test]
fn the_findings_replay() {
    use kmodcheck::engine::{check_cell, CheckOptions, EngineKind, Verdict};
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/findings");
    let first = scenario_file::load(&dir.join("recursion-aware-waiter-first.toml")).unwrap();
    let r = variant::by_id("recursion-aware").unwrap();
    let mend = variant::by_id("recursion-aware-every-entry").unwrap();
    let c = check_cell(r, &first, &CheckOptions::default()).unwrap();
    assert!(matches!(c.properties[0].verdict, Verdict::Violated(_)));
    let c = check_cell(mend, &first, &CheckOptions::default()).unwrap();
    for p in &c.properties {
        assert!(
            matches!(p.verdict, Verdict::Holds { exhaustive: true }),
            "{}: {}",
            p.property,
            p.verdict.kind()
        );
    }
    let cycle = scenario_file::load(&dir.join("two-loader-cycle.toml")).unwrap();
    let o = CheckOptions {
        engine: Some(EngineKind::ShuttlePct),
        samples: 1_000,
        ..CheckOptions::default()
    };
    let c = check_cell(mend, &cycle, &o).unwrap();
    let Verdict::Violated(ce) = &c.properties[0].verdict else {
        panic!("{}", c.properties[0].verdict.kind())
    };
    assert_eq!(ce.cycle.as_ref().map(Vec::len), Some(4), "{:?}", ce.cycle);
}

/// The mend (recursion-aware-every-entry) passes the same suite.
#[test]
fn no_deadlock_suite_passes_the_mend() {
    let r = run(
        Suite::NoDeadlock,
        "recursion-aware-every-entry",
        "proptest-regressions/fuzz-no-deadlock.txt",
    );
    assert_passes(&r, Suite::NoDeadlock);
}
