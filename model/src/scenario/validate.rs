//! [`Scenario::validate`]: the one place that checks a scenario, whether the
//! catalogue built it in Rust, a scenario file gave it, or `kmodcheck fuzz`
//! generated it. What serde already refuses (a missing key, a value of the
//! wrong kind, an unknown errno) never reaches here; what is left is what
//! one field says about another.
//!
//! An error names where it is ([`At`], in the file's keys: `actor[2].modprobe`),
//! so the file reader can give its line and column.

use super::{Actor, Expect, InitStep, ModuleSpec, Scenario, SignalTarget};
use std::fmt;

/// One step of the way to a value: a key, or a position in a list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum At {
    /// A key of a table (a scenario file's own key: `module`, `actor`).
    Key(&'static str),
    /// The n-th item of a list (from 0).
    Index(usize),
}

/// A scenario that cannot be checked: where, and why, and what was expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invalid {
    /// Where, from the top of the scenario.
    pub at: Vec<At>,
    /// What is wrong and what was expected.
    pub message: String,
    /// For a name that names nothing: the name, and the names it could
    /// have meant (a reader offers the closest: "did you mean ...?").
    pub unknown: Option<(String, Vec<String>)>,
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut path = String::new();
        for a in &self.at {
            match a {
                At::Key(k) if path.is_empty() => path.push_str(k),
                At::Key(k) => {
                    path.push('.');
                    path.push_str(k);
                }
                At::Index(i) => path.push_str(&format!("[{i}]")),
            }
        }
        if path.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{path}: {}", self.message)
        }
    }
}

impl std::error::Error for Invalid {}

fn invalid(at: Vec<At>, message: String) -> Invalid {
    Invalid {
        at,
        message,
        unknown: None,
    }
}

/// An error about `name`, which names none of `candidates`.
fn unknown<'a>(
    at: Vec<At>,
    message: String,
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Invalid {
    Invalid {
        unknown: Some((
            name.to_string(),
            candidates.into_iter().map(str::to_string).collect(),
        )),
        ..invalid(at, message)
    }
}

use At::{Index, Key};

impl Scenario {
    /// Check what one part of the scenario says about another: every name
    /// it uses is a module, alias or file it has, no dependency cycle, an
    /// actor to start with, a signal or an expectation that can have its
    /// target, and `properties` among `known_properties` (the property
    /// catalogue, which lives in another crate). The first mistake found.
    pub fn validate(&self, known_properties: &[&str]) -> Result<(), Invalid> {
        let name = &self.name;
        if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c == ':') {
            return Err(invalid(
                vec![Key("name")],
                format!("scenario name {name:?} is not usable; expected a non-empty name without spaces or ':' (it appears in replay handles)"),
            ));
        }
        if self.kmod_limit == 0 {
            return Err(invalid(
                vec![Key("kmod_limit")],
                "kmod_limit = 0 allows no request at all; expected 1 or more".into(),
            ));
        }
        self.validate_modules()?;
        self.validate_actors()?;
        self.validate_properties(known_properties)?;
        self.validate_expect()
    }

    fn provided(&self, alias: &str) -> bool {
        self.resolve(alias).is_some()
    }

    fn known_alias(&self, alias: &str, at: Vec<At>, role: &str) -> Result<(), Invalid> {
        if self.provided(alias) || self.absent.iter().any(|a| a == alias) {
            return Ok(());
        }
        let names = self.modules.iter().flat_map(|m| {
            std::iter::once(m.name.as_str()).chain(m.aliases.iter().map(String::as_str))
        });
        Err(unknown(
            at,
            format!(
                "unknown alias {alias:?} in {role}; expected a module name or alias of a [[module]], or list it in `absent` if no module is meant to provide it"
            ),
            alias,
            names.chain(self.absent.iter().map(String::as_str)),
        ))
    }

    fn known_module(&self, name: &str, at: Vec<At>, role: &str) -> Result<(), Invalid> {
        if self.module(name).is_some() {
            return Ok(());
        }
        Err(unknown(
            at,
            format!(
                "unknown module {name:?} in {role}; expected the name of a [[module]] ({})",
                module_names(&self.modules)
            ),
            name,
            self.modules.iter().map(|m| m.name.as_str()),
        ))
    }

    /// Every alias something in the scenario requests.
    fn requested(&self) -> Vec<&str> {
        let mut r: Vec<&str> = Vec::new();
        for m in &self.modules {
            for s in &m.init {
                match s {
                    InitStep::RequestModule { alias, .. } => r.push(alias),
                    InitStep::RegisterAlg { test_requests, .. } => r.push(test_requests),
                    InitStep::Fail(_) | InitStep::Oops => {}
                }
            }
        }
        r.extend(self.exec_requests.as_deref());
        for a in &self.actors {
            if let Actor::Request { alias, .. } = a {
                r.push(alias);
            }
        }
        r
    }

    fn validate_modules(&self) -> Result<(), Invalid> {
        for (i, m) in self.modules.iter().enumerate() {
            if let Some(other) = self.modules[..i].iter().find(|o| o.file == m.file) {
                return Err(invalid(
                    vec![Key("module"), Index(i), Key("file")],
                    format!(
                        "file {:?} is already module {:?}'s; expected one file per [[module]]",
                        m.file, other.name
                    ),
                ));
            }
        }
        for (i, a) in self.absent.iter().enumerate() {
            if self.provided(a) {
                return Err(invalid(
                    vec![Key("absent"), Index(i)],
                    format!("{a:?} is listed as absent, but a module provides it; expected only aliases no module provides"),
                ));
            }
        }
        for (i, m) in self.modules.iter().enumerate() {
            let at = |rest: &[At]| [&[Key("module"), Index(i)], rest].concat();
            for (j, d) in m.deps.iter().enumerate() {
                self.known_module(
                    d,
                    at(&[Key("deps"), Index(j)]),
                    &format!("the deps of {}", m.name),
                )?;
            }
            let role = format!("{}'s init", m.name);
            for (j, s) in m.init.iter().enumerate() {
                let step = |k| at(&[Key("init"), Index(j), k]);
                match s {
                    InitStep::RequestModule { alias, .. } => {
                        self.known_alias(alias, step(Key("request_module")), &role)?
                    }
                    InitStep::RegisterAlg { test_requests, .. } => {
                        self.known_alias(test_requests, step(Key("register_alg")), &role)?
                    }
                    InitStep::Fail(_) | InitStep::Oops => {}
                }
            }
        }
        self.dependency_cycle()?;
        if let Some(x) = &self.exec_requests {
            self.known_alias(x, vec![Key("exec_requests")], "exec_requests")?;
        }
        for (i, l) in self.expect_live.iter().enumerate() {
            self.known_module(l, vec![Key("expect_live"), Index(i)], "expect_live")?;
        }
        Ok(())
    }

    fn dependency_cycle(&self) -> Result<(), Invalid> {
        fn visit<'a>(
            sc: &'a Scenario,
            name: &'a str,
            path: &mut Vec<&'a str>,
        ) -> Option<(Vec<String>, Vec<At>)> {
            for (i, m) in sc
                .modules
                .iter()
                .enumerate()
                .filter(|(_, m)| m.name == name)
            {
                for (j, d) in m.deps.iter().enumerate() {
                    if let Some(k) = path.iter().position(|p| p == d) {
                        let mut cycle: Vec<String> =
                            path[k..].iter().map(|s| s.to_string()).collect();
                        cycle.push(d.clone());
                        return Some((cycle, vec![Key("module"), Index(i), Key("deps"), Index(j)]));
                    }
                    path.push(d);
                    if let Some(c) = visit(sc, d, path) {
                        return Some(c);
                    }
                    path.pop();
                }
            }
            None
        }
        for m in &self.modules {
            if let Some((cycle, at)) = visit(self, &m.name, &mut vec![&m.name]) {
                return Err(invalid(
                    at,
                    format!(
                        "dependency cycle: {}; expected modules.dep to be acyclic (depmod refuses a cycle)",
                        cycle.join(" -> ")
                    ),
                ));
            }
        }
        Ok(())
    }

    /// `i` names the i-th actor of a kind, 0-based (a signal's target, an
    /// exit stated): `n` is how many of that kind the scenario has.
    fn nth_actor(key: &str, kind: &str, n: usize, i: usize, at: Vec<At>) -> Result<(), Invalid> {
        if i < n {
            return Ok(());
        }
        let article = if kind.starts_with(['a', 'e', 'i', 'o', 'u']) {
            "an"
        } else {
            "a"
        };
        Err(invalid(
            at,
            format!(
                "{key} = {i} names no actor: this scenario has {n} {kind} actor(s); expected {}",
                match n {
                    0 => format!("{article} {kind} actor"),
                    1 => "0".to_string(),
                    n => format!("0 to {}", n - 1),
                }
            ),
        ))
    }

    fn validate_actors(&self) -> Result<(), Invalid> {
        let requested = self.requested();
        let files: Vec<&str> = self.modules.iter().map(|m| m.file.as_str()).collect();
        for (i, a) in self.actors.iter().enumerate() {
            let at = |rest: &[At]| [&[Key("actor"), Index(i)], rest].concat();
            match a {
                Actor::Modprobe(t) => {
                    self.known_alias(t, at(&[Key("modprobe")]), "a modprobe actor")?
                }
                Actor::Request { alias, repeat } => {
                    self.known_alias(
                        alias,
                        at(&[Key("request"), Key("alias")]),
                        "a request actor",
                    )?;
                    if *repeat && self.helper_bound.is_none() {
                        return Err(invalid(
                            at(&[Key("request"), Key("repeat")]),
                            "a request with repeat = true never stops by itself; expected a top-level helper_bound".into(),
                        ));
                    }
                }
                Actor::Signal {
                    target: SignalTarget::Actor(n),
                    ..
                } => Self::nth_actor(
                    "modprobe",
                    "modprobe",
                    self.modprobe_actors(),
                    *n,
                    at(&[Key("signal"), Key("target"), Key("modprobe")]),
                )?,
                Actor::Signal {
                    target: SignalTarget::Insmod(n),
                    ..
                } => Self::nth_actor(
                    "insmod",
                    "insmod",
                    self.insmod_actors(),
                    *n,
                    at(&[Key("signal"), Key("target"), Key("insmod")]),
                )?,
                Actor::Signal {
                    target: SignalTarget::HelperFor(h),
                    ..
                } => {
                    if !requested.contains(&h.as_str()) {
                        return Err(invalid(
                            at(&[Key("signal"), Key("target"), Key("helper_for")]),
                            format!("helper_for = {h:?} has no target: nothing in this scenario requests it, so no helper starts for it; expected an alias some init, request actor or exec_requests asks for"),
                        ));
                    }
                }
                Actor::Insmod(f) => {
                    if !files.contains(&f.as_str()) {
                        return Err(unknown(
                            at(&[Key("insmod")]),
                            format!(
                                "insmod = {f:?} is no module's file; expected one of: {}",
                                files.join(", ")
                            ),
                            f,
                            files.iter().copied(),
                        ));
                    }
                }
                Actor::Rmmod(m) => self.known_module(m, at(&[Key("rmmod")]), "an rmmod actor")?,
                Actor::ForceUnload(m) => {
                    self.known_module(m, at(&[Key("rmmod_force")]), "an rmmod_force actor")?
                }
            }
        }
        let starts = |a: &Actor| match a {
            Actor::Modprobe(_) | Actor::Request { .. } | Actor::Insmod(_) => true,
            Actor::Signal { .. } | Actor::Rmmod(_) | Actor::ForceUnload(_) => false,
        };
        if !self.actors.iter().any(starts) {
            return Err(invalid(
                vec![Key("actor")],
                "nothing starts: expected at least one modprobe, insmod or request actor".into(),
            ));
        }
        Ok(())
    }

    fn validate_properties(&self, known: &[&str]) -> Result<(), Invalid> {
        if self.properties.is_empty() {
            return Err(invalid(
                vec![Key("properties")],
                format!(
                    "no properties; expected at least one of: {}",
                    known.join(", ")
                ),
            ));
        }
        for (i, p) in self.properties.iter().enumerate() {
            if !known.contains(&p.as_str()) {
                return Err(unknown(
                    vec![Key("properties"), Index(i)],
                    format!(
                        "unknown property {p:?}; expected one of: {}",
                        known.join(", ")
                    ),
                    p,
                    known.iter().copied(),
                ));
            }
        }
        let checked = self.properties.iter().position(|p| p == "expected-results");
        match (checked, self.expect.is_empty()) {
            (Some(i), true) => Err(invalid(
                vec![Key("properties"), Index(i)],
                "expected-results with no [[expect]]: it would check nothing; expected at least one [[expect]] table".into(),
            )),
            (None, false) => Err(invalid(
                vec![Key("properties")],
                "[[expect]] tables without expected-results: nothing would check them; expected \"expected-results\" among the properties".into(),
            )),
            _ => Ok(()),
        }
    }

    fn validate_expect(&self) -> Result<(), Invalid> {
        let requested = self.requested();
        for (i, e) in self.expect.iter().enumerate() {
            let at = |rest: &[At]| [&[Key("expect"), Index(i)], rest].concat();
            let nonempty = |n: usize, key: &'static str| {
                if n > 0 {
                    return Ok(());
                }
                Err(invalid(
                    at(&[Key(key), Key("result")]),
                    "result = [] allows nothing; expected at least one result".into(),
                ))
            };
            match e {
                Expect::Exit { actor, results } => {
                    Self::nth_actor(
                        "actor",
                        "modprobe",
                        self.modprobe_actors(),
                        *actor,
                        at(&[Key("exit"), Key("actor")]),
                    )?;
                    nonempty(results.len(), "exit")?;
                }
                Expect::Request { alias, results, .. } => {
                    if !requested.contains(&alias.as_str()) {
                        return Err(invalid(
                            at(&[Key("request"), Key("alias")]),
                            format!("request = {alias:?}: nothing in this scenario requests it; expected an alias some init, request actor or exec_requests asks for"),
                        ));
                    }
                    nonempty(results.len(), "request")?;
                }
                Expect::Rmmod { module, results } => {
                    self.known_module(
                        module,
                        at(&[Key("rmmod"), Key("module")]),
                        "an [[expect]]'s rmmod",
                    )?;
                    let removes = |a: &Actor| matches!(a, Actor::Rmmod(r) | Actor::ForceUnload(r) if r == module);
                    if !self.actors.iter().any(removes) {
                        return Err(invalid(
                            at(&[Key("rmmod"), Key("module")]),
                            format!("rmmod = {module:?}: no rmmod or rmmod_force actor removes it; expected a module an actor removes"),
                        ));
                    }
                    nonempty(results.len(), "rmmod")?;
                }
                Expect::Insmod { file, results } => {
                    if !self
                        .actors
                        .iter()
                        .any(|a| matches!(a, Actor::Insmod(f) if f == file))
                    {
                        return Err(invalid(
                            at(&[Key("insmod"), Key("file")]),
                            format!("insmod = {file:?}: no insmod actor inserts it; expected the file of an insmod actor"),
                        ));
                    }
                    nonempty(results.len(), "insmod")?;
                }
                Expect::NeverLive(m) => {
                    self.known_module(m, at(&[Key("never_live")]), "never_live")?
                }
            }
        }
        Ok(())
    }
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
