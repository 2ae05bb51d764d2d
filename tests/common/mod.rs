//! Shared by the test binaries: check a set of cells once, on all cores.

use kmodcheck::engine::{check_cell, CellResult, CheckOptions, Verdict};
use kmodcheck::model::{scenario, variant};
use std::sync::{Arc, Mutex};

/// Check the (variant, scenario) pairs with the default options (the
/// stateful engine, unbounded), in parallel; results in the order asked.
#[allow(dead_code)] // not every test binary uses it
pub fn check_cells(pairs: &[(&str, &str)]) -> Vec<CellResult> {
    check_cells_with(pairs, &CheckOptions::default())
}

/// [`check_cells`] with these options.
#[allow(dead_code)] // not every test binary uses it
pub fn check_cells_with(pairs: &[(&str, &str)], opts: &CheckOptions) -> Vec<CellResult> {
    let jobs: Vec<(usize, variant::Variant, scenario::Scenario)> = pairs
        .iter()
        .enumerate()
        .map(|(i, (v, s))| {
            (
                i,
                variant::by_id(v).unwrap_or_else(|| panic!("unknown variant {v}")),
                scenario::by_name(s).unwrap_or_else(|| panic!("unknown scenario {s}")),
            )
        })
        .collect();
    check_jobs(jobs, opts)
}

/// Check these cells, in parallel; results in the order given.
#[allow(dead_code)] // not every test binary uses it
pub fn check_jobs(
    jobs: Vec<(usize, variant::Variant, scenario::Scenario)>,
    opts: &CheckOptions,
) -> Vec<CellResult> {
    let queue = Arc::new(Mutex::new(jobs));
    let out = Arc::new(Mutex::new(Vec::new()));
    let workers = kmodcheck::jobs_from_env();
    let threads: Vec<_> = (0..workers)
        .map(|_| {
            let (queue, out, opts) = (queue.clone(), out.clone(), opts.clone());
            std::thread::spawn(move || loop {
                let Some((i, v, s)) = queue.lock().unwrap().pop() else {
                    return;
                };
                let c = check_cell(v, &s, &opts).unwrap();
                out.lock().unwrap().push((i, c));
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let mut r = std::mem::take(&mut *out.lock().unwrap());
    r.sort_by_key(|(i, _)| *i);
    r.into_iter().map(|(_, c)| c).collect()
}

/// The verdict of one property in a cell.
#[allow(dead_code)] // not every test binary that includes this module uses it
pub fn verdict<'a>(c: &'a CellResult, property: &str) -> &'a Verdict {
    &c.properties
        .iter()
        .find(|p| p.property == property)
        .unwrap_or_else(|| panic!("{} has no property {property}", c.scenario))
        .verdict
}
