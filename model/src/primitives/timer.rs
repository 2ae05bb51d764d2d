//! The passage of time, as an actor.
//!
//! loom's `Condvar::wait_timeout` never times out, and neither engine explores
//! time. A scenario with `timer = true` has this actor: it sleeps until some
//! task is in a timed wait, then expires that wait, at any moment the engine
//! chooses. When several timed waits are armed at once it expires them in
//! the order they were armed (a stated limit of the model). Timed waits in a scenario
//! without the timer never expire.

use crate::kernel::Kernel;
use crate::primitives::waitqueue::WaitMode;
use crate::scenario::Scenario;
use crate::trace::{TaskId, WaitFor};
use crate::variant::{FinitDedup, IdemWait, Variant};

/// Whether any timed wait can be armed when `variant` runs `scenario`. The
/// model has exactly two timed waits: the 10 s slices of
/// [`IdemWait::TimeoutWarn`] and the 30 s of `resolve_symbol_wait` (only for a
/// module with dependencies). Where neither can happen, the timer actor could
/// only sleep until the end, so [`crate::world::execute`] does not start it:
/// an exact reduction, not a bound. Keep this in step with every
/// `sleep_until(.., Some(timeout), ..)` in the model.
pub fn may_arm_timer(variant: &Variant, scenario: &Scenario) -> bool {
    let idem_timed =
        variant.finit == FinitDedup::Idempotent && variant.idem_wait == IdemWait::TimeoutWarn;
    let resolve_timed = scenario.modules.iter().any(|m| !m.deps.is_empty());
    scenario.timer && (idem_timed || resolve_timed)
}

/// Body of the timer actor: sleep until a timed wait is armed, then expire
/// the earliest armed one (`hrtimer_wakeup()`: mark the wait timed out and
/// wake the task if it sleeps).
pub fn timer_actor(k: &Kernel, me: TaskId) {
    loop {
        k.timer_armed
            .wait(k, me, WaitMode::Uninterruptible, None, &|| WaitFor {
                what: "a timed wait to expire".into(),
                on: vec![],
            });
        if k.is_finished() {
            return;
        }
        let (target, sleep) = {
            let mut timers = k.timers.lock();
            if timers.is_empty() {
                continue;
            }
            let target = timers.remove(0);
            let mut t = k.tasks[target].lock.lock();
            t.timed_out = true;
            (target, t.sleeping_on.clone().filter(|sl| sl.timed))
        };
        if let Some(sl) = sleep {
            sl.wq.wake_one(target);
        }
        let name = k.name(target);
        k.rec.event(
            me,
            "hrtimer_wakeup",
            format!("the timeout of {name}'s wait expires"),
        );
    }
}
