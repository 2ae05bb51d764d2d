//! `reports/mutants-model.md` from the committed record of each
//! cargo-mutants run (`mutants/runs/*.json`): the catch rate per file of the
//! kernel model, and every surviving mutant with what became of it, from
//! `mutants/survivors.toml` (killed since by a named scenario or property,
//! argued equivalent in one line, gone, or open).
//!
//! Two modes (README, "Mutation testing of the model"):
//!
//! ```text
//! mutants_report --summarize mutants.out/outcomes.json COMMIT > mutants/runs/COMMIT-WHAT.json
//! mutants_report mutants/runs/*.json > reports/mutants-model.md
//! ```
//!
//! The first keeps what the report needs of one run (per file: caught,
//! timeouts, missed, unviable; the survivors' names), so that the report
//! can be made again without the run's `mutants.out/`, which stays on the
//! machine that ran it. The second merges the runs, oldest first by start
//! time: for a file in several runs, the latest run counts.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

/// One run, as committed under `mutants/runs/`.
#[derive(Serialize, Deserialize)]
struct Run {
    /// The commit it ran on.
    commit: String,
    cargo_mutants_version: String,
    start_time: String,
    /// `None`: stopped before the end.
    end_time: Option<String>,
    /// How many mutants it tested.
    tested: usize,
    /// Where the record comes from, if not from `--summarize`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    note: Option<String>,
    /// Per file: caught (without the timeouts), timeouts, missed, unviable.
    files: BTreeMap<String, Counts>,
    /// The missed mutants' names.
    survivors: Vec<String>,
}

#[derive(Clone, Copy, Default, Serialize, Deserialize)]
struct Counts {
    caught: u32,
    timeouts: u32,
    missed: u32,
    unviable: u32,
}

fn usage() -> ! {
    eprintln!("usage: mutants_report --summarize OUTCOMES.json COMMIT   (one run's record, for mutants/runs/)\n       mutants_report RUN.json...                         (reports/mutants-model.md)");
    std::process::exit(2)
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| {
        eprintln!("mutants_report: cannot read {path}: {e}");
        std::process::exit(2)
    })
}

/// `--summarize`: cargo-mutants' outcomes.json to a [`Run`].
fn summarize(path: &str, commit: &str) -> Run {
    let json: Value = serde_json::from_str(&read(path)).unwrap_or_else(|e| {
        eprintln!("mutants_report: {path}: not cargo-mutants' outcomes.json: {e}");
        std::process::exit(2)
    });
    let mut files: BTreeMap<String, Counts> = BTreeMap::new();
    let mut survivors = Vec::new();
    let mut tested = 0;
    for o in json["outcomes"].as_array().into_iter().flatten() {
        let Some(m) = o["scenario"].get("Mutant") else {
            continue;
        };
        tested += 1;
        let c = files
            .entry(m["file"].as_str().unwrap_or("?").to_string())
            .or_default();
        match o["summary"].as_str().unwrap_or("") {
            "CaughtMutant" => c.caught += 1,
            "MissedMutant" => {
                c.missed += 1;
                survivors.push(m["name"].as_str().unwrap_or("?").to_string());
            }
            "Timeout" => c.timeouts += 1,
            _ => c.unviable += 1,
        }
    }
    survivors.sort();
    Run {
        commit: commit.to_string(),
        cargo_mutants_version: json["cargo_mutants_version"]
            .as_str()
            .unwrap_or("?")
            .to_string(),
        start_time: json["start_time"].as_str().unwrap_or("?").to_string(),
        end_time: json["end_time"].as_str().map(str::to_string),
        tested,
        note: None,
        files,
        survivors,
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => usage(),
        [flag, outcomes, commit] if flag == "--summarize" => {
            let run = summarize(outcomes, commit);
            println!(
                "{}",
                serde_json::to_string_pretty(&run).expect("a run serializes")
            );
        }
        [flag, ..] if flag.starts_with('-') => usage(),
        paths => report(paths),
    }
}

fn report(paths: &[String]) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut runs: Vec<Run> = paths
        .iter()
        .map(|p| {
            serde_json::from_str(&read(p)).unwrap_or_else(|e| {
                eprintln!("mutants_report: {p}: not a run's record (mutants/runs/, made by --summarize): {e}");
                std::process::exit(2)
            })
        })
        .collect();
    runs.sort_by(|a, b| a.start_time.cmp(&b.start_time));
    // Per file, the latest run that tested it.
    let mut per: BTreeMap<String, (usize, Counts)> = BTreeMap::new();
    for (i, r) in runs.iter().enumerate() {
        for (f, c) in &r.files {
            per.insert(f.clone(), (i, *c));
        }
    }
    let file_of = |s: &str| s.split(':').next().unwrap_or("?").to_string();
    let mut survivors: Vec<String> = Vec::new();
    for (i, r) in runs.iter().enumerate() {
        survivors.extend(
            r.survivors
                .iter()
                .filter(|s| per.get(&file_of(s)).is_some_and(|(j, _)| *j == i))
                .cloned(),
        );
    }
    survivors.sort();
    let fates: BTreeMap<String, String> =
        std::fs::read_to_string(root.join("mutants/survivors.toml"))
            .map(|t| toml::from_str(&t).expect("mutants/survivors.toml: \"MUTANT\" = \"FATE\""))
            .unwrap_or_default();
    // What became of each file's survivors: killed since, equivalent, gone
    // (its code replaced), open, or no fate recorded.
    let mut fate_of: BTreeMap<String, [u32; 5]> = BTreeMap::new();
    for s in &survivors {
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
        fate_of.entry(file_of(s)).or_default()[slot] += 1;
    }
    let mut out = String::new();
    let _ = writeln!(out, "# Mutation testing of the kernel model\n");
    for (i, r) in runs.iter().enumerate() {
        let files: Vec<String> = per
            .iter()
            .filter(|(_, (j, _))| *j == i)
            .map(|(f, _)| format!("`{}`", f.trim_start_matches("model/src/")))
            .collect();
        let _ = writeln!(
            out,
            "- {}: cargo-mutants {} on {}, from {} to {}; {} mutants tested; counted here for {}.{}",
            if runs.len() == 1 { "The run".to_string() } else { format!("Run {}", i + 1) },
            r.cargo_mutants_version,
            r.commit,
            r.start_time,
            r.end_time
                .clone()
                .unwrap_or_else(|| "its stop before the end (the files not listed, and the rest of the last one tested, were not tested)".into()),
            r.tested,
            if files.is_empty() { "no file (a later run tested them again)".to_string() } else { files.join(", ") },
            r.note.as_deref().map(|n| format!(" {n}")).unwrap_or_default(),
        );
    }
    let _ = writeln!(
        out,
        "\nMutant names give lines and columns at their run's commit. Generated by `examples/mutants_report.rs` from the runs' records in `mutants/runs/` (README, \"Mutation testing of the model\"). Each mutant is one change cargo-mutants makes to `model/src/kernel`, `userspace` or `primitives` (`.cargo/mutants.toml` says what is left out, and why); it is **caught** when a verdict of the catalogue or a witness (`tests/witnesses.rs`) changes (`KMODCHECK_CELLS=verdicts`), not when only a count or a trace's wording does. Viable: it builds. A timeout counts as caught (the catalogue did not pass), and is listed apart. Every survivor is listed below with what became of it (`mutants/survivors.toml`).\n"
    );
    let _ = writeln!(
        out,
        "*At the run*: caught as a share of the viable mutants. *Now*: the survivors' fates counted in: killed since (by a scenario or property added after the run) joins the caught; equivalent and gone (the code it mutated was replaced) leave the count; open stays missed.\n"
    );
    let _ = writeln!(
        out,
        "| file | viable | caught (timeouts) | missed | at the run | killed since | equivalent | gone | open | now | unviable |\n|---|---|---|---|---|---|---|---|---|---|---|"
    );
    let mut tot = (Counts::default(), [0u32; 5]);
    let mut kernel = (Counts::default(), [0u32; 5]);
    for (file, (_, c)) in &per {
        let f = fate_of.get(file).copied().unwrap_or_default();
        let in_kernel = file.starts_with("model/src/kernel/");
        for acc in [&mut tot]
            .into_iter()
            .chain(in_kernel.then_some(&mut kernel))
        {
            acc.0.caught += c.caught;
            acc.0.timeouts += c.timeouts;
            acc.0.missed += c.missed;
            acc.0.unviable += c.unviable;
            for (a, n) in acc.1.iter_mut().zip(f) {
                *a += n;
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

fn row(label: &str, c: &Counts, f: &[u32; 5]) -> String {
    let viable = c.caught + c.timeouts + c.missed;
    let caught = c.caught + c.timeouts;
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
        c.timeouts,
        c.missed,
        pct(caught, viable),
        f[0],
        f[1],
        f[2],
        f[3] + f[4],
        pct(now_caught, now_viable),
        c.unviable
    )
}
