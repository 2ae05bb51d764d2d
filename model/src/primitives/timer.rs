//! The passage of time, as an actor.
//!
//! loom's `Condvar::wait_timeout` never times out, and neither engine explores
//! time. A scenario with `timer = true` has this actor: it sleeps until some
//! task is in a timed wait, then expires that wait, at any moment the engine
//! chooses. When several timed waits are armed at once it expires them in
//! task order (a stated limit of the model). Timed waits in a scenario
//! without the timer never expire.

use crate::kernel::Kernel;
use crate::primitives::waitqueue::{sleep_until, Cond, WaitMode};
use crate::trace::{TaskId, WaitFor};

/// Body of the timer actor.
pub fn timer_actor(k: &Kernel, me: TaskId) {
    loop {
        let env = k.env_wq.clone();
        sleep_until(
            k,
            me,
            &env,
            WaitMode::Uninterruptible,
            None,
            &|| WaitFor {
                what: "a timed wait to expire".into(),
                on: vec![],
            },
            Cond::Unlocked(&mut || {
                let s = k.sched.lock();
                s.finished || s.armed_timer().is_some()
            }),
        );
        let mut s = k.sched.lock();
        if s.finished {
            return;
        }
        if let Some(target) = s.fire_timer() {
            k.sched_cv.notify_all();
            drop(s);
            let name = k.name(target);
            k.rec
                .event(me, "hrtimer_wakeup", format!("the timeout of {name}'s wait expires"));
        }
    }
}
