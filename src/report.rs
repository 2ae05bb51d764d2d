//! Rendering: the verdict matrix (text), JSON lines, counterexamples.

use crate::engine::{CellResult, Verdict};
use kmodcheck_model::scenario::Scenario;
use kmodcheck_model::variant::Variant;
use serde_json::json;
use std::fmt::Write as _;

/// One-letter column keys, as kernel-semantics.md §4 uses them.
pub fn column_key(v: &Variant) -> String {
    match v.id {
        "legacy" => "L".into(),
        "error-out-early" => "E".into(),
        "idempotent" => "I".into(),
        "idempotent-warn" => "W".into(),
        "idempotent-interruptible" => "N".into(),
        "crypto-async-test" => "C".into(),
        "recursion-aware" => "R".into(),
        other => match other.split_once('+') {
            Some((loader, budget)) => {
                let l = kmodcheck_model::variant::by_id(loader)
                    .map_or_else(|| loader.to_string(), |lv| column_key(&lv));
                let b = match budget {
                    "kmod-2008" => "2008",
                    "kmod-throttle" => "thr",
                    "kmod-throttle-timeout" => "thr5s",
                    "kmod-semaphore" => "sem",
                    b => b,
                };
                format!("{l}+{b}")
            }
            None => other.chars().take(8).collect(),
        },
    }
}

/// Short text of a verdict for a matrix cell.
pub fn cell_text(v: &Verdict) -> &'static str {
    match v {
        Verdict::Holds { exhaustive: true } => "proved",
        Verdict::Holds { exhaustive: false } => "sampled",
        Verdict::Violated(_) => "VIOLATED",
        Verdict::Inconclusive { .. } => "incon.",
    }
}

/// The verdict matrix: variants as columns, scenario × property as rows.
pub fn matrix(variants: &[Variant], scenarios: &[Scenario], cells: &[CellResult]) -> String {
    let mut out = String::new();
    let w = 26;
    let _ = write!(out, "{:w$}", "");
    for v in variants {
        let _ = write!(out, "{:>9}", column_key(v));
    }
    out.push('\n');
    for s in scenarios {
        let _ = writeln!(out, "{}", s.name);
        for p in &s.properties {
            let _ = write!(out, "  {:w$}", p, w = w - 2);
            for v in variants {
                let text = cells
                    .iter()
                    .find(|c| c.variant == v.id && c.scenario == s.name)
                    .and_then(|c| c.properties.iter().find(|r| r.property == p))
                    .map_or("-", |r| cell_text(&r.verdict));
                let _ = write!(out, "{text:>9}");
            }
            out.push('\n');
        }
    }
    out.push('\n');
    for v in variants {
        let kernel = match v.id.split_once('+') {
            Some((_, _)) => format!(
                "{}, with the {} budget: {}",
                v.kernel,
                v.kmod.id(),
                v.kmod.kernel()
            ),
            None => v.kernel.to_string(),
        };
        let _ = writeln!(
            out,
            "  {:<7} = {:<25} {}",
            column_key(v),
            v.id.split('+').next().unwrap_or(v.id),
            kernel
        );
    }
    out.push_str(
        "\n  proved   holds in every interleaving (exhaustive, unbounded)\n  \
         sampled  holds in every execution explored, but the run was not exhaustive\n  \
         VIOLATED an execution breaks it: see the counterexample\n  \
         incon.   neither: a bound was hit, the run stopped early, or it was vacuous\n  \
         -        not checked: the budget columns apply to the scenarios about the budget\n",
    );
    out
}

/// Every violation, one paragraph each: message, cycle, replay handle.
pub fn violations_summary(cells: &[CellResult]) -> String {
    let mut out = String::new();
    for c in cells {
        for p in &c.properties {
            if let Verdict::Violated(ce) = &p.verdict {
                let _ = writeln!(out, "{} × {} × {}", c.variant, c.scenario, p.property);
                let _ = writeln!(out, "    {}", ce.message);
                let _ = writeln!(out, "    replay: {}", ce.replay);
            }
        }
    }
    out
}

/// Inconclusive verdicts with their reasons.
pub fn inconclusive_summary(cells: &[CellResult]) -> String {
    let mut out = String::new();
    for c in cells {
        for p in &c.properties {
            if let Verdict::Inconclusive { reason } = &p.verdict {
                let _ = writeln!(
                    out,
                    "{} × {} × {}: {reason}",
                    c.variant, c.scenario, p.property
                );
            }
        }
    }
    out
}

/// One JSON object per property of a cell.
pub fn json_lines(c: &CellResult) -> Vec<String> {
    c.properties
        .iter()
        .map(|p| {
            let mut o = json!({
                "variant": c.variant,
                "scenario": c.scenario,
                "property": p.property,
                "verdict": p.verdict.kind(),
                "engine": c.engine.name(),
                "exhaustive": c.exhaustive,
                "executions": c.executions,
            });
            match &p.verdict {
                Verdict::Violated(ce) => {
                    o["message"] = json!(ce.message);
                    o["trace"] = json!(ce.trace);
                    o["cycle"] = json!(ce.cycle);
                    o["replay"] = json!(ce.replay);
                    o["execution"] = json!(ce.execution);
                }
                Verdict::Inconclusive { reason } => o["reason"] = json!(reason),
                Verdict::Holds { .. } => {}
            }
            o.to_string()
        })
        .collect()
}

/// A counterexample as a person reads it: header, trace, cycle, handle.
pub fn counterexample_text(c: &CellResult, property: &str) -> Option<String> {
    let p = c.properties.iter().find(|p| p.property == property)?;
    let Verdict::Violated(ce) = &p.verdict else {
        return None;
    };
    let mut out = String::new();
    let _ = writeln!(out, "{} violated: {} × {}", property, c.variant, c.scenario);
    let _ = writeln!(out, "{}\n", ce.message);
    out.push_str(&ce.trace);
    if let Some(cycle) = &ce.cycle {
        let _ = writeln!(out, "\nwait-for cycle:");
        for l in cycle {
            let _ = writeln!(out, "  {l}");
        }
    }
    let _ = writeln!(out, "\nreplay: kmodcheck replay '{}'", ce.replay);
    Some(out)
}
