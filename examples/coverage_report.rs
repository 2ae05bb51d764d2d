//! Turn cargo-llvm-cov's JSON export of the catalogue run into
//! `reports/coverage.md`: per file of the kernel model, the lines and
//! regions the catalogue reaches, and every region it does not, with the
//! source line and the reason recorded for it in `coverage/reasons.toml`
//! (keyed by file and the line's text, so that it survives edits
//! elsewhere). `.ci/coverage` runs it:
//! `cargo run --release --example coverage_report -- target/coverage/cells.json`.

use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

/// The part of the model a kernel developer would change.
const SCOPE: &[&str] = &[
    "model/src/kernel/",
    "model/src/userspace/",
    "model/src/primitives/",
];

fn main() {
    let path = std::env::args().nth(1).unwrap_or_else(|| {
        eprintln!("usage: coverage_report CELLS.json (cargo llvm-cov --json)");
        std::process::exit(2)
    });
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_else(|e| {
        eprintln!("coverage_report: cannot read {path}: {e}");
        std::process::exit(2)
    }))
    .expect("cargo llvm-cov --json output");
    let reasons: BTreeMap<String, BTreeMap<String, String>> =
        std::fs::read_to_string(root.join("coverage/reasons.toml"))
            .map(|t| {
                toml::from_str(&t)
                    .expect("coverage/reasons.toml: [\"FILE\"] \"LINE TEXT\" = \"REASON\"")
            })
            .unwrap_or_default();
    let files = json["data"][0]["files"].as_array().expect("data[0].files");
    let mut rows = Vec::new();
    let mut uncovered = String::new();
    let (mut lt, mut lc, mut rt, mut rc) = (0u64, 0u64, 0u64, 0u64);
    let mut unexplained = 0;
    let mut listed: Vec<(&str, &Value)> = files
        .iter()
        .filter_map(|f| {
            let name = f["filename"].as_str()?;
            let rel = name.find("model/src/").map(|i| &name[i..])?;
            SCOPE.iter().any(|s| rel.starts_with(s)).then_some((rel, f))
        })
        .collect();
    listed.sort_by_key(|(rel, _)| *rel);
    for (rel, f) in listed {
        let s = &f["summary"];
        let n = |k: &str, w: &str| s[k][w].as_u64().unwrap_or(0);
        let (lines, lines_cov) = (n("lines", "count"), n("lines", "covered"));
        let (regions, regions_cov) = (n("regions", "count"), n("regions", "covered"));
        lt += lines;
        lc += lines_cov;
        rt += regions;
        rc += regions_cov;
        rows.push(format!(
            "| `{rel}` | {lines_cov} of {lines} ({:.1}%) | {regions_cov} of {regions} ({:.1}%) |",
            pct(lines_cov, lines),
            pct(regions_cov, regions)
        ));
        let text = std::fs::read_to_string(root.join(rel)).unwrap_or_default();
        let src: Vec<&str> = text.lines().collect();
        // Segments: [line, col, count, has_count, is_region_entry, is_gap].
        let mut lines_out: Vec<usize> = Vec::new();
        for seg in f["segments"].as_array().into_iter().flatten() {
            let a = seg.as_array().expect("segment");
            let (line, count, has, entry, gap) = (
                a[0].as_u64().unwrap_or(0) as usize,
                a[2].as_u64().unwrap_or(1),
                a[3].as_bool().unwrap_or(false),
                a[4].as_bool().unwrap_or(false),
                a[5].as_bool().unwrap_or(false),
            );
            if has && entry && !gap && count == 0 && !lines_out.contains(&line) {
                lines_out.push(line);
            }
        }
        lines_out.sort_unstable();
        // Blocks of unreached lines at most two apart: one row each, named
        // by the text of its first line.
        let mut blocks: Vec<(usize, usize)> = Vec::new();
        for l in lines_out {
            match blocks.last_mut() {
                Some((_, end)) if l <= *end + 2 => *end = l,
                _ => blocks.push((l, l)),
            }
        }
        for (start, end) in blocks {
            // A block that starts at a closing brace (the implicit `else` of
            // an `if` the catalogue always takes) is named by the nearest
            // line above it with code in it.
            let code = (1..=start)
                .rev()
                .filter_map(|l| src.get(l - 1).map(|t| t.trim()))
                .find(|t| t.chars().any(char::is_alphanumeric))
                .unwrap_or("");
            let reason = reasons.get(rel).and_then(|r| r.get(code)).map_or_else(
                || {
                    unexplained += 1;
                    "**no reason recorded**".to_string()
                },
                |r| r.clone(),
            );
            let at = if start == end {
                format!("{rel}:{start}")
            } else {
                format!("{rel}:{start}-{end}")
            };
            let _ = writeln!(
                uncovered,
                "| `{at}` | `{}` | {reason} |",
                code.replace('|', "\\|")
            );
        }
    }
    let mut out = String::new();
    let _ = writeln!(out, "# Coverage of the kernel model by the catalogue\n");
    let _ = writeln!(
        out,
        "Generated by `.ci/coverage` (cargo-llvm-cov over the cells of `cargo test --profile quick --test cells`, with Debian's llvm-22). Lines and regions of `model/src/kernel`, `userspace` and `primitives` that the catalogue's runs reach, under every engine the catalogue uses. A region is a stretch of code with one execution count: each side of a branch is one, so an unreached region is an unreached branch. (Branch coverage proper needs a nightly compiler.) Each unreached region is listed with the reason recorded in `coverage/reasons.toml`.\n"
    );
    let _ = writeln!(
        out,
        "In all: lines {lc} of {lt} ({:.1}%), regions {rc} of {rt} ({:.1}%); {} blocks of unreached regions have no reason recorded.\n",
        pct(lc, lt),
        pct(rc, rt),
        unexplained
    );
    let _ = writeln!(out, "| file | lines | regions |\n|---|---|---|");
    for r in rows {
        let _ = writeln!(out, "{r}");
    }
    let _ = writeln!(out, "\n## Unreached regions\n\nBlocks of unreached lines (at most two lines apart), each named by its first line.\n\n| where | first line | why |\n|---|---|---|");
    out.push_str(&uncovered);
    print!("{out}");
}

fn pct(a: u64, b: u64) -> f64 {
    if b == 0 {
        100.0
    } else {
        100.0 * a as f64 / b as f64
    }
}
