//! `kmodcheck bench`: what each verdict costs, measured, and
//! `reports/performance.md`.
//!
//! Every measurement runs in its own process (`kmodcheck bench-cell`, hidden),
//! so its peak memory is its own (`ru_maxrss` from `wait4`), and no
//! measurement shares an address space, an allocator or a stack pool with
//! another. The parent times the process; the child reports what the engine
//! did (executions, exhaustive or not, verdicts, and when the first violation
//! was found) as one JSON line. One pass runs in the parent, because it
//! counts rather than times: [`trace_redundancy`], where
//! concurrent-same-file's loom executions go.
//!
//! Why a command and not criterion (README, "Performance"): a cell is one
//! long, deterministic exploration (up to 1.1 million executions), not a
//! microsecond routine to sample a hundred times; what a reviewer wants is
//! executions, whether the run was exhaustive, time to verdict and memory,
//! per cell and engine, and the ratio of loom's executions to shuttle DFS's.
//! criterion measures none of those but time.

use crate::engine::{check_cell, CheckOptions, EngineKind, Verdict};
use crate::report::thousands;
use kmodcheck_model::scenario::{self, Scenario};
use kmodcheck_model::variant;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

/// A scenario by name: the catalogue's, or a member of a scale series
/// (`concurrent-same-file-N`, `shared-dependency-N`).
pub fn scenario_named(name: &str) -> Option<Scenario> {
    if let Some(s) = scenario::catalogue().into_iter().find(|s| s.name == name) {
        return Some(s);
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
}

impl Job {
    /// The arguments of `kmodcheck bench-cell` for this job.
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
        ]
    }

    /// Parse the arguments after `bench-cell`.
    pub fn parse(args: &[String]) -> Result<Job, String> {
        let [v, s, e, m, t, n] = args else {
            return Err(format!(
                "bench-cell takes VARIANT SCENARIO ENGINE MAX_EXECUTIONS TIME_LIMIT_MS SAMPLES; got {} arguments",
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
            engine: EngineKind::parse(e).ok_or_else(|| format!("unknown engine; engine={e}"))?,
            max_executions: opt(m, "MAX_EXECUTIONS")?.map(|n| n as usize),
            time_limit: opt(t, "TIME_LIMIT_MS")?.map(Duration::from_millis),
            samples: n
                .parse()
                .map_err(|_| format!("SAMPLES={n:?} is not a whole number"))?,
        })
    }
}

/// What a `bench-cell` process reports.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct CellCost {
    /// Executions run.
    pub executions: usize,
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

/// One line of a series plot: a label, a colour, and (N, value) points.
pub struct Line {
    /// Legend text.
    pub label: String,
    /// SVG colour.
    pub colour: &'static str,
    /// Points; a missing value (did not finish) is left out.
    pub points: Vec<(usize, f64)>,
    /// Dashed (for a run that did not finish: a lower bound).
    pub dashed: bool,
}

/// A log-scale line chart as a standalone SVG: `lines` over x = N.
pub fn svg_chart(title: &str, y_label: &str, xs: &[usize], lines: &[Line]) -> String {
    let (w, h) = (560.0_f64, 340.0_f64);
    let (left, right, top, bottom) = (70.0, 190.0, 40.0, 50.0);
    let values: Vec<f64> = lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.1))
        .filter(|v| *v > 0.0)
        .collect();
    let lo = values
        .iter()
        .cloned()
        .fold(f64::INFINITY, f64::min)
        .log10()
        .floor();
    let hi = values
        .iter()
        .cloned()
        .fold(0.0_f64, f64::max)
        .log10()
        .ceil()
        .max(lo + 1.0);
    let (x0, x1) = (
        *xs.first().unwrap_or(&0) as f64,
        *xs.last().unwrap_or(&1) as f64,
    );
    let px = |x: f64| left + (x - x0) / (x1 - x0).max(1.0) * (w - left - right);
    let py = |v: f64| top + (hi - v.log10()) / (hi - lo) * (h - top - bottom);
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="{w}" height="{h}" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{}" y="22" font-size="14" font-weight="bold">{}</text>"#,
        left,
        xml(title)
    );
    let mut d = lo as i32;
    while d as f64 <= hi {
        let y = py(10f64.powi(d));
        let _ = writeln!(
            s,
            r##"<line x1="{left}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" text-anchor="end">1e{d}</text>"##,
            w - right,
            left - 6.0,
            y + 4.0
        );
        d += 1;
    }
    for x in xs {
        let _ = writeln!(
            s,
            r##"<line x1="{0:.1}" y1="{top}" x2="{0:.1}" y2="{1:.1}" stroke="#eee"/><text x="{0:.1}" y="{2:.1}" text-anchor="middle">{x}</text>"##,
            px(*x as f64),
            h - bottom,
            h - bottom + 18.0
        );
    }
    let _ = writeln!(
        s,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">N</text>"#,
        (left + w - right) / 2.0,
        h - 12.0
    );
    let _ = writeln!(
        s,
        r#"<text transform="translate(18 {:.1}) rotate(-90)" text-anchor="middle">{}</text>"#,
        (top + h - bottom) / 2.0,
        xml(y_label)
    );
    for (i, l) in lines.iter().enumerate() {
        let pts: Vec<String> = l
            .points
            .iter()
            .filter(|p| p.1 > 0.0)
            .map(|(x, v)| format!("{:.1},{:.1}", px(*x as f64), py(*v)))
            .collect();
        let dash = if l.dashed {
            r#" stroke-dasharray="5 4""#
        } else {
            ""
        };
        let _ = writeln!(
            s,
            r#"<polyline points="{}" fill="none" stroke="{}" stroke-width="2"{dash}/>"#,
            pts.join(" "),
            l.colour
        );
        for p in &pts {
            let (cx, cy) = p.split_once(',').unwrap_or(("0", "0"));
            let _ = writeln!(
                s,
                r#"<circle cx="{cx}" cy="{cy}" r="3" fill="{}"/>"#,
                l.colour
            );
        }
        let ly = top + 10.0 + 20.0 * i as f64;
        let _ = writeln!(
            s,
            r#"<line x1="{:.1}" y1="{ly:.1}" x2="{:.1}" y2="{ly:.1}" stroke="{}" stroke-width="2"{dash}/><text x="{:.1}" y="{:.1}">{}</text>"#,
            w - right + 12.0,
            w - right + 36.0,
            l.colour,
            w - right + 42.0,
            ly + 4.0,
            xml(&l.label)
        );
    }
    s.push_str("</svg>\n");
    s
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// What `kmodcheck bench` runs.
#[derive(Clone, Debug)]
pub struct BenchOptions {
    /// Time a shuttle DFS run of a matrix cell may take before the cell is
    /// sampled with PCT instead.
    pub dfs_budget: Duration,
    /// Executions of each shuttle PCT run.
    pub pct_samples: usize,
    /// Time bound of each scale-series run (loom and DFS).
    pub series_budget: Duration,
    /// Cells checked at once by the whole-matrix run (`KMODCHECK_JOBS`).
    pub jobs: usize,
    /// Other builds of kmodcheck to compare with this one on the probe
    /// cells: (name, executable).
    pub compare: Vec<(String, std::path::PathBuf)>,
    /// Skip the per-cell pass (the slowest part): only the whole matrix,
    /// flagships, series and comparisons.
    pub skip_cells: bool,
}

/// Every figure of one `kmodcheck bench` run.
#[derive(Clone, Debug, Default)]
pub struct BenchReport {
    /// The whole matrix as `kmodcheck matrix` runs it: wall time, peak
    /// memory, user and system CPU seconds, and its summary line.
    pub matrix: Option<(Duration, u64, f64, f64, String)>,
    /// Per cell: loom, then shuttle DFS, then PCT where DFS did not finish.
    pub cells: Vec<(Measured, Measured, Option<Measured>)>,
    /// Flagship counterexamples: loom and shuttle PCT.
    pub flagships: Vec<(Measured, Measured)>,
    /// Scale series: (series name, N, loom, shuttle DFS, PCT if DFS did not finish).
    pub series: Vec<(String, usize, Measured, Measured, Option<Measured>)>,
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
        &[2, 3, 4],
        "idempotent",
    ),
    (
        "shared-dependency",
        "shared-dependency-",
        &[2, 3],
        "idempotent",
    ),
];

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
            variant: variant.into(),
            scenario: scenario.into(),
            engine: EngineKind::ShuttleDfs,
            max_executions: None,
            time_limit: Some(budget),
            samples,
        },
    );
    let pct = (!dfs.cost.exhaustive).then(|| {
        measure(
            exe,
            &Job {
                variant: variant.into(),
                scenario: scenario.into(),
                engine: EngineKind::ShuttlePct,
                max_executions: None,
                time_limit: None,
                samples,
            },
        )
    });
    (dfs, pct)
}

fn loom_job(variant: &str, scenario: &str, bound: Option<usize>, time: Option<Duration>) -> Job {
    Job {
        variant: variant.into(),
        scenario: scenario.into(),
        engine: EngineKind::Loom,
        max_executions: bound,
        time_limit: time,
        samples: 0,
    }
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

/// Run every measurement, printing one progress line per measurement to
/// stderr.
pub fn run_bench(exe: &Path, o: &BenchOptions) -> BenchReport {
    let mut r = BenchReport {
        machine: machine(),
        ..BenchReport::default()
    };
    let started = Instant::now();
    let note = |what: &str, m: &Measured| {
        eprintln!(
            "[{:>6.1} s] {what} {} × {} ({}): {} executions{}, {}{}",
            started.elapsed().as_secs_f64(),
            m.job.variant,
            m.job.scenario,
            m.job.engine.name(),
            thousands(m.cost.executions),
            if m.cost.exhaustive {
                ", exhaustive"
            } else {
                ""
            },
            secs(m.cost.check_s),
            m.cost
                .error
                .as_ref()
                .map_or(String::new(), |e| format!(", error: {e}"))
        );
    };

    // 1. The whole matrix, as the main job runs it.
    eprintln!(
        "bench: the whole matrix (`kmodcheck matrix`, KMODCHECK_JOBS={})",
        o.jobs
    );
    if let Ok((out, wall, peak, user, sys)) = run_measured(
        exe,
        &["matrix".into()],
        &[("KMODCHECK_JOBS", o.jobs.to_string())],
    ) {
        let summary = out
            .lines()
            .find(|l| l.contains(" cells, ") && l.contains(" executions, "))
            .unwrap_or("")
            .to_string();
        eprintln!("bench: {summary}; {} peak", mib(peak));
        r.matrix = Some((wall, peak, user, sys, summary));
    }

    // 2. Flagship counterexamples: time to the violation.
    for (v, s) in FLAGSHIPS {
        let loom = measure(exe, &loom_job(v, s, None, None));
        note("flagship", &loom);
        let pct = measure(
            exe,
            &Job {
                variant: v.into(),
                scenario: s.into(),
                engine: EngineKind::ShuttlePct,
                max_executions: None,
                time_limit: None,
                samples: o.pct_samples,
            },
        );
        note("flagship", &pct);
        r.flagships.push((loom, pct));
    }

    // 3. Scale series.
    for (name, prefix, ns, v) in SERIES {
        for &n in ns {
            let s = format!("{prefix}{n}");
            let loom = measure(exe, &loom_job(v, &s, None, Some(o.series_budget)));
            note("series", &loom);
            let (dfs, pct) = dfs_then_pct(exe, v, &s, o.series_budget, o.pct_samples);
            note("series", &dfs);
            if let Some(p) = &pct {
                note("series", p);
            }
            r.series.push((name.to_string(), n, loom, dfs, pct));
        }
    }

    // 3b. Where the series' executions go: distinct traces and behaviours.
    // Counts, not timings, so it runs in this process.
    for &n in SERIES[0].2 {
        let sc = scenario::concurrent_same_file(n);
        let red = trace_redundancy(SERIES[0].3, &sc, Some(o.series_budget));
        match &red {
            Ok(t) => eprintln!(
                "[{:>6.1} s] traces {} × {}: {} executions{}, {} distinct traces, {} behaviours up to renaming the modprobes",
                started.elapsed().as_secs_f64(),
                t.variant,
                t.scenario,
                thousands(t.executions),
                if t.exhaustive { ", exhaustive" } else { "" },
                thousands(t.distinct),
                thousands(t.up_to_symmetry)
            ),
            Err(e) => eprintln!("bench: traces {}: {e}", sc.name),
        }
        r.redundancy.push(red);
    }

    // 4. Every cell of the catalogue, each engine in its own process.
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
            let loom = measure(exe, &loom_job(v, s, Some(crate::CATALOGUE_BOUND), None));
            note(&format!("cell {}/{}", i + 1, cells.len()), &loom);
            let (dfs, pct) = dfs_then_pct(exe, v, s, o.dfs_budget, o.pct_samples);
            note(&format!("cell {}/{}", i + 1, cells.len()), &dfs);
            r.cells.push((loom, dfs, pct));
        }
    }

    // 5. Other builds on the probe cells, alternating, in this one run.
    let mut builds: Vec<(String, std::path::PathBuf)> = o.compare.clone();
    if !builds.is_empty() {
        builds.push(("this build".into(), exe.to_path_buf()));
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

    // 6. Where this build's instructions go, on the first probe.
    let (v, s, _) = PROBES[0];
    r.profile = callgrind(
        exe,
        &[
            "check".into(),
            "--variant".into(),
            v.into(),
            "--scenario".into(),
            s.into(),
            "--max-executions".into(),
            "2000".into(),
        ],
        true,
    )
    .and_then(|(n, top)| {
        top.map(|t| format!("{} instructions in all\n\n{t}", thousands(n as usize)))
    });
    r
}

fn engine_cell(m: &Measured) -> String {
    if let Some(e) = &m.cost.error {
        return format!("error: {e}");
    }
    format!(
        "{}{}, {}, {}/s, {}",
        thousands(m.cost.executions),
        if m.cost.exhaustive {
            " (exhaustive)"
        } else if m.job.engine == EngineKind::ShuttlePct {
            " (sampled)"
        } else {
            " (not exhaustive)"
        },
        secs(m.cost.check_s),
        thousands(m.rate() as usize),
        mib(m.peak_kib)
    )
}

/// loom's executions against shuttle DFS's where both finished, as
/// "1 : N": DFS ran N schedules for each of loom's executions.
fn ratio(loom: &Measured, dfs: &Measured) -> String {
    if loom.cost.exhaustive && dfs.cost.exhaustive && loom.cost.executions > 0 {
        one_to(dfs.cost.executions as f64 / loom.cost.executions as f64)
    } else {
        "–".into()
    }
}

/// "1 : N", with N to three significant figures.
fn one_to(n: f64) -> String {
    if n >= 100.0 {
        format!("1 : {}", thousands(n.round() as usize))
    } else if n >= 10.0 {
        format!("1 : {n:.1}")
    } else {
        format!("1 : {n:.2}")
    }
}

/// Where both engines finished, their verdicts must be the same.
fn agreement(loom: &Measured, dfs: &Measured) -> &'static str {
    if !(loom.cost.exhaustive && dfs.cost.exhaustive) {
        "–"
    } else if loom.cost.verdicts == dfs.cost.verdicts {
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
    let mut charts = Vec::new();
    for (name, _, ns, v) in SERIES {
        let rows: Vec<_> = r.series.iter().filter(|s| s.0 == name).collect();
        if rows.is_empty() {
            continue;
        }
        let line = |label: &str, colour, pick: &dyn Fn(&Measured) -> f64, which: usize| {
            let mut points = Vec::new();
            let mut dashed = false;
            for row in &rows {
                let m = match which {
                    0 => Some(&row.2),
                    1 => Some(&row.3),
                    _ => row.4.as_ref(),
                };
                if let Some(m) = m {
                    if m.cost.error.is_none() {
                        points.push((row.1, pick(m)));
                        dashed |= which != 2 && !m.cost.exhaustive;
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
        for (what, unit, pick) in [
            (
                "executions",
                "executions",
                &(|m: &Measured| m.cost.executions as f64) as &dyn Fn(&Measured) -> f64,
            ),
            ("seconds", "seconds to verdict", &|m: &Measured| {
                m.cost.check_s
            }),
            ("memory", "peak memory, KiB", &|m: &Measured| {
                m.peak_kib as f64
            }),
        ] {
            let lines = vec![
                line("loom", "#1f77b4", pick, 0),
                line("shuttle DFS", "#d62728", pick, 1),
                line("shuttle PCT", "#2ca02c", pick, 2),
            ];
            charts.push((
                format!("performance-{name}-{what}.svg"),
                svg_chart(&format!("{v} × {name}-N: {unit}"), unit, ns, &lines),
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

/// The matrix target, not met: its costliest cells.
fn matrix_gap(r: &BenchReport, wall: f64) -> String {
    let mut s = format!(
        "### The full matrix in at most 60 s\n\n- Measured: {} of wall time.\n",
        secs(wall)
    );
    let mut cells: Vec<&Measured> = r.cells.iter().map(|c| &c.0).collect();
    cells.sort_by(|a, b| b.cost.check_s.total_cmp(&a.cost.check_s));
    if !cells.is_empty() {
        let total: f64 = cells.iter().map(|m| m.cost.check_s).sum();
        let _ = writeln!(
            s,
            "- Where it goes: the cells' loom runs take {} one at a time; the five costliest:",
            secs(total)
        );
        for m in cells.iter().take(5) {
            let _ = writeln!(
                s,
                "  - {} × {}: {} executions, {}",
                m.job.variant,
                m.job.scenario,
                thousands(m.cost.executions),
                secs(m.cost.check_s)
            );
        }
    }
    s.push_str("- What it would take: fewer executions in those cells (\"Where concurrent-same-file's executions go\"), or more cores (`KMODCHECK_JOBS`, or `cargo nextest run --partition` across machines).\n");
    s
}

/// A flagship not found within 1 s.
fn flagship_gap(loom: &Measured, pct: &Measured) -> String {
    let mut s = format!(
        "### Flagship {} × {} in at most 1 s\n\n",
        loom.job.scenario, loom.job.variant
    );
    for m in [loom, pct] {
        let _ = writeln!(
            s,
            "- {}: {}",
            m.job.engine.name(),
            m.cost.first_violation.map_or(
                format!(
                    "no violation in {} executions",
                    thousands(m.cost.executions)
                ),
                |(n, t)| format!("violated at execution {} after {}", thousands(n), secs(t))
            )
        );
    }
    s.push_str("- What it would take: a quick pass before the proof (loom with a preemption bound of 0, 1, 2, or shuttle PCT) reaches the violation in fewer executions where the bug needs few preemptions.\n");
    s
}

/// concurrent-same-file N = 4 not proved within 10 s: measured figure,
/// growth, profile and redundancy evidence, levers.
fn series_gap(r: &BenchReport, m: &Measured) -> String {
    let mut s = String::from(
        "### concurrent-same-file N = 4 proved exhaustively (loom, unbounded) in at most 10 s\n\n",
    );
    let rate = m.rate();
    if m.cost.exhaustive {
        let _ = writeln!(
            s,
            "- Measured: loom finished in {} with {} executions ({}/s).",
            secs(m.cost.check_s),
            thousands(m.cost.executions),
            thousands(rate as usize)
        );
    } else {
        let in_ten = rate * 10.0;
        let _ = write!(
            s,
            "- Measured: loom ran {} executions in {} ({}/s) and had not finished. At that rate 10 s covers {} executions",
            thousands(m.cost.executions),
            secs(m.cost.check_s),
            thousands(rate as usize),
            thousands(in_ten as usize),
        );
        let short = m.cost.executions as f64 / in_ten.max(1.0);
        if short > 1.0 {
            let _ = writeln!(
                s,
                ", so the target needs at least {short:.1}× fewer executions, or each that much cheaper; more, since the run was not done."
            );
        } else {
            s.push_str(
                "; the run's time bound ended it before it could tell whether N = 4 has fewer.\n",
            );
        }
    }
    let loom_at = |n: usize| {
        r.series
            .iter()
            .find(|x| x.0 == "concurrent-same-file" && x.1 == n && x.2.cost.exhaustive)
            .map(|x| x.2.cost.executions)
    };
    if let (Some(e2), Some(e3)) = (loom_at(2), loom_at(3)) {
        let g = e3 as f64 / e2.max(1) as f64;
        let e4 = e3 as f64 * g;
        let _ = writeln!(
            s,
            "- Growth, measured: loom's executions went from {} at N = 2 to {} at N = 3, ×{}. If N = 4 grew alike it would take about {} executions, about {} at the rate above. That is an extrapolation, not a measurement.",
            thousands(e2),
            thousands(e3),
            thousands(g.round() as usize),
            thousands(e4 as usize),
            secs(e4 / rate.max(1.0))
        );
    }
    if let Some(p) = &r.profile {
        let (alloc, copy, fmt) = profile_shares(p);
        let share = (alloc + copy + fmt) / 100.0;
        let _ = writeln!(
            s,
            "- Where an execution's time goes (\"Profile of this build\"): {alloc:.0}% of the instructions in malloc and free, {copy:.0}% in memcpy, {fmt:.0}% formatting step text; most of the rest is loom's scheduler. Removing all three would make an execution at most {:.1}× cheaper. The gap is in the number of executions, not in their cost.",
            1.0 / (1.0 - share).max(0.01)
        );
    }
    if let Some(Ok(t)) = r
        .redundancy
        .iter()
        .find(|t| t.as_ref().is_ok_and(|t| t.exhaustive && t.actors == 3))
    {
        let _ = writeln!(
            s,
            "- Where the executions go, measured (\"Where concurrent-same-file's executions go\"): at N = 3 loom's {} executions show {} distinct step traces, {:.0} executions per trace; {} behaviours, and {} once the identical modprobes are renamed. loom takes any two acquisitions of one lock as dependent and runs both orders, also where both orders give the same steps.",
            thousands(t.executions),
            thousands(t.distinct),
            t.executions as f64 / t.distinct.max(1) as f64,
            thousands(t.behaviours),
            thousands(t.up_to_symmetry)
        );
    }
    s.push_str(
        "- What would close it, neither built here:\n  \
         - an exploration that stops at a state it has already seen: state caching on a fingerprint of the model's state (each kernel object, each task's place), in a shuttle `Scheduler` of our own. Its cost follows the reachable states, not the interleavings; how many states concurrent-same-file-4 has is not measured.\n  \
         - symmetry among the identical modprobes: at most N! = 24 at N = 4; the behaviours with and without renaming, measured, show how much it merges.\n  \
         - Either one's \"holds\" is a proof only once it agrees with loom on every cell where both finish.\n",
    );
    s
}

/// "Where concurrent-same-file's executions go".
fn redundancy_markdown(r: &BenchReport) -> String {
    let mut s = String::from(
        "## Where concurrent-same-file's executions go\n\n\
         idempotent × concurrent-same-file-N under loom (unbounded, within the series' time bound), every execution's trace kept as a hash. \
         A *step trace* is the sequence of (task, kernel function, text) steps the counterexamples print: two executions with the same one made the same kernel calls in the same order with the same results. \
         A *behaviour* is what each task did, its own steps in order, whatever the interleaving; *up to renaming*, two behaviours that differ only in which of the identical modprobes did what count as one (the least hash over the N! renamings). \
         Executions per trace is what loom spends on orders of engine operations that no step shows.\n\n\
         | N | loom executions | distinct step traces | executions per trace | behaviours | behaviours up to renaming |\n|---|---|---|---|---|---|\n",
    );
    for t in &r.redundancy {
        match t {
            Ok(t) => {
                let _ = writeln!(
                    s,
                    "| {} | {}{} | {} | {:.0} | {} | {} |",
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
                let _ = writeln!(s, "| – | error: {e} | | | | |");
            }
        }
    }
    s.push('\n');
    s
}

/// `reports/performance.md`.
pub fn performance_markdown(r: &BenchReport, o: &BenchOptions) -> String {
    let mut s = String::new();
    s.push_str("# kmodcheck performance\n\n");
    s.push_str(
        "Generated by `cargo run --release -- bench` (README, \"Performance\"). Every figure \
         below was measured by that one run, on the machine named here, in release mode; each \
         measurement ran in its own process, one at a time, except the whole-matrix run, which \
         uses `KMODCHECK_JOBS` processes' worth of threads. Seconds are wall time spent \
         checking (`check_cell`), memory is the process's peak resident set (`ru_maxrss`). \
         Timings are not asserted by any test: this machine is shared and noisy, so compare \
         figures within one run, as ratios.\n\n",
    );
    let _ = writeln!(s, "Machine: {}.\n", r.machine);

    // Targets, and for each one not met, what it would take.
    let mut gaps: Vec<String> = Vec::new();
    s.push_str("## Targets\n\n| target | measured | |\n|---|---|---|\n");
    if let Some((wall, peak, user, sys, summary)) = &r.matrix {
        let _ = writeln!(
            s,
            "| the full built-in matrix in at most 60 s of wall time | {} wall ({summary}; {} jobs, {user:.1} s user + {sys:.1} s system CPU, {} peak) | {} |",
            secs(wall.as_secs_f64()),
            o.jobs,
            mib(*peak),
            met(wall.as_secs_f64() <= 60.0)
        );
        if wall.as_secs_f64() > 60.0 {
            gaps.push(matrix_gap(r, wall.as_secs_f64()));
        }
    }
    for (loom, pct) in &r.flagships {
        let (found, text) = match loom.cost.first_violation {
            Some((n, t)) => (
                t <= 1.0,
                format!(
                    "violated at execution {}, found after {} (loom)",
                    thousands(n),
                    secs(t)
                ),
            ),
            None => (false, "no violation found".into()),
        };
        let _ = writeln!(
            s,
            "| flagship {} × {} found in at most 1 s | {text} | {} |",
            loom.job.scenario,
            loom.job.variant,
            met(found)
        );
        if !found {
            gaps.push(flagship_gap(loom, pct));
        }
    }
    if let Some(row) = r
        .series
        .iter()
        .find(|x| x.0 == "concurrent-same-file" && x.1 == 4)
    {
        let m = &row.2;
        let _ = writeln!(
            s,
            "| concurrent-same-file N = 4 proved exhaustively (loom, unbounded) in at most 10 s | {} executions, {}, {} | {} |",
            thousands(m.cost.executions),
            if m.cost.exhaustive { "exhaustive" } else { "NOT exhaustive" },
            secs(m.cost.check_s),
            met(m.cost.exhaustive && m.cost.check_s <= 10.0 && m.cost.inconclusive == 0 && m.cost.violated == 0)
        );
        if !(m.cost.exhaustive && m.cost.check_s <= 10.0) {
            gaps.push(series_gap(r, m));
        }
    }
    if !gaps.is_empty() {
        s.push_str("\n## What the unmet targets would take\n\n");
        for g in &gaps {
            s.push_str(g);
            s.push('\n');
        }
    }

    // Flagships.
    s.push_str("\n## Flagship counterexamples\n\n| cell | engine | first violation | whole run |\n|---|---|---|---|\n");
    for (loom, pct) in &r.flagships {
        for m in [loom, pct] {
            let first = m.cost.first_violation.map_or("none".to_string(), |(n, t)| {
                format!("execution {}, after {}", thousands(n), secs(t))
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
    s.push_str(
        "\n## Scale series\n\nloom unbounded (no preemption bound); shuttle DFS within the same \
         time bound, and PCT where DFS did not finish. Where both finished, loom : DFS is \
         how many schedules DFS ran for each of loom's executions: what loom's partial-order \
         reduction saved.\n\n| series | N | loom | shuttle DFS | shuttle PCT | loom : DFS |\n|---|---|---|---|---|---|\n",
    );
    for (name, n, loom, dfs, pct) in &r.series {
        let _ = writeln!(
            s,
            "| {name} | {n} | {} | {} | {} | {} |",
            engine_cell(loom),
            engine_cell(dfs),
            pct.as_ref().map_or("–".into(), engine_cell),
            ratio(loom, dfs)
        );
    }
    s.push('\n');
    for (file, _) in series_charts(r) {
        let _ = writeln!(s, "![{file}]({file})\n");
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
        let _ = writeln!(
            s,
            "## Profile of this build\n\n`callgrind_annotate` (exclusive instructions) on `kmodcheck check --variant {v} --scenario {sc} --max-executions 2000`:\n\n```\n{p}\n```\n"
        );
    }

    // Cells.
    if !r.cells.is_empty() {
        let loom_total: f64 = r.cells.iter().map(|c| c.0.cost.check_s).sum();
        let loom_execs: usize = r.cells.iter().map(|c| c.0.cost.executions).sum();
        let both = r
            .cells
            .iter()
            .filter(|c| c.0.cost.exhaustive && c.1.cost.exhaustive)
            .count();
        let differ = r
            .cells
            .iter()
            .filter(|c| agreement(&c.0, &c.1) == "**DIFFER**")
            .count();
        let _ = writeln!(
            s,
            "## Every cell\n\n{} cells. loom, as the main job runs it (at most {} executions per cell): {} executions in {} of checking, one cell at a time. Shuttle DFS had {} per cell; where it did not finish, PCT ran {} executions. Both engines finished on {both} cells; their verdicts differ on {differ} of them.\n",
            r.cells.len(),
            thousands(crate::CATALOGUE_BOUND),
            thousands(loom_execs),
            secs(loom_total),
            secs(o.dfs_budget.as_secs_f64()),
            thousands(o.pct_samples),
        );
        s.push_str("| variant | scenario | loom | shuttle DFS | shuttle PCT | loom : DFS | verdicts |\n|---|---|---|---|---|---|---|\n");
        for (loom, dfs, pct) in &r.cells {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} | {} |",
                loom.job.variant,
                loom.job.scenario,
                engine_cell(loom),
                engine_cell(dfs),
                pct.as_ref().map_or("–".into(), engine_cell),
                ratio(loom, dfs),
                agreement(loom, dfs)
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
        crate::engine::Observer(Arc::new(move |o: &crate::engine::Outcome| {
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
    fn one_to_reads_as_schedules_per_loom_execution() {
        assert_eq!(one_to(14_705.17), "1 : 14,705");
        assert_eq!(one_to(51.3), "1 : 51.3");
        assert_eq!(one_to(3.8333), "1 : 3.83");
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

    fn measured(scenario: &str, executions: usize, exhaustive: bool, check_s: f64) -> Measured {
        Measured {
            job: loom_job("idempotent", scenario, None, None),
            cost: CellCost {
                executions,
                exhaustive,
                check_s,
                ..CellCost::default()
            },
            wall: Duration::from_secs_f64(check_s),
            peak_kib: 4096,
        }
    }

    /// An unmet target gets its own section, computed from the run's
    /// figures; a met one does not.
    #[test]
    fn unmet_series_target_says_what_it_would_take() {
        let series = |n, m: Measured| ("concurrent-same-file".to_string(), n, m.clone(), m, None);
        let mut r = BenchReport {
            series: vec![
                series(2, measured("concurrent-same-file-2", 48, true, 0.001)),
                series(3, measured("concurrent-same-file-3", 47_201, true, 0.72)),
                series(
                    4,
                    measured("concurrent-same-file-4", 3_000_000, false, 60.0),
                ),
            ],
            profile: Some("100 instructions in all\n\n20 (20.00%)  malloc.c:free\n".into()),
            redundancy: vec![Ok(TraceRedundancy {
                scenario: "concurrent-same-file-3".into(),
                variant: "idempotent".into(),
                executions: 47_201,
                exhaustive: true,
                distinct: 766,
                behaviours: 40,
                up_to_symmetry: 9,
                actors: 3,
            })],
            ..BenchReport::default()
        };
        let o = BenchOptions {
            dfs_budget: Duration::from_secs(2),
            pct_samples: 1000,
            series_budget: Duration::from_secs(60),
            jobs: 2,
            compare: vec![],
            skip_cells: true,
        };
        let md = performance_markdown(&r, &o);
        assert!(md.contains("## What the unmet targets would take"), "{md}");
        // 3,000,000 in 60 s is 50,000/s: 500,000 in 10 s, 6× too many.
        assert!(md.contains("10 s covers 500,000 executions"), "{md}");
        assert!(md.contains("at least 6.0× fewer"), "{md}");
        // 48 → 47,201 is ×983; extrapolated, and said so.
        assert!(md.contains("×983"), "{md}");
        assert!(md.contains("extrapolation, not a measurement"), "{md}");
        assert!(md.contains("at most 1.2× cheaper"), "{md}");
        assert!(
            md.contains(
                "766 distinct step traces, 62 executions per trace; 40 behaviours, and 9 once"
            ),
            "{md}"
        );
        // Met: no section.
        r.series[2].2 = measured("concurrent-same-file-4", 90_000, true, 2.0);
        let md = performance_markdown(&r, &o);
        assert!(!md.contains("would take"), "{md}");
    }

    #[test]
    fn trace_redundancy_refuses_different_actors() {
        let e = trace_redundancy("idempotent", &scenario::shared_dependency(2), None).unwrap_err();
        assert!(e.contains("actors differ"), "{e}");
    }
}
