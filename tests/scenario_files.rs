//! Scenario files: the shipped catalogue equals the built-in one, a file
//! runs end to end through the binary, and every malformed file in
//! `tests/malformed/` is refused with its location and exit code 2.

use kmodcheck::model::scenario;
use kmodcheck::scenario_file;
use std::path::Path;
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn kmodcheck(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_kmodcheck"))
        .args(args)
        .current_dir(root())
        .env_remove("COLUMNS")
        .output()
        .expect("run kmodcheck")
}

/// Each built-in scenario is shipped as `scenarios/NAME.toml`, which parses
/// to exactly the built-in value; no other file sits there.
#[test]
fn shipped_files_equal_their_built_in_twins() {
    let dir = root().join("scenarios");
    let builtin = scenario::catalogue();
    for s in &builtin {
        let path = dir.join(scenario_file::file_name(&s.name));
        let parsed = scenario_file::load(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            &parsed,
            s,
            "{} differs from its built-in twin",
            path.display()
        );
        // And the writer and the reader agree.
        let again = scenario_file::parse(&scenario_file::to_toml(s), "generated").unwrap();
        assert_eq!(&again, s);
    }
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let mut expected: Vec<String> = builtin
        .iter()
        .map(|s| scenario_file::file_name(&s.name))
        .collect();
    expected.sort();
    assert_eq!(
        files, expected,
        "scenarios/ holds files with no built-in twin, or misses some"
    );
}

/// A scenario file checks like a built-in name, and its counterexample's
/// replay handle names the file by its absolute path, so `replay` finds it
/// from any directory.
#[test]
fn a_file_checks_and_replays_through_the_binary() {
    let file = "scenarios/recursive-self-load.toml";
    let out = kmodcheck(&["check", "--variant", "idempotent", "--scenario", file]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("no-deadlock violated"), "{stdout}");
    let absolute = std::fs::canonicalize(root().join(file)).unwrap();
    // A long handle goes on the line after "replay: kmodcheck replay".
    let start = format!("'stateful:idempotent:{}:", absolute.display());
    let at = stdout
        .find(&start)
        .unwrap_or_else(|| panic!("no stateful replay handle naming the file: {stdout}"));
    let rest = &stdout[at + 1..];
    let handle = &rest[..rest.find('\'').expect("the handle's closing quote")];
    // From another directory, where the relative path would name nothing.
    let elsewhere = std::env::temp_dir();
    let replayed = Command::new(env!("CARGO_BIN_EXE_kmodcheck"))
        .args(["replay", handle])
        .current_dir(&elsewhere)
        .output()
        .expect("run kmodcheck");
    assert_eq!(
        replayed.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&replayed.stderr)
    );
    let text = String::from_utf8_lossy(&replayed.stdout);
    assert!(
        text.contains("no-deadlock violated: deadlock: T1 waits for helper T2"),
        "{text}"
    );
}

/// `kmodcheck check --scenario tests/malformed/NAME.toml` exits 2 and says
/// `FILE:LINE:COLUMN: message`.
fn refused(name: &str, line: usize, column: usize, message: &str) {
    let file = format!("tests/malformed/{name}.toml");
    let out = kmodcheck(&["check", "--variant", "legacy", "--scenario", &file]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{file}: {stderr}");
    let want = format!("kmodcheck: {file}:{line}:{column}: {message}");
    assert!(
        stderr.starts_with(&want),
        "{file}:\n  want {want}\n  got  {stderr}"
    );
    assert!(
        out.stdout.is_empty(),
        "{file}: printed results for a bad file"
    );
}

macro_rules! malformed {
    ($test:ident, $name:expr, $line:expr, $col:expr, $msg:expr) => {
        #[test]
        fn $test() {
            refused($name, $line, $col, $msg);
        }
    };
}

malformed!(
    absent_but_provided,
    "absent-but-provided",
    5,
    11,
    r#""x" is listed as absent, but a module provides it"#
);
malformed!(
    actor_empty,
    "actor-empty",
    12, 1, "expected exactly one key, the kind of this actor, init step or expectation (e.g. modprobe = \"x\"), found none"
);
malformed!(
    actor_two_kinds,
    "actor-two-kinds",
    9, 1, "expected exactly one key, the kind of this actor, init step or expectation (e.g. modprobe = \"x\"), found more than one"
);
malformed!(
    dependency_cycle,
    "dependency-cycle",
    13,
    9,
    "dependency cycle: x -> a -> x"
);
malformed!(
    duplicate_file,
    "duplicate-file",
    11,
    8,
    r#"file "x.ko" is already module "x"'s"#
);
malformed!(empty_properties, "empty-properties", 3, 14, "no properties");
malformed!(
    init_step_two_kinds,
    "init-step-two-kinds",
    8,
    9,
    "expected exactly one key, the kind of this actor, init step or expectation"
);
malformed!(
    kmod_limit_zero,
    "kmod-limit-zero",
    5,
    14,
    "kmod_limit = 0 allows no request at all"
);
malformed!(missing_actor, "missing-actor", 1, 1, "missing key `actor`");
malformed!(missing_name, "missing-name", 1, 1, "missing key `name`");
malformed!(
    missing_properties,
    "missing-properties",
    1,
    1,
    "missing key `properties`"
);
malformed!(
    negative_helper_bound,
    "negative-helper-bound",
    5,
    16,
    "expected a whole number (0 or more), found -1"
);
malformed!(
    no_starting_actor,
    "no-starting-actor",
    9,
    1,
    "nothing starts: expected at least one modprobe, insmod or request actor"
);
malformed!(
    repeat_on_modprobe,
    "repeat-on-modprobe",
    9,
    1,
    "expected exactly one key, the kind of this actor, init step or expectation"
);
malformed!(
    repeat_without_bound,
    "repeat-without-bound",
    10,
    35,
    "a request with repeat = true never stops by itself"
);
malformed!(
    request_without_required,
    "request-without-required",
    9,
    28,
    "missing key `required`"
);
malformed!(
    rmmod_unknown_module,
    "rmmod-unknown-module",
    13,
    15,
    r#"unknown module "y" in an rmmod_force actor"#
);
malformed!(
    signal_helper_never_started,
    "signal-helper-never-started",
    13,
    36,
    r#"helper_for = "x" has no target: nothing in this scenario reques"#
);
malformed!(
    signal_no_such_actor,
    "signal-no-such-actor",
    13,
    34,
    "modprobe = 3 names no actor: this scenario has 1 modprobe actor"
);
malformed!(
    signal_no_such_insmod,
    "signal-no-such-insmod",
    13,
    32,
    "insmod = 0 names no actor: this scenario has 0 insmod actor(s); expected an insmod actor"
);
malformed!(
    signal_without_kind,
    "signal-without-kind",
    13,
    10,
    "missing key `kind`"
);
malformed!(
    syntax_error,
    "syntax-error",
    1,
    10,
    r#"invalid basic string, expected `"`"#
);
malformed!(
    unknown_actor_key,
    "unknown-actor-key",
    10, 1, "unknown name `modprob`; expected one of `modprobe`, `request`, `insmod`, `rmmod_force`, `rmmod`, `signal`; did you mean `modprobe`?"
);
malformed!(
    unknown_dependency,
    "unknown-dependency",
    8,
    9,
    r#"unknown module "zz" in the deps of x"#
);
malformed!(
    unknown_errno,
    "unknown-errno",
    8,
    9,
    "unknown name `ENOSUCH`; expected one of `EPERM`"
);
malformed!(
    unknown_expect_live,
    "unknown-expect-live",
    5,
    16,
    r#"unknown module "y" in expect_live"#
);
malformed!(
    unknown_modprobe_target,
    "unknown-modprobe-target",
    10,
    12,
    r#"unknown alias "y" in a modprobe actor"#
);
malformed!(
    unknown_module_key,
    "unknown-module-key",
    7,
    1,
    "unknown key `fiel`; expected one of `name`, `file`, `aliases`, `deps`"
);
malformed!(
    unknown_property,
    "unknown-property",
    3,
    30,
    r#"unknown property "no-deadlok""#
);
malformed!(
    unknown_requested_alias,
    "unknown-requested-alias",
    8,
    28,
    r#"unknown alias "nothere" in x's init"#
);
malformed!(
    unknown_top_key,
    "unknown-top-key",
    1,
    1,
    "unknown key `nmae`; expected one of `name`, `summary`, `reference`,"
);
malformed!(
    wrong_type,
    "wrong-type",
    5,
    9,
    r#"expected true or false, found the string "yes""#
);

/// Every file under tests/malformed/ is named by a `malformed!` line here.
#[test]
fn every_malformed_file_has_a_test() {
    let source = std::fs::read_to_string(root().join("tests/scenario_files.rs")).unwrap();
    let mut n = 0;
    for e in std::fs::read_dir(root().join("tests/malformed")).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        let stem = name.strip_suffix(".toml").expect("only .toml files");
        assert!(
            source.contains(&format!("\"{stem}\",")),
            "tests/malformed/{name} has no malformed! line"
        );
        n += 1;
    }
    assert!(n >= 40, "{n} malformed files");
}

/// Past loom's five threads: the stateful engine checks the file (no thread
/// limit); `--engine loom` refuses it, located at its actors.
#[test]
fn six_threads_are_checked_and_loom_refuses_them() {
    let file = "tests/six-threads.toml";
    let out = kmodcheck(&["check", "--variant", "idempotent", "--scenario", file]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("stateful, exhaustive"), "{text}");
    let out = kmodcheck(&[
        "check",
        "--variant",
        "idempotent",
        "--scenario",
        file,
        "--engine",
        "loom",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.starts_with(&format!(
            "kmodcheck: {file}:9:1: this scenario can have 6 model threads at once (main, 5 actor(s), and "
        )),
        "{stderr}"
    );
}
malformed!(
    expect_exit_no_actor,
    "expect-exit-no-actor",
    13,
    18,
    "actor = 1 names no actor: this scenario has 1 modprobe actor(s); expected 0"
);
malformed!(
    expect_unknown_result,
    "expect-unknown-result",
    13,
    30,
    r#"result "ENOSUCH" is not one the kernel hands back here; expected "0", an errno name such as "ENOENT", or "killed""#
);
malformed!(
    expect_without_result,
    "expect-without-result",
    13,
    8,
    "missing key `result`"
);
malformed!(
    expect_request_never_made,
    "expect-request-never-made",
    13,
    21,
    r#"request = "y": nothing in this scenario requests it"#
);
malformed!(
    expect_two_kinds,
    "expect-two-kinds",
    12, 1, "expected exactly one key, the kind of this actor, init step or expectation (e.g. modprobe = \"x\"), found more than one"
);
malformed!(
    expect_budget_on_exit,
    "expect-budget-on-exit",
    13,
    35,
    "unknown key `budget`; expected one of `actor`, `result`"
);
malformed!(
    unknown_budget,
    "unknown-budget",
    10,
    68,
    "unknown name `kmod-semaphor`; expected one of `kmod-2008`, `kmod-throttle`, `kmod-throttle-timeout`, `kmod-semaphore`; did you mean `kmod-semaphore`?"
);
malformed!(
    expected_results_without_expect,
    "expected-results-without-expect",
    3,
    30,
    "expected-results with no [[expect]]: it would check nothing"
);

/// Stated results are checked, under every engine that finishes, and a
/// wrong statement is a violation: `expected-results` is not vacuous.
#[test]
fn stated_results_are_checked() {
    use kmodcheck::engine::{check_cell, CheckOptions, EngineKind, Verdict};
    let text = |m2: &str, exit: &str| {
        format!(
            r#"
name = "chain"
summary = "m0's init requests m1, whose init requests m2, with one kmod slot"
timer = true
kmod_limit = 1
helper_bound = 2
properties = ["no-deadlock"]

[[module]]
name = "m0"
file = "m0.ko"
init = [{{ request_module = {{ alias = "m1", required = false }} }}]

[[module]]
name = "m1"
file = "m1.ko"
init = [{{ request_module = {{ alias = "m2", required = false }} }}]

[[module]]
name = "m2"
file = "m2.ko"

[[actor]]
modprobe = "m0"

[[expect]]
request = {{ alias = "m2", result = "{m2}", budget = "kmod-2008" }}

[[expect]]
exit = {{ actor = 0, result = "{exit}" }}
"#
        )
    };
    let v = kmodcheck::model::variant::by_id("idempotent-interruptible+kmod-2008").unwrap();
    let verdict = |m2: &str, exit: &str, engine: EngineKind| {
        let sc = scenario_file::parse(&text(m2, exit), "chain.toml").unwrap();
        assert!(sc.properties.iter().any(|p| p == "expected-results"));
        let opts = CheckOptions {
            engine: Some(engine),
            ..CheckOptions::default()
        };
        let c = check_cell(v, &sc, &opts).unwrap();
        let p = c
            .properties
            .iter()
            .find(|p| p.property == "expected-results")
            .unwrap();
        p.verdict.clone()
    };
    for engine in [EngineKind::Stateful, EngineKind::Loom] {
        // The 2008 budget fails m1's request for m2 at once; m1 goes on.
        assert!(
            matches!(
                verdict("ENOMEM", "0", engine),
                Verdict::Holds { exhaustive: true }
            ),
            "{engine:?}"
        );
        match verdict("ETIME", "0", engine) {
            Verdict::Violated(ce) => assert!(
                ce.message.contains(
                    "request_module(m2) returned -ENOMEM to T2; the scenario expects -ETIME"
                ),
                "{}",
                ce.message
            ),
            other => panic!("{engine:?}: {other:?}"),
        }
        match verdict("ENOMEM", "ENODEV", engine) {
            Verdict::Violated(ce) => assert!(
                ce.message
                    .contains("ended with 0; the scenario expects -ENODEV"),
                "{}",
                ce.message
            ),
            other => panic!("{engine:?}: {other:?}"),
        }
    }
}

/// `Scenario::validate` is the one check, whatever made the scenario: every
/// built-in scenario passes it, and a Rust-built scenario with a mistake is
/// refused with the place of the mistake in the file's keys.
#[test]
fn every_scenario_passes_the_one_check_and_a_mistake_is_located() {
    for s in scenario::catalogue()
        .into_iter()
        .chain((2..=4).map(scenario::concurrent_same_file))
        .chain((1..=3).map(scenario::shared_dependency))
    {
        scenario_file::validate(&s).unwrap_or_else(|e| panic!("{}: {e}", s.name));
    }
    let mut s = scenario::by_name("recursive-self-load").unwrap();
    s.actors[0] = kmodcheck::model::scenario::Actor::Modprobe("aes-arm-b".into());
    let e = scenario_file::validate(&s).unwrap_err();
    assert!(
        e.starts_with("actor[0].modprobe: unknown alias \"aes-arm-b\"")
            && e.ends_with("did you mean aes-arm-bs?"),
        "{e}"
    );
}
