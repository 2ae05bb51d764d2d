//! `kmodcheck man` and `kmodcheck completions SHELL`, generated from the
//! clap definition so that they cannot drift from `--help`; and the end of
//! `--help` itself, the exit status and the environment.

use super::CliError;
use std::io::Write;
use std::process::ExitCode;

/// The end of `kmodcheck --help`: what a script or CI job needs besides the
/// flags.
pub const AFTER_LONG_HELP: &str = "\
Exit status:
  0  nothing violated, and every verdict is a proof (check); NEW adds no
     violation (diff); the replayed execution violates nothing (replay);
     every suite passed (fuzz); done (matrix, report, list, explain)
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
  KMODCHECK_JOBS          cells checked at once by matrix and report
                          (a whole number, 1 or more; default: the number of
                          cores)
  KMODCHECK_SHARE         0: every column of matrix, report and diff
                          searches on its own; 1 (the default): a column
                          whose variant has an earlier column's value of
                          every policy that column's search read takes that
                          search (README, Soundness)
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
  COLUMNS                 the width to fit (default: the terminal's; when
                          stdout is not a terminal, none: the matrix is one
                          table, text wraps at 100). A narrower matrix is
                          split into blocks of columns; text wraps at the
                          width, from 60 to 100. A value that is not a whole
                          number of 1 or more is ignored (shells set it)
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
  A malformed value of any of these but COLUMNS is refused with exit
  status 2.
  fuzz also hands proptest its other PROPTEST_* settings (proptest's
  documentation); kmodcheck sets the cases, rejections, shrinking and seed.
";

#[derive(clap::Args)]
pub struct Args {
    /// Directory to write every page into.
    #[arg(long)]
    pub dir: Option<std::path::PathBuf>,
}

#[derive(clap::Args)]
pub struct CompletionsArgs {
    /// The shell.
    pub shell: clap_complete::Shell,
}

/// `kmodcheck man [--dir DIR]`.
pub fn run(args: Args, cmd: clap::Command) -> Result<ExitCode, CliError> {
    let cmd = cmd.disable_help_subcommand(true);
    let dir = args.dir;
    let written = match &dir {
        None => render_man(cmd, &mut std::io::stdout().lock()),
        Some(d) => std::fs::create_dir_all(d)
            .and_then(|_| clap_mangen::generate_to(cmd.clone(), d))
            .and_then(|_| std::fs::File::create(d.join("kmodcheck.1")))
            .and_then(|mut f| render_man(cmd, &mut f)),
    };
    if let Err(e) = written {
        let to = dir.map_or("stdout".to_string(), |d| d.display().to_string());
        return Err(CliError(format!(
            "cannot write the manual; to={to}, error={e}"
        )));
    }
    if let Some(d) = dir {
        println!("wrote the manual pages under {}", d.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// `kmodcheck completions SHELL`.
pub fn run_completions(
    args: CompletionsArgs,
    mut cmd: clap::Command,
) -> Result<ExitCode, CliError> {
    clap_complete::generate(args.shell, &mut cmd, "kmodcheck", &mut std::io::stdout());
    Ok(ExitCode::SUCCESS)
}

/// The manual page of `kmodcheck`: clap_mangen's sections, with the exit
/// status and environment of `--help` as sections of their own, kept as
/// laid out (not filled).
pub fn render_man(cmd: clap::Command, w: &mut dyn Write) -> std::io::Result<()> {
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
