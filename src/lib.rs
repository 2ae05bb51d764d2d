//! # kmodcheck
//!
//! A model checker for Linux kernel module-loading concurrency: the
//! in-flight table of `finit_module`, the module list and its name check,
//! and the `request_module` budget, modelled in [`kmodcheck_model`] and
//! explored exhaustively with loom (and cross-checked or sampled with
//! shuttle).
//!
//! - [`engine`]: run a (variant, scenario) cell under an engine; verdicts;
//!   replay of a counterexample handle.
//! - [`report`]: the verdict matrix as text and JSON lines.
#![deny(missing_docs)]

pub mod engine;
pub mod engines;
pub mod explain;
pub mod fuzz;
pub mod report;
pub mod scenario_file;
pub mod suggest;

/// The allocator of the CLI and of every test binary that links this
/// library: mimalloc instead of glibc's malloc. The stateful engine re-runs
/// the model for every schedule, about 160 allocations an execution, and
/// glibc's `malloc`/`free` were a fifth of its instructions. Alternating the
/// two builds in one run, the catalogue took 14% less time on one core and
/// 8% less on two, and twice the memory (about 45 MiB instead of 20);
/// README, "What made it fast".
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub use kmodcheck_model as model;
pub use kmodcheck_properties as properties;

use engine::{check_cell, CellResult, CheckOptions, EngineKind};
use kmodcheck_model::{scenario, variant};
use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Check every cell of the catalogue on all cores, printing progress to
/// stderr; return the cells in catalogue order.
pub fn check_catalogue(opts: &CheckOptions, progress: bool) -> Result<Vec<CellResult>, String> {
    check_scenarios(&scenario::catalogue(), opts, progress)
}

/// Check these scenarios under the matrix's columns for each
/// ([`variant::columns_for`]), as [`check_catalogue`] does for all.
pub fn check_scenarios(
    scenarios: &[scenario::Scenario],
    opts: &CheckOptions,
    progress: bool,
) -> Result<Vec<CellResult>, String> {
    let cells: Vec<(variant::Variant, scenario::Scenario)> = scenarios
        .iter()
        .flat_map(|s| {
            variant::columns_for(s)
                .into_iter()
                .map(move |v| (v, s.clone()))
        })
        .collect();
    check_columns(cells, opts, progress)
}

/// Check these (variant, scenario) cells on all cores, a scenario's
/// columns next to each other as [`check_scenarios`] lists them, so that a
/// column can take an earlier one's search; results in the order given.
pub fn check_columns(
    cells: Vec<(variant::Variant, scenario::Scenario)>,
    opts: &CheckOptions,
    progress: bool,
) -> Result<Vec<CellResult>, String> {
    let jobs: Vec<(usize, variant::Variant, scenario::Scenario)> = cells
        .into_iter()
        .enumerate()
        .map(|(i, (v, s))| (i, v, s))
        .collect();
    let total = jobs.len();
    // A scenario's columns are taken in catalogue order, so that a column
    // can take the search of an earlier one that read only policies the two
    // share (`same_search`); a worker starts on a scenario nobody is working
    // on while there is one, and only then joins another's, from its end. The scenarios
    // with the most threads go first (a stable sort: catalogue order within),
    // so that the workers end together instead of one finishing a long one
    // alone: the state space grows with the threads.
    let mut groups: Vec<Group> = Vec::new();
    for job in jobs {
        match groups.last_mut() {
            Some(g) if g.jobs[0].2.name == job.2.name => g.jobs.push_back(job),
            _ => groups.push(Group {
                jobs: std::collections::VecDeque::from([job]),
                searched: Vec::new(),
                active: 0,
            }),
        }
    }
    groups.sort_by_key(|g| {
        std::cmp::Reverse(
            g.jobs
                .iter()
                .map(|(_, v, s)| s.max_threads_under(v))
                .max()
                .unwrap_or(0),
        )
    });
    let queue = Arc::new(Mutex::new(groups));
    let results = Arc::new(Mutex::new(Vec::new()));
    let done = Arc::new(Mutex::new(0usize));
    let start = Instant::now();
    let tty = std::io::stderr().is_terminal();
    let workers = jobs_from_env();
    let mut threads: Vec<std::thread::JoinHandle<Result<(), String>>> = Vec::new();
    for _ in 0..workers {
        let (queue, results, done, opts) =
            (queue.clone(), results.clone(), done.clone(), opts.clone());
        threads.push(std::thread::spawn(move || loop {
            let (g, (i, v, s), shared) = {
                let mut groups = queue.lock().unwrap();
                let pick = groups
                    .iter()
                    .position(|g| !g.jobs.is_empty() && g.active == 0)
                    .or_else(|| groups.iter().position(|g| !g.jobs.is_empty()));
                let Some(g) = pick else {
                    return Ok(());
                };
                let group = &mut groups[g];
                // A worker joining another's scenario takes its last column,
                // so that the two meet in the middle (the last columns are
                // the proposals, the least likely to share a search).
                let job = if group.active == 0 {
                    group.jobs.pop_front()
                } else {
                    group.jobs.pop_back()
                }
                .expect("a column left");
                group.active += 1;
                let shared = same_search(&group.searched, &job.1, &opts).cloned();
                (g, job, shared)
            };
            {
                let mut o = opts.clone();
                if progress {
                    let what = format!("{} × {}", v.id, s.name);
                    o.progress = Some(engine::Progress(Arc::new(move |n, states, t| {
                        let line = match states {
                            Some(st) => format!(
                            "       {what}: {st} states, {n} executions, {:.0} s, still exploring",
                            t.as_secs_f64()
                        ),
                            None => format!(
                                "       {what}: {n} executions, {:.0} s, still exploring",
                                t.as_secs_f64()
                            ),
                        };
                        let mut err = std::io::stderr().lock();
                        if tty {
                            let _ = write!(err, "\r\x1b[2K{}", progress_fit(&line));
                        } else {
                            let _ = writeln!(err, "{line}");
                        }
                    })));
                }
                let t0 = Instant::now();
                let c = match shared {
                    Some(c) => c.as_variant(&v, t0.elapsed()),
                    None => {
                        let (c, read) = variant::consulted(|| check_cell(v, &s, &o));
                        let c = c?;
                        queue.lock().unwrap()[g].searched.push((v, read, c.clone()));
                        c
                    }
                };
                queue.lock().unwrap()[g].active -= 1;
                let mut d = done.lock().unwrap();
                *d += 1;
                if progress {
                    let line = format!(
                        "[{:>2}/{total}] {:>7.1} s  {} × {}: {} ({}{}){}",
                        *d,
                        start.elapsed().as_secs_f64(),
                        c.variant,
                        c.scenario,
                        c.explored(),
                        c.engine.name(),
                        if c.exhaustive {
                            ", exhaustive"
                        } else {
                            ", not exhaustive"
                        },
                        match c.same_search_as {
                            Some(a) => format!(": {a}'s search, whose policies it shares"),
                            None => String::new(),
                        },
                    );
                    let mut err = std::io::stderr().lock();
                    if tty {
                        let _ = write!(err, "\r\x1b[2K{}", progress_fit(&line));
                    } else {
                        let _ = writeln!(err, "{line}");
                    }
                }
                drop(d);
                results.lock().unwrap().push((i, c));
            }
        }));
    }
    for t in threads {
        t.join()
            .map_err(|_| "a worker thread panicked".to_string())??;
    }
    if progress && tty {
        eprintln!();
    }
    let mut r = std::mem::take(&mut *results.lock().unwrap());
    r.sort_by_key(|(i, _)| *i);
    Ok(r.into_iter().map(|(_, c)| c).collect())
}

/// A scenario's columns still to check, and the searches done of it.
struct Group {
    jobs: std::collections::VecDeque<(usize, variant::Variant, scenario::Scenario)>,
    searched: Vec<(variant::Variant, variant::Consulted, CellResult)>,
    /// Workers checking one of its columns now.
    active: usize,
}

/// A search of the same scenario, among `searched`, that variant `v`'s
/// would repeat: one whose variant has `v`'s value of every policy it read
/// ([`variant::consulted`]). The model reads a variant only through those
/// reads and is deterministic, so `v`'s search takes the same steps, reaches
/// the same states and finds the same counterexamples (README, "Soundness").
/// Only the stateful engine's exhaustive searches are taken, never one cut
/// short by time (which is not deterministic), and none when
/// `KMODCHECK_SHARE=0` ([`CheckOptions::share`]).
fn same_search<'a>(
    searched: &'a [(variant::Variant, variant::Consulted, CellResult)],
    v: &variant::Variant,
    o: &CheckOptions,
) -> Option<&'a CellResult> {
    if !may_share(o) {
        return None;
    }
    searched
        .iter()
        .find(|(a, read, c)| c.exhaustive && a.agrees_on(v, *read))
        .map(|(_, _, c)| c)
}

/// Whether a run with these options may take another variant's search of
/// the same scenario (see `same_search`): sharing is on, the engine is the
/// stateful one, and no time limit can cut a search short at a point that
/// differs from run to run.
fn may_share(o: &CheckOptions) -> bool {
    o.share && o.engine.unwrap_or_default() == EngineKind::Stateful && o.time_limit.is_none()
}

/// The per-cell execution bound of the main job, `diff` and `reports/`
/// under loom and shuttle: a deterministic bound (the same verdicts and
/// counts on every run and machine), above loom's largest exhaustive cell of
/// the catalogue (idempotent-warn × recursive-self-load+kill-outer,
/// 1,024,335).
pub const CATALOGUE_BOUND: usize = 1_100_000;

/// Bound `o` as the main job, `diff` and `report` do: loom and shuttle by
/// [`CATALOGUE_BOUND`] executions per cell; the stateful engine not at all.
/// Its search is deterministic and ends (the model's executions end: every
/// loop in it is bounded, runaway helper chains by the scenario's
/// `helper_bound`), so its verdicts and counts are the same on every machine
/// without a bound, and a bound on executions would only cut a large cell
/// short (idempotent-warn × the two-loader cycle with timed waits takes
/// 1.3 million). `--max-states` and `--time-limit` bound it by hand.
pub fn bound_for_catalogue(o: &mut CheckOptions) {
    if o.engine.unwrap_or_default() != EngineKind::Stateful {
        o.max_executions = Some(CATALOGUE_BOUND);
    }
}

/// The options of the main job and of `report`: the environment's engine
/// settings, bounded by [`bound_for_catalogue`].
pub fn catalogue_options() -> Result<CheckOptions, String> {
    let mut o = CheckOptions::from_env()?;
    bound_for_catalogue(&mut o);
    Ok(o)
}

/// The files of `reports/` for these cells (see [`report::report_files`]).
pub fn reports(cells: &[CellResult]) -> std::collections::BTreeMap<String, String> {
    reports_for(&scenario::catalogue(), cells)
}

/// The report files for the cells of these scenarios.
pub fn reports_for(
    scenarios: &[scenario::Scenario],
    cells: &[CellResult],
) -> std::collections::BTreeMap<String, String> {
    report::report_files(&variant::matrix_columns(), scenarios, cells)
}

/// Write `files` under `dir`, removing counterexamples that no longer exist.
pub fn write_reports(
    dir: &std::path::Path,
    files: &std::collections::BTreeMap<String, String>,
    prune: bool,
) -> std::io::Result<()> {
    let ce = dir.join("counterexamples");
    std::fs::create_dir_all(&ce)?;
    // Only a report of the whole catalogue removes the counterexamples it no
    // longer generates; a partial one removes nothing.
    if prune {
        for e in std::fs::read_dir(&ce)? {
            let p = e?.path();
            let name = format!(
                "counterexamples/{}",
                p.file_name().unwrap_or_default().to_string_lossy()
            );
            if p.extension().is_some_and(|x| x == "md") && !files.contains_key(&name) {
                std::fs::remove_file(p)?;
            }
        }
    }
    for (name, text) in files {
        std::fs::write(dir.join(name), text)?;
    }
    Ok(())
}

/// Paths under `dir` that differ from `files`, are missing, or are extra.
pub fn stale_reports(
    dir: &std::path::Path,
    files: &std::collections::BTreeMap<String, String>,
) -> Vec<String> {
    let mut stale = Vec::new();
    for (name, text) in files {
        match std::fs::read_to_string(dir.join(name)) {
            Ok(t) if &t == text => {}
            Ok(_) => stale.push(format!("{name} differs")),
            Err(_) => stale.push(format!("{name} is missing")),
        }
    }
    if let Ok(rd) = std::fs::read_dir(dir.join("counterexamples")) {
        for e in rd.flatten() {
            let name = format!("counterexamples/{}", e.file_name().to_string_lossy());
            if !files.contains_key(&name) {
                stale.push(format!("{name} is no longer generated"));
            }
        }
    }
    stale
}

/// The columns a progress line redrawn in place on stderr may take: the
/// terminal's width less one, for the cursor (a longer line wraps, and
/// `\r` then redraws only its last row); `None` when stderr is not a
/// terminal.
pub fn progress_columns() -> Option<usize> {
    terminal_size::terminal_size_of(std::io::stderr())
        .map(|(w, _)| usize::from(w.0).saturating_sub(1).max(20))
}

/// `line` cut to [`progress_columns`], for a progress line redrawn in place.
pub fn progress_fit(line: &str) -> String {
    match progress_columns() {
        Some(n) => line.chars().take(n).collect(),
        None => line.to_string(),
    }
}

/// Cells checked at once: `KMODCHECK_JOBS`, default the number of cores.
/// Until the vendored generator pooled its stacks (vendor/README.md), loom
/// mapped and unmapped a stack for every thread of every execution, and
/// threads of one process contended on the address-space lock (two cells at
/// once took 16.3 s where the same two took 7.7 s in turn), so the default
/// was 1. With the pool, the matrix took 100.0 s with 1 job and 61.4 s with
/// 2 on this 2-core machine, with the same output (reports/performance.md).
pub fn jobs_from_env() -> usize {
    std::env::var("KMODCHECK_JOBS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}
