//! # kmodcheck-properties: named properties of module loading
//!
//! Each property has an id, a one-line statement, its kernel rationale, and
//! a vacuity witness: a state the scenario must reach at least once for a
//! "holds" to mean anything (stateright's `sometimes`).
//!
//! A property is a *monitor* ([`Monitor`]): a small state machine fed the
//! facts the model reports as they happen ([`Fact`]). Its state is part of
//! the execution's state, so the stateful engine may cut a schedule at a
//! state it has seen without losing a violation. A monitor reports a
//! violation as soon as it sees one (`Reaction::Violated`), or gives its
//! verdict on the execution when it ends ([`Monitor::finish`]). It never
//! reads the trace, and it never takes the model's conclusion where the
//! facts let it see for itself (the module states it checks are the ones
//! the facts reported).
#![deny(missing_docs)]

use kmodcheck_model::errno::{
    ret_name, Ret, EBUSY, EDEADLK, EEXIST, EINTR, ERESTARTSYS, ETIMEDOUT, ETXTBSY,
};
use kmodcheck_model::scenario::Expect;
use kmodcheck_model::state::{Fingerprint, Fp};
use kmodcheck_model::trace::{FinitRole, ModState, Names, Reaction, TaskId, Trace};
use kmodcheck_model::{Scenario, Variant};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

pub use kmodcheck_model::trace::{Check, End, Fact, Monitor};

/// A named property.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Property {
    /// Id used on the command line and in reports.
    pub id: &'static str,
    /// What must hold, in one line.
    pub statement: &'static str,
    /// Why a kernel developer cares, with references.
    pub rationale: &'static str,
    /// The state a scenario must reach for "holds" to be meaningful.
    pub witness: &'static str,
    #[serde(skip)]
    monitor: fn(&Scenario, &Variant) -> Box<dyn Monitor>,
    /// What only the trace shows, added to a violation's message.
    #[serde(skip)]
    detail: Option<fn(&Trace) -> String>,
}

impl Property {
    /// A fresh monitor of this property for one execution.
    pub fn monitor(&self, s: &Scenario, v: &Variant) -> Box<dyn Monitor> {
        (self.monitor)(s, v)
    }

    /// A violation's message, with what the trace of its counterexample adds.
    pub fn describe(&self, message: &str, trace: &Trace) -> String {
        match self.detail {
            Some(d) if !trace.events.is_empty() => format!("{message}{}", d(trace)),
            _ => message.to_string(),
        }
    }
}

fn deadlock_text(end: &End) -> String {
    match end {
        End::Deadlock { cycle: Some(c), .. } => format!("deadlock: {}", c.join("; ")),
        End::Deadlock { blocked, .. } if !blocked.is_empty() => {
            format!("every task asleep: {}", blocked.join("; "))
        }
        End::Deadlock { .. } => "every task asleep".into(),
        End::Completed => String::new(),
    }
}

fn completed(end: &End) -> bool {
    matches!(end, End::Completed)
}

/// Set a flag; whether the state changed.
fn flag(f: &mut bool) -> Reaction {
    if *f {
        Reaction::Same
    } else {
        *f = true;
        Reaction::Changed
    }
}

macro_rules! monitor_boilerplate {
    () => {
        fn clone_box(&self) -> Box<dyn Monitor> {
            Box::new(self.clone())
        }
    };
}

// ---------------------------------------------------------------------------

#[derive(Clone, Default)]
struct NoDeadlock {
    slept: bool,
}

impl Fingerprint for NoDeadlock {
    fn fingerprint(&self, fp: &mut Fp<'_>) {
        self.slept.fingerprint(fp);
    }
}

impl Monitor for NoDeadlock {
    fn on(&mut self, fact: &Fact<'_>, _: &Names<'_>) -> Reaction {
        match fact {
            Fact::Slept => flag(&mut self.slept),
            _ => Reaction::Same,
        }
    }
    fn finish(&self, end: &End, _: &Names<'_>) -> Check {
        if completed(end) {
            Check::Ok {
                witness: self.slept,
            }
        } else {
            Check::Violated(deadlock_text(end))
        }
    }
    monitor_boilerplate!();
}

#[derive(Clone, Default)]
struct TerminatesWhenKilled {
    slept: bool,
    sent: bool,
    delivered: bool,
}

impl Fingerprint for TerminatesWhenKilled {
    fn fingerprint(&self, fp: &mut Fp<'_>) {
        (self.slept, self.sent, self.delivered).fingerprint(fp);
    }
}

impl Monitor for TerminatesWhenKilled {
    fn on(&mut self, fact: &Fact<'_>, _: &Names<'_>) -> Reaction {
        match fact {
            Fact::Slept => flag(&mut self.slept),
            Fact::SignalSent { delivered } => {
                let before = (self.sent, self.delivered);
                self.sent = true;
                self.delivered |= delivered;
                if before == (self.sent, self.delivered) {
                    Reaction::Same
                } else {
                    Reaction::Changed
                }
            }
            _ => Reaction::Same,
        }
    }
    fn finish(&self, end: &End, _: &Names<'_>) -> Check {
        if completed(end) {
            Check::Ok {
                witness: self.delivered && self.slept,
            }
        } else {
            let sent = if self.sent {
                "the signal was sent"
            } else {
                "no signal was sent yet"
            };
            Check::Violated(format!("{}; {sent}", deadlock_text(end)))
        }
    }
    monitor_boilerplate!();
}

#[derive(Clone, Default)]
struct InitAtMostOnce {
    /// Loads of each module name that are COMING (running init) now.
    running: BTreeMap<String, u32>,
    /// The first time two were: how many, and of which module.
    twice: Option<(u32, String)>,
    met: bool,
}

impl Fingerprint for InitAtMostOnce {
    fn fingerprint(&self, fp: &mut Fp<'_>) {
        self.running.fingerprint(fp);
        self.twice.fingerprint(fp);
        self.met.fingerprint(fp);
    }
}

impl InitAtMostOnce {
    fn message(n: u32, name: &str) -> String {
        format!("{n} loads of {name} were COMING (running init) at the same time")
    }
}

impl Monitor for InitAtMostOnce {
    fn on(&mut self, fact: &Fact<'_>, _: &Names<'_>) -> Reaction {
        match *fact {
            Fact::Transition { name, old, new } => {
                let n = entry(&mut self.running, name);
                if new == ModState::Coming {
                    *n += 1;
                    if *n > 1 && self.twice.is_none() {
                        self.twice = Some((*n, name.to_string()));
                        return Reaction::Violated(Self::message(*n, name));
                    }
                    Reaction::Changed
                } else if old == Some(ModState::Coming) {
                    *n = n.saturating_sub(1);
                    Reaction::Changed
                } else {
                    Reaction::Same
                }
            }
            Fact::FinitAgainst { .. } => flag(&mut self.met),
            _ => Reaction::Same,
        }
    }
    fn finish(&self, _: &End, _: &Names<'_>) -> Check {
        match &self.twice {
            Some((n, name)) => Check::Violated(Self::message(*n, name)),
            None => Check::Ok { witness: self.met },
        }
    }
    monitor_boilerplate!();
}

/// One `finit_module` call, as `consistent-result` keeps it.
#[derive(Clone, Debug, Default)]
struct Call {
    /// The module the file holds.
    module: String,
    file: String,
    ret: Option<Ret>,
    role: Option<FinitRole>,
    signalled: bool,
    /// The task whose load it ran into.
    against: Option<TaskId>,
    /// That task's call it ran into: the latest of that module that had
    /// started when this one returned.
    collided: Option<(TaskId, usize)>,
}

impl Fingerprint for Call {
    fn fingerprint(&self, fp: &mut Fp<'_>) {
        self.module.fingerprint(fp);
        self.file.fingerprint(fp);
        self.ret.fingerprint(fp);
        self.role.fingerprint(fp);
        self.signalled.fingerprint(fp);
        self.against.fingerprint(fp);
        self.collided.fingerprint(fp);
    }
}

#[derive(Clone, Default)]
struct ConsistentResult {
    calls: BTreeMap<TaskId, Vec<Call>>,
    died: BTreeSet<TaskId>,
    /// Each task's `request_module()` ancestry (helpers only).
    ancestry: BTreeMap<TaskId, Vec<TaskId>>,
    /// Modules an unload took from LIVE to GOING (`delete_module()`; a
    /// failed init goes from COMING).
    unloaded: BTreeSet<String>,
}

impl Fingerprint for ConsistentResult {
    fn fingerprint(&self, fp: &mut Fp<'_>) {
        self.calls.fingerprint(fp);
        self.died.fingerprint(fp);
        self.ancestry.fingerprint(fp);
        self.unloaded.fingerprint(fp);
    }
}

impl Monitor for ConsistentResult {
    fn on(&mut self, fact: &Fact<'_>, _: &Names<'_>) -> Reaction {
        match *fact {
            Fact::Task { task, ancestry, .. } if !ancestry.is_empty() => {
                self.ancestry.insert(task, ancestry.to_vec());
                Reaction::Changed
            }
            Fact::FinitStart { task, file, module } => {
                self.calls.entry(task).or_default().push(Call {
                    module: module.to_string(),
                    file: file.to_string(),
                    ..Call::default()
                });
                Reaction::Changed
            }
            Fact::FinitAgainst { task, owner } => {
                match self
                    .calls
                    .get_mut(&task)
                    .and_then(|cs| cs.iter_mut().rev().find(|c| c.ret.is_none()))
                {
                    Some(c) if c.against.is_none() => {
                        c.against = Some(owner);
                        Reaction::Changed
                    }
                    _ => Reaction::Same,
                }
            }
            // A name-check waiter that found the other load gone and makes
            // its own attempt (before v6.2) is no longer its waiter: its
            // result is its own load's.
            Fact::LoadsAfterWaiting { task } => {
                match self
                    .calls
                    .get_mut(&task)
                    .and_then(|cs| cs.iter_mut().rev().find(|c| c.ret.is_none()))
                {
                    Some(c) if c.against.is_some() => {
                        c.against = None;
                        Reaction::Changed
                    }
                    _ => Reaction::Same,
                }
            }
            Fact::FinitEnd {
                task,
                ret,
                role,
                signalled,
                ..
            } => {
                let Some(i) = self
                    .calls
                    .get(&task)
                    .and_then(|cs| cs.iter().rposition(|c| c.ret.is_none()))
                else {
                    return Reaction::Same;
                };
                let (against, module) = {
                    let c = &self.calls[&task][i];
                    (c.against, c.module.clone())
                };
                let collided = against.and_then(|w| {
                    self.calls
                        .get(&w)
                        .and_then(|ws| ws.iter().rposition(|x| x.module == module))
                        .map(|j| (w, j))
                });
                let c = &mut self.calls.get_mut(&task).expect("present")[i];
                c.ret = Some(ret);
                c.role = Some(role);
                c.signalled = signalled;
                c.collided = collided;
                Reaction::Changed
            }
            Fact::Died { task } => {
                self.died.insert(task);
                Reaction::Changed
            }
            Fact::Transition {
                name,
                old: Some(ModState::Live),
                new: ModState::Going,
            } => {
                if !self.unloaded.contains(name) && self.unloaded.insert(name.to_string()) {
                    Reaction::Changed
                } else {
                    Reaction::Same
                }
            }
            _ => Reaction::Same,
        }
    }

    fn finish(&self, end: &End, names: &Names<'_>) -> Check {
        if !completed(end) {
            return Check::Unknown;
        }
        let mut witness = false;
        for (&task, cs) in &self.calls {
            for c in cs {
                let Some((w_task, j)) = c.collided else {
                    continue;
                };
                let Some(cr) = c.ret else { continue };
                let w = &self.calls[&w_task][j];
                let Some(wr) = w.ret else {
                    if !self.died.contains(&w_task) {
                        continue;
                    }
                    // The load died in init (an oops) and returns nothing.
                    // Only a forced unload can answer its waiters (-EBUSY:
                    // the heap proposal's idempotent_complete, or the name
                    // check once the module is GOING or gone), unless a
                    // signal interrupted them or a timed wait gave up on a
                    // load that will never end (-ETIMEDOUT: a failure, and
                    // a true one).
                    witness = true;
                    let interrupted = c.signalled && (cr == -EINTR || cr == -ERESTARTSYS);
                    if cr != -EBUSY && cr != -ETIMEDOUT && !interrupted {
                        return Check::Violated(format!(
                            "{} returned {} for {} while {}'s concurrent load of it had died in init (an oops) and returned nothing",
                            names.of(task),
                            ret_name(cr),
                            c.file,
                            names.of(w_task)
                        ));
                    }
                    continue;
                };
                witness = true;
                let role = c.role.unwrap_or(FinitRole::Other);
                // -EDEADLK says: had this task waited, it would have waited
                // for itself. That is so only if the load it ran into is its
                // ancestor's, which waits in request_module() for this
                // helper to exit; any other load completes without it.
                if role == FinitRole::Recursion
                    && cr == -EDEADLK
                    && !self
                        .ancestry
                        .get(&task)
                        .is_some_and(|a| a.contains(&w_task))
                {
                    return Check::Violated(format!(
                        "{} returned -EDEADLK for {}, but {}, whose load of it was in flight, did not start {} (it is not one of its request_module() ancestors): there was no recursion, and that load returned {}",
                        names.of(task),
                        c.file,
                        names.of(w_task),
                        names.of(task),
                        ret_name(wr)
                    ));
                }
                let ok = cr == wr
                    || match role {
                        FinitRole::NameCheck => {
                            (wr == 0 && cr == -EEXIST)
                                || (wr != 0 && cr == -EBUSY)
                                || (cr == -EBUSY && self.unloaded.contains(&c.module))
                                || (c.signalled && cr == -ERESTARTSYS)
                        }
                        FinitRole::IdemWaiter => c.signalled && cr == -EINTR,
                        FinitRole::Recursion => cr == -EDEADLK,
                        _ => false,
                    };
                if !ok {
                    return Check::Violated(format!(
                        "{} returned {} for {} while {}'s concurrent load of it returned {}",
                        names.of(task),
                        ret_name(cr),
                        c.file,
                        names.of(w_task),
                        ret_name(wr)
                    ));
                }
            }
        }
        Check::Ok { witness }
    }
    monitor_boilerplate!();
}

#[derive(Clone)]
struct SuccessMeansLive {
    /// Module name of each file.
    modules: BTreeMap<String, String>,
    violated: bool,
    met: bool,
}

impl Fingerprint for SuccessMeansLive {
    fn fingerprint(&self, fp: &mut Fp<'_>) {
        (self.violated, self.met).fingerprint(fp);
    }
}

impl Monitor for SuccessMeansLive {
    fn on(&mut self, fact: &Fact<'_>, names: &Names<'_>) -> Reaction {
        let Fact::FinitEnd {
            task,
            file,
            ret,
            state,
            ..
        } = *fact
        else {
            return Reaction::Same;
        };
        if ret != 0 && ret != -EEXIST {
            return Reaction::Same;
        }
        let before = (self.violated, self.met);
        self.met = true;
        if state != Some(ModState::Live) && !self.violated {
            self.violated = true;
            let name = self.modules.get(file).map_or("?", String::as_str);
            return Reaction::Violated(format!(
                "finit_module({file}) returned {} to {} while {name} was {}",
                ret_name(ret),
                names.of(task),
                state.map_or("not loaded", ModState::name)
            ));
        }
        if before == (self.violated, self.met) {
            Reaction::Same
        } else {
            Reaction::Changed
        }
    }
    fn finish(&self, _: &End, _: &Names<'_>) -> Check {
        if self.violated {
            Check::Violated("finit_module returned success while its module was not LIVE".into())
        } else {
            Check::Ok { witness: self.met }
        }
    }
    monitor_boilerplate!();
}

#[derive(Clone)]
struct DependentsLoad {
    inits_ok: bool,
    signal_sent: bool,
    died: bool,
    /// Actor modprobe runs that did not succeed: target and result.
    failed: BTreeMap<TaskId, (String, Option<Ret>)>,
}

impl Fingerprint for DependentsLoad {
    fn fingerprint(&self, fp: &mut Fp<'_>) {
        (self.inits_ok, self.signal_sent, self.died).fingerprint(fp);
        self.failed.fingerprint(fp);
    }
}

impl Monitor for DependentsLoad {
    fn on(&mut self, fact: &Fact<'_>, _: &Names<'_>) -> Reaction {
        match *fact {
            Fact::InitResult { ret } if ret != 0 && self.inits_ok => {
                self.inits_ok = false;
                Reaction::Changed
            }
            Fact::SignalSent { .. } => flag(&mut self.signal_sent),
            Fact::Died { .. } => flag(&mut self.died),
            Fact::ModprobeEnd {
                task,
                target,
                actor: true,
                ret,
            } if ret != Some(0) => {
                self.failed.insert(task, (target.to_string(), ret));
                Reaction::Changed
            }
            _ => Reaction::Same,
        }
    }
    fn finish(&self, end: &End, names: &Names<'_>) -> Check {
        if !completed(end) {
            return Check::Unknown;
        }
        if !self.inits_ok || self.signal_sent || self.died {
            return Check::Ok { witness: false };
        }
        if let Some((task, (target, ret))) = self.failed.iter().next() {
            return Check::Violated(format!(
                "every init succeeded, yet {} (modprobe {target}) failed with {}",
                names.of(*task),
                ret.map_or("no result".into(), ret_name)
            ));
        }
        Check::Ok { witness: true }
    }
    monitor_boilerplate!();
}

#[derive(Clone)]
struct EndsLive {
    /// The modules that must end LIVE, and their states now.
    states: Vec<(String, Option<ModState>)>,
}

impl Fingerprint for EndsLive {
    fn fingerprint(&self, fp: &mut Fp<'_>) {
        fp.tok(self.states.len() as u64);
        for (_, s) in &self.states {
            s.fingerprint(fp);
        }
    }
}

impl Monitor for EndsLive {
    fn on(&mut self, fact: &Fact<'_>, _: &Names<'_>) -> Reaction {
        let Fact::Module { name, state } = *fact else {
            return Reaction::Same;
        };
        let mut r = Reaction::Same;
        for (n, s) in &mut self.states {
            if n == name && *s != state {
                *s = state;
                r = Reaction::Changed;
            }
        }
        r
    }
    fn finish(&self, end: &End, _: &Names<'_>) -> Check {
        if !completed(end) {
            return Check::Unknown;
        }
        for (name, state) in &self.states {
            if *state != Some(ModState::Live) {
                return Check::Violated(format!(
                    "every task exited with {name} {}",
                    state.map_or("not loaded", ModState::name)
                ));
            }
        }
        Check::Ok { witness: true }
    }
    monitor_boilerplate!();
}

/// `one-attempt-per-burst`: no load that waited for another load of its
/// module goes on to load the module itself. Its state is two flags, no
/// task ids.
#[derive(Clone, Default)]
struct OneAttemptPerBurst {
    met: bool,
    violated: bool,
}

impl Fingerprint for OneAttemptPerBurst {
    fn fingerprint(&self, fp: &mut Fp<'_>) {
        (self.met, self.violated).fingerprint(fp);
    }
}

impl Monitor for OneAttemptPerBurst {
    fn on(&mut self, fact: &Fact<'_>, names: &Names<'_>) -> Reaction {
        match *fact {
            Fact::FinitAgainst { .. } if !self.met => {
                self.met = true;
                Reaction::Changed
            }
            Fact::LoadsAfterWaiting { task } if !self.violated => {
                self.violated = true;
                Reaction::Violated(format!(
                    "{} waited in the name check for another load of the module, found it gone, and loads it again itself: one more full attempt (read, relocate, init) after a failed one",
                    names.of(task)
                ))
            }
            _ => Reaction::Same,
        }
    }
    fn finish(&self, _: &End, _: &Names<'_>) -> Check {
        if self.violated {
            Check::Violated("a load that waited for another made its own attempt after it".into())
        } else {
            Check::Ok { witness: self.met }
        }
    }
    monitor_boilerplate!();
}

/// `one-image-per-file`: per file, how many images are read and not yet
/// freed, and how many finit_module calls are in progress. Counts, not
/// task sets: the state stays the same under a renaming of interchangeable
/// loaders, so symmetry reduction keeps working.
#[derive(Clone, Default)]
struct OneImagePerFile {
    images: BTreeMap<String, u32>,
    calls: BTreeMap<String, u32>,
    met: bool,
    violated: bool,
}

impl Fingerprint for OneImagePerFile {
    fn fingerprint(&self, fp: &mut Fp<'_>) {
        self.images.fingerprint(fp);
        self.calls.fingerprint(fp);
        (self.met, self.violated).fingerprint(fp);
    }
}

impl Monitor for OneImagePerFile {
    fn on(&mut self, fact: &Fact<'_>, names: &Names<'_>) -> Reaction {
        match *fact {
            Fact::FinitStart { file, .. } => {
                let c = entry(&mut self.calls, file);
                *c += 1;
                if *c > 1 {
                    self.met = true;
                }
                Reaction::Changed
            }
            Fact::FinitEnd { file, .. } => {
                if let Some(c) = self.calls.get_mut(file) {
                    *c = c.saturating_sub(1);
                }
                Reaction::Changed
            }
            Fact::ImageRead { task, file } => {
                let i = entry(&mut self.images, file);
                *i += 1;
                if *i > 1 && !self.violated {
                    self.violated = true;
                    return Reaction::Violated(format!(
                        "{} images of {file} in load_module at once: {} read the whole file into vmalloc'ed memory while another load of it still held its own, before the name check could refuse it",
                        i,
                        names.of(task)
                    ));
                }
                Reaction::Changed
            }
            Fact::ImageFreed { file, .. } => {
                if let Some(i) = self.images.get_mut(file) {
                    *i = i.saturating_sub(1);
                }
                Reaction::Changed
            }
            _ => Reaction::Same,
        }
    }
    fn finish(&self, _: &End, _: &Names<'_>) -> Check {
        if self.violated {
            Check::Violated("two images of one file in load_module at once".into())
        } else {
            Check::Ok { witness: self.met }
        }
    }
    monitor_boilerplate!();
}

/// `ends-settled`: the module list, and which modules a task that died in
/// init was loading.
#[derive(Clone, Default)]
struct EndsSettled {
    states: States,
    /// The module each task's open finit_module loads.
    loading: BTreeMap<TaskId, String>,
    /// Modules whose loader died in init.
    crashed: BTreeSet<String>,
}

impl Fingerprint for EndsSettled {
    fn fingerprint(&self, fp: &mut Fp<'_>) {
        self.states.fingerprint(fp);
        self.loading.fingerprint(fp);
        self.crashed.fingerprint(fp);
    }
}

impl Monitor for EndsSettled {
    fn on(&mut self, fact: &Fact<'_>, _: &Names<'_>) -> Reaction {
        if self.states.apply(fact) {
            return Reaction::Changed;
        }
        match *fact {
            Fact::FinitStart { task, module, .. } => {
                self.loading.insert(task, module.to_string());
                Reaction::Changed
            }
            Fact::FinitEnd { task, .. } => {
                self.loading.remove(&task);
                Reaction::Changed
            }
            Fact::Died { task } => match self.loading.remove(&task) {
                Some(m) => {
                    self.crashed.insert(m);
                    Reaction::Changed
                }
                None => Reaction::Same,
            },
            _ => Reaction::Same,
        }
    }
    fn finish(&self, end: &End, _: &Names<'_>) -> Check {
        if !completed(end) {
            return Check::Unknown;
        }
        for (name, state) in &self.states.0 {
            if *state != ModState::Live && !self.crashed.contains(name) {
                return Check::Violated(format!(
                    "every task exited with {name} {} on the module list, and no task died loading it",
                    state.name()
                ));
            }
        }
        Check::Ok { witness: true }
    }
    monitor_boilerplate!();
}

/// A property that a fact breaks on the spot, with a witness fact: memory
/// safety of the in-flight table and of `struct module`, the helper bound.
#[derive(Clone)]
struct Sticky {
    kind: StickyKind,
    violated: bool,
    met: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum StickyKind {
    IdemMemory,
    ModuleMemory,
    Helpers { bound: usize },
}

impl Fingerprint for Sticky {
    fn fingerprint(&self, fp: &mut Fp<'_>) {
        (self.violated, self.met).fingerprint(fp);
    }
}

impl Sticky {
    fn message(&self) -> String {
        match self.kind {
            StickyKind::IdemMemory => {
                "an in-flight entry was touched after its frame was gone".into()
            }
            StickyKind::ModuleMemory => "a freed struct module was read".into(),
            StickyKind::Helpers { bound } => {
                let bound = if bound == usize::MAX {
                    "no bound".to_string()
                } else {
                    bound.to_string()
                };
                format!("runaway loop: a helper past the bound of {bound} was about to start")
            }
        }
    }
}

impl Monitor for Sticky {
    fn on(&mut self, fact: &Fact<'_>, _: &Names<'_>) -> Reaction {
        let (violation, witness) = match (self.kind, fact) {
            (StickyKind::IdemMemory, Fact::IdemUnsafe { what }) => (Some(what.to_string()), false),
            (StickyKind::IdemMemory, Fact::IdemOutlived) => (None, true),
            (
                StickyKind::IdemMemory,
                Fact::FinitEnd {
                    role: FinitRole::IdemWaiter,
                    signalled: true,
                    ..
                },
            ) => (None, true),
            // A waiter that left before the completion without a signal:
            // it gave up (a timed wait), or saw its own recursion.
            (
                StickyKind::IdemMemory,
                Fact::FinitEnd {
                    role: FinitRole::Recursion,
                    ..
                },
            ) => (None, true),
            (
                StickyKind::IdemMemory,
                Fact::FinitEnd {
                    role: FinitRole::IdemWaiter,
                    ret,
                    ..
                },
            ) if *ret == -ETIMEDOUT => (None, true),
            (StickyKind::ModuleMemory, Fact::ModuleUnsafe { what }) => {
                (Some(what.to_string()), false)
            }
            (StickyKind::ModuleMemory, Fact::ModuleGoneAfterWait) => (None, true),
            (StickyKind::Helpers { .. }, Fact::HelperStart) => (None, true),
            (StickyKind::Helpers { .. }, Fact::Runaway) => (Some(self.message()), true),
            _ => (None, false),
        };
        let before = (self.violated, self.met);
        self.met |= witness;
        if let Some(msg) = violation {
            if !self.violated {
                self.violated = true;
                return Reaction::Violated(msg);
            }
        }
        if before == (self.violated, self.met) {
            Reaction::Same
        } else {
            Reaction::Changed
        }
    }
    fn finish(&self, _: &End, _: &Names<'_>) -> Check {
        if self.violated {
            Check::Violated(self.message())
        } else {
            Check::Ok { witness: self.met }
        }
    }
    monitor_boilerplate!();
}

#[derive(Clone)]
struct BudgetRespected {
    limit: i64,
    in_use: i64,
    /// The most taken at once, counted up to one past the limit.
    max: i64,
    /// The fewest, counted down to -1.
    min: i64,
    full: bool,
}

impl Fingerprint for BudgetRespected {
    fn fingerprint(&self, fp: &mut Fp<'_>) {
        (self.in_use, self.max, self.min).fingerprint(fp);
        self.full.fingerprint(fp);
    }
}

impl Monitor for BudgetRespected {
    fn on(&mut self, fact: &Fact<'_>, _: &Names<'_>) -> Reaction {
        let before = (self.in_use, self.max, self.min, self.full);
        match *fact {
            Fact::KmodTake { in_use, limit } => {
                self.in_use = in_use;
                self.full |= in_use >= limit;
                if in_use > self.max {
                    self.max = in_use.min(self.limit + 1);
                    if in_use > self.limit {
                        return Reaction::Violated(format!(
                            "{in_use} kmod slots were taken at once; max_modprobes is {}",
                            self.limit
                        ));
                    }
                }
            }
            Fact::KmodPut { in_use } => {
                self.in_use = in_use;
                if in_use < self.min {
                    self.min = in_use.max(-1);
                    if in_use < 0 {
                        return Reaction::Violated(format!(
                            "a slot was given back that was never taken: the budget now allows {} requests at once, not {}",
                            self.limit - in_use,
                            self.limit
                        ));
                    }
                }
            }
            Fact::KmodLeak { in_use } => self.in_use = in_use,
            _ => return Reaction::Same,
        }
        if before == (self.in_use, self.max, self.min, self.full) {
            Reaction::Same
        } else {
            Reaction::Changed
        }
    }
    fn finish(&self, end: &End, _: &Names<'_>) -> Check {
        if self.max > self.limit {
            return Check::Violated(format!(
                "more than {} kmod slots were taken at once",
                self.limit
            ));
        }
        if self.min < 0 {
            return Check::Violated("a slot was given back that was never taken".into());
        }
        if !completed(end) {
            return Check::Unknown;
        }
        if self.in_use != 0 {
            return Check::Violated(format!(
                "every task exited with {} kmod slots still taken",
                self.in_use
            ));
        }
        Check::Ok { witness: self.full }
    }
    monitor_boilerplate!();
}

/// Module states as the facts report them, for the properties that check
/// the module list themselves.
#[derive(Clone, Default)]
struct States(BTreeMap<String, ModState>);

impl States {
    /// Apply a `Module` fact; whether it changed anything.
    fn apply(&mut self, fact: &Fact<'_>) -> bool {
        let Fact::Module { name, state } = *fact else {
            return false;
        };
        match state {
            Some(s) => match self.0.get_mut(name) {
                Some(v) => std::mem::replace(v, s) != s,
                None => {
                    self.0.insert(name.to_string(), s);
                    true
                }
            },
            None => self.0.remove(name).is_some(),
        }
    }
}

impl Fingerprint for States {
    fn fingerprint(&self, fp: &mut Fp<'_>) {
        self.0.fingerprint(fp);
    }
}

#[derive(Clone, Default)]
struct ComingBeforeInit {
    states: States,
    violated: bool,
    met: bool,
}

impl Fingerprint for ComingBeforeInit {
    fn fingerprint(&self, fp: &mut Fp<'_>) {
        self.states.fingerprint(fp);
        (self.violated, self.met).fingerprint(fp);
    }
}

impl Monitor for ComingBeforeInit {
    fn on(&mut self, fact: &Fact<'_>, names: &Names<'_>) -> Reaction {
        if self.states.apply(fact) {
            return Reaction::Changed;
        }
        let Fact::InitRuns { task, module } = *fact else {
            return Reaction::Same;
        };
        let first = !self.met;
        self.met = true;
        let state = self.states.0.get(module).copied();
        if state != Some(ModState::Coming) && !self.violated {
            self.violated = true;
            return Reaction::Violated(format!(
                "{}'s init runs while {module} is {}, not COMING: complete_formation() did not run",
                names.of(task),
                state.map_or("not on the list", ModState::name)
            ));
        }
        if first {
            Reaction::Changed
        } else {
            Reaction::Same
        }
    }
    fn finish(&self, _: &End, _: &Names<'_>) -> Check {
        if self.violated {
            Check::Violated("a module's init ran while it was not COMING".into())
        } else {
            Check::Ok { witness: self.met }
        }
    }
    monitor_boilerplate!();
}

#[derive(Clone)]
struct LiveDeps {
    /// Each module name's imports (modules.dep of every file with that name).
    deps: BTreeMap<String, Vec<String>>,
    states: States,
    violated: bool,
    met: bool,
}

impl Fingerprint for LiveDeps {
    fn fingerprint(&self, fp: &mut Fp<'_>) {
        self.states.fingerprint(fp);
        (self.violated, self.met).fingerprint(fp);
    }
}

impl Monitor for LiveDeps {
    fn on(&mut self, fact: &Fact<'_>, _: &Names<'_>) -> Reaction {
        if let Fact::ResolvedAgainstComing = fact {
            return flag(&mut self.met);
        }
        if let Fact::DeleteModuleReturn { module, .. } = *fact {
            // An unload of a provider while an importer of it is on the list.
            let importer_there = self.states.0.keys().any(|m| {
                self.deps
                    .get(m)
                    .is_some_and(|ds| ds.iter().any(|d| d == module))
            });
            if importer_there {
                return flag(&mut self.met);
            }
            return Reaction::Same;
        }
        if !self.states.apply(fact) {
            return Reaction::Same;
        }
        if !self.violated {
            for (m, s) in &self.states.0 {
                if *s != ModState::Live {
                    continue;
                }
                for d in self.deps.get(m).into_iter().flatten() {
                    let ds = self.states.0.get(d).copied();
                    if ds != Some(ModState::Live) {
                        self.violated = true;
                        return Reaction::Violated(format!(
                            "{m} is LIVE while {d}, which it imports from, is {}",
                            ds.map_or("not loaded", ModState::name)
                        ));
                    }
                }
            }
        }
        Reaction::Changed
    }
    fn finish(&self, _: &End, _: &Names<'_>) -> Check {
        if self.violated {
            Check::Violated("a LIVE module imported from one that was not LIVE".into())
        } else {
            Check::Ok { witness: self.met }
        }
    }
    monitor_boilerplate!();
}

/// `etxtbsy-only-while-loading`: the calls of `finit_module` that have not
/// returned, per file (a task that died in init never returns from its
/// call, so its load stays open, as its deny does).
#[derive(Clone, Default)]
struct EtxtbsyOnlyWhileLoading {
    open: BTreeMap<String, BTreeSet<TaskId>>,
    met: bool,
    violated: bool,
}

impl Fingerprint for EtxtbsyOnlyWhileLoading {
    fn fingerprint(&self, fp: &mut Fp<'_>) {
        self.open.fingerprint(fp);
        (self.met, self.violated).fingerprint(fp);
    }
}

impl Monitor for EtxtbsyOnlyWhileLoading {
    fn on(&mut self, fact: &Fact<'_>, names: &Names<'_>) -> Reaction {
        match *fact {
            Fact::FinitStart { task, file, .. } => {
                entry(&mut self.open, file).insert(task);
                Reaction::Changed
            }
            Fact::FinitEnd {
                task, file, ret, ..
            } => {
                let open = entry(&mut self.open, file);
                open.remove(&task);
                if ret == -ETXTBSY {
                    self.met = true;
                    if open.is_empty() && !self.violated {
                        self.violated = true;
                        return Reaction::Violated(format!(
                            "finit_module({file}) returned -ETXTBSY to {} while no other load of {file} was in progress: the file stayed denied after its last load",
                            names.of(task)
                        ));
                    }
                }
                Reaction::Changed
            }
            _ => Reaction::Same,
        }
    }
    fn finish(&self, _: &End, _: &Names<'_>) -> Check {
        if self.violated {
            Check::Violated("-ETXTBSY with no load of the file in progress".into())
        } else {
            Check::Ok { witness: self.met }
        }
    }
    monitor_boilerplate!();
}

/// Not a property: the end state of an execution (module states, and which
/// modprobe actors succeeded), for observers that compare end states
/// (`kmodcheck fuzz`, and the test that pruning loses no outcome).
#[derive(Clone, Default)]
struct EndState {
    states: States,
    /// Each modprobe actor's target and result.
    actors: BTreeMap<TaskId, (String, Option<Ret>)>,
}

impl Fingerprint for EndState {
    fn fingerprint(&self, fp: &mut Fp<'_>) {
        self.states.fingerprint(fp);
        self.actors.fingerprint(fp);
    }
}

impl Monitor for EndState {
    fn on(&mut self, fact: &Fact<'_>, _: &Names<'_>) -> Reaction {
        if self.states.apply(fact) {
            return Reaction::Changed;
        }
        match *fact {
            Fact::ModprobeEnd {
                task,
                target,
                actor: true,
                ret,
            } => {
                self.actors.insert(task, (target.to_string(), ret));
                Reaction::Changed
            }
            _ => Reaction::Same,
        }
    }
    fn finish(&self, _: &End, _: &Names<'_>) -> Check {
        Check::Ok { witness: false }
    }
    fn summary(&self) -> Option<String> {
        let mut text = String::new();
        for (m, s) in &self.states.0 {
            text.push_str(&format!("{m}={} ", s.name()));
        }
        let ok: Vec<String> = self
            .actors
            .iter()
            .map(|(t, (target, r))| {
                format!("T{}({target}):{}", t.0, r.map_or("killed".into(), ret_name))
            })
            .collect();
        text.push_str(&format!("| modprobe {}", ok.join(" ")));
        Some(text)
    }
    monitor_boilerplate!();
}

/// The value of `key` in `map`, inserted as the default if absent: a
/// monitor's `entry`, without allocating the key when it is there already
/// (every fact but a module's first).
fn entry<'m, V: Default>(map: &'m mut BTreeMap<String, V>, key: &str) -> &'m mut V {
    if !map.contains_key(key) {
        map.insert(key.to_string(), V::default());
    }
    map.get_mut(key).expect("just inserted")
}

/// `expected-results`: the results a scenario states ([`Expect`]), each
/// checked as the kernel hands it back.
#[derive(Clone)]
struct ExpectedResults {
    expect: Vec<Expect>,
    /// Per expectation: the result it is about happened at least once.
    seen: Vec<bool>,
    violated: bool,
}

impl Fingerprint for ExpectedResults {
    fn fingerprint(&self, fp: &mut Fp<'_>) {
        (self.violated, &self.seen).fingerprint(fp);
    }
}

/// `0`, `-ENODEV`, `status 256`, or `killed` (a run that was killed or died).
fn result_name(r: Option<Ret>) -> String {
    r.map_or_else(|| "killed".to_string(), ret_name)
}

fn one_of_results(rs: &[Option<Ret>]) -> String {
    let names: Vec<String> = rs.iter().map(|r| result_name(*r)).collect();
    match names.as_slice() {
        [one] => one.clone(),
        _ => format!("one of {}", names.join(", ")),
    }
}

impl Monitor for ExpectedResults {
    fn on(&mut self, fact: &Fact<'_>, names: &Names<'_>) -> Reaction {
        // Whether an expectation's result happened for the first time.
        let mut changed = false;
        let mut message = None;
        for (i, e) in self.expect.iter().enumerate() {
            match (e, fact) {
                (
                    Expect::Exit { actor, results },
                    Fact::ModprobeEnd {
                        task,
                        actor: true,
                        ret,
                        target,
                    },
                ) if *task == TaskId(1 + actor) => {
                    changed |= !std::mem::replace(&mut self.seen[i], true);
                    if !results.contains(ret) {
                        message.get_or_insert_with(|| {
                            format!(
                                "modprobe actor {actor} ({} modprobe {target}) ended with {}; the scenario expects {}",
                                names.of(*task),
                                result_name(*ret),
                                one_of_results(results)
                            )
                        });
                    }
                }
                (
                    Expect::Request { alias, results, .. },
                    Fact::RequestReturn {
                        task,
                        alias: a,
                        ret,
                    },
                ) if alias == a => {
                    changed |= !std::mem::replace(&mut self.seen[i], true);
                    if !results.contains(ret) {
                        message.get_or_insert_with(|| {
                            format!(
                                "request_module({alias}) returned {} to {}; the scenario expects {}",
                                ret_name(*ret),
                                names.of(*task),
                                one_of_results(&results.iter().map(|r| Some(*r)).collect::<Vec<_>>())
                            )
                        });
                    }
                }
                (Expect::Insmod { file, results }, Fact::InsmodEnd { task, file: f, ret })
                    if file == f =>
                {
                    changed |= !std::mem::replace(&mut self.seen[i], true);
                    if !results.contains(ret) {
                        message.get_or_insert_with(|| {
                            format!(
                                "finit_module({file}) returned {} to {} (insmod {file}); the scenario expects {}",
                                result_name(*ret),
                                names.of(*task),
                                one_of_results(results)
                            )
                        });
                    }
                }
                (
                    Expect::Rmmod { module, results },
                    Fact::DeleteModuleReturn {
                        task,
                        module: m,
                        ret,
                    },
                ) if module == m => {
                    changed |= !std::mem::replace(&mut self.seen[i], true);
                    if !results.contains(ret) {
                        message.get_or_insert_with(|| {
                            format!(
                                "delete_module({module}) returned {} to {}; the scenario expects {}",
                                ret_name(*ret),
                                names.of(*task),
                                one_of_results(&results.iter().map(|r| Some(*r)).collect::<Vec<_>>())
                            )
                        });
                    }
                }
                (Expect::NeverLive(m), Fact::FinitStart { module, .. }) if m == module => {
                    changed |= !std::mem::replace(&mut self.seen[i], true);
                }
                (Expect::NeverLive(m), Fact::Module { name, state }) if m == name => {
                    changed |= !std::mem::replace(&mut self.seen[i], true);
                    if *state == Some(ModState::Live) {
                        message.get_or_insert_with(|| {
                            format!("{m} went LIVE; the scenario expects it never to")
                        });
                    }
                }
                _ => {}
            }
        }
        if let Some(m) = message {
            if !self.violated {
                self.violated = true;
                return Reaction::Violated(m);
            }
        }
        if changed {
            Reaction::Changed
        } else {
            Reaction::Same
        }
    }
    fn finish(&self, _: &End, _: &Names<'_>) -> Check {
        if self.violated {
            Check::Violated("a result came back otherwise than the scenario states".into())
        } else {
            // No expectation applies under this budget: nothing was
            // checked, which is vacuous, not a proof.
            Check::Ok {
                witness: !self.seen.is_empty() && self.seen.iter().all(|s| *s),
            }
        }
    }
    monitor_boilerplate!();
}

/// The end-state observer (see `EndState`): module states and which
/// modprobe actors succeeded, as one line.
pub fn end_state_monitor() -> Box<dyn Monitor> {
    Box::new(EndState::default())
}

/// bounded-helpers' detail: the repeating part of the loop, from the first
/// helper's start to the second's.
fn repeating_part(t: &Trace) -> String {
    let starts: Vec<usize> = t
        .events
        .iter()
        .enumerate()
        .filter(|(_, e)| {
            e.func == "call_usermodehelper_exec"
                && (e.what.starts_with("starts ") || e.what.starts_with("would start"))
        })
        .map(|(i, _)| i)
        .collect();
    let part = match starts.as_slice() {
        [a, b, ..] => t.events[*a..*b]
            .iter()
            .map(|e| format!("{} {}: {}", t.task_name(e.task), e.func, e.what))
            .collect::<Vec<_>>()
            .join(" / "),
        _ => String::new(),
    };
    format!("; repeating part: {part}")
}

fn expected_results(s: &Scenario, v: &Variant) -> Box<dyn Monitor> {
    // The expectations that apply under this variant's kmod budget. A
    // scenario without time states what comes back when no timed wait
    // expires; under a variant that makes time pass in it (idem-timeout),
    // every timed wait may expire (resolve_symbol_wait's 30 s, the kmod
    // budget's 5 s), so none of them applies, and the property is vacuous
    // there rather than violated by a timeout the scenario never stated.
    let time_added = !s.timer && v.needs_time();
    let expect: Vec<Expect> = s
        .expect
        .iter()
        .filter(|_| !time_added)
        .filter(|e| match e {
            Expect::Request {
                budget: Some(b), ..
            } => *b == v.kmod(),
            _ => true,
        })
        .cloned()
        .collect();
    Box::new(ExpectedResults {
        seen: vec![false; expect.len()],
        expect,
        violated: false,
    })
}
fn no_deadlock(_: &Scenario, _: &Variant) -> Box<dyn Monitor> {
    Box::new(NoDeadlock::default())
}
fn terminates_when_killed(_: &Scenario, _: &Variant) -> Box<dyn Monitor> {
    Box::new(TerminatesWhenKilled::default())
}
fn init_at_most_once(_: &Scenario, _: &Variant) -> Box<dyn Monitor> {
    Box::new(InitAtMostOnce::default())
}
fn consistent_result(_: &Scenario, _: &Variant) -> Box<dyn Monitor> {
    Box::new(ConsistentResult::default())
}
fn success_means_live(s: &Scenario, _: &Variant) -> Box<dyn Monitor> {
    Box::new(SuccessMeansLive {
        modules: s
            .modules
            .iter()
            .map(|m| (m.file.clone(), m.name.clone()))
            .collect(),
        violated: false,
        met: false,
    })
}
fn dependents_load(_: &Scenario, _: &Variant) -> Box<dyn Monitor> {
    Box::new(DependentsLoad {
        inits_ok: true,
        signal_sent: false,
        died: false,
        failed: BTreeMap::new(),
    })
}
fn one_image_per_file(_: &Scenario, _: &Variant) -> Box<dyn Monitor> {
    Box::new(OneImagePerFile::default())
}
fn one_attempt_per_burst(_: &Scenario, _: &Variant) -> Box<dyn Monitor> {
    Box::new(OneAttemptPerBurst::default())
}
fn ends_settled(_: &Scenario, _: &Variant) -> Box<dyn Monitor> {
    Box::new(EndsSettled::default())
}
fn ends_live(s: &Scenario, _: &Variant) -> Box<dyn Monitor> {
    Box::new(EndsLive {
        states: s.expect_live.iter().map(|n| (n.clone(), None)).collect(),
    })
}
fn sticky(kind: StickyKind) -> Box<dyn Monitor> {
    Box::new(Sticky {
        kind,
        violated: false,
        met: false,
    })
}
fn idem_memory_safety(_: &Scenario, _: &Variant) -> Box<dyn Monitor> {
    sticky(StickyKind::IdemMemory)
}
fn module_memory_safety(_: &Scenario, _: &Variant) -> Box<dyn Monitor> {
    sticky(StickyKind::ModuleMemory)
}
fn bounded_helpers(s: &Scenario, _: &Variant) -> Box<dyn Monitor> {
    sticky(StickyKind::Helpers {
        bound: s.helper_bound.unwrap_or(usize::MAX),
    })
}
fn budget_respected(s: &Scenario, _: &Variant) -> Box<dyn Monitor> {
    Box::new(BudgetRespected {
        limit: i64::from(s.kmod_limit),
        in_use: 0,
        max: 0,
        min: 0,
        full: false,
    })
}
fn coming_before_init(_: &Scenario, _: &Variant) -> Box<dyn Monitor> {
    Box::new(ComingBeforeInit::default())
}
fn etxtbsy_only_while_loading(_: &Scenario, _: &Variant) -> Box<dyn Monitor> {
    Box::new(EtxtbsyOnlyWhileLoading::default())
}
fn live_deps(s: &Scenario, _: &Variant) -> Box<dyn Monitor> {
    let mut deps: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for m in &s.modules {
        deps.entry(m.name.clone())
            .or_default()
            .extend(m.deps.iter().cloned());
    }
    Box::new(LiveDeps {
        deps,
        states: States::default(),
        violated: false,
        met: false,
    })
}

/// Every property, in report order.
pub fn catalogue() -> &'static [Property] {
    const ALL: &[Property] = &[
        Property {
            id: "no-deadlock",
            statement: "no reachable state in which every task is asleep",
            rationale: "a module load that never returns hangs modprobe, udev and boot; 9b9879fc0327 made the aes-arm-bs self-load hang (cb5b81bc9a44)",
            witness: "some task slept in a kernel wait",
            monitor: no_deadlock,
            detail: None,
        },
        Property {
            id: "terminates-when-killed",
            statement: "with the scenario's signal sent, every execution ends",
            rationale: "a hang a signal can break is recoverable; one no signal breaks is not (docs/kernel.md §4.1; 2124d84db293)",
            witness: "the signal reached a live task, and some task slept",
            monitor: terminates_when_killed,
            detail: None,
        },
        Property {
            id: "init-at-most-once",
            statement: "a module's init never runs twice at the same time",
            rationale: "init code assumes it runs once; the name check and the in-flight table both exist to ensure it (9b9879fc0327)",
            witness: "a finit_module ran into another task's load of the same module",
            monitor: init_at_most_once,
            detail: None,
        },
        Property {
            id: "consistent-result",
            statement: "a finit_module that overlaps another's load of the same file returns that load's result (or -EEXIST/-EBUSY from the name check, -EINTR if signalled, -EDEADLK if that load is its request_module() ancestor's; -EBUSY (or -ETIMEDOUT from a timed wait) if that load died in init, or -EBUSY from the name check once an rmmod took the module)",
            rationale: "a waiter that reports failure while the module loads, or success while it fails, misleads modprobe and its dependents (ac2263b588df)",
            witness: "a finit_module ran into another task's load of the same module",
            monitor: consistent_result,
            detail: None,
        },
        Property {
            id: "success-means-live",
            statement: "when finit_module returns 0 or -EEXIST, the module is LIVE at that moment",
            rationale: "modprobe then loads dependents, whose symbol resolution needs a LIVE provider (resolve_symbol_wait)",
            witness: "some finit_module returned 0 or -EEXIST",
            monitor: success_means_live,
            detail: None,
        },
        Property {
            id: "dependents-load",
            statement: "if every module init succeeds and no signal is sent, every modprobe run succeeds",
            rationale: "the race that got 9828ed3f695a reverted: a modprobe that fails on a shared dependency never loads its own module (ac2263b588df)",
            witness: "an execution in which every init succeeded and no signal was sent",
            monitor: dependents_load,
            detail: None,
        },
        Property {
            id: "ends-live",
            statement: "when every task has exited, the scenario's modules are LIVE",
            rationale: "the load a user asked for happened (docs/kernel.md §4.1: \"X goes LIVE\")",
            witness: "an execution in which every task exited",
            monitor: ends_live,
            detail: None,
        },
        Property {
            id: "idem-memory-safety",
            statement: "no walk, completion, store or unlink touches an in-flight entry whose owner's frame is gone (returned, or died in init), and no entry is unlinked twice",
            rationale: "struct idempotent lives on its owner's stack; 2124d84db293 made waiters interruptible, so a waiter can leave while the completer still walks the chain (hlist_del_init, the -EINTR default, the unlink under idem_lock); a winner that dies in init leaves its entry in idem_hash on a dead stack (docs/kernel.md §4.8; the 2025 heap proposal)",
            witness: "an in-flight waiter left before its completion (signalled, timed out, or seeing its own recursion), or a winner died in init with its entry linked",
            monitor: idem_memory_safety,
            detail: None,
        },
        Property {
            id: "budget-respected",
            statement: "kmod slots taken never exceed max_modprobes, none is given back that was not taken, and all are back when every task has exited",
            rationale: "the budget is what stops a request loop (the 2008 \"runaway loop\"; 6d7964a722af, 25a1b5b518f4); one that leaks or inflates stops nothing",
            witness: "every kmod slot was taken at some moment",
            monitor: budget_respected,
            detail: None,
        },
        Property {
            id: "bounded-helpers",
            statement: "an execution starts no more modprobe helpers than the scenario's bound",
            rationale: "more helpers than any bound is the runaway loop (docs/kernel.md §4.6): each helper's request starts another",
            witness: "a modprobe helper was started",
            monitor: bounded_helpers,
            detail: Some(repeating_part),
        },
        Property {
            id: "expected-results",
            statement: "every result the scenario states comes back as stated: a modprobe actor's exit, what request_module() returns to its caller, what delete_module() returns to rmmod, what finit_module() returns to insmod, a module that must never be LIVE",
            rationale: "the kernel's answers are what userspace acts on, and history claims are about them (\"-ENOMEM at the 2008 budget\", \"-ETIME under the semaphore\"); the other properties only see them indirectly",
            witness: "each stated result was handed back at least once, and each never-LIVE module was loaded",
            monitor: expected_results,
            detail: None,
        },
        Property {
            id: "module-memory-safety",
            statement: "no task reads a struct module after free_module() freed it",
            rationale: "module_patient_check_exists() sleeps without module_mutex; the module it saw may fail and be freed meanwhile, hence its re-lookup (\"The module might have gone in the meantime.\", kernel/module/main.c, v6.4+)",
            witness: "a name-check waiter woke to find the module it waited on gone",
            monitor: module_memory_safety,
            detail: None,
        },
        Property {
            id: "coming-before-init",
            statement: "a module's init runs only once the module is COMING (complete_formation has run)",
            rationale: "complete_formation() makes the module's text read-only and the MODULE_STATE_COMING notifiers (ftrace, livepatch, jump labels) run before init, and other loaders treat COMING as \"init running\" (include/linux/module.h, kernel/module/main.c)",
            witness: "a module's init ran",
            monitor: coming_before_init,
            detail: None,
        },
        Property {
            id: "live-deps",
            statement: "a LIVE module never imports from a module that is not LIVE",
            rationale: "resolve_symbol() takes a reference only on a LIVE provider (strong_try_module_get: -EBUSY while COMING), and resolve_symbol_wait() waits for it; delete_module() refuses a provider an importer holds (-EWOULDBLOCK); an importer LIVE before its provider, or after it left, calls into code whose init has not finished, or that is gone",
            witness: "resolve_symbol() found its provider COMING, or an rmmod of a provider ran while an importer of it was on the module list",
            monitor: live_deps,
            detail: None,
        },
        Property {
            id: "one-image-per-file",
            statement: "at most one image of a module file is in load_module at a time",
            rationale: "the cost the in-flight table was made for: udev loads a module once per CPU, and each finit_module read the whole file into vmalloc'ed memory before the name check refused the duplicate, about 1.8 GiB of vmalloc space at boot on a large machine (9b9879fc0327, 064f4536d139); a proposal that gives the table up gives that back",
            witness: "two finit_module calls of one file overlapped",
            monitor: one_image_per_file,
            detail: None,
        },
        Property {
            id: "one-attempt-per-burst",
            statement: "a load that waited in the name check for another load of the same module never makes an attempt of its own after it",
            rationale: "the cost 0254127ab977 (v6.2) removed: from 6e6de3dee51a (v5.3) the name check waited for a failing load to go away and then loaded the module again (goto again), so a burst of requests for a module whose init fails, one per CPU from udev, ran init once per request, one after another: boot delays and timeouts on a 288-CPU machine with acpi_cpufreq (Petr Pavlu, LKML, 2022); 1fb9341ac348 (v3.8) to v5.2 retried after a COMING load failed too",
            witness: "a finit_module ran into another task's load of the same module",
            monitor: one_attempt_per_burst,
            detail: None,
        },
        Property {
            id: "ends-settled",
            statement: "when every task has exited, every module on the list is LIVE, unless a task died in its init",
            rationale: "a module left UNFORMED, COMING or GOING with nobody to finish it holds its name: every later load of it waits in the name check or fails with -EBUSY until reboot (load_module's error paths unlink it: unlink_mod, free_module)",
            witness: "an execution in which every task exited",
            monitor: ends_settled,
            detail: None,
        },
        Property {
            id: "etxtbsy-only-while-loading",
            statement: "finit_module returns -ETXTBSY only while another finit_module of the same file has not returned",
            rationale: "9828ed3f695a denies writes to the file for a whole load (exclusive_deny_write_access) and gives it back after (allow_write_access); a deny not given back fails every later load of the file with -ETXTBSY, until reboot",
            witness: "some finit_module returned -ETXTBSY",
            monitor: etxtbsy_only_while_loading,
            detail: None,
        },
    ];
    ALL
}

/// Look a property up by id.
pub fn by_id(id: &str) -> Option<&'static Property> {
    catalogue().iter().find(|p| p.id == id)
}
