//! `kmodcheck explain NAME`: a property, a variant or a scenario in words.

use super::{CliError, Globals};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// A property id, a variant id (LOADER+BUDGET too), a built-in
    /// scenario name or a scenario file.
    pub name: String,
}

/// `kmodcheck explain NAME`.
pub fn run(args: Args, g: &Globals) -> Result<ExitCode, CliError> {
    let e = kmodcheck::explain::explain_at(&args.name, super::width::text_width())?;
    if g.json {
        println!("{}", e.json);
    } else {
        print!("{}", e.text);
    }
    Ok(ExitCode::SUCCESS)
}
