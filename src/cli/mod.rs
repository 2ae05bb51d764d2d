//! The subcommands of `kmodcheck`, one module each. Each one's `run` returns
//! its exit status, or a [`CliError`]: bad input, exit status 2.

pub mod check;
pub mod diff;
pub mod env;
pub mod explain;
pub mod fuzz;
pub mod list;
pub mod man;
pub mod matrix;
pub mod output;
pub mod replay;
pub mod report;
pub mod width;

use kmodcheck::engine::{CellResult, CheckOptions};
use kmodcheck::scenario_file::Named;
use std::process::ExitCode;
use std::time::Duration;

/// Bad input, said in one line: an unknown name, a malformed flag,
/// scenario file or environment variable, a file that cannot be written.
/// `main` prints it after `kmodcheck: ` and exits with status 2.
#[derive(Debug)]
pub struct CliError(pub String);

impl CliError {
    /// The exit status of bad input.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(2)
    }
}

impl From<String> for CliError {
    fn from(message: String) -> Self {
        CliError(message)
    }
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What every subcommand may read: the global flags, and the engine
/// settings of the environment.
pub struct Globals {
    /// `--json`.
    pub json: bool,
    /// `--time-limit SECONDS`.
    pub time_limit: Option<u64>,
    /// Defaults, with the environment's LOOM_MAX_PREEMPTIONS,
    /// LOOM_MAX_BRANCHES and SHUTTLE_RANDOM_SEED.
    pub opts: CheckOptions,
}

impl Globals {
    /// The wall-time budget per cell (`--time-limit`; 0 is none).
    pub fn budget(&self) -> Option<Duration> {
        match self.time_limit {
            Some(0) | None => None,
            Some(s) => Some(Duration::from_secs(s)),
        }
    }
}

/// Resolve a `--scenario` list (none: the whole catalogue).
pub fn named(names: &[String]) -> Result<Vec<Named>, CliError> {
    Ok(kmodcheck::scenario_file::resolve_all(names)?)
}

/// Check the named scenarios under the matrix's columns; handles of a
/// scenario read from a file name the file.
pub fn check_named(named: &[Named], opts: &CheckOptions) -> Result<Vec<CellResult>, CliError> {
    let scenarios: Vec<_> = named.iter().map(|n| n.scenario.clone()).collect();
    let mut cells = kmodcheck::check_scenarios(&scenarios, opts, true)?;
    retarget_all(named, &mut cells);
    Ok(cells)
}

/// Point the handles of each cell whose scenario was read from a file at
/// that file.
pub fn retarget_all(named: &[Named], cells: &mut [CellResult]) {
    for c in cells {
        if let Some(n) = named.iter().find(|n| n.scenario.name == c.scenario) {
            n.retarget(c);
        }
    }
}
