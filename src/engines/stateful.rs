//! The stateful engine: kmodcheck's own shuttle scheduler, which searches
//! scheduling decisions depth-first and stops a schedule at a state it has
//! seen (explicit-state model checking, as SPIN and TLC do, over the model
//! code as it is).
//!
//! # How it works
//!
//! - **Decisions.** Shuttle asks the scheduler which task runs next at every
//!   engine operation. A task that releases a lock, wakes waiters under a
//!   lock, starts a task or exits goes on at once: those steps commute with
//!   anything another task could do then ([`Op::goes_on`]; loom does not
//!   branch there either). A task waiting for a lock someone holds is not
//!   offered. Every other point is a *decision* among the tasks that can run.
//! - **States.** At each decision the facade's state ([`kmodcheck_model::state`])
//!   is fingerprinted: every object's contents, every task's history, the
//!   properties' monitors. A state seen before ends the schedule: everything
//!   after it has been explored (the state graph has no cycles: histories
//!   only grow). The execution is then run to its end without decisions
//!   (shuttle cannot resume a schedule from a saved state; an execution
//!   abandoned mid-way would leave its tasks' stacks undropped).
//! - **Symmetry.** Interchangeable actors ([`kmodcheck_model::world::symmetry`])
//!   are renamed to a canonical order before hashing, so N identical loaders
//!   count once per orbit.
//! - **Search.** Shuttle re-runs the model from the start for each schedule:
//!   the scheduler replays the decisions of the path to the deepest decision
//!   with a choice left, takes that choice, and goes on depth-first. It
//!   records every edge of the state graph it takes.
//! - **Replays hash nothing.** Each decision on the path with a choice left
//!   keeps its state's histories and contents ([`state::Snapshot`]) and a
//!   copy of the monitors. A replay runs with hashing off, keeping only the
//!   structure (which tasks and objects exist, who holds or waits for what),
//!   and feeds the monitors no facts; it restores the snapshot and the
//!   monitors at the decision it branches at ([`Replays::Restore`]). The
//!   model's determinism makes that exact: the replay reaches the decision
//!   with the same tasks and objects, which `state::restore` checks slot by
//!   slot. `Replays::Verify` hashes the prefix as the first run did and
//!   checks the snapshot against it (`tests/engines.rs`).
//! - **Counterexamples.** A violation is reported on the edge whose step
//!   broke the property (a monitor reports it as it happens), or on the edge
//!   into the end of an execution (deadlock, or a check on the outcome). The
//!   shortest one is found breadth-first over the recorded graph, turned into
//!   the concrete decisions of one execution, and replayed with the trace on.
//! - **No thread limit**: a timer re-armed after its actor exited is a new
//!   task, scheduled like any other. One bound: an execution that takes
//!   [`MAX_DECISIONS`] decisions without ending stops the search,
//!   inconclusive (a loop with no end, whose every turn is a new state).
//!   A time or state budget is checked inside a long execution too.
//!
//! What it assumes (README, "Soundness"): deterministic model code, and no
//! shared state outside the facade; both are checked where they can be (a
//! replayed prefix must offer the same choices, and a test keeps shared
//! `std` cells out of the model).

use super::{
    checks, monitor_factory, Engine, EngineKind, Exploration, Finding, Found, Job, Outcome,
    ReplayAt, Replayed, StateCounts,
};
use crate::engine::{Observer, Progress, Replays, PROGRESS_EVERY};
use kmodcheck_model::state::{self, Keys, Op, Symmetry, TaskId};
use kmodcheck_model::sync::scheduler::{Schedule, Scheduler, Task, TaskId as EngineTask};
use kmodcheck_model::sync::{self, Stop};
use kmodcheck_model::trace::{Check, End, Monitor, Recorder};
use kmodcheck_model::world::{execute, symmetry};
use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The stateful engine.
pub struct Stateful;

/// The harness's task (`world::execute` registers it first).
const HARNESS: TaskId = TaskId(0);

/// The most decisions one execution may take. Every execution of a scenario
/// whose actors all end is far shorter (the catalogue's longest takes
/// fewer than 100); one that reaches this bound loops with no end, such as
/// a repeating request that never starts a helper, and each turn of the
/// loop is a new state (its tasks' histories grow). The search then stops,
/// inconclusive, and says so, rather than run forever.
pub const MAX_DECISIONS: usize = 10_000;

/// How often, in decisions, a long execution checks the time and reports
/// progress (between executions it does so every time).
const CHECK_EVERY: usize = 256;

/// A decision on the current path.
struct Frame {
    /// The tasks that could run, in task id order.
    choices: Vec<TaskId>,
    /// The one taken.
    chosen: usize,
    /// The state it was taken in.
    state: u32,
    /// That state's canonical renaming.
    perm: Vec<u8>,
    /// That state's histories and contents, for the replays that take its
    /// later choices (dropped when the last one is taken).
    snap: Option<Kept>,
}

/// What a replay puts back at the decision it branches at.
struct Kept {
    /// The facade's state.
    state: state::Snapshot,
    /// The monitors' states ([`Replays::Restore`] only: a replay there
    /// feeds them no facts).
    monitors: Vec<Box<dyn Monitor>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    /// Not reached yet.
    Pending,
    /// Another decision's state.
    State(u32),
    /// The end of an execution.
    End,
}

/// An edge of the state graph: from a state, the task chosen (renamed
/// canonically), to a state or an execution's end.
#[derive(Clone, Copy, Debug)]
struct Edge {
    from: u32,
    choice: TaskId,
    to: Target,
}

/// A violation, on the edge whose step (or end) showed it.
#[derive(Clone, Debug)]
struct Seen {
    edge: u32,
    execution: usize,
}

/// What the scheduler does at a decision.
enum Plan {
    /// Depth-first search (with pruning at seen states unless turned off).
    Search,
    /// Follow a path of the state graph: at each decision, the state must be
    /// the one recorded, and the canonical choice is renamed back into this
    /// execution's own task ids. The concrete decisions are collected.
    Follow {
        path: Vec<(u128, TaskId)>,
        taken: Vec<TaskId>,
        failed: Option<String>,
    },
    /// Take these decisions, then the first choice at every later one. With
    /// `expect` (a counterexample's replay), the state at each decision must
    /// be the one the search recorded: the trace, on now, must not change
    /// what the model observes.
    Decisions {
        decisions: Vec<TaskId>,
        expect: Vec<u128>,
        failed: Option<String>,
    },
}

#[derive(PartialEq, Eq, Clone, Copy, Debug)]
enum Mode {
    /// Decisions are recorded (past the replayed prefix).
    Explore,
    /// A seen state was reached: run to the end, recording nothing.
    Drain,
}

struct Search {
    keys: Arc<Keys>,
    sym: Symmetry,
    plan: Plan,
    prune: bool,
    replays: Replays,
    visited: HashMap<u128, u32, std::hash::BuildHasherDefault<FpHasher>>,
    fps: Vec<u128>,
    edges: Vec<Edge>,
    stack: Vec<Frame>,
    depth: usize,
    mode: Mode,
    last_edge: Option<u32>,
    executions: usize,
    queries: f64,
    max_degree: f64,
    max_depth: usize,
    /// Per property: the violations seen, with the first message.
    violations: Vec<Vec<Seen>>,
    messages: Vec<Option<String>>,
    witness: Vec<bool>,
    nprops: usize,
    /// The recorder of the current execution.
    recorder: Option<Recorder>,
    /// The current execution replays a kept path, hashing nothing and
    /// feeding the monitors nothing, up to the decision it branches at.
    quiet: bool,
    /// Nothing left to explore.
    finished: bool,
    /// Why the search stopped before the end.
    stopped: Option<String>,
    bounded_by: Option<String>,
    max_states: Option<usize>,
    max_executions: Option<usize>,
    deadline: Option<(Instant, Duration)>,
    started: Instant,
    first_violation_after: Option<Duration>,
    progress: Option<Progress>,
    reported: Instant,
    observer: Option<Observer>,
    /// The end of the last execution.
    last_end: Option<End>,
    /// Buffers for a decision's runnable tasks and choices.
    tasks_buf: Vec<TaskId>,
    choices_buf: Vec<TaskId>,
}

/// The hasher of the visited set: a fingerprint is already two values
/// uniform below 2^61 at random points, so its bits need no mixing
/// (SipHash, the default, took 1-2% of a search).
#[derive(Default)]
struct FpHasher(u64);

impl std::hash::Hasher for FpHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u128(&mut self, v: u128) {
        // Both halves: the two points' values, 61 bits each.
        self.0 ^= (v as u64) ^ ((v >> 64) as u64).rotate_left(32);
    }
}

thread_local! {
    static ACTIVE: RefCell<Option<Rc<RefCell<Search>>>> = const { RefCell::new(None) };
}

fn active() -> Rc<RefCell<Search>> {
    ACTIVE.with(|a| a.borrow().clone().expect("the stateful engine is running"))
}

/// The scheduler shuttle calls: a handle on the search.
struct Handle(Rc<RefCell<Search>>);

impl Scheduler for Handle {
    fn new_execution(&mut self) -> Option<Schedule> {
        self.0.borrow_mut().new_execution()
    }

    fn next_task(
        &mut self,
        runnable: &[&Task],
        current: Option<EngineTask>,
        _is_yielding: bool,
    ) -> Option<EngineTask> {
        self.0.borrow_mut().next_task(runnable, current)
    }

    fn next_u64(&mut self) -> u64 {
        unreachable!("the model draws no random numbers")
    }

    /// A deadlock ends the execution here, with its verdict taken now, before
    /// shuttle unwinds the blocked tasks (whose drops the muted recorder
    /// ignores); the run goes on with the next execution, and the tasks'
    /// stacks are reused (vendor/README.md, shuttle-engine).
    fn deadlocked(&mut self) -> bool {
        let mut s = self.0.borrow_mut();
        let end = match &s.recorder {
            Some(rec) => rec.deadlock(),
            None => End::Deadlock {
                cycle: None,
                blocked: Vec::new(),
            },
        };
        s.terminal(end);
        if let Some(rec) = &s.recorder {
            rec.mute();
        }
        s.mode = Mode::Drain;
        state::end();
        true
    }
}

impl Search {
    fn new(job: &Job<'_>, plan: Plan) -> Search {
        let o = job.opts;
        let sym = if o.symmetry {
            symmetry(&job.scenario)
        } else {
            Symmetry::none()
        };
        let n = job.properties.len();
        Search {
            keys: Arc::new(Keys::random()),
            sym,
            plan,
            prune: o.prune,
            replays: o.replays,
            visited: HashMap::default(),
            fps: Vec::new(),
            edges: Vec::new(),
            stack: Vec::new(),
            depth: 0,
            mode: Mode::Explore,
            last_edge: None,
            executions: 0,
            queries: 0.0,
            max_degree: 0.0,
            max_depth: 0,
            violations: vec![Vec::new(); n],
            messages: vec![None; n],
            witness: vec![false; n],
            nprops: n,
            recorder: None,
            quiet: false,
            finished: false,
            stopped: None,
            bounded_by: None,
            max_states: o.max_states,
            max_executions: o.max_executions,
            deadline: o.time_limit.map(|t| (Instant::now(), t)),
            started: Instant::now(),
            first_violation_after: None,
            progress: o.progress.clone(),
            reported: Instant::now(),
            observer: o.observer.clone(),
            last_end: None,
            tasks_buf: Vec::new(),
            choices_buf: Vec::new(),
        }
    }

    fn searching(&self) -> bool {
        matches!(self.plan, Plan::Search)
    }

    fn new_execution(&mut self) -> Option<Schedule> {
        if self.finished || self.stopped.is_some() || self.bounded_by.is_some() {
            return None;
        }
        if self.executions > 0 {
            if !self.searching() {
                // A follow or a replay is one execution.
                self.finished = true;
                return None;
            }
            // Backtrack: the deepest decision with a choice left.
            while let Some(f) = self.stack.last_mut() {
                if f.chosen + 1 < f.choices.len() {
                    f.chosen += 1;
                    break;
                }
                self.stack.pop();
            }
            if self.stack.is_empty() {
                self.finished = true;
                return None;
            }
            if let Some(why) = self.over_budget() {
                self.bounded_by = Some(why);
                return None;
            }
        }
        self.executions += 1;
        self.depth = 0;
        self.mode = Mode::Explore;
        self.last_edge = None;
        self.recorder = None;
        self.report_progress();
        let canonical = match &self.plan {
            Plan::Search | Plan::Follow { .. } => true,
            Plan::Decisions { expect, .. } => !expect.is_empty(),
        };
        let sym = if canonical {
            self.sym.clone()
        } else {
            Symmetry::none()
        };
        // A replay up to a kept decision hashes nothing until it gets there.
        let hashing =
            !(self.searching() && self.replays == Replays::Restore && !self.stack.is_empty());
        self.quiet = !hashing;
        state::begin(self.keys.clone(), &sym, hashing);
        Some(Schedule::new(0))
    }

    fn report_progress(&mut self) {
        if let Some(p) = &self.progress {
            if self.reported.elapsed() >= PROGRESS_EVERY {
                self.reported = Instant::now();
                (p.0)(
                    self.executions,
                    Some(self.fps.len() as u64),
                    self.started.elapsed(),
                );
            }
        }
    }

    /// Whether the search must stop inside the current execution: it is
    /// over its budget, or the execution has run [`MAX_DECISIONS`] decisions.
    /// Sets `bounded_by` when it must.
    fn stop_inside(&mut self) -> bool {
        if !self.searching() || self.mode != Mode::Explore {
            return false;
        }
        if self.depth >= MAX_DECISIONS {
            self.bounded_by = Some(format!(
                "an execution that ran {MAX_DECISIONS} decisions without ending: the scenario loops with no end (a repeating request that starts no helper, say), and every turn is a new state"
            ));
            return true;
        }
        if self.depth % CHECK_EVERY == CHECK_EVERY - 1 {
            self.report_progress();
            if let Some(why) = self.over_budget() {
                self.bounded_by = Some(why);
                return true;
            }
        }
        false
    }

    fn over_budget(&self) -> Option<String> {
        if let Some(m) = self.max_states {
            if self.fps.len() >= m {
                return Some(format!("{m} states per cell"));
            }
        }
        if let Some(m) = self.max_executions {
            if self.executions >= m {
                return Some(format!("{m} executions per cell"));
            }
        }
        if let Some((t0, t)) = self.deadline {
            if t0.elapsed() >= t {
                return Some(format!("{} s per cell", t.as_secs()));
            }
        }
        None
    }

    /// Violations the monitors reported during the last step: on the edge
    /// just taken, if it is new.
    fn collect_violations(&mut self) {
        if !self.searching() {
            // A follow or a replay reads them at its end (`checks`).
            return;
        }
        let Some(rec) = &self.recorder else { return };
        let found = rec.take_violations();
        let fresh = self.mode == Mode::Explore && self.depth >= self.stack.len();
        if !fresh {
            return;
        }
        let Some(edge) = self.last_edge else { return };
        for (i, msg) in found {
            if i < self.nprops {
                self.violation(i, edge, msg);
            }
        }
    }

    fn violation(&mut self, i: usize, edge: u32, msg: String) {
        if self.messages[i].is_none() {
            self.messages[i] = Some(msg);
            if self.first_violation_after.is_none() {
                self.first_violation_after = Some(self.started.elapsed());
            }
        }
        self.violations[i].push(Seen {
            edge,
            execution: self.executions,
        });
    }

    fn next_task(&mut self, runnable: &[&Task], current: Option<EngineTask>) -> Option<EngineTask> {
        if self.mode == Mode::Drain {
            // Anything runs: no state is kept any more (see `search_decision`).
            return Some(runnable[0].id());
        }
        if let Some(e) = current {
            let c = state::task_of(usize::from(e));
            let runs = runnable.iter().any(|t| t.id() == e);
            if !runs && state::pending_of(c) == Op::Exit {
                state::exited(c);
            }
            if runs && state::pending_of(c).goes_on() {
                state::set_current(c);
                return current;
            }
        }
        // The task lists are built in buffers kept across decisions; a new
        // state's frame takes a copy of its choices.
        let mut tasks = std::mem::take(&mut self.tasks_buf);
        let mut choices = std::mem::take(&mut self.choices_buf);
        tasks.clear();
        tasks.extend(runnable.iter().map(|t| state::task_of(usize::from(t.id()))));
        let r = self.decide(&tasks, &mut choices, current);
        self.tasks_buf = tasks;
        self.choices_buf = choices;
        r
    }

    /// [`Search::next_task`] at a point where the current task does not
    /// simply go on: `tasks` are the runnable ones, `choices` a buffer.
    fn decide(
        &mut self,
        tasks: &[TaskId],
        choices: &mut Vec<TaskId>,
        current: Option<EngineTask>,
    ) -> Option<EngineTask> {
        // A decision.
        self.collect_violations();
        if self.stop_inside() {
            // Stop this execution where it is: shuttle tears its tasks down,
            // with nothing recorded any more, and `new_execution` ends the
            // search.
            if let Some(rec) = &self.recorder {
                rec.mute();
            }
            self.mode = Mode::Drain;
            self.last_edge = None;
            state::end();
            return None;
        }
        choices.clear();
        choices.extend(
            tasks
                .iter()
                .copied()
                .filter(|t| !state::blocked_on_held_lock(*t)),
        );
        if choices.is_empty() {
            choices.extend_from_slice(tasks);
        }
        // The harness runs only when no other task can: its steps (joins,
        // then waking the environment once every kernel task has exited)
        // commute with every other task's, so deferring them loses nothing,
        // and the order it joins tasks in, which its state leaves out, never
        // decides who may run.
        if choices.len() > 1 {
            choices.retain(|t| *t != HARNESS);
        }
        choices.sort();
        if choices.len() == 1 && current.is_some() {
            // Only one task can go on: no decision, and no state taken (the
            // next decision's state is the same whichever way this one was
            // reached). The first point of an execution is always a decision:
            // the state graph's root, to which an execution without any
            // other decision attaches its end.
            let only = choices[0];
            state::set_current(only);
            let idx = state::engine_index_of(only).expect("a live task");
            return Some(EngineTask::from(idx));
        }
        let chosen = match &mut self.plan {
            Plan::Search => self.search_decision(tasks, choices),
            Plan::Follow {
                path,
                taken,
                failed,
            } => {
                let i = taken.len();
                let pick = if let Some(&(fp, cc)) = path.get(i) {
                    let canon = state::fingerprint(tasks);
                    if canon.fp != fp && failed.is_none() {
                        *failed = Some(format!(
                            "decision {}: the state differs from the one the search recorded",
                            i + 1
                        ));
                    }
                    let c = state::unrename(cc, &canon.perm);
                    if choices.contains(&c) {
                        c
                    } else {
                        if failed.is_none() {
                            *failed =
                                Some(format!("decision {}: T{} cannot run there", i + 1, c.0));
                        }
                        choices[0]
                    }
                } else {
                    choices[0]
                };
                if i < path.len() {
                    taken.push(pick);
                }
                pick
            }
            Plan::Decisions {
                decisions,
                expect,
                failed,
            } => {
                let i = self.depth;
                if let Some(&fp) = expect.get(i) {
                    if state::fingerprint(tasks).fp != fp && failed.is_none() {
                        *failed = Some(format!(
                            "decision {}: with the trace on, the state differs from the one the search recorded (trace code observed the model)",
                            i + 1
                        ));
                    }
                }
                match decisions.get(i) {
                    Some(&d) if choices.contains(&d) => d,
                    Some(&d) => {
                        if failed.is_none() {
                            *failed = Some(format!(
                                "decision {}: task {} cannot run there (it can: {})",
                                i + 1,
                                d.0,
                                choices
                                    .iter()
                                    .map(|t| t.0.to_string())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ));
                        }
                        choices[0]
                    }
                    None => choices[0],
                }
            }
        };
        self.depth += 1;
        self.max_depth = self.max_depth.max(self.depth);
        state::set_current(chosen);
        let idx = state::engine_index_of(chosen).expect("a live task");
        if self.mode == Mode::Drain {
            state::end();
        }
        Some(EngineTask::from(idx))
    }

    fn search_decision(&mut self, tasks: &[TaskId], choices: &[TaskId]) -> TaskId {
        if self.mode == Mode::Drain {
            return choices[0];
        }
        if self.depth < self.stack.len() {
            // Replaying the path to the decision with a choice left.
            let (depth, executions, replays) = (self.depth, self.executions, self.replays);
            let branch = depth + 1 == self.stack.len();
            let f = &mut self.stack[depth];
            assert_eq!(
                f.choices, choices,
                "the model is not deterministic: replaying decision {} of execution {} offers other tasks than when it was first reached",
                depth + 1, executions
            );
            let c = f.choices[f.chosen];
            if branch {
                // The decision with the new choice: its state as kept, then
                // a new edge.
                let last = f.chosen + 1 == f.choices.len();
                let kept = f.snap.as_ref().expect("a kept decision with a choice left");
                match replays {
                    Replays::Restore => {
                        state::restore(&kept.state);
                        let monitors = if last {
                            f.snap.take().expect("kept").monitors
                        } else {
                            kept.monitors.clone()
                        };
                        if let Some(rec) = &self.recorder {
                            rec.load_monitors(monitors);
                            rec.unmute();
                        }
                        self.quiet = false;
                    }
                    Replays::Verify => assert!(
                        state::matches(&kept.state),
                        "decision {} of execution {}: the state replayed differs from the one kept when it was first reached",
                        depth + 1,
                        executions
                    ),
                    Replays::Hash => {}
                }
                let f = &mut self.stack[depth];
                if last {
                    f.snap = None;
                }
                let (from, cc) = (f.state, state::rename(c, &f.perm));
                self.last_edge = Some(self.push_edge(from, cc));
            }
            return c;
        }
        // The frontier: a state to look up.
        let canon = state::fingerprint(tasks);
        self.queries += 1.0;
        self.max_degree = self.max_degree.max(canon.degree);
        let (index, new) = match self.visited.get(&canon.fp) {
            Some(&i) if self.prune => (i, false),
            _ => {
                let i = self.fps.len() as u32;
                self.fps.push(canon.fp);
                self.visited.insert(canon.fp, i);
                (i, true)
            }
        };
        if let Some(e) = self.last_edge {
            self.edges[e as usize].to = Target::State(index);
        }
        if !new {
            // Seen: what follows has been explored. Run the execution to its
            // end (shuttle cannot drop a stopped execution's stacks) with no
            // bookkeeping: no state, no facts.
            self.mode = Mode::Drain;
            self.last_edge = None;
            if let Some(rec) = &self.recorder {
                rec.mute();
            }
            return choices[0];
        }
        let c = choices[0];
        let cc = state::rename(c, &canon.perm);
        let snap = (choices.len() > 1 && self.replays != Replays::Hash).then(|| Kept {
            state: state::snapshot(),
            monitors: match (&self.recorder, self.replays) {
                (Some(rec), Replays::Restore) => rec.save_monitors(),
                _ => Vec::new(),
            },
        });
        self.stack.push(Frame {
            choices: choices.to_vec(),
            chosen: 0,
            state: index,
            perm: canon.perm,
            snap,
        });
        self.last_edge = Some(self.push_edge(index, cc));
        c
    }

    fn push_edge(&mut self, from: u32, choice: TaskId) -> u32 {
        self.edges.push(Edge {
            from,
            choice,
            to: Target::Pending,
        });
        (self.edges.len() - 1) as u32
    }

    /// The execution ended as `end`, with `rec` its recorder.
    fn terminal(&mut self, end: End) {
        self.collect_violations();
        let Some(rec) = self.recorder.clone() else {
            return;
        };
        self.last_end = Some(end.clone());
        let fresh = self.mode == Mode::Explore && self.depth >= self.stack.len();
        if !fresh || !self.searching() {
            return;
        }
        if let Some(obs) = &self.observer {
            (obs.0)(&Outcome {
                end: end.clone(),
                summary: rec.summaries().into_iter().next(),
                trace: None,
            });
        }
        let Some(edge) = self.last_edge else { return };
        self.edges[edge as usize].to = Target::End;
        for (i, c) in checks(&rec, &end, self.nprops).into_iter().enumerate() {
            match c {
                Check::Ok { witness } => self.witness[i] |= witness,
                Check::Violated(msg) => self.violation(i, edge, msg),
                Check::Unknown => {}
            }
        }
    }

    /// The shortest path from the first state to a violation of property
    /// `i`: (state fingerprint, canonical choice) per decision, and the
    /// execution that first found a violation on that edge.
    fn shortest(&self, i: usize) -> Option<(Vec<(u128, TaskId)>, usize)> {
        if self.fps.is_empty() {
            return None;
        }
        let mut out: Vec<Vec<u32>> = vec![Vec::new(); self.fps.len()];
        for (k, e) in self.edges.iter().enumerate() {
            out[e.from as usize].push(k as u32);
        }
        let mut dist = vec![u32::MAX; self.fps.len()];
        let mut parent: Vec<Option<u32>> = vec![None; self.fps.len()];
        let mut queue = VecDeque::new();
        dist[0] = 0;
        queue.push_back(0u32);
        while let Some(s) = queue.pop_front() {
            for &k in &out[s as usize] {
                if let Target::State(t) = self.edges[k as usize].to {
                    if dist[t as usize] == u32::MAX {
                        dist[t as usize] = dist[s as usize] + 1;
                        parent[t as usize] = Some(k);
                        queue.push_back(t);
                    }
                }
            }
        }
        let best = self.violations[i]
            .iter()
            .filter(|v| dist[self.edges[v.edge as usize].from as usize] != u32::MAX)
            .min_by_key(|v| (dist[self.edges[v.edge as usize].from as usize], v.edge))?;
        let mut rev = vec![best.edge];
        let mut s = self.edges[best.edge as usize].from;
        while let Some(k) = parent[s as usize] {
            rev.push(k);
            s = self.edges[k as usize].from;
        }
        let path = rev
            .into_iter()
            .rev()
            .map(|k| {
                let e = self.edges[k as usize];
                (self.fps[e.from as usize], e.choice)
            })
            .collect();
        Some((path, best.execution))
    }
}

/// Run the search (or a follow, or a replay) to its end. A deadlock ends one
/// execution (`Handle::deadlocked`), and the run goes on with the next; a
/// deadlock panic, should one still come, is handled the same way with a
/// new run.
fn run(job: &Job<'_>, search: Rc<RefCell<Search>>) {
    let monitors = monitor_factory(job);
    let (v, sc) = (job.variant, job.scenario.clone());
    let trace =
        !search.borrow().searching() && matches!(search.borrow().plan, Plan::Decisions { .. });
    let body = move || {
        let rec = Recorder::new(monitors(), trace);
        {
            let search = active();
            let mut s = search.borrow_mut();
            if s.quiet {
                rec.mute();
            }
            s.recorder = Some(rec.clone());
        }
        execute(v, sc.clone(), rec);
        active().borrow_mut().terminal(End::Completed);
    };
    let body = Arc::new(body);
    ACTIVE.with(|a| *a.borrow_mut() = Some(search.clone()));
    loop {
        let b = body.clone();
        let r = sync::silently(|| sync::explore_with(Handle(search.clone()), move || b()));
        match r {
            Ok(()) => break,
            Err(Stop::Deadlock(_)) => {
                let end = {
                    let s = search.borrow();
                    match &s.recorder {
                        Some(rec) => rec.deadlock(),
                        None => End::Deadlock {
                            cycle: None,
                            blocked: Vec::new(),
                        },
                    }
                };
                search.borrow_mut().terminal(end);
            }
            Err(Stop::Bound(msg)) | Err(Stop::Panic(msg)) => {
                let mut s = search.borrow_mut();
                let n = s.executions;
                s.stopped = Some(format!(
                    "stateful stopped in execution {n}: {}",
                    msg.lines().next().unwrap_or("")
                ));
                break;
            }
        }
    }
    ACTIVE.with(|a| *a.borrow_mut() = None);
    state::end();
}

impl Engine for Stateful {
    fn kind(&self) -> EngineKind {
        EngineKind::Stateful
    }

    fn explore(&self, job: &Job<'_>) -> Exploration {
        let search = Rc::new(RefCell::new(Search::new(job, Plan::Search)));
        run(job, search.clone());
        let s = search.borrow();
        let exhaustive = s.finished && s.stopped.is_none() && s.bounded_by.is_none();
        let mut findings = Vec::new();
        for i in 0..s.nprops {
            let mut f = Finding {
                violation: None,
                witness: s.witness[i],
            };
            if let Some((path, execution)) = s.shortest(i) {
                let message = s.messages[i].clone().unwrap_or_default();
                f.violation = Some(counterexample(job, &s, path, execution, i, message));
            }
            findings.push(f);
        }
        let symmetric_actors = s.sym.actors();
        let renamings = if symmetric_actors > 0 {
            s.sym.group_order()
        } else {
            1.0
        };
        Exploration {
            engine: EngineKind::Stateful,
            exhaustive,
            executions: s.executions,
            states: Some(StateCounts {
                states: s.fps.len() as u64,
                transitions: s.edges.len() as u64,
                symmetric_actors,
                collision_bound: state::collision_bound(s.queries, renamings, s.max_degree),
                max_depth: s.max_depth,
            }),
            stopped: s.stopped.clone(),
            bounded_by: s.bounded_by.clone(),
            findings,
            first_violation_after: s.first_violation_after,
        }
    }

    fn replay(&self, job: &Job<'_>, at: &ReplayAt) -> Result<Replayed, String> {
        let ReplayAt::Decisions(d) = at else {
            return Err("not a stateful engine's decision list".into());
        };
        replay_decisions(job, d, None)
    }
}

/// Replay decisions with the trace on; with `expect`, check each
/// decision's state against the search's (see [`Plan::Decisions`]).
fn replay_decisions(
    job: &Job<'_>,
    decisions: &[TaskId],
    expect: Option<(&Arc<Keys>, Vec<u128>)>,
) -> Result<Replayed, String> {
    let mut search = Search::new(
        job,
        Plan::Decisions {
            decisions: decisions.to_vec(),
            expect: expect.as_ref().map_or(Vec::new(), |e| e.1.clone()),
            failed: None,
        },
    );
    if let Some((keys, _)) = expect {
        search.keys = keys.clone();
    }
    let search = Rc::new(RefCell::new(search));
    run(job, search.clone());
    let s = search.borrow();
    if let Plan::Decisions {
        failed: Some(why), ..
    } = &s.plan
    {
        return Err(format!("these decisions do not replay: {why}"));
    }
    if s.depth < decisions.len() {
        return Err(format!(
            "these decisions do not replay: the execution ended after {} of its {} decisions",
            s.depth,
            decisions.len()
        ));
    }
    if let Some(why) = &s.stopped {
        return Err(why.clone());
    }
    let rec = s.recorder.clone().ok_or("the replay did not run")?;
    let end = s.last_end.clone().unwrap_or(End::Completed);
    let mut violations = Vec::new();
    for (i, c) in checks(&rec, &end, job.properties.len())
        .into_iter()
        .enumerate()
    {
        if let Check::Violated(msg) = c {
            let trace = rec.trace();
            violations.push((
                job.properties[i].id,
                job.properties[i].describe(&msg, &trace),
            ));
        }
    }
    Ok(Replayed {
        trace: rec.trace(),
        end,
        violations,
    })
}

/// Turn a path of the state graph into one execution's decisions, and
/// replay them with the trace on.
fn counterexample(
    job: &Job<'_>,
    s: &Search,
    path: Vec<(u128, TaskId)>,
    execution: usize,
    i: usize,
    message: String,
) -> Found {
    let expect: Vec<u128> = path.iter().map(|(fp, _)| *fp).collect();
    let follow = Rc::new(RefCell::new(Search::new(
        job,
        Plan::Follow {
            path,
            taken: Vec::new(),
            failed: None,
        },
    )));
    follow.borrow_mut().keys = s.keys.clone();
    run(job, follow.clone());
    let (decisions, failed) = match &follow.borrow().plan {
        Plan::Follow { taken, failed, .. } => (taken.clone(), failed.clone()),
        _ => unreachable!(),
    };
    let at = ReplayAt::Decisions(decisions.clone());
    let unreplayed = |why: String| Found {
        execution,
        message: format!("{message} (the counterexample did not replay: {why})"),
        end: End::Completed,
        trace: Default::default(),
        at: at.clone(),
    };
    if let Some(why) = failed {
        return unreplayed(why);
    }
    match replay_decisions(job, &decisions, Some((&s.keys, expect))) {
        Ok(r) => {
            let id = job.properties[i].id;
            match r.violations.iter().find(|(p, _)| *p == id) {
                Some((_, msg)) => Found {
                    execution,
                    message: msg.clone(),
                    end: r.end,
                    trace: r.trace,
                    at,
                },
                None => unreplayed(format!("its replay does not violate {id}")),
            }
        }
        Err(e) => unreplayed(e),
    }
}
