//! `kmodcheck matrix`: the whole catalogue (or some scenarios) under the
//! matrix's columns, as the verdict matrix.

use super::output::paint;
use super::{check_named, CliError, Globals};
use kmodcheck::model::variant;
use kmodcheck::report;
use std::process::ExitCode;
use std::time::Instant;

#[derive(clap::Args)]
pub struct Args {
    /// Only these scenarios (built-in names or FILE.toml); repeat the flag
    /// for several.
    #[arg(long)]
    pub scenario: Vec<String>,
}

/// `kmodcheck matrix` (and `kmodcheck` alone).
pub fn run(args: Args, g: &Globals) -> Result<ExitCode, CliError> {
    let named = super::named(&args.scenario)?;
    let mut opts = g.opts.clone();
    kmodcheck::bound_for_catalogue(&mut opts);
    opts.time_limit = g.budget();
    let opts = &opts;
    let named = &named[..];
    let json = g.json;
    let start = Instant::now();
    let scenarios: Vec<_> = named.iter().map(|n| n.scenario.clone()).collect();
    let cells = check_named(named, opts)?;
    if json {
        for c in &cells {
            for l in report::json_lines(c) {
                println!("{l}");
            }
        }
    } else {
        print!(
            "{}",
            paint(&report::matrix(
                &variant::matrix_columns(),
                &scenarios,
                &cells
            ))
        );
        let execs: usize = cells.iter().map(|c| c.executions).sum();
        let states: u64 = cells
            .iter()
            .filter_map(|c| c.states.as_ref().map(|s| s.states))
            .sum();
        let exhaustive = cells.iter().filter(|c| c.exhaustive).count();
        println!(
            "\n{} cells ({exhaustive} exhaustive), {} states, {} executions, {:.1} s wall time\n",
            cells.len(),
            report::thousands(states as usize),
            report::thousands(execs),
            start.elapsed().as_secs_f64()
        );
        let kills = report::kill_summary(&cells);
        if !kills.is_empty() {
            println!("mutation suite (seeded bugs; reports/mutants.md):");
            println!("{kills}");
        }
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
    Ok(ExitCode::SUCCESS)
}
