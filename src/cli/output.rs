//! What every subcommand prints with: progress on stderr, colour on a
//! terminal, a verdict in one line, a cell as text, and the exit status of
//! verdicts.

use kmodcheck::engine::{CellResult, Progress, Verdict};
use kmodcheck::report;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;

/// Progress of one long cell on stderr. With both stdout and stderr on a
/// terminal: a bar redrawn in place, with executions, executions/s and, when
/// the run has an execution bound, how far to it. Otherwise (output piped,
/// CI logs): one plain line per report.
pub fn progress_line(what: String, bound: Option<usize>) -> Progress {
    let bar = std::io::stdout().is_terminal() && std::io::stderr().is_terminal();
    // Cut to 99 columns, and to the terminal's width less one.
    let room = kmodcheck::progress_columns().map_or(99, |c| c.min(99));
    if bar {
        // The engines report every 5 s; the bar says at once what runs, so
        // a terminal is not blank until the first report.
        let line = format!("  {what}: exploring (progress every 5 s)");
        let _ = write!(
            std::io::stderr().lock(),
            "\r\x1b[2K{}",
            truncate(&line, room)
        );
    }
    Progress(Arc::new(move |n, states, t| {
        let secs = t.as_secs_f64();
        let rate = if secs > 0.0 { n as f64 / secs } else { 0.0 };
        let states = states.map_or(String::new(), |s| format!("{s} states, "));
        let mut err = std::io::stderr().lock();
        if bar {
            let gauge = match bound {
                Some(b) if b > 0 => {
                    let done = (n * 20 / b).min(20);
                    format!(
                        "[{}{}] {:>3}% ",
                        "#".repeat(done),
                        ".".repeat(20 - done),
                        n * 100 / b
                    )
                }
                _ => String::new(),
            };
            let line = format!("  {what}: {gauge}{states}{n} executions, {rate:.0}/s, {secs:.0} s");
            let _ = write!(err, "\r\x1b[2K{}", truncate(&line, room));
        } else {
            let _ = writeln!(
                err,
                "  {what}: {states}{n} executions, {rate:.0}/s, {secs:.0} s, still exploring"
            );
        }
    }))
}

fn truncate(s: &str, width: usize) -> String {
    s.chars().take(width).collect()
}

pub fn clear_progress() {
    let mut err = std::io::stderr().lock();
    if err.is_terminal() && std::io::stdout().is_terminal() {
        let _ = write!(err, "\r\x1b[2K");
    }
}

/// Colour the verdict words of a text for a terminal: red VIOLATED, green
/// holds/proved, yellow inconclusive. Plain when stdout is not a terminal,
/// or when `NO_COLOR` is set (<https://no-color.org>).
pub fn paint(text: &str) -> String {
    let colour = std::io::stdout().is_terminal()
        && !matches!(std::env::var_os("NO_COLOR"), Some(v) if !v.is_empty());
    if !colour {
        return text.to_string();
    }
    const RULES: &[(&str, &str)] = &[
        ("VIOLATED", "\x1b[1;31m"),
        ("proved", "\x1b[32m"),
        ("holds", "\x1b[32m"),
        ("sampled", "\x1b[33m"),
        ("incon.", "\x1b[33m"),
        ("inconclusive", "\x1b[33m"),
    ];
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    'outer: while !rest.is_empty() {
        for (word, code) in RULES {
            if let Some(r) = rest.strip_prefix(word) {
                out.push_str(code);
                out.push_str(word);
                out.push_str("\x1b[0m");
                rest = r;
                continue 'outer;
            }
        }
        let c = rest.chars().next().expect("non-empty");
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

pub fn verdict_line(c: &CellResult, v: &Verdict) -> String {
    match v {
        Verdict::Holds { exhaustive: true } => {
            format!("holds (proved: {}, {})", c.engine.name(), c.explored())
        }
        Verdict::Holds { exhaustive: false } => format!(
            "holds in the {} executions explored (not a proof)",
            c.executions
        ),
        Verdict::Violated(ce) => format!("VIOLATED: {}", ce.message),
        Verdict::Inconclusive { reason } => format!("inconclusive: {reason}"),
    }
}

/// A cell as text, fit to `width` columns: its verdicts, then each
/// counterexample (the trace rendered at that width).
pub fn cell_text(c: &CellResult, width: usize) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} × {}: {}, {}, {}{:.2} s",
        c.variant,
        c.scenario,
        c.explored(),
        c.engine.name(),
        if c.exhaustive {
            "exhaustive, "
        } else {
            "not exhaustive, "
        },
        c.elapsed.as_secs_f64()
    );
    for p in &c.properties {
        let _ = match &p.verdict {
            Verdict::Holds { exhaustive } => writeln!(
                out,
                "  {:<24} holds{}",
                p.property,
                if *exhaustive {
                    format!(" (proved: {})", c.engine.covers())
                } else {
                    " (in the executions explored; not a proof)".to_string()
                }
            ),
            Verdict::Violated(_) => writeln!(out, "  {:<24} VIOLATED", p.property),
            Verdict::Inconclusive { reason } => {
                writeln!(out, "  {:<24} inconclusive: {reason}", p.property)
            }
        };
    }
    for p in &c.properties {
        if let Some(t) = report::counterexample_text_at(c, p.property, width) {
            let _ = writeln!(out, "\n{t}");
        }
    }
    out
}

/// 1 when a property is violated; else 3 when a verdict is not a proof
/// (inconclusive, or "holds" in a sampled or bounded run, which found no
/// violation but did not explore everything); else 0.
pub fn exit_code(cells: &[CellResult]) -> ExitCode {
    let all = cells.iter().flat_map(|c| c.properties.iter());
    let mut inconclusive = false;
    for p in all {
        match p.verdict {
            Verdict::Violated(_) => return ExitCode::from(1),
            Verdict::Inconclusive { .. } | Verdict::Holds { exhaustive: false } => {
                inconclusive = true
            }
            Verdict::Holds { exhaustive: true } => {}
        }
    }
    if inconclusive {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    }
}
