//! The passage of time, as an actor.
//!
//! loom's `Condvar::wait_timeout` never times out, and neither engine explores
//! time. In a scenario where time passes, a timed wait arms a timer when it
//! first sleeps (`schedule_timeout()`); a timer actor expires armed timers,
//! each at whatever moment the engine chooses, which is every moment. The
//! actor is started by the first arming, expires the armed timers in the
//! order they were armed (a stated limit of the model), and exits when none
//! is left; a later arming starts a new one. A timer whose wait has ended is
//! skipped (`del_timer_sync()` in effect). So time costs the engines one
//! thread and a few steps per timed wait, and nothing where no timed wait
//! sleeps.
//!
//! Relative lengths of timeouts are not modelled: any armed timeout may
//! expire before any other.

use crate::kernel::Kernel;
use crate::primitives::WaitQueue;
use crate::state::{Fingerprint, Fp};
use crate::trace::TaskId;
use std::sync::Arc;

/// The armed timers (`hrtimer` bases, reduced).
#[derive(Default)]
pub struct TimerBase {
    /// Armed timers in arming order: the waiting task, its queue, and the
    /// wait's generation (see [`crate::primitives::waitqueue`]).
    armed: Vec<(TaskId, Arc<WaitQueue>, u32)>,
    /// A timer actor is running and will look at `armed` again.
    actor: bool,
}

impl Fingerprint for TimerBase {
    fn fingerprint(&self, fp: &mut Fp<'_>) {
        fp.tok(self.armed.len() as u64);
        for (t, wq, gen) in &self.armed {
            t.fingerprint(fp);
            wq.fingerprint(fp);
            gen.fingerprint(fp);
        }
        self.actor.fingerprint(fp);
    }
}

/// Arm a timer for task `t`'s timed wait `gen` on `wq`, starting a timer
/// actor if none runs. Called by the sleeper, with `wq`'s lock held (lock
/// order: a wait queue, then the timer base).
pub(crate) fn arm(k: &Kernel, t: TaskId, wq: &Arc<WaitQueue>, gen: u32) {
    let mut base = k.timers.lock();
    base.armed.push((t, wq.clone(), gen));
    if !base.actor {
        base.actor = true;
        k.start_timer_actor();
    }
}

/// Body of the timer actor: expire armed timers until none is left
/// (`hrtimer_wakeup()`: the wait is marked timed out and its task woken).
pub fn timer_actor(k: &Kernel, me: TaskId) {
    loop {
        let (t, wq, gen) = {
            let mut base = k.timers.lock();
            if base.armed.is_empty() {
                base.actor = false;
                return;
            }
            base.armed.remove(0)
        };
        if wq.expire(t, gen) {
            k.rec.event(me, "hrtimer_wakeup", || {
                format!("the timeout of {}'s wait on {} expires", k.name(t), wq.name)
            });
        }
    }
}
