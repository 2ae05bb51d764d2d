//! State as values: what the stateful engine hashes (design.md, "State is
//! values").
//!
//! # What a state is
//!
//! The stateful engine takes a state at every scheduling decision. A state
//! is:
//!
//! - the contents of every live object of the engine facade
//!   ([`crate::sync::Mutex`] and [`crate::sync::Plain`]), and for a lock,
//!   which task holds it;
//! - for every live task, its *history*: the sequence of what it observed
//!   through the facade (each lock it took, with the contents it found; each
//!   value it read from a [`crate::sync::Plain`]; each task it started or
//!   joined), starting from its *birth* (its parent's history at the moment
//!   it was started), plus whether it is runnable and whether a condition
//!   variable has woken it.
//!
//! A task's own stack is not hashed: for deterministic model code it is a
//! function of the task's history. So two states with the same objects and
//! the same histories are the same state.
//!
//! For the same reason a history holds only what the task could not have
//! computed itself: a mark for every step it takes, and every value the
//! facade handed it (the contents of a lock it took, a value it read, the id
//! of a task it started). Which object a step names is left out: the code
//! names it from its history so far (its birth and what it observed,
//! references included, since a reference in a content is written as the
//! object's identity), so two tasks with equal histories name the same
//! objects. The exact state counts of `reports/matrix.md` are the same with
//! the object identities written and without. That holds only if every piece of
//! shared state lives in facade objects, which is why the model has no
//! shared `std` cell (a test, `tests/discipline.rs`, keeps it so).
//!
//! # The fingerprint
//!
//! Each history and each object's contents is a *polynomial* whose
//! coefficients are the tokens written by [`Fingerprint`] implementations
//! (contents in a variable `c`, histories in `h`; a content seen by a task is
//! embedded in its history with the factor `e`, a parent's history in a
//! child's with `b`). A state's fingerprint is `Π (z − E)` over its elements
//! `E` (objects and tasks), so the order of elements does not matter. All of
//! it is evaluated at a point chosen at random for each run, modulo the
//! Mersenne prime `2^61 − 1`, at two independent points: 122 bits, stored in
//! a `u128`.
//!
//! The encoding is injective: two different states give different
//! polynomials. By the Schwartz–Zippel lemma, two different polynomials of
//! total degree at most `D` agree at a random point with probability at most
//! `D / p`, so at two independent points with probability at most `(D/p)²`.
//! [`collision_bound`] sums that over every pair of fingerprints a run
//! computed: the probability that the run merged two different states.
//!
//! # Symmetry
//!
//! Interchangeable actors (same kind and target, no signal aimed at one of
//! them) are *symmetric*: their task ids are written as variables `ρ_a`
//! instead of numbers. Renaming the actors by a permutation `π` then costs
//! a substitution `ρ_a → ρ_π(a)`, which keeps every element linear in the
//! `ρ`s: an element is `base + Σ_a ρ_a·g_a`. The fingerprint of a state is
//! that of a canonical renaming: actors sorted by a renaming-invariant key,
//! and ties broken by the least fingerprint over their permutations (as
//! Murphi's scalarsets normalise). Any renaming is sound: equal fingerprints
//! mean states equal up to renaming interchangeable actors, which behave
//! alike.

use std::cell::RefCell;

/// A task of the execution: `T1`, `T2`, ... as the trace names it. Ids are
/// given in registration order; the harness is task 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct TaskId(pub usize);

impl serde::Serialize for TaskId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(self.0 as u64)
    }
}

impl std::fmt::Display for TaskId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Identity of a facade object: the task that created it, and how many
/// objects that task had created before. Deterministic for deterministic
/// model code, whatever the interleaving.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct ObjId {
    /// The creating task.
    pub creator: TaskId,
    /// Objects the creator made before this one.
    pub seq: u32,
}

// ---------------------------------------------------------------------------
// Arithmetic modulo the Mersenne prime 2^61 - 1, at two points at once.

/// The modulus, `2^61 − 1`.
pub const P: u64 = (1 << 61) - 1;

#[inline]
fn reduce(x: u64) -> u64 {
    // x < 2^64: fold the high bits (2^61 ≡ 1).
    let y = (x & P) + (x >> 61);
    if y >= P {
        y - P
    } else {
        y
    }
}

#[inline]
fn fadd(a: u64, b: u64) -> u64 {
    reduce(a + b)
}

#[inline]
fn fmul(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    let lo = (p as u64) & P;
    let hi = (p >> 61) as u64;
    reduce(lo + hi)
}

/// A value at the two evaluation points.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct F2([u64; 2]);

impl F2 {
    const ONE: F2 = F2([1, 1]);
    #[inline]
    fn add(self, o: F2) -> F2 {
        F2([fadd(self.0[0], o.0[0]), fadd(self.0[1], o.0[1])])
    }
    #[inline]
    fn sub(self, o: F2) -> F2 {
        F2([fadd(self.0[0], P - o.0[0]), fadd(self.0[1], P - o.0[1])])
    }
    #[inline]
    fn mul(self, o: F2) -> F2 {
        F2([fmul(self.0[0], o.0[0]), fmul(self.0[1], o.0[1])])
    }
    #[inline]
    fn scalar(v: u64) -> F2 {
        let v = reduce(v);
        F2([v, v])
    }
    fn pack(self) -> u128 {
        (u128::from(self.0[0]) << 64) | u128::from(self.0[1])
    }
}

/// Most interchangeable actors one scenario may declare.
pub const MAX_SYM: usize = 8;

/// The random point of one run: a value for each variable of the encoding.
#[derive(Clone, Debug)]
pub struct Keys {
    h: F2,
    c: F2,
    e: F2,
    b: F2,
    z: F2,
    rho: [F2; MAX_SYM],
    /// Values for "this actor" and "another actor" in the sort keys.
    kx: F2,
    ky: F2,
    kw: F2,
    /// The seed they came from.
    pub seed: u64,
}

impl Keys {
    /// Keys from a seed (SplitMix64; each value uniform below `P`).
    pub fn from_seed(seed: u64) -> Keys {
        let mut s = seed;
        let mut next = || loop {
            s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = s;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            let v = z >> 3;
            if v < P && v > 1 {
                return v;
            }
        };
        let mut f2 = || F2([next(), next()]);
        Keys {
            h: f2(),
            c: f2(),
            e: f2(),
            b: f2(),
            z: f2(),
            rho: std::array::from_fn(|_| f2()),
            kx: f2(),
            ky: f2(),
            kw: f2(),
            seed,
        }
    }

    /// Keys from the operating system's randomness (`KMODCHECK_FP_SEED`
    /// fixes the seed, for a run that must be repeated exactly).
    pub fn random() -> Keys {
        let seed = std::env::var("KMODCHECK_FP_SEED")
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| {
                use std::hash::{BuildHasher, Hasher};
                let mut h = std::collections::hash_map::RandomState::new().build_hasher();
                h.write_u64(0x6b6d_6f64);
                h.finish()
            });
        Keys::from_seed(seed)
    }
}

/// A value linear in the symmetric variables: `base + Σ_a ρ_a · g[a]`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sym {
    base: F2,
    g: [F2; MAX_SYM],
}

impl Sym {
    #[inline]
    fn add_scaled(&mut self, o: &Sym, k: F2, n: usize) {
        self.base = self.base.add(o.base.mul(k));
        for a in 0..n {
            self.g[a] = self.g[a].add(o.g[a].mul(k));
        }
    }

    /// The value with `ρ_a` replaced by `rho[perm[a]]`.
    #[inline]
    fn eval(&self, rho: &[F2; MAX_SYM], perm: &[u8], n: usize) -> F2 {
        let mut v = self.base;
        for a in 0..n {
            v = v.add(rho[perm[a] as usize].mul(self.g[a]));
        }
        v
    }
}

/// The writer a [`Fingerprint`] implementation writes tokens into: a
/// polynomial in the content variable `c`, one coefficient per token.
pub struct Fp<'a> {
    keys: &'a Keys,
    sym_of: &'a [Option<u8>],
    acc: Sym,
    pow: F2,
    len: u32,
    /// Entries of a set or map, each an element of the state of its own
    /// (`None`: written in line, for an observation folded into a history).
    entries: Option<Vec<(Sym, u32)>>,
}

impl Fp<'_> {
    /// One entry of a set or map: hashed apart, as an element of the state
    /// of its own, so that the order entries are written in does not count.
    /// A map keyed by task id is written so: a renaming of interchangeable
    /// actors renames its keys without reordering anything. (In a value a
    /// task observed, entries are written in line, in the map's order.)
    pub fn entry(&mut self, f: impl FnOnce(&mut Fp<'_>)) {
        if self.entries.is_none() {
            f(self);
            return;
        }
        let mut e = Fp {
            keys: self.keys,
            sym_of: self.sym_of,
            acc: Sym::default(),
            pow: F2::ONE,
            len: 0,
            entries: None,
        };
        f(&mut e);
        let (acc, len) = (e.acc, e.len);
        self.entries.as_mut().expect("checked").push((acc, len));
    }

    #[inline]
    fn push(&mut self, v: F2) {
        self.acc.base = self.acc.base.add(v.mul(self.pow));
        self.pow = self.pow.mul(self.keys.c);
        self.len += 1;
    }

    /// A token below 2^60.
    #[inline]
    pub fn tok(&mut self, v: u64) {
        debug_assert!(v < 1 << 60);
        self.push(F2::scalar(v + 1));
    }

    /// A 64-bit value (two tokens).
    pub fn u64(&mut self, v: u64) {
        self.tok(v >> 32);
        self.tok(v & 0xffff_ffff);
    }

    /// A signed value (zigzag, two tokens).
    pub fn i64(&mut self, v: i64) {
        self.u64(((v << 1) ^ (v >> 63)) as u64);
    }

    /// A task id: a variable for an interchangeable actor, a number otherwise.
    #[inline]
    pub fn task(&mut self, t: TaskId) {
        match self.sym_of.get(t.0).copied().flatten() {
            Some(a) => {
                let a = a as usize;
                self.acc.g[a] = self.acc.g[a].add(self.pow);
                self.pow = self.pow.mul(self.keys.c);
                self.len += 1;
            }
            None => self.tok(t.0 as u64 + 1),
        }
    }

    /// An object's identity.
    pub fn obj(&mut self, id: ObjId) {
        self.task(id.creator);
        self.tok(u64::from(id.seq));
    }

    /// A string: its length, then 7 bytes per token; one of 6 bytes or
    /// fewer (a module's name or file, mostly) is one token: bit 59, the
    /// length and the bytes, which no length of the longer form has.
    pub fn str(&mut self, s: &str) {
        if s.len() <= 6 {
            let mut v = 0u64;
            for &b in s.as_bytes() {
                v = (v << 8) | u64::from(b);
            }
            self.tok(1 << 59 | (s.len() as u64) << 48 | v);
            return;
        }
        self.tok(s.len() as u64);
        for chunk in s.as_bytes().chunks(7) {
            let mut v = 0u64;
            for &b in chunk {
                v = (v << 8) | u64::from(b);
            }
            self.tok(v);
        }
    }
}

/// A value whose contents can be hashed into a state fingerprint.
///
/// Implementations write every field that can differ, in a fixed order,
/// with a length or tag wherever the shape can vary, so that different
/// values write different token sequences. Task ids go through
/// [`Fp::task`] (the [`TaskId`] type does it), so that renaming
/// interchangeable actors renames them everywhere.
pub trait Fingerprint {
    /// Write this value's tokens.
    fn fingerprint(&self, fp: &mut Fp<'_>);
}

macro_rules! fp_uint {
    ($($t:ty),*) => {$(
        impl Fingerprint for $t {
            fn fingerprint(&self, fp: &mut Fp<'_>) {
                fp.u64(*self as u64);
            }
        }
    )*};
}
fp_uint!(u8, u16, u32, u64, usize);

macro_rules! fp_int {
    ($($t:ty),*) => {$(
        impl Fingerprint for $t {
            fn fingerprint(&self, fp: &mut Fp<'_>) {
                fp.i64(*self as i64);
            }
        }
    )*};
}
fp_int!(i8, i16, i32, i64);

impl Fingerprint for bool {
    fn fingerprint(&self, fp: &mut Fp<'_>) {
        fp.tok(u64::from(*self));
    }
}

impl Fingerprint for () {
    fn fingerprint(&self, _: &mut Fp<'_>) {}
}

impl Fingerprint for TaskId {
    fn fingerprint(&self, fp: &mut Fp<'_>) {
        fp.task(*self);
    }
}

impl Fingerprint for str {
    fn fingerprint(&self, fp: &mut Fp<'_>) {
        fp.str(self);
    }
}

impl Fingerprint for String {
    fn fingerprint(&self, fp: &mut Fp<'_>) {
        fp.str(self);
    }
}

impl<T: Fingerprint + ?Sized> Fingerprint for &T {
    fn fingerprint(&self, fp: &mut Fp<'_>) {
        (**self).fingerprint(fp);
    }
}

impl<T: Fingerprint + ?Sized> Fingerprint for std::sync::Arc<T> {
    fn fingerprint(&self, fp: &mut Fp<'_>) {
        (**self).fingerprint(fp);
    }
}

impl<T: Fingerprint + ?Sized> Fingerprint for Box<T> {
    fn fingerprint(&self, fp: &mut Fp<'_>) {
        (**self).fingerprint(fp);
    }
}

impl<T: Fingerprint> Fingerprint for Option<T> {
    fn fingerprint(&self, fp: &mut Fp<'_>) {
        match self {
            None => fp.tok(0),
            Some(v) => {
                fp.tok(1);
                v.fingerprint(fp);
            }
        }
    }
}

impl<T: Fingerprint> Fingerprint for [T] {
    fn fingerprint(&self, fp: &mut Fp<'_>) {
        fp.tok(self.len() as u64);
        for v in self {
            v.fingerprint(fp);
        }
    }
}

impl<T: Fingerprint> Fingerprint for Vec<T> {
    fn fingerprint(&self, fp: &mut Fp<'_>) {
        self.as_slice().fingerprint(fp);
    }
}

/// A map: its entries, each apart ([`Fp::entry`]).
impl<K: Fingerprint, V: Fingerprint> Fingerprint for std::collections::BTreeMap<K, V> {
    fn fingerprint(&self, fp: &mut Fp<'_>) {
        fp.tok(self.len() as u64);
        for (k, v) in self {
            fp.entry(|fp| {
                k.fingerprint(fp);
                v.fingerprint(fp);
            });
        }
    }
}

/// A set: its members, each apart ([`Fp::entry`]).
impl<T: Fingerprint> Fingerprint for std::collections::BTreeSet<T> {
    fn fingerprint(&self, fp: &mut Fp<'_>) {
        fp.tok(self.len() as u64);
        for v in self {
            fp.entry(|fp| v.fingerprint(fp));
        }
    }
}

impl<A: Fingerprint, B: Fingerprint> Fingerprint for (A, B) {
    fn fingerprint(&self, fp: &mut Fp<'_>) {
        self.0.fingerprint(fp);
        self.1.fingerprint(fp);
    }
}

impl<A: Fingerprint, B: Fingerprint, C: Fingerprint> Fingerprint for (A, B, C) {
    fn fingerprint(&self, fp: &mut Fp<'_>) {
        self.0.fingerprint(fp);
        self.1.fingerprint(fp);
        self.2.fingerprint(fp);
    }
}

// ---------------------------------------------------------------------------
// Histories.

/// A task's history: a polynomial in `h`, one position per token or
/// embedded content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Stream {
    acc: Sym,
    pow: F2,
    len: u32,
    /// A bound on the polynomial's total degree.
    deg: u32,
}

impl Stream {
    fn new() -> Stream {
        Stream {
            acc: Sym::default(),
            pow: F2::ONE,
            len: 0,
            deg: 0,
        }
    }

    /// Advance past a token (which may be a `ρ`: one more degree).
    #[inline]
    fn step(&mut self, h: F2) {
        self.pow = self.pow.mul(h);
        self.len += 1;
        self.deg = self.deg.max(self.len + 1);
    }

    /// Advance past an embedded polynomial of degree `inner` (times a factor).
    #[inline]
    fn step_embed(&mut self, h: F2, inner: u32) {
        self.deg = self.deg.max(self.len + 1 + inner + 1);
        self.pow = self.pow.mul(h);
        self.len += 1;
    }
}

/// What a task is about to do at a scheduling point (set by the facade
/// before it calls into the engine).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// Started, not yet run.
    Start,
    /// Running model code (not at a facade operation).
    Running,
    /// Taking the lock of the object in this registry slot.
    Acquire(u32),
    /// Releasing a lock.
    Release,
    /// In a condition variable wait on the lock of this registry slot.
    Wait(u32),
    /// Waking a condition variable's waiters (with its lock held).
    Notify,
    /// Starting a task.
    Spawn,
    /// Waiting for a task to exit.
    Join,
    /// Leaving its body.
    Exit,
}

impl Op {
    /// Whether the scheduler lets the task go on at this point without a
    /// decision: releasing a lock, waking waiters under a lock, starting a
    /// task and exiting commute with whatever another task could do at that
    /// moment (no other task can touch the lock being released or the lock
    /// held; a new task has not run), so only one order needs exploring.
    /// loom does not branch at a release either.
    ///
    /// A task in a condition variable wait is current at two points only:
    /// just before the wait releases its lock (it then queues itself and
    /// blocks, which no other task can tell from the release, since no one
    /// can notify without the lock), and just after a wake-up, before it
    /// takes the lock again (a step that changes nothing another task can
    /// see; taking the lock is the next point). Both go on.
    ///
    /// A task at a join is current only when the task it joins has exited
    /// (shuttle blocks it otherwise): taking the result changes nothing
    /// another task can see.
    pub fn goes_on(self) -> bool {
        matches!(
            self,
            Op::Release | Op::Notify | Op::Spawn | Op::Exit | Op::Wait(_) | Op::Join
        )
    }

    /// Its code in a task's history.
    fn code(self) -> u64 {
        match self {
            Op::Start => 20,
            Op::Running => 21,
            Op::Acquire(_) => 22,
            Op::Release => 23,
            Op::Wait(_) => 24,
            Op::Notify => 25,
            Op::Spawn => 26,
            Op::Join => 27,
            Op::Exit => 28,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Woken {
    /// Not in a condition variable wait, or waiting and not woken.
    No,
    /// Woken by a notify, not yet back.
    Yes,
}

#[derive(Clone, Debug)]
struct Thr {
    hist: Stream,
    /// Nesting depth of births (the harness is 0).
    depth: u32,
    /// The interchangeable actor this task descends from.
    root: Option<u8>,
    pending: Op,
    /// Address of the condition variable it waits on.
    waits_on: Option<usize>,
    woken: Woken,
    /// Shuttle's index of this task.
    engine_index: usize,
    /// The task's state in words it chose itself ([`describe_self`]),
    /// instead of its history.
    explicit: Option<(Sym, u32)>,
    /// Its element as last computed, for the status it had then (cleared
    /// by every change of its history).
    cache: Option<(u8, Sym, f64)>,
}

#[derive(Clone, Debug)]
struct Obj {
    id: ObjId,
    root: Option<u8>,
    held: Option<TaskId>,
    content: Sym,
    content_len: u32,
    /// The contents' set and map entries, each an element of its own.
    entries: Vec<(Sym, u32)>,
    /// Its elements as last computed, and their degree.
    elements: Vec<Sym>,
    degree: f64,
    /// Whether `elements` are current (unset by every change; the vector
    /// is kept, to be filled again without allocating).
    fresh: bool,
    /// For plain memory: where to read the contents, which are hashed when
    /// a state is taken if they changed since (`dirty`).
    lazy: Option<std::sync::Weak<dyn Contents>>,
    dirty: bool,
}

/// Plain memory's contents, which the state reads when it is taken.
pub(crate) trait Contents {
    /// Hash the contents (`None`: they are being accessed, which no
    /// scheduling point can interrupt).
    fn hash_into(&self, fp: &mut Fp<'_>) -> Option<()>;
}

/// Tags that keep the parts of a history or an element apart.
mod tag {
    pub const BIRTH: u64 = 1;
    pub const WAKE: u64 = 3;
    pub const READ: u64 = 4;
    pub const SPAWN: u64 = 5;
    pub const JOIN: u64 = 6;
    pub const OBJ: u64 = 7;
    pub const THREAD: u64 = 8;
    pub const HELD: u64 = 9;
    pub const FREE: u64 = 10;
    pub const WAITING: u64 = 11;
    pub const EXPLICIT: u64 = 12;
    pub const ENTRY: u64 = 13;
}

/// The interchangeable actors of a scenario, in classes whose members may
/// be renamed into each other.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Symmetry {
    /// Each class: the task ids of its actors (2 or more).
    pub classes: Vec<Vec<TaskId>>,
}

impl Symmetry {
    /// No symmetry.
    pub fn none() -> Symmetry {
        Symmetry::default()
    }

    /// Actors in all classes.
    pub fn actors(&self) -> usize {
        self.classes.iter().map(Vec::len).sum()
    }

    /// The number of renamings: the product of the classes' factorials.
    pub fn group_order(&self) -> f64 {
        self.classes
            .iter()
            .map(|c| (1..=c.len()).map(|k| k as f64).product::<f64>())
            .product()
    }
}

/// One execution's state, as the facade keeps it. Lives in a thread-local
/// while the stateful engine runs; absent otherwise (loom and the sampling
/// engines pay one thread-local read per facade operation).
struct Ctx {
    keys: std::sync::Arc<Keys>,
    /// By task id: the actor's variable index, for interchangeable actors.
    sym_of: Vec<Option<u8>>,
    /// Classes of variable indices.
    classes: Vec<Vec<u8>>,
    n: usize,
    threads: Vec<Option<Thr>>,
    /// Shuttle's task index → task id.
    engine_tasks: Vec<TaskId>,
    objects: Vec<Option<Obj>>,
    free_slots: Vec<u32>,
    current: TaskId,
    seqs: Vec<u32>,
    /// Longest content seen, in tokens (for the degree bound).
    max_content: u32,
    /// Inside [`unobserved`]: reads record nothing.
    quiet: u32,
    /// Element vectors of objects gone, for new ones to reuse.
    spare_elements: Vec<Vec<Sym>>,
    /// Whether histories and contents are hashed. Off while an execution
    /// replays a prefix whose states the search has kept ([`Snapshot`]):
    /// only the structure (tasks, objects, who holds what, what each task
    /// is about to do) is kept up to date, and the arithmetic is restored
    /// from the snapshot where the replay ends.
    hashing: bool,
}

thread_local! {
    static CTX: RefCell<Option<Ctx>> = const { RefCell::new(None) };
}

#[inline]
fn with_ctx<R>(f: impl FnOnce(&mut Ctx) -> R) -> Option<R> {
    CTX.with(|c| c.borrow_mut().as_mut().map(f))
}

/// Whether fingerprints are being kept (the stateful engine runs).
pub fn active() -> bool {
    CTX.with(|c| c.borrow().is_some())
}

impl Ctx {
    fn fp(&self, entries: bool) -> Fp<'_> {
        Fp {
            keys: &self.keys,
            sym_of: &self.sym_of,
            acc: Sym::default(),
            pow: F2::ONE,
            len: 0,
            entries: entries.then(Vec::new),
        }
    }

    /// A value as observed: one polynomial, entries in line.
    fn content(&mut self, v: &dyn Fingerprint) -> (Sym, u32) {
        if !self.hashing {
            return (Sym::default(), 0);
        }
        let mut fp = self.fp(false);
        v.fingerprint(&mut fp);
        let (acc, len) = (fp.acc, fp.len);
        self.max_content = self.max_content.max(len);
        (acc, len)
    }

    /// An object's contents: a polynomial, and its entries apart.
    fn contents(&mut self, v: &dyn Fingerprint) -> (Sym, u32, Vec<(Sym, u32)>) {
        if !self.hashing {
            return (Sym::default(), 0, Vec::new());
        }
        let mut fp = self.fp(true);
        v.fingerprint(&mut fp);
        let (acc, len, entries) = (fp.acc, fp.len, fp.entries.unwrap_or_default());
        let longest = entries.iter().map(|e| e.1).max().unwrap_or(0);
        self.max_content = self.max_content.max(len).max(longest);
        (acc, len, entries)
    }

    fn thr(&mut self, t: TaskId) -> &mut Thr {
        self.threads[t.0]
            .as_mut()
            .expect("facade operation by a task the facade does not know")
    }

    /// Append a plain token to `t`'s history.
    fn hist_tok(&mut self, t: TaskId, v: u64) {
        if !self.hashing {
            return;
        }
        let h = self.keys.h;
        let th = self.thr(t);
        th.cache = None;
        let s = &mut th.hist;
        s.acc.base = s.acc.base.add(F2::scalar(v + 1).mul(s.pow));
        s.step(h);
    }

    /// Append a task id to `t`'s history.
    fn hist_task(&mut self, t: TaskId, x: TaskId) {
        if !self.hashing {
            return;
        }
        let h = self.keys.h;
        match self.sym_of.get(x.0).copied().flatten() {
            Some(a) => {
                let th = self.thr(t);
                th.cache = None;
                let s = &mut th.hist;
                s.acc.g[a as usize] = s.acc.g[a as usize].add(s.pow);
                s.step(h);
            }
            None => self.hist_tok(t, x.0 as u64 + 1),
        }
    }

    /// Embed a content of `len` tokens (factor `e`) at the next position of
    /// `t`'s history.
    fn hist_embed(&mut self, t: TaskId, c: &Sym, len: u32) {
        if !self.hashing {
            return;
        }
        let (h, e, n) = (self.keys.h, self.keys.e, self.n);
        let th = self.thr(t);
        th.cache = None;
        let s = &mut th.hist;
        let k = e.mul(s.pow);
        s.acc.add_scaled(c, k, n);
        s.step_embed(h, len + 1);
    }

    fn new_seq(&mut self, t: TaskId) -> u32 {
        if self.seqs.len() <= t.0 {
            self.seqs.resize(t.0 + 1, 0);
        }
        let s = self.seqs[t.0];
        self.seqs[t.0] += 1;
        s
    }
}

// ---------------------------------------------------------------------------
// The facade's hooks (called by `crate::sync` only).

/// Start keeping state for a new execution: the harness is task 0 and
/// shuttle's task 0. With `hashing` off, the execution replays a prefix
/// whose last state the caller kept: only the structure is kept up to date
/// until [`restore`] brings that state's histories and contents back.
pub fn begin(keys: std::sync::Arc<Keys>, sym: &Symmetry, hashing: bool) {
    let mut sym_of = Vec::new();
    let mut classes = Vec::new();
    let mut n = 0u8;
    for class in &sym.classes {
        let mut c = Vec::new();
        for t in class {
            if sym_of.len() <= t.0 {
                sym_of.resize(t.0 + 1, None);
            }
            sym_of[t.0] = Some(n);
            c.push(n);
            n += 1;
        }
        classes.push(c);
    }
    assert!(
        (n as usize) <= MAX_SYM,
        "more than {MAX_SYM} interchangeable actors"
    );
    let root = Thr {
        hist: Stream::new(),
        depth: 0,
        root: None,
        pending: Op::Running,
        waits_on: None,
        woken: Woken::No,
        engine_index: 0,
        explicit: None,
        cache: None,
    };
    let mut b = match CTX.with(|c| c.borrow_mut().take()) {
        Some(last) => Buffers::of(last),
        None => SPARE.with(|s| s.take()).unwrap_or_default(),
    };
    b.threads.push(Some(root));
    b.engine_tasks.push(TaskId(0));
    let ctx = Ctx {
        keys,
        sym_of,
        classes,
        n: n as usize,
        threads: b.threads,
        engine_tasks: b.engine_tasks,
        objects: b.objects,
        free_slots: b.free_slots,
        current: TaskId(0),
        seqs: b.seqs,
        max_content: 0,
        quiet: 0,
        spare_elements: b.spare_elements,
        hashing,
    };
    CTX.with(|c| *c.borrow_mut() = Some(ctx));
}

/// The vectors of the last execution's context, emptied, for the next one
/// to fill without growing them again from nothing.
#[derive(Default)]
struct Buffers {
    threads: Vec<Option<Thr>>,
    engine_tasks: Vec<TaskId>,
    objects: Vec<Option<Obj>>,
    free_slots: Vec<u32>,
    seqs: Vec<u32>,
    spare_elements: Vec<Vec<Sym>>,
}

impl Buffers {
    fn of(c: Ctx) -> Buffers {
        let mut b = Buffers {
            threads: c.threads,
            engine_tasks: c.engine_tasks,
            objects: c.objects,
            free_slots: c.free_slots,
            seqs: c.seqs,
            spare_elements: c.spare_elements,
        };
        b.threads.clear();
        b.engine_tasks.clear();
        b.spare_elements
            .extend(b.objects.drain(..).flatten().map(|o| o.elements));
        b.objects.clear();
        b.free_slots.clear();
        b.seqs.clear();
        b
    }
}

thread_local! {
    static SPARE: RefCell<Option<Buffers>> = const { RefCell::new(None) };
}

/// Stop keeping state (the run is over, or the execution goes on without).
pub fn end() {
    if let Some(c) = CTX.with(|c| c.borrow_mut().take()) {
        SPARE.with(|s| *s.borrow_mut() = Some(Buffers::of(c)));
    }
}

/// A new object with this initial content: its registry slot and identity.
pub(crate) fn register(v: &dyn Fingerprint) -> Option<(u32, ObjId)> {
    with_ctx(|c| {
        let t = c.current;
        let id = ObjId {
            creator: t,
            seq: c.new_seq(t),
        };
        let (content, content_len, entries) = c.contents(v);
        let root = c
            .threads
            .get(t.0)
            .and_then(|x| x.as_ref())
            .and_then(|x| x.root);
        let obj = Obj {
            id,
            root,
            held: None,
            content,
            content_len,
            entries,
            elements: c.spare_elements.pop().unwrap_or_default(),
            degree: 0.0,
            fresh: false,
            lazy: None,
            dirty: false,
        };
        let slot = match c.free_slots.pop() {
            Some(s) => {
                c.objects[s as usize] = Some(obj);
                s
            }
            None => {
                c.objects.push(Some(obj));
                (c.objects.len() - 1) as u32
            }
        };
        (slot, id)
    })
}

/// The object is gone.
pub(crate) fn unregister(slot: u32) {
    with_ctx(|c| {
        if let Some(o) = c.objects.get_mut(slot as usize) {
            if let Some(o) = o.take() {
                c.free_slots.push(slot);
                c.spare_elements.push(o.elements);
            }
        }
    });
}

/// The current task is about to do `op`. Every operation a task enters is
/// part of its history: a task's stack is a function of its history only if
/// every step it takes leaves a mark there, including the steps that
/// observe nothing.
pub(crate) fn pending(op: Op) {
    with_ctx(|c| c.enter(op));
}

impl Ctx {
    fn enter(&mut self, op: Op) {
        let t = self.current;
        self.thr(t).pending = op;
        if op != Op::Running {
            // The object of an Acquire or Wait is not written: which object
            // a task's code names is a function of its history so far.
            self.hist_tok(t, op.code());
        }
    }
}

/// The current task took the lock of `slot`: it sees the contents.
pub(crate) fn acquired(slot: u32) {
    with_ctx(|c| {
        let t = c.current;
        let (content, len) = {
            let o = c.objects[slot as usize].as_mut().expect("live object");
            o.held = Some(t);
            o.fresh = false;
            (o.content, o.content_len)
        };
        // What it found, right after the Acquire that named the object.
        c.hist_embed(t, &content, len);
        c.thr(t).pending = Op::Running;
    });
}

impl Ctx {
    /// The lock of `slot` is released, with contents `v` (`None`: as they
    /// were when it was taken).
    fn unlock(&mut self, slot: u32, v: Option<&dyn Fingerprint>) {
        let new = v.filter(|_| self.hashing).map(|v| self.contents(v));
        let o = self.objects[slot as usize].as_mut().expect("live object");
        o.held = None;
        if let Some((content, len, entries)) = new {
            o.content = content;
            o.content_len = len;
            o.entries = entries;
        }
        o.fresh = false;
    }
}

/// The current task is about to release the lock of `slot`, whose contents
/// are now `v` (`None`: unchanged since it took the lock).
pub(crate) fn releasing(slot: u32, v: Option<&dyn Fingerprint>) {
    with_ctx(|c| {
        c.unlock(slot, v);
        c.enter(Op::Release);
    });
}

/// The current task waits on condition variable `cv` with the lock of
/// `slot`, whose contents are now `v` (`None`: unchanged since it took the
/// lock); it releases the lock.
pub(crate) fn wait_begins(slot: u32, cv: usize, v: Option<&dyn Fingerprint>) {
    with_ctx(|c| {
        c.unlock(slot, v);
        c.enter(Op::Wait(slot));
        let t = c.current;
        let th = c.thr(t);
        th.waits_on = Some(cv);
        th.woken = Woken::No;
    });
}

/// The current task is back from its wait, holding the lock again.
pub(crate) fn wait_ends(slot: u32) {
    with_ctx(|c| {
        let t = c.current;
        {
            let th = c.thr(t);
            th.waits_on = None;
            th.woken = Woken::No;
        }
        let (content, len) = {
            let o = c.objects[slot as usize].as_mut().expect("live object");
            o.held = Some(t);
            o.fresh = false;
            (o.content, o.content_len)
        };
        // What it found, right after the Wait that named the object.
        c.hist_tok(t, tag::WAKE);
        c.hist_embed(t, &content, len);
        c.thr(t).pending = Op::Running;
    });
}

/// The current task wakes every waiter of condition variable `cv`.
pub(crate) fn notify_all(cv: usize) {
    with_ctx(|c| {
        for th in c.threads.iter_mut().flatten() {
            if th.waits_on == Some(cv) && th.woken == Woken::No {
                th.woken = Woken::Yes;
            }
        }
        c.enter(Op::Notify);
    });
}

/// The current task read `v` from plain memory (which memory is a function
/// of its history so far, so it is not written).
pub(crate) fn observed(v: &dyn Fingerprint) {
    with_ctx(|c| {
        if c.quiet > 0 || !c.hashing {
            return;
        }
        let t = c.current;
        let (content, len) = c.content(v);
        // The value read (which object the code reads from is a function of
        // its history so far).
        c.hist_tok(t, tag::READ);
        c.hist_embed(t, &content, len);
    });
}

/// Run `f`, which only builds trace text, with reads recording nothing: a
/// run with the trace on must reach the states a run without it does (the
/// stateful engine checks that when it replays a counterexample).
pub fn unobserved<R>(f: impl FnOnce() -> R) -> R {
    struct Loud;
    impl Drop for Loud {
        fn drop(&mut self) {
            with_ctx(|c| c.quiet -= 1);
        }
    }
    if with_ctx(|c| c.quiet += 1).is_none() {
        return f();
    }
    let _loud = Loud;
    f()
}

/// The plain memory in `slot` changed: its contents are hashed again when
/// the next state is taken.
pub(crate) fn stored(slot: u32) {
    with_ctx(|c| {
        let o = c.objects[slot as usize].as_mut().expect("live object");
        o.dirty = true;
        o.fresh = false;
    });
}

/// The object in `slot` is plain memory whose contents `w` reads.
pub(crate) fn lazy(slot: u32, w: std::sync::Weak<dyn Contents>) {
    with_ctx(|c| {
        let o = c.objects[slot as usize].as_mut().expect("live object");
        o.lazy = Some(w);
    });
}

impl Ctx {
    /// Hash the plain memory that changed since the last state.
    fn refresh(&mut self) {
        for i in 0..self.objects.len() {
            let Some(o) = &self.objects[i] else { continue };
            if !o.dirty {
                continue;
            }
            let Some(w) = o.lazy.as_ref().and_then(std::sync::Weak::upgrade) else {
                continue;
            };
            let mut fp = self.fp(true);
            w.hash_into(&mut fp)
                .expect("plain memory accessed across a scheduling point");
            let (acc, len, entries) = (fp.acc, fp.len, fp.entries.unwrap_or_default());
            let longest = entries.iter().map(|e| e.1).max().unwrap_or(0);
            self.max_content = self.max_content.max(len).max(longest);
            let o = self.objects[i].as_mut().expect("checked");
            o.content = acc;
            o.content_len = len;
            o.entries = entries;
            o.dirty = false;
            o.fresh = false;
        }
    }
}

/// From now on the current task's state is `v` (with the shared state), not
/// its history: for a task whose stack the caller can describe in full
/// (the harness while it reaps: the tasks it has yet to join).
pub(crate) fn describe_self(v: &dyn Fingerprint) {
    with_ctx(|c| {
        let (content, len) = c.content(v);
        let t = c.current;
        let th = c.thr(t);
        th.explicit = Some((content, len));
        th.cache = None;
    });
}

/// The current task starts task `child`, which shuttle numbers
/// `engine_index`. The child's history starts with its birth: what its
/// closure captured. That is `birth` where the caller can say it in full
/// (an actor's specification, the timer); otherwise the parent's history,
/// of which the closure's captures are a function.
pub(crate) fn spawned(child: TaskId, engine_index: usize, birth: Option<&dyn Fingerprint>) {
    with_ctx(|c| {
        let t = c.current;
        c.enter(Op::Spawn);
        c.hist_tok(t, tag::SPAWN);
        c.hist_task(t, child);
        let parent = c.thr(t).clone();
        let (h, b, n) = (c.keys.h, c.keys.b, c.n);
        let mut s = Stream::new();
        s.acc.base = s.acc.base.add(F2::scalar(tag::BIRTH + 1));
        s.step(h);
        let own_root = c.sym_of.get(child.0).copied().flatten();
        let th = Thr {
            hist: s,
            depth: parent.depth + 1,
            root: own_root.or(parent.root),
            pending: Op::Start,
            waits_on: None,
            woken: Woken::No,
            engine_index,
            explicit: None,
            cache: None,
        };
        if c.threads.len() <= child.0 {
            c.threads.resize(child.0 + 1, None);
        }
        c.threads[child.0] = Some(th);
        match birth {
            Some(v) => {
                // BIRTH, EXPLICIT, what the closure captured (factor e).
                c.hist_tok(child, tag::EXPLICIT);
                let (content, len) = c.content(v);
                c.hist_embed(child, &content, len);
            }
            None if !c.hashing => {}
            None => {
                // BIRTH, the parent, then the parent's history (factor b).
                c.hist_task(child, t);
                let th = c.thr(child);
                th.cache = None;
                let k = b.mul(th.hist.pow);
                th.hist.acc.add_scaled(&parent.hist.acc, k, n);
                th.hist.step_embed(h, parent.hist.deg);
            }
        }
        if c.engine_tasks.len() <= engine_index {
            c.engine_tasks.resize(engine_index + 1, TaskId(usize::MAX));
        }
        c.engine_tasks[engine_index] = child;
    });
}

/// How many tasks shuttle has numbered in this execution: the index the
/// next one gets (shuttle numbers tasks in the order they are started).
pub(crate) fn engine_task_count() -> usize {
    with_ctx(|c| c.engine_tasks.len()).unwrap_or(0)
}

/// The task whose body shuttle now runs for the first time.
pub(crate) fn started(child: TaskId) {
    with_ctx(|c| {
        c.current = child;
        c.thr(child).pending = Op::Running;
    });
}

/// The current task is about to join `target`.
pub(crate) fn joining() {
    pending(Op::Join);
}

/// The current task joined `target` (it has exited).
pub(crate) fn joined(target: TaskId) {
    with_ctx(|c| {
        let t = c.current;
        c.hist_tok(t, tag::JOIN);
        c.hist_task(t, target);
        c.thr(t).pending = Op::Running;
    });
}

/// The current task leaves its body.
pub(crate) fn exiting() {
    pending(Op::Exit);
}

/// The current task has exited: it is no longer part of the state (its
/// children carry what they inherited in their births).
pub fn exited(t: TaskId) {
    with_ctx(|c| {
        if let Some(x) = c.threads.get_mut(t.0) {
            *x = None;
        }
    });
}

/// The current task, as the facade knows it (the harness outside the stateful engine).
pub fn current() -> TaskId {
    with_ctx(|c| c.current).unwrap_or_default()
}

// ---------------------------------------------------------------------------
// The scheduler's side.

/// The task shuttle numbers `engine_index`.
pub fn task_of(engine_index: usize) -> TaskId {
    with_ctx(|c| c.engine_tasks.get(engine_index).copied())
        .flatten()
        .unwrap_or(TaskId(engine_index))
}

/// Shuttle's index of task `t`.
pub fn engine_index_of(t: TaskId) -> Option<usize> {
    with_ctx(|c| {
        c.threads
            .get(t.0)
            .and_then(|x| x.as_ref())
            .map(|x| x.engine_index)
    })
    .flatten()
}

/// The scheduler chose `t` to run next.
pub fn set_current(t: TaskId) {
    with_ctx(|c| c.current = t);
}

/// What task `t` is about to do.
pub fn pending_of(t: TaskId) -> Op {
    with_ctx(|c| {
        c.threads
            .get(t.0)
            .and_then(|x| x.as_ref())
            .map_or(Op::Running, |x| x.pending)
    })
    .unwrap_or(Op::Running)
}

/// Whether task `t` waits to take a lock another task holds: choosing it
/// would only block it again.
pub fn blocked_on_held_lock(t: TaskId) -> bool {
    with_ctx(|c| {
        let Some(Some(th)) = c.threads.get(t.0) else {
            return false;
        };
        match th.pending {
            Op::Acquire(s) => c.objects[s as usize]
                .as_ref()
                .and_then(|o| o.held)
                .is_some_and(|h| h != t),
            _ => false,
        }
    })
    .unwrap_or(false)
}

/// A state's fingerprint, with the renaming that made it canonical.
#[derive(Clone, Debug)]
pub struct Canonical {
    /// The fingerprint (two 61-bit values).
    pub fp: u128,
    /// `perm[a]` = the canonical index of actor variable `a`.
    pub perm: Vec<u8>,
    /// A bound on the total degree of the state's polynomial.
    pub degree: f64,
    /// Renamings tried.
    pub tried: usize,
}

/// Largest number of renamings tried to break ties among actors whose sort
/// keys are equal; past it, ties are broken by task id (sound, merges less).
pub const TIE_BREAK_LIMIT: usize = 6;

/// The fingerprint of the current state: every live object, every live
/// task (with `runnable` saying which may run), canonical over renamings of
/// the interchangeable actors.
pub fn fingerprint(runnable: &[TaskId]) -> Canonical {
    with_ctx(|c| canonical(c, runnable)).expect("fingerprint outside the stateful engine")
}

fn canonical(c: &mut Ctx, runnable: &[TaskId]) -> Canonical {
    assert!(
        c.hashing,
        "a fingerprint of a state whose histories are not hashed"
    );
    c.refresh();
    let degree = element_list(c, runnable);
    canonical_of(c, degree)
}

/// Compute the elements of every object and task whose elements changed
/// since they were last computed (each keeps them, see `Obj::cache` and
/// `Thr::cache`); returns the bound on the state polynomial's degree.
fn element_list(c: &mut Ctx, runnable: &[TaskId]) -> f64 {
    let (h, e, b) = (c.keys.h, c.keys.e, c.keys.b);
    let n = c.n;
    let push_tok = |s: &mut Stream, v: u64| {
        s.acc.base = s.acc.base.add(F2::scalar(v + 1).mul(s.pow));
        s.step(h);
    };
    let mut degree = 0f64;
    let sym_of = &c.sym_of;
    for o in c.objects.iter_mut().flatten() {
        if !o.fresh {
            let mut out = std::mem::take(&mut o.elements);
            out.clear();
            let mut deg = 0f64;
            let mut s = Stream::new();
            push_tok(&mut s, tag::OBJ);
            push_task(&mut s, sym_of, h, o.id.creator);
            push_tok(&mut s, u64::from(o.id.seq));
            match o.held {
                Some(t) => {
                    push_tok(&mut s, tag::HELD);
                    push_task(&mut s, sym_of, h, t);
                }
                None => push_tok(&mut s, tag::FREE),
            }
            let k = e.mul(s.pow);
            s.acc.add_scaled(&o.content, k, n);
            s.step_embed(h, o.content_len + 1);
            deg += f64::from(s.deg) + 1.0;
            out.push(s.acc);
            // Each entry: ENTRY, the object, the entry (factor e).
            for (content, len) in &o.entries {
                let mut s = Stream::new();
                push_tok(&mut s, tag::ENTRY);
                push_task(&mut s, sym_of, h, o.id.creator);
                push_tok(&mut s, u64::from(o.id.seq));
                let k = e.mul(s.pow);
                s.acc.add_scaled(content, k, n);
                s.step_embed(h, len + 1);
                deg += f64::from(s.deg) + 1.0;
                out.push(s.acc);
            }
            o.elements = out;
            o.degree = deg;
            o.fresh = true;
        }
        degree += o.degree;
    }
    // Which locks are held, by whom (for "waits for a lock another holds").
    let objects = &c.objects;
    let held = |o: u32| objects[o as usize].as_ref().and_then(|o| o.held);
    for (i, th) in c.threads.iter_mut().enumerate() {
        let Some(th) = th else { continue };
        let t = TaskId(i);
        // Runnable, with a task that waits for a lock another holds counted
        // as blocked (choosing it changes nothing but that).
        let runs = runnable.contains(&t)
            && !matches!(th.pending, Op::Acquire(o) if held(o).is_some_and(|x| x != t));
        let status = if th.explicit.is_some() {
            u8::from(runnable.contains(&t))
        } else {
            u8::from(runs)
                | u8::from(th.waits_on.is_some()) << 1
                | u8::from(th.woken == Woken::Yes) << 2
        };
        if th.cache.as_ref().map(|c| c.0) != Some(status) {
            let mut s = Stream::new();
            push_tok(&mut s, tag::THREAD);
            push_task(&mut s, sym_of, h, t);
            if let Some((content, len)) = &th.explicit {
                // What the task said of itself, then whether it can run.
                push_tok(&mut s, tag::EXPLICIT);
                let k = e.mul(s.pow);
                s.acc.add_scaled(content, k, n);
                s.step_embed(h, len + 1);
                push_tok(&mut s, u64::from(status));
            } else {
                push_tok(&mut s, u64::from(runs));
                if th.waits_on.is_some() {
                    push_tok(&mut s, tag::WAITING);
                    push_tok(&mut s, u64::from(th.woken == Woken::Yes));
                }
                let k = b.mul(s.pow);
                s.acc.add_scaled(&th.hist.acc, k, n);
                s.step_embed(h, th.hist.deg);
            }
            th.cache = Some((status, s.acc, f64::from(s.deg) + 1.0));
        }
        let (_, _, deg) = th.cache.as_ref().expect("just computed");
        degree += deg;
    }
    degree
}

/// Every element of the state, as [`element_list`] left them: each with
/// the actor that owns it (an object or task descending from it).
fn elements(c: &Ctx) -> impl Iterator<Item = (&Sym, Option<u8>)> {
    let objects = c.objects.iter().flatten().flat_map(|o| {
        debug_assert!(o.fresh, "elements computed");
        o.elements.iter().map(move |s| (s, o.root))
    });
    let threads = c.threads.iter().flatten().map(|th| {
        let (_, s, _) = th.cache.as_ref().expect("elements computed");
        (s, th.root)
    });
    objects.chain(threads)
}

fn canonical_of(c: &Ctx, degree: f64) -> Canonical {
    let n = c.n;
    let keys = &c.keys;
    let z = keys.z;
    // Elements that name no actor give the same factor under every renaming.
    let mut fixed = F2::ONE;
    let mut named: Vec<(&Sym, Option<u8>)> = Vec::new();
    for (s, owner) in elements(c) {
        if owner.is_some() || s.g.iter().take(n).any(|g| *g != F2::default()) {
            named.push((s, owner));
        } else {
            fixed = fixed.mul(z.sub(s.base));
        }
    }
    let value = |perm: &[u8]| -> F2 {
        let mut acc = fixed;
        for (s, _) in &named {
            acc = acc.mul(z.sub(s.eval(&keys.rho, perm, n)));
        }
        acc
    };
    let identity: Vec<u8> = (0..n as u8).collect();
    if n == 0 {
        return Canonical {
            fp: value(&identity).pack(),
            perm: identity,
            degree,
            tried: 1,
        };
    }
    // Sort keys, invariant under renaming: every element evaluated with
    // this actor as `x` and each other actor as a value of its own key of
    // the round before (colour refinement: the first round sees only "this
    // actor" and "another"; the next, run only if actors still tie, tells
    // the others apart by their keys). Elements the actor owns count apart.
    let mut skeys: Vec<F2> = vec![F2::ONE; n];
    for round in 0..2 {
        if round > 0 {
            let mut sorted = skeys.clone();
            sorted.sort();
            if sorted.windows(2).all(|w| w[0] != w[1]) {
                break;
            }
        }
        let others: Vec<F2> = skeys.iter().map(|k| keys.ky.add(k.mul(keys.kw))).collect();
        // Each element with every actor as "another": then actor a's value
        // differs by (x - others[a]) · g[a].
        let sums: Vec<F2> = named
            .iter()
            .map(|(s, _)| {
                let mut v = s.base;
                for (b, g) in s.g.iter().take(n).enumerate() {
                    v = v.add(others[b].mul(*g));
                }
                v
            })
            .collect();
        let next: Vec<F2> = (0..n)
            .map(|a| {
                let d = keys.kx.sub(others[a]);
                let mut acc = F2::ONE;
                for ((s, owner), sum) in named.iter().zip(&sums) {
                    let mut v = sum.add(d.mul(s.g[a]));
                    if owner.map(usize::from) == Some(a) {
                        v = keys.kx.add(v);
                    }
                    acc = acc.mul(z.sub(v));
                }
                acc
            })
            .collect();
        skeys = next;
    }
    // Within each class, order by key, ties by task id; collect tie groups.
    let mut perm = identity.clone();
    let mut ties: Vec<Vec<u8>> = Vec::new();
    for class in &c.classes {
        let mut members = class.clone();
        members.sort_by(|x, y| skeys[*x as usize].cmp(&skeys[*y as usize]).then(x.cmp(y)));
        for (i, m) in members.iter().enumerate() {
            perm[*m as usize] = class[i];
        }
        let mut i = 0;
        while i < members.len() {
            let mut j = i + 1;
            while j < members.len() && skeys[members[j] as usize] == skeys[members[i] as usize] {
                j += 1;
            }
            if j - i > 1 {
                ties.push(class[i..j].to_vec());
            }
            i = j;
        }
    }
    let combos: f64 = ties
        .iter()
        .map(|t| (1..=t.len()).map(|k| k as f64).product::<f64>())
        .product();
    if ties.is_empty() || combos > TIE_BREAK_LIMIT as f64 {
        return Canonical {
            fp: value(&perm).pack(),
            perm,
            degree,
            tried: 1,
        };
    }
    // Try every arrangement of the tied canonical positions.
    let mut best: Option<(F2, Vec<u8>)> = None;
    let mut tried = 0;
    let mut arrangement: Vec<Vec<u8>> = ties.clone();
    loop {
        let mut q = perm.clone();
        for (tie, arr) in ties.iter().zip(&arrangement) {
            for a in 0..n {
                if let Some(k) = tie.iter().position(|p| *p == perm[a]) {
                    q[a] = arr[k];
                }
            }
        }
        let v = value(&q);
        tried += 1;
        if best.as_ref().is_none_or(|(bv, _)| v < *bv) {
            best = Some((v, q));
        }
        let mut advanced = false;
        for arr in arrangement.iter_mut() {
            if next_permutation(arr) {
                advanced = true;
                break;
            }
            arr.sort();
        }
        if !advanced {
            break;
        }
    }
    let (v, q) = best.expect("at least one arrangement");
    Canonical {
        fp: v.pack(),
        perm: q,
        degree,
        tried,
    }
}

fn push_task(s: &mut Stream, sym_of: &[Option<u8>], h: F2, t: TaskId) {
    match sym_of.get(t.0).copied().flatten() {
        Some(a) => {
            s.acc.g[a as usize] = s.acc.g[a as usize].add(s.pow);
            s.step(h);
        }
        None => {
            s.acc.base = s.acc.base.add(F2::scalar(t.0 as u64 + 2).mul(s.pow));
            s.step(h);
        }
    }
}

fn next_permutation(v: &mut [u8]) -> bool {
    if v.len() < 2 {
        return false;
    }
    let mut i = v.len() - 1;
    while i > 0 && v[i - 1] >= v[i] {
        i -= 1;
    }
    if i == 0 {
        return false;
    }
    let mut j = v.len() - 1;
    while v[j] <= v[i - 1] {
        j -= 1;
    }
    v.swap(i - 1, j);
    v[i..].reverse();
    true
}

/// The renaming `perm` applied to task `t`: an interchangeable actor goes to
/// the actor at its canonical index; every other task stays.
pub fn rename(t: TaskId, perm: &[u8]) -> TaskId {
    with_ctx(|c| match c.sym_of.get(t.0).copied().flatten() {
        Some(a) => {
            let target = perm[a as usize];
            c.sym_of
                .iter()
                .position(|x| *x == Some(target))
                .map_or(t, TaskId)
        }
        None => t,
    })
    .unwrap_or(t)
}

/// The inverse of [`rename`].
pub fn unrename(t: TaskId, perm: &[u8]) -> TaskId {
    with_ctx(|c| match c.sym_of.get(t.0).copied().flatten() {
        Some(target) => perm
            .iter()
            .position(|p| *p == target)
            .and_then(|a| c.sym_of.iter().position(|x| *x == Some(a as u8)))
            .map_or(t, TaskId),
        None => t,
    })
    .unwrap_or(t)
}

// ---------------------------------------------------------------------------
// Snapshots: a state's arithmetic, kept by the search for the replays.

/// The arithmetic part of the current state: every task's history and
/// every object's contents, as hashed so far (the structure, who exists,
/// holds or waits, is left out: a replay rebuilds it by running the model).
///
/// The search re-runs the model from the start for every schedule (shuttle
/// cannot resume one), and replays the decisions of the path up to the
/// decision it takes a new choice at. Hashing that replayed prefix again
/// would recompute, step by step, values the search already had when it
/// first reached that decision. So it keeps a snapshot of each decision on
/// its path with a choice left; a replay runs with hashing off and restores
/// the snapshot at that decision. What makes it exact: the model is
/// deterministic, so the replayed execution reaches that decision with the
/// same tasks and objects, in the same slots, with the same contents, as
/// the execution that took the snapshot (the search checks the choices
/// offered, and [`restore`] checks every slot's task and object).
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    threads: Vec<Option<ThrArith>>,
    objects: Vec<Option<ObjArith>>,
    /// The objects' set and map entries, each object's a range of it.
    entries: Vec<(Sym, u32)>,
    /// The objects' elements, each current object's a range of it (kept
    /// so that the first state after a restore does not compute them all).
    elements: Vec<Sym>,
    max_content: u32,
}

#[derive(Clone, Debug)]
struct ThrArith {
    hist: Stream,
    explicit: Option<(Sym, u32)>,
    cache: Option<(u8, Sym, f64)>,
}

#[derive(Clone, Debug)]
struct ObjArith {
    id: ObjId,
    content: Sym,
    content_len: u32,
    entries: std::ops::Range<usize>,
    /// Its elements and their degree, if they were current.
    elements: Option<(std::ops::Range<usize>, f64)>,
}

/// The current state's arithmetic (taken at a decision, after
/// [`fingerprint`], when every plain memory's contents are hashed).
pub fn snapshot() -> Snapshot {
    with_ctx(|c| {
        debug_assert!(c.hashing, "a snapshot of a state not hashed");
        let mut entries = Vec::new();
        let mut elements = Vec::new();
        let objects = c
            .objects
            .iter()
            .map(|o| {
                o.as_ref().map(|o| {
                    debug_assert!(!o.dirty, "a snapshot before the plain memory was hashed");
                    let start = entries.len();
                    entries.extend_from_slice(&o.entries);
                    let els = o.fresh.then(|| {
                        let from = elements.len();
                        elements.extend_from_slice(&o.elements);
                        (from..elements.len(), o.degree)
                    });
                    ObjArith {
                        id: o.id,
                        content: o.content,
                        content_len: o.content_len,
                        entries: start..entries.len(),
                        elements: els,
                    }
                })
            })
            .collect();
        let threads = c
            .threads
            .iter()
            .map(|t| {
                t.as_ref().map(|t| ThrArith {
                    hist: t.hist,
                    explicit: t.explicit,
                    cache: t.cache,
                })
            })
            .collect();
        Snapshot {
            threads,
            objects,
            entries,
            elements,
            max_content: c.max_content,
        }
    })
    .expect("snapshot outside the stateful engine")
}

/// Bring back the arithmetic of `snap`, taken at the decision a replay has
/// now reached, and hash from here on.
///
/// # Panics
///
/// If the replay's tasks or objects differ from the snapshot's: the model
/// is then not deterministic, and no state of this search can be trusted.
pub fn restore(snap: &Snapshot) {
    with_ctx(|c| {
        assert_eq!(
            (c.threads.len(), c.objects.len()),
            (snap.threads.len(), snap.objects.len()),
            "the model is not deterministic: a replay reached a kept decision with other tasks or objects"
        );
        for (t, s) in c.threads.iter_mut().zip(&snap.threads) {
            match (t, s) {
                (Some(t), Some(s)) => {
                    t.hist = s.hist;
                    t.explicit = s.explicit;
                    t.cache = s.cache;
                }
                (None, None) => {}
                _ => panic!(
                    "the model is not deterministic: a replay reached a kept decision with other tasks"
                ),
            }
        }
        for (o, s) in c.objects.iter_mut().zip(&snap.objects) {
            match (o, s) {
                (Some(o), Some(s)) if o.id == s.id => {
                    o.content = s.content;
                    o.content_len = s.content_len;
                    o.entries.clear();
                    o.entries.extend_from_slice(&snap.entries[s.entries.clone()]);
                    match &s.elements {
                        Some((range, degree)) => {
                            o.elements.clear();
                            o.elements.extend_from_slice(&snap.elements[range.clone()]);
                            o.degree = *degree;
                            o.fresh = true;
                        }
                        None => o.fresh = false,
                    }
                    o.dirty = false;
                }
                (None, None) => {}
                _ => panic!(
                    "the model is not deterministic: a replay reached a kept decision with other objects"
                ),
            }
        }
        c.max_content = snap.max_content;
        c.hashing = true;
    })
    .expect("restore outside the stateful engine");
}

/// Whether the current execution hashes (see [`begin`]).
pub fn hashing() -> bool {
    with_ctx(|c| c.hashing).unwrap_or(false)
}

/// Whether the arithmetic of the current state equals `snap`'s (a replay
/// that hashed its prefix checks the snapshot it would have restored). The
/// plain memory changed since the last state is hashed first, as taking a
/// state does.
pub fn matches(snap: &Snapshot) -> bool {
    // The plain memory is hashed when a state is taken: hash what changed.
    with_ctx(Ctx::refresh);
    let now = snapshot();
    // A thread's history and self-description (its cached element is
    // derived from them); an object's identity, contents and entries.
    let thr = |t: &ThrArith| (t.hist, t.explicit);
    let obj = |o: &ObjArith, s: &Snapshot| {
        (
            o.id.creator,
            o.id.seq,
            o.content,
            o.content_len,
            s.entries[o.entries.clone()].to_vec(),
        )
    };
    now.max_content == snap.max_content
        && now
            .threads
            .iter()
            .map(|t| t.as_ref().map(thr))
            .eq(snap.threads.iter().map(|t| t.as_ref().map(thr)))
        && now
            .objects
            .iter()
            .map(|o| o.as_ref().map(|o| obj(o, &now)))
            .eq(snap
                .objects
                .iter()
                .map(|o| o.as_ref().map(|o| obj(o, snap))))
}

/// The probability bound of a run that computed `queries` fingerprints,
/// each the least of at most `renamings` evaluations, of polynomials of
/// total degree at most `degree`: `(queries·renamings)²/2 · (degree/p)²`
/// (Schwartz–Zippel at two independent points, union bound over pairs).
pub fn collision_bound(queries: f64, renamings: f64, degree: f64) -> f64 {
    let pairs = (queries * renamings).powi(2) / 2.0;
    let one = (degree / P as f64).powi(2);
    (pairs * one).min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_arithmetic() {
        assert_eq!(fmul(P - 1, P - 1), 1);
        assert_eq!(fadd(P - 1, 1), 0);
        assert_eq!(fmul(1 << 60, 2), 1); // 2^61 ≡ 1
        let a = 123_456_789_012_345u64;
        let b = 987_654_321_098_765u64;
        assert_eq!(
            fmul(a, b),
            ((u128::from(a) * u128::from(b)) % u128::from(P)) as u64
        );
    }

    #[test]
    fn permutations_are_enumerated() {
        let mut v = vec![0u8, 1, 2];
        let mut n = 1;
        while next_permutation(&mut v) {
            n += 1;
        }
        assert_eq!(n, 6);
    }

    #[test]
    fn contents_that_differ_hash_apart() {
        let keys = std::sync::Arc::new(Keys::from_seed(7));
        let sym = Symmetry {
            classes: vec![vec![TaskId(1), TaskId(2)]],
        };
        begin(keys, &sym, true);
        let h = |v: &dyn Fingerprint| {
            with_ctx(|c| {
                let (s, _) = c.content(v);
                let id: Vec<u8> = vec![0, 1];
                s.eval(&c.keys.rho, &id, c.n)
            })
            .unwrap()
        };
        let a = h(&(vec![1u32, 2], Some(TaskId(1))));
        let b = h(&(vec![1u32, 2], Some(TaskId(2))));
        let c = h(&(vec![12u32], Some(TaskId(1))));
        let d = h(&(vec![1u32, 2], Some(TaskId(3))));
        assert_ne!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
        assert_eq!(a, h(&(vec![1u32, 2], Some(TaskId(1)))));
        end();
    }

    /// A snapshot brings a state's arithmetic back, and [`matches`] tells a
    /// state from another: what the replays restore and what
    /// `Replays::Verify` checks.
    #[test]
    fn a_snapshot_restores_the_state_it_kept() {
        let keys = std::sync::Arc::new(Keys::from_seed(7));
        begin(keys.clone(), &Symmetry::none(), true);
        register(&5u32).unwrap();
        observed(&5u32);
        let at = || fingerprint(&[TaskId(0)]).fp;
        let kept_fp = at();
        let kept = snapshot();
        assert!(matches(&kept));
        observed(&6u32);
        assert!(!matches(&kept), "a new observation went unnoticed");
        assert_ne!(at(), kept_fp);
        end();
        // A replay of the same steps with hashing off: restored, it is the
        // state kept; hashing on again, it moves on as the first run did.
        begin(keys, &Symmetry::none(), false);
        assert!(!hashing());
        register(&5u32).unwrap();
        observed(&5u32);
        restore(&kept);
        assert!(hashing());
        assert!(matches(&kept));
        assert_eq!(at(), kept_fp);
        observed(&6u32);
        assert!(!matches(&kept));
        end();
    }

    /// A replay that reaches the kept decision with other objects is a
    /// model that is not deterministic, and stops the search.
    #[test]
    #[should_panic(expected = "not deterministic")]
    fn a_replay_with_other_objects_is_refused() {
        let keys = std::sync::Arc::new(Keys::from_seed(7));
        begin(keys.clone(), &Symmetry::none(), true);
        register(&5u32).unwrap();
        let kept = snapshot();
        end();
        begin(keys, &Symmetry::none(), false);
        register(&5u32).unwrap();
        register(&6u32).unwrap();
        restore(&kept);
    }

    /// A read changes the reader's history, and so the state; the same read
    /// for the trace ([`unobserved`]) does not.
    #[test]
    fn a_read_for_the_trace_is_not_an_observation() {
        let keys = std::sync::Arc::new(Keys::from_seed(7));
        begin(keys, &Symmetry::none(), true);
        register(&5u32).unwrap();
        let at = || fingerprint(&[TaskId(0)]).fp;
        let before = at();
        unobserved(|| observed(&5u32));
        assert_eq!(at(), before, "a read for the trace changed the state");
        observed(&5u32);
        let after = at();
        assert_ne!(after, before, "a read did not change the state");
        // Nested, and the count restored.
        unobserved(|| unobserved(|| observed(&6u32)));
        assert_eq!(at(), after);
        observed(&6u32);
        assert_ne!(at(), after);
        end();
    }
}
