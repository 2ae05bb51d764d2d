//! The flagship counterexamples, as a person reads them (insta snapshots),
//! and every counterexample replays to the same violation from its handle.

mod common;

use common::{check_cells, verdict};
use kmodcheck::engine::{replay, Verdict};
use kmodcheck::model::scenario;
use kmodcheck::report::counterexample_text;

#[test]
fn flagship_recursive_self_load_idempotent() {
    let c = &check_cells(&[("idempotent", "recursive-self-load")])[0];
    insta::assert_snapshot!(counterexample_text(c, "no-deadlock").expect("violated"));
}

#[test]
fn flagship_shared_dependency_error_out_early() {
    let c = &check_cells(&[("error-out-early", "shared-dependency")])[0];
    insta::assert_snapshot!(counterexample_text(c, "dependents-load").expect("violated"));
}

/// A loom counterexample replays by running loom's deterministic
/// exploration again up to its execution.
#[test]
fn loom_counterexample_replays() {
    use kmodcheck::engine::{check_cell, CheckOptions, EngineKind};
    let v = kmodcheck::model::variant::by_id("error-out-early").unwrap();
    let s = scenario::by_name("shared-dependency").unwrap();
    let opts = CheckOptions {
        engine: Some(EngineKind::Loom),
        ..CheckOptions::default()
    };
    let c = check_cell(v, &s, &opts).unwrap();
    let Verdict::Violated(ce) = verdict(&c, "dependents-load") else {
        panic!("loom missed the -ETXTBSY race");
    };
    let handle = ce.replay.to_string();
    assert!(handle.starts_with("loom:"), "{handle}");
    let r = replay(&handle, &scenario::catalogue()).unwrap();
    assert_eq!(r.record.render(), ce.trace);
    assert!(r
        .violations
        .iter()
        .any(|(id, m)| *id == "dependents-load" && *m == ce.message));
}

/// The stateful engine's counterexamples are the shortest: no execution
/// that violates the property takes fewer scheduling decisions (checked
/// against a search without pruning, which sees every schedule).
#[test]
fn stateful_counterexamples_are_shortest() {
    use kmodcheck::engine::{check_cell, CheckOptions, ReplayAt};
    for (v, s, p) in [
        ("idempotent", "recursive-self-load", "no-deadlock"),
        (
            "error-out-early",
            "concurrent-same-file-2",
            "consistent-result",
        ),
        (
            "error-out-early",
            "concurrent-same-file-3",
            "consistent-result",
        ),
        (
            "mutant-early-ret",
            "concurrent-same-file-2",
            "consistent-result",
        ),
        ("mutant-no-relookup", "failing-init", "module-memory-safety"),
        (
            "mutant-umh-unkillable",
            "recursive-self-load+kill-outer",
            "terminates-when-killed",
        ),
    ] {
        let variant = kmodcheck::model::variant::by_id(v).unwrap();
        let sc = scenario::by_name(s).unwrap();
        let decisions = |opts: &CheckOptions| {
            let c = check_cell(variant, &sc, opts).unwrap();
            let Verdict::Violated(ce) = verdict(&c, p).clone() else {
                panic!("{v} × {s} × {p} not violated");
            };
            match ce.replay.at {
                ReplayAt::Decisions(d) => d.len(),
                other => panic!("{other:?}"),
            }
        };
        let shortest = decisions(&CheckOptions::default());
        let plain = decisions(&CheckOptions {
            prune: false,
            symmetry: false,
            max_executions: Some(200_000),
            ..CheckOptions::default()
        });
        assert!(
            shortest <= plain,
            "{v} × {s} × {p}: {shortest} decisions with pruning, {plain} without"
        );
    }
}

/// Every violation of the history table replays, from its handle alone, to
/// the same trace and the same violated property.
#[test]
fn every_counterexample_replays() {
    let pairs = [
        ("legacy", "recursive-self-load"),
        ("idempotent", "recursive-self-load"),
        ("idempotent-warn", "recursive-self-load"),
        ("idempotent-interruptible", "recursive-self-load"),
        ("crypto-async-test", "recursive-self-load"),
        ("idempotent", "recursive-self-load+kill-nested"),
        ("idempotent", "crypto-self-test"),
        ("error-out-early", "shared-dependency"),
    ];
    let scenarios = scenario::catalogue();
    let mut replayed = 0;
    for c in check_cells(&pairs) {
        for p in &c.properties {
            let Verdict::Violated(ce) = &p.verdict else {
                continue;
            };
            let handle = ce.replay.to_string();
            let r = replay(&handle, &scenarios).unwrap_or_else(|e| panic!("{handle}: {e}"));
            assert_eq!(
                r.record.render(),
                ce.trace,
                "{} replays another trace",
                ce.replay
            );
            assert!(
                r.violations
                    .iter()
                    .any(|(id, m)| *id == p.property && *m == ce.message),
                "{} does not replay to {} ({}): {:?}",
                ce.replay,
                p.property,
                ce.message,
                r.violations
            );
            assert_eq!(r.cycle, ce.cycle);
            replayed += 1;
        }
    }
    assert!(
        replayed >= pairs.len(),
        "only {replayed} counterexamples replayed"
    );
}

/// A shuttle counterexample replays through shuttle's replay scheduler.
#[test]
fn shuttle_counterexample_replays() {
    use kmodcheck::engine::{check_cell, CheckOptions, EngineKind};
    let v = kmodcheck::model::variant::by_id("error-out-early").unwrap();
    let s = scenario::by_name("shared-dependency").unwrap();
    let opts = CheckOptions {
        engine: Some(EngineKind::ShuttlePct),
        samples: 2000,
        ..CheckOptions::default()
    };
    let c = check_cell(v, &s, &opts).unwrap();
    assert!(!c.exhaustive);
    let Verdict::Violated(ce) = verdict(&c, "dependents-load") else {
        panic!("PCT missed the -ETXTBSY race in 2000 executions");
    };
    let handle = ce.replay.to_string();
    assert!(handle.starts_with("shuttle:"), "{handle}");
    let r = replay(&handle, &scenario::catalogue()).unwrap();
    assert_eq!(r.record.render(), ce.trace);
}

/// Every counterexample file under `reports/counterexamples/` replays, from
/// the handle written in it, to the trace written in it and the violation
/// its first lines name.
#[test]
fn every_counterexample_file_replays() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("reports/counterexamples");
    let scenarios = scenario::catalogue();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("reports/counterexamples exists")
        .map(|e| e.expect("readable").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no counterexample files in {dir:?}");
    for path in &files {
        let name = path.display();
        let text = std::fs::read_to_string(path).expect("readable");
        let title = text.lines().next().unwrap_or("");
        let property = title
            .rsplit(" × ")
            .next()
            .unwrap_or_else(|| panic!("{name}: no title"));
        let message = text
            .lines()
            .find_map(|l| l.strip_prefix("**Violated:** "))
            .unwrap_or_else(|| panic!("{name}: no **Violated:** line"));
        let handle = text
            .lines()
            .find_map(|l| l.strip_prefix("Replay: `cargo run --release -- replay '"))
            .and_then(|l| l.strip_suffix("'`"))
            .unwrap_or_else(|| panic!("{name}: no Replay: line"));
        let trace = text
            .split_once("## Trace\n\n```\n")
            .and_then(|(_, rest)| rest.split_once("```\n"))
            .map(|(t, _)| t)
            .unwrap_or_else(|| panic!("{name}: no trace block"));
        let r = replay(handle, &scenarios).unwrap_or_else(|e| panic!("{name}: {handle}: {e}"));
        assert_eq!(
            r.record.render(),
            trace,
            "{name}: {handle} replays another trace"
        );
        assert!(
            r.violations
                .iter()
                .any(|(id, m)| *id == property && m == message),
            "{name}: {handle} does not replay to {property} ({message}): {:?}",
            r.violations
        );
    }
    eprintln!("{} counterexample files replayed", files.len());
}
