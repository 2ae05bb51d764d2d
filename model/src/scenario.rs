//! Scenarios: modules, actors and bounds, as data.
//!
//! A scenario lists the module files (name, aliases, dependencies, what init
//! does), the actors that start together (modprobe runs, a signal sender),
//! whether time passes (a timer actor), the kmod budget, and the properties
//! that are checked on it. [`catalogue`] is the built-in list.

use crate::errno::{Ret, EBUSY, EEXIST, EINTR, ENOENT, ETXTBSY, EWOULDBLOCK};
use crate::variant::KmodBudget;
use serde::{Deserialize, Serialize};

mod forms;
mod validate;
pub use validate::{At, Invalid};

/// One step of a module's `init` function, run in order.
///
/// In a scenario file (serde's external tagging): `{ request_module = {
/// alias = "x", required = false } }`, `{ register_alg = { alg = "d",
/// test_requests = "crypto-d" } }`, `{ fail = "ENODEV" }`, `"oops"`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum InitStep {
    /// `request_module(alias)` and wait for the helper. If `required`, a
    /// failed request makes init fail with `-ENOENT` (the fallback was not
    /// found); otherwise init carries on, as aes-arm-bs does.
    RequestModule {
        /// What to ask modprobe for.
        alias: String,
        /// Whether init fails when the request fails.
        required: bool,
    },
    /// `crypto_register_alg()` of an algorithm whose self-test, run by the
    /// `cryptomgr_test` kthread, does `request_module(test_requests)`.
    RegisterAlg {
        /// The algorithm's driver name, for the trace.
        alg: String,
        /// The alias the self-test requests (`crypto-%s`).
        test_requests: String,
    },
    /// Return this errno (positive number, e.g. `ENODEV`'s value) from init;
    /// a file names it (`"ENODEV"`).
    Fail(#[serde(with = "forms::errno")] i32),
    /// Oops in init (a NULL dereference, say): `die()` -> `make_task_dead(SIGSEGV)`.
    /// The loading task exits inside `do_one_initcall()` and returns from
    /// nothing: the module stays COMING, and whatever the task's stack held
    /// (its `struct idempotent`, under the stack variants) is gone.
    Oops,
}

/// A module file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModuleSpec {
    /// Module name (`struct module::name`).
    pub name: String,
    /// File name; the in-flight table keys on this file's inode.
    pub file: String,
    /// `MODULE_ALIAS` strings modprobe resolves to this module.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// Modules whose symbols this one imports (modules.dep).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deps: Vec<String>,
    /// What init does.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub init: Vec<InitStep>,
}

/// A signal, as the kernel treats it (kernel/signal.c). In a file:
/// `"kill"`, `"handled"` or `"stop"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sig {
    /// SIGKILL, or a default-fatal signal (SIGTERM, SIGINT, SIGHUP) to a
    /// task with no handler for it, as modprobe is: `complete_signal()`
    /// makes it fatal (`sigaddset(SIGKILL)` for the group). Breaks killable
    /// and interruptible waits; the task dies on its way back to userspace.
    Kill,
    /// A signal the task has a handler for (without `SA_RESTART`): breaks
    /// interruptible waits only, and a syscall's `-ERESTARTSYS` reaches
    /// userspace as `-EINTR` once the handler ran. modprobe installs no
    /// handler; a program that calls `finit_module` itself may.
    Handled,
    /// A stop signal (SIGSTOP, SIGTSTP): breaks interruptible waits only;
    /// the task stops on its way back to userspace, and on SIGCONT (assumed
    /// to come) a syscall that returned `-ERESTARTSYS` is restarted
    /// (`do_signal()`: no handler ran), while `-EINTR` stays. The only
    /// non-fatal interrupter of a modprobe.
    Stop,
}

impl Sig {
    /// Whether it is fatal (it breaks killable waits too).
    pub fn fatal(self) -> bool {
        match self {
            Sig::Kill => true,
            Sig::Handled | Sig::Stop => false,
        }
    }

    /// Its name in a trace.
    pub fn name(self) -> &'static str {
        match self {
            Sig::Kill => "SIGKILL",
            Sig::Handled => "a handled signal",
            Sig::Stop => "SIGSTOP",
        }
    }
}

/// Who a signal actor aims at: `{ modprobe = 0 }`, `{ insmod = 0 }` or
/// `{ helper_for = "alias" }` in a file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalTarget {
    /// The task of the n-th modprobe actor (0-based).
    #[serde(rename = "modprobe")]
    Actor(usize),
    /// The task of the n-th insmod actor (0-based): a program calling
    /// `finit_module()` itself, the one way to reach a wait only an insmod
    /// makes (`resolve_symbol_wait()` for a provider modprobe did not load).
    Insmod(usize),
    /// The first usermode-helper modprobe started for `request_module(alias)`.
    HelperFor(String),
}

/// An actor that starts with the scenario. In a file, one `[[actor]]`
/// table with one key: `modprobe = "x"`, `insmod = "x.ko"`, `rmmod = "x"`,
/// `rmmod_force = "x"`, `request = { alias = "a", repeat = false }`,
/// `signal = { target = { modprobe = 0 }, kind = "kill" }` (or `{ insmod =
/// 0 }`, `{ helper_for = "alias" }`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Actor {
    /// A userspace `modprobe NAME` run.
    Modprobe(String),
    /// A kernel path that calls `request_module(alias)` itself: `exec()` of
    /// a binary in a format no loaded handler knows, which asks for
    /// `binfmt-XXXX` (`search_binary_handler()`, fs/exec.c). With `repeat`,
    /// whatever triggered it fires again each time the request returns (the
    /// module never appears): the Debian initramfs loop.
    Request {
        /// What to ask modprobe for.
        alias: String,
        /// Ask again after each return; needs the scenario's `helper_bound`.
        /// Optional in a file, default false.
        #[serde(default)]
        repeat: bool,
    },
    /// `insmod FILE`: `finit_module(2)` of one file, with none of its
    /// dependencies loaded first (kmod's `insmod` does not read
    /// modules.dep). An importer can then meet its provider in any state.
    Insmod(String),
    /// `rmmod -f NAME` (`delete_module(NAME, O_NONBLOCK | O_TRUNC)`), run by
    /// the administrator once a task has died in a module's init (an oops):
    /// it waits for that, then makes one attempt. If no task dies, it does
    /// nothing.
    #[serde(rename = "rmmod_force")]
    ForceUnload(String),
    /// `rmmod NAME` (`delete_module(NAME, O_NONBLOCK)`, kmod's
    /// `tools/rmmod.c` without `-f`), at any moment: it races whatever
    /// loads or imports the module.
    Rmmod(String),
    /// Sends one signal, at any moment after its target exists.
    Signal {
        /// The target task.
        target: SignalTarget,
        /// Which signal.
        kind: Sig,
    },
}

/// A result the scenario states, checked in every execution by the
/// `expected-results` property: what the kernel hands back, stated where a
/// reviewer knows it (a history claim such as "-ENOMEM at the 2008 budget").
///
/// In a file, one `[[expect]]` table with one key, e.g. `exit = { actor = 0,
/// result = ["0", "killed"] }`, `request = { alias = "m2", result = "ETIME",
/// budget = "kmod-semaphore" }`, `never_live = "x"`. A result is "0", an
/// errno name, "killed" (exit and insmod) or "status N" (request: a wait(2)
/// status), one or a list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Expect {
    /// The n-th modprobe actor (0-based) ends with one of `results`: `Some(0)`
    /// success, `Some(-errno)` the failure it reports, `None` killed or
    /// dead in init. An actor named here is not interchangeable with its
    /// twins (`world::symmetry`).
    Exit {
        /// Which modprobe actor.
        actor: usize,
        /// The results allowed.
        #[serde(rename = "result", with = "forms::exit_results")]
        results: Vec<Option<Ret>>,
    },
    /// Every `request_module(alias)` returns one of `results` to its caller:
    /// 0, a wait(2) status (256: modprobe exited 1), or `-errno`.
    Request {
        /// The alias requested.
        alias: String,
        /// The results allowed.
        #[serde(rename = "result", with = "forms::request_results")]
        results: Vec<Ret>,
        /// Only under this kmod budget (`None`: under every one): what a
        /// request gets back at the budget is each budget's own answer.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        budget: Option<crate::variant::KmodBudget>,
    },
    /// Module `name` is never LIVE, at any moment.
    NeverLive(String),
    /// Every `insmod file` actor's `finit_module` returns one of `results`
    /// (`None`: it died in init).
    Insmod {
        /// The file inserted.
        file: String,
        /// The results allowed.
        #[serde(rename = "result", with = "forms::exit_results")]
        results: Vec<Option<Ret>>,
    },
    /// Every `delete_module(module)` (an `rmmod` or `rmmod -f` actor)
    /// returns one of `results`: 0 (unloaded) or `-errno`.
    Rmmod {
        /// The module removed.
        module: String,
        /// The results allowed.
        #[serde(rename = "result", with = "forms::results")]
        results: Vec<Ret>,
    },
}

/// A scenario: the one form of it. The catalogue builds it in Rust, a
/// scenario file is its serde form in TOML (`src/scenario_file.rs`), and
/// `kmodcheck fuzz` generates it; [`Scenario::validate`] checks it, whatever
/// made it. The serde names are the file's keys (`[[module]]`, `[[actor]]`,
/// `[[expect]]`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Id used on the command line and in reports.
    pub name: String,
    /// One line: what happens.
    pub summary: String,
    /// Where it comes from (docs/kernel.md §4 row, commit, report).
    #[serde(default)]
    pub reference: String,
    /// Whether time passes: a timer actor that may expire any armed timed
    /// wait at any moment. Without it, timed waits never expire.
    #[serde(default)]
    pub timer: bool,
    /// `max_modprobes` of the kmod budget (`MAX_KMOD_CONCURRENT`, 50 in the
    /// kernel; small here, so that a chain of requests meets it within
    /// loom's thread limit).
    #[serde(default = "max_kmod_concurrent")]
    pub kmod_limit: u32,
    /// The most modprobe helpers one execution may start (`bounded-helpers`).
    /// The model does not start one more: it records the runaway and cuts
    /// that request short.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub helper_bound: Option<usize>,
    /// Every usermode helper's `exec()` of modprobe first calls
    /// `request_module(alias)` (the binary's format needs a `binfmt-XXXX`
    /// handler), while its parent still holds its kmod slot: the 2008
    /// "runaway loop". The exec then fails with `-ENOEXEC`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exec_requests: Option<String>,
    /// Names requested on purpose that no module provides (a missing
    /// fallback, a `binfmt-XXXX` handler nobody ships). Any other name no
    /// module provides is a mistake ([`Scenario::validate`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub absent: Vec<String>,
    /// Modules that must be LIVE when every task has exited (`ends-live`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expect_live: Vec<String>,
    /// Property ids checked on this scenario.
    pub properties: Vec<String>,
    /// The module files.
    #[serde(default, rename = "module")]
    pub modules: Vec<ModuleSpec>,
    /// Actors started together.
    #[serde(rename = "actor")]
    pub actors: Vec<Actor>,
    /// Results stated for this scenario (`expected-results`).
    #[serde(default, rename = "expect", skip_serializing_if = "Vec::is_empty")]
    pub expect: Vec<Expect>,
}

fn max_kmod_concurrent() -> u32 {
    MAX_KMOD_CONCURRENT
}

impl Scenario {
    /// A scenario about the kmod budget (it bounds the helpers): the
    /// matrix checks it under every budget, not only each loader's own.
    pub fn about_the_budget(&self) -> bool {
        self.helper_bound.is_some()
    }

    /// The module named `name`, or providing alias `name` (modprobe's lookup).
    pub fn resolve(&self, name: &str) -> Option<&ModuleSpec> {
        self.modules.iter().find(|m| m.name == name).or_else(|| {
            self.modules
                .iter()
                .find(|m| m.aliases.iter().any(|a| a == name))
        })
    }

    /// How many modprobe actors: `world::execute` registers them first, so
    /// the n-th is task 1 + n.
    pub(crate) fn modprobe_actors(&self) -> usize {
        self.actors
            .iter()
            .filter(|a| matches!(a, Actor::Modprobe(_)))
            .count()
    }

    /// How many insmod actors: registered right after the modprobe actors.
    pub(crate) fn insmod_actors(&self) -> usize {
        self.actors
            .iter()
            .filter(|a| matches!(a, Actor::Insmod(_)))
            .count()
    }

    /// The targets of the scenario's signal actors.
    pub(crate) fn signal_targets(&self) -> impl Iterator<Item = &SignalTarget> {
        self.actors.iter().filter_map(|a| match a {
            Actor::Signal { target, .. } => Some(target),
            Actor::Modprobe(_)
            | Actor::Insmod(_)
            | Actor::Request { .. }
            | Actor::ForceUnload(_)
            | Actor::Rmmod(_) => None,
        })
    }

    /// Module by exact name.
    pub fn module(&self, name: &str) -> Option<&ModuleSpec> {
        self.modules.iter().find(|m| m.name == name)
    }

    /// Index of a file (its "inode number").
    pub fn file_index(&self, file: &str) -> usize {
        self.modules
            .iter()
            .position(|m| m.file == file)
            .expect("file of a known module")
    }

    /// [`Scenario::max_threads`] under variant `v`: one more where `v` makes
    /// time pass in a scenario without a timer ([`Variant::needs_time`](crate::variant::Variant::needs_time)).
    pub fn max_threads_under(&self, v: &crate::variant::Variant) -> usize {
        self.max_threads() + usize::from(!self.timer && v.needs_time())
    }

    /// The most model threads one execution can have, main thread included:
    /// main, the actors, the timer, and every helper or kthread a chain of
    /// requests can start (a request for a module already being loaded
    /// further up the chain starts a helper but no new init).
    pub fn max_threads(&self) -> usize {
        fn helpers(sc: &Scenario, module: &str, stack: &mut Vec<String>) -> usize {
            let Some(m) = sc.resolve(module) else {
                return 0;
            };
            if stack.contains(&m.name) {
                return 0;
            }
            stack.push(m.name.clone());
            let mut n = 0;
            for dep in &m.deps {
                n += helpers(sc, dep, stack);
            }
            for step in &m.init {
                match step {
                    InitStep::RequestModule { alias, .. } => n += 1 + helpers(sc, alias, stack),
                    InitStep::RegisterAlg { test_requests, .. } => {
                        n += 2 + helpers(sc, test_requests, stack)
                    }
                    InitStep::Fail(_) | InitStep::Oops => {}
                }
            }
            stack.pop();
            n
        }
        let mut n = 0;
        for a in &self.actors {
            match a {
                Actor::Modprobe(target) => n += helpers(self, target, &mut Vec::new()),
                // Each request starts a helper; a helper whose exec requests
                // again holds its slot, so a chain stops at the budget.
                Actor::Request { alias, repeat } => {
                    let chain = if self.exec_requests.is_some() {
                        self.kmod_limit as usize
                    } else {
                        1 + helpers(self, alias, &mut Vec::new())
                    };
                    n += if *repeat {
                        self.helper_bound.unwrap_or(1).max(chain)
                    } else {
                        chain
                    };
                }
                Actor::Insmod(file) => {
                    if let Some(m) = self.modules.iter().find(|m| &m.file == file) {
                        n += helpers(self, &m.name.clone(), &mut Vec::new());
                    }
                }
                Actor::Signal { .. } | Actor::ForceUnload(_) | Actor::Rmmod(_) => {}
            }
        }
        // The model starts no helper past the scenario's bound, so with no
        // kthread in play (only helpers are started), the bound caps them.
        let kthreads = self.modules.iter().any(|m| {
            m.init
                .iter()
                .any(|s| matches!(s, InitStep::RegisterAlg { .. }))
        });
        if let (Some(bound), false) = (self.helper_bound, kthreads) {
            n = n.min(bound);
        }
        1 + self.actors.len() + usize::from(self.timer) + n
    }
}

/// `MAX_KMOD_CONCURRENT` (`kernel/module/kmod.c`): the kernel's kmod limit,
/// which a scenario keeps unless it is about the budget.
pub const MAX_KMOD_CONCURRENT: u32 = 50;

/// The fields most scenarios leave alone: no timer, the kernel's kmod limit
/// (`MAX_KMOD_CONCURRENT`, 50), no helper bound, no exec request, nothing
/// expected LIVE. Only for `..base()` in the literals below: its empty name,
/// modules, actors and properties make no scenario by themselves.
fn base() -> Scenario {
    Scenario {
        name: String::new(),
        summary: String::new(),
        reference: String::new(),
        modules: vec![],
        actors: vec![],
        timer: false,
        kmod_limit: MAX_KMOD_CONCURRENT,
        helper_bound: None,
        exec_requests: None,
        absent: vec![],
        expect_live: vec![],
        expect: vec![],
        properties: vec![],
    }
}

fn module(name: &str, aliases: &[&str], deps: &[&str], init: Vec<InitStep>) -> ModuleSpec {
    ModuleSpec {
        name: name.into(),
        file: format!("{name}.ko"),
        aliases: aliases.iter().map(|s| s.to_string()).collect(),
        deps: deps.iter().map(|s| s.to_string()).collect(),
        init,
    }
}

/// Two files, x-a.ko and x-b.ko (aliases x-a, x-b), whose modules are both
/// named x (docs/kernel.md §4.9); x-a's init is `a_init`, x-b's empty.
fn same_name_pair(a_init: Vec<InitStep>) -> Vec<ModuleSpec> {
    ["x-a", "x-b"]
        .into_iter()
        .zip([a_init, vec![]])
        .map(|(file, init)| ModuleSpec {
            file: format!("{file}.ko"),
            aliases: strings(&[file]),
            ..module("x", &[], &[], init)
        })
        .collect()
}

/// What `request_module(alias)` returns under each kmod budget, one
/// [`Expect::Request`] per budget named (a budget not named states nothing).
fn per_budget(alias: &str, results: &[(&[Ret], KmodBudget)]) -> Vec<Expect> {
    results
        .iter()
        .map(|(r, budget)| Expect::Request {
            alias: alias.into(),
            results: r.to_vec(),
            budget: Some(*budget),
        })
        .collect()
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// The aes-arm-bs module of the 2024 report: provides `cbc(aes)`, and its
/// init asks for a `cbc(aes)` fallback, which resolves by alias to itself.
fn aes_arm_bs(init: Vec<InitStep>) -> ModuleSpec {
    module("aes-arm-bs", &["crypto-cbc(aes)", "cbc(aes)"], &[], init)
}

fn recursive(name: &str, summary: &str, signal: Option<SignalTarget>, props: &[&str]) -> Scenario {
    let mut actors = vec![Actor::Modprobe("aes-arm-bs".into())];
    if let Some(target) = signal {
        actors.push(Actor::Signal {
            target,
            kind: Sig::Kill,
        });
    }
    Scenario {
        name: name.into(),
        summary: summary.into(),
        reference: "docs/kernel.md §4.1; cb5b81bc9a44 (aes-arm-bs hang since 9b9879fc0327)".into(),
        modules: vec![aes_arm_bs(vec![InitStep::RequestModule {
            alias: "crypto-cbc(aes)".into(),
            required: false,
        }])],
        actors,
        timer: true,
        expect_live: strings(&["aes-arm-bs"]),
        properties: strings(props),
        ..base()
    }
}

/// §4.8: whichever of two loads of x.ko wins dies in x's init. `extra` is
/// the actor that should free the other one: `rmmod -f` (the heap proposal's
/// way out), or SIGKILL (with a twin aimed at the other modprobe, since
/// either may be the one left waiting).
fn winner_dies(name: &str, summary: &str, extra: Actor, props: &[&str]) -> Scenario {
    let mut actors = vec![Actor::Modprobe("x".into()), Actor::Modprobe("x".into())];
    if let Actor::Signal { kind, .. } = &extra {
        actors.push(Actor::Signal {
            target: SignalTarget::Actor(1),
            kind: *kind,
        });
    }
    actors.push(extra);
    Scenario {
        name: name.into(),
        summary: summary.into(),
        reference:
            "docs/kernel.md §4.8; 9b9879fc0327; julian-lagattuta's force-unload series (2025)"
                .into(),
        modules: vec![module("x", &[], &[], vec![InitStep::Oops])],
        actors,
        properties: strings(props),
        ..base()
    }
}

/// §4.7: m0's init requests m1, whose init requests m2, with one kmod slot.
/// With `signal`, a handled signal reaches the helper loading m1 at any
/// moment: under the first throttle (6d7964a722af) it breaks the wait for a
/// slot, whose result is ignored, and the helper's request runs without one.
fn deep_recursion(signal: Option<SignalTarget>) -> Scenario {
    let mut actors = vec![Actor::Modprobe("m0".into())];
    // With the signal actor, a second helper would be a sixth thread, past
    // loom's five: the helper bound is 1 there, so a request that gets past
    // the one slot is cut where its helper would start (after the slot
    // accounting this scenario is about).
    let (name, summary, bound, props): (_, _, _, &[&str]) = match &signal {
        None => (
            "deep-recursion",
            "m0's init requests m1, whose init requests m2: a chain of nested requests longer than the 1 kmod slot",
            2,
            &[
                "no-deadlock",
                "budget-respected",
                "bounded-helpers",
                "ends-live",
                "expected-results",
            ],
        ),
        Some(_) => (
            "deep-recursion+signal-nested",
            "as deep-recursion, and a handled signal reaches the helper loading m1 (which waits for the kmod slot) at any moment",
            1,
            &["no-deadlock", "budget-respected"],
        ),
    };
    // What the kernel hands back, stated (`expected-results`): m1's request
    // for m2 finds the one slot taken by m0's request, and each budget
    // answers in its own way (docs/kernel.md §4.7): the 2008 code fails
    // at once with -ENOMEM, the killable 5 s wait and the v6.4 semaphore
    // time out with -ETIME (6d7964a722af's wait, without a timeout, never
    // returns: no-deadlock shows that). m1's init goes on without m2
    // (required = false), so modprobe m0 succeeds whenever it ends.
    let expect = match &signal {
        None => {
            let m2 = |results: &[Ret], budget| Expect::Request {
                alias: "m2".into(),
                results: results.to_vec(),
                budget: Some(budget),
            };
            vec![
                m2(&[-crate::errno::ENOMEM], KmodBudget::FailFast2008),
                m2(&[-crate::errno::ETIME], KmodBudget::ThrottleTimeout),
                m2(&[-crate::errno::ETIME], KmodBudget::Semaphore),
                Expect::Exit {
                    actor: 0,
                    results: vec![Some(0)],
                },
            ]
        }
        Some(_) => vec![],
    };
    if let Some(target) = signal {
        actors.push(Actor::Signal {
            target,
            kind: Sig::Handled,
        });
    }
    Scenario {
        name: name.into(),
        summary: summary.into(),
        reference: "docs/kernel.md §4.7; 6d7964a722af and its follow-up".into(),
        expect,
        modules: vec![
            module(
                "m0",
                &[],
                &[],
                vec![InitStep::RequestModule {
                    alias: "m1".into(),
                    required: false,
                }],
            ),
            module(
                "m1",
                &[],
                &[],
                vec![InitStep::RequestModule {
                    alias: "m2".into(),
                    required: false,
                }],
            ),
            module("m2", &[], &[], vec![]),
        ],
        actors,
        timer: true,
        kmod_limit: 1,
        helper_bound: Some(bound),
        expect_live: strings(&["m0", "m1"]),
        properties: strings(props),
        ..base()
    }
}

/// `n` modprobe runs of one module file, started together: the in-flight
/// table's scenario (`concurrent-same-file-N`). The catalogue has N = 2, 3;
/// `cargo xtask bench` also measures N = 4, loom's largest (5 threads).
pub fn concurrent_same_file(n: usize) -> Scenario {
    Scenario {
        name: format!("concurrent-same-file-{n}"),
        summary: format!("{n} modprobe runs of one module file start together"),
        reference: "docs/kernel.md §4.3; 9b9879fc0327".into(),
        modules: vec![module("x", &[], &[], vec![])],
        actors: (0..n).map(|_| Actor::Modprobe("x".into())).collect(),
        expect_live: strings(&["x"]),
        properties: strings(&[
            "no-deadlock",
            "init-at-most-once",
            "consistent-result",
            "success-means-live",
            "coming-before-init",
            "one-image-per-file",
        ]),
        ..base()
    }
}

/// `n` modprobe runs of modules that all depend on `a`, started together:
/// the scenario the error-out-early change broke. `n = 2` is the catalogue's
/// `shared-dependency` (modprobe b and c); `cargo xtask bench` also measures
/// `shared-dependency-3` (b, c, d).
pub fn shared_dependency(n: usize) -> Scenario {
    let dependents: Vec<String> = (0..n)
        .map(|i| char::from(b'b' + i as u8).to_string())
        .collect();
    let mut modules = vec![module("a", &[], &[], vec![])];
    for d in &dependents {
        modules.push(module(d, &[], &["a"], vec![]));
    }
    let mut live = vec!["a".to_string()];
    live.extend(dependents.iter().cloned());
    Scenario {
        name: if n == 2 {
            "shared-dependency".into()
        } else {
            format!("shared-dependency-{n}")
        },
        summary: if n == 2 {
            "modprobe b and modprobe c run together; both depend on a".into()
        } else {
            format!(
                "modprobe {} run together; all depend on a",
                dependents.join(", modprobe ")
            )
        },
        reference: "docs/kernel.md §4.2; revert ac2263b588df".into(),
        modules,
        actors: dependents
            .iter()
            .map(|d| Actor::Modprobe(d.clone()))
            .collect(),
        expect_live: live,
        properties: strings(&[
            "no-deadlock",
            "dependents-load",
            "success-means-live",
            "init-at-most-once",
            "one-image-per-file",
        ]),
        ..base()
    }
}

/// The built-in scenarios.
pub fn catalogue() -> Vec<Scenario> {
    vec![
        {
            let mut s = recursive(
                "recursive-self-load",
                "aes-arm-bs's init requests crypto-cbc(aes), an alias of itself, and waits for the helper",
                None,
                // idem-memory-safety: a recursive waiter that leaves with
                // -EDEADLK (recursion-aware) or gives up (idem-timeout) must
                // take its entry with it, before the completer walks the chain.
                &[
                    "no-deadlock",
                    "ends-live",
                    "init-at-most-once",
                    "success-means-live",
                    "idem-memory-safety",
                    "expected-results",
                ],
            );
            // Where the self-load does not hang, the nested modprobe fails
            // (-ETXTBSY, -EDEADLK or -ETIMEDOUT), exits 1, and its requester
            // gets the wait status 256 (found by mutation testing: a
            // positive -EDEADLK would pass as success, libkmod reading any
            // result >= 0 as one).
            s.expect = vec![Expect::Request {
                alias: "crypto-cbc(aes)".into(),
                results: vec![256],
                budget: None,
            }];
            s
        },
        recursive(
            "recursive-self-load+kill-nested",
            "as recursive-self-load, and SIGKILL is sent to the nested modprobe at any moment",
            Some(SignalTarget::HelperFor("crypto-cbc(aes)".into())),
            &["terminates-when-killed", "success-means-live"],
        ),
        recursive(
            "recursive-self-load+kill-outer",
            "as recursive-self-load, and SIGKILL is sent to the outer modprobe at any moment",
            Some(SignalTarget::Actor(0)),
            &["terminates-when-killed", "success-means-live"],
        ),
        {
            // Found by mutation testing: a second fatal signal must not
            // undo the first (send_sig() only ever adds to the pending set).
            let mut s = recursive(
                "recursive-self-load+kill-outer-twice",
                "as recursive-self-load+kill-outer, and a second SIGKILL to the same modprobe (a second kill -9, or SIGTERM then SIGKILL: SIGTERM is fatal to a modprobe, which installs no handler)",
                Some(SignalTarget::Actor(0)),
                &["terminates-when-killed"],
            );
            s.actors.push(Actor::Signal {
                target: SignalTarget::Actor(0),
                kind: Sig::Kill,
            });
            s.reference = "docs/kernel.md §4.11, §2 (signals); kernel/signal.c: sigaddset() on the pending set, complete_signal() makes a default-fatal signal fatal".into();
            s
        },
        Scenario {
            name: "crypto-self-test".into(),
            summary: "aes-arm-bs registers cbc(aes); its self-test requests crypto-cbc(aes)".into(),
            reference: "docs/kernel.md §4.1; 37da5d0ffa7b; the 2024 aes-arm-bs report".into(),
            modules: vec![aes_arm_bs(vec![InitStep::RegisterAlg {
                alg: "cbc-aes-neonbs".into(),
                test_requests: "crypto-cbc(aes)".into(),
            }])],
            actors: vec![Actor::Modprobe("aes-arm-bs".into())],
            timer: true,
            expect_live: strings(&["aes-arm-bs"]),
            properties: strings(&["no-deadlock", "ends-live"]),
            ..base()
        },
        Scenario {
            name: "crypto-self-test+kill".into(),
            summary: "as crypto-self-test, without time passing, and SIGKILL to the modprobe of aes-arm-bs at any moment".into(),
            reference: "crypto/algapi.c crypto_wait_for_test(): a killable wait for the larval's completion (a fatal signal ends it; the registration then fails); found by the wake-up analysis (reports/wakeups.md)".into(),
            modules: vec![aes_arm_bs(vec![InitStep::RegisterAlg {
                alg: "cbc-aes-neonbs".into(),
                test_requests: "crypto-cbc(aes)".into(),
            }])],
            actors: vec![
                Actor::Modprobe("aes-arm-bs".into()),
                Actor::Signal {
                    target: SignalTarget::Actor(0),
                    kind: Sig::Kill,
                },
            ],
            properties: strings(&["terminates-when-killed"]),
            ..base()
        },
        shared_dependency(2),
        Scenario {
            name: "insmod-dependent".into(),
            summary: "modprobe a, and insmod b.ko at the same time: b imports from a, and insmod does not load a first".into(),
            reference: "kernel/module/main.c resolve_symbol_wait() (v6.4+): an importer whose provider is COMING waits up to 30 s for it".into(),
            modules: vec![
                module("a", &[], &[], vec![]),
                module("b", &[], &["a"], vec![]),
            ],
            actors: vec![Actor::Modprobe("a".into()), Actor::Insmod("b.ko".into())],
            expect_live: strings(&["a"]),
            // insmod b.ko: 0 once a is LIVE, or after waiting while it is
            // COMING; -ENOENT ("Unknown symbol") while a is absent or
            // UNFORMED (find_symbol skips it). Never -EBUSY: the wait is
            // for the COMING provider (found by mutation testing).
            expect: vec![Expect::Insmod {
                file: "b.ko".into(),
                results: vec![Some(0), Some(-ENOENT)],
            }],
            properties: strings(&[
                "no-deadlock",
                "live-deps",
                "success-means-live",
                "coming-before-init",
                "expected-results",
            ]),
            ..base()
        },
        Scenario {
            name: "insmod-dependent+failing-provider".into(),
            summary: "modprobe a, whose init fails with -ENODEV, and insmod b.ko at the same time: b imports from a".into(),
            reference: "kernel/module/main.c resolve_symbol_wait() and do_init_module()'s failure path (free_module(), then wake_up_all(&module_wq)), v6.4+; found by the wake-up analysis (reports/wakeups.md)".into(),
            modules: vec![
                module("a", &[], &[], vec![InitStep::Fail(crate::errno::ENODEV)]),
                module("b", &[], &["a"], vec![]),
            ],
            actors: vec![Actor::Modprobe("a".into()), Actor::Insmod("b.ko".into())],
            // b never finds a LIVE: -ENOENT ("Unknown symbol") whether a is
            // absent, UNFORMED, GOING or gone; the wait for COMING a ends
            // when the failed load wakes module_wq.
            expect: vec![
                Expect::Insmod {
                    file: "b.ko".into(),
                    results: vec![Some(-ENOENT)],
                },
                Expect::NeverLive("b".into()),
            ],
            properties: strings(&["no-deadlock", "live-deps", "expected-results"]),
            ..base()
        },
        Scenario {
            name: "insmod-dependent+dead-provider".into(),
            summary: "modprobe a, whose init oopses (a stays COMING), and insmod b.ko, which imports from a; time passes".into(),
            reference: "kernel/module/main.c resolve_symbol_wait(): an interruptible wait on module_wq of at most 30 * HZ, then \"gave up waiting for init of module\" and the last resolve_symbol() result, -EBUSY (v6.4+); found by the wake-up analysis (reports/wakeups.md)".into(),
            modules: vec![
                module("a", &[], &[], vec![InitStep::Oops]),
                module("b", &[], &["a"], vec![]),
            ],
            actors: vec![Actor::Modprobe("a".into()), Actor::Insmod("b.ko".into())],
            timer: true,
            // Only the 30 s timeout ends b's wait for a, which stays COMING
            // with its loader dead: -EBUSY. Before a is COMING: -ENOENT.
            expect: vec![Expect::Insmod {
                file: "b.ko".into(),
                results: vec![Some(-ENOENT), Some(-EBUSY)],
            }],
            properties: strings(&["no-deadlock", "expected-results"]),
            ..base()
        },
        Scenario {
            name: "insmod-dependent+dead-provider+kill".into(),
            summary: "as insmod-dependent+dead-provider, without time passing, and SIGKILL to insmod b.ko at any moment: only the signal ends its wait for a".into(),
            reference: "kernel/module/main.c resolve_symbol_wait(): wait_event_interruptible_timeout() on module_wq, which a fatal signal ends (-ERESTARTSYS; the task dies on its way out) (v6.4+); found by the wake-up analysis (reports/wakeups.md)".into(),
            modules: vec![
                module("a", &[], &[], vec![InitStep::Oops]),
                module("b", &[], &["a"], vec![]),
            ],
            actors: vec![
                Actor::Modprobe("a".into()),
                Actor::Insmod("b.ko".into()),
                Actor::Signal {
                    target: SignalTarget::Insmod(0),
                    kind: Sig::Kill,
                },
            ],
            // Before a is COMING: -ENOENT; after, b waits until SIGKILL
            // ends the wait, and resolve_symbol_wait() hands back the last
            // resolve_symbol() result, -EBUSY (the task then dies on its
            // way back to userspace).
            expect: vec![Expect::Insmod {
                file: "b.ko".into(),
                results: vec![Some(-ENOENT), Some(-EBUSY)],
            }],
            properties: strings(&["no-deadlock", "terminates-when-killed", "expected-results"]),
            ..base()
        },
        Scenario {
            name: "insmod-unknown-symbol-twice".into(),
            summary: "insmod b.ko twice at once: b imports from a, which nobody loads".into(),
            reference: "kernel/module/main.c load_module(): simplify_symbols() fails (\"Unknown symbol\", -ENOENT), and unlink_mod: wakes module_wq for a load of the same name waiting on the UNFORMED module (v6.4+); found by the wake-up analysis (reports/wakeups.md)".into(),
            modules: vec![
                module("a", &[], &[], vec![]),
                module("b", &[], &["a"], vec![]),
            ],
            actors: vec![Actor::Insmod("b.ko".into()), Actor::Insmod("b.ko".into())],
            // -ENOENT for the load that resolves its imports; a load that
            // waited for it in the name check and finds it gone gets
            // -EBUSY (v6.2+), or loads b itself and gets -ENOENT (before);
            // before v3.8 the name check refuses at once with -EEXIST;
            // under error-out-early the second load may find the file
            // denied: -ETXTBSY.
            expect: vec![
                Expect::Insmod {
                    file: "b.ko".into(),
                    results: vec![Some(-ENOENT), Some(-EBUSY), Some(-EEXIST), Some(-ETXTBSY)],
                },
                Expect::NeverLive("b".into()),
            ],
            properties: strings(&["no-deadlock", "expected-results"]),
            ..base()
        },
        concurrent_same_file(2),
        concurrent_same_file(3),
        Scenario {
            name: "failing-init".into(),
            summary: "2 modprobe runs of one module file whose init fails with -ENODEV".into(),
            reference: "docs/kernel.md §4.4".into(),
            modules: vec![module("x", &[], &[], vec![InitStep::Fail(crate::errno::ENODEV)])],
            actors: vec![Actor::Modprobe("x".into()), Actor::Modprobe("x".into())],
            // "No waiter may report success" is consistent-result here: a
            // waiter's result must be the failed load's (or the name
            // check's -EBUSY, or -EINTR where the variant allows it).
            // module-memory-safety: under the name check (legacy), the
            // waiter wakes after the failed load's struct module was freed.
            // etxtbsy-only-while-loading: under error-out-early, the second
            // load may start after the first has ended and must then get
            // the file (found by mutation testing: a deny never given back).
            // one-attempt-per-burst: from v3.8 to v6.1 the name check's
            // waiter loaded the module again once the failed load was gone.
            properties: strings(&[
                "no-deadlock",
                "init-at-most-once",
                "consistent-result",
                "module-memory-safety",
                "etxtbsy-only-while-loading",
                "ends-settled",
                "one-attempt-per-burst",
            ]),
            ..base()
        },
        Scenario {
            name: "interrupted-waiter".into(),
            summary: "2 modprobe runs of one file; a handled signal reaches the second at any moment, racing the winner's idempotent_complete".into(),
            reference: "docs/kernel.md §4.5; 2124d84db293".into(),
            modules: vec![module("x", &[], &[], vec![])],
            actors: vec![
                Actor::Modprobe("x".into()),
                Actor::Modprobe("x".into()),
                Actor::Signal {
                    target: SignalTarget::Actor(1),
                    kind: Sig::Handled,
                },
            ],
            expect_live: strings(&["x"]),
            properties: strings(&[
                "no-deadlock",
                "consistent-result",
                "success-means-live",
                "idem-memory-safety",
            ]),
            ..base()
        },
        Scenario {
            name: "interrupted-insmod".into(),
            summary: "2 insmods of one file by a program with a handler for a signal, which reaches the second at any moment: -EINTR where it breaks a wait".into(),
            reference: "arch/x86/kernel/signal.c handle_signal(): -ERESTARTSYS becomes -EINTR once a handler without SA_RESTART ran; the name check's and the in-flight table's interruptible waits (1fb9341ac348, 2124d84db293); found by mutation testing (mutants/survivors.toml)".into(),
            modules: vec![module("x", &[], &[], vec![])],
            actors: vec![
                Actor::Insmod("x.ko".into()),
                Actor::Insmod("x.ko".into()),
                Actor::Signal {
                    target: SignalTarget::Insmod(1),
                    kind: Sig::Handled,
                },
            ],
            expect: vec![Expect::Insmod {
                file: "x.ko".into(),
                results: vec![Some(0), Some(-EEXIST), Some(-EINTR)],
            }],
            expect_live: strings(&["x"]),
            properties: strings(&["no-deadlock", "consistent-result", "expected-results"]),
            ..base()
        },
        winner_dies(
            "winner-dies",
            "2 modprobe runs of one file whose init oopses; the administrator then runs rmmod -f",
            Actor::ForceUnload("x".into()),
            &["no-deadlock", "consistent-result", "idem-memory-safety"],
        ),
        winner_dies(
            "winner-dies+kill-waiter",
            "2 modprobe runs of one file whose init oopses; SIGKILL goes to each of them at any moment",
            Actor::Signal {
                target: SignalTarget::Actor(0),
                kind: Sig::Kill,
            },
            &["terminates-when-killed", "consistent-result", "idem-memory-safety"],
        ),
        {
            // A stop signal (SIGSTOP, SIGTSTP) is the only non-fatal
            // interrupter of a modprobe (issue 16, point 3). The name check's
            // -ERESTARTSYS restarts finit_module on SIGCONT, so the waiter
            // waits again for the dead load; 2124d84db293's waiter returns
            // -EINTR, which no restart undoes, and modprobe fails.
            let mut s = winner_dies(
                "winner-dies+stop-waiter",
                "2 modprobe runs of one file whose init oopses; SIGSTOP (then SIGCONT) goes to each of them at any moment",
                Actor::Signal {
                    target: SignalTarget::Actor(0),
                    kind: Sig::Stop,
                },
                &["no-deadlock", "consistent-result"],
            );
            s.reference = "docs/kernel.md §2 (signals), §4.8; kernel/signal.c get_signal() (a stop signal stops the task), arch/x86/kernel/signal.c (-ERESTARTSYS restarts a syscall no handler interrupted); 2124d84db293 (-EINTR)".into();
            s
        },
        {
            // Found by mutation testing: the heap proposal unloads a
            // module whose init task died only under O_TRUNC (rmmod -f).
            let mut s = winner_dies(
                "winner-dies+rmmod",
                "2 modprobe runs of one file whose init oopses, and a plain rmmod (without -f) at any moment",
                Actor::Rmmod("x".into()),
                &["expected-results"],
            );
            // x is never LIVE: rmmod gets -ENOENT (not on the list yet, or
            // UNFORMED) or -EBUSY (COMING, dead init or not); only -f would
            // unload it.
            s.expect = vec![Expect::Rmmod {
                module: "x".into(),
                results: vec![-ENOENT, -EBUSY],
            }];
            s.reference = "docs/kernel.md §4.8, §4.10; julian-lagattuta's 2025 series (the forced unload needs O_TRUNC)".into();
            s
        },
        Scenario {
            name: "winner-dies+other-file".into(),
            summary: "modprobe x, whose init oopses, and modprobe y of another file whose inode hashes to the same idem_hash bucket".into(),
            reference: "docs/kernel.md §4.8; kernel/module/main.c idempotent() (hlist_for_each_entry reads every entry's cookie in the bucket, 9b9879fc0327); issue 16, point 4".into(),
            modules: vec![
                module("x", &[], &[], vec![InitStep::Oops]),
                module("y", &[], &[], vec![]),
            ],
            actors: vec![Actor::Modprobe("x".into()), Actor::Modprobe("y".into())],
            expect_live: strings(&["y"]),
            properties: strings(&["idem-memory-safety", "ends-live"]),
            ..base()
        },
        Scenario {
            name: "same-name-different-files".into(),
            summary: "modprobe x-a and modprobe x-b together: two files whose modules are both named x".into(),
            reference: "docs/kernel.md §4.9".into(),
            modules: same_name_pair(vec![]),
            actors: vec![Actor::Modprobe("x-a".into()), Actor::Modprobe("x-b".into())],
            expect_live: strings(&["x"]),
            properties: strings(&[
                "no-deadlock",
                "init-at-most-once",
                "consistent-result",
                "success-means-live",
                "ends-live",
            ]),
            ..base()
        },
        Scenario {
            name: "same-name-failing-init".into(),
            summary: "modprobe x-a and modprobe x-b together: two files whose modules are both named x; x-a's init fails with -ENODEV".into(),
            reference: "docs/kernel.md §4.4, §4.9".into(),
            // The in-flight table keys on the file, so in every variant the
            // second load meets the first in the name check
            // (module_patient_check_exists), sleeps on module_wq while x-a's
            // x is COMING, and wakes after free_module() freed it: the
            // re-lookup that module-memory-safety is about, which
            // failing-init reaches only in the variants without the table.
            modules: same_name_pair(vec![InitStep::Fail(crate::errno::ENODEV)]),
            actors: vec![Actor::Modprobe("x-a".into()), Actor::Modprobe("x-b".into())],
            properties: strings(&[
                "no-deadlock",
                "init-at-most-once",
                "consistent-result",
                "module-memory-safety",
            ]),
            ..base()
        },
        Scenario {
            name: "rmmod-racing-load".into(),
            summary: "2 modprobe runs of one module, and rmmod of it at any moment".into(),
            reference: "docs/kernel.md §4.10; kernel/module/main.c delete_module() and module_patient_check_exists() (v6.4+; -EBUSY for a GOING module since 0254127ab977, v6.2); found by mutation testing (reports/mutants-model.md)".into(),
            modules: vec![module("a", &[], &[], vec![])],
            actors: vec![
                Actor::Modprobe("a".into()),
                Actor::Modprobe("a".into()),
                Actor::Rmmod("a".into()),
            ],
            // rmmod: 0 once a is LIVE; -ENOENT before it is on the list,
            // while UNFORMED (find_module skips it), or once removed;
            // -EBUSY while COMING ("Doing init or already dying?"). A
            // modprobe that meets a GOING a, or finds it gone after its
            // wait on module_wq, fails with -EBUSY; under error-out-early
            // a load overlapping the other's gets -ETXTBSY.
            expect: vec![
                Expect::Rmmod {
                    module: "a".into(),
                    results: vec![0, -ENOENT, -EBUSY],
                },
                Expect::Exit {
                    actor: 0,
                    results: vec![Some(0), Some(-EBUSY), Some(-ETXTBSY)],
                },
                Expect::Exit {
                    actor: 1,
                    results: vec![Some(0), Some(-EBUSY), Some(-ETXTBSY)],
                },
            ],
            properties: strings(&[
                "no-deadlock",
                "init-at-most-once",
                "consistent-result",
                "expected-results",
                "ends-settled",
            ]),
            ..base()
        },
        Scenario {
            name: "rmmod-in-use".into(),
            summary: "modprobe d, which imports from p (so p is loaded first), and rmmod p at any moment".into(),
            reference: "docs/kernel.md §4.10; kernel/module/main.c delete_module() (-EWOULDBLOCK while a module's source_list is not empty), resolve_symbol() (-ENOENT for a GOING provider: \"Unknown symbol\"), v6.4+; found by mutation testing (reports/mutants-model.md)".into(),
            modules: vec![
                module("p", &[], &[], vec![]),
                module("d", &[], &["p"], vec![]),
            ],
            actors: vec![Actor::Modprobe("d".into()), Actor::Rmmod("p".into())],
            // rmmod p: -EWOULDBLOCK once d has resolved its import (d holds
            // a reference), otherwise as in rmmod-racing-load. modprobe d
            // fails with -ENOENT ("Unknown symbol") if p is GOING or gone
            // when d resolves its import. live-deps: d is never LIVE while p
            // is not; its witness here is the rmmod of p while d is on the
            // list. Nothing sleeps, so no-deadlock would be vacuous.
            expect: vec![
                Expect::Rmmod {
                    module: "p".into(),
                    results: vec![0, -ENOENT, -EBUSY, -EWOULDBLOCK],
                },
                Expect::Exit {
                    actor: 0,
                    results: vec![Some(0), Some(-ENOENT)],
                },
            ],
            properties: strings(&["live-deps", "expected-results", "ends-settled"]),
            ..base()
        },
        Scenario {
            name: "rmmod-beside-another".into(),
            summary: "modprobe p, which imports from q (so q is loaded first), and rmmod p at any moment: q imports nothing from p".into(),
            reference: "docs/kernel.md §4.10; kernel/module/main.c delete_module(): only a module on p's source_list (one that resolved an import from p) makes it -EWOULDBLOCK; found by mutation testing (reports/mutants-model.md)".into(),
            modules: vec![module("q", &[], &[], vec![]), module("p", &[], &["q"], vec![])],
            actors: vec![Actor::Modprobe("p".into()), Actor::Rmmod("p".into())],
            // q, on the list, imports nothing from p: never -EWOULDBLOCK.
            expect: vec![Expect::Rmmod {
                module: "p".into(),
                results: vec![0, -ENOENT, -EBUSY],
            }],
            properties: strings(&["expected-results", "ends-settled"]),
            ..base()
        },
        Scenario {
            name: "missing-fallback".into(),
            summary: "x's init needs a fallback that no module provides: its request_module fails, and so does x".into(),
            reference: "docs/kernel.md §4.12; a required request_module() in init (crypto_alloc_*() of a fallback: crypto_larval_lookup() requests crypto-ALG, then -ENOENT); kernel/module/kmod.c __request_module() returns modprobe's wait status; found by mutation testing (reports/mutants-model.md)".into(),
            modules: vec![module(
                "x",
                &[],
                &[],
                vec![InitStep::RequestModule {
                    alias: "crypto-missing".into(),
                    required: true,
                }],
            )],
            actors: vec![Actor::Modprobe("x".into())],
            // modprobe crypto-missing: "FATAL: Module crypto-missing not
            // found", exit 1, a wait status of 256; x's init fails with
            // -ENOENT, which modprobe x reports.
            expect: vec![
                Expect::Request {
                    alias: "crypto-missing".into(),
                    results: vec![256],
                    budget: None,
                },
                Expect::Exit {
                    actor: 0,
                    results: vec![Some(-ENOENT)],
                },
                Expect::NeverLive("x".into()),
            ],
            absent: strings(&["crypto-missing"]),
            properties: strings(&["no-deadlock", "expected-results", "ends-settled"]),
            ..base()
        },
        Scenario {
            name: "dup-requests".into(),
            summary: "two requests for one alias at once, with a kmod slot each: under CONFIG_MODULE_DEBUG_AUTOLOAD_DUPS the second waits for the first one's result".into(),
            reference: "kernel/module/dups.c kmod_dup_request_exists_wait() and kmod_dup_request_announce() (8660484ed1cf, v6.4); found by the wake-up analysis (reports/wakeups.md)".into(),
            modules: vec![],
            actors: vec![
                Actor::Request {
                    alias: "never-there".into(),
                    repeat: false,
                },
                Actor::Request {
                    alias: "never-there".into(),
                    repeat: false,
                },
            ],
            kmod_limit: 2,
            helper_bound: Some(2),
            // modprobe's exit 1 as a wait status, from the request's own
            // helper or, for a duplicate, from the first request's.
            expect: vec![Expect::Request {
                alias: "never-there".into(),
                results: vec![256],
                budget: None,
            }],
            absent: strings(&["never-there"]),
            properties: strings(&["no-deadlock", "expected-results"]),
            ..base()
        },
        Scenario {
            name: "runaway-nested".into(),
            summary: "exec of a binary needs binfmt-0000; each modprobe helper's own exec asks for it again while its parent holds a kmod slot".into(),
            reference: "docs/kernel.md §4.6; the 2008 \"runaway loop\"; 6d7964a722af and its follow-up".into(),
            modules: vec![],
            actors: vec![Actor::Request {
                alias: "binfmt-0000".into(),
                repeat: false,
            }],
            timer: true,
            kmod_limit: 2,
            helper_bound: Some(2),
            exec_requests: Some("binfmt-0000".into()),
            absent: strings(&["binfmt-0000"]),
            // What a request gets back: the budget's refusal at the end of
            // the chain (-ENOMEM in 2008, -ETIME from the bounded waits), or,
            // further up, its helper's failed exec (-ENOEXEC: kernel/umh.c
            // call_usermodehelper_exec_async() stores kernel_execve()'s
            // error in sub_info->retval). The first throttle hangs, and
            // hands nothing back.
            expect: per_budget(
                "binfmt-0000",
                &[
                    (&[-crate::errno::ENOMEM, -crate::errno::ENOEXEC][..], KmodBudget::FailFast2008),
                    (&[-crate::errno::ETIME, -crate::errno::ENOEXEC][..], KmodBudget::ThrottleTimeout),
                    (&[-crate::errno::ETIME, -crate::errno::ENOEXEC][..], KmodBudget::Semaphore),
                ],
            ),
            properties: strings(&[
                "no-deadlock",
                "budget-respected",
                "bounded-helpers",
                "expected-results",
            ]),
            ..base()
        },
        Scenario {
            name: "runaway-nested+kill-helper".into(),
            summary: "as runaway-nested, without time passing, and SIGKILL to the first modprobe helper at any moment: under autoload-dups it waits for the very request that started it".into(),
            reference: "kernel/module/dups.c kmod_dup_request_exists_wait() (a killable wait for the first request: -ERESTARTSYS on SIGKILL, 8660484ed1cf), kernel/umh.c; found by the wake-up analysis (reports/wakeups.md)".into(),
            modules: vec![],
            actors: vec![
                Actor::Request {
                    alias: "binfmt-0000".into(),
                    repeat: false,
                },
                Actor::Signal {
                    target: SignalTarget::HelperFor("binfmt-0000".into()),
                    kind: Sig::Kill,
                },
            ],
            kmod_limit: 2,
            helper_bound: Some(2),
            exec_requests: Some("binfmt-0000".into()),
            absent: strings(&["binfmt-0000"]),
            properties: strings(&["no-deadlock", "terminates-when-killed"]),
            ..base()
        },
        Scenario {
            name: "runaway-after-exit".into(),
            summary: "a request for a module that never appears fires again each time the helper has exited (the Debian initramfs case)".into(),
            reference: "docs/kernel.md §4.6".into(),
            modules: vec![],
            actors: vec![Actor::Request {
                alias: "never-there".into(),
                repeat: true,
            }],
            timer: true,
            kmod_limit: 1,
            helper_bound: Some(2),
            absent: strings(&["never-there"]),
            properties: strings(&["no-deadlock", "budget-respected", "bounded-helpers"]),
            ..base()
        },
        Scenario {
            name: "budget-contended".into(),
            summary: "two requests at once with one kmod slot: the second waits for the slot the first gives back".into(),
            reference: "docs/kernel.md §4.7 (the budget's wait and its wake-up: 6d7964a722af, 25a1b5b518f4); found by mutation testing (reports/mutants-model.md)".into(),
            modules: vec![],
            actors: vec![
                Actor::Request {
                    alias: "never-there".into(),
                    repeat: false,
                },
                Actor::Request {
                    alias: "never-there".into(),
                    repeat: false,
                },
            ],
            // No time: the second request must get the slot the first gives
            // back, so a lost wake-up is a deadlock under every budget that
            // waits (and five threads at most, for loom's cross-check).
            timer: false,
            kmod_limit: 1,
            helper_bound: Some(2),
            // What each request gets back: modprobe's exit 1 as a wait
            // status (256: no module provides the alias), once its helper
            // ran; under the 2008 code the second may be refused at once.
            expect: per_budget(
                "never-there",
                &[
                    (&[256, -crate::errno::ENOMEM][..], KmodBudget::FailFast2008),
                    (&[256][..], KmodBudget::Throttle),
                    (&[256][..], KmodBudget::ThrottleTimeout),
                    (&[256][..], KmodBudget::Semaphore),
                ],
            ),
            absent: strings(&["never-there"]),
            properties: strings(&["no-deadlock", "budget-respected", "expected-results"]),
            ..base()
        },
        Scenario {
            name: "budget-contended+kill".into(),
            summary: "as budget-contended, the second request made by module y's init, and SIGKILL to y's modprobe at any moment: in the wait for the kmod slot, or for the helper".into(),
            reference: "docs/kernel.md §4.11; kernel/module/kmod.c __request_module() (the budget's killable wait: -ERESTARTSYS on SIGKILL since the throttle's follow-up), kernel/umh.c call_usermodehelper_exec() (UMH_KILLABLE: -ERESTARTSYS); found by mutation testing (reports/mutants-model.md)".into(),
            modules: vec![module(
                "y",
                &[],
                &[],
                vec![InitStep::RequestModule {
                    alias: "never-there".into(),
                    required: false,
                }],
            )],
            actors: vec![
                Actor::Request {
                    alias: "never-there".into(),
                    repeat: false,
                },
                Actor::Modprobe("y".into()),
                Actor::Signal {
                    target: SignalTarget::Actor(0),
                    kind: Sig::Kill,
                },
            ],
            timer: false,
            kmod_limit: 1,
            helper_bound: Some(2),
            // A killed request returns -ERESTARTSYS (from the killable wait
            // for a slot, or for its helper), or modprobe's status if the
            // helper ended first; the 2008 code may refuse it at once.
            expect: per_budget(
                "never-there",
                &[
                    (&[256, -crate::errno::ENOMEM, -crate::errno::ERESTARTSYS][..], KmodBudget::FailFast2008),
                    (&[256, -crate::errno::ERESTARTSYS][..], KmodBudget::Throttle),
                    (&[256, -crate::errno::ERESTARTSYS][..], KmodBudget::ThrottleTimeout),
                    (&[256, -crate::errno::ERESTARTSYS][..], KmodBudget::Semaphore),
                ],
            ),
            absent: strings(&["never-there"]),
            properties: strings(&[
                "terminates-when-killed",
                "budget-respected",
                "expected-results",
            ]),
            ..base()
        },
        deep_recursion(None),
        deep_recursion(Some(SignalTarget::HelperFor("m1".into()))),
    ]
}

/// Look a built-in scenario up by name.
pub fn by_name(name: &str) -> Option<Scenario> {
    catalogue().into_iter().find(|s| s.name == name)
}
