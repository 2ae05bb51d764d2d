//! `kmodcheck fuzz`: the regression property suites on generated
//! scenarios against a variant; a failure is shrunk and printed as a
//! scenario file.

use super::CliError;
use kmodcheck::model::variant;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Instant;

#[derive(clap::Args)]
pub struct Args {
    /// The variant under test (a proposal, a kernel, LOADER+BUDGET).
    #[arg(long)]
    pub variant: String,
    /// Only these suites (repeat the flag); default: all four.
    #[arg(long)]
    pub suite: Vec<String>,
    /// Generated cases per suite that must pass (default: PROPTEST_CASES,
    /// else each suite's default: 16, 16, 12, 32).
    #[arg(long, value_name = "N", value_parser = super::env::whole::<u32>("--cases", "cases", "16"))]
    pub cases: Option<u32>,
    /// Generator seed: the same seed generates the same cases.
    #[arg(long, default_value_t = 0x6b6d6f64, value_name = "SEED",
          value_parser = super::env::whole::<u64>("--seed", "", "42"))]
    pub seed: u64,
    /// loom's execution bound per run (engine agreement); a case that
    /// hits it is compared only on what was sampled.
    #[arg(long, default_value_t = 20_000, value_name = "N",
          value_parser = super::env::whole::<usize>("--max-executions", "executions", "1000"))]
    pub max_executions: usize,
    /// The stateful engine's bound per run, in states; a case that hits
    /// it is skipped.
    #[arg(long, default_value_t = 2_000, value_name = "N",
          value_parser = super::env::whole::<usize>("--max-states", "states", "2000"))]
    pub max_states: usize,
    /// Save each failing case's seed in DIR/fuzz-SUITE-VARIANT.txt, and run
    /// the cases saved there first, before any new one (proptest's
    /// regression files; commit them to keep a failure found once).
    #[arg(long, value_name = "DIR")]
    pub regressions: Option<std::path::PathBuf>,
}

/// `kmodcheck fuzz --variant V`.
pub fn run(args: Args) -> Result<ExitCode, CliError> {
    use kmodcheck::fuzz::{self, Suite};
    let Args {
        variant: vid,
        suite: suites,
        cases,
        seed,
        max_executions,
        max_states,
        regressions,
    } = args;
    if let Some(dir) = &regressions {
        std::fs::create_dir_all(dir).map_err(|e| {
            CliError::from(format!(
                "cannot create the regressions directory {}: {e}",
                dir.display()
            ))
        })?;
    }
    let Some(v) = variant::by_id(&vid) else {
        return Err(kmodcheck::suggest::unknown_variant(&vid).into());
    };
    let mut chosen = Vec::new();
    for s in &suites {
        match Suite::parse(s) {
            Some(x) => chosen.push(x),
            None => {
                return Err(format!(
                    "unknown suite; suite={s}, expected one of: {}{}",
                    Suite::ALL.map(Suite::name).join(", "),
                    kmodcheck::suggest::did_you_mean(s, Suite::ALL.map(Suite::name))
                )
                .into());
            }
        }
    }
    if chosen.is_empty() {
        chosen = Suite::ALL.to_vec();
    }
    let tty = std::io::stderr().is_terminal();
    let mut failed = false;
    for suite in chosen {
        let start = Instant::now();
        let opts = fuzz::FuzzOptions {
            cases: cases.unwrap_or_else(|| fuzz::cases_from_env(suite.default_cases())),
            seed,
            max_executions,
            max_states,
            // proptest keeps the path for the whole run: one small leak per
            // suite run.
            persist: regressions.as_ref().map(|dir| {
                let file = dir.join(format!(
                    "fuzz-{}-{}.txt",
                    suite.name(),
                    v.id.replace('+', "_")
                ));
                &*Box::leak(file.display().to_string().into_boxed_str())
            }),
            progress: Some(std::sync::Arc::new(move |line: &str| {
                if tty {
                    eprint!("\r\x1b[2K{}", kmodcheck::progress_fit(line));
                } else {
                    eprintln!("{line}");
                }
            })),
            ..fuzz::FuzzOptions::default()
        };
        let r = fuzz::run_suite(suite, v, &opts);
        if tty {
            eprintln!();
        }
        let head = format!(
            "{} × {}: {} cases passed, {} skipped at the bound of {max_executions} executions{}, {} executions, {:.1} s (seed {seed})",
            suite.name(),
            v.id,
            r.passed,
            r.skipped,
            if r.partial > 0 {
                format!(", {} checked by sampling only (loom or shuttle DFS did not finish)", r.partial)
            } else {
                String::new()
            },
            r.executions,
            start.elapsed().as_secs_f64()
        );
        match &r.failure {
            None => println!("{head}: ok"),
            Some(f) => {
                failed = true;
                println!("{head}: FAILED\n  {}", f.message.replace('\n', "\n  "));
                if let Some(t) = &f.toml {
                    println!("  smallest failing scenario (save it and run `kmodcheck check --variant {} --scenario FILE.toml`):\n", v.id);
                    println!("{t}");
                }
                match &regressions {
                    Some(dir) => println!(
                        "  its seed is saved under {}, and runs first next time",
                        dir.display()
                    ),
                    None => println!(
                        "  not saved: with --regressions DIR the failing case is kept and runs first next time"
                    ),
                }
            }
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
