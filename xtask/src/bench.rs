//! `cargo xtask bench`: what each verdict costs, measured, and
//! `reports/performance.md`.
//!
//! Every measurement runs in its own process (`xtask bench-cell`, hidden:
//! the xtask binary run again, checking with the kmodcheck library it was
//! built with; or a `kmodcheck` or `cargo` command, the kmodcheck binary
//! built from the same tree), so its peak memory is its own
//! (`ru_maxrss` from `wait4`), and no measurement shares an address space, an
//! allocator or a stack pool with another. The parent times the process; a
//! `bench-cell` child reports what the engine did (states and transitions,
//! executions, exhaustive or not, verdicts, and when the first violation was
//! found) as one JSON line. One pass runs in the parent, because it counts
//! rather than times: [`trace_redundancy`], where concurrent-same-file's loom
//! executions go.
//!
//! Why a command and not criterion (README, "Performance"): a cell is one
//! long, deterministic exploration, not a microsecond routine to sample a
//! hundred times; what a reviewer wants is states, executions, whether the
//! run was exhaustive, time to verdict and memory, per cell and engine.
//! criterion measures none of those but time.

use kmodcheck::engine::{check_cell, CheckOptions, EngineKind, Verdict};
use kmodcheck::report::thousands;
use kmodcheck_model::scenario::{self, Scenario};
use kmodcheck_model::variant;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

/// A scenario by name: the catalogue's, a member of a scale series
/// (`concurrent-same-file-N`, `shared-dependency-N`), or a scenario file
/// (a path ending in `.toml`).
pub fn scenario_named(name: &str) -> Option<Scenario> {
    if let Some(s) = scenario::catalogue().into_iter().find(|s| s.name == name) {
        return Some(s);
    }
    if name.ends_with(".toml") {
        return kmodcheck::scenario_file::load(Path::new(name)).ok();
    }
    let n = |prefix: &str| {
        name.strip_prefix(prefix)
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| (1..=8).contains(n))
    };
    if let Some(n) = n("concurrent-same-file-") {
        return Some(scenario::concurrent_same_file(n));
    }
    n("shared-dependency-").map(scenario::shared_dependency)
}

/// One measurement: a cell, an engine, and its budget.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
    /// Variant id.
    pub variant: String,
    /// Scenario name ([`scenario_named`]).
    pub scenario: String,
    /// Engine.
    pub engine: EngineKind,
    /// Execution bound (loom, shuttle DFS); `None`: unbounded.
    pub max_executions: Option<usize>,
    /// Time bound; `None`: unbounded.
    pub time_limit: Option<Duration>,
    /// Executions of a sampling engine (PCT, random).
    pub samples: usize,
    /// Symmetry reduction (the stateful engine).
    pub symmetry: bool,
}

impl Job {
    /// The arguments of `xtask bench-cell` for this job.
    pub fn args(&self) -> Vec<String> {
        vec![
            "bench-cell".into(),
            self.variant.clone(),
            self.scenario.clone(),
            self.engine.name().into(),
            self.max_executions.map_or("-".into(), |n| n.to_string()),
            self.time_limit
                .map_or("-".into(), |t| t.as_millis().to_string()),
            self.samples.to_string(),
            if self.symmetry { "sym" } else { "nosym" }.into(),
        ]
    }

    /// Parse the arguments after `bench-cell`.
    pub fn parse(args: &[String]) -> Result<Job, String> {
        let [v, s, e, m, t, n, sym] = args else {
            return Err(format!(
                "bench-cell takes VARIANT SCENARIO ENGINE MAX_EXECUTIONS TIME_LIMIT_MS SAMPLES sym|nosym; got {} arguments",
                args.len()
            ));
        };
        let opt = |x: &str, what: &str| -> Result<Option<u64>, String> {
            if x == "-" {
                Ok(None)
            } else {
                x.parse()
                    .map(Some)
                    .map_err(|_| format!("{what}={x:?} is not a whole number or -"))
            }
        };
        Ok(Job {
            variant: v.clone(),
            scenario: s.clone(),
            engine: e.parse()?,
            max_executions: opt(m, "MAX_EXECUTIONS")?.map(|n| n as usize),
            time_limit: opt(t, "TIME_LIMIT_MS")?.map(Duration::from_millis),
            samples: n
                .parse()
                .map_err(|_| format!("SAMPLES={n:?} is not a whole number"))?,
            symmetry: match sym.as_str() {
                "sym" => true,
                "nosym" => false,
                _ => return Err(format!("expected sym or nosym; got {sym:?}")),
            },
        })
    }
}

/// What a `bench-cell` process reports.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct CellCost {
    /// Executions run.
    pub executions: usize,
    /// Distinct states (the stateful engine).
    pub states: Option<u64>,
    /// Transitions between them (the stateful engine).
    pub transitions: Option<u64>,
    /// Interchangeable actors whose renamings were merged (0: no symmetry).
    pub symmetric_actors: usize,
    /// Whether they covered every interleaving.
    pub exhaustive: bool,
    /// Why the engine stopped early, if it did.
    pub stopped: Option<String>,
    /// Time spent in `check_cell`, seconds.
    pub check_s: f64,
    /// The first violation: its execution and the seconds until it was found.
    pub first_violation: Option<(usize, f64)>,
    /// Properties that hold (exhaustively or sampled), are violated, or are
    /// inconclusive.
    pub holds: usize,
    /// See `holds`.
    pub violated: usize,
    /// See `holds`.
    pub inconclusive: usize,
    /// The verdict of each property, in the scenario's order:
    /// `holds`, `violated`, `inconclusive`.
    pub verdicts: Vec<String>,
    /// A check that could not run, and why.
    pub error: Option<String>,
}

/// The child's side: check the job's cell and return its cost.
pub fn run_job(job: &Job) -> CellCost {
    let fail = |e: String| CellCost {
        error: Some(e),
        ..CellCost::default()
    };
    let Some(v) = variant::by_id(&job.variant) else {
        return fail(format!("unknown variant; variant={}", job.variant));
    };
    let Some(s) = scenario_named(&job.scenario) else {
        return fail(format!("unknown scenario; scenario={}", job.scenario));
    };
    let opts = CheckOptions {
        engine: Some(job.engine),
        max_executions: job.max_executions,
        time_limit: job.time_limit,
        samples: job.samples,
        symmetry: job.symmetry,
        ..CheckOptions::default()
    };
    let t = Instant::now();
    let c = match check_cell(v, &s, &opts) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    let check_s = t.elapsed().as_secs_f64();
    let mut cost = CellCost {
        executions: c.executions,
        states: c.states.as_ref().map(|s| s.states),
        transitions: c.states.as_ref().map(|s| s.transitions),
        symmetric_actors: c.states.as_ref().map_or(0, |s| s.symmetric_actors),
        exhaustive: c.exhaustive,
        stopped: c.stopped.clone(),
        check_s,
        ..CellCost::default()
    };
    let first = c
        .properties
        .iter()
        .filter_map(|p| match &p.verdict {
            Verdict::Violated(ce) => Some(ce.execution),
            _ => None,
        })
        .min();
    cost.first_violation = first.zip(c.first_violation_after.map(|d| d.as_secs_f64()));
    for p in &c.properties {
        match p.verdict {
            Verdict::Holds { .. } => cost.holds += 1,
            Verdict::Violated(_) => cost.violated += 1,
            Verdict::Inconclusive { .. } => cost.inconclusive += 1,
        }
        cost.verdicts.push(p.verdict.kind().to_string());
    }
    cost
}

/// A job's cost as the parent saw it.
#[derive(Clone, Debug)]
pub struct Measured {
    /// The job.
    pub job: Job,
    /// What the child reported.
    pub cost: CellCost,
    /// The child process's wall time, start-up included.
    pub wall: Duration,
    /// Its peak resident memory, KiB (`ru_maxrss`; 0 where unavailable).
    pub peak_kib: u64,
}

impl Measured {
    /// Executions per second of checking.
    pub fn rate(&self) -> f64 {
        self.cost.executions as f64 / self.cost.check_s.max(1e-9)
    }
}

/// Run `exe` with `args` as a child process; its stdout, wall time, peak
/// resident memory (KiB), and user and system CPU seconds.
pub fn run_measured(
    exe: &Path,
    args: &[String],
    env: &[(&str, String)],
) -> Result<(String, Duration, u64, f64, f64), String> {
    use std::io::Read;
    let t = Instant::now();
    let mut cmd = std::process::Command::new(exe);
    cmd.args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {}; error={e}", exe.display()))?;
    let mut out = String::new();
    child
        .stdout
        .take()
        .expect("piped")
        .read_to_string(&mut out)
        .map_err(|e| format!("cannot read the child's output; error={e}"))?;
    #[cfg(unix)]
    {
        let mut status = 0;
        // SAFETY: rusage is plain data; wait4 fills it for the child we
        // started and have not waited for (std's Child is not waited on).
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        let pid = child.id() as libc::pid_t;
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
        let wall = t.elapsed();
        if r != pid {
            return Err(format!("wait4 failed for {}", exe.display()));
        }
        let secs = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
        Ok((
            out,
            wall,
            ru.ru_maxrss.max(0) as u64,
            secs(ru.ru_utime),
            secs(ru.ru_stime),
        ))
    }
    #[cfg(not(unix))]
    {
        child
            .wait()
            .map_err(|e| format!("cannot wait for the child; error={e}"))?;
        Ok((out, t.elapsed(), 0, 0.0, 0.0))
    }
}

/// Measure one job in its own process.
pub fn measure(exe: &Path, job: &Job) -> Measured {
    let (cost, wall, peak_kib) = match run_measured(exe, &job.args(), &[]) {
        Ok((out, wall, peak, _, _)) => {
            let cost = serde_json::from_str::<CellCost>(out.trim()).unwrap_or_else(|e| CellCost {
                error: Some(format!(
                    "unreadable bench-cell output ({e}): {}",
                    out.trim()
                )),
                ..CellCost::default()
            });
            (cost, wall, peak)
        }
        Err(e) => (
            CellCost {
                error: Some(e),
                ..CellCost::default()
            },
            Duration::ZERO,
            0,
        ),
    };
    Measured {
        job: job.clone(),
        cost,
        wall,
        peak_kib,
    }
}

/// Seconds, to a precision that suits their size.
pub fn secs(s: f64) -> String {
    if s < 0.01 {
        format!("{:.4} s", s)
    } else if s < 10.0 {
        format!("{:.2} s", s)
    } else {
        format!("{:.1} s", s)
    }
}

/// Peak memory as MiB.
pub fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// One line of a series chart: a label, a colour, and (N, value) points.
pub struct Line {
    /// Legend text.
    pub label: String,
    /// Colour.
    pub colour: plotters::style::RGBColor,
    /// Points; a missing value (refused, or no figure) is left out.
    pub points: Vec<(usize, f64)>,
    /// Dashed: a run that did not finish (its figure is a lower bound), or
    /// another model's figures.
    pub dashed: bool,
}

/// A log-scale line chart over x = N, as a standalone SVG (plotters).
pub fn svg_chart(title: &str, y_label: &str, xs: &[usize], lines: &[Line]) -> String {
    use plotters::prelude::*;
    let values: Vec<f64> = lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.1))
        .filter(|v| *v > 0.0)
        .collect();
    let lo = values.iter().cloned().fold(f64::INFINITY, f64::min);
    let hi = values.iter().cloned().fold(0.0_f64, f64::max);
    let (lo, hi) = if values.is_empty() {
        (1.0, 10.0)
    } else {
        (
            10f64.powf(lo.log10().floor()),
            10f64.powf(hi.log10().ceil().max(lo.log10().floor() + 1.0)),
        )
    };
    let (x0, x1) = (
        *xs.first().unwrap_or(&0) as f64 - 0.2,
        *xs.last().unwrap_or(&1) as f64 + 0.2,
    );
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (640, 400)).into_drawing_area();
        let draw = || -> Result<(), Box<dyn std::error::Error + '_>> {
            root.fill(&WHITE)?;
            let mut chart = ChartBuilder::on(&root)
                .caption(title, ("sans-serif", 16))
                .margin(12)
                .x_label_area_size(36)
                .y_label_area_size(64)
                .build_cartesian_2d(x0..x1, (lo..hi).log_scale())?;
            chart
                .configure_mesh()
                .x_desc("N")
                .y_desc(y_label)
                .x_labels(xs.len())
                .x_label_formatter(&|x| format!("{x:.0}"))
                .y_label_formatter(&|y| format!("{y:.0e}"))
                .draw()?;
            for l in lines {
                let pts: Vec<(f64, f64)> = l
                    .points
                    .iter()
                    .filter(|p| p.1 > 0.0)
                    .map(|(x, v)| (*x as f64, *v))
                    .collect();
                if pts.is_empty() {
                    continue;
                }
                let style = l.colour.stroke_width(2);
                let colour = l.colour;
                if l.dashed {
                    chart
                        .draw_series(DashedLineSeries::new(pts.clone(), 6, 4, style))?
                        .label(l.label.clone())
                        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour));
                } else {
                    chart
                        .draw_series(LineSeries::new(pts.clone(), style))?
                        .label(l.label.clone())
                        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour));
                }
                chart.draw_series(pts.iter().map(|p| Circle::new(*p, 3, colour.filled())))?;
            }
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperLeft)
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .draw()?;
            root.present()?;
            Ok(())
        };
        if let Err(e) = draw() {
            return format!(
                "<!-- chart failed: {} -->\n",
                e.to_string().replace("--", "- -")
            );
        }
    }
    out
}

/// What `cargo xtask bench` runs.
#[derive(Clone, Debug)]
pub struct BenchOptions {
    /// Time a shuttle DFS run of a matrix cell may take before the cell is
    /// sampled with PCT instead.
    pub dfs_budget: Duration,
    /// Executions of each shuttle PCT run.
    pub pct_samples: usize,
    /// Time bound of each scale-series run.
    pub series_budget: Duration,
    /// Cells checked at once by the whole-matrix and `diff` runs
    /// (`KMODCHECK_JOBS`).
    pub jobs: usize,
    /// Other builds of kmodcheck to compare with this one on the probe
    /// cells: (name, executable). Each is run as `kmodcheck check --variant
    /// V --scenario S [--max-executions N]`, which every build has, and
    /// under callgrind the same way.
    pub compare: Vec<(String, std::path::PathBuf)>,
    /// Skip the per-cell pass (the slowest part).
    pub skip_cells: bool,
    /// Skip timing `cargo test --release`.
    pub skip_cargo_test: bool,
}

/// A command, timed in its own process.
#[derive(Clone, Debug, Default)]
pub struct Timed {
    /// The command line, as a reader would type it.
    pub command: String,
    /// Wall time.
    pub wall: Duration,
    /// Peak resident memory, KiB.
    pub peak_kib: u64,
    /// User and system CPU seconds.
    pub user: f64,
    /// See `user`.
    pub sys: f64,
    /// What it said: the line that sums it up.
    pub summary: String,
    /// Whether it did what the target asks (every cell exhaustive, every
    /// test passed).
    pub ok: bool,
}

/// One catalogue cell under each engine.
#[derive(Clone, Debug)]
pub struct CellRow {
    /// The stateful engine, as the main job runs it.
    pub stateful: Measured,
    /// loom, bounded by the catalogue's bound.
    pub loom: Measured,
    /// Shuttle DFS within its time budget.
    pub dfs: Measured,
    /// Shuttle PCT where DFS did not finish.
    pub pct: Option<Measured>,
}

/// One member of a scale series under each engine.
#[derive(Clone, Debug)]
pub struct SeriesRow {
    /// Series name.
    pub series: String,
    /// How many actors.
    pub n: usize,
    /// The stateful engine with symmetry reduction (the default).
    pub stateful: Measured,
    /// The stateful engine without it.
    pub no_symmetry: Measured,
    /// loom (unbounded but for the series' time bound); refused above its
    /// thread limit.
    pub loom: Measured,
}

/// Every figure of one `cargo xtask bench` run.
#[derive(Clone, Debug, Default)]
pub struct BenchReport {
    /// The whole matrix as the main job runs it.
    pub matrix: Option<Timed>,
    /// `diff` of a proposal against the kernel it patches, over the catalogue.
    pub diff: Option<Timed>,
    /// `cargo test --release` on the built tree.
    pub cargo_test: Option<Timed>,
    /// Per cell, each engine.
    pub cells: Vec<CellRow>,
    /// Flagship counterexamples: the stateful engine, loom, shuttle PCT.
    pub flagships: Vec<[Measured; 3]>,
    /// Scale series.
    pub series: Vec<SeriesRow>,
    /// The two-loader cycle with timed waits, per variant (stateful), and
    /// loom on one of them.
    pub cycle: Vec<Measured>,
    /// Probe cells under each build: (build, probe, wall, user, sys,
    /// instructions under callgrind).
    pub compare: Vec<(String, String, Duration, f64, f64, Option<u64>)>,
    /// The top of a callgrind profile of this build on the first probe.
    pub profile: Option<String>,
    /// Where concurrent-same-file's loom executions go, per N.
    pub redundancy: Vec<Result<TraceRedundancy, String>>,
    /// Cores, CPU model, memory.
    pub machine: String,
}

/// The flagship counterexamples: the deadlock of 9b9879fc0327 and the race of
/// 9828ed3f69.
pub const FLAGSHIPS: [(&str, &str); 2] = [
    ("idempotent", "recursive-self-load"),
    ("error-out-early", "shared-dependency"),
];

/// The scale series: (name, scenario prefix, Ns, variant).
pub const SERIES: [(&str, &str, &[usize], &str); 2] = [
    (
        "concurrent-same-file",
        "concurrent-same-file-",
        &[2, 3, 4, 5, 6],
        "idempotent",
    ),
    (
        "shared-dependency",
        "shared-dependency-",
        &[2, 3, 4],
        "idempotent",
    ),
];

/// An independent model's figures, for scale: a Promela model of N
/// concurrent loads of one file under `idempotent()`, written apart from
/// kmodcheck and proved exhaustively with SPIN 6.5.2 (issue 14): (N, states,
/// seconds as measured, the upper figure of the range, memory).
pub const SPIN: [(usize, u64, &str, f64, &str); 3] = [
    (4, 102_000, "0.13–0.20 s", 0.20, ""),
    (5, 1_460_000, "1.0–1.7 s", 1.7, ""),
    (6, 20_800_000, "24 s", 24.0, "1 GB"),
];

/// The two-loader cycle with timed waits (more threads than loom allows).
pub const CYCLE: &str = "examples/findings/two-loader-cycle-timer.toml";

/// The proposal `diff` is timed on, and the kernel it patches.
pub const DIFF: (&str, &str) = ("idempotent-interruptible", "idem-timeout");

/// The probes of a build comparison: (variant, scenario, execution bound).
pub const PROBES: [(&str, &str, Option<usize>); 3] = [
    ("idempotent", "concurrent-same-file-3", None),
    ("error-out-early", "shared-dependency", None),
    (
        "idempotent-warn",
        "recursive-self-load+kill-outer",
        Some(100_000),
    ),
];

fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("MemTotal"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|k| k.parse::<u64>().ok())
        })
        .map_or("unknown memory".into(), |k| {
            format!("{:.0} GiB", k as f64 / 1024.0 / 1024.0)
        });
    format!("{cores} cores, {cpu}, {mem}")
}

/// A job with the defaults: no bound, symmetry on.
fn job(variant: &str, scenario: &str, engine: EngineKind) -> Job {
    Job {
        variant: variant.into(),
        scenario: scenario.into(),
        engine,
        max_executions: None,
        time_limit: None,
        samples: 0,
        symmetry: true,
    }
}

fn loom_job(variant: &str, scenario: &str, bound: Option<usize>, time: Option<Duration>) -> Job {
    Job {
        max_executions: bound,
        time_limit: time,
        ..job(variant, scenario, EngineKind::Loom)
    }
}

fn dfs_then_pct(
    exe: &Path,
    variant: &str,
    scenario: &str,
    budget: Duration,
    samples: usize,
) -> (Measured, Option<Measured>) {
    let dfs = measure(
        exe,
        &Job {
            time_limit: Some(budget),
            ..job(variant, scenario, EngineKind::ShuttleDfs)
        },
    );
    let pct = (!dfs.cost.exhaustive).then(|| {
        measure(
            exe,
            &Job {
                samples,
                ..job(variant, scenario, EngineKind::ShuttlePct)
            },
        )
    });
    (dfs, pct)
}

/// Callgrind's instruction count for `args` under `exe`, and the profile's
/// top lines when `annotate` is set; `None` without valgrind.
fn callgrind(exe: &Path, args: &[String], annotate: bool) -> Option<(u64, Option<String>)> {
    let file = std::env::temp_dir().join(format!("kmodcheck-callgrind-{}.out", std::process::id()));
    let out = std::process::Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", file.display()))
        .arg(exe)
        .args(args)
        .stdout(std::process::Stdio::null())
        .output()
        .ok()?;
    let err = String::from_utf8_lossy(&out.stderr);
    let n = err
        .lines()
        .find_map(|l| l.split_once("Collected :"))
        .and_then(|(_, n)| n.trim().parse().ok())?;
    let top = annotate
        .then(|| {
            std::process::Command::new("callgrind_annotate")
                .arg(&file)
                .output()
                .ok()
        })
        .flatten()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .filter(|l| l.contains('(') && l.contains('%') && !l.contains("PROGRAM TOTALS"))
                .take(20)
                .map(|l| {
                    // Shorten paths to their last component.
                    let l = l.trim();
                    match l.split_once("  ") {
                        Some((count, rest)) => {
                            let rest = rest.trim();
                            let short =
                                rest.rsplit_once(':').map_or(rest.to_string(), |(path, f)| {
                                    let file = path.rsplit('/').next().unwrap_or(path);
                                    format!("{file}:{f}")
                                });
                            format!("{count}  {}", short.split(" [").next().unwrap_or(&short))
                        }
                        None => l.to_string(),
                    }
                })
                .collect::<Vec<_>>()
                .join("\n")
        });
    let _ = std::fs::remove_file(&file);
    Some((n, top))
}

/// Run a kmodcheck command in its own process and time it.
fn time_command(exe: &Path, args: &[&str], jobs: usize) -> Option<(Timed, String)> {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let (out, wall, peak_kib, user, sys) =
        run_measured(exe, &args, &[("KMODCHECK_JOBS", jobs.to_string())]).ok()?;
    Some((
        Timed {
            command: format!("kmodcheck {}", args.join(" ")),
            wall,
            peak_kib,
            user,
            sys,
            summary: String::new(),
            ok: true,
        },
        out,
    ))
}

/// The workspace this binary was built from: the parent of xtask/.
pub fn workspace_root() -> &'static Path {
    let xtask = Path::new(env!("CARGO_MANIFEST_DIR"));
    xtask.parent().unwrap_or(xtask)
}

/// The cargo that runs this one (`cargo xtask` sets CARGO), or cargo on
/// PATH.
fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// Build the kmodcheck binary of this workspace in release mode (`cargo
/// build --release --bin kmodcheck`, cargo's progress on stderr) and return
/// its path, as cargo reports it: the binary that the whole-matrix, `diff`
/// and probe measurements run.
pub fn build_kmodcheck() -> Result<std::path::PathBuf, String> {
    let dir = workspace_root();
    let cargo = cargo();
    let out = std::process::Command::new(&cargo)
        .args([
            "build",
            "--release",
            "--bin",
            "kmodcheck",
            "--message-format=json-render-diagnostics",
        ])
        .current_dir(dir)
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run {cargo}; error={e}"))?;
    if !out.status.success() {
        return Err("cargo build --release --bin kmodcheck failed".into());
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "kmodcheck")
        .find_map(|m| m["executable"].as_str().map(std::path::PathBuf::from))
        .ok_or_else(|| "cargo build named no kmodcheck executable".into())
}

/// `cargo test --release` in the workspace this binary was built from,
/// after building its tests untimed: the target's "built tree".
fn time_cargo_test() -> Result<Timed, String> {
    let dir = workspace_root();
    if !dir.join("Cargo.toml").is_file() {
        return Err(format!("no source tree at {}", dir.display()));
    }
    let cargo = cargo();
    let build = std::process::Command::new(&cargo)
        .args(["test", "--release", "--no-run"])
        .current_dir(dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .map_err(|e| format!("cannot run {cargo}: {e}"))?;
    if !build.success() {
        return Err("cargo test --release --no-run failed".into());
    }
    let t = Instant::now();
    let out = std::process::Command::new(&cargo)
        .args(["test", "--release"])
        .current_dir(dir)
        .output()
        .map_err(|e| format!("cannot run {cargo}: {e}"))?;
    let wall = t.elapsed();
    let text = String::from_utf8_lossy(&out.stdout);
    let (mut passed, mut failed, mut binaries) = (0usize, 0usize, 0usize);
    for l in text.lines().filter(|l| l.starts_with("test result:")) {
        binaries += 1;
        let n = |what: &str| {
            l.split(';')
                .find(|p| p.trim().ends_with(what))
                .and_then(|p| p.split_whitespace().rev().nth(1))
                .and_then(|n| n.parse::<usize>().ok())
                .unwrap_or(0)
        };
        passed += n("passed");
        failed += n("failed");
    }
    Ok(Timed {
        command: "cargo test --release".into(),
        wall,
        summary: format!("{passed} passed, {failed} failed, in {binaries} test binaries"),
        ok: out.status.success() && failed == 0 && passed > 0,
        ..Timed::default()
    })
}

/// Run every measurement, printing one progress line per measurement to
/// stderr: each cell with `exe bench-cell ...` (this binary), each command
/// with `kmodcheck` (the binary of this tree, [`build_kmodcheck`]).
pub fn run_bench(exe: &Path, kmodcheck: &Path, o: &BenchOptions) -> BenchReport {
    let mut r = BenchReport {
        machine: machine(),
        ..BenchReport::default()
    };
    let started = Instant::now();
    let note = |what: &str, m: &Measured| {
        eprintln!(
            "[{:>6.1} s] {what} {} × {} ({}): {}, {}{}",
            started.elapsed().as_secs_f64(),
            m.job.variant,
            m.job.scenario,
            m.job.engine.name(),
            explored(m),
            secs(m.cost.check_s),
            m.cost
                .error
                .as_ref()
                .map_or(String::new(), |e| format!(", error: {e}"))
        );
    };
    let said = |t: &Timed| {
        eprintln!(
            "[{:>6.1} s] {}: {} wall, {} peak; {}",
            started.elapsed().as_secs_f64(),
            t.command,
            secs(t.wall.as_secs_f64()),
            mib(t.peak_kib),
            t.summary
        );
    };

    // 1. The whole matrix, as the main job runs it.
    if let Some((mut t, out)) = time_command(kmodcheck, &["matrix"], o.jobs) {
        let line = out
            .lines()
            .find(|l| l.contains(" cells (") && l.contains(" exhaustive)"))
            .unwrap_or("")
            .trim()
            .to_string();
        t.ok = matrix_all_exhaustive(&line);
        t.summary = line;
        said(&t);
        r.matrix = Some(t);
    }

    // 2. diff of a proposal over the catalogue.
    if let Some((mut t, out)) = time_command(kmodcheck, &["diff", DIFF.0, DIFF.1], o.jobs) {
        let changed = out
            .lines()
            .filter(|l| l.starts_with(|c: char| c.is_ascii_lowercase()) && l.contains(" × "))
            .count();
        t.summary = format!(
            "{changed} verdicts differ between {} and {}",
            DIFF.0, DIFF.1
        );
        said(&t);
        r.diff = Some(t);
    }

    // 3. Flagship counterexamples: time to the violation.
    for (v, s) in FLAGSHIPS {
        let stateful = measure(exe, &job(v, s, EngineKind::Stateful));
        note("flagship", &stateful);
        let loom = measure(exe, &loom_job(v, s, None, None));
        note("flagship", &loom);
        let pct = measure(
            exe,
            &Job {
                samples: o.pct_samples,
                ..job(v, s, EngineKind::ShuttlePct)
            },
        );
        note("flagship", &pct);
        r.flagships.push([stateful, loom, pct]);
    }

    // 4. Scale series.
    for (name, prefix, ns, v) in SERIES {
        for &n in ns {
            let s = format!("{prefix}{n}");
            let bounded = |engine, symmetry| Job {
                time_limit: Some(o.series_budget),
                symmetry,
                ..job(v, &s, engine)
            };
            let stateful = measure(exe, &bounded(EngineKind::Stateful, true));
            note("series", &stateful);
            let no_symmetry = measure(exe, &bounded(EngineKind::Stateful, false));
            note("series", &no_symmetry);
            let loom = measure(exe, &bounded(EngineKind::Loom, true));
            note("series", &loom);
            r.series.push(SeriesRow {
                series: name.to_string(),
                n,
                stateful,
                no_symmetry,
                loom,
            });
        }
    }

    // 5. The two-loader cycle with timed waits: every column of the matrix
    // and the worked proposal, and loom, which refuses it.
    let mut cycle_variants: Vec<String> = scenario_named(CYCLE)
        .map(|sc| {
            variant::columns_for(&sc)
                .into_iter()
                .map(|v| v.id.to_string())
                .collect()
        })
        .unwrap_or_default();
    cycle_variants.push(DIFF.1.to_string());
    for v in &cycle_variants {
        let m = measure(
            exe,
            &Job {
                time_limit: Some(o.series_budget * 5),
                ..job(v, CYCLE, EngineKind::Stateful)
            },
        );
        note("cycle", &m);
        r.cycle.push(m);
    }
    let loom = measure(exe, &loom_job(DIFF.1, CYCLE, None, None));
    note("cycle", &loom);
    r.cycle.push(loom);

    // 6. Where concurrent-same-file's loom executions go. Counts, not
    // timings, so it runs in this process.
    for n in [2, 3] {
        let sc = scenario::concurrent_same_file(n);
        let red = trace_redundancy("idempotent", &sc, Some(o.series_budget));
        if let Err(e) = &red {
            eprintln!("bench: traces {}: {e}", sc.name);
        }
        r.redundancy.push(red);
    }

    // 7. Every cell of the catalogue, each engine in its own process.
    if !o.skip_cells {
        let cells: Vec<(String, String)> = scenario::catalogue()
            .iter()
            .flat_map(|s| {
                variant::columns_for(s)
                    .into_iter()
                    .map(|v| (v.id.to_string(), s.name.clone()))
            })
            .collect();
        for (i, (v, s)) in cells.iter().enumerate() {
            let what = format!("cell {}/{}", i + 1, cells.len());
            let stateful = measure(exe, &job(v, s, EngineKind::Stateful));
            note(&what, &stateful);
            let loom = measure(exe, &loom_job(v, s, Some(kmodcheck::CATALOGUE_BOUND), None));
            note(&what, &loom);
            let (dfs, pct) = dfs_then_pct(exe, v, s, o.dfs_budget, o.pct_samples);
            note(&what, &dfs);
            r.cells.push(CellRow {
                stateful,
                loom,
                dfs,
                pct,
            });
        }
    }

    // 8. Other builds on the probe cells, alternating, in this one run.
    let mut builds: Vec<(String, std::path::PathBuf)> = o.compare.clone();
    if !builds.is_empty() {
        builds.push(("this build".into(), kmodcheck.to_path_buf()));
    }
    for (v, s, bound) in PROBES {
        let mut args = vec![
            "check".to_string(),
            "--variant".into(),
            v.into(),
            "--scenario".into(),
            s.into(),
        ];
        if let Some(b) = bound {
            args.extend(["--max-executions".into(), b.to_string()]);
        }
        for (name, path) in &builds {
            if let Ok((_, wall, _, user, sys)) = run_measured(path, &args, &[]) {
                let mut cg_args = args.clone();
                if bound.is_none() {
                    cg_args.extend(["--max-executions".into(), "2000".into()]);
                } else if let Some(i) = cg_args.iter().position(|a| a == "--max-executions") {
                    cg_args[i + 1] = "2000".into();
                }
                let instr = callgrind(path, &cg_args, false).map(|c| c.0);
                eprintln!(
                    "bench: {name}: {v} × {s}: {} wall, {user:.2} s user, {sys:.2} s system",
                    secs(wall.as_secs_f64())
                );
                r.compare
                    .push((name.clone(), format!("{v} × {s}"), wall, user, sys, instr));
            }
        }
    }

    // 9. Where this build's instructions go, on the first probe.
    let (v, s, _) = PROBES[0];
    r.profile = callgrind(
        kmodcheck,
        &[
            "check".into(),
            "--variant".into(),
            v.into(),
            "--scenario".into(),
            s.into(),
        ],
        true,
    )
    .and_then(|(n, top)| {
        top.map(|t| format!("{} instructions in all\n\n{t}", thousands(n as usize)))
    });

    // 10. The test suite, last: it runs the machine's cores flat out.
    if !o.skip_cargo_test {
        match time_cargo_test() {
            Ok(t) => {
                said(&t);
                r.cargo_test = Some(t);
            }
            Err(e) => eprintln!("bench: cargo test not timed: {e}"),
        }
    }
    r
}

/// Whether the matrix's summary line says every cell was exhaustive
/// ("141 cells (141 exhaustive), ...").
pub fn matrix_all_exhaustive(line: &str) -> bool {
    let n = |s: &str| s.trim().replace(',', "").parse::<usize>().ok();
    let Some((cells, rest)) = line.split_once(" cells (") else {
        return false;
    };
    let Some((exhaustive, _)) = rest.split_once(" exhaustive)") else {
        return false;
    };
    matches!((n(cells), n(exhaustive)), (Some(c), Some(e)) if c == e && c > 0)
}

/// What a run explored: states and transitions (stateful) or executions,
/// and whether that was everything.
fn explored(m: &Measured) -> String {
    let c = &m.cost;
    let what = match (c.states, c.transitions) {
        (Some(s), Some(t)) => format!(
            "{} states, {} transitions",
            thousands(s as usize),
            thousands(t as usize)
        ),
        _ => format!("{} executions", thousands(c.executions)),
    };
    let how = if c.exhaustive {
        "exhaustive"
    } else if m.job.engine == EngineKind::ShuttlePct {
        "sampled"
    } else {
        "NOT exhaustive"
    };
    format!("{what} ({how})")
}

/// One engine's figures in a table cell.
fn engine_cell(m: &Measured) -> String {
    if let Some(e) = &m.cost.error {
        if e.contains("loom allows") {
            return "refused: more threads than loom's 5".into();
        }
        return format!("error: {e}");
    }
    format!(
        "{}, {}, {}",
        explored(m),
        secs(m.cost.check_s),
        mib(m.peak_kib)
    )
}

/// Where both engines finished, their verdicts must be the same.
fn agreement(a: &Measured, b: &Measured) -> &'static str {
    if !(a.cost.exhaustive && b.cost.exhaustive) {
        "–"
    } else if a.cost.verdicts == b.cost.verdicts {
        "same"
    } else {
        "**DIFFER**"
    }
}

fn met(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "**not met**"
    }
}

/// The charts of the scale series: (file name, SVG).
pub fn series_charts(r: &BenchReport) -> Vec<(String, String)> {
    use plotters::style::RGBColor;
    const STATEFUL: RGBColor = RGBColor(0x2c, 0xa0, 0x2c);
    const NO_SYM: RGBColor = RGBColor(0x98, 0xdf, 0x8a);
    const LOOM: RGBColor = RGBColor(0x1f, 0x77, 0xb4);
    const SPIN_C: RGBColor = RGBColor(0x7f, 0x7f, 0x7f);
    let mut charts = Vec::new();
    for (name, _, ns, v) in SERIES {
        let rows: Vec<&SeriesRow> = r.series.iter().filter(|s| s.series == name).collect();
        if rows.is_empty() {
            continue;
        }
        let line = |label: &str,
                    colour,
                    pick: &dyn Fn(&Measured) -> Option<f64>,
                    which: fn(&SeriesRow) -> &Measured| {
            let mut points = Vec::new();
            let mut dashed = false;
            for row in &rows {
                let m = which(row);
                if m.cost.error.is_none() {
                    if let Some(y) = pick(m) {
                        points.push((row.n, y));
                        dashed |= !m.cost.exhaustive;
                    }
                }
            }
            Line {
                label: label.into(),
                colour,
                points,
                dashed,
            }
        };
        let spin = |pick: fn(&(usize, u64, &str, f64, &str)) -> f64| Line {
            label: "SPIN 6.5.2, another model".into(),
            colour: SPIN_C,
            points: if name == "concurrent-same-file" {
                SPIN.iter().map(|s| (s.0, pick(s))).collect()
            } else {
                Vec::new()
            },
            dashed: true,
        };
        type Pick = fn(&Measured) -> Option<f64>;
        let explored: Pick = |m| Some(m.cost.states.unwrap_or(m.cost.executions as u64) as f64);
        let seconds: Pick = |m| Some(m.cost.check_s);
        let memory: Pick = |m| Some(m.peak_kib as f64 / 1024.0);
        for (what, unit, pick, spin_pick) in [
            (
                "explored",
                "states (stateful, SPIN); executions (loom)",
                explored,
                (|s| s.1 as f64) as fn(&(usize, u64, &str, f64, &str)) -> f64,
            ),
            ("seconds", "seconds to verdict", seconds, |s| s.3),
            ("memory", "peak memory, MiB", memory, |s| {
                if s.4.is_empty() {
                    0.0
                } else {
                    1024.0
                }
            }),
        ] {
            let lines = vec![
                line("stateful", STATEFUL, &pick, |r| &r.stateful),
                line("stateful, no symmetry", NO_SYM, &pick, |r| &r.no_symmetry),
                line("loom", LOOM, &pick, |r| &r.loom),
                spin(spin_pick),
            ];
            charts.push((
                format!("performance-{name}-{what}.svg"),
                svg_chart(&format!("{v} × {name}-N: {what}"), unit, ns, &lines),
            ));
        }
    }
    charts
}

/// Shares of the profile's instructions (percent): allocator (malloc, free,
/// realloc), memcpy, and formatting (`core::fmt`, `format!`, `write_str`),
/// summed over the functions the profile lists.
pub fn profile_shares(profile: &str) -> (f64, f64, f64) {
    let (mut alloc, mut copy, mut fmt) = (0.0, 0.0, 0.0);
    for line in profile.lines() {
        let Some(pct) = line
            .split_once('(')
            .and_then(|(_, rest)| rest.split_once("%)"))
            .and_then(|(p, _)| p.trim().parse::<f64>().ok())
        else {
            continue;
        };
        let func = line.rsplit("  ").next().unwrap_or("");
        if func.starts_with("malloc.c:")
            || func.contains("__rdl_alloc")
            || func.contains("__rdl_dealloc")
        {
            alloc += pct;
        } else if func.contains("memmove") || func.contains("memcpy") {
            copy += pct;
        } else if func.contains("fmt") || func.contains("format") || func.contains("write_str") {
            fmt += pct;
        }
    }
    (alloc, copy, fmt)
}

/// "Where concurrent-same-file's loom executions go".
fn redundancy_markdown(r: &BenchReport) -> String {
    let mut s = String::from(
        "## Where loom's executions go\n\n\
         idempotent × concurrent-same-file-N under loom, every execution's trace kept as a hash: \
         what the stateful engine saves, seen from loom's side. \
         A *step trace* is the sequence of (task, kernel function, text) steps the counterexamples print: two executions with the same one made the same kernel calls in the same order with the same results. \
         A *behaviour* is what each task did, its own steps in order, whatever the interleaving; *up to renaming*, two behaviours that differ only in which of the identical modprobes did what count as one. \
         loom takes any two acquisitions of one lock as dependent and runs both orders, also where both orders give the same steps.\n\n\
         | N | loom executions | distinct step traces | executions per trace | behaviours | behaviours up to renaming | stateful engine |\n|---|---|---|---|---|---|---|\n",
    );
    for t in &r.redundancy {
        match t {
            Ok(t) => {
                let stateful = r
                    .series
                    .iter()
                    .find(|x| x.series == "concurrent-same-file" && x.n == t.actors)
                    .map_or("–".to_string(), |x| {
                        format!(
                            "{} states ({} without symmetry)",
                            x.stateful
                                .cost
                                .states
                                .map_or("–".into(), |s| thousands(s as usize)),
                            x.no_symmetry
                                .cost
                                .states
                                .map_or("–".into(), |s| thousands(s as usize))
                        )
                    });
                let _ = writeln!(
                    s,
                    "| {} | {}{} | {} | {:.0} | {} | {} | {stateful} |",
                    t.actors,
                    thousands(t.executions),
                    if t.exhaustive {
                        " (exhaustive)"
                    } else {
                        " (not exhaustive: counts so far)"
                    },
                    thousands(t.distinct),
                    t.executions as f64 / t.distinct.max(1) as f64,
                    thousands(t.behaviours),
                    thousands(t.up_to_symmetry)
                );
            }
            Err(e) => {
                let _ = writeln!(s, "| – | error: {e} | | | | | |");
            }
        }
    }
    s.push('\n');
    s
}

/// The targets of issue 14, each with its measured figure.
fn targets(r: &BenchReport) -> (String, Vec<String>) {
    let mut s = String::from("| target | measured | |\n|---|---|---|\n");
    let mut unmet = Vec::new();
    let mut row = |target: String, measured: String, ok: bool| {
        let _ = writeln!(s, "| {target} | {measured} | {} |", met(ok));
        if !ok {
            unmet.push(target);
        }
    };
    for (n, goal) in [(4, 2.0), (5, 10.0), (6, 10.0)] {
        let target = format!("concurrent-same-file N = {n}, exhaustive, in at most {goal:.0} s");
        match r
            .series
            .iter()
            .find(|x| x.series == "concurrent-same-file" && x.n == n)
        {
            Some(x) => {
                let m = &x.stateful;
                let ok = m.cost.error.is_none()
                    && m.cost.exhaustive
                    && m.cost.inconclusive == 0
                    && m.cost.check_s <= goal;
                row(target, format!("stateful: {}", engine_cell(m)), ok);
            }
            None => row(target, "not measured".into(), false),
        }
    }
    match &r.matrix {
        Some(t) => row(
            "the whole catalogue in at most 15 s, no cell inconclusive at a bound".into(),
            format!(
                "{} wall, {} peak: {}",
                secs(t.wall.as_secs_f64()),
                mib(t.peak_kib),
                t.summary
            ),
            t.ok && t.wall.as_secs_f64() <= 15.0,
        ),
        None => row(
            "the whole catalogue in at most 15 s".into(),
            "not measured".into(),
            false,
        ),
    }
    match &r.diff {
        Some(t) => row(
            "`diff` of a proposal over the catalogue in at most 15 s".into(),
            format!(
                "`{}`: {} wall, {} peak; {}",
                t.command,
                secs(t.wall.as_secs_f64()),
                mib(t.peak_kib),
                t.summary
            ),
            t.wall.as_secs_f64() <= 15.0,
        ),
        None => row(
            "`diff` in at most 15 s".into(),
            "not measured".into(),
            false,
        ),
    }
    match &r.cargo_test {
        Some(t) => row(
            "`cargo test --release` on a built tree in at most 60 s".into(),
            format!("{} wall; {}", secs(t.wall.as_secs_f64()), t.summary),
            t.ok && t.wall.as_secs_f64() <= 60.0,
        ),
        None => row(
            "`cargo test --release` in at most 60 s".into(),
            "not measured in this run".into(),
            false,
        ),
    }
    let stateful: Vec<&Measured> = r
        .cycle
        .iter()
        .filter(|m| m.job.engine == EngineKind::Stateful)
        .collect();
    let done = stateful
        .iter()
        .filter(|m| m.cost.error.is_none() && m.cost.exhaustive)
        .count();
    let slowest = stateful
        .iter()
        .max_by(|a, b| a.cost.check_s.total_cmp(&b.cost.check_s));
    row(
        "two-loader cycle with `timer = true` (more threads than loom's five): exhaustive verdicts for every variant and for idem-timeout".into(),
        format!(
            "{done} of {} exhaustive{}",
            stateful.len(),
            slowest.map_or(String::new(), |m| format!(
                "; the longest, {}: {}",
                m.job.variant,
                engine_cell(m)
            ))
        ),
        !stateful.is_empty() && done == stateful.len(),
    );
    for [stateful, loom, _] in &r.flagships {
        let (ok, text) = match stateful.cost.first_violation {
            Some((_, t)) => (
                t <= 1.0,
                format!("stateful: violated, found after {}", secs(t)),
            ),
            None => (false, "stateful: no violation found".into()),
        };
        let loom_text = loom.cost.first_violation.map_or(String::new(), |(n, t)| {
            format!("; loom: execution {}, after {}", thousands(n), secs(t))
        });
        row(
            format!(
                "flagship {} × {} found in at most 1 s",
                stateful.job.variant, stateful.job.scenario
            ),
            format!("{text}{loom_text}"),
            ok,
        );
    }
    (s, unmet)
}

/// `reports/performance.md`.
pub fn performance_markdown(r: &BenchReport, o: &BenchOptions) -> String {
    let mut s = String::new();
    s.push_str("# kmodcheck performance\n\n");
    s.push_str(
        "Generated by `cargo xtask bench` (README, \"Performance\"). Every figure \
         below was measured by that one run, on the machine named here, in release mode; each \
         measurement ran in its own process, one at a time; the whole-matrix and `diff` runs \
         check `KMODCHECK_JOBS` cells at once, and `cargo test` runs its tests as it does. \
         Seconds are wall time spent checking (`check_cell`; for a command, the process's wall \
         time), memory is the process's peak resident set (`ru_maxrss`). Timings are not \
         asserted by any test: this machine is shared and noisy, so compare figures within one \
         run, as ratios.\n\n\
         Engines: **stateful** is kmodcheck's explicit-state search (states are fingerprints of \
         the model's state; symmetry reduction over interchangeable actors, README \
         \"Soundness\"); **loom** explores interleavings with partial-order reduction and allows \
         5 threads; **shuttle DFS** enumerates schedules; **shuttle PCT** samples them.\n\n",
    );
    let _ = writeln!(s, "Machine: {}.\n", r.machine);

    let (table, unmet) = targets(r);
    s.push_str("## Targets\n\n");
    s.push_str(&table);
    if unmet.is_empty() {
        s.push_str("\nEvery target is met in this run.\n\n");
    } else {
        let _ = writeln!(
            s,
            "\nNot met in this run: {}. The figures are above and below; nothing here is extrapolated.\n",
            unmet.join("; ")
        );
    }

    // Flagships.
    s.push_str("## Flagship counterexamples\n\n| cell | engine | first violation | whole run |\n|---|---|---|---|\n");
    for ms in &r.flagships {
        for m in ms {
            let first = m.cost.first_violation.map_or("none".to_string(), |(n, t)| {
                if m.job.engine == EngineKind::Stateful {
                    format!("after {}", secs(t))
                } else {
                    format!("execution {}, after {}", thousands(n), secs(t))
                }
            });
            let _ = writeln!(
                s,
                "| {} × {} | {} | {first} | {} |",
                m.job.variant,
                m.job.scenario,
                m.job.engine.name(),
                engine_cell(m)
            );
        }
    }

    // Series.
    let _ = writeln!(
        s,
        "\n## Scale series\n\nThe stateful engine with and without symmetry reduction, and loom \
         (no preemption bound), each within {} per run; a run that did not finish says \
         \"NOT exhaustive\" and its figures are how far it got. loom refuses a scenario with \
         more than 5 threads at once. SPIN: the figures of issue 14 for an independent Promela \
         model of N concurrent loads of one file, proved exhaustively by SPIN 6.5.2 on the same \
         kind of machine; another model, with other states, given for scale only.\n",
        secs(o.series_budget.as_secs_f64())
    );
    s.push_str("| series | N | stateful | stateful, no symmetry | loom | SPIN 6.5.2 (another model) |\n|---|---|---|---|---|---|\n");
    for x in &r.series {
        let spin = if x.series == "concurrent-same-file" {
            SPIN.iter()
                .find(|p| p.0 == x.n)
                .map_or("–".to_string(), |p| {
                    format!(
                        "{} states, {}{}",
                        thousands(p.1 as usize),
                        p.2,
                        if p.4.is_empty() {
                            String::new()
                        } else {
                            format!(", {}", p.4)
                        }
                    )
                })
        } else {
            "–".into()
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {spin} |",
            x.series,
            x.n,
            engine_cell(&x.stateful),
            engine_cell(&x.no_symmetry),
            engine_cell(&x.loom),
        );
    }
    s.push('\n');
    for (file, _) in series_charts(r) {
        let _ = writeln!(s, "![{file}]({file})\n");
    }

    // The cycle.
    if !r.cycle.is_empty() {
        let _ = writeln!(
            s,
            "## The two-loader cycle with timed waits\n\n`{CYCLE}`: m0's init requests m1, m1's init requests m0, both modprobes at once, and every timed wait may time out: six model threads at once in its deadlock (main, two modprobes, two helpers, the timer), eight by loom's static count, which refuses it. Each variant under the stateful engine, and loom.\n\n| variant | engine | no-deadlock | run |\n|---|---|---|---|"
        );
        for m in &r.cycle {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} |",
                m.job.variant,
                m.job.engine.name(),
                m.cost.verdicts.first().map_or("–", |v| v.as_str()),
                engine_cell(m)
            );
        }
        s.push('\n');
    }

    if !r.redundancy.is_empty() {
        s.push_str(&redundancy_markdown(r));
    }

    // Comparisons.
    if !r.compare.is_empty() {
        s.push_str(
            "## Before and after\n\nThe probe cells under each build, in this one run. \
             Instructions: `valgrind --tool=callgrind` on the probe's first 2,000 executions, \
             which counts the same on a busy machine.\n\n| build | probe | wall | user CPU | system CPU | instructions (2,000 executions) |\n|---|---|---|---|---|---|\n",
        );
        for (b, p, wall, user, sys, instr) in &r.compare {
            let _ = writeln!(
                s,
                "| {b} | {p} | {} | {user:.2} s | {sys:.2} s | {} |",
                secs(wall.as_secs_f64()),
                instr.map_or("–".into(), |n| thousands(n as usize))
            );
        }
        s.push('\n');
    }
    if let Some(p) = &r.profile {
        let (v, sc, _) = PROBES[0];
        let (alloc, copy, fmt) = profile_shares(p);
        let _ = writeln!(
            s,
            "## Profile of this build\n\n`callgrind_annotate` (exclusive instructions) on `kmodcheck check --variant {v} --scenario {sc}` (the stateful engine): {alloc:.0}% of the listed instructions in the allocator, {copy:.0}% in memcpy, {fmt:.0}% formatting.\n\n```\n{p}\n```\n"
        );
    }

    // Cells.
    if !r.cells.is_empty() {
        let total = |f: fn(&CellRow) -> &Measured| -> f64 {
            r.cells.iter().map(|c| f(c).cost.check_s).sum()
        };
        let states: u64 = r.cells.iter().filter_map(|c| c.stateful.cost.states).sum();
        let loom_execs: usize = r.cells.iter().map(|c| c.loom.cost.executions).sum();
        let both = r
            .cells
            .iter()
            .filter(|c| c.stateful.cost.exhaustive && c.loom.cost.exhaustive)
            .count();
        let differ = r
            .cells
            .iter()
            .filter(|c| agreement(&c.stateful, &c.loom) == "**DIFFER**")
            .count();
        let not_exhaustive: Vec<String> = r
            .cells
            .iter()
            .filter(|c| !c.stateful.cost.exhaustive)
            .map(|c| format!("{} × {}", c.stateful.job.variant, c.stateful.job.scenario))
            .collect();
        let peak = r
            .cells
            .iter()
            .map(|c| c.stateful.peak_kib)
            .max()
            .unwrap_or(0);
        let _ = writeln!(
            s,
            "## Every cell\n\n{} cells, one process per cell and engine, one at a time. The stateful engine: {} states in {} of checking, every cell exhaustive{}; peak memory at most {}. loom, bounded at {} executions per cell as before: {} executions in {}. Both finished on {both} cells; their verdicts differ on {differ}. Shuttle DFS had {} per cell; where it did not finish, PCT ran {} executions. Ratios in one run: loom took {:.1}× the stateful engine's checking time over the catalogue.\n",
            r.cells.len(),
            thousands(states as usize),
            secs(total(|c| &c.stateful)),
            if not_exhaustive.is_empty() {
                String::new()
            } else {
                format!(" but {}", not_exhaustive.join(", "))
            },
            mib(peak),
            thousands(kmodcheck::CATALOGUE_BOUND),
            thousands(loom_execs),
            secs(total(|c| &c.loom)),
            secs(o.dfs_budget.as_secs_f64()),
            thousands(o.pct_samples),
            total(|c| &c.loom) / total(|c| &c.stateful).max(1e-9),
        );
        s.push_str("| variant | scenario | stateful | loom | loom executions per state | shuttle DFS | shuttle PCT | stateful and loom |\n|---|---|---|---|---|---|---|---|\n");
        for c in &r.cells {
            let per_state = match c.stateful.cost.states {
                Some(st) if st > 0 && c.loom.cost.exhaustive && c.stateful.cost.exhaustive => {
                    format!("{:.1}", c.loom.cost.executions as f64 / st as f64)
                }
                _ => "–".into(),
            };
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {per_state} | {} | {} | {} |",
                c.stateful.job.variant,
                c.stateful.job.scenario,
                engine_cell(&c.stateful),
                engine_cell(&c.loom),
                engine_cell(&c.dfs),
                c.pct.as_ref().map_or("–".into(), engine_cell),
                agreement(&c.stateful, &c.loom)
            );
        }
    }
    s
}

/// How much of an exploration repeats itself, as the kernel would see it:
/// of its executions, how many distinct step traces there were, and how many
/// remain once traces that differ only in which identical actor is which
/// (`T1`, `T2`, ... renamed) are counted as one. The first bounds
/// what state caching could save, the second what symmetry reduction could.
/// A trace is the sequence of (task, kernel function, text) steps
/// ([`kmodcheck_model::trace::Event`]); two executions with the same trace
/// made the same kernel calls in the same order with the same results.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceRedundancy {
    /// Scenario name.
    pub scenario: String,
    /// Variant id.
    pub variant: String,
    /// loom executions.
    pub executions: usize,
    /// Whether loom finished (otherwise the counts cover only what it ran).
    pub exhaustive: bool,
    /// Distinct step traces.
    pub distinct: usize,
    /// Distinct behaviours: what each task did, its own steps in order.
    pub behaviours: usize,
    /// Distinct behaviours up to renaming the identical actors.
    pub up_to_symmetry: usize,
    /// How many identical actors there are.
    pub actors: usize,
}

/// Rename the tasks `T<k>` of a step's text by `map` (old id → new id,
/// both 1-based). Other text is kept as is.
fn rename_tasks(text: &str, map: &[usize]) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        let boundary = i == 0 || !b[i - 1].is_ascii_alphanumeric();
        if b[i] == b'T' && boundary {
            let digits = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
            let end = i + 1 + digits;
            let ends_word = end >= b.len() || !b[end].is_ascii_alphanumeric();
            if digits > 0 && ends_word {
                if let Some(new) = text[i + 1..end]
                    .parse::<usize>()
                    .ok()
                    .and_then(|k| map.get(k).copied())
                {
                    let _ = write!(out, "T{new}");
                    i = end;
                    continue;
                }
            }
        }
        let c = text[i..].chars().next().unwrap_or(' ');
        out.push(c);
        i += c.len_utf8();
    }
    out
}

/// Every permutation of `1..=n`, as maps `map[old] = new` (index 0 unused).
fn renamings(n: usize) -> Vec<Vec<usize>> {
    fn extend(prefix: &mut Vec<usize>, n: usize, out: &mut Vec<Vec<usize>>) {
        if prefix.len() == n + 1 {
            out.push(prefix.clone());
            return;
        }
        for k in 1..=n {
            if !prefix[1..].contains(&k) {
                prefix.push(k);
                extend(prefix, n, out);
                prefix.pop();
            }
        }
    }
    let mut out = Vec::new();
    extend(&mut vec![0], n, &mut out);
    out
}

/// One execution as three hashes: its step trace; its behaviour (each
/// task's own steps); and its behaviour up to renaming the actors (the least
/// hash over every renaming: the same for two behaviours exactly when a
/// renaming maps one onto the other, hash collisions aside). `renamings[0]`
/// is the identity. Tasks 1..=actors are the actors, `T1`..`Tn` in the text.
fn trace_hashes(
    rec: &kmodcheck_model::trace::Trace,
    actors: usize,
    renamings: &[Vec<usize>],
) -> (u64, u64, u64) {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for e in &rec.events {
        (e.task.0, e.func, e.what.as_str()).hash(&mut h);
    }
    let raw = h.finish();
    // Each task's own steps in its order, filed under its new name, with
    // the actors in the text renamed too.
    let per_renaming: Vec<u64> = renamings
        .iter()
        .map(|m| {
            let mut own: Vec<Vec<(&str, String)>> = vec![Vec::new(); rec.tasks.len()];
            for e in &rec.events {
                let task = if (1..=actors).contains(&e.task.0) {
                    m[e.task.0]
                } else {
                    e.task.0
                };
                if let Some(steps) = own.get_mut(task) {
                    steps.push((e.func, rename_tasks(&e.what, m)));
                }
            }
            let mut h = std::collections::hash_map::DefaultHasher::new();
            own.hash(&mut h);
            h.finish()
        })
        .collect();
    let own = per_renaming.first().copied().unwrap_or(raw);
    let sym = per_renaming.iter().copied().min().unwrap_or(raw);
    (raw, own, sym)
}

/// Explore `variant × scenario` with loom (unbounded, or until `time`) and
/// count its distinct traces ([`TraceRedundancy`]). Only for scenarios whose
/// actors are all the same and start no other task (concurrent-same-file):
/// there renaming the actors maps every run of the kernel to another run.
/// Hashes are 64-bit; a collision would undercount by one, at odds of about
/// one in 10^7 for a million traces.
pub fn trace_redundancy(
    variant_id: &str,
    sc: &Scenario,
    time: Option<Duration>,
) -> Result<TraceRedundancy, String> {
    use std::collections::HashSet;
    use std::sync::{Arc, Mutex};
    let v = variant::by_id(variant_id)
        .ok_or_else(|| format!("unknown variant; variant={variant_id}"))?;
    let actors = sc.actors.len();
    if sc.actors.windows(2).any(|w| w[0] != w[1]) {
        return Err(format!(
            "scenario {}: its actors differ, so renaming them is not a symmetry",
            sc.name
        ));
    }
    type Seen = (HashSet<u64>, HashSet<u64>, HashSet<u64>, Option<String>);
    let seen: Arc<Mutex<Seen>> = Arc::default();
    let obs = {
        let seen = seen.clone();
        let name = sc.name.clone();
        let perms = renamings(actors);
        kmodcheck::engine::Observer(Arc::new(move |o: &kmodcheck::engine::Outcome| {
            let mut s = seen.lock().unwrap_or_else(|e| e.into_inner());
            let Some(trace) = &o.trace else {
                s.3 = Some("the engine kept no trace".into());
                return;
            };
            if trace.tasks.len() != actors + 1 {
                s.3 = Some(format!(
                    "scenario {}: an execution had {} tasks besides init, not just its {actors} actors",
                    name,
                    trace.tasks.len().saturating_sub(1)
                ));
            }
            let (raw, own, sym) = trace_hashes(trace, actors, &perms);
            s.0.insert(raw);
            s.1.insert(own);
            s.2.insert(sym);
        }))
    };
    let opts = CheckOptions {
        engine: Some(EngineKind::Loom),
        time_limit: time,
        observer: Some(obs),
        ..CheckOptions::default()
    };
    let c = check_cell(v, sc, &opts)?;
    let s = seen.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(e) = &s.3 {
        return Err(e.clone());
    }
    Ok(TraceRedundancy {
        scenario: sc.name.clone(),
        variant: variant_id.to_string(),
        executions: c.executions,
        exhaustive: c.exhaustive,
        distinct: s.0.len(),
        behaviours: s.1.len(),
        up_to_symmetry: s.2.len(),
        actors,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rename_tasks_renames_whole_task_names_only() {
        // map[old] = new: T1 -> T2, T2 -> T1.
        let map = [0, 2, 1];
        assert_eq!(
            rename_tasks("T1's load is in flight; T2 waits for T1", &map),
            "T2's load is in flight; T1 waits for T2"
        );
        // Not task names: inside a word, unknown ids, a lone T.
        assert_eq!(
            rename_tasks("OUT1 xT2 T9 T -ETXTBSY T1→T2", &map),
            "OUT1 xT2 T9 T -ETXTBSY T2→T1"
        );
    }

    /// The symmetry figure is not vacuous, and counts what the kernel does:
    /// two modprobes of one file under 9b9879fc0327 behave in exactly three
    /// ways, whichever of them wins: the loser's name check finds x LIVE
    /// (-EEXIST); or it finds the winner's entry and waits, sleeping; or it
    /// waits and the completion is already done when it would sleep. Each
    /// happens with T1 or T2 as the winner: six behaviours, three up to
    /// renaming; and the steps of the two interleave in more ways than that.
    #[test]
    fn trace_redundancy_finds_the_modprobes_symmetry() {
        let r = trace_redundancy("idempotent", &scenario::concurrent_same_file(2), None)
            .expect("concurrent-same-file-2 has identical actors");
        assert!(r.exhaustive);
        assert_eq!(r.actors, 2);
        assert_eq!(r.up_to_symmetry, 3, "{r:?}");
        assert_eq!(r.behaviours, 6, "{r:?}");
        assert!(r.distinct > r.behaviours, "{r:?}");
        assert!(r.distinct <= r.executions, "{r:?}");
    }

    #[test]
    fn renamings_start_with_the_identity_and_cover_every_permutation() {
        let r = renamings(3);
        assert_eq!(r.len(), 6);
        assert_eq!(r[0], vec![0, 1, 2, 3]);
        let set: std::collections::HashSet<_> = r.iter().collect();
        assert_eq!(set.len(), 6);
    }

    #[test]
    fn profile_shares_sums_by_kind() {
        let p = "233,038,378 instructions in all\n\n\
                 21,683,104 ( 9.30%)  malloc.c:_int_free\n\
                 13,435,887 ( 5.77%)  memmove-vec-unaligned-erms.S:__memcpy_avx_unaligned_erms\n\
                 5,863,220 ( 2.52%)  execution.rs:loom::rt::execution::Execution::schedule\n\
                 4,506,821 ( 1.93%)  mod.rs:core::fmt::write\n\
                 2,282,878 ( 0.98%)  unix.rs:__rustc::__rdl_alloc\n";
        let (a, c, f) = profile_shares(p);
        assert!((a - 10.28).abs() < 1e-9, "{a}");
        assert!((c - 5.77).abs() < 1e-9, "{c}");
        assert!((f - 1.93).abs() < 1e-9, "{f}");
    }

    fn measured(
        engine: EngineKind,
        scenario: &str,
        states: u64,
        exhaustive: bool,
        check_s: f64,
    ) -> Measured {
        Measured {
            job: job("idempotent", scenario, engine),
            cost: CellCost {
                executions: states as usize * 2,
                states: (engine == EngineKind::Stateful).then_some(states),
                transitions: (engine == EngineKind::Stateful).then_some(states * 3),
                exhaustive,
                check_s,
                ..CellCost::default()
            },
            wall: Duration::from_secs_f64(check_s),
            peak_kib: 4096,
        }
    }

    fn series_row(n: usize, check_s: f64, exhaustive: bool) -> SeriesRow {
        let s = format!("concurrent-same-file-{n}");
        SeriesRow {
            series: "concurrent-same-file".into(),
            n,
            stateful: measured(
                EngineKind::Stateful,
                &s,
                1000 * n as u64,
                exhaustive,
                check_s,
            ),
            no_symmetry: measured(
                EngineKind::Stateful,
                &s,
                9000 * n as u64,
                exhaustive,
                check_s * 5.0,
            ),
            loom: measured(EngineKind::Loom, &s, 100_000, false, 60.0),
        }
    }

    fn timed(secs: f64, summary: &str, ok: bool) -> Timed {
        Timed {
            command: "kmodcheck matrix".into(),
            wall: Duration::from_secs_f64(secs),
            summary: summary.into(),
            ok,
            ..Timed::default()
        }
    }

    /// Each target is met exactly when its measured figure is within it:
    /// every row can say "met" and can say "not met".
    #[test]
    fn targets_follow_the_figures() {
        let mut r = BenchReport {
            series: vec![
                series_row(4, 0.5, true),
                series_row(5, 3.0, true),
                series_row(6, 9.0, true),
            ],
            matrix: Some(timed(8.0, "141 cells (141 exhaustive), ...", true)),
            diff: Some(timed(9.0, "3 verdicts differ", true)),
            cargo_test: Some(timed(55.0, "300 passed, 0 failed", true)),
            cycle: vec![measured(EngineKind::Stateful, CYCLE, 2109, true, 0.8)],
            ..BenchReport::default()
        };
        let (table, unmet) = targets(&r);
        assert!(unmet.is_empty(), "{unmet:?}\n{table}");
        assert_eq!(table.matches("| met |").count(), 7, "{table}");
        // Each one missed, in turn.
        r.series[0] = series_row(4, 2.5, true);
        r.series[1] = series_row(5, 3.0, false);
        r.series[2] = series_row(6, 11.0, true);
        r.matrix = Some(timed(8.0, "141 cells (140 exhaustive), ...", false));
        r.diff = Some(timed(16.0, "", true));
        r.cargo_test = Some(timed(30.0, "299 passed, 1 failed", false));
        r.cycle
            .push(measured(EngineKind::Stateful, CYCLE, 2109, false, 60.0));
        let (table, unmet) = targets(&r);
        assert_eq!(unmet.len(), 7, "{unmet:?}\n{table}");
        assert!(!table.contains("| met |"), "{table}");
    }

    #[test]
    fn the_matrix_summary_says_whether_every_cell_was_exhaustive() {
        assert!(matrix_all_exhaustive(
            "141 cells (141 exhaustive), 150,000 states, 300,000 executions, 6.1 s wall time"
        ));
        assert!(!matrix_all_exhaustive(
            "141 cells (140 exhaustive), 150,000 states, 300,000 executions, 6.1 s wall time"
        ));
        assert!(!matrix_all_exhaustive(
            "141 cells, 5716786 executions, 62.4 s wall time"
        ));
    }

    /// A chart is an SVG with one polyline per line that has points.
    #[test]
    fn charts_draw_every_line() {
        let r = BenchReport {
            series: vec![
                series_row(4, 0.5, true),
                series_row(5, 3.0, true),
                series_row(6, 9.0, false),
            ],
            ..BenchReport::default()
        };
        let charts = series_charts(&r);
        assert_eq!(charts.len(), 3, "explored, seconds, memory");
        let (name, svg) = &charts[0];
        assert_eq!(name, "performance-concurrent-same-file-explored.svg");
        assert!(svg.starts_with("<svg"), "{svg}");
        for label in [
            "stateful",
            "stateful, no symmetry",
            "loom",
            "SPIN 6.5.2, another model",
        ] {
            assert!(svg.contains(&format!("\n{label}\n")), "{label} missing");
        }
    }

    #[test]
    fn trace_redundancy_refuses_different_actors() {
        let e = trace_redundancy("idempotent", &scenario::shared_dependency(2), None).unwrap_err();
        assert!(e.contains("actors differ"), "{e}");
    }
}
