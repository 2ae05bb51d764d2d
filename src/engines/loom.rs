//! loom 0.7 (vendored, `vendor/README.md`): every interleaving, with dynamic
//! partial-order reduction. Exhaustive when it finishes without a
//! preemption bound. At most 5 threads, the main thread included; it stops
//! at the first deadlock.

use super::{Driver, Engine, EngineKind, Exploration, Job, ReplayAt, Replayed};
use kmodcheck_model::sync::{self, LoomOptions, Stop};

/// loom 0.7.2's `MAX_THREADS` (`src/rt/mod.rs`), main thread included.
pub const MAX_THREADS: usize = sync::LOOM_MAX_THREADS;

/// The loom engine.
pub struct Loom;

fn options(job: &Job<'_>, max_executions: Option<usize>, pb: Option<usize>) -> LoomOptions {
    LoomOptions {
        preemption_bound: pb,
        max_branches: job.opts.max_branches,
        max_executions,
        max_duration: job.opts.time_limit,
    }
}

impl Engine for Loom {
    fn kind(&self) -> EngineKind {
        EngineKind::Loom
    }

    fn explore(&self, job: &Job<'_>) -> Exploration {
        let opts = job.opts;
        let d = Driver::new(job);
        let lo = options(job, opts.max_executions, opts.preemption_bound);
        let stop = sync::silently(|| sync::explore_loom(&lo, d.body(job))).err();
        let n = d.executions();
        let ran_out = opts.max_executions.is_some_and(|m| n >= m)
            || opts.time_limit.is_some_and(|t| d.start.elapsed() >= t);
        let mut stopped = None;
        match stop {
            None => {}
            Some(Stop::Deadlock(_)) => {
                d.deadlock(&job.properties, opts.observer.as_ref());
                stopped = Some(format!("loom stopped at the deadlock in execution {n}"));
            }
            Some(Stop::Bound(msg)) | Some(Stop::Panic(msg)) => {
                stopped = Some(format!(
                    "loom stopped in execution {n}: {}",
                    msg.lines().next().unwrap_or("")
                ));
            }
        }
        let bounded_by = if stopped.is_some() {
            None
        } else if opts.max_executions.is_some_and(|m| n >= m) {
            Some(format!("{n} executions per cell"))
        } else {
            opts.time_limit
                .filter(|t| d.start.elapsed() >= *t)
                .map(|t| format!("{} s per cell", t.as_secs()))
        };
        let exhaustive = stopped.is_none() && !ran_out && opts.preemption_bound.is_none();
        let mut a = d.acc.lock().unwrap();
        for f in a.findings.iter_mut() {
            if let Some(v) = &mut f.violation {
                v.at = ReplayAt::Loom {
                    n: v.execution,
                    preemption_bound: opts.preemption_bound,
                };
            }
        }
        Exploration {
            engine: EngineKind::Loom,
            exhaustive,
            executions: n,
            states: None,
            stopped,
            bounded_by,
            findings: std::mem::take(&mut a.findings),
            first_violation_after: a.first_violation_after,
        }
    }

    /// loom's exploration is deterministic: run it again up to execution N.
    fn replay(&self, job: &Job<'_>, at: &ReplayAt) -> Result<Replayed, String> {
        let ReplayAt::Loom {
            n,
            preemption_bound,
        } = at
        else {
            return Err("not a loom execution".into());
        };
        let d = Driver::new(job);
        let lo = options(job, Some(*n), *preemption_bound);
        let stop = sync::silently(|| sync::explore_loom(&lo, d.body(job))).err();
        if let Some(Stop::Deadlock(_)) = stop {
            d.deadlock(&job.properties, None);
        }
        let ran = d.executions();
        if ran < *n {
            return Err(format!(
                "loom's exploration of this cell has {ran} executions; there is no execution {n}"
            ));
        }
        Ok(d.replayed(&job.properties))
    }
}
