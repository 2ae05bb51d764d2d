//! Turn cargo-mutants' `outcomes.json` into `reports/mutants-model.md`: the
//! catch rate per file of the kernel model, and every surviving mutant with
//! what became of it, from `mutants/survivors.toml` (killed since by a named
//! scenario or property, or argued equivalent in one line). `.ci/mutants`
//! prints how: `cargo run --release --example mutants_report --
//! mutants.out/outcomes.json COMMIT > reports/mutants-model.md`.

use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

fn main() {
    if std::env::args().len() < 2 {
        eprintln!("usage: mutants_report OUTCOMES.json COMMIT [OUTCOMES.json COMMIT]... (cargo-mutants' mutants.out/outcomes.json, and the commit it ran on)");
        std::process::exit(2)
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // More runs after the first: `mutants_report OUTCOMES COMMIT [OUTCOMES
    // COMMIT]...`, one run per file set, merged (no mutant is in two runs).
    let args: Vec<String> = std::env::args().skip(1).collect();
    let paths: Vec<String> = args.iter().step_by(2).cloned().collect();
    let commits: Vec<String> = args
        .iter()
        .skip(1)
        .step_by(2)
        .cloned()
        .chain(std::iter::repeat("an unnamed commit".to_string()))
        .take(paths.len())
        .collect();
    let runs: Vec<Value> = paths
        .iter()
        .map(|path| {
            serde_json::from_str(&std::fs::read_to_string(path).unwrap_or_else(|e| {
                eprintln!("mutants_report: cannot read {path}: {e}");
                std::process::exit(2)
            }))
            .expect("cargo-mutants outcomes.json")
        })
        .collect();
    let outcomes: Vec<&Value> = runs
        .iter()
        .flat_map(|j| j["outcomes"].as_array().expect("outcomes").iter())
        .collect();
    let fates: BTreeMap<String, String> =
        std::fs::read_to_string(root.join("mutants/survivors.toml"))
            .map(|t| toml::from_str(&t).expect("mutants/survivors.toml: \"MUTANT\" = \"FATE\""))
            .unwrap_or_default();
    // Per file: caught, missed, timeout, unviable.
    let mut per: BTreeMap<String, [u32; 4]> = BTreeMap::new();
    let mut survivors = Vec::new();
    for o in &outcomes {
        let Some(m) = o["scenario"].get("Mutant") else {
            continue;
        };
        let file = m["file"].as_str().unwrap_or("?").to_string();
        let name = m["name"].as_str().unwrap_or("?").to_string();
        let slot = match o["summary"].as_str().unwrap_or("") {
            "CaughtMutant" => 0,
            "MissedMutant" => 1,
            "Timeout" => 2,
            _ => 3,
        };
        per.entry(file).or_default()[slot] += 1;
        if slot == 1 {
            survivors.push(name);
        }
    }
    survivors.sort();
    // What became of each file's survivors: killed since, equivalent, gone
    // (its code replaced), open, or no fate recorded.
    let mut fate_of: BTreeMap<String, [u32; 5]> = BTreeMap::new();
    for s in &survivors {
        let file = s.split(':').next().unwrap_or("?").to_string();
        let f = fates.get(s).map_or("", String::as_str);
        let slot = if f.starts_with("killed") {
            0
        } else if f.starts_with("equivalent") {
            1
        } else if f.starts_with("gone") {
            2
        } else if f.starts_with("open") {
            3
        } else {
            4
        };
        fate_of.entry(file).or_default()[slot] += 1;
    }
    let mut out = String::new();
    let _ = writeln!(out, "# Mutation testing of the kernel model\n");
    for (i, json) in runs.iter().enumerate() {
        let tested = json["outcomes"].as_array().map_or(0, |o| {
            o.iter()
                .filter(|o| o["scenario"].get("Mutant").is_some())
                .count()
        });
        let _ = writeln!(
            out,
            "{} cargo-mutants {} on {}, from {} to {}{}",
            if runs.len() == 1 { "The run:".to_string() } else { format!("Run {}:", i + 1) },
            json["cargo_mutants_version"].as_str().unwrap_or("?"),
            commits[i],
            json["start_time"].as_str().unwrap_or("?"),
            json["end_time"]
                .as_str()
                .map_or_else(|| format!("its stop before the end, after {tested} mutants (the files not listed below, and the rest of the last one listed, were not tested)"), str::to_string),
            if i + 1 == runs.len() { ". Mutant names give lines and columns at the run's commit.\n" } else { ";" },
        );
    }
    let _ = writeln!(
        out,
        "Generated from cargo-mutants' outcomes by `examples/mutants_report.rs` (README, \"Mutation testing of the model\"). Each mutant is one change cargo-mutants makes to `model/src/kernel`, `userspace` or `primitives` (`.cargo/mutants.toml` says what is left out, and why); it is **caught** when a verdict of the catalogue changes (`KMODCHECK_CELLS=verdicts`), not when only a count or a trace's wording does. Viable: it builds. A timeout counts as caught (the catalogue did not pass), and is listed apart. Every survivor is listed below with what became of it (`mutants/survivors.toml`).\n"
    );
    let _ = writeln!(
        out,
        "*At the run*: caught as a share of the viable mutants. *Now*: the survivors' fates counted in: killed since (by a scenario or property added after the run) joins the caught; equivalent and gone (the code it mutated was replaced) leave the count; open stays missed.\n"
    );
    let _ = writeln!(
        out,
        "| file | viable | caught (timeouts) | missed | at the run | killed since | equivalent | gone | open | now | unviable |\n|---|---|---|---|---|---|---|---|---|---|---|"
    );
    let mut tot = ([0u32; 4], [0u32; 5]);
    let mut kernel = ([0u32; 4], [0u32; 5]);
    for (file, c) in &per {
        let f = fate_of.get(file).copied().unwrap_or_default();
        let in_kernel = file.starts_with("model/src/kernel/");
        for (i, n) in c.iter().enumerate() {
            tot.0[i] += n;
            if in_kernel {
                kernel.0[i] += n;
            }
        }
        for (i, n) in f.iter().enumerate() {
            tot.1[i] += n;
            if in_kernel {
                kernel.1[i] += n;
            }
        }
        let _ = writeln!(out, "{}", row(&format!("`{file}`"), c, &f));
    }
    let _ = writeln!(out, "{}", row("**model/src/kernel**", &kernel.0, &kernel.1));
    let _ = writeln!(out, "{}", row("**all**", &tot.0, &tot.1));
    let mut unexplained = 0;
    let mut listed = String::new();
    for s in &survivors {
        let fate = fates.get(s).cloned().unwrap_or_else(|| {
            unexplained += 1;
            "**not yet killed or argued**".to_string()
        });
        let _ = writeln!(listed, "| `{}` | {fate} |", s.replace('|', "\\|"));
    }
    let _ = writeln!(
        out,
        "\n## Survivors ({}, {} without a recorded fate)\n\n| mutant | fate |\n|---|---|",
        survivors.len(),
        unexplained
    );
    out.push_str(&listed);
    print!("{out}");
}

fn row(label: &str, c: &[u32; 4], f: &[u32; 5]) -> String {
    let viable = c[0] + c[1] + c[2];
    let caught = c[0] + c[2];
    let pct = |a: u32, b: u32| {
        if b == 0 {
            "–".to_string()
        } else {
            format!("{:.1}%", 100.0 * f64::from(a) / f64::from(b))
        }
    };
    let now_caught = caught + f[0];
    let now_viable = viable - f[1] - f[2];
    format!(
        "| {label} | {viable} | {caught} ({}) | {} | {} | {} | {} | {} | {} | {} | {} |",
        c[2],
        c[1],
        pct(caught, viable),
        f[0],
        f[1],
        f[2],
        f[3] + f[4],
        pct(now_caught, now_viable),
        c[3]
    )
}
