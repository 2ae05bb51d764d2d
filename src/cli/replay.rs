//! `kmodcheck replay HANDLE`: one execution again, with its trace and its
//! verdict; exit 1 when it violates a property.

use super::{CliError, Globals};
use kmodcheck::engine::replay;
use kmodcheck::model::scenario;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// The handle printed with the counterexample.
    pub handle: String,
}

/// `kmodcheck replay HANDLE`.
pub fn run(args: Args, g: &Globals) -> Result<ExitCode, CliError> {
    let handle = args.handle;
    let r = replay(&handle, &scenario::catalogue())?;
    if g.json {
        let o = serde_json::json!({
            "handle": handle,
            "violations": r.violations.iter().map(|(p, m)| serde_json::json!({"property": p, "message": m})).collect::<Vec<_>>(),
            "cycle": r.cycle,
            "completed": r.completed,
            "checked": r.checked,
            "verdict": r.verdict(),
            "trace": r.record.render(),
        });
        println!("{o}");
    } else {
        for (p, m) in &r.violations {
            print!(
                "{}",
                kmodcheck::explain::wrap(&format!("{p} violated: {m}"))
            );
        }
        println!();
        print!("{}", r.record.render());
        if let Some(c) = &r.cycle {
            println!("\nwait-for cycle:");
            for l in c {
                println!("  {l}");
            }
        }
        println!();
        print!("{}", kmodcheck::explain::wrap(&r.verdict()));
    }
    Ok(if r.violations.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
