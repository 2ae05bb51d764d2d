use kmodcheck::engine::{check_cell, CheckOptions, EngineKind};
fn main() {
    let a: Vec<String> = std::env::args().collect();
    let v = kmodcheck::model::variant::by_id(&a[1]).unwrap();
    let s = kmodcheck::model::scenario::by_name(&a[2]).unwrap();
    let mut o = CheckOptions::from_env().unwrap();
    o.engine = EngineKind::parse(&a[3]);
    o.max_executions = a.get(4).map(|x| x.parse().unwrap());
    let t = std::time::Instant::now();
    let c = check_cell(v, &s, &o).unwrap();
    println!(
        "{} execs in {:?} exhaustive={} stopped={:?}",
        c.executions,
        t.elapsed(),
        c.exhaustive,
        c.stopped
    );
    for p in &c.properties {
        println!("{} {}", p.property, p.verdict.kind());
        if let Some(t) = kmodcheck::report::counterexample_text(&c, p.property) {
            println!("{t}");
        }
        if let kmodcheck::engine::Verdict::Inconclusive { reason } = &p.verdict {
            println!("  {reason}");
        }
    }
}
