//! Scenario files: a scenario in TOML, so a reviewer can write the one their
//! patch is about. `scenarios/*.toml` holds the built-in catalogue in this
//! format (a test checks each file equals its built-in twin).
//!
//! ```toml
//! name = "recursive-self-load"
//! summary = "aes-arm-bs's init requests crypto-cbc(aes), an alias of itself"
//! reference = "docs/kernel.md §4.1"    # optional
//! timer = true                # optional, default false: time passes (timed waits may expire)
//! kmod_limit = 50             # optional, default 50: max_modprobes of the kmod budget
//! helper_bound = 2            # optional: most usermode helpers one execution may start
//! exec_requests = "binfmt-0000"  # optional: each helper's exec first requests this alias
//! absent = ["never-there"]    # optional: aliases requested on purpose that no module provides
//! expect_live = ["aes-arm-bs"]   # optional: modules that must end LIVE (ends-live)
//! properties = ["no-deadlock", "ends-live"]
//!
//! [[module]]
//! name = "aes-arm-bs"
//! file = "aes-arm-bs.ko"
//! aliases = ["crypto-cbc(aes)", "cbc(aes)"]   # optional
//! deps = []                                  # optional: modules it imports from
//! init = [{ request_module = "crypto-cbc(aes)", required = false }]
//! # init steps: { request_module = ALIAS, required = BOOL }
//! #             { register_alg = DRIVER, test_requests = ALIAS }
//! #             { fail = "ENODEV" }           (an errno name)
//! #             { oops = true }               (the task dies in init)
//!
//! [[expect]]                 # optional: results checked by `expected-results`
//! exit = 0                    # the n-th modprobe actor (from 0) ends with ...
//! result = "0"                # ... "0" (success), an errno name, "killed", or a list of them
//! # other expectations: { request = ALIAS, result = ..., budget = ID }  (what
//! #                        request_module(ALIAS) returns: "0", an errno name, "status 256"
//! #                        for modprobe's exit 1; budget, optional: only under that kmod budget)
//! #                     { rmmod = MODULE, result = ... }  (what delete_module returns
//! #                        to an rmmod or rmmod_force actor of MODULE)
//! #                     { insmod = FILE, result = ... }   (what finit_module returns to
//! #                        an insmod actor of FILE; "killed" if it died in init)
//! #                     { never_live = MODULE }           (never LIVE, at any moment)
//! # Any [[expect]] adds expected-results to the properties.
//!
//! [[actor]]
//! modprobe = "aes-arm-bs"
//! # other actors: { request = ALIAS, repeat = BOOL }      (a kernel path calling request_module)
//! #               { signal_modprobe = 0, fatal = BOOL }  (the n-th modprobe actor, from 0)
//! #               { signal_helper_for = ALIAS, fatal = BOOL }
//! #               { rmmod_force = MODULE }                (rmmod -f once a task died in init)
//! #               { rmmod = MODULE }                      (rmmod, at any moment)
//! #               { insmod = FILE }                       (finit_module of FILE alone)
//! ```
//!
//! Every mistake is an error that names the file, line and column, what was
//! wrong and what was expected. Nothing defaults silently: the optional keys
//! above have the defaults written there, and nothing else is optional.

use crate::engine::LOOM_MAX_THREADS;
use kmodcheck_model::errno::{errno_by_name, ret_name, Ret};
use kmodcheck_model::scenario::{Actor, Expect, InitStep, ModuleSpec, Scenario, SignalTarget};
use kmodcheck_model::variant::KmodBudget;
use serde::Deserialize;
use std::fmt;
use std::ops::Range;
use toml::Spanned;

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

/// The default `kmod_limit`: the kernel's `MAX_KMOD_CONCURRENT`.
pub const DEFAULT_KMOD_LIMIT: u32 = kmodcheck_model::scenario::MAX_KMOD_CONCURRENT;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    name: Spanned<String>,
    summary: String,
    #[serde(default)]
    reference: String,
    #[serde(default)]
    timer: bool,
    kmod_limit: Option<Spanned<u32>>,
    helper_bound: Option<Spanned<usize>>,
    exec_requests: Option<Spanned<String>>,
    #[serde(default)]
    absent: Vec<Spanned<String>>,
    #[serde(default)]
    expect_live: Vec<Spanned<String>>,
    properties: Spanned<Vec<Spanned<String>>>,
    #[serde(default, rename = "module")]
    modules: Vec<Spanned<RawModule>>,
    #[serde(rename = "actor")]
    actors: Spanned<Vec<Spanned<RawActor>>>,
    #[serde(default, rename = "expect")]
    expects: Vec<Spanned<RawExpect>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExpect {
    exit: Option<Spanned<usize>>,
    request: Option<Spanned<String>>,
    never_live: Option<Spanned<String>>,
    rmmod: Option<Spanned<String>>,
    insmod: Option<Spanned<String>>,
    result: Option<Spanned<OneOrMany>>,
    budget: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn items(&self) -> Vec<&str> {
        match self {
            OneOrMany::One(s) => vec![s.as_str()],
            OneOrMany::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

/// One stated result: "0", an errno name (with or without its minus sign),
/// "killed" (where `killed` allows it), or "status N" (where `status`
/// allows it: a wait(2) status request_module returns).
fn result_item(item: &str, killed: bool, status: bool) -> Result<Option<Ret>, String> {
    if item == "0" {
        return Ok(Some(0));
    }
    if killed && item == "killed" {
        return Ok(None);
    }
    if status {
        if let Some(n) = item.strip_prefix("status ") {
            if let Ok(n) = n.trim().parse::<Ret>() {
                if n > 0 {
                    return Ok(Some(n));
                }
            }
        }
    }
    if let Some(e) = errno_by_name(item.trim_start_matches('-')) {
        return Ok(Some(-e));
    }
    Err(format!(
        "result {item:?} is not one the kernel hands back here; expected \"0\", an errno name such as \"ENOENT\"{}{}",
        if killed { ", or \"killed\"" } else { "" },
        if status { ", or a wait status such as \"status 256\" (modprobe exited 1)" } else { "" }
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModule {
    name: Spanned<String>,
    file: Spanned<String>,
    #[serde(default)]
    aliases: Vec<Spanned<String>>,
    #[serde(default)]
    deps: Vec<Spanned<String>>,
    #[serde(default)]
    init: Vec<Spanned<RawInit>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInit {
    request_module: Option<Spanned<String>>,
    required: Option<bool>,
    register_alg: Option<String>,
    test_requests: Option<Spanned<String>>,
    fail: Option<Spanned<String>>,
    oops: Option<Spanned<bool>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawActor {
    modprobe: Option<Spanned<String>>,
    request: Option<Spanned<String>>,
    repeat: Option<bool>,
    signal_modprobe: Option<Spanned<usize>>,
    signal_helper_for: Option<Spanned<String>>,
    fatal: Option<bool>,
    rmmod_force: Option<Spanned<String>>,
    rmmod: Option<Spanned<String>>,
    insmod: Option<Spanned<String>>,
}

/// Parse and check a scenario file's text. `file` names it in errors.
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
    let raw: RawScenario = toml::from_str(text).map_err(|e| {
        let message = e.message().trim_end();
        let suggestion = unknown_key_suggestion(message);
        at(e.span().unwrap_or(0..0), plain(message) + &suggestion)
    })?;
    build(raw, &at)
}

/// serde's words for a value of the wrong kind, in a scenario file's own
/// terms: keys, tables and lists, "a whole number" and "true or false" for
/// Rust's fields, maps, sequences, `usize` and `a boolean`.
fn plain(message: &str) -> String {
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
/// "expected `a`"): "; did you mean a?" with the key most like X, or nothing.
fn unknown_key_suggestion(message: &str) -> String {
    let Some(rest) = message.strip_prefix("unknown field `") else {
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

fn one_of<'a>(found: &[(&'a str, bool)], what: &str, expected: &str) -> Result<&'a str, String> {
    let given: Vec<&str> = found.iter().filter(|(_, g)| *g).map(|(k, _)| *k).collect();
    match given.as_slice() {
        [one] => Ok(one),
        [] => Err(format!(
            "{what} has none of the keys that say what it is; expected exactly one of {expected}"
        )),
        many => Err(format!(
            "{what} has {} keys that say what it is ({}); expected exactly one of {expected}",
            many.len(),
            many.join(", ")
        )),
    }
}

fn build(
    raw: RawScenario,
    at: &dyn Fn(Range<usize>, String) -> FileError,
) -> Result<Scenario, FileError> {
    let name = raw.name.get_ref().clone();
    if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c == ':') {
        return Err(at(
            raw.name.span(),
            format!("scenario name {name:?} is not usable; expected a non-empty name without spaces or ':' (it appears in replay handles)"),
        ));
    }
    let kmod_limit = raw
        .kmod_limit
        .as_ref()
        .map_or(DEFAULT_KMOD_LIMIT, |l| *l.get_ref());
    if let Some(l) = raw.kmod_limit.as_ref().filter(|l| *l.get_ref() == 0) {
        return Err(at(
            l.span(),
            "kmod_limit = 0 allows no request at all; expected 1 or more".into(),
        ));
    }

    // Modules.
    let mut modules: Vec<ModuleSpec> = Vec::new();
    for m in &raw.modules {
        let m = m.get_ref();
        if let Some(other) = modules.iter().find(|o| o.file == *m.file.get_ref()) {
            return Err(at(
                m.file.span(),
                format!(
                    "file {:?} is already module {:?}'s; expected one file per [[module]]",
                    m.file.get_ref(),
                    other.name
                ),
            ));
        }
        let mut init = Vec::new();
        for step in &m.init {
            init.push(init_step(step, at)?);
        }
        modules.push(ModuleSpec {
            name: m.name.get_ref().clone(),
            file: m.file.get_ref().clone(),
            aliases: m.aliases.iter().map(|a| a.get_ref().clone()).collect(),
            deps: m.deps.iter().map(|d| d.get_ref().clone()).collect(),
            init,
        });
    }
    let provided = |alias: &str| {
        modules
            .iter()
            .any(|m| m.name == alias || m.aliases.iter().any(|a| a == alias))
    };
    let absent: Vec<String> = raw.absent.iter().map(|a| a.get_ref().clone()).collect();
    for a in &raw.absent {
        if provided(a.get_ref()) {
            return Err(at(
                a.span(),
                format!(
                    "{:?} is listed as absent, but a module provides it; expected only aliases no module provides",
                    a.get_ref()
                ),
            ));
        }
    }
    let known_alias = |alias: &Spanned<String>, role: &str| -> Result<(), FileError> {
        if provided(alias.get_ref()) || absent.contains(alias.get_ref()) {
            Ok(())
        } else {
            Err(at(
                alias.span(),
                format!(
                    "unknown alias {:?} in {role}; expected a module name or alias of a [[module]], or list it in `absent` if no module is meant to provide it",
                    alias.get_ref()
                ),
            ))
        }
    };
    let known_module = |name: &Spanned<String>, role: &str| -> Result<(), FileError> {
        if modules.iter().any(|m| m.name == *name.get_ref()) {
            Ok(())
        } else {
            Err(at(
                name.span(),
                format!(
                    "unknown module {:?} in {role}; expected the name of a [[module]] ({})",
                    name.get_ref(),
                    module_names(&modules)
                ),
            ))
        }
    };
    for m in &raw.modules {
        let m = m.get_ref();
        for d in &m.deps {
            known_module(d, &format!("the deps of {}", m.name.get_ref()))?;
        }
        for step in &m.init {
            let s = step.get_ref();
            if let Some(a) = &s.request_module {
                known_alias(a, &format!("{}'s init", m.name.get_ref()))?;
            }
            if let Some(a) = &s.test_requests {
                known_alias(a, &format!("{}'s init", m.name.get_ref()))?;
            }
        }
    }
    dependency_cycle(&raw, at)?;
    if let Some(x) = &raw.exec_requests {
        known_alias(x, "exec_requests")?;
    }
    for l in &raw.expect_live {
        known_module(l, "expect_live")?;
    }

    // Actors.
    let raw_files: Vec<String> = modules.iter().map(|m| m.file.clone()).collect();
    let mut actors = Vec::new();
    let modprobes = raw
        .actors
        .get_ref()
        .iter()
        .filter(|a| a.get_ref().modprobe.is_some())
        .count();
    let mut requested: Vec<String> = raw
        .modules
        .iter()
        .flat_map(|m| m.get_ref().init.iter())
        .flat_map(|s| {
            let s = s.get_ref();
            [&s.request_module, &s.test_requests]
                .into_iter()
                .flatten()
                .map(|a| a.get_ref().clone())
        })
        .collect();
    requested.extend(raw.exec_requests.iter().map(|x| x.get_ref().clone()));
    for a in raw.actors.get_ref() {
        requested.extend(a.get_ref().request.iter().map(|r| r.get_ref().clone()));
    }
    // `KEY = N` names the N-th modprobe actor (from 0): a signal's target,
    // or an actor whose exit is stated.
    let modprobe_actor = |key: &str, i: &Spanned<usize>| -> Result<(), FileError> {
        if *i.get_ref() < modprobes {
            return Ok(());
        }
        Err(at(
            i.span(),
            format!(
                "{key} = {} names no actor: this scenario has {modprobes} modprobe actor(s); expected {}",
                i.get_ref(),
                match modprobes {
                    0 => "a modprobe actor".to_string(),
                    1 => "0".to_string(),
                    n => format!("0 to {}", n - 1),
                }
            ),
        ))
    };
    for actor in raw.actors.get_ref() {
        let span = actor.span();
        let a = actor.get_ref();
        let kind = one_of(
            &[
                ("modprobe", a.modprobe.is_some()),
                ("request", a.request.is_some()),
                ("signal_modprobe", a.signal_modprobe.is_some()),
                ("signal_helper_for", a.signal_helper_for.is_some()),
                ("rmmod_force", a.rmmod_force.is_some()),
                ("rmmod", a.rmmod.is_some()),
                ("insmod", a.insmod.is_some()),
            ],
            "this [[actor]]",
            "modprobe, request, signal_modprobe, signal_helper_for, rmmod_force, rmmod, insmod",
        )
        .map_err(|m| at(span.clone(), m))?;
        let stray = |key: &str, ok: bool| -> Result<(), FileError> {
            if ok {
                Ok(())
            } else {
                Err(at(
                    span.clone(),
                    format!(
                        "`{key}` does not apply to a {kind} actor; expected it only with {}",
                        match key {
                            "repeat" => "request",
                            _ => "signal_modprobe or signal_helper_for",
                        }
                    ),
                ))
            }
        };
        stray("repeat", a.repeat.is_none() || kind == "request")?;
        stray("fatal", a.fatal.is_none() || kind.starts_with("signal"))?;
        let fatal = || {
            a.fatal.ok_or_else(|| {
                at(
                    span.clone(),
                    "a signal actor needs `fatal`; expected fatal = true (SIGKILL) or false (a signal with a handler)".into(),
                )
            })
        };
        actors.push(match kind {
            "modprobe" => {
                let t = a.modprobe.as_ref().expect("kind");
                known_alias(t, "a modprobe actor")?;
                Actor::Modprobe(t.get_ref().clone())
            }
            "request" => {
                let r = a.request.as_ref().expect("kind");
                known_alias(r, "a request actor")?;
                let repeat = a.repeat.unwrap_or(false);
                if repeat && raw.helper_bound.is_none() {
                    return Err(at(
                        span.clone(),
                        "a request with repeat = true never stops by itself; expected a top-level helper_bound".into(),
                    ));
                }
                Actor::Request {
                    alias: r.get_ref().clone(),
                    repeat,
                }
            }
            "signal_modprobe" => {
                let i = a.signal_modprobe.as_ref().expect("kind");
                modprobe_actor("signal_modprobe", i)?;
                Actor::Signal {
                    target: SignalTarget::Actor(*i.get_ref()),
                    fatal: fatal()?,
                }
            }
            "signal_helper_for" => {
                let h = a.signal_helper_for.as_ref().expect("kind");
                if !requested.contains(h.get_ref()) {
                    return Err(at(
                        h.span(),
                        format!(
                            "signal_helper_for = {:?} has no target: nothing in this scenario requests it, so no helper starts for it; expected an alias some init, request actor or exec_requests asks for",
                            h.get_ref()
                        ),
                    ));
                }
                Actor::Signal {
                    target: SignalTarget::HelperFor(h.get_ref().clone()),
                    fatal: fatal()?,
                }
            }
            "insmod" => {
                let f = a.insmod.as_ref().expect("kind");
                if !raw_files.contains(f.get_ref()) {
                    return Err(at(
                        f.span(),
                        format!(
                            "insmod = {:?} is no module's file; expected one of: {}",
                            f.get_ref(),
                            raw_files.join(", ")
                        ),
                    ));
                }
                Actor::Insmod(f.get_ref().clone())
            }
            "rmmod" => {
                let m = a.rmmod.as_ref().expect("kind");
                known_module(m, "an rmmod actor")?;
                Actor::Rmmod(m.get_ref().clone())
            }
            _ => {
                let m = a.rmmod_force.as_ref().expect("kind");
                known_module(m, "an rmmod_force actor")?;
                Actor::ForceUnload(m.get_ref().clone())
            }
        });
    }
    if !actors.iter().any(|a| {
        matches!(
            a,
            Actor::Modprobe(_) | Actor::Request { .. } | Actor::Insmod(_)
        )
    }) {
        return Err(at(
            raw.actors.span(),
            "nothing starts: expected at least one modprobe, insmod or request actor".into(),
        ));
    }

    // Properties.
    if raw.properties.get_ref().is_empty() {
        return Err(at(
            raw.properties.span(),
            "no properties; expected at least one of: ".to_string() + &property_ids(),
        ));
    }
    for p in raw.properties.get_ref() {
        if kmodcheck_properties::by_id(p.get_ref()).is_none() {
            return Err(at(
                p.span(),
                format!(
                    "unknown property {:?}; expected one of: {}{}",
                    p.get_ref(),
                    property_ids(),
                    crate::suggest::did_you_mean(p.get_ref(), crate::suggest::property_ids())
                ),
            ));
        }
    }

    // Expected results.
    let mut expect = Vec::new();
    for e in &raw.expects {
        let span = e.span();
        let x = e.get_ref();
        let kind = one_of(
            &[
                ("exit", x.exit.is_some()),
                ("request", x.request.is_some()),
                ("never_live", x.never_live.is_some()),
                ("rmmod", x.rmmod.is_some()),
                ("insmod", x.insmod.is_some()),
            ],
            "this [[expect]]",
            "exit, request, rmmod, insmod, never_live",
        )
        .map_err(|m| at(span.clone(), m))?;
        if let (Some(b), false) = (&x.budget, kind == "request") {
            return Err(at(
                b.span(),
                format!("`budget` does not apply to an [[expect]] with `{kind}`; expected it only with request"),
            ));
        }
        let results = |killed: bool, status: bool| -> Result<Vec<Option<Ret>>, FileError> {
            let r = x.result.as_ref().ok_or_else(|| {
                at(
                    span.clone(),
                    format!("an [[expect]] with `{kind}` needs `result`; expected result = \"0\", an errno name, or a list of them"),
                )
            })?;
            let items = r.get_ref().items();
            if items.is_empty() {
                return Err(at(
                    r.span(),
                    "result = [] allows nothing; expected at least one result".into(),
                ));
            }
            items
                .into_iter()
                .map(|i| result_item(i, killed, status).map_err(|m| at(r.span(), m)))
                .collect()
        };
        expect.push(match kind {
            "exit" => {
                let i = x.exit.as_ref().expect("kind");
                modprobe_actor("exit", i)?;
                Expect::Exit {
                    actor: *i.get_ref(),
                    results: results(true, false)?,
                }
            }
            "request" => {
                let r = x.request.as_ref().expect("kind");
                if !requested.contains(r.get_ref()) {
                    return Err(at(
                        r.span(),
                        format!(
                            "request = {:?}: nothing in this scenario requests it; expected an alias some init, request actor or exec_requests asks for",
                            r.get_ref()
                        ),
                    ));
                }
                let budget = match &x.budget {
                    None => None,
                    Some(b) => Some(
                        KmodBudget::ALL
                            .into_iter()
                            .find(|k| k.id() == b.get_ref())
                            .ok_or_else(|| {
                                at(
                                    b.span(),
                                    format!(
                                        "unknown budget {:?}; expected one of: {}{}",
                                        b.get_ref(),
                                        KmodBudget::ALL.map(|k| k.id()).join(", "),
                                        crate::suggest::did_you_mean(
                                            b.get_ref(),
                                            KmodBudget::ALL.map(|k| k.id())
                                        )
                                    ),
                                )
                            })?,
                    ),
                };
                Expect::Request {
                    alias: r.get_ref().clone(),
                    results: results(false, true)?.into_iter().flatten().collect(),
                    budget,
                }
            }
            "rmmod" => {
                let m = x.rmmod.as_ref().expect("kind");
                known_module(m, "an [[expect]]'s rmmod")?;
                let removes = |a: &Actor| matches!(a, Actor::Rmmod(r) | Actor::ForceUnload(r) if r == m.get_ref());
                if !actors.iter().any(removes) {
                    return Err(at(
                        m.span(),
                        format!(
                            "rmmod = {:?}: no rmmod or rmmod_force actor removes it; expected a module an actor removes",
                            m.get_ref()
                        ),
                    ));
                }
                Expect::Rmmod {
                    module: m.get_ref().clone(),
                    results: results(false, false)?.into_iter().flatten().collect(),
                }
            }
            "insmod" => {
                let f = x.insmod.as_ref().expect("kind");
                if !actors
                    .iter()
                    .any(|a| matches!(a, Actor::Insmod(i) if i == f.get_ref()))
                {
                    return Err(at(
                        f.span(),
                        format!(
                            "insmod = {:?}: no insmod actor inserts it; expected the file of an insmod actor",
                            f.get_ref()
                        ),
                    ));
                }
                Expect::Insmod {
                    file: f.get_ref().clone(),
                    results: results(true, false)?,
                }
            }
            _ => {
                let m = x.never_live.as_ref().expect("kind");
                known_module(m, "never_live")?;
                if x.result.is_some() {
                    return Err(at(
                        span.clone(),
                        "`result` does not apply to never_live; expected it only with exit or request".into(),
                    ));
                }
                Expect::NeverLive(m.get_ref().clone())
            }
        });
    }
    let mut properties: Vec<String> = raw
        .properties
        .get_ref()
        .iter()
        .map(|p| p.get_ref().clone())
        .collect();
    if !expect.is_empty() && !properties.iter().any(|p| p == "expected-results") {
        properties.push("expected-results".into());
    }
    if expect.is_empty() {
        if let Some(p) = raw
            .properties
            .get_ref()
            .iter()
            .find(|p| p.get_ref() == "expected-results")
        {
            return Err(at(
                p.span(),
                "expected-results with no [[expect]]: it would check nothing; expected at least one [[expect]] table".into(),
            ));
        }
    }

    let sc = Scenario {
        name,
        summary: raw.summary,
        reference: raw.reference,
        modules,
        actors,
        timer: raw.timer,
        kmod_limit,
        helper_bound: raw.helper_bound.as_ref().map(|b| *b.get_ref()),
        exec_requests: raw.exec_requests.as_ref().map(|x| x.get_ref().clone()),
        expect_live: raw
            .expect_live
            .iter()
            .map(|l| l.get_ref().clone())
            .collect(),
        expect,
        properties,
    };
    Ok(sc)
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
    let raw: RawScenario = toml::from_str(&text).map_err(|e| FileError {
        file: file.clone(),
        line: 1,
        column: 1,
        message: e.to_string(),
    })?;
    let (line, column) = line_col(&text, raw.actors.span().start);
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

fn init_step(
    step: &Spanned<RawInit>,
    at: &dyn Fn(Range<usize>, String) -> FileError,
) -> Result<InitStep, FileError> {
    let s = step.get_ref();
    let span = step.span();
    let kind = one_of(
        &[
            ("request_module", s.request_module.is_some()),
            ("register_alg", s.register_alg.is_some()),
            ("fail", s.fail.is_some()),
            ("oops", s.oops.is_some()),
        ],
        "this init step",
        "request_module, register_alg, fail, oops",
    )
    .map_err(|m| at(span.clone(), m))?;
    if s.required.is_some() && kind != "request_module" {
        return Err(at(
            span,
            format!(
                "`required` does not apply to a {kind} step; expected it only with request_module"
            ),
        ));
    }
    if s.test_requests.is_some() && kind != "register_alg" {
        return Err(at(
            span,
            format!("`test_requests` does not apply to a {kind} step; expected it only with register_alg"),
        ));
    }
    Ok(match kind {
        "request_module" => InitStep::RequestModule {
            alias: s.request_module.as_ref().expect("kind").get_ref().clone(),
            required: s.required.ok_or_else(|| {
                at(
                    span.clone(),
                    "a request_module step needs `required`; expected required = true (init fails if the request fails) or false (init carries on)".into(),
                )
            })?,
        },
        "register_alg" => InitStep::RegisterAlg {
            alg: s.register_alg.clone().expect("kind"),
            test_requests: s
                .test_requests
                .as_ref()
                .ok_or_else(|| {
                    at(
                        span.clone(),
                        "a register_alg step needs `test_requests`: the alias its self-test asks for (crypto-NAME)".into(),
                    )
                })?
                .get_ref()
                .clone(),
        },
        "fail" => {
            let e = s.fail.as_ref().expect("kind");
            let name = e.get_ref().trim_start_matches('-');
            match errno_by_name(name) {
                Some(v) => InitStep::Fail(v),
                None => {
                    return Err(at(
                        e.span(),
                        format!(
                            "unknown errno {:?}; expected an errno name such as \"ENODEV\" ({}){}",
                            e.get_ref(),
                            kmodcheck_model::errno::errno_names().join(", "),
                            crate::suggest::did_you_mean(name, kmodcheck_model::errno::errno_names())
                        ),
                    ))
                }
            }
        }
        _ => {
            let o = s.oops.as_ref().expect("kind");
            if !*o.get_ref() {
                return Err(at(
                    o.span(),
                    "oops = false is not a step; expected oops = true, or leave the step out".into(),
                ));
            }
            InitStep::Oops
        }
    })
}

fn dependency_cycle(
    raw: &RawScenario,
    at: &dyn Fn(Range<usize>, String) -> FileError,
) -> Result<(), FileError> {
    fn visit<'a>(
        raw: &'a RawScenario,
        name: &'a str,
        path: &mut Vec<&'a str>,
    ) -> Option<(Vec<String>, Range<usize>)> {
        for m in raw
            .modules
            .iter()
            .filter(|m| m.get_ref().name.get_ref() == name)
        {
            for d in &m.get_ref().deps {
                let dn = d.get_ref().as_str();
                if let Some(i) = path.iter().position(|p| *p == dn) {
                    let mut cycle: Vec<String> = path[i..].iter().map(|s| s.to_string()).collect();
                    cycle.push(dn.to_string());
                    return Some((cycle, d.span()));
                }
                path.push(dn);
                if let Some(c) = visit(raw, dn, path) {
                    return Some(c);
                }
                path.pop();
            }
        }
        None
    }
    for m in &raw.modules {
        let n = m.get_ref().name.get_ref().as_str();
        if let Some((cycle, span)) = visit(raw, n, &mut vec![n]) {
            return Err(at(
                span,
                format!(
                    "dependency cycle: {}; expected modules.dep to be acyclic (depmod refuses a cycle)",
                    cycle.join(" -> ")
                ),
            ));
        }
    }
    Ok(())
}

fn module_names(modules: &[ModuleSpec]) -> String {
    if modules.is_empty() {
        "there is none".into()
    } else {
        modules
            .iter()
            .map(|m| m.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn property_ids() -> String {
    kmodcheck_properties::catalogue()
        .iter()
        .map(|p| p.id)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A scenario in the file format: what `scenarios/*.toml` holds. `parse`
/// of it gives the same scenario back.
pub fn to_toml(sc: &Scenario) -> String {
    use std::fmt::Write as _;
    let q = |s: &str| toml::Value::String(s.to_string()).to_string();
    let list = |v: &[String]| {
        format!(
            "[{}]",
            v.iter().map(|s| q(s)).collect::<Vec<_>>().join(", ")
        )
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# kmodcheck scenario file: see the README, \"Scenario files\"."
    );
    let _ = writeln!(out, "name = {}", q(&sc.name));
    let _ = writeln!(out, "summary = {}", q(&sc.summary));
    let _ = writeln!(out, "reference = {}", q(&sc.reference));
    let _ = writeln!(out, "timer = {}", sc.timer);
    let _ = writeln!(out, "kmod_limit = {}", sc.kmod_limit);
    if let Some(b) = sc.helper_bound {
        let _ = writeln!(out, "helper_bound = {b}");
    }
    if let Some(x) = &sc.exec_requests {
        let _ = writeln!(out, "exec_requests = {}", q(x));
    }
    let mut absent: Vec<String> = Vec::new();
    let mut note = |a: &str| {
        if sc.resolve(a).is_none() && !absent.iter().any(|x| x == a) {
            absent.push(a.to_string());
        }
    };
    for m in &sc.modules {
        for s in &m.init {
            match s {
                InitStep::RequestModule { alias, .. } => note(alias),
                InitStep::RegisterAlg { test_requests, .. } => note(test_requests),
                InitStep::Fail(_) | InitStep::Oops => {}
            }
        }
    }
    for a in &sc.actors {
        match a {
            Actor::Request { alias, .. } => note(alias),
            Actor::Modprobe(t) => note(t),
            _ => {}
        }
    }
    if let Some(x) = &sc.exec_requests {
        note(x);
    }
    if !absent.is_empty() {
        let _ = writeln!(out, "absent = {}", list(&absent));
    }
    if !sc.expect_live.is_empty() {
        let _ = writeln!(out, "expect_live = {}", list(&sc.expect_live));
    }
    let _ = writeln!(out, "properties = {}", list(&sc.properties));
    for m in &sc.modules {
        let _ = writeln!(out, "\n[[module]]");
        let _ = writeln!(out, "name = {}", q(&m.name));
        let _ = writeln!(out, "file = {}", q(&m.file));
        if !m.aliases.is_empty() {
            let _ = writeln!(out, "aliases = {}", list(&m.aliases));
        }
        if !m.deps.is_empty() {
            let _ = writeln!(out, "deps = {}", list(&m.deps));
        }
        if !m.init.is_empty() {
            let steps: Vec<String> = m
                .init
                .iter()
                .map(|s| match s {
                    InitStep::RequestModule { alias, required } => {
                        format!("{{ request_module = {}, required = {required} }}", q(alias))
                    }
                    InitStep::RegisterAlg { alg, test_requests } => format!(
                        "{{ register_alg = {}, test_requests = {} }}",
                        q(alg),
                        q(test_requests)
                    ),
                    InitStep::Fail(e) => format!(
                        "{{ fail = {} }}",
                        q(kmodcheck_model::errno::ret_name(-e).trim_start_matches('-'))
                    ),
                    InitStep::Oops => "{ oops = true }".to_string(),
                })
                .collect();
            let _ = writeln!(out, "init = [{}]", steps.join(", "));
        }
    }
    for a in &sc.actors {
        let _ = writeln!(out, "\n[[actor]]");
        let _ = match a {
            Actor::Modprobe(t) => writeln!(out, "modprobe = {}", q(t)),
            Actor::Request { alias, repeat } => {
                writeln!(out, "request = {}\nrepeat = {repeat}", q(alias))
            }
            Actor::Signal {
                target: SignalTarget::Actor(i),
                fatal,
            } => writeln!(out, "signal_modprobe = {i}\nfatal = {fatal}"),
            Actor::Signal {
                target: SignalTarget::HelperFor(h),
                fatal,
            } => writeln!(out, "signal_helper_for = {}\nfatal = {fatal}", q(h)),
            Actor::ForceUnload(m) => writeln!(out, "rmmod_force = {}", q(m)),
            Actor::Rmmod(m) => writeln!(out, "rmmod = {}", q(m)),
            Actor::Insmod(f) => writeln!(out, "insmod = {}", q(f)),
        };
    }
    let results = |rs: &mut dyn Iterator<Item = Option<Ret>>| {
        let items: Vec<String> = rs
            .map(|r| {
                q(&r.map_or_else(
                    || "killed".to_string(),
                    |r| ret_name(r).trim_start_matches('-').to_string(),
                ))
            })
            .collect();
        format!("[{}]", items.join(", "))
    };
    for e in &sc.expect {
        let _ = writeln!(out, "\n[[expect]]");
        let _ = match e {
            Expect::Exit { actor, results: r } => writeln!(
                out,
                "exit = {actor}\nresult = {}",
                results(&mut r.iter().copied())
            ),
            Expect::Request {
                alias,
                results: r,
                budget,
            } => writeln!(
                out,
                "request = {}\nresult = {}{}",
                q(alias),
                results(&mut r.iter().map(|r| Some(*r))),
                budget.map_or(String::new(), |b| format!("\nbudget = {}", q(b.id())))
            ),
            Expect::NeverLive(m) => writeln!(out, "never_live = {}", q(m)),
            Expect::Insmod { file, results: r } => writeln!(
                out,
                "insmod = {}\nresult = {}",
                q(file),
                results(&mut r.iter().copied())
            ),
            Expect::Rmmod { module, results: r } => writeln!(
                out,
                "rmmod = {}\nresult = {}",
                q(module),
                results(&mut r.iter().map(|r| Some(*r)))
            ),
        };
    }
    out
}

/// The file a built-in scenario is shipped as under `scenarios/`.
pub fn file_name(scenario: &str) -> String {
    format!("{}.toml", scenario.replace('+', "_"))
}
