//! Rendering: the verdict matrix (text), JSON lines, counterexamples.

use crate::engine::{CellResult, Verdict};
use kmodcheck_model::scenario::Scenario;
use kmodcheck_model::variant::{MutantSpec, Variant};
use serde_json::json;
use std::fmt::Write as _;

/// One-letter column keys, as docs/kernel.md §4 uses them.
pub fn column_key(v: &Variant) -> String {
    match v.id {
        "legacy" => "L".into(),
        "error-out-early" => "E".into(),
        "idempotent" => "I".into(),
        "idempotent-warn" => "W".into(),
        "idempotent-interruptible" => "N".into(),
        "crypto-async-test" => "C".into(),
        "recursion-aware-every-entry" => "R".into(),
        "recursion-aware" => "R1".into(),
        "idem-timeout" => "T".into(),
        "heap-idempotent" => "H".into(),
        "autoload-dups" => "D".into(),
        other => match other.split_once('+') {
            Some((loader, rest)) => {
                let l = kmodcheck_model::variant::by_id(loader)
                    .map_or_else(|| loader.to_string(), |lv| column_key(&lv));
                let parts: Vec<&str> = rest
                    .split('+')
                    .map(|p| match p {
                        "kmod-2008" => "2008",
                        "kmod-throttle" => "thr",
                        "kmod-throttle-timeout" => "thr5s",
                        "kmod-semaphore" => "sem",
                        "libkmod-init-module" => "initm",
                        "libkmod-finit" => "finit",
                        p => p,
                    })
                    .collect();
                format!("{l}+{}", parts.join("+"))
            }
            None => other.chars().take(8).collect(),
        },
    }
}

/// What a column is: the loader's kernel, and the budget when it is not the
/// loader's own (`LOADER+BUDGET`).
fn column_kernel(v: &Variant) -> String {
    let base =
        v.id.split('+')
            .next()
            .and_then(kmodcheck_model::variant::by_id);
    if let Some(b) = base.filter(|b| b.userspace() != v.userspace()) {
        format!(
            "{}, with {}: {}",
            b.kernel,
            v.userspace().id(),
            v.userspace().describe()
        )
    } else if v.id.contains('+') {
        format!(
            "{}, with the {} budget: {}",
            v.kernel,
            v.kmod().id(),
            v.kmod().kernel()
        )
    } else if v.releases.is_empty() || v.releases == v.kernel {
        v.kernel.to_string()
    } else {
        format!("{}: {}", v.releases, v.kernel)
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

/// The verdict matrix: variants as columns, scenario × property as rows,
/// as one table however wide (see [`matrix_fit`]).
pub fn matrix(variants: &[Variant], scenarios: &[Scenario], cells: &[CellResult]) -> String {
    matrix_fit(variants, scenarios, cells, None)
}

/// The matrix's row labels are padded to 26 columns.
const MATRIX_LABEL: usize = 26;

/// The columns the matrix's row labels take: [`MATRIX_LABEL`], or more
/// where a property (indented by 2) is longer and pushes its row right.
fn matrix_label_width(scenarios: &[Scenario]) -> usize {
    scenarios
        .iter()
        .flat_map(|s| s.properties.iter().map(|p| p.chars().count() + 2))
        .chain(scenarios.iter().map(|s| s.name.chars().count()))
        .fold(MATRIX_LABEL, usize::max)
}

/// The width of a variant's column: 9, or its key and a space.
fn matrix_column_width(v: &Variant) -> usize {
    (column_key(v).chars().count() + 1).max(9)
}

/// The variant columns of each block of a matrix `width` columns wide
/// whose row labels take `label` columns: as many blocks as it takes, each
/// as wide as it can be, and the columns shared out evenly among them (12
/// columns in 5-column blocks: 4, 4 and 4, not 5, 5 and 2). A block has at
/// least one column, however narrow the width.
pub fn matrix_blocks(columns: &[usize], label: usize, width: usize) -> Vec<std::ops::Range<usize>> {
    let n = columns.len();
    if n == 0 {
        return std::iter::once(0..0).collect();
    }
    // The fewest blocks whose columns, shared out evenly, all fit.
    let fits = |blocks: usize| {
        let mut start = 0;
        (0..blocks).all(|b| {
            let len = n / blocks + usize::from(b < n % blocks);
            let w: usize = columns[start..start + len].iter().sum();
            start += len;
            len == 1 || label + w <= width
        })
    };
    let blocks = (1..=n).find(|&b| fits(b)).unwrap_or(n);
    let mut out = Vec::with_capacity(blocks);
    let mut start = 0;
    for b in 0..blocks {
        let len = n / blocks + usize::from(b < n % blocks);
        out.push(start..start + len);
        start += len;
    }
    out
}

/// The verdict matrix fit to `width` columns. When the table is wider, its
/// variant columns are split into blocks, one under the other, each with
/// the row labels (scenarios and properties) again and a header that says
/// which columns it holds; the legend below is said once, wrapped to the
/// width. A verdict is never cut. `None`: one table however wide, the
/// output of a pipe.
pub fn matrix_fit(
    variants: &[Variant],
    scenarios: &[Scenario],
    cells: &[CellResult],
    width: Option<usize>,
) -> String {
    let mut out = String::new();
    let w = MATRIX_LABEL;
    let widths: Vec<usize> = variants.iter().map(matrix_column_width).collect();
    let blocks = match width {
        Some(width) if matrix_label_width(scenarios) + widths.iter().sum::<usize>() > width => {
            matrix_blocks(&widths, matrix_label_width(scenarios), width)
        }
        _ => std::iter::once(0..variants.len()).collect(),
    };
    for (b, range) in blocks.iter().enumerate() {
        if b > 0 {
            out.push('\n');
        }
        let label = match (blocks.len(), range.len()) {
            (1, _) => String::new(),
            (_, 1) => format!("column {} of {}", range.end, variants.len()),
            _ => format!(
                "columns {}-{} of {}",
                range.start + 1,
                range.end,
                variants.len()
            ),
        };
        let _ = write!(out, "{label:w$}");
        for (v, cw) in variants[range.clone()].iter().zip(&widths[range.clone()]) {
            let _ = write!(out, "{:>cw$}", column_key(v));
        }
        out.push('\n');
        for s in scenarios {
            let _ = writeln!(out, "{}", s.name);
            for p in &s.properties {
                let _ = write!(out, "  {:w$}", p, w = w - 2);
                for (v, cw) in variants[range.clone()].iter().zip(&widths[range.clone()]) {
                    let text = cells
                        .iter()
                        .find(|c| c.variant == v.id && c.scenario == s.name)
                        .and_then(|c| c.properties.iter().find(|r| r.property == p))
                        .map_or("-", |r| cell_text(&r.verdict));
                    let _ = write!(out, "{text:>cw$}");
                }
                out.push('\n');
            }
        }
    }
    out.push('\n');
    // The legend, wrapped under its own text when there is a width.
    let text_width = width.map(crate::explain::text_width_of);
    for v in variants {
        let head = format!(
            "  {:<7} = {:<25} ",
            column_key(v),
            v.id.split('+').next().unwrap_or(v.id)
        );
        let line = format!("{head}{}", column_kernel(v));
        match text_width {
            None => {
                let _ = writeln!(out, "{line}");
            }
            Some(tw) => out.push_str(&crate::explain::wrap_line(&line, head.len(), tw)),
        }
    }
    let verdicts = "\n  proved   holds in every reachable state (stateful) or interleaving (loom), unbounded\n  \
         sampled  holds in every execution explored, but the run was not exhaustive\n  \
         VIOLATED an execution breaks it: see the counterexample\n  \
         incon.   neither: a bound was hit, the run stopped early, or it was vacuous\n  \
         -        not checked: the budget columns apply to the scenarios about the budget\n";
    match text_width {
        None => out.push_str(verdicts),
        Some(tw) => out.push_str(&crate::explain::wrap_at(verdicts, tw)),
    }
    out
}

/// How a cell was run: `stateful, exhaustive, 181 states` or `loom,
/// exhaustive, 10,197` (executions).
fn how_run(c: &CellResult) -> String {
    format!(
        "{}, {}, {}",
        c.engine.name(),
        if c.exhaustive {
            "exhaustive"
        } else {
            "not exhaustive"
        },
        match &c.states {
            Some(s) => format!("{} states", thousands(s.states as usize)),
            None => thousands(c.executions),
        }
    )
}

/// Where a counterexample was found: `loom, execution 4`, or `stateful,
/// 11 decisions` (the shortest counterexample's scheduling decisions).
fn found_where(c: &CellResult, ce: &crate::engine::Counterexample) -> String {
    match &ce.replay.at {
        crate::engine::ReplayAt::Decisions(d) => {
            format!("{}, {} decisions", c.engine.name(), d.len())
        }
        _ => format!("{}, execution {}", c.engine.name(), thousands(ce.execution)),
    }
}

/// A mutant's kill: its verdict on its expected property, and its
/// kernel's on the same cell. `killed` is true when the mutant violates the
/// property and the kernel it mutates holds it (proved).
pub struct Kill<'a> {
    /// The mutant.
    pub spec: &'a MutantSpec,
    /// The mutant's verdict on the expected property (`None`: not checked).
    pub mutant: Option<(&'a CellResult, &'a Verdict)>,
    /// The kernel's verdict on it.
    pub kernel: Option<(&'a CellResult, &'a Verdict)>,
}

impl Kill<'_> {
    /// Killed by its expected property, on a kernel that holds it.
    pub fn killed(&self) -> bool {
        matches!(self.mutant, Some((_, Verdict::Violated(_))))
            && matches!(self.kernel, Some((_, Verdict::Holds { exhaustive: true })))
    }
}

/// Every mutant of [`kmodcheck_model::variant::mutants`] against `cells`.
pub fn kills(cells: &[CellResult]) -> Vec<Kill<'_>> {
    let find = |v: &str, s: &str, p: &str| {
        cells
            .iter()
            .find(|c| c.variant == v && c.scenario == s)
            .and_then(|c| {
                c.properties
                    .iter()
                    .find(|r| r.property == p)
                    .map(|r| (c, &r.verdict))
            })
    };
    kmodcheck_model::variant::mutants()
        .iter()
        .map(|m| Kill {
            spec: m,
            mutant: find(m.variant.id, m.scenario, m.property),
            kernel: find(m.of, m.scenario, m.property),
        })
        .collect()
}

/// The kill table of the mutation suite, in Markdown; links to the
/// counterexamples start with `prefix` (`""` inside `reports/`,
/// `"reports/"` from the README).
pub fn kill_table(cells: &[CellResult], prefix: &str) -> String {
    let mut out = String::new();
    out.push_str("| mutant | the seeded bug | of | scenario | expected property | mutant's verdict | kernel's verdict |\n|---|---|---|---|---|---|---|\n");
    let ks = kills(cells);
    for k in &ks {
        let m = k.spec;
        let mutant = match k.mutant {
            None => "not checked".to_string(),
            Some((c, Verdict::Violated(ce))) => format!(
                "**killed** ([{}]({prefix}counterexamples/{}))",
                found_where(c, ce),
                counterexample_file(c.variant, &c.scenario, m.property)
            ),
            Some((c, v)) => format!("**ESCAPED**: {} ({})", v.kind(), how_run(c)),
        };
        let kernel = match k.kernel {
            None => "not checked".to_string(),
            Some((c, v)) => format!("{} ({})", v.kind(), how_run(c)),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {mutant} | {kernel} |",
            m.variant.id, m.variant.summary, m.of, m.scenario, m.property
        );
    }
    let killed = ks.iter().filter(|k| k.killed()).count();
    let _ = writeln!(
        out,
        "\n{killed} of {} mutants killed by their expected property, each on a kernel that holds it.",
        ks.len()
    );
    out
}

/// The kill table as text, for the mutants whose scenario was checked.
pub fn kill_summary(cells: &[CellResult]) -> String {
    let ks: Vec<Kill> = kills(cells)
        .into_iter()
        .filter(|k| k.mutant.is_some())
        .collect();
    if ks.is_empty() {
        return String::new();
    }
    let mut out = String::new();
    for k in &ks {
        let m = k.spec;
        let what = match (k.mutant, k.killed()) {
            (Some((c, Verdict::Violated(ce))), true) => {
                format!("killed ({})", found_where(c, ce))
            }
            (Some((_, v)), _) => format!(
                "NOT killed (mutant: {}; kernel: {})",
                v.kind(),
                k.kernel.map_or("not checked", |(_, v)| v.kind())
            ),
            (None, _) => unreachable!("filtered"),
        };
        let _ = writeln!(
            out,
            "  {:<24} {} × {}: {what}",
            m.variant.id, m.scenario, m.property
        );
    }
    let killed = ks.iter().filter(|k| k.killed()).count();
    let _ = writeln!(out, "  {killed} of {} killed", ks.len());
    out
}

/// `reports/mutants.md`: the mutation suite's kill table.
pub fn mutants_markdown(cells: &[CellResult]) -> String {
    let mut out = String::from("# kmodcheck mutation suite\n\n");
    out.push_str(
        "Generated by `cargo run --release -- report`. Each mutant is one seeded bug in the \
         model (`Mutant` in model/src/variant.rs), checked with the stateful engine on the \
         scenario it is seeded for. It is killed when the expected property is violated there, \
         while the kernel it mutates holds that property on the same scenario (proved), so the \
         kill is the seeded line's doing. A counterexample is the shortest the search found, \
         counted in scheduling decisions.\n\n",
    );
    out.push_str(&kill_table(cells, ""));
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
            if let Some(st) = &c.states {
                o["states"] = json!(st.states);
                o["transitions"] = json!(st.transitions);
                o["symmetric_actors"] = json!(st.symmetric_actors);
                o["collision_bound"] = json!(st.collision_bound);
            }
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

/// [`counterexample_text`] fit to `width` columns: the header and message
/// wrapped, the trace rendered at that width.
pub fn counterexample_text_at(c: &CellResult, property: &str, width: usize) -> Option<String> {
    let p = c.properties.iter().find(|p| p.property == property)?;
    let Verdict::Violated(ce) = &p.verdict else {
        return None;
    };
    let wrap = |t: &str| crate::explain::wrap_at(t, width);
    let mut out = wrap(&format!(
        "{} violated: {} × {}",
        property, c.variant, c.scenario
    ));
    out.push_str(&wrap(&ce.message));
    out.push('\n');
    out.push_str(&ce.record.render_at(width));
    if let Some(cycle) = &ce.cycle {
        out.push_str("\nwait-for cycle:\n");
        for l in cycle {
            out.push_str(&wrap(&format!("  {l}")));
        }
    }
    out.push_str(&wrap(&format!(
        "\nreplay: kmodcheck replay '{}'",
        ce.replay
    )));
    Some(out)
}

/// File name of a counterexample in `reports/counterexamples/`.
pub fn counterexample_file(variant: &str, scenario: &str, property: &str) -> String {
    let clean = |s: &str| s.replace(['+', '(', ')', ' '], "_");
    format!(
        "{}--{}--{}.md",
        clean(variant),
        clean(scenario),
        clean(property)
    )
}

/// Group digits: 1,024,335.
pub fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// `reports/matrix.md`: variants as columns, scenario × property as rows;
/// each cell says holds / violated / inconclusive, the engine, whether the
/// run was exhaustive, and the executions, and links a violation to its
/// counterexample. No times: the file is the same on every run.
pub fn matrix_markdown(
    variants: &[Variant],
    scenarios: &[Scenario],
    cells: &[CellResult],
) -> String {
    let mut out = String::new();
    out.push_str("# kmodcheck verdict matrix\n\n");
    out.push_str(
        "Generated by `cargo run --release -- report`; `cargo test --release` fails when this \
         file differs from what the code generates. Each cell: the verdict, then the engine, \
         whether the run covered every interleaving, and how many distinct states it explored \
         (the stateful engine; executions for loom); for a violation, the length of its \
         counterexample in scheduling decisions.\n\n",
    );
    out.push_str("| scenario | property |");
    for v in variants {
        let _ = write!(out, " {} |", column_key(v));
    }
    out.push_str("\n|---|---|");
    for _ in variants {
        out.push_str("---|");
    }
    out.push('\n');
    for s in scenarios {
        for p in &s.properties {
            let _ = write!(out, "| {} | {} |", s.name, p);
            for v in variants {
                let cell = cells
                    .iter()
                    .find(|c| c.variant == v.id && c.scenario == s.name);
                let text = match cell {
                    None => "–".to_string(),
                    Some(c) => matrix_cell_markdown(c, p),
                };
                let _ = write!(out, " {text} |");
            }
            out.push('\n');
        }
    }
    out.push_str("\n## Columns\n\n");
    for v in variants {
        let kernel = column_kernel(v);
        let _ = writeln!(
            out,
            "- **{}** `{}`: {} — {}",
            column_key(v),
            v.id,
            kernel,
            v.summary
        );
    }
    out.push_str("\n## Inconclusive cells, and why\n\n");
    for l in inconclusive_summary(cells).lines() {
        let _ = writeln!(out, "- {l}");
    }
    out
}

/// The verdict a cell of `reports/matrix.md` gives, without its counts:
/// "holds", "holds, sampled", "VIOLATED", "inconclusive" or "not checked"
/// (how `tests/cells/main.rs` compares verdicts only, and how
/// `examples/wakeups_report.rs` names a change).
pub fn matrix_cell_verdict(cell: &str) -> &'static str {
    if cell.contains("**VIOLATED**") {
        "VIOLATED"
    } else if cell.starts_with("**holds**") {
        "holds"
    } else if cell.starts_with("holds, sampled") {
        "holds, sampled"
    } else if cell.starts_with("inconclusive") {
        "inconclusive"
    } else {
        "not checked"
    }
}

/// One cell of `reports/matrix.md`: `c`'s verdict on property `p`, with
/// how it was run ("–" when `c` does not check `p`).
pub fn matrix_cell_markdown(c: &CellResult, p: &str) -> String {
    match c.properties.iter().find(|r| r.property == p) {
        None => "–".to_string(),
        Some(r) => {
            let how = how_run(c);
            match &r.verdict {
                Verdict::Holds { exhaustive: true } => format!("**holds** ({how})"),
                Verdict::Holds { exhaustive: false } => format!("holds, sampled ({how})"),
                Verdict::Violated(ce) => format!(
                    "[**VIOLATED**](counterexamples/{}) ({})",
                    counterexample_file(c.variant, &c.scenario, p),
                    found_where(c, ce)
                ),
                Verdict::Inconclusive { .. } => format!("inconclusive ({how})"),
            }
        }
    }
}

/// A Mermaid sequence diagram of a trace: one note per step, and an arrow
/// where a step acts on another task (starts, wakes, signals, expires).
pub fn mermaid(r: &kmodcheck_model::trace::Trace) -> String {
    let clean = |s: &str| {
        s.replace("->", "→")
            .replace(';', ",")
            .replace('#', "no. ")
            .replace('"', "'")
            .replace(['<', '>'], "")
    };
    let mut out = String::from("```mermaid\nsequenceDiagram\n");
    for t in &r.tasks {
        let _ = writeln!(out, "    participant {} as {}", t.name, t.name);
    }
    for e in &r.events {
        let from = r.task_name(e.task).to_string();
        let to = r
            .tasks
            .iter()
            .map(|t| t.name.as_str())
            .filter(|n| *n != from && n.starts_with('T'))
            .find(|n| {
                ["starts ", "wakes ", "to ", "of "].iter().any(|k| {
                    e.what.contains(&format!("{k}{n} "))
                        || e.what.contains(&format!("{k}{n},"))
                        || e.what.contains(&format!("{k}{n})"))
                        || e.what.contains(&format!("{k}{n}'"))
                })
            });
        let act = matches!(
            e.func,
            "call_usermodehelper_exec" | "send_sig" | "idempotent_complete" | "hrtimer_wakeup"
        );
        match to {
            Some(to) if act => {
                let _ = writeln!(out, "    {from}->>{to}: {}: {}", e.func, clean(&e.what));
            }
            _ => {
                let _ = writeln!(out, "    Note over {from}: {}: {}", e.func, clean(&e.what));
            }
        }
    }
    // Where every task is left asleep: the wait-for edges, dashed.
    for (t, w) in &r.blocked {
        let from = r.task_name(*t).to_string();
        for o in &w.on {
            let _ = writeln!(
                out,
                "    {from}-->>{}: waits for {}",
                r.task_name(*o),
                clean(&w.what)
            );
        }
    }
    out.push_str("```\n");
    out
}

/// How a counterexample was found, in a sentence: by which engine, in
/// which execution, and for the stateful engine its length.
fn found_how(c: &CellResult, ce: &crate::engine::Counterexample) -> String {
    match &ce.replay.at {
        crate::engine::ReplayAt::Decisions(d) => format!(
            "Found by the {} engine (first in execution {} of its search); this is the shortest \
             counterexample in its state graph: {} scheduling decisions.",
            c.engine.name(),
            thousands(ce.execution),
            d.len()
        ),
        _ => format!(
            "Found by {} in execution {} of the exploration.",
            c.engine.name(),
            thousands(ce.execution)
        ),
    }
}

/// `reports/counterexamples/V--S--P.md`: the trace as text, the same steps
/// as a Mermaid sequence diagram, the wait-for cycle of a deadlock, and the
/// replay handle.
pub fn counterexample_markdown(c: &CellResult, property: &str) -> Option<String> {
    let p = c.properties.iter().find(|p| p.property == property)?;
    let Verdict::Violated(ce) = &p.verdict else {
        return None;
    };
    let mut out = String::new();
    let _ = writeln!(out, "# {} × {} × {}\n", c.variant, c.scenario, property);
    let _ = writeln!(out, "**Violated:** {}\n", ce.message);
    let _ = writeln!(out, "{}\n", found_how(c, ce));
    let _ = writeln!(
        out,
        "Replay: `cargo run --release -- replay '{}'`\n",
        ce.replay
    );
    if let Some(cycle) = &ce.cycle {
        out.push_str("## Wait-for cycle\n\n");
        for l in cycle {
            let _ = writeln!(out, "- {l}");
        }
        out.push('\n');
    }
    out.push_str("## Trace\n\n```\n");
    out.push_str(&ce.trace);
    out.push_str("```\n\n## Sequence diagram\n\n");
    out.push_str(&mermaid(&ce.record));
    Some(out)
}

/// `text` made safe inside HTML, as element content or a quoted
/// attribute value.
pub fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A name made an HTML id: letters, digits, `-` and `_`; anything else
/// becomes `_` (scenario names from files may hold anything).
fn html_slug(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The id of a matrix cell in `index.html`: `cell-V--S--P`.
pub fn html_cell_id(variant: &str, scenario: &str, property: &str) -> String {
    format!(
        "cell-{}--{}--{}",
        html_slug(variant),
        html_slug(scenario),
        html_slug(property)
    )
}

/// The id of a counterexample's section in `index.html`: `ce-V--S--P`.
pub fn html_counterexample_id(variant: &str, scenario: &str, property: &str) -> String {
    format!(
        "ce-{}--{}--{}",
        html_slug(variant),
        html_slug(scenario),
        html_slug(property)
    )
}

/// The id of an inconclusive cell's reason in `index.html`.
fn html_reason_id(variant: &str, scenario: &str, property: &str) -> String {
    format!(
        "why-{}--{}--{}",
        html_slug(variant),
        html_slug(scenario),
        html_slug(property)
    )
}

/// The colours of the verdicts, and the layout: all in the page, which
/// loads nothing (no script, no font, no stylesheet from elsewhere).
const HTML_STYLE: &str = "\
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #1b1b1b; background: #fff; }
h1, h2, h3 { font-weight: 600; }
table.matrix { border-collapse: collapse; font-size: 0.85em; }
table.matrix th, table.matrix td { border: 1px solid #c8c8c8; padding: 0.2em 0.45em; }
table.matrix thead th { position: sticky; top: 0; background: #f2f2f2; }
table.matrix th.scenario, table.matrix td.property { text-align: left; white-space: nowrap; }
table.matrix td.v { text-align: center; white-space: nowrap; }
td.proved { background: #c9ecc9; }
td.sampled { background: #eef3b8; }
td.violated { background: #f6b3ad; font-weight: 700; }
td.inconclusive { background: #fbe2a6; }
td.unchecked { background: #f4f4f4; color: #8a8a8a; }
td a { color: inherit; }
td:target, section:target, li:target { outline: 3px solid #3166c4; }
span.key { display: inline-block; padding: 0 0.4em; margin-right: 0.3em; border: 1px solid #c8c8c8; }
pre { background: #f6f6f6; border: 1px solid #dcdcdc; padding: 0.6em; overflow-x: auto; font-size: 0.85em; }
section.counterexample { border-top: 1px solid #c8c8c8; margin-top: 1.5em; }
dl.columns dt { font-weight: 700; margin-top: 0.4em; }
";

/// `reports/index.html`: the matrix and its counterexamples in one page
/// that works offline (no script, nothing loaded from elsewhere): verdict
/// cells coloured, each violation linked to its counterexample's section
/// (how it was found, the trace, the wait-for cycle, the replay handle),
/// each inconclusive cell to its reason, and the columns' kernels.
pub fn matrix_html(variants: &[Variant], scenarios: &[Scenario], cells: &[CellResult]) -> String {
    let e = html_escape;
    let mut out = String::new();
    out.push_str(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>kmodcheck verdict matrix</title>\n<style>\n",
    );
    out.push_str(HTML_STYLE);
    out.push_str("</style>\n</head>\n<body>\n<h1>kmodcheck verdict matrix</h1>\n");
    out.push_str(
        "<p>Generated by <code>kmodcheck report</code>, with <code>matrix.md</code> and \
         <code>counterexamples/</code> beside it; this page loads nothing and runs no script. \
         Variants are the columns, scenario &times; property the rows. A \
         <strong>VIOLATED</strong> cell links to its counterexample below, an inconclusive \
         one to its reason; hover a cell for how it was run.</p>\n",
    );
    out.push_str(
        "<p><span class=\"key\" style=\"background:#c9ecc9\">proved</span>holds in every \
         reachable state (stateful) or interleaving (loom), unbounded \
         <span class=\"key\" style=\"background:#eef3b8\">sampled</span>holds in every \
         execution explored, but the run was not exhaustive \
         <span class=\"key\" style=\"background:#f6b3ad\">VIOLATED</span>an execution breaks \
         it \
         <span class=\"key\" style=\"background:#fbe2a6\">inconclusive</span>a bound was hit, \
         the run stopped early, or it was vacuous \
         <span class=\"key\" style=\"background:#f4f4f4\">&ndash;</span>not checked: the \
         budget columns apply to the scenarios about the budget</p>\n",
    );
    out.push_str(
        "<table class=\"matrix\" id=\"matrix\">\n<thead>\n<tr><th>scenario</th><th>property</th>",
    );
    for v in variants {
        let _ = write!(
            out,
            "<th><a href=\"#col-{}\" title=\"{}\">{}</a></th>",
            html_slug(&column_key(v)),
            e(v.id),
            e(&column_key(v))
        );
    }
    out.push_str("</tr>\n</thead>\n<tbody>\n");
    let mut violations = Vec::new();
    let mut inconclusive = Vec::new();
    for s in scenarios {
        for (i, p) in s.properties.iter().enumerate() {
            out.push_str("<tr>");
            if i == 0 {
                let _ = write!(
                    out,
                    "<th class=\"scenario\" rowspan=\"{}\">{}</th>",
                    s.properties.len(),
                    e(&s.name)
                );
            }
            let _ = write!(out, "<td class=\"property\">{}</td>", e(p));
            for v in variants {
                let found = cells
                    .iter()
                    .find(|c| c.variant == v.id && c.scenario == s.name)
                    .and_then(|c| {
                        c.properties
                            .iter()
                            .find(|r| r.property == p)
                            .map(|r| (c, r))
                    });
                let Some((c, r)) = found else {
                    out.push_str("<td class=\"v unchecked\">&ndash;</td>");
                    continue;
                };
                let id = html_cell_id(v.id, &s.name, p);
                let (class, body) = match &r.verdict {
                    Verdict::Holds { exhaustive: true } => ("proved", "proved".to_string()),
                    Verdict::Holds { exhaustive: false } => ("sampled", "sampled".to_string()),
                    Verdict::Violated(_) => {
                        violations.push((c, r.property));
                        (
                            "violated",
                            format!(
                                "<a href=\"#{}\">VIOLATED</a>",
                                html_counterexample_id(v.id, &s.name, p)
                            ),
                        )
                    }
                    Verdict::Inconclusive { reason } => {
                        inconclusive.push((c, r.property, reason));
                        (
                            "inconclusive",
                            format!(
                                "<a href=\"#{}\">incon.</a>",
                                html_reason_id(v.id, &s.name, p)
                            ),
                        )
                    }
                };
                let _ = write!(
                    out,
                    "<td class=\"v {class}\" id=\"{id}\" data-verdict=\"{}\" title=\"{}\">{body}</td>",
                    r.verdict.kind(),
                    e(&format!("{} × {} × {}: {}", v.id, s.name, p, how_run(c)))
                );
            }
            out.push_str("</tr>\n");
        }
    }
    out.push_str("</tbody>\n</table>\n");
    out.push_str("<h2 id=\"columns\">Columns</h2>\n<dl class=\"columns\">\n");
    for v in variants {
        let _ = writeln!(
            out,
            "<dt id=\"col-{}\">{} <code>{}</code></dt><dd>{} &mdash; {}</dd>",
            html_slug(&column_key(v)),
            e(&column_key(v)),
            e(v.id),
            e(&column_kernel(v)),
            e(v.summary)
        );
    }
    out.push_str("</dl>\n");
    let _ = writeln!(
        out,
        "<h2 id=\"counterexamples\">Counterexamples</h2>\n<p>{} violations. Each: what was \
         violated, how it was found, the replay handle, the wait-for cycle of a deadlock and \
         the trace; <code>counterexamples/</code> has each as Markdown with a sequence \
         diagram.</p>",
        violations.len()
    );
    for (c, p) in &violations {
        let Some(Verdict::Violated(ce)) = c
            .properties
            .iter()
            .find(|r| r.property == *p)
            .map(|r| &r.verdict)
        else {
            continue;
        };
        let _ = writeln!(
            out,
            "<section class=\"counterexample\" id=\"{}\">\n<h3>{} &times; {} &times; {}</h3>",
            html_counterexample_id(c.variant, &c.scenario, p),
            e(c.variant),
            e(&c.scenario),
            e(p)
        );
        let _ = writeln!(
            out,
            "<p><strong>Violated:</strong> {}</p>\n<p>{}</p>\n<p>Replay: \
             <code>kmodcheck replay &#39;{}&#39;</code></p>",
            e(&ce.message),
            e(&found_how(c, ce)),
            e(&ce.replay.to_string())
        );
        if let Some(cycle) = &ce.cycle {
            out.push_str("<p>Wait-for cycle:</p>\n<ul>\n");
            for l in cycle {
                let _ = writeln!(out, "<li>{}</li>", e(l));
            }
            out.push_str("</ul>\n");
        }
        let _ = writeln!(
            out,
            "<pre>{}</pre>\n<p><a href=\"counterexamples/{}\">As Markdown, with a sequence \
             diagram</a> &middot; <a href=\"#{}\">its cell in the matrix</a></p>\n</section>",
            e(&ce.trace),
            e(&counterexample_file(c.variant, &c.scenario, p)),
            html_cell_id(c.variant, &c.scenario, p)
        );
    }
    out.push_str("<h2 id=\"inconclusive\">Inconclusive cells, and why</h2>\n<ul>\n");
    for (c, p, reason) in &inconclusive {
        let _ = writeln!(
            out,
            "<li id=\"{}\"><a href=\"#{}\">{} &times; {} &times; {}</a>: {} ({})</li>",
            html_reason_id(c.variant, &c.scenario, p),
            html_cell_id(c.variant, &c.scenario, p),
            e(c.variant),
            e(&c.scenario),
            e(p),
            e(reason),
            e(&how_run(c))
        );
    }
    out.push_str("</ul>\n</body>\n</html>\n");
    out
}

/// Every file of `reports/`, by path relative to it.
pub fn report_files(
    variants: &[Variant],
    scenarios: &[Scenario],
    cells: &[CellResult],
) -> std::collections::BTreeMap<String, String> {
    let mut files = std::collections::BTreeMap::new();
    files.insert(
        "matrix.md".to_string(),
        matrix_markdown(variants, scenarios, cells),
    );
    files.insert("mutants.md".to_string(), mutants_markdown(cells));
    files.insert(
        "index.html".to_string(),
        matrix_html(variants, scenarios, cells),
    );
    for c in cells {
        for p in &c.properties {
            if let Some(md) = counterexample_markdown(c, p.property) {
                files.insert(
                    format!(
                        "counterexamples/{}",
                        counterexample_file(c.variant, &c.scenario, p.property)
                    ),
                    md,
                );
            }
        }
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{EngineKind, PropertyResult};
    use std::collections::BTreeMap;

    /// (scenario, property, column key) → verdict text, from a matrix as
    /// text: one table or blocks, each with its header of column keys.
    fn matrix_cells(text: &str) -> BTreeMap<(String, String, String), String> {
        let mut cells = BTreeMap::new();
        let (mut header, mut scenario) = (Vec::new(), String::new());
        for line in text.lines() {
            if line.starts_with("  ") && line.contains(" = ") {
                break; // the legend
            }
            let words: Vec<&str> = line.split_whitespace().collect();
            if words.is_empty() {
                continue;
            }
            if line.starts_with("column") || line.starts_with(&" ".repeat(MATRIX_LABEL)) {
                header = words;
            } else if !line.starts_with(' ') {
                scenario = line.to_string();
            } else {
                let verdicts = &words[1..];
                let keys = &header[header.len() - verdicts.len()..];
                for (k, v) in keys.iter().zip(verdicts) {
                    let at = (scenario.clone(), words[0].to_string(), k.to_string());
                    assert!(cells.insert(at, v.to_string()).is_none(), "{line}");
                }
            }
        }
        cells
    }

    /// Two scenarios under every column, with made-up verdicts that differ
    /// from cell to cell; the budget columns check neither ("-").
    fn example() -> (Vec<Variant>, Vec<Scenario>, Vec<CellResult>) {
        let variants = kmodcheck_model::variant::matrix_columns();
        let scenarios: Vec<Scenario> = ["recursive-self-load", "winner-dies"]
            .iter()
            .map(|n| kmodcheck_model::scenario::by_name(n).expect("built in"))
            .collect();
        let mut cells = Vec::new();
        let mut i = 0;
        for s in &scenarios {
            for v in variants.iter().filter(|v| !v.id.contains('+')) {
                let properties = s
                    .properties
                    .iter()
                    .map(|p| {
                        i += 1;
                        PropertyResult {
                            property: kmodcheck_properties::by_id(p).expect("a property").id,
                            verdict: match i % 4 {
                                0 | 3 => Verdict::Holds { exhaustive: true },
                                1 => Verdict::Holds { exhaustive: false },
                                _ => Verdict::Inconclusive {
                                    reason: "why".into(),
                                },
                            },
                        }
                    })
                    .collect();
                cells.push(CellResult {
                    variant: v.id,
                    scenario: s.name.clone(),
                    engine: EngineKind::Stateful,
                    exhaustive: true,
                    executions: 1,
                    states: None,
                    stopped: None,
                    elapsed: std::time::Duration::ZERO,
                    first_violation_after: None,
                    properties,
                    same_search_as: None,
                });
            }
        }
        (variants, scenarios, cells)
    }

    #[test]
    fn a_matrix_too_wide_is_split_into_blocks_of_columns() {
        let (variants, scenarios, cells) = example();
        let full = matrix(&variants, &scenarios, &cells);
        assert_eq!(full, matrix_fit(&variants, &scenarios, &cells, None));
        let table = |m: &str| m[..m.find(" = ").unwrap()].to_string();
        let wide = table(&full)
            .lines()
            .map(|l| l.chars().count())
            .max()
            .unwrap();
        assert_eq!(
            table(&full),
            table(&matrix_fit(&variants, &scenarios, &cells, Some(wide))),
            "a width the table fits leaves it whole"
        );
        let want = matrix_cells(&full);
        assert_eq!(want.len(), variants.len() * 9, "{full}");
        assert!(want.values().any(|v| v == "sampled") && want.values().any(|v| v == "-"));
        for width in [30, 40, 60, 80, 100, wide - 1] {
            let split = matrix_fit(&variants, &scenarios, &cells, Some(width));
            assert_eq!(matrix_cells(&split), want, "at {width}:\n{split}");
            let table = table(&split);
            // Each block repeats every row label.
            let blocks = table.matches("column").count();
            assert!(blocks > 1, "at {width}:\n{split}");
            assert_eq!(table.matches("winner-dies\n").count(), blocks);
            assert_eq!(table.matches("  idem-memory-safety ").count(), 2 * blocks);
            // Every line fits, but where one column alone is wider (26
            // columns of labels and 9 of a column) or a word is (a
            // kernel's description in the legend holds none so long).
            if width >= 35 {
                // (A line of one word, such as a config option's name in
                // the legend, is never broken.)
                for l in split.lines().filter(|l| l.split_whitespace().count() > 1) {
                    assert!(l.chars().count() <= width.max(60), "at {width}: {l:?}");
                }
            }
            // The legend is said once.
            assert_eq!(split.matches("  proved   holds").count(), 1);
            assert_eq!(split.matches("= legacy ").count(), 1);
        }
    }

    #[test]
    fn html_escape_leaves_no_markup() {
        assert_eq!(
            html_escape(r#"T1 -> T2 <x> & "a" 'b'"#),
            "T1 -&gt; T2 &lt;x&gt; &amp; &quot;a&quot; &#39;b&#39;"
        );
        assert_eq!(
            html_cell_id("a+b", "s (1).toml", "p"),
            "cell-a_b--s__1__toml--p"
        );
    }

    #[test]
    fn columns_are_shared_out_evenly_among_the_fewest_blocks() {
        let nine = [9; 12];
        let lens = |b: Vec<std::ops::Range<usize>>| b.iter().map(|r| r.len()).collect::<Vec<_>>();
        assert_eq!(lens(matrix_blocks(&nine, 26, 134)), [12]);
        assert_eq!(lens(matrix_blocks(&nine, 26, 133)), [6, 6]);
        assert_eq!(lens(matrix_blocks(&nine, 26, 80)), [6, 6]);
        assert_eq!(lens(matrix_blocks(&nine, 28, 80)), [4, 4, 4]);
        assert_eq!(lens(matrix_blocks(&nine, 26, 70)), [4, 4, 4]);
        assert_eq!(lens(matrix_blocks(&nine, 26, 10)), [1; 12]);
        assert_eq!(lens(matrix_blocks(&[9; 7], 26, 62)), [4, 3]);
        assert_eq!(lens(matrix_blocks(&[9; 7], 26, 61)), [3, 2, 2]);
        // A wider column counts as wide as it is.
        assert_eq!(lens(matrix_blocks(&[9, 9, 30, 9], 26, 60)), [2, 1, 1]);
        assert_eq!(lens(matrix_blocks(&[], 26, 80)), [0]);
    }
}
