//! `kmodcheck`: check the built-in catalogue and print the verdict matrix.
//!
//! `cargo run --release` with no arguments is the main job: every variant ×
//! scenario × property, with progress on stderr. See `--help`. Each
//! subcommand is a module of `cli`.

mod cli;

use clap::{CommandFactory, Parser, Subcommand};
use cli::{CliError, Globals};
use kmodcheck::engine::CheckOptions;
use std::process::ExitCode;

/// Model checker for Linux module-loading concurrency: the finit_module
/// in-flight table, the module list's name check, and request_module's
/// kmod budget, explored exhaustively by kmodcheck's stateful engine
/// (cross-checked with loom; shuttle samples).
#[derive(Parser)]
#[command(
    version,
    about,
    after_help = "Exit status and environment variables: see --help.",
    after_long_help = cli::man::AFTER_LONG_HELP
)]
struct Cli {
    /// Print one JSON object per line per (variant, scenario, property).
    #[arg(long, global = true)]
    json: bool,
    /// Wall-time budget per cell, in seconds (0: none). A cell that runs out
    /// is inconclusive and says how far it got. The matrix, diff and report
    /// bound a loom or shuttle cell by executions instead (1,100,000 of
    /// them), which gives the same result on every machine; the stateful
    /// engine's search needs no bound for that.
    #[arg(long, global = true, value_name = "SECONDS",
          value_parser = cli::env::whole::<u64>("--time-limit", "seconds", "60"))]
    time_limit: Option<u64>,
    #[command(subcommand)]
    cmd: Option<Cmd>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Check the whole built-in catalogue and print the verdict matrix (the default).
    Matrix(cli::matrix::Args),
    /// Check every scenario under two variants and list the verdicts that
    /// differ
    ///
    /// Each verdict that differs comes with the counterexample of each new
    /// violation: what a reviewer reads first about a fix. Ends with the totals: verdicts
    /// compared, fixed, newly violated, changed otherwise. Exit 0 when NEW
    /// adds no violation, 1 when it adds one, 3 when none was found but some
    /// run of NEW was not exhaustive (sampled, or stopped by a bound).
    Diff(cli::diff::Args),
    /// Check the whole catalogue and write reports/: matrix.md, index.html
    /// (one page, offline) and counterexamples/*.md (the test suite checks
    /// they are current).
    Report(cli::report::Args),
    /// Check one variant on one scenario and print its verdicts and
    /// counterexamples
    ///
    /// Exit 0 when every property is proved, 1 when one is
    /// violated, 3 when none is violated but some verdict is not a proof
    /// (inconclusive, or found nothing in a sampled or bounded run).
    Check(cli::check::Args),
    /// Replay a counterexample from its handle and print its trace.
    Replay(cli::replay::Args),
    /// List variants, scenarios and properties, each with its summary and
    /// kernel reference.
    List,
    /// Explain a property, a variant or a scenario: what it states or
    /// changes, why, and the kernel references.
    Explain(cli::explain::Args),
    /// Write the manual page, in roff, to stdout: `kmodcheck man > kmodcheck.1`
    ///
    /// With --dir, write kmodcheck.1 and one page per subcommand
    /// (kmodcheck-check.1, ...) into that directory instead.
    Man(cli::man::Args),
    /// Write the completion script of a shell to stdout: `kmodcheck
    /// completions bash > /etc/bash_completion.d/kmodcheck`
    Completions(cli::man::CompletionsArgs),
    /// Run the regression property suites on generated scenarios against a
    /// variant: differential, metamorphic, engine-agreement, no-deadlock
    ///
    /// A failure is shrunk and printed as a scenario file. Exit 1 if a suite
    /// fails.
    Fuzz(cli::fuzz::Args),
}

fn main() -> ExitCode {
    // `kmodcheck list | head` ends quietly, as other command-line tools do,
    // instead of panicking on the closed pipe: restore SIGPIPE's default,
    // which Rust's runtime sets to "ignore".
    #[cfg(unix)]
    // SAFETY: called first in main, before any other thread exists; SIG_DFL
    // is a valid disposition for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("kmodcheck: {e}");
            e.exit_code()
        }
    }
}

/// The environment checked, then the subcommand (the matrix by default).
fn run(cli: Cli) -> Result<ExitCode, CliError> {
    cli::env::check_environment()?;
    let g = Globals {
        json: cli.json,
        time_limit: cli.time_limit,
        opts: CheckOptions::from_env()?,
    };
    match cli
        .cmd
        .unwrap_or(Cmd::Matrix(cli::matrix::Args { scenario: vec![] }))
    {
        Cmd::Matrix(a) => cli::matrix::run(a, &g),
        Cmd::Diff(a) => cli::diff::run(a, &g),
        Cmd::Report(a) => cli::report::run(a, &g),
        Cmd::Check(a) => cli::check::run(a, &g),
        Cmd::Replay(a) => cli::replay::run(a, &g),
        Cmd::List => cli::list::run(&g),
        Cmd::Explain(a) => cli::explain::run(a, &g),
        Cmd::Fuzz(a) => cli::fuzz::run(a),
        Cmd::Man(a) => cli::man::run(a, Cli::command()),
        Cmd::Completions(a) => cli::man::run_completions(a, Cli::command()),
    }
}
