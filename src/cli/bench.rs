//! `kmodcheck bench`: what each verdict costs, written as
//! reports/performance.md and its charts; and `bench-cell`, one of its
//! measurements in its own process.

use super::CliError;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Directory to write.
    #[arg(long, default_value = "reports")]
    pub dir: std::path::PathBuf,
    /// Seconds shuttle DFS may spend on a matrix cell before the cell is
    /// sampled with PCT instead.
    #[arg(long, default_value_t = 2, value_name = "SECONDS",
          value_parser = super::env::whole::<u64>("--dfs-seconds", "seconds", "2"))]
    pub dfs_seconds: u64,
    /// Executions of each shuttle PCT run.
    #[arg(long, default_value_t = 1000, value_name = "N",
          value_parser = super::env::whole::<usize>("--pct-samples", "executions", "1000"))]
    pub pct_samples: usize,
    /// Seconds each scale-series run may take (each engine).
    #[arg(long, default_value_t = 60, value_name = "SECONDS",
          value_parser = super::env::whole::<u64>("--series-seconds", "seconds", "60"))]
    pub series_seconds: u64,
    /// Another build to compare with this one on the probe cells, as
    /// NAME=PATH (repeat the flag for several), e.g.
    /// before=/tmp/kmodcheck-old.
    #[arg(long)]
    pub compare: Vec<String>,
    /// Skip the per-cell pass (the slowest part).
    #[arg(long)]
    pub skip_cells: bool,
    /// Do not time `cargo test --release` (which needs this binary's
    /// source tree and cargo).
    #[arg(long)]
    pub skip_cargo_test: bool,
}

#[derive(clap::Args)]
pub struct CellArgs {
    /// VARIANT SCENARIO ENGINE MAX_EXECUTIONS TIME_LIMIT_MS SAMPLES
    pub args: Vec<String>,
}

/// `kmodcheck bench`.
pub fn run(args: Args) -> Result<ExitCode, CliError> {
    let Args {
        dir,
        dfs_seconds,
        pct_samples,
        series_seconds,
        compare,
        skip_cells,
        skip_cargo_test,
    } = args;
    let mut builds = Vec::new();
    for c in &compare {
        let Some((name, path)) = c.split_once('=') else {
            return Err(CliError(format!("--compare takes NAME=PATH; got {c:?}")));
        };
        let path = std::path::PathBuf::from(path);
        if !path.is_file() {
            return Err(CliError(format!(
                "--compare {name}: no executable at {}",
                path.display()
            )));
        }
        builds.push((name.to_string(), path));
    }
    let exe = std::env::current_exe()
        .map_err(|e| CliError(format!("cannot find this executable; error={e}")))?;
    let o = kmodcheck::bench::BenchOptions {
        dfs_budget: std::time::Duration::from_secs(dfs_seconds),
        pct_samples,
        series_budget: std::time::Duration::from_secs(series_seconds),
        jobs: kmodcheck::jobs_from_env(),
        compare: builds,
        skip_cells,
        skip_cargo_test,
    };
    let r = kmodcheck::bench::run_bench(&exe, &o);
    let md = kmodcheck::bench::performance_markdown(&r, &o);
    let mut files = vec![("performance.md".to_string(), md)];
    files.extend(kmodcheck::bench::series_charts(&r));
    for (name, text) in &files {
        std::fs::create_dir_all(&dir)
            .and_then(|_| std::fs::write(dir.join(name), text))
            .map_err(|e| {
                CliError(format!(
                    "cannot write {}; error={e}",
                    dir.join(name).display()
                ))
            })?;
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
    Ok(ExitCode::SUCCESS)
}

/// `kmodcheck bench-cell ...` (internal).
pub fn run_cell(args: CellArgs) -> Result<ExitCode, CliError> {
    let job = kmodcheck::bench::Job::parse(&args.args)?;
    let cost = kmodcheck::bench::run_job(&job);
    println!(
        "{}",
        serde_json::to_string(&cost).expect("a CellCost serialises")
    );
    Ok(ExitCode::SUCCESS)
}
