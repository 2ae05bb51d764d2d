//! "Did you mean ...?" for a mistyped variant, scenario, property, errno,
//! engine, suite or scenario-file key.

use kmodcheck_model::variant;

/// How alike two names must be (Jaro-Winkler, 1.0 for equal) for one to be
/// offered for the other: close enough for a slip of the keyboard
/// (idempotent-interuptible), not for another word (legacy, nope).
const ALIKE: f64 = 0.85;

/// The candidate most like `given`, if one is alike enough to be what was
/// meant.
pub fn closest<'a>(given: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .filter(|c| *c != given)
        .map(|c| (strsim::jaro_winkler(given, c), c))
        .filter(|(score, _)| *score >= ALIKE)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// `"; did you mean X?"` for the closest candidate, or nothing.
pub fn did_you_mean<'a>(given: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    closest(given, candidates).map_or(String::new(), |c| format!("; did you mean {c}?"))
}

/// Every variant id: the kernels, the proposals and the mutants (a kmod
/// budget is chosen apart, after `+`).
pub fn variant_ids() -> Vec<&'static str> {
    variant::catalogue()
        .iter()
        .chain(variant::proposals())
        .map(|v| v.id)
        .chain(variant::mutants().iter().map(|m| m.variant.id))
        .collect()
}

/// Why `id` names no variant: the loader, or the budget after `+`, with
/// the nearest id.
pub fn unknown_variant(id: &str) -> String {
    let budgets = variant::KmodBudget::ALL.map(|b| b.id());
    match id.split_once('+') {
        Some((loader, budget)) if variant::by_id(loader).is_some() => format!(
            "unknown kmod budget; variant={id}, budget={budget}, expected={}{}",
            budgets.join("|"),
            closest(budget, budgets)
                .map_or(String::new(), |b| format!("; did you mean {loader}+{b}?"))
        ),
        Some((loader, budget)) => format!(
            "unknown loader; variant={id}, loader={loader} (see `kmodcheck list`){}",
            closest(loader, variant_ids())
                .map_or(String::new(), |l| format!("; did you mean {l}+{budget}?"))
        ),
        None => format!(
            "unknown variant; variant={id} (see `kmodcheck list`){}",
            did_you_mean(id, variant_ids())
        ),
    }
}

/// Every built-in scenario name.
pub fn scenario_names() -> Vec<String> {
    kmodcheck_model::scenario::catalogue()
        .into_iter()
        .map(|s| s.name)
        .collect()
}

/// Every property id.
pub fn property_ids() -> Vec<&'static str> {
    kmodcheck_properties::catalogue()
        .iter()
        .map(|p| p.id)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slip_is_matched_and_another_word_is_not() {
        assert_eq!(
            closest("idempotent-interuptible", variant_ids()),
            Some("idempotent-interruptible")
        );
        let scenarios = scenario_names();
        assert_eq!(
            closest("winer-dies", scenarios.iter().map(String::as_str)),
            Some("winner-dies")
        );
        assert_eq!(closest("no-deadlok", property_ids()), Some("no-deadlock"));
        assert_eq!(closest("nope", variant_ids()), None);
        assert_eq!(closest("spin", ["stateful", "loom", "shuttle-dfs"]), None);
    }
}
