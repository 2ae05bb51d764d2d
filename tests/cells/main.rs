//! One test per cell of the built-in catalogue (every variant × scenario the
//! main job checks, seeded mutants included), named `SCENARIO::VARIANT`.
//!
//! A `harness = false` test on `libtest-mimic`, so the cells are ordinary test
//! cases: `cargo test --release --test cells -- NAME` runs one, and
//! `cargo nextest run --release --test cells --partition count:K/N` shards
//! them across machines, one process per cell (README, "Sharding").
//!
//! Each cell is checked exactly as the main job checks it
//! ([`kmodcheck::catalogue_options`]) and must reproduce what is committed in
//! `reports/`: for every property, its cell of `reports/matrix.md` (verdict,
//! engine, exhaustive or not, execution count or the execution of the
//! counterexample) and, for a violation, its counterexample file byte for
//! byte. A cell that changes fails here, by name.
//!
//! With `KMODCHECK_CELLS=verdicts` (how `.ci/mutants` runs it), a cell must
//! reproduce only its verdicts: each property's verdict (holds, holds
//! sampled, violated, inconclusive) and, under a seeded mutant, whether it is
//! violated. A model mutant counts as caught only when a verdict changes, not
//! when just a count or a trace's wording does.
//!
//! With `KMODCHECK_CELLS_FAIL_FAST=1` as well (`.ci/mutants` sets it), the
//! first cell that no longer matches ends the run with its message and exit
//! code 101, instead of the rest of the catalogue running on: a caught
//! mutant then costs one cell's time, not the catalogue's.
//!
//! After the cells come the checks of the whole catalogue (`history.rs`:
//! the kernel's history as verdicts, every seeded mutant killed, `reports/`
//! current), as trials `history::NAME`. They read the results the cells'
//! trials computed, so `cargo test` checks the catalogue once; run alone
//! (`-- history::`), a check computes the cells itself, on every core.
//! With `KMODCHECK_CELLS=verdicts` they are left out: they compare counts
//! and text, which a mutant of the model may change without changing a
//! verdict, and the verdicts they read are the cells' own.

#[path = "../common/mod.rs"]
mod common;
mod history;

use kmodcheck::engine::{check_cell, CellResult};
use kmodcheck::model::{scenario, variant};
use kmodcheck::report;
use libtest_mimic::{Arguments, Failed, Trial};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

/// Every cell of the catalogue, each checked at most once by whichever
/// trial needs it first.
struct Catalogue {
    cells: Vec<(variant::Variant, scenario::Scenario)>,
    results: Vec<OnceLock<Result<CellResult, String>>>,
    all: OnceLock<Result<Vec<CellResult>, String>>,
}

impl Catalogue {
    fn new() -> Catalogue {
        let cells: Vec<_> = scenario::catalogue()
            .into_iter()
            .flat_map(|s| {
                variant::columns_for(&s)
                    .into_iter()
                    .map(move |v| (v, s.clone()))
            })
            .collect();
        let results = cells.iter().map(|_| OnceLock::new()).collect();
        Catalogue {
            cells,
            results,
            all: OnceLock::new(),
        }
    }

    /// Cell `i`, exactly as the main job checks it
    /// ([`kmodcheck::catalogue_options`]).
    fn cell(&self, i: usize) -> &Result<CellResult, String> {
        self.results[i].get_or_init(|| {
            let (v, s) = &self.cells[i];
            let opts = kmodcheck::catalogue_options()?;
            check_cell(*v, s, &opts)
        })
    }

    /// Every cell, in catalogue order: those no trial has checked yet are
    /// checked here, on [`kmodcheck::jobs_from_env`] threads.
    fn all(&self) -> Result<&[CellResult], String> {
        let all = self.all.get_or_init(|| {
            let next = Mutex::new(0..self.cells.len());
            std::thread::scope(|scope| {
                for _ in 0..kmodcheck::jobs_from_env() {
                    scope.spawn(|| loop {
                        let Some(i) = next.lock().unwrap().next() else {
                            return;
                        };
                        self.cell(i);
                    });
                }
            });
            (0..self.cells.len())
                .map(|i| {
                    self.cell(i).clone().map_err(|e| {
                        let (v, s) = &self.cells[i];
                        format!("{} × {}: {e}", v.id, s.name)
                    })
                })
                .collect()
        });
        all.as_deref().map_err(Clone::clone)
    }
}

/// `reports/matrix.md`'s table: (scenario, property, column key) → cell text.
fn committed_matrix() -> BTreeMap<(String, String, String), String> {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("reports/matrix.md"))
            .expect("reports/matrix.md is committed");
    let mut rows = text.lines().filter(|l| l.starts_with("| "));
    let header: Vec<String> = rows
        .next()
        .expect("the table's header row")
        .split(" | ")
        .map(|c| c.trim_matches(|ch| ch == '|' || ch == ' ').to_string())
        .collect();
    let mut out = BTreeMap::new();
    for row in rows {
        let cols: Vec<&str> = row
            .trim_start_matches("| ")
            .trim_end_matches(" |")
            .split(" | ")
            .collect();
        for (i, key) in header.iter().enumerate().skip(2) {
            if let Some(text) = cols.get(i) {
                out.insert(
                    (cols[0].to_string(), cols[1].to_string(), key.clone()),
                    text.to_string(),
                );
            }
        }
    }
    out
}

fn main() {
    let args = Arguments::from_args();
    let verdicts_only = match std::env::var("KMODCHECK_CELLS").as_deref() {
        Err(_) | Ok("exact") => false,
        Ok("verdicts") => true,
        Ok(other) => {
            eprintln!("KMODCHECK_CELLS={other}: expected exact (the default) or verdicts");
            std::process::exit(2);
        }
    };
    let fail_fast = match std::env::var("KMODCHECK_CELLS_FAIL_FAST").as_deref() {
        Err(_) | Ok("0") => false,
        Ok("1") => true,
        Ok(other) => {
            eprintln!("KMODCHECK_CELLS_FAIL_FAST={other}: expected 1 or 0");
            std::process::exit(2);
        }
    };
    let matrix = Arc::new(committed_matrix());
    let columns = variant::matrix_columns();
    let catalogue = Arc::new(Catalogue::new());
    let mut trials = Vec::new();
    for (i, (v, s)) in catalogue.cells.iter().enumerate() {
        let (v, s) = (*v, s.clone());
        let name = format!("{}::{}", s.name, v.id);
        let in_matrix = columns.iter().any(|c| c.id == v.id);
        let key = report::column_key(&v);
        let (matrix, catalogue) = (matrix.clone(), catalogue.clone());
        trials.push(Trial::test(name, move || {
                let c = catalogue.cell(i).as_ref().map_err(Failed::from)?;
                let mut diffs = Vec::new();
                for p in &s.properties {
                    if in_matrix {
                        let got = report::matrix_cell_markdown(c, p);
                        let want = matrix.get(&(s.name.clone(), p.clone(), key.clone()));
                        let same = match want {
                            Some(w) if verdicts_only => report::matrix_cell_verdict(w) == report::matrix_cell_verdict(&got),
                            Some(w) => *w == got,
                            None => false,
                        };
                        if !same {
                            diffs.push(format!(
                                "{p}: reports/matrix.md has {}, this run gives {got}",
                                want.map_or("no cell".to_string(), |w| w.clone())
                            ));
                        }
                    }
                    let file = report::counterexample_file(v.id, &s.name, p);
                    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
                        .join("reports/counterexamples")
                        .join(&file);
                    let md = report::counterexample_markdown(c, p);
                    if verdicts_only {
                        // Violated now exactly where a counterexample is committed.
                        if md.is_some() != path.exists() {
                            diffs.push(format!(
                                "{p}: {} now, where reports/counterexamples/{file} {}",
                                if md.is_some() { "violated" } else { "not violated" },
                                if path.exists() { "is committed" } else { "is not" }
                            ));
                        }
                        continue;
                    }
                    if let Some(md) = md {
                        match std::fs::read_to_string(&path) {
                            Ok(t) if t == md => {}
                            Ok(_) => diffs.push(format!(
                                "{p}: reports/counterexamples/{file} differs from this run's counterexample"
                            )),
                            Err(_) => diffs.push(format!(
                                "{p}: violated, but reports/counterexamples/{file} is not committed"
                            )),
                        }
                    }
                }
                if diffs.is_empty() {
                    return Ok(());
                }
                let msg = format!(
                        "{} × {} no longer matches reports/ (regenerate with `cargo run --release -- report` if the change is intended):\n  {}",
                        v.id,
                        s.name,
                    diffs.join("\n  ")
                );
                if fail_fast {
                    eprintln!("{}::{}: {msg}\nKMODCHECK_CELLS_FAIL_FAST: stopping at the first cell that changed", s.name, v.id);
                    std::process::exit(101);
                }
                Err(msg.into())
            }));
    }
    if !verdicts_only {
        for &(name, check) in history::CHECKS {
            let catalogue = catalogue.clone();
            trials.push(Trial::test(format!("history::{name}"), move || {
                check(catalogue.all()?);
                Ok(())
            }));
        }
    }
    libtest_mimic::run(&args, trials).exit();
}
