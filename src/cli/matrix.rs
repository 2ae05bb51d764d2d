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
        // A terminal (or COLUMNS) narrower than the matrix gets it in
        // blocks of columns, and its notes wrapped; a pipe, the whole.
        let width = super::width::columns();
        let text_width = width.map(kmodcheck::explain::text_width_of);
        // Lines of notes: wrapped under their label, or, where a line has
        // none (`V × S × P: why`), with its continuation indented by 4.
        let fit = |text: &str| match text_width {
            None => text.to_string(),
            Some(tw) => text
                .lines()
                .map(|l| {
                    if l.starts_with("    replay: ") {
                        // A handle is copied whole, with its label.
                        format!("{l}\n")
                    } else if l.starts_with(' ') {
                        kmodcheck::explain::wrap_at(l, tw)
                    } else {
                        kmodcheck::explain::wrap_hanging(l, 0, 4, tw)
                    }
                })
                .collect(),
        };
        print!(
            "{}",
            paint(&report::matrix_fit(
                &variant::matrix_columns(),
                &scenarios,
                &cells,
                width
            ))
        );
        let execs: usize = cells.iter().map(|c| c.executions).sum();
        let states: u64 = cells
            .iter()
            .filter_map(|c| c.states.as_ref().map(|s| s.states))
            .sum();
        let exhaustive = cells.iter().filter(|c| c.exhaustive).count();
        println!(
            "\n{}",
            fit(&format!(
                "{} cells ({exhaustive} exhaustive), {} states, {} executions, {:.1} s wall time\n",
                cells.len(),
                report::thousands(states as usize),
                report::thousands(execs),
                start.elapsed().as_secs_f64()
            ))
        );
        let kills = report::kill_summary(&cells);
        if !kills.is_empty() {
            print!(
                "{}",
                fit("mutation suite (seeded bugs; reports/mutants.md):\n")
            );
            println!("{}", fit(&kills));
        }
        print!(
            "{}",
            fit("violations (replay any with `kmodcheck replay HANDLE`):\n")
        );
        print!("{}", fit(&report::violations_summary(&cells)));
        let inc = report::inconclusive_summary(&cells);
        if !inc.is_empty() {
            println!("\ninconclusive:");
            print!("{}", fit(&inc));
        }
    }
    // The matrix is the product: it holds violations by design (history).
    // Exit 0 once every cell was checked; `check` has verdict exit codes.
    Ok(ExitCode::SUCCESS)
}
