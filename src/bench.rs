//! `kmodcheck bench`: what each verdict costs, measured, and
//! `reports/performance.md`.
//!
//! Every measurement runs in its own process (`kmodcheck bench-cell`, hidden),
//! so its peak memory is its own (`ru_maxrss` from `wait4`), and no
//! measurement shares an address space, an allocator or a stack pool with
//! another. The parent times the process; the child reports what the engine
//! did (executions, exhaustive or not, verdicts, and when the first violation
//! was found) as one JSON line.
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

fn ratio(loom: &Measured, dfs: &Measured) -> String {
    if loom.cost.exhaustive && dfs.cost.exhaustive && loom.cost.executions > 0 {
        format!(
            "{:.3}",
            loom.cost.executions as f64 / dfs.cost.executions.max(1) as f64
        )
    } else {
        "–".into()
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

    // Targets.
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
    }
    for (loom, _) in &r.flagships {
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
         time bound, and PCT where DFS did not finish. The ratio is loom's executions over \
         DFS's where both finished: the share of DFS's schedules loom's partial-order reduction \
         still runs.\n\n| series | N | loom | shuttle DFS | shuttle PCT | loom / DFS |\n|---|---|---|---|---|---|\n",
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
        s.push_str("| variant | scenario | loom | shuttle DFS | shuttle PCT | loom / DFS | verdicts |\n|---|---|---|---|---|---|---|\n");
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
