//! `kmodcheck list`: the variants, proposals, mutants, kmod budgets,
//! scenarios and properties, each with its summary and kernel reference.

use super::{CliError, Globals};
use kmodcheck::model::{scenario, variant};
use std::process::ExitCode;

/// `kmodcheck list`.
pub fn run(g: &Globals) -> Result<ExitCode, CliError> {
    if g.json {
        let o = serde_json::json!({
            "variants": variant::catalogue(),
            "proposals": variant::proposals(),
            "mutants": variant::mutants(),
            "kmod_budgets": kmodcheck::model::variant::KmodBudget::ALL.iter().map(|b| serde_json::json!({"id": b.id(), "kernel": b.kernel()})).collect::<Vec<_>>(),
            "scenarios": scenario::catalogue(),
            "properties": kmodcheck::properties::catalogue(),
        });
        println!("{o}");
        return Ok(ExitCode::SUCCESS);
    }
    let width = super::width::text_width();
    let mut out = String::new();
    use std::fmt::Write as _;
    // Each section's first column is as wide as its longest id, and two
    // spaces part it from the text, which is how `wrap` finds where a
    // continuation line starts: a long id never sends it back to column 2.
    let width_of = |ids: &mut dyn Iterator<Item = usize>| ids.max().unwrap_or(0);
    // An entry: its id, then its lines of text beside it. Where that
    // leaves the text fewer than 30 columns (a narrow terminal), the text
    // goes under the id instead, indented by 6.
    let entry = |out: &mut String, w: usize, id: &str, lines: &[&str]| {
        if width < 2 + w + 2 + 30 {
            let _ = writeln!(out, "  {id}");
            for l in lines {
                let _ = writeln!(out, "      {l}");
            }
        } else {
            for (i, l) in lines.iter().enumerate() {
                let id = if i == 0 { id } else { "" };
                let _ = writeln!(out, "  {id:<w$}  {l}");
            }
        }
    };
    let vw = width_of(
        &mut variant::catalogue()
            .iter()
            .chain(variant::proposals())
            .chain(variant::mutants().iter().map(|m| &m.variant))
            .map(|v| v.id.len())
            .chain(
                kmodcheck::model::variant::KmodBudget::ALL
                    .iter()
                    .map(|b| b.id().len()),
            ),
    );
    let scenarios = scenario::catalogue();
    let sw = width_of(&mut scenarios.iter().map(|s| s.name.len()));
    let pw = width_of(
        &mut kmodcheck::properties::catalogue()
            .iter()
            .map(|p| p.id.len()),
    );
    // The kernel's history as the matrix models it: every kernel variant
    // in release order, with the releases it stands for (an -rc form or a
    // reverted commit stands for none).
    let _ = writeln!(
        out,
        "kernel timeline (oldest first; the matrix has a column for each):"
    );
    let rw = width_of(
        &mut variant::catalogue()
            .iter()
            .map(|v| v.releases.chars().count().max(4)),
    );
    for v in variant::catalogue()
        .iter()
        .filter(|v| v.origin == variant::Origin::Kernel)
    {
        let releases = if v.releases.is_empty() {
            "(-rc)"
        } else {
            v.releases
        };
        let line = format!("{releases:<rw$}  {}", v.kernel);
        entry(&mut out, vw, v.id, &[&line]);
    }
    let _ = writeln!(out);
    for (title, list) in [
        ("variants:", variant::catalogue()),
        (
            "\nproposals under review (check, diff, explain; not in the matrix):",
            variant::proposals(),
        ),
    ] {
        let _ = writeln!(out, "{title}");
        for v in list {
            entry(&mut out, vw, v.id, &[v.summary, v.kernel]);
        }
    }
    let _ = writeln!(
        out,
        "\nmutants (seeded bugs, each checked on its scenario):"
    );
    for m in variant::mutants() {
        let caught = format!("of {}; caught on {} by {}", m.of, m.scenario, m.property);
        entry(&mut out, vw, m.variant.id, &[m.variant.summary, &caught]);
    }
    let _ = writeln!(
        out,
        "\nkmod budgets (every loader above has kmod-semaphore; pick another with LOADER+BUDGET):"
    );
    for b in kmodcheck::model::variant::KmodBudget::ALL {
        entry(&mut out, vw, b.id(), &[b.kernel()]);
    }
    let _ = writeln!(out, "\nscenarios (built in; also as scenarios/*.toml):");
    for s in &scenarios {
        entry(&mut out, sw, &s.name, &[&s.summary, &s.reference]);
    }
    let _ = writeln!(
        out,
        "\nproperties (`kmodcheck explain ID` gives the rationale):"
    );
    for p in kmodcheck::properties::catalogue() {
        entry(&mut out, pw, p.id, &[p.statement]);
    }
    print!("{}", kmodcheck::explain::wrap_at(&out, width));
    Ok(ExitCode::SUCCESS)
}
