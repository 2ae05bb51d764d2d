//! Cells outside the catalogue that mutation testing showed it needs, each
//! too costly or too odd for the matrix: a property's witness that must
//! stay unmet where nothing exercises it, and checks that need more loaders,
//! or a column, than the catalogue can afford under every column. Each
//! names the mutant it kills (`mutants/survivors.toml`). Part of
//! `.ci/mutants`' test command beside the catalogue (`.cargo/mutants.toml`),
//! the one slow witness included (`#[ignore]`d in the README's test
//! command; `.ci/run` runs it).

mod common;

use common::verdict;
use kmodcheck::engine::{check_cell, CheckOptions, Verdict};
use kmodcheck::model::errno::ENODEV;
use kmodcheck::model::scenario::{self, Actor, InitStep, ModuleSpec, Scenario};
use kmodcheck::model::variant;

fn scenario(name: &str) -> Scenario {
    scenario::by_name(name).unwrap_or_else(|| panic!("no scenario {name}"))
}

fn check(v: &str, sc: &Scenario, property: &str) -> Verdict {
    let v = variant::by_id(v).unwrap_or_else(|| panic!("no variant {v}"));
    let c = check_cell(v, sc, &CheckOptions::default()).expect("the cell runs");
    verdict(&c, property).clone()
}

/// module-memory-safety's witness is a name-check waiter that wakes to find
/// the module it waited for gone (freed, or replaced by another load's
/// struct). On concurrent-same-file-2 under legacy the waiter always wakes
/// to find the same x, LIVE: the property is never exercised there, and
/// must say so. (Found by mutation testing: module.rs's re-lookup compared
/// the struct it saw with `!=` and then counted every wake-up as "gone".)
#[test]
fn module_memory_safety_is_vacuous_where_no_module_goes() {
    let mut sc = scenario("concurrent-same-file-2");
    sc.properties = vec!["module-memory-safety".into()];
    match check("legacy", &sc, "module-memory-safety") {
        Verdict::Inconclusive { reason } => assert!(reason.contains("vacuous"), "{reason}"),
        other => panic!("expected vacuous, got {}", other.kind()),
    }
    // And it is exercised where the waited-for load fails and is freed.
    let sc = scenario("failing-init");
    assert!(matches!(
        check("legacy", &sc, "module-memory-safety"),
        Verdict::Holds { exhaustive: true }
    ));
}

/// A waiter in the in-flight table waits for the loader of its own file,
/// not for another file's load in the same idem_hash bucket: with x-a.ko
/// failing, a second modprobe of it waiting, and x-b.ko (another file whose
/// module is also named x) loading at once, the waiter of x-a reports
/// x-a's -ENODEV, and consistent-result pairs it with x-a's loader, whose
/// result it is. (Found by mutation testing: idempotent()'s lookup of the
/// loader among the bucket's entries with the cookie test inverted paired
/// the waiter with x-b's load. Another file of another name is not enough:
/// consistent-result pairs a waiter only with a load of its module's name.
/// Three loaders: 23,827 states under one column, too many for every
/// column of the matrix.)
#[test]
fn a_waiter_waits_for_its_own_files_loader() {
    let mut sc = scenario("same-name-failing-init");
    sc.name = "same-name-failing-init+waiter".into();
    assert!(matches!(
        sc.modules[0].init.as_slice(),
        [InitStep::Fail(e)] if *e == ENODEV
    ));
    assert_eq!(sc.modules[0].name, sc.modules[1].name);
    let (a, b) = (
        sc.modules[0].aliases[0].clone(),
        sc.modules[1].aliases[0].clone(),
    );
    sc.actors = vec![
        Actor::Modprobe(a.clone()),
        Actor::Modprobe(a),
        Actor::Modprobe(b),
    ];
    sc.properties = vec!["consistent-result".into()];
    let ids: Vec<&str> = kmodcheck::properties::catalogue()
        .iter()
        .map(|p| p.id)
        .collect();
    sc.validate(&ids).expect("a valid scenario");
    assert!(matches!(
        check("idempotent-interruptible", &sc, "consistent-result"),
        Verdict::Holds { exhaustive: true }
    ));
}

/// An `rmmod -f` actor waits for an oops; when the run ends without one,
/// the harness tells it so (`Kernel::finish`, after every kernel task is
/// joined) and it leaves without unloading anything. Without that, or with
/// the environment joined before the kernel tasks, it would wait for good,
/// and the run would end in a deadlock that is the harness's, not the
/// kernel's. (Found by mutation testing: the catalogue's rmmod -f actors
/// all have an oops to wait for.)
#[test]
fn an_rmmod_force_actor_without_an_oops_is_told_the_run_is_over() {
    let mut sc = scenario("concurrent-same-file-2");
    sc.name = "concurrent-same-file-2+rmmod-force".into();
    sc.actors.push(Actor::ForceUnload("x".into()));
    sc.properties = vec!["no-deadlock".into()];
    assert!(matches!(
        check("idempotent-interruptible", &sc, "no-deadlock"),
        Verdict::Holds { exhaustive: true }
    ));
}

/// Under the heap proposal, `rmmod -f` lets a COMING module through only
/// when its init task is gone; a COMING module whose init still runs gets
/// -EBUSY, as in every kernel. Here x's init oopses (which wakes the rmmod
/// -f actor) while y loads, and rmmod -f y may meet y COMING with its init
/// alive. (Found by mutation testing: a positive EBUSY from that branch of
/// delete_module() went unnoticed, the catalogue's rmmod -f acting only on
/// the module whose init died. 3,149 states, under one column.)
#[test]
fn rmmod_force_of_a_coming_module_with_a_live_init_is_ebusy() {
    use kmodcheck::model::errno::{EBUSY, ENOENT};
    use kmodcheck::model::scenario::Expect;
    let mut sc = scenario("winner-dies");
    sc.name = "rmmod-force-live-init".into();
    sc.modules.push(ModuleSpec {
        name: "y".into(),
        file: "y.ko".into(),
        aliases: vec![],
        deps: vec![],
        init: vec![],
    });
    sc.actors = vec![
        Actor::Modprobe("x".into()),
        Actor::Modprobe("y".into()),
        Actor::ForceUnload("y".into()),
    ];
    assert!(matches!(sc.modules[0].init.as_slice(), [InitStep::Oops]));
    sc.expect = vec![Expect::Rmmod {
        module: "y".into(),
        results: vec![0, -ENOENT, -EBUSY],
    }];
    sc.properties = vec!["expected-results".into()];
    assert!(matches!(
        check("heap-idempotent", &sc, "expected-results"),
        Verdict::Holds { exhaustive: true }
    ));
}

/// Module x's init requests two absent aliases in turn, never-x then
/// never-y, while an exec asks for never-y at once. Under
/// CONFIG_MODULE_DEBUG_AUTOLOAD_DUPS a task is then the first requester of
/// two entries of kmod_dup_req, and kmod_dup_request_announce() must pick
/// the one of the alias it announces (kernel/module/dups.c, 8660484ed1cf):
/// the exec's duplicate request of never-y ends with never-y's result.
/// (Found by mutation testing: with `||` for `&&` in that lookup, never-y's
/// result went to never-x's entry, announced already, and the exec slept
/// for good. 20,480 states, under the one column with the option.)
#[test]
fn each_alias_announces_its_own_first_request() {
    let sc = dup_requests_from_init(
        "dup-requests+two-aliases",
        &["never-x", "never-y"],
        vec![],
        // modprobe's exit 1, as a wait(2) status.
        vec![256],
    );
    assert_proved("autoload-dups", &sc);
}

/// A duplicate request waits killably for the first one's result
/// (kmod_dup_request_exists_wait(), kernel/module/dups.c, 8660484ed1cf):
/// SIGKILL ends it with -ERESTARTSYS, which request_module() hands to its
/// caller. Here module x's init makes the duplicate request (an exec asked
/// for never-y first) and SIGKILL reaches modprobe x at any moment. (Found
/// by mutation testing: a positive ERESTARTSYS went unnoticed, the
/// catalogue's one killed duplicate request being exec's, which ignores
/// the result. 26,162 states, under the one column with the option.)
#[test]
fn a_killed_duplicate_request_returns_erestartsys() {
    use kmodcheck::model::errno::ERESTARTSYS;
    use kmodcheck::model::scenario::{Sig, SignalTarget};
    let sc = dup_requests_from_init(
        "dup-requests+kill",
        &["never-y"],
        vec![Actor::Signal {
            target: SignalTarget::Actor(0),
            kind: Sig::Kill,
        }],
        // modprobe's exit 1 as a wait(2) status, or the killed wait's errno.
        vec![256, -ERESTARTSYS],
    );
    assert_proved("autoload-dups", &sc);
}

/// dup-requests, with module x whose init requests `init_requests` in turn
/// (each absent) while an exec asks for never-y, the last of them, and
/// `more` actors: every request_module(never-y) returns one of `results`.
fn dup_requests_from_init(
    name: &str,
    init_requests: &[&str],
    more: Vec<Actor>,
    results: Vec<kmodcheck::model::errno::Ret>,
) -> Scenario {
    use kmodcheck::model::scenario::Expect;
    assert_eq!(init_requests.last(), Some(&"never-y"));
    let mut sc = scenario("dup-requests");
    sc.name = name.into();
    sc.modules = vec![ModuleSpec {
        name: "x".into(),
        file: "x.ko".into(),
        aliases: vec![],
        deps: vec![],
        init: init_requests
            .iter()
            .map(|alias| InitStep::RequestModule {
                alias: alias.to_string(),
                required: false,
            })
            .collect(),
    }];
    sc.actors = vec![
        Actor::Modprobe("x".into()),
        Actor::Request {
            alias: "never-y".into(),
            repeat: false,
        },
    ];
    sc.actors.extend(more);
    sc.absent = init_requests.iter().map(|a| a.to_string()).collect();
    sc.helper_bound = Some(init_requests.len() + 1);
    sc.expect = vec![Expect::Request {
        alias: "never-y".into(),
        results,
        budget: None,
    }];
    sc.properties = vec!["no-deadlock".into(), "expected-results".into()];
    sc
}

/// Every property of `sc` proved under `v`, exhaustively.
fn assert_proved(v: &str, sc: &Scenario) {
    for p in &sc.properties {
        let got = check(v, sc, p);
        assert!(
            matches!(got, Verdict::Holds { exhaustive: true }),
            "{v} × {} × {p}: {}",
            sc.name,
            got.kind()
        );
    }
}

/// The name check waits while a module of the name is COMING, then looks
/// again (module_patient_check_exists(), kernel/module/main.c, since
/// 1fb9341ac348): what it finds then may be a third load's module, COMING
/// in its turn, and that is -EBUSY, not -EEXIST (only a LIVE module is
/// "already loaded"). Three insmods of x.ko, whose init fails: the first
/// fails while the second waits, and the third's x is COMING when the
/// second looks again. (Found by mutation testing: with `||` for `&&` in
/// the COMING arm, the second got -EEXIST. 22,659 states under legacy
/// alone; under v3.8, over 628,000 and unfinished after a minute.)
#[test]
fn a_name_check_waiter_meeting_a_third_load_coming_gets_ebusy() {
    use kmodcheck::model::errno::{EBUSY, ENODEV};
    use kmodcheck::model::scenario::Expect;
    let mut sc = scenario("failing-init");
    sc.name = "failing-init+three-insmods".into();
    assert!(matches!(
        sc.modules[0].init.as_slice(),
        [InitStep::Fail(e)] if *e == ENODEV
    ));
    sc.actors = vec![Actor::Insmod("x.ko".into()); 3];
    sc.expect = vec![Expect::Insmod {
        file: "x.ko".into(),
        results: vec![Some(-ENODEV), Some(-EBUSY)],
    }];
    sc.properties = vec!["expected-results".into()];
    assert!(matches!(
        check("legacy", &sc, "expected-results"),
        Verdict::Holds { exhaustive: true }
    ));
}

/// Two tasks sleep with a timeout on kmod_wq for the one kmod slot (the
/// 5 s killable wait of v4.13's throttle, kernel/kmod.c): an exec's
/// request, and the helper the other exec's request started, whose own
/// exec asks for binfmt-0000 again while its parent holds the slot (the
/// 2008 runaway). Only its timeout frees that helper. When the first
/// sleeper's wait ends, only its own timer goes (del_timer_sync()): the
/// helper's must still fire. (Found by mutation testing: `Waiter::disarm`
/// with its test inverted dropped every other task's timer entry, and the
/// catalogue has no two timed sleepers on one queue of which one leaves
/// first. 29,800 states, under one column.)
#[test]
fn a_timed_sleeper_leaving_keeps_the_others_timeouts() {
    let mut sc = scenario("runaway-nested");
    sc.name = "runaway-nested+two-execs".into();
    assert!(sc.timer);
    assert_eq!(sc.exec_requests.as_deref(), Some("binfmt-0000"));
    sc.actors = vec![
        Actor::Request {
            alias: "binfmt-0000".into(),
            repeat: false,
        };
        2
    ];
    sc.kmod_limit = 1;
    sc.helper_bound = Some(1);
    sc.expect = vec![];
    sc.properties = vec!["no-deadlock".into()];
    assert!(matches!(
        check("v4.13", &sc, "no-deadlock"),
        Verdict::Holds { exhaustive: true }
    ));
}

/// Two loads of x.ko wait in the name check on module_wq while a third
/// loads x, and SIGKILL ends one waiter's wait: signal_wake_up() dequeues
/// that task alone, and the other must still be woken when x goes LIVE.
/// do_init_module()'s wake-up is `if (waitqueue_active(&module_wq))`
/// in the model (`wake_up_all_if_active`), so the queue's record of who
/// sleeps must lose only the task that left. (Found by mutation testing:
/// with one mark for every task, or a dequeue that cleared the others'
/// marks, the other waiter slept for good. 125,803 states under legacy
/// alone, about 7 s: too slow for the README's test command, so `.ci/run`
/// and `.ci/mutants` run it with the ignored tests.)
#[test]
#[ignore = "about 7 s; .ci/run and .ci/mutants run it"]
fn a_waiter_leaving_on_a_signal_leaves_the_others_queued() {
    use kmodcheck::model::scenario::{Sig, SignalTarget};
    let mut sc = scenario("concurrent-same-file-2");
    sc.name = "three-insmods+kill".into();
    assert!(sc.modules[0].init.is_empty());
    sc.actors = vec![Actor::Insmod("x.ko".into()); 3];
    sc.actors.push(Actor::Signal {
        target: SignalTarget::Insmod(1),
        kind: Sig::Kill,
    });
    sc.properties = vec!["no-deadlock".into()];
    assert!(matches!(
        check("legacy", &sc, "no-deadlock"),
        Verdict::Holds { exhaustive: true }
    ));
}

/// `modprobe` of a name no module provides fails before any syscall
/// ("FATAL: Module crypto-missing not found", kmod's tools/modprobe.c,
/// exit 1), which the model's userspace/modprobe.rs reports as -ENOENT
/// (`Exit::Failed(-ENOENT)`, the value an `[[expect]] exit` reads). (Found by mutation
/// testing: a positive ENOENT went unnoticed, the catalogue's modprobes of
/// absent names all being usermode helpers, whose exit status hides it.)
#[test]
fn a_modprobe_of_a_missing_name_exits_with_enoent() {
    use kmodcheck::model::errno::ENOENT;
    use kmodcheck::model::scenario::Expect;
    let mut sc = scenario("missing-fallback");
    sc.name = "missing-fallback+modprobe".into();
    assert_eq!(sc.absent, vec!["crypto-missing".to_string()]);
    sc.actors = vec![Actor::Modprobe("crypto-missing".into())];
    sc.expect = vec![Expect::Exit {
        actor: 0,
        results: vec![Some(-ENOENT)],
    }];
    sc.properties = vec!["expected-results".into()];
    assert!(matches!(
        check("legacy", &sc, "expected-results"),
        Verdict::Holds { exhaustive: true }
    ));
}
