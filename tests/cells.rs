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

use kmodcheck::engine::check_cell;
use kmodcheck::model::{scenario, variant};
use kmodcheck::report;
use libtest_mimic::{Arguments, Failed, Trial};
use std::collections::BTreeMap;
use std::path::Path;

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
    let matrix = std::sync::Arc::new(committed_matrix());
    let columns = variant::matrix_columns();
    let mut trials = Vec::new();
    for s in scenario::catalogue() {
        for v in variant::columns_for(&s) {
            let name = format!("{}::{}", s.name, v.id);
            let in_matrix = columns.iter().any(|c| c.id == v.id);
            let key = report::column_key(&v);
            let (s, matrix) = (s.clone(), matrix.clone());
            trials.push(Trial::test(name, move || {
                let opts = kmodcheck::catalogue_options().map_err(Failed::from)?;
                let c = check_cell(v, &s, &opts).map_err(Failed::from)?;
                let mut diffs = Vec::new();
                for p in &s.properties {
                    if in_matrix {
                        let got = report::matrix_cell_markdown(&c, p);
                        let want = matrix.get(&(s.name.clone(), p.clone(), key.clone()));
                        if want != Some(&got) {
                            diffs.push(format!(
                                "{p}: reports/matrix.md has {}, this run gives {got}",
                                want.map_or("no cell".to_string(), |w| w.clone())
                            ));
                        }
                    }
                    if let Some(md) = report::counterexample_markdown(&c, p) {
                        let file = report::counterexample_file(v.id, &s.name, p);
                        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
                            .join("reports/counterexamples")
                            .join(&file);
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
                    Ok(())
                } else {
                    Err(format!(
                        "{} × {} no longer matches reports/ (regenerate with `cargo run --release -- report` if the change is intended):\n  {}",
                        v.id,
                        s.name,
                        diffs.join("\n  ")
                    )
                    .into())
                }
            }));
        }
    }
    libtest_mimic::run(&args, trials).exit();
}
