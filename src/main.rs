//! `kmodcheck`: check the built-in catalogue and print the verdict matrix.
//!
//! `cargo run --release` with no arguments is the main job: every variant ×
//! scenario × property, with progress on stderr. See `--help`.

use clap::{Parser, Subcommand};
use kmodcheck::engine::{
    check_cell, replay, CellResult, CheckOptions, EngineKind, Progress, Verdict,
};
use kmodcheck::model::{scenario, variant};
use kmodcheck::report;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

/// Model checker for Linux module-loading concurrency: the finit_module
/// in-flight table, the module list's name check, and request_module's
/// kmod budget, explored exhaustively with loom (shuttle for cross-checks).
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// Print one JSON object per line per (variant, scenario, property).
    #[arg(long, global = true)]
    json: bool,
    /// Wall-time budget per cell, in seconds (0: none). A cell that runs out
    /// is inconclusive and says how far it got. The matrix and report bound each cell by executions instead (kmodcheck::CATALOGUE_BOUND), which gives the same result on every machine.
    #[arg(long, global = true)]
    time_limit: Option<u64>,
    #[command(subcommand)]
    cmd: Option<Cmd>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Check the whole built-in catalogue and print the verdict matrix (the default).
    Matrix,
    /// Check every scenario under two variants and list the verdicts that
    /// differ, with the counterexample of each new violation: what a
    /// reviewer reads first about a fix.
    Diff {
        /// The variant before the change (e.g. idempotent-interruptible).
        old: String,
        /// The variant after it (e.g. recursion-aware, or LOADER+BUDGET).
        new: String,
        /// Only these scenarios (built-in names or FILE.toml), instead of the
        /// whole catalogue; repeat the flag for several.
        #[arg(long)]
        scenario: Vec<String>,
    },
    /// Check the whole catalogue and write reports/matrix.md and
    /// reports/counterexamples/*.md (the test suite checks they are current).
    Report {
        /// Directory to write.
        #[arg(long, default_value = "reports")]
        dir: std::path::PathBuf,
    },
    /// Check one variant on one scenario and print its verdicts and counterexamples.
    Check {
        /// Variant id (see `list`).
        #[arg(long)]
        variant: String,
        /// Scenario: a built-in name (see `list`) or a scenario file, FILE.toml
        /// (format in the README, "Scenario files").
        #[arg(long)]
        scenario: String,
        /// loom, shuttle-dfs, shuttle-pct or shuttle-random (default: loom if
        /// the scenario fits loom's 5 threads, else shuttle-pct).
        #[arg(long)]
        engine: Option<String>,
        /// Stop after N executions (the run is then not exhaustive).
        #[arg(long)]
        max_executions: Option<usize>,
    },
    /// Replay a counterexample from its handle and print its trace.
    Replay {
        /// The handle printed with the counterexample.
        handle: String,
    },
    /// List variants, scenarios and properties.
    List,
}

/// Progress of one long cell on stderr: overwritten in place on a
/// terminal, one line per report otherwise.
fn progress_line(what: String) -> Progress {
    Progress(Arc::new(move |n, t| {
        let line = format!(
            "  {what}: {n} executions, {:.0} s, still exploring",
            t.as_secs_f64()
        );
        let mut err = std::io::stderr().lock();
        if err.is_terminal() {
            let _ = write!(err, "\r\x1b[2K{line}");
        } else {
            let _ = writeln!(err, "{line}");
        }
    }))
}

fn clear_progress() {
    let mut err = std::io::stderr().lock();
    if err.is_terminal() {
        let _ = write!(err, "\r\x1b[2K");
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let opts = match CheckOptions::from_env() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("kmodcheck: {e}");
            return ExitCode::from(2);
        }
    };
    let mut opts = opts;
    let budget = |default: Option<u64>| match cli.time_limit.or(default) {
        Some(0) | None => None,
        Some(s) => Some(std::time::Duration::from_secs(s)),
    };
    match cli.cmd.unwrap_or(Cmd::Matrix) {
        Cmd::Matrix => {
            opts.max_executions = Some(kmodcheck::CATALOGUE_BOUND);
            opts.time_limit = budget(None);
            run_matrix(&opts, cli.json)
        }
        Cmd::Diff { old, new, scenario } => {
            let (Some(vo), Some(vn)) = (variant::by_id(&old), variant::by_id(&new)) else {
                let bad = if variant::by_id(&old).is_none() {
                    &old
                } else {
                    &new
                };
                eprintln!("kmodcheck: {}", unknown_variant(bad));
                return ExitCode::from(2);
            };
            let scenarios = if scenario.is_empty() {
                scenario::catalogue()
                    .into_iter()
                    .map(|s| (s, None))
                    .collect()
            } else {
                let mut v = Vec::new();
                for name in &scenario {
                    match kmodcheck::scenario_file::resolve(name) {
                        Ok(s) => v.push((s, name.ends_with(".toml").then(|| name.clone()))),
                        Err(e) => {
                            eprintln!("kmodcheck: {e}");
                            return ExitCode::from(2);
                        }
                    }
                }
                v
            };
            opts.max_executions = Some(kmodcheck::CATALOGUE_BOUND);
            opts.time_limit = budget(None);
            run_diff(vo, vn, &scenarios, &opts)
        }
        Cmd::Report { dir } => {
            opts.max_executions = Some(kmodcheck::CATALOGUE_BOUND);
            opts.time_limit = budget(None);
            let cells = match kmodcheck::check_catalogue(&opts, true) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("kmodcheck: {e}");
                    return ExitCode::from(2);
                }
            };
            let files = kmodcheck::reports(&cells);
            if let Err(e) = kmodcheck::write_reports(&dir, &files) {
                eprintln!(
                    "kmodcheck: cannot write reports; dir={}, error={e}",
                    dir.display()
                );
                return ExitCode::from(2);
            }
            println!("wrote {} files under {}", files.len(), dir.display());
            ExitCode::SUCCESS
        }
        Cmd::Check {
            variant: vid,
            scenario: sname,
            engine,
            max_executions,
        } => {
            let Some(v) = variant::by_id(&vid) else {
                eprintln!("kmodcheck: {}", unknown_variant(&vid));
                return ExitCode::from(2);
            };
            let s = match kmodcheck::scenario_file::resolve(&sname) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("kmodcheck: {e}");
                    return ExitCode::from(2);
                }
            };
            let mut o = opts.clone();
            o.time_limit = budget(None);
            if let Some(e) = engine {
                match EngineKind::parse(&e) {
                    Some(k) => o.engine = Some(k),
                    None => {
                        eprintln!("kmodcheck: unknown engine; engine={e}, expected=loom|shuttle-dfs|shuttle-pct|shuttle-random");
                        return ExitCode::from(2);
                    }
                }
            }
            o.max_executions = max_executions;
            o.progress = Some(progress_line(format!("{} × {}", v.id, s.name)));
            let r = check_cell(v, &s, &o);
            clear_progress();
            match r {
                Ok(mut c) => {
                    if sname.ends_with(".toml") {
                        kmodcheck::engine::retarget_handles(&mut c, &sname);
                    }
                    if cli.json {
                        for l in report::json_lines(&c) {
                            println!("{l}");
                        }
                    } else {
                        print_cell(&c);
                    }
                    exit_code(std::slice::from_ref(&c))
                }
                Err(e) => {
                    eprintln!("kmodcheck: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Cmd::Replay { handle } => match replay(&handle, &scenario::catalogue()) {
            Ok(r) => {
                if cli.json {
                    let o = serde_json::json!({
                        "handle": handle,
                        "violations": r.violations.iter().map(|(p, m)| serde_json::json!({"property": p, "message": m})).collect::<Vec<_>>(),
                        "cycle": r.cycle,
                        "trace": r.record.render(),
                    });
                    println!("{o}");
                } else {
                    for (p, m) in &r.violations {
                        println!("{p} violated: {m}");
                    }
                    println!();
                    print!("{}", r.record.render());
                    if let Some(c) = &r.cycle {
                        println!("\nwait-for cycle:");
                        for l in c {
                            println!("  {l}");
                        }
                    }
                }
                if r.violations.is_empty() {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(1)
                }
            }
            Err(e) => {
                eprintln!("kmodcheck: {e}");
                ExitCode::from(2)
            }
        },
        Cmd::List => {
            println!("variants:");
            for v in variant::catalogue() {
                println!("  {:<26} {:<45} {}", v.id, v.kernel, v.summary);
            }
            println!("\nkmod budgets (every loader above has kmod-semaphore; pick another with LOADER+BUDGET):");
            for b in kmodcheck::model::variant::KmodBudget::ALL {
                println!("  {:<26} {}", b.id(), b.kernel());
            }
            println!("\nscenarios:");
            for s in scenario::catalogue() {
                println!("  {:<34} {}", s.name, s.summary);
            }
            println!("\nproperties:");
            for p in kmodcheck::properties::catalogue() {
                println!("  {:<24} {}", p.id, p.statement);
            }
            ExitCode::SUCCESS
        }
    }
}

/// Why `id` names no variant: the loader, or the budget after `+`.
fn unknown_variant(id: &str) -> String {
    match id.split_once('+') {
        Some((loader, budget)) if variant::by_id(loader).is_some() => format!(
            "unknown kmod budget; variant={id}, budget={budget}, expected=kmod-2008|kmod-throttle|kmod-throttle-timeout|kmod-semaphore"
        ),
        Some((loader, _)) => format!("unknown loader; variant={id}, loader={loader} (see `kmodcheck list`)"),
        None => format!("unknown variant; variant={id} (see `kmodcheck list`)"),
    }
}

fn verdict_line(c: &CellResult, v: &Verdict) -> String {
    match v {
        Verdict::Holds { exhaustive: true } => {
            format!(
                "holds (proved: {}, {} executions)",
                c.engine.name(),
                c.executions
            )
        }
        Verdict::Holds { exhaustive: false } => format!(
            "holds in the {} executions explored (not a proof)",
            c.executions
        ),
        Verdict::Violated(ce) => format!("VIOLATED: {}", ce.message),
        Verdict::Inconclusive { reason } => format!("inconclusive: {reason}"),
    }
}

fn run_diff(
    old: variant::Variant,
    new: variant::Variant,
    scenarios: &[(scenario::Scenario, Option<String>)],
    opts: &CheckOptions,
) -> ExitCode {
    let mut changed = 0;
    let mut new_violations = Vec::new();
    println!("{} → {}\n", old.id, new.id);
    for (s, path) in scenarios {
        let mut o = opts.clone();
        let mut cells = Vec::new();
        for v in [old, new] {
            o.progress = Some(progress_line(format!("{} × {}", v.id, s.name)));
            let r = check_cell(v, s, &o);
            clear_progress();
            match r {
                Ok(mut c) => {
                    if let Some(p) = path {
                        kmodcheck::engine::retarget_handles(&mut c, p);
                    }
                    cells.push(c)
                }
                Err(e) => {
                    eprintln!("kmodcheck: {e}");
                    return ExitCode::from(2);
                }
            }
        }
        let (co, cn) = (&cells[0], &cells[1]);
        for (po, pn) in co.properties.iter().zip(&cn.properties) {
            if po.verdict.kind() == pn.verdict.kind() {
                continue;
            }
            changed += 1;
            println!("{} × {}", s.name, po.property);
            println!("  {}: {}", old.id, verdict_line(co, &po.verdict));
            println!("  {}: {}", new.id, verdict_line(cn, &pn.verdict));
            if matches!(pn.verdict, Verdict::Violated(_)) {
                new_violations.push((cn.clone(), pn.property));
            }
        }
    }
    if changed == 0 {
        println!("no verdict differs");
    }
    for (c, p) in &new_violations {
        println!("\n{}", "-".repeat(100));
        if let Some(t) = report::counterexample_text(c, p) {
            println!("{t}");
        }
    }
    ExitCode::SUCCESS
}

fn print_cell(c: &CellResult) {
    println!(
        "{} × {}: {} executions, {}, {}{:.2} s",
        c.variant,
        c.scenario,
        c.executions,
        c.engine.name(),
        if c.exhaustive {
            "exhaustive, "
        } else {
            "not exhaustive, "
        },
        c.elapsed.as_secs_f64()
    );
    for p in &c.properties {
        match &p.verdict {
            Verdict::Holds { exhaustive } => println!(
                "  {:<24} holds{}",
                p.property,
                if *exhaustive {
                    " (proved: every interleaving)"
                } else {
                    " (in the executions explored; not a proof)"
                }
            ),
            Verdict::Violated(_) => {
                println!("  {:<24} VIOLATED", p.property);
            }
            Verdict::Inconclusive { reason } => {
                println!("  {:<24} inconclusive: {reason}", p.property)
            }
        }
    }
    for p in &c.properties {
        if let Some(t) = report::counterexample_text(c, p.property) {
            println!("\n{t}");
        }
    }
}

fn exit_code(cells: &[CellResult]) -> ExitCode {
    let all = cells.iter().flat_map(|c| c.properties.iter());
    let mut inconclusive = false;
    for p in all {
        match p.verdict {
            Verdict::Violated(_) => return ExitCode::from(1),
            Verdict::Inconclusive { .. } => inconclusive = true,
            Verdict::Holds { .. } => {}
        }
    }
    if inconclusive {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    }
}

fn run_matrix(opts: &CheckOptions, json: bool) -> ExitCode {
    let start = Instant::now();
    let cells = match kmodcheck::check_catalogue(opts, true) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("kmodcheck: {e}");
            return ExitCode::from(2);
        }
    };
    if json {
        for c in &cells {
            for l in report::json_lines(c) {
                println!("{l}");
            }
        }
    } else {
        print!(
            "{}",
            report::matrix(&variant::matrix_columns(), &scenario::catalogue(), &cells)
        );
        let execs: usize = cells.iter().map(|c| c.executions).sum();
        println!(
            "\n{} cells, {execs} executions, {:.1} s wall time\n",
            cells.len(),
            start.elapsed().as_secs_f64()
        );
        println!("violations (replay any with `kmodcheck replay HANDLE`):");
        print!("{}", report::violations_summary(&cells));
        let inc = report::inconclusive_summary(&cells);
        if !inc.is_empty() {
            println!("\ninconclusive:");
            print!("{inc}");
        }
    }
    // The matrix is the product: it holds violations by design (history).
    // Exit 0 once every cell was checked; `check` has verdict exit codes.
    ExitCode::SUCCESS
}
