//! Write the built-in catalogue as scenario files: `scenarios/NAME.toml`
//! (`+` in a name becomes `_`). `cargo run --release --example
//! scenario_files`; `tests/scenario_files.rs` checks the files against the
//! built-in scenarios.

fn main() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    std::fs::create_dir_all(&dir).expect("create scenarios/");
    for s in kmodcheck::model::scenario::catalogue() {
        let path = dir.join(kmodcheck::scenario_file::file_name(&s.name));
        std::fs::write(&path, kmodcheck::scenario_file::to_toml(&s)).expect("write");
        println!("{}", path.display());
    }
}
