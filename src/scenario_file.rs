//! Scenario files: a scenario in TOML, so a reviewer can write the one their
//! patch is about. The file is the serde form of the model's one scenario
//! type ([`Scenario`]): its keys are the struct's fields, an actor, an init
//! step or an expectation is a table with one key naming its kind (serde's
//! external tagging), and [`Scenario::validate`] checks it as it checks the
//! built-in catalogue and generated scenarios. `scenarios/*.toml` holds the
//! built-in catalogue in this format (a test checks each file equals its
//! built-in twin).
//!
//! ```toml
//! name = "recursive-self-load"
//! summary = "aes-arm-bs's init requests crypto-cbc(aes), an alias of itself"
//! reference = "docs/kernel.md §4.1"    # optional
//! timer = true                # optional, default false: time passes (timed waits may expire)
//! kmod_limit = 50             # optional, default 50: max_modprobes of the kmod budget
//! helper_bound = 2            # optional: most usermode helpers one execution may start
//! exec_requests = "binfmt-0000"  # optional: each helper's exec first requests this alias
//! absent = ["binfmt-0000"]    # optional: names requested on purpose that no module provides
//! expect_live = ["aes-arm-bs"]   # optional: modules that must end LIVE (ends-live)
//! properties = ["no-deadlock", "ends-live", "expected-results"]
//!
//! [[module]]
//! name = "aes-arm-bs"
//! file = "aes-arm-bs.ko"
//! aliases = ["crypto-cbc(aes)", "cbc(aes)"]   # optional
//! deps = []                                  # optional: modules it imports from
//! init = [{ request_module = { alias = "crypto-cbc(aes)", required = false } }]
//! # init steps: { request_module = { alias = ALIAS, required = BOOL } }
//! #             { register_alg = { alg = DRIVER, test_requests = ALIAS } }
//! #             { fail = "ENODEV" }           (an errno name)
//! #             "oops"                        (the task dies in init)
//!
//! [[actor]]
//! modprobe = "aes-arm-bs"
//! # other actors: request = { alias = ALIAS, repeat = BOOL }  (a kernel path calling
//! #                  request_module; repeat optional, default false)
//! #               signal = { target = { modprobe = 0 }, kind = KIND }  (the n-th modprobe
//! #                  actor, from 0)
//! #               signal = { target = { helper_for = ALIAS }, kind = KIND }
//! #                  KIND: "kill" (SIGKILL, or SIGTERM to a modprobe: fatal), "stop"
//! #                  (SIGSTOP then SIGCONT: an interrupted syscall restarts), "handled"
//! #                  (a signal with a handler: -EINTR)
//! #               rmmod_force = MODULE                (rmmod -f once a task died in init)
//! #               rmmod = MODULE                      (rmmod, at any moment)
//! #               insmod = FILE                       (finit_module of FILE alone)
//!
//! [[expect]]                 # optional: results checked by `expected-results`
//! request = { alias = "crypto-cbc(aes)", result = ["status 256"] }
//! # other expectations: exit = { actor = N, result = ... }  (the n-th modprobe actor
//! #                        ends with "0", an errno name, "killed", or a list of them)
//! #                     request = { alias = ALIAS, result = ..., budget = ID }  (what
//! #                        request_module(ALIAS) returns: "0", an errno name, "status 256"
//! #                        for modprobe's exit 1; budget, optional: only under that kmod budget)
//! #                     rmmod = { module = MODULE, result = ... }  (what delete_module
//! #                        returns to an rmmod or rmmod_force actor of MODULE)
//! #                     insmod = { file = FILE, result = ... }   (what finit_module returns
//! #                        to an insmod actor of FILE; "killed" if it died in init)
//! #                     never_live = MODULE              (never LIVE, at any moment)
//! # Any [[expect]] adds expected-results to the properties.
//! ```
//!
//! Every mistake is an error that names the file, line and column, what was
//! wrong and what was expected. Nothing defaults silently: the optional keys
//! above have the defaults written there, and nothing else is optional.

use crate::engine::LOOM_MAX_THREADS;
use kmodcheck_model::scenario::{At, Invalid, Scenario};
use std::fmt;
use std::ops::Range;
use toml::de::{DeTable, DeValue};

/// A bad scenario file: where, and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileError {
    /// The file as given.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column (in characters).
    pub column: usize,
    /// What was wrong, and what was expected.
    pub message: String,
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )
    }
}

impl std::error::Error for FileError {}

/// Parse and check a scenario file's text. `file` names it in errors.
///
/// serde reads the text into a [`Scenario`] (a missing key, a value of the
/// wrong kind and an unknown key, kind or errno stop it there); any
/// `[[expect]]` adds `expected-results` to the properties; then
/// [`Scenario::validate`] checks what the fields say about each other, and
/// its error is located at the value it names.
pub fn parse(text: &str, file: &str) -> Result<Scenario, FileError> {
    let at = |span: Range<usize>, message: String| {
        let (line, column) = line_col(text, span.start);
        FileError {
            file: file.to_string(),
            line,
            column,
            message,
        }
    };
    let mut sc: Scenario = toml::from_str(text).map_err(|e| {
        let message = e.message().trim_end();
        let suggestion = unknown_key_suggestion(message);
        at(e.span().unwrap_or(0..0), plain(message) + &suggestion)
    })?;
    if !sc.expect.is_empty() && !sc.properties.iter().any(|p| p == "expected-results") {
        sc.properties.push("expected-results".into());
    }
    sc.validate(&property_ids())
        .map_err(|e| at(span_of(text, &e.at), explained(&e)))?;
    Ok(sc)
}

/// Check a scenario made anywhere but a file: the catalogue's, or a
/// generated one. The error names the value by its keys (`actor[1].rmmod`).
pub fn validate(sc: &Scenario) -> Result<(), String> {
    sc.validate(&property_ids()).map_err(|e| {
        let mut message = e.to_string();
        if let Some((name, candidates)) = &e.unknown {
            message += &crate::suggest::did_you_mean(name, candidates.iter().map(String::as_str));
        }
        message
    })
}

/// An [`Invalid`]'s message, with "did you mean" where it names nothing.
fn explained(e: &Invalid) -> String {
    let mut message = e.message.clone();
    if let Some((name, candidates)) = &e.unknown {
        message += &crate::suggest::did_you_mean(name, candidates.iter().map(String::as_str));
    }
    message
}

/// Where in `text` the value at `at` is written: the deepest part of the
/// way that the file has (the whole file if it has none of it).
fn span_of(text: &str, at: &[At]) -> Range<usize> {
    let Ok(root) = DeTable::parse(text) else {
        return 0..0;
    };
    let mut span = 0..0;
    let mut table: Option<&DeTable> = Some(root.get_ref());
    let mut array: Option<&toml::de::DeArray> = None;
    for step in at {
        let found = match (step, table, array) {
            (At::Key(k), Some(t), _) => t
                .iter()
                .find(|(key, _)| key.get_ref().as_ref() == *k)
                .map(|(_, v)| v),
            (At::Index(i), _, Some(a)) => a.get(*i),
            _ => None,
        };
        let Some(v) = found else {
            break;
        };
        span = v.span();
        (table, array) = match v.get_ref() {
            DeValue::Table(t) => (Some(t), None),
            DeValue::Array(a) => (None, Some(a)),
            _ => (None, None),
        };
    }
    span
}

/// serde's words for a value of the wrong kind, in a scenario file's own
/// terms: keys, tables and lists, "a whole number" and "true or false" for
/// Rust's fields, maps, sequences, `usize` and `a boolean`.
fn plain(message: &str) -> String {
    // An actor, an init step or an expectation: a table with one key.
    if message.starts_with("wanted exactly 1 element") {
        let found = if message.ends_with("found 0 elements") {
            "none"
        } else {
            "more than one"
        };
        return format!(
            "expected exactly one key, the kind of this actor, init step or expectation (e.g. modprobe = \"x\"), found {found}"
        );
    }
    // toml's words for an unknown key of an actor's, step's or expectation's table.
    if let Some(rest) = message.strip_prefix("unexpected keys in table: ") {
        if let Some((keys, available)) = rest.split_once(", available keys: ") {
            let quote = |list: &str| {
                list.split(", ")
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            return format!(
                "unknown key {}; expected one of {}",
                quote(keys),
                quote(available)
            );
        }
    }
    // An unknown kind of actor, step or expectation, errno or budget.
    if let Some(rest) = message.strip_prefix("unknown variant ") {
        return format!(
            "unknown name {}",
            rest.replacen(", expected", "; expected", 1)
        );
    }
    if let Some(rest) = message.strip_prefix("unknown field ") {
        return format!(
            "unknown key {}",
            rest.replacen(", expected", "; expected", 1)
        );
    }
    if let Some(rest) = message.strip_prefix("missing field ") {
        return format!("missing key {rest}");
    }
    if message.starts_with("data did not match any variant of untagged enum OneOrMany") {
        return "expected a result or a list of them, e.g. \"0\", \"EBUSY\" or [\"0\", \"killed\"]"
            .to_string();
    }
    let rest = message
        .strip_prefix("invalid type: ")
        .or_else(|| message.strip_prefix("invalid value: "));
    let Some((found, expected)) = rest.and_then(|r| r.rsplit_once(", expected ")) else {
        return message.to_string();
    };
    let expected = match expected {
        "usize" | "u64" => "a whole number (0 or more)".to_string(),
        "u32" => format!("a whole number from 0 to {}", u32::MAX),
        "i32" | "i64" | "isize" => "a whole number".to_string(),
        "a boolean" => "true or false".to_string(),
        "a string" => "a string in double quotes".to_string(),
        "a sequence" => "a list in brackets".to_string(),
        e if e == "a map" || e.starts_with("struct ") => "a table".to_string(),
        e => e.to_string(),
    };
    // "integer `3`", "integer `99999999999999999999` as i128", "floating
    // point `1.5`", "boolean `true`": the value; "string \"x\"" as it is.
    let found = match found.split_once('`') {
        Some((_, v)) => v.split('`').next().unwrap_or(v).to_string(),
        None => match found {
            "sequence" => "a list".to_string(),
            "map" => "a table".to_string(),
            f if f.starts_with("string ") => format!("the {f}"),
            f => f.to_string(),
        },
    };
    format!("expected {expected}, found {found}")
}

/// For serde's "unknown field `X`, expected one of `a`, `b`, ..." (or
/// "expected `a`"), its "unknown variant" (a kind, errno or budget) and
/// toml's "unexpected keys in table": "; did you mean a?" with the name
/// most like X, or nothing.
fn unknown_key_suggestion(message: &str) -> String {
    let rest = message
        .strip_prefix("unknown field `")
        .or_else(|| message.strip_prefix("unknown variant `"));
    if let Some(rest) = message.strip_prefix("unexpected keys in table: ") {
        // "budgt, available keys: actor, result": one key, and the ones allowed.
        let Some((key, available)) = rest.split_once(", available keys: ") else {
            return String::new();
        };
        return crate::suggest::closest(key, available.split(", "))
            .map_or(String::new(), |k| format!("; did you mean `{k}`?"));
    }
    let Some(rest) = rest else {
        return String::new();
    };
    let Some((key, expected)) = rest.split_once('`') else {
        return String::new();
    };
    let keys: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    crate::suggest::closest(key, keys).map_or(String::new(), |k| format!("; did you mean `{k}`?"))
}

/// Read and parse a scenario file.
pub fn load(path: &std::path::Path) -> Result<Scenario, FileError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| FileError {
        file: file.clone(),
        line: 1,
        column: 1,
        message: format!("cannot read the scenario file: {e}"),
    })?;
    parse(&text, &file)
}

/// A scenario as the command line named it: a built-in name, or a path
/// ending in `.toml`, which its replay handles must name instead (a file's
/// scenario is not in the built-in catalogue).
#[derive(Clone, Debug)]
pub struct Named {
    /// The scenario.
    pub scenario: Scenario,
    /// The file it was read from.
    pub file: Option<String>,
}

impl Named {
    /// Point `c`'s replay handles at the file, if the scenario came from one.
    pub fn retarget(&self, c: &mut crate::engine::CellResult) {
        if let Some(f) = &self.file {
            crate::engine::retarget_handles(c, f);
        }
    }
}

/// Resolve one name: a built-in scenario, or a path ending in `.toml`.
pub fn resolve(name_or_path: &str) -> Result<Named, String> {
    if name_or_path.ends_with(".toml") {
        let scenario = load(std::path::Path::new(name_or_path)).map_err(|e| e.to_string())?;
        // Replay handles name the file by its absolute path, so that they
        // work from any directory (the file was just read, so it exists).
        let file = std::fs::canonicalize(name_or_path)
            .map_or_else(|_| name_or_path.to_string(), |p| p.display().to_string());
        return Ok(Named {
            scenario,
            file: Some(file),
        });
    }
    let scenario = kmodcheck_model::scenario::by_name(name_or_path).ok_or_else(|| {
        format!(
            "unknown scenario {name_or_path:?}: give a built-in name (see `kmodcheck list`) or a path ending in .toml{}",
            crate::suggest::did_you_mean(
                name_or_path,
                crate::suggest::scenario_names().iter().map(String::as_str)
            )
        )
    })?;
    Ok(Named {
        scenario,
        file: None,
    })
}

/// Resolve a `--scenario` list; none given means the whole catalogue.
pub fn resolve_all(names: &[String]) -> Result<Vec<Named>, String> {
    if names.is_empty() {
        return Ok(kmodcheck_model::scenario::catalogue()
            .into_iter()
            .map(|scenario| Named {
                scenario,
                file: None,
            })
            .collect());
    }
    names.iter().map(|n| resolve(n)).collect()
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Whether loom can check the scenario in this file: loom runs at most 5
/// threads (the stateful engine has no limit). The error is located at the
/// file's actors.
pub fn fits_loom(path: &std::path::Path) -> Result<(), FileError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| FileError {
        file: file.clone(),
        line: 1,
        column: 1,
        message: format!("cannot read the scenario file: {e}"),
    })?;
    let sc = parse(&text, &file)?;
    let threads = sc.max_threads();
    if threads <= LOOM_MAX_THREADS {
        return Ok(());
    }
    let (line, column) = line_col(&text, span_of(&text, &[At::Key("actor")]).start);
    Err(FileError {
        file,
        line,
        column,
        message: format!(
            "this scenario can have {threads} model threads at once (main, {} actor(s){}, and the helpers and kthreads its requests start); loom supports {LOOM_MAX_THREADS}; expected the stateful engine (the default, no thread limit), or for loom fewer actors, a shorter request chain, or a helper_bound",
            sc.actors.len(),
            if sc.timer { ", the timer" } else { "" }
        ),
    })
}

fn property_ids() -> Vec<&'static str> {
    kmodcheck_properties::catalogue()
        .iter()
        .map(|p| p.id)
        .collect()
}

/// A scenario in the file format: what `scenarios/*.toml` holds. `parse`
/// of it gives the same scenario back. It is serde's form of the scenario,
/// laid out for reading: the plain keys first, then one `[[module]]`,
/// `[[actor]]` or `[[expect]]` section per item, each value inline.
pub fn to_toml(sc: &Scenario) -> String {
    use std::fmt::Write as _;
    let table = toml::Table::try_from(sc).expect("a scenario is plain data");
    let sections = |v: &toml::Value| match v {
        toml::Value::Array(items) => {
            !items.is_empty() && items.iter().all(|i| matches!(i, toml::Value::Table(_)))
        }
        _ => false,
    };
    let mut out = String::from("# kmodcheck scenario file: see the README, \"Scenario files\".\n");
    for (k, v) in table.iter().filter(|(_, v)| !sections(v)) {
        let _ = writeln!(out, "{k} = {}", inline(v));
    }
    for (k, v) in table.iter().filter(|(_, v)| sections(v)) {
        let toml::Value::Array(items) = v else {
            continue;
        };
        for item in items {
            let _ = writeln!(out, "\n[[{k}]]");
            if let toml::Value::Table(t) = item {
                for (k, v) in t {
                    let _ = writeln!(out, "{k} = {}", inline(v));
                }
            }
        }
    }
    out
}

/// A value on one line: tables inline, as `{ key = value }`.
fn inline(v: &toml::Value) -> String {
    match v {
        toml::Value::Table(t) => {
            let entries: Vec<String> = t
                .iter()
                .map(|(k, v)| format!("{k} = {}", inline(v)))
                .collect();
            format!("{{ {} }}", entries.join(", "))
        }
        toml::Value::Array(items) => {
            format!(
                "[{}]",
                items.iter().map(inline).collect::<Vec<_>>().join(", ")
            )
        }
        v => v.to_string(),
    }
}

/// The file a built-in scenario is shipped as under `scenarios/`.
pub fn file_name(scenario: &str) -> String {
    format!("{}.toml", scenario.replace('+', "_"))
}
