//! The checker never crashes on what it finds, its budgets give honest
//! answers, and the scenario loader survives any input.

use kmodcheck::engine::{
    check_cell, CellResult, CheckOptions, EngineKind, PropertyResult, Verdict,
};
use kmodcheck::model::scenario::{self, Actor};
use kmodcheck::model::variant;
use kmodcheck::scenario_file;
use proptest::prelude::*;
use std::time::Duration;

const ENGINES: [EngineKind; 4] = [
    EngineKind::Loom,
    EngineKind::ShuttleDfs,
    EngineKind::ShuttlePct,
    EngineKind::ShuttleRandom,
];

fn opts(engine: EngineKind) -> CheckOptions {
    CheckOptions {
        engine: Some(engine),
        samples: 20,
        max_executions: Some(2_000),
        ..CheckOptions::default()
    }
}

/// An execution that panics (the model's own assertion: a repeating request
/// needs a helper bound, which the file loader enforces and this scenario,
/// built in code, lacks) gives an inconclusive verdict that names the panic,
/// under every engine, and the test binary goes on.
#[test]
fn a_panicking_execution_is_a_verdict() {
    let mut s = scenario::by_name("runaway-after-exit").unwrap();
    s.helper_bound = None;
    s.actors = vec![Actor::Request {
        alias: "never-there".into(),
        repeat: true,
    }];
    let v = variant::by_id("idempotent-interruptible").unwrap();
    for engine in ENGINES {
        let c = check_cell(v, &s, &opts(engine)).unwrap();
        let why = c.stopped.clone().unwrap_or_default();
        assert!(
            why.contains("panicked") || why.contains("needs a helper_bound"),
            "{}: {why}",
            engine.name()
        );
        for p in &c.properties {
            let Verdict::Inconclusive { reason } = &p.verdict else {
                panic!("{}: {} is {}", engine.name(), p.property, p.verdict.kind());
            };
            assert!(reason.contains("in execution 1"), "{reason}");
        }
        assert!(!c.exhaustive);
    }
}

/// Every engine's deadlock report is a violated no-deadlock with its cycle,
/// and the process checks on afterwards. The deadlocked execution leaves
/// five model threads asleep with the world still referenced: with loom's
/// own Arc for the world this is where loom aborts the process (design.md,
/// loom issue #291); the model keeps the world in std::sync::Arc.
#[test]
fn a_deadlocked_execution_is_a_verdict_under_every_engine() {
    let v = variant::by_id("idempotent").unwrap();
    // winner-dies+kill-waiter: main, two modprobes, two signal actors.
    let s = scenario::by_name("winner-dies+kill-waiter").unwrap();
    assert_eq!(s.max_threads(), 5);
    for engine in ENGINES {
        let c = check_cell(v, &s, &opts(engine)).unwrap();
        let p = &c.properties[0];
        assert_eq!(p.property, "terminates-when-killed");
        let Verdict::Violated(ce) = &p.verdict else {
            panic!("{}: {}", engine.name(), p.verdict.kind());
        };
        assert!(
            ce.message.starts_with("deadlock") || ce.message.starts_with("every task asleep"),
            "{}",
            ce.message
        );
    }
    // And the process is whole: a proof runs to the end after them.
    let c = check_cell(
        variant::by_id("heap-idempotent").unwrap(),
        &scenario::by_name("concurrent-same-file-2").unwrap(),
        &CheckOptions::default(),
    )
    .unwrap();
    assert!(c.exhaustive);
}

/// `--max-executions`: the run stops at exactly the bound, is not
/// exhaustive, and each unviolated property is inconclusive, saying how far
/// it got.
#[test]
fn an_execution_budget_gives_inconclusive_and_says_how_far() {
    let v = variant::by_id("legacy").unwrap();
    let s = scenario::by_name("concurrent-same-file-3").unwrap();
    for engine in [EngineKind::Loom, EngineKind::ShuttleDfs] {
        let o = CheckOptions {
            engine: Some(engine),
            max_executions: Some(5_000),
            ..CheckOptions::default()
        };
        let c = check_cell(v, &s, &o).unwrap();
        assert_eq!(c.executions, 5_000, "{}", engine.name());
        assert!(!c.exhaustive);
        for p in unviolated(&c, engine) {
            let Verdict::Inconclusive { reason } = &p.verdict else {
                panic!("{}: {} {}", engine.name(), p.property, p.verdict.kind());
            };
            assert!(
                reason.contains("explored 5000 executions")
                    && reason.contains("stopped at its bound (5000 executions per cell)"),
                "{reason}"
            );
        }
    }
}

/// `--time-limit`: the run stops within 10% of its budget, is not
/// exhaustive, and each unviolated property is inconclusive, saying how far
/// it got. (The bound under test is the overshoot of the budget itself.)
/// Loom on three loaders of one file does not finish within the budget.
#[test]
fn a_time_budget_gives_inconclusive_and_ends_within_ten_percent_under_loom() {
    a_time_budget_gives_inconclusive(EngineKind::Loom, scenario::concurrent_same_file(3));
}

/// The same for the stateful engine, on seven loaders of one file. (One
/// test per engine, so that the two budgets run side by side.)
#[test]
fn a_time_budget_gives_inconclusive_and_ends_within_ten_percent_stateful() {
    a_time_budget_gives_inconclusive(EngineKind::Stateful, scenario::concurrent_same_file(7));
}

fn a_time_budget_gives_inconclusive(engine: EngineKind, s: scenario::Scenario) {
    let v = variant::by_id("legacy").unwrap();
    let budget = Duration::from_secs(2);
    let o = CheckOptions {
        engine: Some(engine),
        time_limit: Some(budget),
        ..CheckOptions::default()
    };
    let c = check_cell(v, &s, &o).unwrap();
    println!(
        "{}: {} executions in {:.3} s for a budget of {} s",
        engine.name(),
        c.executions,
        c.elapsed.as_secs_f64(),
        budget.as_secs()
    );
    assert!(c.elapsed >= budget, "{:?}", c.elapsed);
    assert!(
        c.elapsed <= budget + budget / 10,
        "{}: ran {:?} for a budget of {budget:?}",
        engine.name(),
        c.elapsed
    );
    assert!(!c.exhaustive);
    for p in unviolated(&c, engine) {
        let Verdict::Inconclusive { reason } = &p.verdict else {
            panic!("{}: {} {}", engine.name(), p.property, p.verdict.kind());
        };
        assert!(
            reason.contains(&format!("{} executions", c.executions))
                && reason.contains("stopped at its bound (2 s per cell)")
                && reason.contains("not a proof"),
            "{reason}"
        );
    }
}

/// Inputs the scenario-file fuzz feeds the loader: the shipped scenario
/// files with random edits, and random documents.
fn documents() -> impl Strategy<Value = String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut seeds: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    seeds.sort();
    let tokens = prop_oneof![
        Just("=".to_string()),
        Just("[[actor]]\n".to_string()),
        Just("[[module]]\n".to_string()),
        Just("\"".to_string()),
        Just("[".to_string()),
        Just("]".to_string()),
        Just("{ }".to_string()),
        Just("\n".to_string()),
        Just("modprobe = \"m\"\n".to_string()),
        Just("signal = { target = { modprobe = 7 }, kind = \"stop\" }\n".to_string()),
        Just("{ request_module = { alias = \"m\" } }".to_string()),
        Just("\"oops\"".to_string()),
        Just("kind = \"kill\"\n".to_string()),
        Just("deps = [\"x\"]\n".to_string()),
        Just("kmod_limit = -1\n".to_string()),
        Just("helper_bound = 99999999999999999999\n".to_string()),
        Just("é".to_string()),
        Just("\u{0}".to_string()),
        "[a-z_]{1,12}",
        "[0-9]{1,25}",
        any::<String>(),
    ];
    let edit = (any::<prop::sample::Index>(), 0usize..40, tokens);
    let mutated = (
        prop::sample::select(seeds),
        prop::collection::vec(edit, 1..6),
    )
        .prop_map(|(mut text, edits)| {
            for (at, cut, insert) in edits {
                let mut i = at.index(text.len() + 1);
                while !text.is_char_boundary(i) {
                    i -= 1;
                }
                let mut j = (i + cut).min(text.len());
                while !text.is_char_boundary(j) {
                    j -= 1;
                }
                text.replace_range(i..j, &insert);
            }
            text
        });
    prop_oneof![
        8 => mutated,
        1 => any::<String>(),
        1 => "([a-z_]{1,10} = (\"[a-z.()-]{0,8}\"|[0-9]{1,3}|true|false|\\[\\])\n|\\[\\[(module|actor)\\]\\]\n){0,12}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 10_000,
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::Direct(
                "proptest-regressions/scenario-file-fuzz.txt",
            ),
        )),
        ..ProptestConfig::default()
    })]

    /// 10,000 documents (PROPTEST_CASES overrides): the loader never panics;
    /// every error names a line and column inside the document; every
    /// scenario it accepts has properties to check. (Its size is no reason to
    /// refuse it: the stateful engine has no thread limit, and only
    /// `--engine loom` refuses more than loom's five threads.)
    #[test]
    fn the_scenario_loader_survives_any_document(text in documents()) {
        match scenario_file::parse(&text, "fuzz.toml") {
            Ok(sc) => {
                prop_assert!(!sc.properties.is_empty());
                prop_assert!(sc.properties.iter().all(|p| kmodcheck::properties::by_id(p).is_some()));
            }
            Err(e) => {
                let lines = text.split('\n').count();
                prop_assert!(e.line >= 1 && e.line <= lines, "line {} of {lines}: {e}", e.line);
                prop_assert!(e.column >= 1, "{e}");
                let at = format!("fuzz.toml:{}:{}: ", e.line, e.column);
                prop_assert!(e.to_string().starts_with(&at), "{}", e);
                prop_assert!(!e.message.is_empty());
            }
        }
    }
}

/// The properties of a legacy × concurrent-same-file-3 cell that are not
/// violated: one-image-per-file is (two images of the file at once), the
/// four others are not.
fn unviolated(c: &CellResult, engine: EngineKind) -> Vec<&PropertyResult> {
    let v: Vec<_> = c
        .properties
        .iter()
        .filter(|p| !matches!(p.verdict, Verdict::Violated(_)))
        .collect();
    assert!(v.len() >= 4, "{}", engine.name());
    v
}
