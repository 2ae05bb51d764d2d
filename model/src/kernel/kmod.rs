//! `__request_module()` (`kernel/kmod.c`; `kernel/module/kmod.c` since v6.4)
//! and its budget.

use super::Kernel;
use crate::errno::{Ret, ENOMEM};
use crate::trace::{Recorder, TaskId};
use crate::variant::KmodBudget;
use std::sync::Arc;

/// The budget's state.
#[derive(Default, Debug, Clone)]
pub struct KmodState {
    /// `kmod_concurrent` (2008): requests holding a slot.
    pub kmod_concurrent: u32,
    /// `kmod_loop_msg`: how many "runaway loop" messages were printed.
    pub kmod_loop_msg: u32,
}

/// `__request_module(wait = true, "%s", alias)`: take a slot of the budget,
/// run modprobe as a usermode helper and wait for it (killable), give the
/// slot back. One arm per [`KmodBudget`].
///
/// 2008 (pre-v4.13, the LWN "runaway loop" code): `atomic_inc(&kmod_concurrent)`;
/// if it is now above `max_modprobes`, print "request_module: runaway loop
/// modprobe %s" (while `kmod_loop_msg++ < 5`), `atomic_dec` and return
/// `-ENOMEM`. The model does the increment and the test in one step.
pub fn request_module(k: &Arc<Kernel>, me: TaskId, alias: &str) -> Ret {
    k.rec.event(me, "request_module", alias.to_string());
    match k.variant.kmod {
        KmodBudget::FailFast2008 => {
            let limit = k.scenario.kmod_limit;
            let (over, print) = {
                let mut g = k.kmod.lock();
                g.kmod_concurrent += 1;
                if g.kmod_concurrent > limit {
                    g.kmod_concurrent -= 1;
                    let print = g.kmod_loop_msg < 5;
                    g.kmod_loop_msg += 1;
                    (true, print)
                } else {
                    (false, false)
                }
            };
            if over {
                if print {
                    k.rec.printk(
                        me,
                        "request_module",
                        format!("request_module: runaway loop modprobe {alias}"),
                    );
                }
                k.rec.event(
                    me,
                    "request_module",
                    "kmod_concurrent above max_modprobes: -ENOMEM",
                );
                return -ENOMEM;
            }
            let ret = super::umh::call_modprobe(k, me, alias);
            k.kmod.lock().kmod_concurrent -= 1;
            k.rec.event(
                me,
                "request_module",
                format!("{alias}: returns {}", Recorder::ret(ret)),
            );
            ret
        }
    }
}
