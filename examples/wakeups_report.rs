//! Turn `.ci/wakeups`' cargo-mutants outcomes into `reports/wakeups.md`:
//! every wait of the kernel model (`coverage/wakeups.toml`), each wake-up
//! that can end it, and the cell whose verdict changes when that wake-up is
//! removed. A witness named in the TOML that did not change is an error
//! (exit 1): the report never claims a wake-up matters where the run did
//! not show it.
//!
//! `cargo run --release --example wakeups_report -- wakeups.out/mutants.out COMMIT > reports/wakeups.md`

use kmodcheck::report;
use serde::Deserialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

#[derive(Deserialize)]
struct Config {
    wakeup: BTreeMap<String, Wakeup>,
    wait: Vec<Wait>,
}

#[derive(Deserialize)]
struct Wakeup {
    mutant: String,
    what: String,
}

#[derive(Deserialize)]
struct Wait {
    at: String,
    wait: String,
    by: BTreeMap<String, String>,
}

/// What one removal did: its outcome and, per changed cell, the changed
/// properties as "property: before → after".
struct Removal {
    name: String,
    summary: String,
    cells: BTreeMap<String, Vec<String>>,
}

/// The changed cells in a `tests/cells/main.rs` log: each failed cell's
/// "---- SCENARIO::COLUMN ----" block and its "  property: ..." lines.
fn changed_cells(log: &str) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut cell: Option<String> = None;
    for line in log.lines() {
        if let Some(name) = line
            .strip_prefix("---- ")
            .and_then(|l| l.strip_suffix(" ----"))
        {
            cell = Some(name.trim().to_string());
            out.entry(name.trim().to_string()).or_default();
            continue;
        }
        let Some(c) = &cell else { continue };
        if line.trim().is_empty() {
            cell = None;
            continue;
        }
        let Some(rest) = line.strip_prefix("  ") else {
            continue;
        };
        let Some((prop, what)) = rest.split_once(": ") else {
            continue;
        };
        let change = if let Some((has, gives)) = what
            .strip_prefix("reports/matrix.md has ")
            .and_then(|w| w.split_once(", this run gives "))
        {
            format!(
                "{prop}: {} → {}",
                report::matrix_cell_verdict(has),
                report::matrix_cell_verdict(gives)
            )
        } else if what.starts_with("violated now") {
            format!("{prop}: now VIOLATED")
        } else if what.starts_with("not violated now") {
            format!("{prop}: no longer VIOLATED")
        } else {
            continue;
        };
        let v = out.get_mut(c).expect("inserted at the header");
        // A counterexample's line repeats what the matrix line said.
        let said = v.iter().any(|x| x.starts_with(&format!("{prop}: ")));
        if (change.contains('→') || !said) && !v.contains(&change) {
            v.push(change);
        }
    }
    out
}

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().unwrap_or_else(|| {
        eprintln!("usage: wakeups_report MUTANTS_OUT_DIR COMMIT (the mutants.out of .ci/wakeups)");
        std::process::exit(2)
    }));
    let commit = args.next().unwrap_or_else(|| "an unnamed commit".into());
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cfg_path = root.join("coverage/wakeups.toml");
    let cfg: Config =
        toml::from_str(&std::fs::read_to_string(&cfg_path).expect("coverage/wakeups.toml"))
            .unwrap_or_else(|e| {
                eprintln!("coverage/wakeups.toml: {e}");
                std::process::exit(2)
            });
    let json: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("outcomes.json")).unwrap_or_else(|e| {
            eprintln!(
                "wakeups_report: cannot read {}/outcomes.json: {e}",
                dir.display()
            );
            std::process::exit(2)
        }),
    )
    .expect("cargo-mutants outcomes.json");
    // Each wake-up's removal, found by its mutant's description.
    let mut removals: BTreeMap<String, Removal> = BTreeMap::new();
    for o in json["outcomes"].as_array().expect("outcomes") {
        let Some(m) = o["scenario"].get("Mutant") else {
            continue;
        };
        let name = m["name"].as_str().unwrap_or("?");
        let Some((key, _)) = cfg
            .wakeup
            .iter()
            .find(|(_, w)| name.ends_with(&format!(": {}", w.mutant)))
        else {
            continue;
        };
        let log = o["log_path"]
            .as_str()
            .and_then(|p| std::fs::read_to_string(dir.join(p)).ok())
            .unwrap_or_default();
        removals.insert(
            key.clone(),
            Removal {
                name: name.to_string(),
                summary: o["summary"].as_str().unwrap_or("?").to_string(),
                cells: changed_cells(&log),
            },
        );
    }
    let mut errors = Vec::new();
    for (key, w) in &cfg.wakeup {
        if !removals.contains_key(key) {
            errors.push(format!(
                "wakeup.{key}: no outcome for the mutant \"{}\" in this run",
                w.mutant
            ));
        }
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Every wait of the kernel model, and a cell where its wake-up matters\n"
    );
    let _ = writeln!(
        out,
        "Generated by `.ci/wakeups` on {commit}: cargo-mutants removes each wake-up of the model in turn (one small function each, `coverage/wakeups.toml`) and the whole catalogue runs (`KMODCHECK_CELLS=verdicts`, every cell, not stopping at the first change). A wake-up **matters** in a cell when the cell's verdict changes without it. For each wait, each wake-up that can end it has a witness cell, checked against the run by `examples/wakeups_report.rs`, or a reason.\n"
    );
    let (mut shown, mut gaps, mut nones) = (0, 0, 0);
    let _ = writeln!(out, "## Waits\n");
    let _ = writeln!(
        out,
        "| wait | wake-up | witness: the cell whose verdict changes without it |"
    );
    let _ = writeln!(out, "|---|---|---|");
    for w in &cfg.wait {
        for (key, by) in &w.by {
            let Some(wk) = cfg.wakeup.get(key) else {
                errors.push(format!("wait \"{}\": unknown wake-up {key}", w.wait));
                continue;
            };
            let cell = if by.starts_with("gap:") {
                gaps += 1;
                by.clone()
            } else if by.starts_with("none:") {
                nones += 1;
                by.clone()
            } else {
                match removals.get(key).and_then(|r| r.cells.get(by)) {
                    Some(changes) => {
                        shown += 1;
                        format!("`{by}`: {}", changes.join("; "))
                    }
                    None => {
                        errors.push(format!(
                            "wait \"{}\": removing {key} did not change {by}",
                            w.wait
                        ));
                        format!("`{by}`: **did not change**")
                    }
                }
            };
            let _ = writeln!(
                out,
                "| {} (`{}`) | {} | {} |",
                w.wait.replace('|', "\\|"),
                w.at,
                wk.what,
                cell.replace('|', "\\|")
            );
        }
    }
    let _ = writeln!(
        out,
        "\n{shown} wait and wake-up pairs shown to matter, {gaps} gaps, {nones} that cannot change a verdict.\n"
    );
    let _ = writeln!(out, "## Each removal\n");
    let _ = writeln!(
        out,
        "| wake-up removed | mutant | outcome | cells changed |"
    );
    let _ = writeln!(out, "|---|---|---|---|");
    for (key, r) in &removals {
        let scenarios: BTreeSet<&str> = r
            .cells
            .keys()
            .map(|c| c.split("::").next().unwrap_or(c))
            .collect();
        let _ = writeln!(
            out,
            "| {key} | `{}` | {} | {} in {} scenarios: {} |",
            r.name,
            r.summary,
            r.cells.len(),
            scenarios.len(),
            scenarios.into_iter().collect::<Vec<_>>().join(", ")
        );
    }
    print!("{out}");
    if !errors.is_empty() {
        for e in &errors {
            eprintln!("wakeups_report: {e}");
        }
        std::process::exit(1);
    }
}
