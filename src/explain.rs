//! `kmodcheck explain NAME`: a property, a variant or a scenario in words,
//! with its kernel references, as text and as JSON.

use kmodcheck_model::scenario::{Actor, InitStep, Scenario, SignalTarget};
use kmodcheck_model::variant::{self, Origin, Policies, Variant};
use serde_json::{json, Value};

/// What `explain` found for a name: text for a person, JSON for a tool.
pub struct Explained {
    /// Several lines, each at most the width asked for (100 columns by
    /// default) where the words allow.
    pub text: String,
    /// The same facts.
    pub json: Value,
}

/// Explain `name`: a property id, then a variant id, then a scenario (a
/// built-in name or a `.toml` file); the text fits 100 columns.
pub fn explain(name: &str) -> Result<Explained, String> {
    explain_at(name, MAX_TEXT)
}

/// [`explain`], its text wrapped at `width` columns.
pub fn explain_at(name: &str, width: usize) -> Result<Explained, String> {
    if let Some(p) = kmodcheck_properties::by_id(name) {
        let text = format!(
            "property {}\n\n  statement  {}\n  rationale  {}\n  witness    {} (a \"holds\" whose witness never happened is reported inconclusive, not proved)\n",
            p.id, p.statement, p.rationale, p.witness
        );
        return Ok(Explained {
            text: wrap_at(&text, width),
            json: json!({"kind": "property", "id": p.id, "statement": p.statement,
                "rationale": p.rationale, "witness": p.witness}),
        });
    }
    if let Some(v) = variant::by_id(name) {
        return Ok(variant_text(&v, width));
    }
    if name.ends_with(".toml") || kmodcheck_model::scenario::by_name(name).is_some() {
        let s = crate::scenario_file::resolve(name)?.scenario;
        return Ok(scenario_text(&s, width));
    }
    let scenarios = crate::suggest::scenario_names();
    let names = crate::suggest::property_ids()
        .into_iter()
        .chain(crate::suggest::variant_ids())
        .chain(scenarios.iter().map(String::as_str));
    Err(format!(
        "nothing is called {name:?}: expected a property, a variant (LOADER or LOADER+BUDGET) or a scenario (a built-in name or FILE.toml); see `kmodcheck list`{}",
        crate::suggest::did_you_mean(name, names)
    ))
}

fn variant_text(v: &Variant, width: usize) -> Explained {
    let origin = match v.origin {
        Origin::Kernel => "a state of the kernel tree",
        Origin::Proposal => "a proposal that was not merged",
        Origin::Mutant => "a seeded bug the checker must catch (not a kernel)",
    };
    // Every policy, so that a new variation point is a compile error here
    // until it has its line.
    let Policies {
        finit,
        idem_wait,
        recursion,
        idem_storage,
        crypto,
        kmod,
        name_check,
        umh,
        userspace,
        autoload_dups,
        mutant: _,
    } = v.policies();
    let mut policies: Vec<(&str, String)> = vec![];
    let releases = v.releases;
    if !releases.is_empty() {
        policies.push(("releases", releases.into()));
    }
    policies.extend([
        ("name check", name_check.describe().into()),
        ("finit_module", finit.describe().into()),
        ("in-flight wait", idem_wait.describe().into()),
        ("recursion", recursion.describe().into()),
        ("struct idempotent", idem_storage.describe().into()),
        ("crypto registration", crypto.describe().into()),
        ("helper wait", umh.describe().into()),
        (
            "userspace",
            format!("{} — {}", userspace.id(), userspace.describe()),
        ),
        ("duplicate requests", autoload_dups.describe().into()),
        (
            "kmod budget",
            format!("{} — {}", kmod.id(), kmod.describe()),
        ),
    ]);
    let mut text = format!(
        "variant {}\n\n  kernel     {}\n  origin     {origin}\n  summary    {}\n\n  policy at each variation point:\n",
        v.id, v.kernel, v.summary
    );
    for (k, d) in &policies {
        text.push_str(&format!("    {k:<20} {d}\n"));
    }
    if let Some(m) = v.mutant() {
        text.push_str(&format!("    {:<20} {m:?}\n", "seeded bug"));
    }
    let json = json!({
        "kind": "variant", "id": v.id, "kernel": v.kernel, "summary": v.summary,
        "origin": format!("{:?}", v.origin),
        "policies": policies.iter().map(|(k, d)| json!({"point": k, "policy": d})).collect::<Vec<_>>(),
        "mutant": v.mutant().map(|m| format!("{m:?}")),
    });
    Explained {
        text: wrap_at(&text, width),
        json,
    }
}

fn scenario_text(s: &Scenario, width: usize) -> Explained {
    let mut text = format!(
        "scenario {}\n\n  summary    {}\n  reference  {}\n\n  modules:\n",
        s.name, s.summary, s.reference
    );
    for m in &s.modules {
        let init: Vec<String> = m
            .init
            .iter()
            .map(|st| match st {
                InitStep::RequestModule { alias, required } => format!(
                    "request_module({alias}){}",
                    if *required { ", required" } else { "" }
                ),
                InitStep::RegisterAlg { alg, test_requests } => {
                    format!("crypto_register_alg({alg}), self-test requests {test_requests}")
                }
                InitStep::Fail(e) => format!("returns {}", kmodcheck_model::errno::ret_name(-e)),
                InitStep::Oops => "oopses (the task dies in init)".into(),
            })
            .collect();
        text.push_str(&format!(
            "    {} ({}){}{}; init: {}\n",
            m.name,
            m.file,
            if m.aliases.is_empty() {
                String::new()
            } else {
                format!(", aliases {}", m.aliases.join(", "))
            },
            if m.deps.is_empty() {
                String::new()
            } else {
                format!(", depends on {}", m.deps.join(", "))
            },
            if init.is_empty() {
                "returns 0".into()
            } else {
                init.join("; ")
            }
        ));
    }
    text.push_str("\n  actors (started together):\n");
    let mut n = 0;
    for a in &s.actors {
        let d = match a {
            Actor::Modprobe(t) => {
                n += 1;
                format!("modprobe {t} (modprobe actor {})", n - 1)
            }
            Actor::Request { alias, repeat } => format!(
                "a kernel path calling request_module({alias}){}",
                if *repeat {
                    ", again after each return"
                } else {
                    ""
                }
            ),
            Actor::Signal { target, kind } => format!(
                "{} to {}, at any moment",
                kind.name(),
                match target {
                    SignalTarget::Actor(i) => format!("modprobe actor {i}"),
                    SignalTarget::Insmod(i) => format!("insmod actor {i}"),
                    SignalTarget::HelperFor(h) => format!("the first helper for {h}"),
                }
            ),
            Actor::ForceUnload(m) => format!("rmmod -f {m}, once a task has died in init"),
            Actor::Rmmod(m) => format!("rmmod {m}, at any moment"),
            Actor::Insmod(f) => format!("insmod {f} (no dependencies loaded first)"),
        };
        text.push_str(&format!("    {d}\n"));
    }
    text.push_str(&format!(
        "\n  time passes  {}\n  kmod_limit   {}\n  helper bound {}\n  threads      {} at most (loom allows {})\n  properties   {}\n",
        if s.timer { "yes (a timer actor may expire any timed wait)" } else { "no (timed waits never expire)" },
        s.kmod_limit,
        s.helper_bound.map_or("none".to_string(), |b| b.to_string()),
        s.max_threads(),
        crate::engine::LOOM_MAX_THREADS,
        s.properties.join(", ")
    ));
    Explained {
        text: wrap_at(&text, width),
        json: json!({"kind": "scenario", "scenario": s, "threads": s.max_threads()}),
    }
}

/// Wrap lines longer than 100 columns: see [`wrap_at`].
pub fn wrap(text: &str) -> String {
    wrap_at(text, MAX_TEXT)
}

/// Wrap lines longer than `width` columns: continuation lines go under the
/// text after a line's label (`  label   text`), or under its indentation.
/// A word longer than a line (a replay handle) is never broken, so that it
/// can still be copied whole.
pub fn wrap_at(text: &str, width: usize) -> String {
    let mut out = String::new();
    for line in text.lines() {
        if line.chars().count() <= width {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        // Continuation lines go under the text after the label: the first
        // run of two or more spaces after the line's first word ends it.
        let lead = line.len() - line.trim_start().len();
        let body_at = line[lead..]
            .find("  ")
            .map(|i| lead + i)
            .and_then(|i| line[i..].find(|c: char| c != ' ').map(|j| i + j))
            .filter(|&k| k <= 48)
            .unwrap_or(lead);
        out.push_str(&wrap_line(line, body_at, width));
    }
    out
}

/// Wrap one line at `width` columns, its continuation lines indented to
/// byte `body_at` of it (where its text starts, after a label).
pub fn wrap_line(line: &str, body_at: usize, width: usize) -> String {
    wrap_hanging(line, body_at, line[..body_at].chars().count(), width)
}

/// Wrap one line at `width` columns: its first `body_at` bytes (a label)
/// stay as they are, and continuation lines are indented by `indent`.
pub fn wrap_hanging(line: &str, body_at: usize, indent: usize, width: usize) -> String {
    let mut out = String::new();
    if line.chars().count() <= width {
        out.push_str(line);
        out.push('\n');
        return out;
    }
    let indent = " ".repeat(indent);
    let mut cur = line[..body_at].to_string();
    let mut cur_len = cur.chars().count();
    let mut first = true;
    for word in line[body_at..].split(' ') {
        let w = word.chars().count();
        if !first && cur_len + 1 + w > width {
            out.push_str(cur.trim_end());
            out.push('\n');
            cur = indent.clone();
            cur_len = indent.len();
            first = true;
        }
        if !first {
            cur.push(' ');
            cur_len += 1;
        }
        cur.push_str(word);
        cur_len += w;
        first = false;
    }
    out.push_str(&cur);
    out.push('\n');
    out
}

/// The narrowest prose (list, explain, check, diff, replay, the notes
/// under the matrix) is wrapped to on a narrower terminal: narrower, a
/// label and its text would leave a few words a line.
pub const MIN_TEXT: usize = 60;

/// The widest prose is wrapped to, as it was before the terminal's width
/// was read: longer lines are harder to read, however wide the terminal
/// (clap caps its help likewise).
pub const MAX_TEXT: usize = 100;

/// The width prose is wrapped to on a terminal (or `COLUMNS`) of `columns`
/// columns: between [`MIN_TEXT`] and [`MAX_TEXT`].
pub fn text_width_of(columns: usize) -> usize {
    columns.clamp(MIN_TEXT, MAX_TEXT)
}
