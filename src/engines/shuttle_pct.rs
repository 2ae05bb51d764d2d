//! shuttle's PCT scheduler (probabilistic concurrency testing, Burckhardt et
//! al.): seeded samples aimed at bugs of a given depth. Never exhaustive: its
//! "holds" is sampled, never a proof.

use super::{Engine, EngineKind, Exploration, Job, ReplayAt, Replayed};
use kmodcheck_model::sync::ShuttleStrategy;

/// The shuttle-pct engine.
pub struct ShuttlePct;

impl Engine for ShuttlePct {
    fn kind(&self) -> EngineKind {
        EngineKind::ShuttlePct
    }

    fn explore(&self, job: &Job<'_>) -> Exploration {
        let o = job.opts;
        super::explore_shuttle(
            job,
            EngineKind::ShuttlePct,
            ShuttleStrategy::Pct {
                seed: o.seed,
                depth: o.pct_depth,
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
