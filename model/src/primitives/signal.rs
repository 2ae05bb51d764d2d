//! Signals: `send_sig()`/`signal_wake_up()` (`kernel/signal.c`).
//!
//! A signal sets the target's pending flag and, if the target sleeps in a
//! state the signal breaks (`TASK_INTERRUPTIBLE`, or `TASK_KILLABLE` for a
//! fatal one), makes it runnable. Interruptible waits see every signal,
//! killable waits only fatal ones, uninterruptible waits none.

use crate::kernel::Kernel;
use crate::trace::{Fact, TaskId};

/// `send_sig(sig, target)` from task `from`. Returns whether the target was
/// still alive to receive it.
pub fn send_sig(k: &Kernel, from: TaskId, target: TaskId, kind: crate::scenario::Sig) -> bool {
    let sig = kind.name();
    let (alive, woken) = k.deliver_signal(target, kind);
    k.rec.event(from, "send_sig", || {
        let name = k.name(target);
        match (&woken, alive) {
            (_, false) => format!("{sig} to {name}, which has already exited"),
            (Some(wq), true) => format!("{sig} to {name}, asleep on {}: wakes it", wq.name),
            (None, true) => format!("{sig} to {name}: pending"),
        }
    });
    k.rec.fact(Fact::SignalSent { delivered: alive });
    alive
}
