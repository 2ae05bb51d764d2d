//! Crypto algorithm registration and its self-test (`crypto/algapi.c`,
//! `crypto/api.c`, `crypto/algboss.c`).

use super::Kernel;
use crate::errno::Ret;
use crate::primitives::{Completion, WaitMode, Woken};
use crate::trace::{Recorder, TaskId, TaskKind, WaitFor};
use crate::variant::CryptoTest;
use std::sync::Arc;

/// `crypto_register_alg(alg)`: register a larval, let `crypto_probing_notify`
/// → `cryptomgr_schedule_test` start the `cryptomgr_test` kthread, then,
/// before v6.12, `crypto_wait_for_test()`: `wait_for_completion_killable(&larval->completion)`.
/// 37da5d0ffa7b (v6.12) made it `crypto_schedule_test()` with no wait.
///
/// The kthread does not inherit the registering task's request ancestry:
/// it is a child of kthreadd, not of the loader.
pub fn crypto_register_alg(k: &Arc<Kernel>, me: TaskId, alg: &str, test_requests: &str) -> Ret {
    let larval = Completion::new(format!("the larval completion of {alg}"));
    let (l2, a2, t2) = (larval.clone(), alg.to_string(), test_requests.to_string());
    let tester = k.spawn_task(
        TaskKind::Kthread,
        format!("cryptomgr_test for {alg}"),
        Vec::new(),
        None,
        move |k, id| cryptomgr_test(k, id, &a2, &t2, &l2),
    );
    let tester_name = || k.name(tester);
    match k.variant.crypto() {
        CryptoTest::WaitForTest => {
            k.rec.event(me, "crypto_register_alg", || {
                format!(
                    "{alg}: larval registered; {} tests it; crypto_wait_for_test waits killably",
                    tester_name()
                )
            });
            let woken = larval.wait(k, me, WaitMode::Killable, None, &|| WaitFor {
                what: format!("the self-test of {alg} in {}", tester_name()),
                on: vec![tester],
            });
            if woken == Woken::Signal {
                k.rec.event(me, "crypto_wait_for_test", || {
                    "WARN_ON(err): killed while waiting".into()
                });
            }
        }
        CryptoTest::Async => {
            k.rec.event(me, "crypto_register_alg", || {
                format!(
                    "{alg}: larval registered; crypto_schedule_test starts {}; does not wait",
                    tester_name()
                )
            });
        }
    }
    0
}

/// `cryptomgr_test()`: `alg_test()`, whose tfm allocation looks up the
/// fallback and so `request_module("crypto-%s")`; then `crypto_alg_tested()`
/// → `complete_all(&larval->completion)`.
pub fn cryptomgr_test(k: &Arc<Kernel>, me: TaskId, alg: &str, alias: &str, larval: &Completion) {
    k.rec.event(me, "alg_test", || {
        format!("{alg}: allocating it looks up its fallback: request_module({alias})")
    });
    let r = super::kmod::request_module(k, me, alias);
    crypto_alg_tested(k, me, alg, r, larval);
}

/// `crypto_alg_tested()` (`crypto/algapi.c`): the test is done, and
/// `complete_all(&larval->completion)` ends the loader's wait in
/// `crypto_wait_for_test()` (one function per wake-up: `.ci/wakeups`,
/// reports/wakeups.md).
fn crypto_alg_tested(k: &Kernel, me: TaskId, alg: &str, r: Ret, larval: &Completion) {
    k.rec.event(me, "crypto_alg_tested", || {
        format!(
            "{alg}: test done (request returned {}); complete_all(larval)",
            Recorder::ret(r)
        )
    });
    larval.complete_all();
}
