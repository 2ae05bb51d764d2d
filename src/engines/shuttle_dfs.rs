//! shuttle's depth-first scheduler: every schedule, no reduction.
//! Exhaustive when it finishes within its budget.

use super::{Engine, EngineKind, Exploration, Job, ReplayAt, Replayed};
use kmodcheck_model::sync::ShuttleStrategy;

/// The shuttle-dfs engine.
pub struct ShuttleDfs;

impl Engine for ShuttleDfs {
    fn kind(&self) -> EngineKind {
        EngineKind::ShuttleDfs
    }

    fn explore(&self, job: &Job<'_>) -> Exploration {
        super::explore_shuttle(
            job,
            EngineKind::ShuttleDfs,
            ShuttleStrategy::Dfs {
                max_executions: job.opts.max_executions,
            },
        )
    }

    fn replay(&self, job: &Job<'_>, at: &ReplayAt) -> Result<Replayed, String> {
        match at {
            ReplayAt::Schedule(s) => super::replay_shuttle(job, s),
            _ => Err("not a shuttle schedule".into()),
        }
    }
}
