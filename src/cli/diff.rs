//! `kmodcheck diff OLD NEW`: every scenario under two variants, the
//! verdicts that differ, the counterexample of each new violation, and the
//! totals; the exit status says whether NEW adds a violation.

use super::output::{paint, verdict_line};
use super::{CliError, Globals};
use kmodcheck::engine::{CellResult, Verdict};
use kmodcheck::model::variant;
use kmodcheck::report;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// The variant before the change (e.g. idempotent-interruptible).
    pub old: String,
    /// The variant after it (e.g. recursion-aware, or LOADER+BUDGET).
    pub new: String,
    /// Only these scenarios (built-in names or FILE.toml), instead of the
    /// whole catalogue; repeat the flag for several.
    #[arg(long)]
    pub scenario: Vec<String>,
}

/// What a diff found, verdict by verdict (scenario × property).
#[derive(Default)]
struct DiffTotals {
    compared: usize,
    fixed: usize,
    newly_violated: usize,
    changed_otherwise: usize,
    /// Verdicts of NEW from a run that was not exhaustive (sampled, or
    /// stopped by a bound) and found no violation where OLD had none: a
    /// violation NEW adds could hide there. (An inconclusive verdict of an
    /// exhaustive run is vacuous: nothing can hide in it.)
    unproved: usize,
}

impl DiffTotals {
    fn add(&mut self, old: &Verdict, new: &Verdict, new_exhaustive: bool) {
        self.compared += 1;
        let violated = |v: &Verdict| matches!(v, Verdict::Violated(_));
        if !new_exhaustive && !violated(old) && !violated(new) {
            self.unproved += 1;
        }
        if old.kind() == new.kind() {
            return;
        }
        match (violated(old), violated(new), new) {
            (true, false, Verdict::Holds { .. }) => self.fixed += 1,
            (false, true, _) => self.newly_violated += 1,
            _ => self.changed_otherwise += 1,
        }
    }

    fn line(&self, scenarios: usize) -> String {
        let scenarios = match scenarios {
            1 => "1 scenario × its properties".to_string(),
            n => format!("{n} scenarios × their properties"),
        };
        format!(
            "{} verdicts compared ({scenarios}): {} fixed, {} newly violated, {} changed otherwise",
            self.compared, self.fixed, self.newly_violated, self.changed_otherwise
        )
    }

    /// 1 when NEW adds a violation, 3 when none was found but some verdict
    /// of NEW comes from a run that was not exhaustive, 0 otherwise.
    fn exit_code(&self) -> ExitCode {
        if self.newly_violated > 0 {
            ExitCode::from(1)
        } else if self.unproved > 0 {
            ExitCode::from(3)
        } else {
            ExitCode::SUCCESS
        }
    }
}

/// `kmodcheck diff OLD NEW`.
pub fn run(args: Args, g: &Globals) -> Result<ExitCode, CliError> {
    let (Some(old), Some(new)) = (variant::by_id(&args.old), variant::by_id(&args.new)) else {
        let bad = if variant::by_id(&args.old).is_none() {
            &args.old
        } else {
            &args.new
        };
        return Err(kmodcheck::suggest::unknown_variant(bad).into());
    };
    let named = super::named(&args.scenario)?;
    let mut opts = g.opts.clone();
    kmodcheck::bound_for_catalogue(&mut opts);
    opts.time_limit = g.budget();
    let (scenarios, opts, json) = (&named[..], &opts, g.json);
    // A terminal (or COLUMNS) sets the width; a pipe gets the output of
    // before: 100 columns, counterexamples as they are.
    let columns = super::width::columns();
    let width = super::width::text_width();
    let wrap = |t: &str| kmodcheck::explain::wrap_at(t, width);
    let mut totals = DiffTotals::default();
    let mut new_violations = Vec::new();
    if !json {
        println!("{} → {}\n", old.id, new.id);
    }
    // Every scenario under OLD, then NEW, on all cores, as the matrix
    // checks its columns: NEW takes OLD's search when it has OLD's value of
    // every policy that search read (`same_search` in src/lib.rs), since it
    // would take the same steps.
    let pairs: Vec<_> = scenarios
        .iter()
        .flat_map(|n| [(old, n.scenario.clone()), (new, n.scenario.clone())])
        .collect();
    let mut results = kmodcheck::check_columns(pairs, opts, true)?;
    super::retarget_all(scenarios, &mut results);
    for (named, cells) in scenarios.iter().zip(results.chunks(2)) {
        let s = &named.scenario;
        let (co, cn) = (&cells[0], &cells[1]);
        for (po, pn) in co.properties.iter().zip(&cn.properties) {
            totals.add(&po.verdict, &pn.verdict, cn.exhaustive);
            if po.verdict.kind() == pn.verdict.kind() {
                continue;
            }
            if json {
                let side = |c: &CellResult, v: &Verdict| {
                    let mut o = serde_json::json!({
                        "variant": c.variant, "verdict": v.kind(), "engine": c.engine.name(),
                        "exhaustive": c.exhaustive, "executions": c.executions,
                    });
                    match v {
                        Verdict::Violated(ce) => {
                            o["message"] = serde_json::json!(ce.message);
                            o["trace"] = serde_json::json!(ce.trace);
                            o["replay"] = serde_json::json!(ce.replay);
                        }
                        Verdict::Inconclusive { reason } => o["reason"] = serde_json::json!(reason),
                        Verdict::Holds { .. } => {}
                    }
                    o
                };
                println!(
                    "{}",
                    serde_json::json!({
                        "scenario": s.name, "property": po.property,
                        "old": side(co, &po.verdict), "new": side(cn, &pn.verdict),
                    })
                );
                continue;
            }
            println!("{} × {}", s.name, po.property);
            for (v, c, verdict) in [(old.id, co, &po.verdict), (new.id, cn, &pn.verdict)] {
                let line = format!("  {v}:  {}", verdict_line(c, verdict));
                print!("{}", paint(&wrap(&line)));
            }
            if matches!(pn.verdict, Verdict::Violated(_)) {
                new_violations.push((cn.clone(), pn.property));
            }
        }
    }
    if json {
        return Ok(totals.exit_code());
    }
    if totals.fixed + totals.newly_violated + totals.changed_otherwise == 0 {
        println!("no verdict differs");
    }
    for (c, p) in &new_violations {
        println!("\n{}", "-".repeat(width));
        let text = match columns {
            Some(_) => report::counterexample_text_at(c, p, width),
            None => report::counterexample_text(c, p),
        };
        if let Some(t) = text {
            println!("{t}");
        }
    }
    println!("\n{}", wrap(&totals.line(scenarios.len())).trim_end());
    if totals.unproved > 0 {
        println!(
            "{}",
            wrap(&format!(
                "{} verdicts of {} come from a run that was not exhaustive (sampled, or stopped by a bound): a violation it adds could be missed there",
                totals.unproved, new.id
            ))
            .trim_end()
        );
    }
    Ok(totals.exit_code())
}
