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
    for (title, list) in [
        ("variants:", variant::catalogue()),
        (
            "\nproposals under review (check, diff, explain; not in the matrix):",
            variant::proposals(),
        ),
    ] {
        let _ = writeln!(out, "{title}");
        for v in list {
            let _ = writeln!(out, "  {:<26} {}", v.id, v.summary);
            let _ = writeln!(out, "  {:<26} {}", "", v.kernel);
        }
    }
    let _ = writeln!(
        out,
        "\nmutants (seeded bugs, each checked on its scenario):"
    );
    for m in variant::mutants() {
        let _ = writeln!(
            out,
            "  {:<26} {}\n  {:<26} of {}; caught on {} by {}",
            m.variant.id, m.variant.summary, "", m.of, m.scenario, m.property
        );
    }
    let _ = writeln!(
        out,
        "\nkmod budgets (every loader above has kmod-semaphore; pick another with LOADER+BUDGET):"
    );
    for b in kmodcheck::model::variant::KmodBudget::ALL {
        let _ = writeln!(out, "  {:<26} {}", b.id(), b.kernel());
    }
    let _ = writeln!(out, "\nscenarios (built in; also as scenarios/*.toml):");
    for s in scenario::catalogue() {
        let _ = writeln!(out, "  {:<34} {}", s.name, s.summary);
        let _ = writeln!(out, "  {:<34} {}", "", s.reference);
    }
    let _ = writeln!(
        out,
        "\nproperties (`kmodcheck explain ID` gives the rationale):"
    );
    for p in kmodcheck::properties::catalogue() {
        let _ = writeln!(out, "  {:<24} {}", p.id, p.statement);
    }
    print!("{}", kmodcheck::explain::wrap(&out));
    Ok(ExitCode::SUCCESS)
}
