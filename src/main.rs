//! `kmodcheck`: check the built-in catalogue and print the verdict matrix.
//!
//! `cargo run --release` with no arguments is the main job: every variant ×
//! scenario × property, with progress on stderr. See `--help`.

use clap::{CommandFactory, Parser, Subcommand};
use kmodcheck::engine::{
    check_cell, replay, CellResult, CheckOptions, EngineKind, Progress, Verdict,
};
use kmodcheck::model::{scenario, variant};
use kmodcheck::report;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

/// The end of `kmodcheck --help`: what a script or CI job needs besides the
/// flags.
const AFTER_LONG_HELP: &str = "\
Exit status:
  0  nothing violated, and every verdict is a proof (check); NEW adds no
     violation (diff); the replayed execution violates nothing (replay);
     every suite passed (fuzz); done (matrix, report, list, explain, bench)
  1  a property is violated (check, replay); NEW adds a violation (diff);
     a suite failed (fuzz)
  2  bad input: an unknown name, a malformed flag, scenario file or
     environment variable, a report that cannot be written
  3  nothing violated, but some verdict is not a proof: inconclusive, or a
     sampled or bounded run that found nothing (check); a run of NEW that
     was not exhaustive (diff)
  The matrix holds violations by design: it exits 0 once every cell was
  checked.

Environment:
  KMODCHECK_JOBS          cells checked at once by matrix, report and bench
                          (a whole number, 1 or more; default: the number of
                          cores)
  LOOM_MAX_PREEMPTIONS    bound loom's preemptions per execution, as
                          --preemption-bound (the run is then not exhaustive)
  LOOM_MAX_BRANCHES       loom's limit of branches per execution (default
                          10000)
  SHUTTLE_RANDOM_SEED     seed of shuttle-pct and shuttle-random, as --seed
  KMODCHECK_FP_SEED       seed of the stateful engine's state fingerprints
                          (default: a new one each run); set it to repeat a
                          run exactly, fingerprint collisions included
  PROPTEST_CASES          fuzz: cases per suite when --cases is not given
  NO_COLOR                set and not empty: no colour, also on a terminal
  CARGO                   bench: the cargo that times `cargo test --release`
                          (default: cargo on PATH)
  LOOM_LOG, LOOM_LOCATION, SHUTTLE_CAPTURE_BACKTRACE
                          loom's and shuttle's own debugging aids, passed to
                          them; kmodcheck prints its own traces
  SHUTTLE_ALWAYS_PERSIST_SEED
                          shuttle-random writes each execution's seed to this
                          file (shuttle's own; replay handles say more)
  LOOM_MAX_PERMUTATIONS, LOOM_MAX_DURATION, LOOM_CHECKPOINT_INTERVAL,
  LOOM_CHECKPOINT_FILE
                          refused: kmodcheck makes these loom settings
                          itself; use --max-executions and --time-limit
  A malformed value of any of these is refused with exit status 2.
  fuzz also hands proptest its other PROPTEST_* settings (proptest's
  documentation); kmodcheck sets the cases, rejections, shrinking and seed.
";

/// Model checker for Linux module-loading concurrency: the finit_module
/// in-flight table, the module list's name check, and request_module's
/// kmod budget, explored exhaustively by kmodcheck's stateful engine
/// (cross-checked with loom; shuttle samples).
#[derive(Parser)]
#[command(
    version,
    about,
    after_help = "Exit status and environment variables: see --help.",
    after_long_help = AFTER_LONG_HELP
)]
struct Cli {
    /// Print one JSON object per line per (variant, scenario, property).
    #[arg(long, global = true)]
    json: bool,
    /// Wall-time budget per cell, in seconds (0: none). A cell that runs out
    /// is inconclusive and says how far it got. The matrix, diff and report
    /// bound a loom or shuttle cell by executions instead (1,100,000 of
    /// them), which gives the same result on every machine; the stateful
    /// engine's search needs no bound for that.
    #[arg(long, global = true, value_name = "SECONDS",
          value_parser = whole::<u64>("--time-limit", "seconds", "60"))]
    time_limit: Option<u64>,
    #[command(subcommand)]
    cmd: Option<Cmd>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Check the whole built-in catalogue and print the verdict matrix (the default).
    Matrix {
        /// Only these scenarios (built-in names or FILE.toml); repeat the flag
        /// for several.
        #[arg(long)]
        scenario: Vec<String>,
    },
    /// Check every scenario under two variants and list the verdicts that
    /// differ
    ///
    /// Each verdict that differs comes with the counterexample of each new
    /// violation: what a reviewer reads first about a fix. Ends with the totals: verdicts
    /// compared, fixed, newly violated, changed otherwise. Exit 0 when NEW
    /// adds no violation, 1 when it adds one, 3 when none was found but some
    /// run of NEW was not exhaustive (sampled, or stopped by a bound).
    Diff {
        /// The variant before the change (e.g. idempotent-interruptible).
        old: String,
        /// The variant after it (e.g. recursion-aware, or LOADER+BUDGET).
        new: String,
        /// Only these scenarios (built-in names or FILE.toml), instead of the
        /// whole catalogue; repeat the flag for several.
        #[arg(long)]
        scenario: Vec<String>,
    },
    /// Check the whole catalogue and write reports/matrix.md and
    /// reports/counterexamples/*.md (the test suite checks they are current).
    Report {
        /// Directory to write.
        #[arg(long, default_value = "reports")]
        dir: std::path::PathBuf,
        /// Only these scenarios (built-in names or FILE.toml); repeat the flag
        /// for several. `reports/` itself is the whole catalogue, so a partial
        /// report needs its own --dir, and removes nothing there.
        #[arg(long)]
        scenario: Vec<String>,
    },
    /// Check one variant on one scenario and print its verdicts and
    /// counterexamples
    ///
    /// Exit 0 when every property is proved, 1 when one is
    /// violated, 3 when none is violated but some verdict is not a proof
    /// (inconclusive, or found nothing in a sampled or bounded run).
    Check {
        /// Variant id (see `list`).
        #[arg(long)]
        variant: String,
        /// Scenario: a built-in name (see `list`) or a scenario file, FILE.toml
        /// (format in the README, "Scenario files").
        #[arg(long)]
        scenario: String,
        /// stateful (the default: exhaustive, no thread limit), loom
        /// (exhaustive; at most 5 threads), shuttle-dfs, shuttle-pct or
        /// shuttle-random (sampled: never a proof).
        #[arg(long)]
        engine: Option<String>,
        /// Stop after N executions (the run is then not exhaustive).
        #[arg(long, value_name = "N",
              value_parser = whole::<usize>("--max-executions", "executions", "1000"))]
        max_executions: Option<usize>,
        /// The stateful engine: stop after N distinct states (the run is then
        /// not exhaustive).
        #[arg(long, value_name = "N",
              value_parser = whole::<usize>("--max-states", "states", "100000"))]
        max_states: Option<usize>,
        /// The stateful engine: do not merge renamings of interchangeable
        /// actors (slower; the same verdicts).
        #[arg(long)]
        no_symmetry: bool,
        /// Check only this property of the scenario (see `list`).
        #[arg(long)]
        property: Option<String>,
        /// Bound loom's preemptions per execution (LOOM_MAX_PREEMPTIONS); the
        /// run is then not exhaustive, and "holds" is not a proof.
        #[arg(long, value_name = "K",
              value_parser = whole::<usize>("--preemption-bound", "preemptions", "2"))]
        preemption_bound: Option<usize>,
        /// Seed of shuttle-pct and shuttle-random (SHUTTLE_RANDOM_SEED).
        #[arg(long, value_name = "SEED", value_parser = whole::<u64>("--seed", "", "42"))]
        seed: Option<u64>,
    },
    /// Replay a counterexample from its handle and print its trace.
    Replay {
        /// The handle printed with the counterexample.
        handle: String,
    },
    /// List variants, scenarios and properties, each with its summary and
    /// kernel reference.
    List,
    /// Explain a property, a variant or a scenario: what it states or
    /// changes, why, and the kernel references.
    Explain {
        /// A property id, a variant id (LOADER+BUDGET too), a built-in
        /// scenario name or a scenario file.
        name: String,
    },
    /// Measure what each verdict costs and write reports/performance.md and
    /// its charts
    ///
    /// Measures the targets, the whole matrix's and a diff's wall time,
    /// the flagship counterexamples' time to violation, the scale series
    /// (concurrent-same-file N = 2..6, shared-dependency N = 2..4) under the
    /// stateful engine with and without symmetry and under loom, the
    /// two-loader cycle with timed waits, `cargo test`, and every cell under
    /// each engine, each measurement in its own process; and where
    /// concurrent-same-file's loom executions go. Takes about 20 minutes on
    /// 2 cores.
    Bench {
        /// Directory to write.
        #[arg(long, default_value = "reports")]
        dir: std::path::PathBuf,
        /// Seconds shuttle DFS may spend on a matrix cell before the cell is
        /// sampled with PCT instead.
        #[arg(long, default_value_t = 2, value_name = "SECONDS",
              value_parser = whole::<u64>("--dfs-seconds", "seconds", "2"))]
        dfs_seconds: u64,
        /// Executions of each shuttle PCT run.
        #[arg(long, default_value_t = 1000, value_name = "N",
              value_parser = whole::<usize>("--pct-samples", "executions", "1000"))]
        pct_samples: usize,
        /// Seconds each scale-series run may take (each engine).
        #[arg(long, default_value_t = 60, value_name = "SECONDS",
              value_parser = whole::<u64>("--series-seconds", "seconds", "60"))]
        series_seconds: u64,
        /// Another build to compare with this one on the probe cells, as
        /// NAME=PATH (repeat the flag for several), e.g.
        /// before=/tmp/kmodcheck-old.
        #[arg(long)]
        compare: Vec<String>,
        /// Skip the per-cell pass (the slowest part).
        #[arg(long)]
        skip_cells: bool,
        /// Do not time `cargo test --release` (which needs this binary's
        /// source tree and cargo).
        #[arg(long)]
        skip_cargo_test: bool,
    },
    /// Write the manual page, in roff, to stdout: `kmodcheck man > kmodcheck.1`
    ///
    /// With --dir, write kmodcheck.1 and one page per subcommand
    /// (kmodcheck-check.1, ...) into that directory instead.
    Man {
        /// Directory to write every page into.
        #[arg(long)]
        dir: Option<std::path::PathBuf>,
    },
    /// Write the completion script of a shell to stdout: `kmodcheck
    /// completions bash > /etc/bash_completion.d/kmodcheck`
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// One measurement of `bench`, in its own process (internal).
    #[command(hide = true)]
    BenchCell {
        /// VARIANT SCENARIO ENGINE MAX_EXECUTIONS TIME_LIMIT_MS SAMPLES
        args: Vec<String>,
    },
    /// Run the regression property suites on generated scenarios against a
    /// variant: differential, metamorphic, engine-agreement, no-deadlock
    ///
    /// A failure is shrunk and printed as a scenario file. Exit 1 if a suite
    /// fails.
    Fuzz {
        /// The variant under test (a proposal, a kernel, LOADER+BUDGET).
        #[arg(long)]
        variant: String,
        /// Only these suites (repeat the flag); default: all four.
        #[arg(long)]
        suite: Vec<String>,
        /// Generated cases per suite that must pass (default: PROPTEST_CASES,
        /// else each suite's default: 16, 16, 12, 32).
        #[arg(long, value_name = "N", value_parser = whole::<u32>("--cases", "cases", "16"))]
        cases: Option<u32>,
        /// Generator seed: the same seed generates the same cases.
        #[arg(long, default_value_t = 0x6b6d6f64, value_name = "SEED",
              value_parser = whole::<u64>("--seed", "", "42"))]
        seed: u64,
        /// loom's execution bound per run (engine agreement); a case that
        /// hits it is compared only on what was sampled.
        #[arg(long, default_value_t = 20_000, value_name = "N",
              value_parser = whole::<usize>("--max-executions", "executions", "1000"))]
        max_executions: usize,
        /// The stateful engine's bound per run, in states; a case that hits
        /// it is skipped.
        #[arg(long, default_value_t = 2_000, value_name = "N",
              value_parser = whole::<usize>("--max-states", "states", "2000"))]
        max_states: usize,
    },
}

/// The value parser of a numeric flag: what it takes, in words
/// ("--max-executions takes a whole number of executions, e.g. 1000"),
/// instead of Rust's ("invalid digit found in string").
fn whole<T: std::str::FromStr>(
    flag: &'static str,
    what: &'static str,
    example: &'static str,
) -> impl Fn(&str) -> Result<T, String> + Clone + Send + Sync + 'static {
    move |value: &str| {
        value.parse::<T>().map_err(|_| {
            let of = if what.is_empty() {
                String::new()
            } else {
                format!(" of {what}")
            };
            if !value.is_empty() && value.chars().all(|c| c.is_ascii_digit()) {
                format!("{flag} takes a whole number{of}, and {value} is too large for it")
            } else {
                format!("{flag} takes a whole number{of}, e.g. {flag} {example}")
            }
        })
    }
}

/// What an environment variable the binary reads takes.
enum Takes {
    /// A whole number from `min` to `max`; `what` says of what, `example`
    /// is a good value.
    Number {
        min: u64,
        max: u64,
        what: &'static str,
        example: &'static str,
    },
    /// Nothing: a loom setting kmodcheck makes itself; `instead` says what
    /// to use.
    Refused { instead: &'static str },
}

/// The environment variables whose value the binary (or loom, which it
/// runs) parses. NO_COLOR, CARGO, LOOM_LOG, LOOM_LOCATION and
/// SHUTTLE_CAPTURE_BACKTRACE take anything.
const ENVIRONMENT: &[(&str, Takes)] = &[
    (
        "KMODCHECK_JOBS",
        Takes::Number {
            min: 1,
            max: u64::MAX,
            what: "the number of cells to check at once",
            example: "2",
        },
    ),
    (
        "LOOM_MAX_PREEMPTIONS",
        Takes::Number {
            min: 0,
            max: u64::MAX,
            what: "the bound on loom's preemptions per execution",
            example: "2",
        },
    ),
    (
        "LOOM_MAX_BRANCHES",
        Takes::Number {
            min: 1,
            max: u64::MAX,
            what: "the bound on loom's branches per execution",
            example: "10000",
        },
    ),
    (
        "SHUTTLE_RANDOM_SEED",
        Takes::Number {
            min: 0,
            max: u64::MAX,
            what: "a seed for shuttle-pct and shuttle-random",
            example: "42",
        },
    ),
    (
        "KMODCHECK_FP_SEED",
        Takes::Number {
            min: 0,
            max: u64::MAX,
            what: "a seed for the stateful engine's fingerprints",
            example: "42",
        },
    ),
    (
        "PROPTEST_CASES",
        Takes::Number {
            min: 1,
            max: u32::MAX as u64,
            what: "the number of cases per fuzz suite",
            example: "16",
        },
    ),
    (
        "LOOM_MAX_PERMUTATIONS",
        Takes::Refused {
            instead: "use --max-executions N",
        },
    ),
    (
        "LOOM_MAX_DURATION",
        Takes::Refused {
            instead: "use --time-limit SECONDS",
        },
    ),
    (
        "LOOM_CHECKPOINT_INTERVAL",
        Takes::Refused {
            instead: "kmodcheck checks loom's bounds after every execution",
        },
    ),
    (
        "LOOM_CHECKPOINT_FILE",
        Takes::Refused {
            instead:
                "kmodcheck does not checkpoint loom; `kmodcheck replay HANDLE` reruns one execution",
        },
    ),
];

/// Check every environment variable of [`ENVIRONMENT`] that is set: a
/// value loom would panic on, or kmodcheck would silently ignore, is an
/// error naming the variable and what it takes.
fn check_environment() -> Result<(), String> {
    for (name, takes) in ENVIRONMENT {
        let Some(raw) = std::env::var_os(name) else {
            continue;
        };
        let value = raw.to_string_lossy();
        match takes {
            // No surrounding blanks: loom parses its variables as they are.
            Takes::Number {
                min,
                max,
                what,
                example,
            } => match value.parse::<u64>() {
                Ok(n) if (*min..=*max).contains(&n) => {}
                _ => {
                    let least = match (*min, *max) {
                        (0, u64::MAX) => String::new(),
                        (min, u64::MAX) => format!(" of {min} or more"),
                        (min, max) => format!(" from {min} to {max}"),
                    };
                    return Err(format!(
                        "{name}={value:?}: {name} takes {what}, a whole number{least} (e.g. {name}={example}), or unset it"
                    ));
                }
            },
            Takes::Refused { instead } => {
                return Err(format!(
                    "{name} is set ({value:?}), but kmodcheck makes this loom setting itself and would ignore it: unset {name}; {instead}"
                ));
            }
        }
    }
    Ok(())
}

/// Progress of one long cell on stderr. With both stdout and stderr on a
/// terminal: a bar redrawn in place, with executions, executions/s and, when
/// the run has an execution bound, how far to it. Otherwise (output piped,
/// CI logs): one plain line per report.
fn progress_line(what: String, bound: Option<usize>) -> Progress {
    let bar = std::io::stdout().is_terminal() && std::io::stderr().is_terminal();
    Progress(Arc::new(move |n, states, t| {
        let secs = t.as_secs_f64();
        let rate = if secs > 0.0 { n as f64 / secs } else { 0.0 };
        let states = states.map_or(String::new(), |s| format!("{s} states, "));
        let mut err = std::io::stderr().lock();
        if bar {
            let gauge = match bound {
                Some(b) if b > 0 => {
                    let done = (n * 20 / b).min(20);
                    format!(
                        "[{}{}] {:>3}% ",
                        "#".repeat(done),
                        ".".repeat(20 - done),
                        n * 100 / b
                    )
                }
                _ => String::new(),
            };
            let line = format!("  {what}: {gauge}{states}{n} executions, {rate:.0}/s, {secs:.0} s");
            let _ = write!(err, "\r\x1b[2K{}", truncate(&line, 99));
        } else {
            let _ = writeln!(
                err,
                "  {what}: {states}{n} executions, {rate:.0}/s, {secs:.0} s, still exploring"
            );
        }
    }))
}

fn truncate(s: &str, width: usize) -> String {
    s.chars().take(width).collect()
}

fn clear_progress() {
    let mut err = std::io::stderr().lock();
    if err.is_terminal() && std::io::stdout().is_terminal() {
        let _ = write!(err, "\r\x1b[2K");
    }
}

/// Colour the verdict words of a text for a terminal: red VIOLATED, green
/// holds/proved, yellow inconclusive. Plain when stdout is not a terminal,
/// or when `NO_COLOR` is set (<https://no-color.org>).
fn paint(text: &str) -> String {
    let colour = std::io::stdout().is_terminal()
        && !matches!(std::env::var_os("NO_COLOR"), Some(v) if !v.is_empty());
    if !colour {
        return text.to_string();
    }
    const RULES: &[(&str, &str)] = &[
        ("VIOLATED", "\x1b[1;31m"),
        ("proved", "\x1b[32m"),
        ("holds", "\x1b[32m"),
        ("sampled", "\x1b[33m"),
        ("incon.", "\x1b[33m"),
        ("inconclusive", "\x1b[33m"),
    ];
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    'outer: while !rest.is_empty() {
        for (word, code) in RULES {
            if let Some(r) = rest.strip_prefix(word) {
                out.push_str(code);
                out.push_str(word);
                out.push_str("\x1b[0m");
                rest = r;
                continue 'outer;
            }
        }
        let c = rest.chars().next().expect("non-empty");
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

fn main() -> ExitCode {
    // `kmodcheck list | head` ends quietly, as other command-line tools do,
    // instead of panicking on the closed pipe: restore SIGPIPE's default,
    // which Rust's runtime sets to "ignore".
    #[cfg(unix)]
    // SAFETY: called first in main, before any other thread exists; SIG_DFL
    // is a valid disposition for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    if let Err(e) = check_environment() {
        eprintln!("kmodcheck: {e}");
        return ExitCode::from(2);
    }
    let opts = match CheckOptions::from_env() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("kmodcheck: {e}");
            return ExitCode::from(2);
        }
    };
    let mut opts = opts;
    let budget = |default: Option<u64>| match cli.time_limit.or(default) {
        Some(0) | None => None,
        Some(s) => Some(std::time::Duration::from_secs(s)),
    };
    match cli.cmd.unwrap_or(Cmd::Matrix { scenario: vec![] }) {
        Cmd::Matrix { scenario } => {
            let named = match named_or_exit(&scenario) {
                Ok(n) => n,
                Err(code) => return code,
            };
            kmodcheck::bound_for_catalogue(&mut opts);
            opts.time_limit = budget(None);
            run_matrix(&named, &opts, cli.json)
        }
        Cmd::Diff { old, new, scenario } => {
            let (Some(vo), Some(vn)) = (variant::by_id(&old), variant::by_id(&new)) else {
                let bad = if variant::by_id(&old).is_none() {
                    &old
                } else {
                    &new
                };
                eprintln!("kmodcheck: {}", kmodcheck::suggest::unknown_variant(bad));
                return ExitCode::from(2);
            };
            let named = match named_or_exit(&scenario) {
                Ok(n) => n,
                Err(code) => return code,
            };
            kmodcheck::bound_for_catalogue(&mut opts);
            opts.time_limit = budget(None);
            run_diff(vo, vn, &named, &opts, cli.json)
        }
        Cmd::Report { dir, scenario } => {
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
                eprintln!(
                    "kmodcheck: a report of some scenarios would replace reports/, which holds the whole catalogue; expected --dir DIR for a partial report (nothing was written)"
                );
                return ExitCode::from(2);
            }
            let named = match named_or_exit(&scenario) {
                Ok(n) => n,
                Err(code) => return code,
            };
            kmodcheck::bound_for_catalogue(&mut opts);
            opts.time_limit = budget(None);
            let scenarios: Vec<_> = named.iter().map(|n| n.scenario.clone()).collect();
            let cells = match check_named(&named, &opts) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("kmodcheck: {e}");
                    return ExitCode::from(2);
                }
            };
            let files = kmodcheck::reports_for(&scenarios, &cells);
            if let Err(e) = kmodcheck::write_reports(&dir, &files, scenario.is_empty()) {
                eprintln!(
                    "kmodcheck: cannot write reports; dir={}, error={e}",
                    dir.display()
                );
                return ExitCode::from(2);
            }
            println!("wrote {} files under {}", files.len(), dir.display());
            ExitCode::SUCCESS
        }
        Cmd::Check {
            variant: vid,
            scenario: sname,
            engine,
            max_executions,
            max_states,
            no_symmetry,
            property,
            preemption_bound,
            seed,
        } => {
            let Some(v) = variant::by_id(&vid) else {
                eprintln!("kmodcheck: {}", kmodcheck::suggest::unknown_variant(&vid));
                return ExitCode::from(2);
            };
            let named = match kmodcheck::scenario_file::resolve(&sname) {
                Ok(n) => n,
                Err(e) => {
                    eprintln!("kmodcheck: {e}");
                    return ExitCode::from(2);
                }
            };
            let mut s = named.scenario.clone();
            if let Some(p) = property {
                if !s.properties.contains(&p) {
                    eprintln!(
                        "kmodcheck: scenario {} does not check {p:?}; it checks: {}{}",
                        s.name,
                        s.properties.join(", "),
                        kmodcheck::suggest::did_you_mean(
                            &p,
                            s.properties.iter().map(String::as_str)
                        )
                    );
                    return ExitCode::from(2);
                }
                s.properties = vec![p];
            }
            let mut o = opts.clone();
            o.time_limit = budget(None);
            // A flag wins over the environment.
            if preemption_bound.is_some() {
                o.preemption_bound = preemption_bound;
            }
            if let Some(seed) = seed {
                o.seed = seed;
            }
            if let Some(e) = engine {
                match e.parse::<EngineKind>() {
                    Ok(k) => o.engine = Some(k),
                    Err(why) => {
                        eprintln!("kmodcheck: {why}");
                        return ExitCode::from(2);
                    }
                }
            }
            // loom's thread limit, located in the scenario's file.
            if let (Some(EngineKind::Loom), Some(f)) = (o.engine, &named.file) {
                if let Err(e) = kmodcheck::scenario_file::fits_loom(std::path::Path::new(f)) {
                    eprintln!("kmodcheck: {e}");
                    return ExitCode::from(2);
                }
            }
            o.max_executions = max_executions;
            o.max_states = max_states;
            o.symmetry = !no_symmetry;
            o.progress = Some(progress_line(
                format!("{} × {}", v.id, s.name),
                max_executions,
            ));
            let r = check_cell(v, &s, &o);
            clear_progress();
            match r {
                Ok(mut c) => {
                    named.retarget(&mut c);
                    if cli.json {
                        for l in report::json_lines(&c) {
                            println!("{l}");
                        }
                    } else {
                        print!("{}", paint(&kmodcheck::explain::wrap(&cell_text(&c))));
                    }
                    exit_code(std::slice::from_ref(&c))
                }
                Err(e) => {
                    eprintln!("kmodcheck: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Cmd::Replay { handle } => match replay(&handle, &scenario::catalogue()) {
            Ok(r) => {
                if cli.json {
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
                if r.violations.is_empty() {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(1)
                }
            }
            Err(e) => {
                eprintln!("kmodcheck: {e}");
                ExitCode::from(2)
            }
        },
        Cmd::List => {
            if cli.json {
                let o = serde_json::json!({
                    "variants": variant::catalogue(),
                    "proposals": variant::proposals(),
                    "mutants": variant::mutants(),
                    "kmod_budgets": kmodcheck::model::variant::KmodBudget::ALL.iter().map(|b| serde_json::json!({"id": b.id(), "kernel": b.kernel()})).collect::<Vec<_>>(),
                    "scenarios": scenario::catalogue(),
                    "properties": kmodcheck::properties::catalogue(),
                });
                println!("{o}");
                return ExitCode::SUCCESS;
            }
            let mut out = String::new();
            use std::fmt::Write as _;
            for (title, list) in [
                ("variants:", variant::catalogue()),
                (
                    "\nproposals under review (check, diff, explain; not in the matrix):",
                    variant::proposals(),
                ),
            ] {
                let _ = writeln!(out, "{title}");
                for v in list {
                    let _ = writeln!(out, "  {:<26} {}", v.id, v.summary);
                    let _ = writeln!(out, "  {:<26} {}", "", v.kernel);
                }
            }
            let _ = writeln!(
                out,
                "\nmutants (seeded bugs, each checked on its scenario):"
            );
            for m in variant::mutants() {
                let _ = writeln!(
                    out,
                    "  {:<26} {}\n  {:<26} of {}; caught on {} by {}",
                    m.variant.id, m.variant.summary, "", m.of, m.scenario, m.property
                );
            }
            let _ = writeln!(out, "\nkmod budgets (every loader above has kmod-semaphore; pick another with LOADER+BUDGET):");
            for b in kmodcheck::model::variant::KmodBudget::ALL {
                let _ = writeln!(out, "  {:<26} {}", b.id(), b.kernel());
            }
            let _ = writeln!(out, "\nscenarios (built in; also as scenarios/*.toml):");
            for s in scenario::catalogue() {
                let _ = writeln!(out, "  {:<34} {}", s.name, s.summary);
                let _ = writeln!(out, "  {:<34} {}", "", s.reference);
            }
            let _ = writeln!(
                out,
                "\nproperties (`kmodcheck explain ID` gives the rationale):"
            );
            for p in kmodcheck::properties::catalogue() {
                let _ = writeln!(out, "  {:<24} {}", p.id, p.statement);
            }
            print!("{}", kmodcheck::explain::wrap(&out));
            ExitCode::SUCCESS
        }
        Cmd::Bench {
            dir,
            dfs_seconds,
            pct_samples,
            series_seconds,
            compare,
            skip_cells,
            skip_cargo_test,
        } => {
            let mut builds = Vec::new();
            for c in &compare {
                let Some((name, path)) = c.split_once('=') else {
                    eprintln!("kmodcheck: --compare takes NAME=PATH; got {c:?}");
                    return ExitCode::from(2);
                };
                let path = std::path::PathBuf::from(path);
                if !path.is_file() {
                    eprintln!(
                        "kmodcheck: --compare {name}: no executable at {}",
                        path.display()
                    );
                    return ExitCode::from(2);
                }
                builds.push((name.to_string(), path));
            }
            let exe = match std::env::current_exe() {
                Ok(e) => e,
                Err(e) => {
                    eprintln!("kmodcheck: cannot find this executable; error={e}");
                    return ExitCode::from(2);
                }
            };
            let o = kmodcheck::bench::BenchOptions {
                dfs_budget: std::time::Duration::from_secs(dfs_seconds),
                pct_samples,
                series_budget: std::time::Duration::from_secs(series_seconds),
                jobs: kmodcheck::jobs_from_env(),
                compare: builds,
                skip_cells,
                skip_cargo_test,
            };
            let r = kmodcheck::bench::run_bench(&exe, &o);
            let md = kmodcheck::bench::performance_markdown(&r, &o);
            let mut files = vec![("performance.md".to_string(), md)];
            files.extend(kmodcheck::bench::series_charts(&r));
            for (name, text) in &files {
                if let Err(e) =
                    std::fs::create_dir_all(&dir).and_then(|_| std::fs::write(dir.join(name), text))
                {
                    eprintln!(
                        "kmodcheck: cannot write {}; error={e}",
                        dir.join(name).display()
                    );
                    return ExitCode::from(2);
                }
            }
            println!(
                "wrote {} under {}",
                files
                    .iter()
                    .map(|f| f.0.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                dir.display()
            );
            ExitCode::SUCCESS
        }
        Cmd::BenchCell { args } => match kmodcheck::bench::Job::parse(&args) {
            Ok(job) => {
                let cost = kmodcheck::bench::run_job(&job);
                println!(
                    "{}",
                    serde_json::to_string(&cost).expect("a CellCost serialises")
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("kmodcheck: {e}");
                ExitCode::from(2)
            }
        },
        Cmd::Fuzz {
            variant: vid,
            suite,
            cases,
            seed,
            max_executions,
            max_states,
        } => run_fuzz(&vid, &suite, cases, seed, max_executions, max_states),
        Cmd::Man { dir } => {
            let cmd = Cli::command().disable_help_subcommand(true);
            let written = match &dir {
                None => render_man(cmd, &mut std::io::stdout().lock()),
                Some(d) => std::fs::create_dir_all(d)
                    .and_then(|_| clap_mangen::generate_to(cmd.clone(), d))
                    .and_then(|_| std::fs::File::create(d.join("kmodcheck.1")))
                    .and_then(|mut f| render_man(cmd, &mut f)),
            };
            match (written, dir) {
                (Err(e), dir) => {
                    let to = dir.map_or("stdout".to_string(), |d| d.display().to_string());
                    eprintln!("kmodcheck: cannot write the manual; to={to}, error={e}");
                    ExitCode::from(2)
                }
                (Ok(()), Some(d)) => {
                    println!("wrote the manual pages under {}", d.display());
                    ExitCode::SUCCESS
                }
                (Ok(()), None) => ExitCode::SUCCESS,
            }
        }
        Cmd::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "kmodcheck",
                &mut std::io::stdout(),
            );
            ExitCode::SUCCESS
        }
        Cmd::Explain { name } => match kmodcheck::explain::explain(&name) {
            Ok(e) => {
                if cli.json {
                    println!("{}", e.json);
                } else {
                    print!("{}", e.text);
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("kmodcheck: {e}");
                ExitCode::from(2)
            }
        },
    }
}

/// The manual page of `kmodcheck`: clap_mangen's sections, with the exit
/// status and environment of `--help` as sections of their own, kept as
/// laid out (not filled).
fn render_man(cmd: clap::Command, w: &mut dyn Write) -> std::io::Result<()> {
    let man = clap_mangen::Man::new(cmd);
    man.render_title(w)?;
    man.render_name_section(w)?;
    man.render_synopsis_section(w)?;
    man.render_description_section(w)?;
    man.render_options_section(w)?;
    man.render_subcommands_section(w)?;
    for block in AFTER_LONG_HELP.trim_end().split("\n\n") {
        let (head, body) = block.split_once('\n').unwrap_or((block, ""));
        writeln!(
            w,
            ".SH \"{}\"\n.nf",
            head.trim_end_matches(':').to_uppercase()
        )?;
        for line in body.lines() {
            // roff: a backslash and a minus are escaped; a line starting
            // with . or ' would be a request.
            let line = line.strip_prefix("  ").unwrap_or(line);
            let line = line.replace('\\', "\\e").replace('-', "\\-");
            let guard = if line.starts_with(['.', '\'']) {
                "\\&"
            } else {
                ""
            };
            writeln!(w, "{guard}{line}")?;
        }
        writeln!(w, ".fi")?;
    }
    man.render_version_section(w)
}

fn verdict_line(c: &CellResult, v: &Verdict) -> String {
    match v {
        Verdict::Holds { exhaustive: true } => {
            format!("holds (proved: {}, {})", c.engine.name(), c.explored())
        }
        Verdict::Holds { exhaustive: false } => format!(
            "holds in the {} executions explored (not a proof)",
            c.executions
        ),
        Verdict::Violated(ce) => format!("VIOLATED: {}", ce.message),
        Verdict::Inconclusive { reason } => format!("inconclusive: {reason}"),
    }
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

fn run_diff(
    old: variant::Variant,
    new: variant::Variant,
    scenarios: &[kmodcheck::scenario_file::Named],
    opts: &CheckOptions,
    json: bool,
) -> ExitCode {
    let mut totals = DiffTotals::default();
    let mut new_violations = Vec::new();
    if !json {
        println!("{} → {}\n", old.id, new.id);
    }
    for named in scenarios {
        let s = &named.scenario;
        let mut o = opts.clone();
        let mut cells = Vec::new();
        for v in [old, new] {
            o.progress = Some(progress_line(
                format!("{} × {}", v.id, s.name),
                o.max_executions,
            ));
            let r = check_cell(v, s, &o);
            clear_progress();
            match r {
                Ok(mut c) => {
                    named.retarget(&mut c);
                    cells.push(c)
                }
                Err(e) => {
                    eprintln!("kmodcheck: {e}");
                    return ExitCode::from(2);
                }
            }
        }
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
                print!("{}", paint(&kmodcheck::explain::wrap(&line)));
            }
            if matches!(pn.verdict, Verdict::Violated(_)) {
                new_violations.push((cn.clone(), pn.property));
            }
        }
    }
    if json {
        return totals.exit_code();
    }
    if totals.fixed + totals.newly_violated + totals.changed_otherwise == 0 {
        println!("no verdict differs");
    }
    for (c, p) in &new_violations {
        println!("\n{}", "-".repeat(100));
        if let Some(t) = report::counterexample_text(c, p) {
            println!("{t}");
        }
    }
    println!(
        "\n{}",
        kmodcheck::explain::wrap(&totals.line(scenarios.len())).trim_end()
    );
    if totals.unproved > 0 {
        println!(
            "{}",
            kmodcheck::explain::wrap(&format!(
                "{} verdicts of {} come from a run that was not exhaustive (sampled, or stopped by a bound): a violation it adds could be missed there",
                totals.unproved, new.id
            ))
            .trim_end()
        );
    }
    totals.exit_code()
}

fn cell_text(c: &CellResult) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} × {}: {}, {}, {}{:.2} s",
        c.variant,
        c.scenario,
        c.explored(),
        c.engine.name(),
        if c.exhaustive {
            "exhaustive, "
        } else {
            "not exhaustive, "
        },
        c.elapsed.as_secs_f64()
    );
    for p in &c.properties {
        let _ = match &p.verdict {
            Verdict::Holds { exhaustive } => writeln!(
                out,
                "  {:<24} holds{}",
                p.property,
                if *exhaustive {
                    format!(" (proved: {})", c.engine.covers())
                } else {
                    " (in the executions explored; not a proof)".to_string()
                }
            ),
            Verdict::Violated(_) => writeln!(out, "  {:<24} VIOLATED", p.property),
            Verdict::Inconclusive { reason } => {
                writeln!(out, "  {:<24} inconclusive: {reason}", p.property)
            }
        };
    }
    for p in &c.properties {
        if let Some(t) = report::counterexample_text(c, p.property) {
            let _ = writeln!(out, "\n{t}");
        }
    }
    out
}

/// 1 when a property is violated; else 3 when a verdict is not a proof
/// (inconclusive, or "holds" in a sampled or bounded run, which found no
/// violation but did not explore everything); else 0.
fn exit_code(cells: &[CellResult]) -> ExitCode {
    let all = cells.iter().flat_map(|c| c.properties.iter());
    let mut inconclusive = false;
    for p in all {
        match p.verdict {
            Verdict::Violated(_) => return ExitCode::from(1),
            Verdict::Inconclusive { .. } | Verdict::Holds { exhaustive: false } => {
                inconclusive = true
            }
            Verdict::Holds { exhaustive: true } => {}
        }
    }
    if inconclusive {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    }
}

/// Resolve a `--scenario` list, or say why not and give the exit code.
fn named_or_exit(names: &[String]) -> Result<Vec<kmodcheck::scenario_file::Named>, ExitCode> {
    kmodcheck::scenario_file::resolve_all(names).map_err(|e| {
        eprintln!("kmodcheck: {e}");
        ExitCode::from(2)
    })
}

/// Check the named scenarios under the matrix's columns; handles of a
/// scenario read from a file name the file.
fn check_named(
    named: &[kmodcheck::scenario_file::Named],
    opts: &CheckOptions,
) -> Result<Vec<CellResult>, String> {
    let scenarios: Vec<_> = named.iter().map(|n| n.scenario.clone()).collect();
    let mut cells = kmodcheck::check_scenarios(&scenarios, opts, true)?;
    for c in &mut cells {
        if let Some(n) = named.iter().find(|n| n.scenario.name == c.scenario) {
            n.retarget(c);
        }
    }
    Ok(cells)
}

fn run_fuzz(
    vid: &str,
    suites: &[String],
    cases: Option<u32>,
    seed: u64,
    max_executions: usize,
    max_states: usize,
) -> ExitCode {
    use kmodcheck::fuzz::{self, Suite};
    let Some(v) = variant::by_id(vid) else {
        eprintln!("kmodcheck: {}", kmodcheck::suggest::unknown_variant(vid));
        return ExitCode::from(2);
    };
    let mut chosen = Vec::new();
    for s in suites {
        match Suite::parse(s) {
            Some(x) => chosen.push(x),
            None => {
                eprintln!(
                    "kmodcheck: unknown suite; suite={s}, expected one of: {}{}",
                    Suite::ALL.map(Suite::name).join(", "),
                    kmodcheck::suggest::did_you_mean(s, Suite::ALL.map(Suite::name))
                );
                return ExitCode::from(2);
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
            progress: Some(std::sync::Arc::new(move |line: &str| {
                if tty {
                    eprint!("\r\x1b[2K{line}");
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
            }
        }
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn run_matrix(
    named: &[kmodcheck::scenario_file::Named],
    opts: &CheckOptions,
    json: bool,
) -> ExitCode {
    let start = Instant::now();
    let scenarios: Vec<_> = named.iter().map(|n| n.scenario.clone()).collect();
    let cells = match check_named(named, opts) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("kmodcheck: {e}");
            return ExitCode::from(2);
        }
    };
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
    ExitCode::SUCCESS
}
