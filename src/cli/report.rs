//! `kmodcheck report`: the whole catalogue written as reports/matrix.md,
//! reports/index.html and reports/counterexamples/*.md, or some scenarios
//! into a directory of their own (its index.html with them).

use super::{check_named, CliError, Globals};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Directory to write.
    #[arg(long, default_value = "reports")]
    pub dir: std::path::PathBuf,
    /// Only these scenarios (built-in names or FILE.toml); repeat the flag
    /// for several. `reports/` itself is the whole catalogue, so a partial
    /// report needs its own --dir, and removes nothing there.
    #[arg(long)]
    pub scenario: Vec<String>,
}

/// `kmodcheck report`.
pub fn run(args: Args, g: &Globals) -> Result<ExitCode, CliError> {
    let Args { dir, scenario } = args;
    // reports/ holds the whole catalogue, which tests hold it to: a
    // report of some scenarios would replace it with a part.
    let repo_reports = match (
        std::fs::canonicalize(&dir),
        std::fs::canonicalize("reports"),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => dir == std::path::Path::new("reports"),
    };
    if !scenario.is_empty() && repo_reports {
        return Err(CliError(
            "a report of some scenarios would replace reports/, which holds the whole catalogue; expected --dir DIR for a partial report (nothing was written)".into(),
        ));
    }
    let named = super::named(&scenario)?;
    let mut opts = g.opts.clone();
    kmodcheck::bound_for_catalogue(&mut opts);
    opts.time_limit = g.budget();
    let scenarios: Vec<_> = named.iter().map(|n| n.scenario.clone()).collect();
    let cells = check_named(&named, &opts)?;
    let files = kmodcheck::reports_for(&scenarios, &cells);
    if let Err(e) = kmodcheck::write_reports(&dir, &files, scenario.is_empty()) {
        return Err(CliError(format!(
            "cannot write reports; dir={}, error={e}",
            dir.display()
        )));
    }
    println!("wrote {} files under {}", files.len(), dir.display());
    Ok(ExitCode::SUCCESS)
}
