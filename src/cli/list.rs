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
    let mut out = String::new();
    use std::fmt::Write as _;
    // Each section's first column is as wide as its longest id, and two
    // spaces part it from the text, which is how `wrap` finds where a
    // continuation line starts: a long id never sends it back to column 2.
    let width = |ids: &mut dyn Iterator<Item = usize>| ids.max().unwrap_or(0);
    let vw = width(
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
    let sw = width(&mut scenarios.iter().map(|s| s.name.len()));
    let pw = width(
        &mut kmodcheck::properties::catalogue()
            .iter()
            .map(|p| p.id.len()),
    );
    for (title, list) in [
        ("variants:", variant::catalogue()),
        (
            "\nproposals under review (check, diff, explain; not in the matrix):",
            variant::proposals(),
        ),
    ] {
        let _ = writeln!(out, "{title}");
        for v in list {
            let _ = writeln!(out, "  {:<vw$}  {}", v.id, v.summary);
            let _ = writeln!(out, "  {:<vw$}  {}", "", v.kernel);
        }
    }
    let _ = writeln!(
        out,
        "\nmutants (seeded bugs, each checked on its scenario):"
    );
    for m in variant::mutants() {
        let _ = writeln!(
            out,
            "  {:<vw$}  {}\n  {:<vw$}  of {}; caught on {} by {}",
            m.variant.id, m.variant.summary, "", m.of, m.scenario, m.property
        );
    }
    let _ = writeln!(
        out,
        "\nkmod budgets (every loader above has kmod-semaphore; pick another with LOADER+BUDGET):"
    );
    for b in kmodcheck::model::variant::KmodBudget::ALL {
        let _ = writeln!(out, "  {:<vw$}  {}", b.id(), b.kernel());
    }
    let _ = writeln!(out, "\nscenarios (built in; also as scenarios/*.toml):");
    for s in &scenarios {
        let _ = writeln!(out, "  {:<sw$}  {}", s.name, s.summary);
        let _ = writeln!(out, "  {:<sw$}  {}", "", s.reference);
    }
    let _ = writeln!(
        out,
        "\nproperties (`kmodcheck explain ID` gives the rationale):"
    );
    for p in kmodcheck::properties::catalogue() {
        let _ = writeln!(out, "  {:<pw$}  {}", p.id, p.statement);
    }
    print!("{}", kmodcheck::explain::wrap(&out));
    Ok(ExitCode::SUCCESS)
}
