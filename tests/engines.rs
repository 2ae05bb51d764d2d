//! The engines, and the evidence that the stateful engine's "holds" is a
//! proof (README, "Soundness"): it agrees with loom on every cell loom
//! finishes, pruning at seen states and merging renamings lose no outcome,
//! and no engine crashes the test binary on what it finds.

mod common;

use common::{check_cells, check_cells_with, check_jobs};
use kmodcheck::engine::{
    check_cell, disagreements, CellResult, CheckOptions, EngineKind, Replays, Verdict,
};
use kmodcheck::model::{scenario, variant};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

/// Every cell of the catalogue, as the main job runs it.
fn catalogue_jobs() -> Vec<(usize, variant::Variant, scenario::Scenario)> {
    scenario::catalogue()
        .into_iter()
        .flat_map(|s| {
            variant::columns_for(&s)
                .into_iter()
                .map(move |v| (v, s.clone()))
        })
        .enumerate()
        .map(|(i, (v, s))| (i, v, s))
        .collect()
}

/// Compare the stateful engine with loom on every catalogue cell, loom
/// bounded by `loom_bound` executions; returns (cells compared, cells
/// skipped because loom did not finish within the bound, or because the
/// cell needs more threads than loom allows).
fn agree_with_loom(loom_bound: usize, whole: bool) -> (Vec<String>, Vec<String>) {
    let loom_opts = CheckOptions {
        engine: Some(EngineKind::Loom),
        max_executions: Some(loom_bound),
        ..CheckOptions::default()
    };
    let (mut compared, mut skipped, mut wrong) = (Vec::new(), Vec::new(), Vec::new());
    // A cell over loom's thread limit (under idem-timeout, which adds the
    // timer to a scenario without one) is the stateful engine's alone.
    let (fits, too_big): (Vec<_>, Vec<_>) = catalogue_jobs()
        .into_iter()
        .partition(|(_, v, s)| s.max_threads_under(v) <= kmodcheck::engine::LOOM_MAX_THREADS);
    for (_, v, s) in &too_big {
        skipped.push(format!(
            "{} × {} (needs {} threads)",
            v.id,
            s.name,
            s.max_threads_under(v)
        ));
    }
    // loom first: where it stops at its bound there is nothing to compare,
    // and the fast test leaves the stateful run of that cell to the others
    // (tests/cells/main.rs runs every cell). `whole` runs the stateful engine on
    // every cell, and checks the claims below on each.
    let loom = check_jobs(fits.clone(), &loom_opts);
    // Comparable: loom finished, or stopped at a deadlock
    // (`engine::disagreements`).
    let finished: Vec<usize> = loom
        .iter()
        .zip(&fits)
        .filter(|(l, _)| {
            l.exhaustive || l.stopped.as_deref().is_some_and(|s| s.contains("deadlock"))
        })
        .map(|(_, (i, _, _))| *i)
        .collect();
    let stateful_jobs: Vec<_> = catalogue_jobs()
        .into_iter()
        .filter(|(i, _, _)| whole || finished.contains(i))
        .collect();
    let ran: Vec<usize> = stateful_jobs.iter().map(|(i, _, _)| *i).collect();
    // As the main job checks them: a column takes an earlier column's search
    // where the variants agree on every policy it read, so loom, which
    // checks every cell on its own, checks the shared searches too.
    let stateful = kmodcheck::check_columns(
        stateful_jobs.into_iter().map(|(_, v, s)| (v, s)).collect(),
        &CheckOptions::default(),
        false,
    )
    .unwrap();
    for s in &stateful {
        assert!(
            s.exhaustive,
            "{} × {}: stateful did not finish",
            s.variant, s.scenario
        );
        // The README's claim: every catalogue execution is far shorter than
        // the bound that stops an execution without end.
        let depth = s.states.as_ref().map_or(0, |c| c.max_depth);
        assert!(
            depth < 100,
            "{} × {}: an execution of {depth} decisions",
            s.variant,
            s.scenario
        );
    }
    let stateful: Vec<(usize, CellResult)> = ran.into_iter().zip(stateful).collect();
    for (l, (i, _, _)) in loom.iter().zip(&fits) {
        let Some((_, s)) = stateful.iter().find(|(j, _)| j == i) else {
            skipped.push(format!("{} × {} ({})", l.variant, l.scenario, l.explored()));
            continue;
        };
        assert_eq!((l.variant, &l.scenario), (s.variant, &s.scenario));
        match disagreements(l, s) {
            None => skipped.push(format!("{} × {} ({})", l.variant, l.scenario, l.explored())),
            Some(d) => {
                compared.push(format!("{} × {}", l.variant, l.scenario));
                wrong.extend(d);
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "the engines disagree:\n{}",
        wrong.join("\n")
    );
    (compared, skipped)
}

/// On every catalogue cell loom finishes within 2,000 executions (or where
/// it stops at a deadlock), the stateful engine gives the same verdicts
/// (`engine::disagreements`).
/// `stateful_agrees_with_loom_on_every_cell` (ignored: `.ci/run` runs it)
/// takes loom to the catalogue's bound.
#[test]
fn stateful_agrees_with_loom_where_loom_finishes() {
    let (compared, skipped) = agree_with_loom(2_000, false);
    eprintln!(
        "compared {} cells; loom did not finish {skipped:?}",
        compared.len()
    );
    // Measured on the 642 cells (608 within loom's thread limit): 322
    // compared at 2,000 executions, in 8.6 s on 2 cores; 380 at 5,000, in
    // 13.8 s. Most of loom's work in this test is on the cells it cannot
    // finish, each taken to the bound (228 cells at 5,000: 1.14 M of the
    // 1.42 M executions), so the bound is what the whole of
    // `cargo test --release` pays for, and it must stay under a minute.
    // Fewer than 322 means loom's executions grew.
    assert!(
        compared.len() >= 322,
        "only {} cells compared",
        compared.len()
    );
}

/// The same on every cell, loom bounded only by the catalogue's bound
/// (about 100 s of loom on 2 cores; `.ci/run` runs it).
#[test]
#[ignore = "loom on the whole catalogue takes minutes; .ci/run runs it"]
fn stateful_agrees_with_loom_on_every_cell() {
    let (compared, skipped) = agree_with_loom(kmodcheck::CATALOGUE_BOUND, true);
    eprintln!("compared {} cells; skipped {skipped:?}", compared.len());
    // Measured: 443 of the 504 cells compared, all agreeing, in 370 s on a
    // 2-core machine (176 of 187 before the release and userspace columns). The cells
    // loom cannot finish within the bound: legacy ×
    // concurrent-same-file-3, and budget-contended under the three budgets
    // whose second request waits for the slot (two requests and their two
    // helpers, every order of their lock sections). The stateful engine
    // proves each; any other cell loom leaves unfinished fails here.
    let expected = [
        "legacy × concurrent-same-file-3",
        "idempotent-interruptible+kmod-throttle × budget-contended",
        "idempotent-interruptible+kmod-throttle-timeout × budget-contended",
        "idempotent-interruptible × budget-contended",
        // Two loads and an rmmod, every order of their module_mutex
        // sections (the name check's, the unload's two, free_module's).
        "legacy × rmmod-racing-load",
        // idem-timeout adds the timer to scenarios without one; every armed
        // timeout may expire at any moment, and each re-arm is a new thread.
        "idem-timeout × recursive-self-load+kill-outer",
        "idem-timeout × shared-dependency",
        "idem-timeout × concurrent-same-file-3",
        "idem-timeout × winner-dies",
        "idem-timeout × rmmod-racing-load",
        // The releases from v3.8 have v6.4's name check wait (and, from
        // v4.13-rc1, a budget whose second request waits for the slot):
        // their twins of legacy's and the waiting budgets' cells above.
        "v3.8 × concurrent-same-file-3",
        "v4.13-rc1 × concurrent-same-file-3",
        "v4.13 × concurrent-same-file-3",
        "v5.3 × concurrent-same-file-3",
        "v6.2 × concurrent-same-file-3",
        "v3.8 × rmmod-racing-load",
        "v4.13-rc1 × rmmod-racing-load",
        "v4.13 × rmmod-racing-load",
        "v5.3 × rmmod-racing-load",
        "v6.2 × rmmod-racing-load",
        "v4.13-rc1 × budget-contended",
        "v4.13 × budget-contended",
        "v5.3 × budget-contended",
        "v6.2 × budget-contended",
        // libkmod's init_module(2) fallback has no in-flight table either:
        // the name check's twins of legacy's cells.
        "idempotent+libkmod-init-module × concurrent-same-file-3",
        "idempotent-interruptible+libkmod-init-module × concurrent-same-file-3",
        "idempotent+libkmod-init-module × rmmod-racing-load",
        "idempotent-interruptible+libkmod-init-module × rmmod-racing-load",
        // Two requests and their two helpers, every order of their lock
        // sections, under the 2008 budget (measured under kmod-2008 and
        // v2.6.28: loom stopped at the bound; v3.4 and v3.8 have the same
        // budget; under the waiting budgets loom finishes, in 290,691
        // executions).
        "idempotent-interruptible+kmod-2008 × dup-requests",
        "v2.6.28 × dup-requests",
        "v3.4 × dup-requests",
        "v3.8 × dup-requests",
        // The time idem-timeout adds, on the wake-up analysis's scenarios
        // (measured for insmod-dependent+failing-provider: loom past
        // 749,000 executions and still exploring).
        "idem-timeout × insmod-dependent+failing-provider",
        "idem-timeout × insmod-unknown-symbol-twice",
        // ... and on the importer killed in resolve_symbol_wait() (measured
        // at 1c8a8f9: loom stopped at the bound; the stateful engine proves
        // it in 2,941 states).
        "idem-timeout × insmod-dependent+dead-provider+kill",
    ];
    // A request, two helpers and a SIGKILL at any moment; a modprobe, the
    // self-test's kthread, its helper and a SIGKILL: every order of their
    // sections. Loom stops at the bound (measured: runaway-nested+kill-helper
    // under idempotent-interruptible, 1,100,000 executions in 49 s;
    // crypto-self-test+kill under v2.6.28, v3.4 and v3.8); the stateful
    // engine proves each with at most 2,413 and 1,828 states.
    let expected_scenarios = ["runaway-nested+kill-helper", "crypto-self-test+kill"];
    // Cells with more threads than loom allows (six: idem-timeout ×
    // winner-dies+kill-waiter with the timer that column adds, every column
    // of recursive-self-load+kill-outer-twice, and budget-contended+kill
    // under every budget) are the stateful engine's alone, by construction.
    let unexpected: Vec<&String> = skipped
        .iter()
        .filter(|s| !s.ends_with(" threads)"))
        .filter(|s| !expected.iter().any(|e| s.starts_with(&format!("{e} ("))))
        .filter(|s| {
            !expected_scenarios
                .iter()
                .any(|e| s.contains(&format!(" × {e} (")))
        })
        .collect();
    assert!(unexpected.is_empty(), "loom did not finish: {unexpected:?}");
    assert!(
        compared.len() >= 443,
        "only {} cells compared",
        compared.len()
    );
}

/// The end states an exploration reached (module states, which modprobe
/// actors succeeded, and whether it deadlocked).
fn outcomes(v: &str, s: &scenario::Scenario, opts: CheckOptions) -> (CellResult, BTreeSet<String>) {
    let seen = Arc::new(Mutex::new(BTreeSet::new()));
    let s2 = seen.clone();
    let opts = CheckOptions {
        observer: Some(kmodcheck::engine::Observer(Arc::new(move |o| {
            let end = match o.end {
                kmodcheck::model::trace::End::Completed => "",
                kmodcheck::model::trace::End::Deadlock { .. } => "deadlock; ",
            };
            s2.lock()
                .unwrap()
                .insert(format!("{end}{}", o.summary.clone().unwrap_or_default()));
        }))),
        ..opts
    };
    let c = check_cell(variant::by_id(v).unwrap(), s, &opts).unwrap();
    let got = std::mem::take(&mut *seen.lock().unwrap());
    (c, got)
}

/// Pruning at seen states loses no outcome: on small cells the stateful
/// engine reaches the same distinct end states with pruning as without (a
/// plain depth-first search of every schedule), and with symmetry the same
/// up to renaming the interchangeable actors.
#[test]
fn pruning_and_symmetry_lose_no_outcome() {
    // Cells whose every schedule a plain depth-first search covers in a
    // second or so (measured: 5 to 21,022 executions each without pruning).
    let cells = [
        ("idempotent", "concurrent-same-file-2"),
        ("legacy", "concurrent-same-file-2"),
        ("error-out-early", "concurrent-same-file-2"),
        ("mutant-early-ret", "concurrent-same-file-2"),
        ("error-out-early", "concurrent-same-file-3"),
        ("idempotent", "failing-init"),
        ("legacy", "failing-init"),
        ("mutant-no-relookup", "failing-init"),
        ("legacy", "same-name-failing-init"),
        ("legacy", "same-name-different-files"),
        ("legacy", "insmod-dependent"),
        ("mutant-coming-is-live", "insmod-dependent"),
        ("legacy", "recursive-self-load"),
        ("idempotent-warn", "recursive-self-load"),
        ("recursion-aware", "recursive-self-load"),
        ("error-out-early", "recursive-self-load+kill-outer"),
        ("mutant-umh-unkillable", "recursive-self-load+kill-outer"),
        ("crypto-async-test", "crypto-self-test"),
        ("idempotent-warn", "crypto-self-test"),
        ("idempotent-interruptible", "runaway-nested"),
        ("idempotent-interruptible", "deep-recursion"),
    ];
    let mut checked = 0;
    for (v, s) in cells {
        let sc = scenario::by_name(s).unwrap();
        let plain = CheckOptions {
            symmetry: false,
            prune: false,
            max_executions: Some(60_000),
            ..CheckOptions::default()
        };
        let (all, every) = outcomes(v, &sc, plain);
        if !all.exhaustive {
            eprintln!(
                "{v} × {s}: no-pruning search did not finish in {}",
                all.explored()
            );
            continue;
        }
        let (pruned, by_state) = outcomes(
            v,
            &sc,
            CheckOptions {
                symmetry: false,
                ..CheckOptions::default()
            },
        );
        assert!(pruned.exhaustive);
        assert_eq!(every, by_state, "{v} × {s}: pruning changed the outcomes");
        let (sym, by_orbit) = outcomes(v, &sc, CheckOptions::default());
        assert!(sym.exhaustive);
        let orbit = |o: &BTreeSet<String>| {
            o.iter()
                .map(|x| kmodcheck::engine::end_state_up_to_renaming(x))
                .collect::<BTreeSet<_>>()
        };
        assert_eq!(
            orbit(&every),
            orbit(&by_orbit),
            "{v} × {s}: symmetry changed the outcomes"
        );
        for (a, b) in all
            .properties
            .iter()
            .zip(&pruned.properties)
            .chain(all.properties.iter().zip(&sym.properties))
        {
            assert_eq!(
                a.verdict.kind(),
                b.verdict.kind(),
                "{v} × {s} × {}",
                a.property
            );
        }
        eprintln!(
            "{v} × {s}: {} end states; no pruning {}, pruning {}, symmetry {}",
            every.len(),
            all.explored(),
            pruned.explored(),
            sym.explored()
        );
        checked += 1;
    }
    assert_eq!(checked, cells.len(), "every cell's plain search finishes");
}

/// Two runs of one cell searched alike: the same states, transitions and
/// executions, and each property's verdict of the same kind.
fn assert_same_search(a: &CellResult, b: &CellResult, what: &str) {
    let cell = format!("{} × {}", a.variant, a.scenario);
    let (sa, sb) = (a.states.as_ref().unwrap(), b.states.as_ref().unwrap());
    assert_eq!(
        (sa.states, sa.transitions, a.executions),
        (sb.states, sb.transitions, b.executions),
        "{cell}: {what}"
    );
    for (x, y) in a.properties.iter().zip(&b.properties) {
        assert_eq!(
            x.verdict.kind(),
            y.verdict.kind(),
            "{cell} × {}",
            x.property
        );
    }
}

/// Restoring a kept state at the end of a replayed prefix, instead of
/// hashing the prefix again, loses nothing: on one cell of every scenario
/// (each under another column, so that every column's code runs), a search
/// that hashes every replayed step and checks, at each decision it would
/// have restored, that the state is the one kept (`Replays::Verify`, which
/// panics if not) explores the same states, transitions and executions,
/// with the same verdicts, as the search that restores.
#[test]
fn restoring_a_kept_state_loses_nothing() {
    // Each scenario under a column no scenario before it took, if it has one.
    let mut taken = BTreeSet::new();
    let jobs: Vec<(usize, variant::Variant, scenario::Scenario)> = scenario::catalogue()
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            let cols = variant::columns_for(&s);
            let v = cols
                .iter()
                .find(|v| !taken.contains(v.id))
                .copied()
                .unwrap_or(cols[i % cols.len()]);
            taken.insert(v.id);
            (i, v, s)
        })
        .collect();
    let columns: BTreeSet<&str> = jobs.iter().map(|(_, v, _)| v.id).collect();
    let verify = CheckOptions {
        replays: Replays::Verify,
        ..CheckOptions::default()
    };
    let hashed = check_jobs(jobs.clone(), &verify);
    let restored = check_jobs(jobs, &CheckOptions::default());
    let mut restores = 0;
    for (a, b) in hashed.iter().zip(&restored) {
        let cell = format!("{} × {}", a.variant, a.scenario);
        assert_eq!((a.variant, &a.scenario), (b.variant, &b.scenario));
        assert!(
            a.exhaustive && b.exhaustive,
            "{cell} not exhaustive: {:?} {:?}",
            a.stopped,
            b.stopped
        );
        assert_same_search(a, b, "restoring changed the search");
        // Every execution after the first restores once.
        restores += b.executions - 1;
    }
    let all: BTreeSet<&str> = variant::matrix_columns().iter().map(|v| v.id).collect();
    assert!(
        columns.is_superset(&all),
        "columns left out: {:?}",
        all.difference(&columns)
    );
    eprintln!(
        "{} cells, {} columns: {restores} branching decisions checked",
        hashed.len(),
        columns.len()
    );
    assert!(restores > 10_000, "only {restores} restores checked");
}

/// Symmetry merges the identical loaders (the orbit of N actors counts at
/// most N! states as one) and changes no verdict.
#[test]
fn symmetry_merges_identical_loaders() {
    let sc = scenario::concurrent_same_file(3);
    let v = variant::by_id("idempotent").unwrap();
    let with = check_cell(v, &sc, &CheckOptions::default()).unwrap();
    let without = check_cell(
        v,
        &sc,
        &CheckOptions {
            symmetry: false,
            ..CheckOptions::default()
        },
    )
    .unwrap();
    let (a, b) = (with.states.unwrap(), without.states.unwrap());
    assert_eq!(a.symmetric_actors, 3);
    assert_eq!(b.symmetric_actors, 0);
    assert!(
        a.states * 3 < b.states && a.states * 6 >= b.states,
        "{} states with symmetry, {} without",
        a.states,
        b.states
    );
    for (x, y) in with.properties.iter().zip(&without.properties) {
        assert_eq!(x.verdict.kind(), y.verdict.kind());
    }
}

/// Pinned exploration sizes (stateright's habit): a model change that makes
/// the search collapse, or explode, fails here and must be looked at.
#[test]
fn pinned_state_counts() {
    let pins: &[(&str, &str, u64)] = &[
        ("error-out-early", "recursive-self-load", 5),
        ("idempotent", "concurrent-same-file-2", 20),
        ("idempotent", "concurrent-same-file-3", 108),
        ("legacy", "shared-dependency", 12_949),
        ("legacy", "concurrent-same-file-3", 6_375),
        ("idempotent", "recursive-self-load+kill-outer", 106),
    ];
    let cells = check_cells(&pins.iter().map(|(v, s, _)| (*v, *s)).collect::<Vec<_>>());
    let got: Vec<u64> = cells
        .iter()
        .map(|c| c.states.as_ref().map_or(0, |s| s.states))
        .collect();
    for ((v, s, n), (c, states)) in pins.iter().zip(cells.iter().zip(&got)) {
        assert!(c.exhaustive, "{v} × {s} not exhaustive");
        assert_eq!(states, n, "{v} × {s}: {} (all: {got:?})", c.explored());
    }
}

/// loom's pinned sizes: the refactor of the model for the stateful engine
/// left loom's exploration exactly as it was.
#[test]
fn pinned_loom_execution_counts() {
    let pins: &[(&str, &str, usize)] = &[
        ("error-out-early", "recursive-self-load", 12),
        ("recursion-aware", "recursive-self-load", 12),
        ("idempotent", "concurrent-same-file-2", 48),
        ("idempotent", "concurrent-same-file-3", 47_201),
        ("legacy", "shared-dependency", 111_762),
        ("legacy", "recursive-self-load+kill-nested", 3_136),
        ("idempotent", "recursive-self-load+kill-outer", 5_016),
    ];
    let opts = CheckOptions {
        engine: Some(EngineKind::Loom),
        ..CheckOptions::default()
    };
    let cells = check_cells_with(
        &pins.iter().map(|(v, s, _)| (*v, *s)).collect::<Vec<_>>(),
        &opts,
    );
    for ((v, s, n), c) in pins.iter().zip(&cells) {
        assert!(c.exhaustive, "{v} × {s} not exhaustive");
        assert_eq!(
            c.executions, *n,
            "{v} × {s}: loom explored {} executions",
            c.executions
        );
    }
}

/// Where shuttle's DFS also explores every schedule (small cells: it does no
/// partial-order reduction), its verdicts equal loom's, property by property.
#[test]
fn loom_and_shuttle_dfs_agree_where_both_are_exhaustive() {
    let cells = [
        ("legacy", "recursive-self-load"),
        ("error-out-early", "recursive-self-load"),
        ("idempotent", "recursive-self-load"),
        ("recursion-aware", "recursive-self-load"),
        ("idempotent", "concurrent-same-file-2"),
        ("idempotent-interruptible", "concurrent-same-file-2"),
        ("legacy", "concurrent-same-file-2"),
        ("error-out-early", "concurrent-same-file-2"),
    ];
    let loom = check_cells_with(
        &cells,
        &CheckOptions {
            engine: Some(EngineKind::Loom),
            ..CheckOptions::default()
        },
    );
    let dfs = check_cells_with(
        &cells,
        &CheckOptions {
            engine: Some(EngineKind::ShuttleDfs),
            max_executions: Some(30_000),
            ..CheckOptions::default()
        },
    );
    let mut compared = Vec::new();
    for ((l, d), (v, s)) in loom.iter().zip(&dfs).zip(cells) {
        if !(d.exhaustive && l.exhaustive) && d.stopped.is_none() {
            continue;
        }
        for (a, b) in l.properties.iter().zip(&d.properties) {
            assert_eq!(
                a.verdict.kind(),
                b.verdict.kind(),
                "{v} × {s} × {}: loom {:?} vs shuttle-dfs {:?}",
                a.property,
                a.verdict,
                b.verdict
            );
        }
        compared.push(format!("{v} × {s}"));
    }
    // Measured: 5 of the 8 finish within 30,000 DFS schedules.
    assert!(
        compared.len() >= 5,
        "only {} cells compared: {compared:?}",
        compared.len()
    );
}

/// A scenario past loom's five threads (six concurrent loaders of one file)
/// is checked exhaustively by the stateful engine, and refused by loom.
#[test]
fn no_thread_limit() {
    let sc = scenario::concurrent_same_file(5);
    assert!(sc.max_threads() > kmodcheck::engine::LOOM_MAX_THREADS);
    let v = variant::by_id("idempotent").unwrap();
    let c = check_cell(v, &sc, &CheckOptions::default()).unwrap();
    assert!(c.exhaustive);
    assert!(c
        .properties
        .iter()
        .all(|p| matches!(p.verdict, Verdict::Holds { exhaustive: true })));
    let loom = CheckOptions {
        engine: Some(EngineKind::Loom),
        ..CheckOptions::default()
    };
    let e = check_cell(v, &sc, &loom).unwrap_err();
    assert!(e.contains("loom allows 5"), "{e}");
}

/// A deadlock is a verdict, not an aborted test binary (design.md, loom
/// issue #291), under every engine; checking again afterwards works.
#[test]
fn a_deadlock_is_a_verdict_under_every_engine() {
    let v = variant::by_id("idempotent").unwrap();
    let s = scenario::by_name("recursive-self-load").unwrap();
    for engine in [
        EngineKind::Stateful,
        EngineKind::Loom,
        EngineKind::ShuttleDfs,
        EngineKind::ShuttlePct,
        EngineKind::ShuttleRandom,
    ] {
        for _ in 0..2 {
            let opts = CheckOptions {
                engine: Some(engine),
                samples: 10,
                ..CheckOptions::default()
            };
            let c = check_cell(v, &s, &opts).unwrap();
            assert!(
                matches!(c.properties[0].verdict, Verdict::Violated(_)),
                "{}: {:?}",
                engine.name(),
                c.properties[0].verdict
            );
        }
    }
    // The stateful engine goes on past a deadlock: the search finishes.
    let c = check_cell(v, &s, &CheckOptions::default()).unwrap();
    assert!(c.exhaustive && c.stopped.is_none());
    let c = check_cell(
        variant::by_id("error-out-early").unwrap(),
        &s,
        &CheckOptions::default(),
    )
    .unwrap();
    assert!(c.exhaustive);
}

/// A bounded run is never called exhaustive, and a property it did not
/// violate is not "proved", under loom and under the stateful engine.
#[test]
fn a_bounded_run_is_not_a_proof() {
    let v = variant::by_id("idempotent").unwrap();
    let s = scenario::by_name("shared-dependency").unwrap();
    for opts in [
        CheckOptions {
            engine: Some(EngineKind::Loom),
            max_executions: Some(500),
            ..CheckOptions::default()
        },
        CheckOptions {
            max_states: Some(50),
            ..CheckOptions::default()
        },
    ] {
        let c = check_cell(v, &s, &opts).unwrap();
        assert!(!c.exhaustive);
        for p in &c.properties {
            assert!(
                !matches!(p.verdict, Verdict::Holds { exhaustive: true }),
                "{:?}",
                p
            );
            if let Verdict::Inconclusive { reason } = &p.verdict {
                assert!(reason.contains("not a proof"), "{reason}");
            }
        }
    }
}

/// A scenario whose executions need not end: two repeating requests under a
/// timed kmod budget of one slot. A request that times out waiting for the
/// slot starts no helper, so the helper bound never stops it, and each turn
/// of the loop is a new state (the task's history grows). The search must
/// stop, inconclusive, and say why, rather than run forever on one
/// execution; and what it did see is not called proved.
#[test]
fn an_execution_without_end_stops_the_search() {
    let sc = kmodcheck::scenario_file::parse(
        r#"
name = "repeat-under-timed-budget"
summary = "two repeating requests under a timed kmod budget of one slot"
reference = "issue 16, point 6"
timer = true
kmod_limit = 1
helper_bound = 3
absent = ["never-there"]
properties = ["no-deadlock", "budget-respected"]

[[actor]]
request = { alias = "never-there", repeat = true }

[[actor]]
request = { alias = "never-there", repeat = true }
"#,
        "repeat-under-timed-budget.toml",
    )
    .unwrap();
    let v = variant::by_id("idempotent-interruptible+kmod-throttle-timeout").unwrap();
    let c = check_cell(v, &sc, &CheckOptions::default()).unwrap();
    assert!(!c.exhaustive);
    for p in &c.properties {
        match &p.verdict {
            Verdict::Inconclusive { reason } => {
                assert!(reason.contains("without ending"), "{reason}");
                assert!(reason.contains("not a proof"), "{reason}");
            }
            other => panic!("{}: {other:?}", p.property),
        }
    }
    let n = c.states.expect("the stateful engine counts states").states;
    assert!(
        n >= kmodcheck::engines::stateful::MAX_DECISIONS as u64,
        "{n}"
    );
}

/// A timer started again after its actor exited (a request that repeats
/// under a timed budget) is one thread more than loom allows, since loom
/// never reclaims a finished thread. It used to stop loom inside loom
/// ("assertion failed: self.threads.len() < self.max()"); the facade now
/// stops the execution first, and the verdict says why in words.
#[test]
fn loom_refuses_a_timer_started_again_in_words() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/timer-rearm.toml");
    let sc = kmodcheck::scenario_file::load(&path).expect("tests/timer-rearm.toml");
    // Within loom's limit by the static count (the timer counted once).
    assert!(sc.max_threads() <= kmodcheck::engine::LOOM_MAX_THREADS);
    let v = variant::by_id("idempotent-interruptible").unwrap();
    let opts = CheckOptions {
        engine: Some(EngineKind::Loom),
        ..CheckOptions::default()
    };
    let c = check_cell(v, &sc, &opts).unwrap();
    assert!(!c.exhaustive);
    let Verdict::Inconclusive { reason } = &c.properties[0].verdict else {
        panic!("{:?}", c.properties[0].verdict.kind());
    };
    assert!(reason.contains("loom's thread limit"), "{reason}");
    assert!(reason.contains("6th thread"), "{reason}");
    assert!(!reason.contains("assertion failed"), "{reason}");
}

/// A column that takes an earlier column's search (`check_scenarios`, the
/// variants agreeing on every policy that search read) gets what its own
/// search finds: the same states, transitions, executions, verdicts and
/// counterexamples, on scenarios where columns do share. Vacuity: some do,
/// and a column whose variant differs in a policy the search read does not.
#[test]
fn a_shared_search_is_the_search_it_replaces() {
    let names = [
        "winner-dies+kill-waiter",
        "crypto-self-test+kill",
        "recursive-self-load",
        "budget-contended",
    ];
    let scenarios: Vec<scenario::Scenario> = names
        .iter()
        .map(|n| scenario::by_name(n).unwrap())
        .collect();
    let shared = kmodcheck::check_scenarios(&scenarios, &CheckOptions::default(), false).unwrap();
    let own = kmodcheck::check_scenarios(
        &scenarios,
        &CheckOptions {
            share: false,
            ..CheckOptions::default()
        },
        false,
    )
    .unwrap();
    assert_eq!(shared.len(), own.len());
    let (mut taken, mut taken_across_waits) = (0, 0);
    for (a, b) in shared.iter().zip(&own) {
        let cell = format!("{} × {}", a.variant, a.scenario);
        assert_eq!((a.variant, &a.scenario), (b.variant, &b.scenario));
        assert!(
            b.same_search_as.is_none(),
            "{cell}: shared with sharing off"
        );
        if let Some(from) = a.same_search_as {
            taken += 1;
            assert_ne!(from, a.variant, "{cell}");
            let from = variant::by_id(from).unwrap();
            let to = variant::by_id(a.variant).unwrap();
            let timer = scenarios.iter().any(|s| s.name == a.scenario && s.timer);
            if !timer && from.policies().idem_wait != to.policies().idem_wait {
                taken_across_waits += 1;
            }
        }
        assert_eq!(a.exhaustive, b.exhaustive, "{cell}");
        assert_same_search(a, b, "the shared search differs");
        for (x, y) in a.properties.iter().zip(&b.properties) {
            if let (Verdict::Violated(p), Verdict::Violated(q)) = (&x.verdict, &y.verdict) {
                assert_eq!(p.trace, q.trace, "{cell} × {}", x.property);
                assert_eq!(p.message, q.message, "{cell} × {}", x.property);
                assert_eq!(
                    serde_json::to_string(&p.replay).unwrap(),
                    serde_json::to_string(&q.replay).unwrap(),
                    "{cell} × {}: the replay handle",
                    x.property
                );
            }
        }
    }
    assert!(taken > 0, "no column took another's search");
    // Where a search learnt only whether the in-flight wait is timed
    // (`Variant::needs_time`, which a scenario with a timer does not ask),
    // never which wait: under libkmod's init_module(2), which has no
    // in-flight table.
    assert!(
        taken_across_waits > 0,
        "no column took the search of a variant with another in-flight wait"
    );
    assert!(
        taken < shared.len() - names.len(),
        "every column took another's search: {taken} of {}",
        shared.len()
    );
}

/// What a run reads of a variant is recorded ([`variant::consulted`]), and
/// two variants agree on a run's reads only where their policies are equal.
#[test]
fn a_run_records_the_policies_it_reads() {
    let idem = variant::by_id("idempotent").unwrap();
    let intr = variant::by_id("idempotent-interruptible").unwrap();
    let ((), none) = variant::consulted(|| ());
    assert!(none.names().is_empty());
    let (_, read) = variant::consulted(|| idem.kmod());
    assert_eq!(read.names(), ["kmod"]);
    // The two differ in the in-flight wait, not the budget.
    assert!(idem.agrees_on(&intr, read));
    let (_, read) = variant::consulted(|| (idem.kmod(), idem.idem_wait()));
    assert_eq!(read.names(), ["idem_wait", "kmod"]);
    assert!(!idem.agrees_on(&intr, read));
    // Whether the in-flight wait is timed is a read of its own: the two
    // agree on it, and idem-timeout does not.
    let (_, read) = variant::consulted(|| idem.needs_time());
    assert_eq!(read.names(), ["idem_wait (timed or not)"]);
    assert!(idem.agrees_on(&intr, read));
    let timed = variant::by_id("idem-timeout").unwrap();
    assert!(!idem.agrees_on(&timed, read));
    let v62 = variant::by_id("v6.2").unwrap();
    // A nested run's reads are the outer run's too.
    let ((_, inner), outer) = variant::consulted(|| variant::consulted(|| v62.umh()));
    assert_eq!((inner.names(), outer.names()), (vec!["umh"], vec!["umh"]));
    // A whole cell reads what its scenario reaches.
    let sc = scenario::by_name("recursive-self-load").unwrap();
    let (c, read) = variant::consulted(|| check_cell(v62, &sc, &CheckOptions::default()));
    assert!(c.is_ok());
    assert!(read.names().contains(&"finit"), "{:?}", read.names());
}
