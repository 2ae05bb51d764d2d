//! shuttle's random scheduler: seeded, uniformly random schedules. Never
//! exhaustive: its "holds" is sampled, never a proof.

use super::{Engine, EngineKind, Exploration, Job, ReplayAt, Replayed};
use kmodcheck_model::sync::ShuttleStrategy;

/// The shuttle-random engine.
pub struct ShuttleRandom;

impl Engine for ShuttleRandom {
    fn kind(&self) -> EngineKind {
        EngineKind::ShuttleRandom
    }

    fn explore(&self, job: &Job<'_>) -> Exploration {
        let o = job.opts;
        super::explore_shuttle(
            job,
            EngineKind::ShuttleRandom,
            ShuttleStrategy::Random {
                seed: o.seed,
                executions: o.max_executions.unwrap_or(o.samples),
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
