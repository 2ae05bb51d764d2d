//! The invariant the stateful engine's proofs rest on (README, "Soundness"):
//! all state that drives behaviour, or that a property reads, lives in
//! objects of the engine facade (`model/src/sync.rs`), whose contents enter
//! the state's fingerprint, and a task's own state enters it through what
//! the task observed. A `std` cell shared between tasks would be state the
//! fingerprint does not see: two different states would hash alike and the
//! search would prune one of them unseen.
//!
//! So, outside the facade (`sync.rs`, `state.rs`) and the write-only trace
//! (`trace.rs`), no model or property source may hold interior mutability of
//! its own: no `std` lock, atomic, `Cell`, `thread_local!`, `static mut` or
//! lazily initialised static. `Arc` and `Weak` share immutable values and
//! facade objects, and are allowed. And behaviour never reads the trace.

use std::path::{Path, PathBuf};

/// The files allowed to hold interior mutability, and why.
const FACADE: [(&str, &str); 4] = [
    ("model/src/sync.rs", "the engine facade"),
    (
        "model/src/state.rs",
        "the fingerprint's per-execution context",
    ),
    (
        "model/src/trace.rs",
        "the write-only trace and the recorder",
    ),
    (
        "model/src/variant.rs",
        "interned LOADER+BUDGET ids, made before any execution",
    ),
];

/// Spellings of interior mutability outside the facade.
const FORBIDDEN: [&str; 14] = [
    "std::sync::Mutex",
    "std::sync::RwLock",
    "std::sync::Condvar",
    "std::sync::atomic",
    "std::sync::OnceLock",
    "std::sync::LazyLock",
    "std::sync::{",
    "std::cell",
    "Cell<",
    "RefCell",
    "UnsafeCell",
    "thread_local!",
    "static mut",
    "lazy_static",
];

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The code of a source file, comments dropped, with line numbers.
fn code(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.split("//").next().unwrap_or("")))
}

fn violations(root: &Path) -> Vec<String> {
    let mut files = Vec::new();
    sources(&root.join("model/src"), &mut files);
    sources(&root.join("properties/src"), &mut files);
    let mut bad = Vec::new();
    for f in files {
        let rel = f
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let text = std::fs::read_to_string(&f).unwrap();
        let facade = FACADE.iter().any(|(p, _)| *p == rel);
        for (n, line) in code(&text) {
            if !facade {
                for w in FORBIDDEN {
                    // `std::sync::{Arc, Weak}` is sharing, not mutation.
                    if w == "std::sync::{"
                        && line.contains(w)
                        && line
                            .split("std::sync::{")
                            .nth(1)
                            .and_then(|r| r.split('}').next())
                            .is_some_and(|items| {
                                items.split(',').all(|i| matches!(i.trim(), "Arc" | "Weak"))
                            })
                    {
                        continue;
                    }
                    if line.contains(w) {
                        bad.push(format!(
                            "{rel}:{n}: `{w}` outside the facade: {}",
                            line.trim()
                        ));
                    }
                }
            }
            // Behaviour never reads the trace: only the engines do.
            if !rel.ends_with("trace.rs") && line.contains(".trace()") {
                bad.push(format!("{rel}:{n}: reads the trace: {}", line.trim()));
            }
        }
    }
    bad
}

#[test]
fn no_state_outside_the_facade() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bad = violations(root);
    assert!(
        bad.is_empty(),
        "state the fingerprint cannot see (tests/discipline.rs says why):\n{}",
        bad.join("\n")
    );
}

/// The check sees what it looks for: a copy of the model with a shared
/// `std` cell in a kernel file fails it.
#[test]
fn the_check_finds_a_shared_cell() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = std::env::temp_dir().join(format!("kmodcheck-discipline-{}", std::process::id()));
    for sub in ["model/src/kernel", "properties/src"] {
        std::fs::create_dir_all(tmp.join(sub)).unwrap();
    }
    let planted = "use std::sync::{Arc, Mutex};\npub struct Idem { ret: std::cell::Cell<i32> } // a plain cell\n";
    std::fs::write(tmp.join("model/src/kernel/idempotent.rs"), planted).unwrap();
    std::fs::write(
        tmp.join("properties/src/lib.rs"),
        "fn f(r: &Recorder) { let _ = r.trace(); }\n",
    )
    .unwrap();
    let bad = violations(&tmp);
    let _ = std::fs::remove_dir_all(&tmp);
    assert!(
        bad.iter()
            .any(|b| b.contains("idempotent.rs:1") && b.contains("std::sync::{")),
        "{bad:?}"
    );
    assert!(
        bad.iter()
            .any(|b| b.contains("idempotent.rs:2") && b.contains("Cell<")),
        "{bad:?}"
    );
    assert!(
        bad.iter()
            .any(|b| b.contains("lib.rs:1") && b.contains("reads the trace")),
        "{bad:?}"
    );
    // The allowed sharing is not flagged.
    std::fs::create_dir_all(tmp.join("model/src")).unwrap();
    std::fs::create_dir_all(tmp.join("properties/src")).unwrap();
    std::fs::write(
        tmp.join("model/src/world.rs"),
        "use std::sync::{Arc, Weak};\nuse std::sync::Arc;\n",
    )
    .unwrap();
    let ok = violations(&tmp);
    let _ = std::fs::remove_dir_all(&tmp);
    assert!(ok.is_empty(), "{ok:?}");
    let _ = root;
}
