fn main() {
    use kmodcheck::engine::{check_cell, CheckOptions};
    let opts = CheckOptions::from_env().unwrap();
    let sc = kmodcheck::model::scenario::catalogue();
    for s in &sc {
        for v in kmodcheck::model::variant::catalogue() {
            let t = std::time::Instant::now();
            let c = check_cell(*v, s, &opts).unwrap();
            eprintln!("{} {} {} execs {:?} {:?}", v.id, s.name, c.executions, t.elapsed(), c.stopped);
            for p in &c.properties { eprintln!("   {} {}", p.property, kmodcheck::report::cell_text(&p.verdict)); }
        }
    }
}
