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
        let width = super::width::text_width();
        let wrap = |t: &str| kmodcheck::explain::wrap_at(t, width);
        for (p, m) in &r.violations {
            print!("{}", wrap(&format!("{p} violated: {m}")));
        }
        println!();
        print!("{}", r.record.render_at(width));
        if let Some(c) = &r.cycle {
            println!("\nwait-for cycle:");
            for l in c {
                print!("{}", wrap(&format!("  {l}")));
            }
        }
        println!();
        print!("{}", wrap(&r.verdict()));
    }
    Ok(if r.violations.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
