//! `kmodcheck check`: one variant on one scenario, its verdicts and
//! counterexamples; the exit status follows the verdicts.

use super::output::{cell_text, clear_progress, exit_code, paint, progress_line};
use super::{CliError, Globals};
use kmodcheck::engine::{check_cell, EngineKind};
use kmodcheck::model::variant;
use kmodcheck::report;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Variant id (see `list`).
    #[arg(long)]
    pub variant: String,
    /// Scenario: a built-in name (see `list`) or a scenario file, FILE.toml
    /// (format in the README, "Scenario files").
    #[arg(long)]
    pub scenario: String,
    /// stateful (the default: exhaustive, no thread limit), loom
    /// (exhaustive; at most 5 threads), shuttle-dfs, shuttle-pct or
    /// shuttle-random (sampled: never a proof).
    #[arg(long)]
    pub engine: Option<String>,
    /// Stop after N executions (the run is then not exhaustive).
    #[arg(long, value_name = "N",
          value_parser = super::env::whole::<usize>("--max-executions", "executions", "1000"))]
    pub max_executions: Option<usize>,
    /// The stateful engine: stop after N distinct states (the run is then
    /// not exhaustive).
    #[arg(long, value_name = "N",
          value_parser = super::env::whole::<usize>("--max-states", "states", "100000"))]
    pub max_states: Option<usize>,
    /// The stateful engine: do not merge renamings of interchangeable
    /// actors (slower; the same verdicts).
    #[arg(long)]
    pub no_symmetry: bool,
    /// Check only this property of the scenario (see `list`).
    #[arg(long)]
    pub property: Option<String>,
    /// Bound loom's preemptions per execution (LOOM_MAX_PREEMPTIONS); the
    /// run is then not exhaustive, and "holds" is not a proof.
    #[arg(long, value_name = "K",
          value_parser = super::env::whole::<usize>("--preemption-bound", "preemptions", "2"))]
    pub preemption_bound: Option<usize>,
    /// Seed of shuttle-pct and shuttle-random (SHUTTLE_RANDOM_SEED).
    #[arg(long, value_name = "SEED", value_parser = super::env::whole::<u64>("--seed", "", "42"))]
    pub seed: Option<u64>,
}

/// `kmodcheck check --variant V --scenario S`.
pub fn run(args: Args, g: &Globals) -> Result<ExitCode, CliError> {
    let Args {
        variant: vid,
        scenario: sname,
        engine,
        max_executions,
        max_states,
        no_symmetry,
        property,
        preemption_bound,
        seed,
    } = args;
    let Some(v) = variant::by_id(&vid) else {
        return Err(kmodcheck::suggest::unknown_variant(&vid).into());
    };
    let named = kmodcheck::scenario_file::resolve(&sname)?;
    let mut s = named.scenario.clone();
    if let Some(p) = property {
        if !s.properties.contains(&p) {
            return Err(CliError(format!(
                "scenario {} does not check {p:?}; it checks: {}{}",
                s.name,
                s.properties.join(", "),
                kmodcheck::suggest::did_you_mean(&p, s.properties.iter().map(String::as_str))
            )));
        }
        s.properties = vec![p];
    }
    let mut o = g.opts.clone();
    o.time_limit = g.budget();
    // A flag wins over the environment.
    if preemption_bound.is_some() {
        o.preemption_bound = preemption_bound;
    }
    if let Some(seed) = seed {
        o.seed = seed;
    }
    if let Some(e) = engine {
        o.engine = Some(e.parse::<EngineKind>()?);
    }
    // loom's thread limit, located in the scenario's file.
    // The file as the user named it, not the absolute path the replay
    // handles carry.
    if let (Some(EngineKind::Loom), Some(_)) = (o.engine, &named.file) {
        kmodcheck::scenario_file::fits_loom(std::path::Path::new(&sname))
            .map_err(|e| CliError(e.to_string()))?;
    }
    o.max_executions = max_executions;
    o.max_states = max_states;
    o.symmetry = !no_symmetry;
    o.progress = Some(progress_line(
        format!("{} × {}", v.id, s.name),
        max_executions,
    ));
    // Time passes under a timed proposal whatever the scenario says
    // (README, "Time"): said once, on stderr, so that a reader of the
    // verdicts below knows the scenario was not checked as written.
    if !s.timer && v.needs_time() {
        eprintln!(
            "kmodcheck: note: time passes in {} under {}, although the scenario has no timer: the timeout is the proposal (README, \"Time\"){}",
            s.name,
            v.id,
            if s.expect.is_empty() {
                ""
            } else {
                "; the results the scenario states were stated without time and are not applied"
            }
        );
    }
    let r = check_cell(v, &s, &o);
    clear_progress();
    let mut c = r?;
    named.retarget(&mut c);
    if g.json {
        for l in report::json_lines(&c) {
            println!("{l}");
        }
    } else {
        let width = super::width::text_width();
        print!(
            "{}",
            paint(&kmodcheck::explain::wrap_at(&cell_text(&c, width), width))
        );
    }
    Ok(exit_code(std::slice::from_ref(&c)))
}
