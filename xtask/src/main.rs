//! `cargo xtask bench`: what each verdict costs, written as
//! reports/performance.md and its charts; and `bench-cell`, one of its
//! measurements in its own process (this binary, run again by `bench`).

use clap::{Parser, Subcommand};
use std::process::ExitCode;
use xtask::bench;

/// kmodcheck's development tasks (`cargo xtask ...`).
#[derive(Parser)]
#[command(name = "xtask")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Measure what each verdict costs and write reports/performance.md and
    /// its charts
    ///
    /// Measures the targets, the whole matrix's and a diff's wall time,
    /// the flagship counterexamples' time to violation, the scale series
    /// (concurrent-same-file N = 2..6, shared-dependency N = 2..4) under the
    /// stateful engine with and without symmetry and under loom, the
    /// two-loader cycle with timed waits, `cargo test`, and every cell under
    /// each engine, each measurement in its own process; and where
    /// concurrent-same-file's loom executions go. Takes about 20 minutes on
    /// 2 cores. Builds the kmodcheck binary first (cargo build --release)
    /// unless --kmodcheck names one.
    #[command(after_long_help = BENCH_ENVIRONMENT)]
    Bench(Args),
    /// One measurement of `bench`, in its own process (internal).
    #[command(hide = true)]
    BenchCell(CellArgs),
}

/// The end of `cargo xtask bench --help`.
const BENCH_ENVIRONMENT: &str = "\
Environment:
  KMODCHECK_JOBS  cells checked at once by the whole-matrix and diff runs
                  (default: the number of cores)
  CARGO           the cargo that builds kmodcheck and times `cargo test
                  --release` (`cargo xtask` sets it; default: cargo on PATH)
";

#[derive(clap::Args)]
struct Args {
    /// Directory to write.
    #[arg(long, default_value = "reports")]
    dir: std::path::PathBuf,
    /// Seconds shuttle DFS may spend on a matrix cell before the cell is
    /// sampled with PCT instead.
    #[arg(long, default_value_t = 2, value_name = "SECONDS",
          value_parser = whole::<u64>("--dfs-seconds", "seconds", "2"))]
    dfs_seconds: u64,
    /// Executions of each shuttle PCT run.
    #[arg(long, default_value_t = 1000, value_name = "N",
          value_parser = whole::<usize>("--pct-samples", "executions", "1000"))]
    pct_samples: usize,
    /// Seconds each scale-series run may take (each engine).
    #[arg(long, default_value_t = 60, value_name = "SECONDS",
          value_parser = whole::<u64>("--series-seconds", "seconds", "60"))]
    series_seconds: u64,
    /// The kmodcheck binary whose commands (the whole matrix, diff, the
    /// probes) are timed. Default: built from this tree with cargo build
    /// --release --bin kmodcheck.
    #[arg(long, value_name = "PATH")]
    kmodcheck: Option<std::path::PathBuf>,
    /// Another build to compare with this one on the probe cells, as
    /// NAME=PATH (repeat the flag for several), e.g.
    /// before=/tmp/kmodcheck-old. PATH is a kmodcheck binary, run as
    /// `kmodcheck check --variant V --scenario S`.
    #[arg(long)]
    compare: Vec<String>,
    /// Skip the per-cell pass (the slowest part).
    #[arg(long)]
    skip_cells: bool,
    /// Do not time `cargo test --release` (which needs this binary's
    /// source tree and cargo).
    #[arg(long)]
    skip_cargo_test: bool,
}

#[derive(clap::Args)]
struct CellArgs {
    /// VARIANT SCENARIO ENGINE MAX_EXECUTIONS TIME_LIMIT_MS SAMPLES sym|nosym
    args: Vec<String>,
}

/// The value parser of a numeric flag: what it takes, in words
/// ("--pct-samples takes a whole number of executions, e.g. 1000"),
/// instead of Rust's ("invalid digit found in string"); as kmodcheck's own.
fn whole<T: std::str::FromStr>(
    flag: &'static str,
    what: &'static str,
    example: &'static str,
) -> impl Fn(&str) -> Result<T, String> + Clone + Send + Sync + 'static {
    move |value: &str| {
        value.parse::<T>().map_err(|_| {
            if !value.is_empty() && value.chars().all(|c| c.is_ascii_digit()) {
                format!("{flag} takes a whole number of {what}, and {value} is too large for it")
            } else {
                format!("{flag} takes a whole number of {what}, e.g. {flag} {example}")
            }
        })
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let done = match cli.cmd {
        Cmd::Bench(a) => run(a),
        Cmd::BenchCell(a) => run_cell(a),
    };
    match done {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::from(2)
        }
    }
}

/// `cargo xtask bench`.
fn run(args: Args) -> Result<(), String> {
    let Args {
        dir,
        dfs_seconds,
        pct_samples,
        series_seconds,
        kmodcheck,
        compare,
        skip_cells,
        skip_cargo_test,
    } = args;
    let mut builds = Vec::new();
    for c in &compare {
        let Some((name, path)) = c.split_once('=') else {
            return Err(format!("--compare takes NAME=PATH; got {c:?}"));
        };
        let path = std::path::PathBuf::from(path);
        if !path.is_file() {
            return Err(format!(
                "--compare {name}: no executable at {}",
                path.display()
            ));
        }
        builds.push((name.to_string(), path));
    }
    let kmodcheck = match kmodcheck {
        Some(path) if path.is_file() => path,
        Some(path) => return Err(format!("--kmodcheck: no executable at {}", path.display())),
        None => bench::build_kmodcheck()?,
    };
    let exe =
        std::env::current_exe().map_err(|e| format!("cannot find this executable; error={e}"))?;
    let o = bench::BenchOptions {
        dfs_budget: std::time::Duration::from_secs(dfs_seconds),
        pct_samples,
        series_budget: std::time::Duration::from_secs(series_seconds),
        jobs: kmodcheck::jobs_from_env(),
        compare: builds,
        skip_cells,
        skip_cargo_test,
    };
    let r = bench::run_bench(&exe, &kmodcheck, &o);
    let md = bench::performance_markdown(&r, &o);
    let mut files = vec![("performance.md".to_string(), md)];
    files.extend(bench::series_charts(&r));
    for (name, text) in &files {
        std::fs::create_dir_all(&dir)
            .and_then(|_| std::fs::write(dir.join(name), text))
            .map_err(|e| format!("cannot write {}; error={e}", dir.join(name).display()))?;
    }
    println!(
        "wrote {} under {}",
        files
            .iter()
            .map(|f| f.0.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        dir.display()
    );
    Ok(())
}

/// `xtask bench-cell ...` (internal): one JSON line, a [`bench::CellCost`].
fn run_cell(args: CellArgs) -> Result<(), String> {
    let job = bench::Job::parse(&args.args)?;
    let cost = bench::run_job(&job);
    println!(
        "{}",
        serde_json::to_string(&cost).expect("a CellCost serialises")
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// The flags parse as documented, `bench-cell` is hidden, and `bench
    /// --help` shows no Rust internals (as tests/cli.rs checks kmodcheck's).
    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
        let mut cmd = Cli::command();
        let help = cmd
            .find_subcommand_mut("bench")
            .expect("bench")
            .render_long_help()
            .to_string();
        for jargon in ["xtask::", "usize", "u64", "Option<", "Vec<", "PathBuf"] {
            assert!(
                !help.contains(jargon),
                "bench --help shows {jargon}:\n{help}"
            );
        }
        let top = Cli::command().render_long_help().to_string();
        assert!(!top.contains("bench-cell"), "{top}");
        let e = Cli::try_parse_from(["xtask", "bench", "--pct-samples", "many"])
            .err()
            .expect("refused");
        assert!(
            e.to_string()
                .contains("--pct-samples takes a whole number of executions"),
            "{e}"
        );
    }
}
