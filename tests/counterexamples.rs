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
            let r = replay(&ce.replay, &scenarios).unwrap_or_else(|e| panic!("{}: {e}", ce.replay));
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
    assert!(ce.replay.starts_with("shuttle:"));
    let r = replay(&ce.replay, &scenario::catalogue()).unwrap();
    assert_eq!(r.record.render(), ce.trace);
}
