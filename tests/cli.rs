//! Every subcommand, run as the real binary: output and exit code, and the
//! `--json` form. Cells here are small ones, so the file runs in seconds.

use std::path::Path;
use std::process::{Command, Output};

fn kmodcheck(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kmodcheck"));
    c.args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("LOOM_MAX_PREEMPTIONS")
        .env_remove("LOOM_MAX_BRANCHES")
        .env_remove("SHUTTLE_RANDOM_SEED")
        .env_remove("SHUTTLE_CAPTURE_BACKTRACE")
        // Output is piped here, so without COLUMNS it has no width to fit,
        // whatever shell ran the tests.
        .env_remove("COLUMNS");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run kmodcheck")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json_lines(o: &Output) -> Vec<serde_json::Value> {
    stdout(o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

#[test]
fn list_names_every_variant_scenario_and_property() {
    let o = kmodcheck(&["list"], &[]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    for word in [
        "idempotent-interruptible",
        "2124d84db293",
        "idem-timeout",
        "mutant-unlocked-unlink",
        "winner-dies",
        "docs/kernel.md §4.8",
        "idem-memory-safety",
        "kmod-throttle-timeout",
    ] {
        assert!(out.contains(word), "list lacks {word}:\n{out}");
    }
    assert!(out.lines().all(|l| l.chars().count() <= 100), "{out}");
    let j = json_lines(&kmodcheck(&["list", "--json"], &[]));
    // A line at column 2 starts an entry with its id; every other line of
    // an entry (its wrapped text, its reference) is indented past the ids,
    // however long the longest id is.
    let mut ids: Vec<String> = Vec::new();
    for key in ["variants", "proposals", "kmod_budgets", "properties"] {
        for v in j[0][key].as_array().unwrap() {
            ids.push(v["id"].as_str().unwrap().to_string());
        }
    }
    for m in j[0]["mutants"].as_array().unwrap() {
        ids.push(m["variant"]["id"].as_str().unwrap().to_string());
    }
    for sc in j[0]["scenarios"].as_array().unwrap() {
        ids.push(sc["name"].as_str().unwrap().to_string());
    }
    for l in out.lines() {
        if let Some(rest) = l.strip_prefix("  ") {
            if !rest.starts_with(' ') {
                let first = rest.split(' ').next().unwrap();
                assert!(
                    ids.iter().any(|i| i == first),
                    "a wrapped line at column 2: {l:?}\n{out}"
                );
            }
        }
    }
    assert_eq!(j.len(), 1);
    assert!(j[0]["scenarios"].as_array().unwrap().len() >= 16);
    assert!(j[0]["variants"]
        .as_array()
        .unwrap()
        .iter()
        .any(|v| v["id"] == "heap-idempotent"));
}

#[test]
fn explain_a_property_a_variant_and_a_scenario() {
    let o = kmodcheck(&["explain", "consistent-result"], &[]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("rationale"));
    let o = kmodcheck(&["explain", "idempotent-interruptible+kmod-2008"], &[]);
    assert!(
        stdout(&o).contains("kmod-2008 — over the limit: -ENOMEM"),
        "{}",
        stdout(&o)
    );
    let o = kmodcheck(&["explain", "scenarios/winner-dies.toml"], &[]);
    assert!(stdout(&o).contains("rmmod -f x, once a task has died in init"));
    let j = json_lines(&kmodcheck(&["explain", "winner-dies", "--json"], &[]));
    assert_eq!(j[0]["kind"], "scenario");
    assert_eq!(j[0]["threads"], 4);
    let bad = kmodcheck(&["explain", "no-such-thing"], &[]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("nothing is called \"no-such-thing\""));
}

#[test]
fn check_exit_codes_follow_the_verdicts() {
    // Proved: 0.
    let o = kmodcheck(
        &[
            "check",
            "--variant",
            "recursion-aware",
            "--scenario",
            "recursive-self-load",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("holds (proved: every reachable state)"));
    // Violated: 1, with the trace and its replay handle.
    let o = kmodcheck(
        &[
            "check",
            "--variant",
            "idempotent",
            "--scenario",
            "recursive-self-load",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(
        out.contains("wait-for cycle:")
            && out.contains("replay: kmodcheck replay 'stateful:idempotent:recursive-self-load:"),
        "{out}"
    );
    assert!(!out.contains('\u{1b}'), "colour codes in piped output");
    // The trace and everything around it fit a 100-column terminal.
    assert!(out.lines().all(|l| l.chars().count() <= 100), "{out}");
    // Only inconclusive: 3.
    let o = kmodcheck(
        &[
            "check",
            "--variant",
            "legacy",
            "--scenario",
            "concurrent-same-file-2",
            "--max-executions",
            "5",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(3), "{}", stdout(&o));
    assert!(stdout(&o).contains("inconclusive"));
    // Bad input: 2.
    for args in [
        &["check", "--variant", "nope", "--scenario", "winner-dies"][..],
        &["check", "--variant", "legacy", "--scenario", "nope"],
        &[
            "check",
            "--variant",
            "legacy",
            "--scenario",
            "winner-dies",
            "--engine",
            "spin",
        ],
        &[
            "check",
            "--variant",
            "legacy",
            "--scenario",
            "winner-dies",
            "--property",
            "ends-live",
        ],
    ] {
        let o = kmodcheck(args, &[]);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).starts_with("kmodcheck: "), "{args:?}");
    }
}

#[test]
fn check_json_and_one_property() {
    let o = kmodcheck(
        &[
            "check",
            "--variant",
            "heap-idempotent",
            "--scenario",
            "winner-dies",
            "--property",
            "consistent-result",
            "--json",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(0));
    let j = json_lines(&o);
    assert_eq!(j.len(), 1);
    assert_eq!(j[0]["property"], "consistent-result");
    assert_eq!(j[0]["verdict"], "holds");
    assert_eq!(j[0]["exhaustive"], true);
    assert_eq!(j[0]["engine"], "stateful");
    assert!(j[0]["states"].as_u64().unwrap() > 0);
}

#[test]
fn a_flag_wins_over_the_environment() {
    let args = [
        "check",
        "--variant",
        "idempotent",
        "--scenario",
        "recursive-self-load",
        "--engine",
        "loom",
        "--json",
    ];
    let env = [("LOOM_MAX_PREEMPTIONS", "1")];
    let from_env = json_lines(&kmodcheck(&args, &env));
    assert!(from_env[0]["replay"].as_str().unwrap().ends_with(":pb=1"));
    let mut with_flag = args.to_vec();
    with_flag.extend(["--preemption-bound", "2"]);
    let from_flag = json_lines(&kmodcheck(&with_flag, &env));
    assert!(from_flag[0]["replay"].as_str().unwrap().ends_with(":pb=2"));
    let bad = kmodcheck(&args, &[("LOOM_MAX_PREEMPTIONS", "many")]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("LOOM_MAX_PREEMPTIONS"));
}

#[test]
fn replay_prints_the_same_trace() {
    let handle = "loom:error-out-early:shared-dependency:3";
    let o = kmodcheck(&["replay", handle], &[]);
    let text = stdout(&o);
    let again = stdout(&kmodcheck(&["replay", handle], &[]));
    assert_eq!(text, again);
    let j = json_lines(&kmodcheck(&["replay", handle, "--json"], &[]));
    assert_eq!(j[0]["handle"], handle);
    assert!(text.contains(j[0]["trace"].as_str().unwrap()));
    let bad = kmodcheck(&["replay", "loom:legacy"], &[]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("malformed replay handle"));
}

#[test]
fn diff_lists_what_a_fix_changes() {
    let o = kmodcheck(
        &[
            "diff",
            "idempotent",
            "heap-idempotent",
            "--scenario",
            "winner-dies",
            "--scenario",
            "failing-init",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.starts_with("idempotent → heap-idempotent"), "{out}");
    assert!(out.contains("winner-dies × no-deadlock"), "{out}");
    assert!(
        !out.contains("failing-init ×"),
        "failing-init does not differ:\n{out}"
    );
    let j = json_lines(&kmodcheck(
        &[
            "diff",
            "idempotent",
            "heap-idempotent",
            "--scenario",
            "winner-dies",
            "--json",
        ],
        &[],
    ));
    assert!(j.iter().any(|l| l["property"] == "no-deadlock"
        && l["old"]["verdict"] == "violated"
        && l["new"]["verdict"] == "holds"));
    let bad = kmodcheck(&["diff", "idempotent", "idempotent+kmod-1999"], &[]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("unknown kmod budget"));
}

#[test]
fn matrix_and_report_on_chosen_scenarios() {
    let o = kmodcheck(&["matrix", "--scenario", "same-name-different-files"], &[]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert!(
        out.contains("same-name-different-files") && out.contains("proved"),
        "{out}"
    );
    assert!(stderr(&o).contains("executions"), "no progress on stderr");
    let j = json_lines(&kmodcheck(
        &[
            "matrix",
            "--scenario",
            "same-name-different-files",
            "--json",
        ],
        &[],
    ));
    assert!(j
        .iter()
        .all(|l| l["scenario"] == "same-name-different-files"));
    assert!(j.len() >= 8 * 5);
    let dir = std::env::temp_dir().join(format!("kmodcheck-report-{}", std::process::id()));
    let d = dir.to_string_lossy().into_owned();
    let o = kmodcheck(&["report", "--dir", &d, "--scenario", "winner-dies"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let matrix = std::fs::read_to_string(dir.join("matrix.md")).unwrap();
    assert!(matrix.contains("| winner-dies | no-deadlock |"));
    assert!(Path::new(&dir)
        .join("counterexamples/idempotent--winner-dies--no-deadlock.md")
        .exists());
    let _ = std::fs::remove_dir_all(&dir);
}

/// The values of every `attr="..."` in `html`.
fn attribute_values<'a>(html: &'a str, attr: &str) -> Vec<&'a str> {
    let key = format!(" {attr}=\"");
    html.match_indices(&key)
        .map(|(i, _)| {
            let rest = &html[i + key.len()..];
            &rest[..rest.find('"').expect("a closing quote")]
        })
        .collect()
}

/// What any `index.html` the report writes must be: a page that works
/// offline (no script, nothing loaded from the network), whose every
/// link within it lands on an id, whose every link to a file names one
/// written beside it, and whose traces are escaped.
fn check_offline_html(dir: &Path) -> String {
    let html = std::fs::read_to_string(dir.join("index.html")).expect("index.html");
    let lower = html.to_lowercase();
    for banned in [
        "<script",
        "@import",
        "url(",
        "<link",
        "<iframe",
        "<img",
        "javascript:",
    ] {
        assert!(!lower.contains(banned), "index.html has {banned}");
    }
    let ids: std::collections::BTreeSet<&str> = attribute_values(&html, "id").into_iter().collect();
    assert_eq!(
        ids.len(),
        attribute_values(&html, "id").len(),
        "an id is used twice"
    );
    for attr in ["href", "src"] {
        for v in attribute_values(&html, attr) {
            let l = v.to_lowercase();
            assert!(
                !l.starts_with("http:") && !l.starts_with("https:") && !l.starts_with("//"),
                "{attr}={v:?} loads from the network"
            );
            match v.strip_prefix('#') {
                Some(id) => assert!(ids.contains(id), "{attr}={v:?} lands on no id"),
                None => assert!(dir.join(v).is_file(), "{attr}={v:?} names no file"),
            }
        }
    }
    // Each violated cell links to its counterexample's section.
    for (i, _) in html.match_indices("<td class=\"v violated\"") {
        let cell = &html[i..i + html[i..].find("</td>").unwrap()];
        assert!(cell.contains("<a href=\"#ce-"), "{cell}");
    }
    // Traces are text: `->` and `<` escaped, no tag inside a <pre>.
    for (i, _) in html.match_indices("<pre>") {
        let body = &html[i + 5..i + html[i..].find("</pre>").unwrap()];
        assert!(!body.contains('<') && !body.contains("->"), "{body}");
    }
    html
}

/// `report` writes index.html beside matrix.md, into whichever directory
/// it writes: every cell of the matrix with its verdict, every violation
/// linked to its counterexample, and nothing that needs the network. The
/// committed reports/index.html is held to the same.
#[test]
fn report_writes_an_offline_html_page() {
    let scenarios = ["recursive-self-load", "winner-dies"];
    let dir = std::env::temp_dir().join(format!("kmodcheck-html-{}", std::process::id()));
    let d = dir.to_string_lossy().into_owned();
    let mut args = vec!["report", "--dir", &d];
    for s in scenarios {
        args.extend(["--scenario", s]);
    }
    let o = kmodcheck(&args, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let html = check_offline_html(&dir);
    let mut args = vec!["matrix", "--json"];
    for s in scenarios {
        args.extend(["--scenario", s]);
    }
    let columns: Vec<&str> = kmodcheck::model::variant::matrix_columns()
        .iter()
        .map(|v| v.id)
        .collect();
    let mut cells = 0;
    let mut violated = 0;
    for l in json_lines(&kmodcheck(&args, &[])) {
        let v = l["variant"].as_str().unwrap();
        if !columns.contains(&v) {
            continue; // a mutant: mutants.md, not the matrix
        }
        let id = kmodcheck::report::html_cell_id(
            v,
            l["scenario"].as_str().unwrap(),
            l["property"].as_str().unwrap(),
        );
        let at = html
            .find(&format!(" id=\"{id}\""))
            .unwrap_or_else(|| panic!("no cell {id}"));
        let verdict = l["verdict"].as_str().unwrap();
        assert!(
            html[at..].starts_with(&format!(" id=\"{id}\" data-verdict=\"{verdict}\"")),
            "{id}: expected {verdict}"
        );
        cells += 1;
        if verdict == "violated" {
            violated += 1;
            let ce = id.replacen("cell-", "ce-", 1);
            assert!(
                html.contains(&format!("<a href=\"#{ce}\">VIOLATED</a>")),
                "{ce}"
            );
        }
    }
    // Each of the 9 rows under every kernel and proposal (the budget
    // columns check only the scenarios about the budget).
    let loaders = kmodcheck::model::variant::catalogue().len()
        + kmodcheck::model::variant::userspace_columns().len();
    assert_eq!(cells, 9 * loaders, "every checked cell of the matrix");
    assert!(violated > 0);
    assert_eq!(
        html.matches("<section class=\"counterexample\"").count(),
        violated
    );
    // The columns that are not loaders of the catalogue (the current
    // loader with older budgets) do not check these scenarios.
    let others = kmodcheck::model::variant::matrix_columns().len() - loaders;
    assert_eq!(
        html.matches("<td class=\"v unchecked\">").count(),
        others * 9
    );
    assert!(html.contains("2124d84db293"), "the columns' kernels");
    let _ = std::fs::remove_dir_all(&dir);
    let committed = check_offline_html(&Path::new(env!("CARGO_MANIFEST_DIR")).join("reports"));
    assert!(committed.contains("<td class=\"v violated\""));
}

/// (scenario, property, column key) → verdict text, from the matrix's
/// table: one table, or blocks of columns each with its header of keys.
fn matrix_cells(out: &str) -> std::collections::BTreeMap<(String, String, String), String> {
    let mut cells = std::collections::BTreeMap::new();
    let (mut header, mut scenario) = (Vec::new(), String::new());
    for line in out.lines() {
        if line.starts_with("  ") && line.contains(" = ") {
            break; // the legend
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.is_empty() {
            continue;
        }
        if line.starts_with("column") || line.starts_with(&" ".repeat(20)) {
            header = words;
        } else if !line.starts_with(' ') {
            scenario = line.to_string();
        } else {
            let verdicts = &words[1..];
            let keys = &header[header.len() - verdicts.len()..];
            for (k, v) in keys.iter().zip(verdicts) {
                let at = (scenario.clone(), words[0].to_string(), k.to_string());
                assert!(cells.insert(at, v.to_string()).is_none(), "twice: {line}");
            }
        }
    }
    cells
}

/// COLUMNS=80 (or a terminal of 80): the matrix comes in blocks of
/// columns with the same verdicts in the same cells, and the matrix,
/// `list`, `check`, `explain` and `diff` fit 80 columns. A COLUMNS that
/// is not a width is ignored.
#[test]
fn columns_fits_the_output_to_the_width() {
    let fits = |args: &[&str], width: usize| {
        let w = width.to_string();
        let o = kmodcheck(args, &[("COLUMNS", &w)]);
        assert_eq!(o.status.code().map(|c| c == 2), Some(false), "{args:?}");
        let out = stdout(&o);
        // A replay handle is one word, never broken (README).
        for l in out
            .lines()
            .filter(|l| !l.trim_start().starts_with("replay: "))
        {
            assert!(
                l.chars().count() <= width,
                "{args:?} at {width}: a line of {}:\n{l}\n\n{out}",
                l.chars().count()
            );
        }
        out
    };
    let matrix = [
        "matrix",
        "--scenario",
        "recursive-self-load",
        "--scenario",
        "winner-dies",
    ];
    let full = stdout(&kmodcheck(&matrix, &[]));
    assert!(full.lines().any(|l| l.chars().count() > 120), "{full}");
    let want = matrix_cells(&full);
    let columns = kmodcheck::model::variant::matrix_columns().len();
    assert_eq!(want.len(), columns * 9, "{full}");
    assert!(want.values().any(|v| v == "VIOLATED"));
    let split = fits(&matrix, 80);
    assert!(split.contains(&format!(" of {columns}")), "{split}");
    assert_eq!(matrix_cells(&split), want, "{split}");
    // Narrower, a replay handle (one word, never broken) may not fit, but
    // the table does.
    let split = stdout(&kmodcheck(&matrix, &[("COLUMNS", "40")]));
    assert_eq!(matrix_cells(&split), want, "{split}");
    let table = &split[..split.find(" = ").unwrap()];
    assert!(table.lines().all(|l| l.chars().count() <= 40), "{split}");
    assert!(
        table.contains(&format!("column {columns} of {columns}")),
        "{split}"
    );
    let ids_at_2 = |out: &str| {
        out.lines()
            .filter_map(|l| l.strip_prefix("  "))
            .filter(|r| !r.starts_with(' '))
            .map(|r| r.split(' ').next().unwrap().to_string())
            .collect::<std::collections::BTreeSet<_>>()
    };
    let list = stdout(&kmodcheck(&["list"], &[]));
    // Wrapped lines hang under the text, never at an id's column; at 60
    // the text goes under its id (the scenarios' ids take 38 columns).
    for width in [80, 60] {
        let narrow = fits(&["list"], width);
        assert_eq!(ids_at_2(&narrow), ids_at_2(&list), "{narrow}");
    }
    assert!(fits(&["list"], 60).contains("\n  winner-dies\n      "));
    fits(
        &[
            "check",
            "--variant",
            "idempotent",
            "--scenario",
            "winner-dies",
        ],
        80,
    );
    fits(
        &["explain", "idempotent-interruptible+kmod-throttle-timeout"],
        80,
    );
    fits(&["explain", "winner-dies"], 80);
    fits(
        &[
            "diff",
            "idempotent-interruptible",
            "idem-timeout",
            "--scenario",
            "recursive-self-load",
        ],
        80,
    );
    // A COLUMNS that is not a width is ignored: the output of a pipe.
    for junk in ["abc", "0", ""] {
        let o = kmodcheck(&["list"], &[("COLUMNS", junk)]);
        assert_eq!(o.status.code(), Some(0), "COLUMNS={junk:?}");
        assert_eq!(stdout(&o), list, "COLUMNS={junk:?}");
    }
}

#[test]
fn help_speaks_kernel() {
    let o = kmodcheck(&["--help"], &[]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    for sub in [
        "matrix", "diff", "report", "check", "replay", "list", "explain",
    ] {
        assert!(out.contains(sub), "{sub} missing from --help");
    }
    let o = kmodcheck(&["check", "--help"], &[]);
    assert!(stdout(&o).contains("LOOM_MAX_PREEMPTIONS"));
}

/// The reviewer's path (README, "Reviewing a fix proposal"): a proposal is
/// one value in `proposals()` plus one policy arm, and is then checked and
/// diffed like any kernel. The worked example, idem-timeout, fixes the
/// aes-arm-bs self-load that idempotent-interruptible deadlocks on.
#[test]
fn a_proposal_outside_the_catalogue_checks_and_diffs() {
    let o = kmodcheck(
        &[
            "check",
            "--variant",
            "idem-timeout",
            "--scenario",
            "recursive-self-load",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("no-deadlock              holds (proved: every reachable state)"));
    let o = kmodcheck(
        &[
            "diff",
            "idempotent-interruptible",
            "idem-timeout",
            "--scenario",
            "recursive-self-load",
        ],
        &[],
    );
    let out = stdout(&o);
    assert!(
        out.contains("recursive-self-load × no-deadlock\n  idempotent-interruptible:  VIOLATED"),
        "{out}"
    );
    assert!(
        out.contains("  idem-timeout:  holds (proved: stateful, "),
        "{out}"
    );
    assert!(out.lines().all(|l| l.chars().count() <= 100), "{out}");
    let o = kmodcheck(&["explain", "idem-timeout+kmod-2008"], &[]);
    assert_eq!(o.status.code(), Some(0));
}

/// A timed proposal on a scenario without time: time passes (README,
/// "Time"), and check says so on stderr, once; a scenario with time, or a
/// variant without timed waits, gets no note.
#[test]
fn time_passes_under_a_timed_proposal_and_check_says_so() {
    let note = "time passes in winner-dies under idem-timeout, although the scenario has no timer";
    let o = kmodcheck(
        &[
            "check",
            "--variant",
            "idem-timeout",
            "--scenario",
            "winner-dies",
        ],
        &[],
    );
    assert_eq!(stderr(&o).matches(note).count(), 1, "{}", stderr(&o));
    // The timeout fired somewhere: under idem-timeout the waiter on a
    // loader that died in init gives up, which only time passing allows
    // (under idempotent, below, the same cell deadlocks; this was
    // shared-dependency, the catalogue's largest cell, 2.9 s of this test).
    assert!(
        stdout(&o).contains("no-deadlock              holds (proved"),
        "{}",
        stdout(&o)
    );
    for (v, s) in [
        ("idempotent", "winner-dies"),
        ("idem-timeout", "recursive-self-load"),
    ] {
        let o = kmodcheck(&["check", "--variant", v, "--scenario", s], &[]);
        assert!(
            !stderr(&o).contains("time passes"),
            "{v} × {s}: {}",
            stderr(&o)
        );
    }
}

/// A report of some scenarios never replaces reports/ (which holds the
/// whole catalogue): it is refused there, with nothing written, and written
/// whole into a directory of its own, where it removes nothing.
#[test]
fn a_partial_report_leaves_reports_alone() {
    let before =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("reports/matrix.md"))
            .unwrap();
    for dir in [None, Some("./reports")] {
        let mut args = vec!["report", "--scenario", "recursive-self-load"];
        if let Some(d) = dir {
            args.extend(["--dir", d]);
        }
        let o = kmodcheck(&args, &[]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(
            stderr(&o).contains("expected --dir DIR for a partial report"),
            "{}",
            stderr(&o)
        );
    }
    let after =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("reports/matrix.md"))
            .unwrap();
    assert_eq!(before, after);
    let dir = std::env::temp_dir().join(format!("kmodcheck-partial-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("counterexamples")).unwrap();
    let mine = dir.join("counterexamples/notes.md");
    std::fs::write(&mine, "a reviewer's own notes").unwrap();
    let o = kmodcheck(
        &[
            "report",
            "--scenario",
            "recursive-self-load",
            "--dir",
            dir.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(dir.join("matrix.md").exists());
    assert_eq!(
        std::fs::read_to_string(&mine).unwrap(),
        "a reviewer's own notes"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A replay ends with the verdict of the execution it replays, also when
/// that execution breaks nothing; one that does not exist is refused.
#[test]
fn replay_prints_its_verdict() {
    let o = kmodcheck(&["replay", "loom:legacy:failing-init:3"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("verdict of this one execution: every task ran to its end; not violated by it: no-deadlock"),
        "{out}"
    );
    let o = kmodcheck(
        &["replay", "stateful:idempotent:recursive-self-load:0.1"],
        &[],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("it ends in a deadlock; violated: no-deadlock"),
        "{}",
        stdout(&o)
    );
    let o = kmodcheck(&["replay", "loom:error-out-early:failing-init:999999"], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("there is no execution 999999"),
        "{}",
        stderr(&o)
    );
}

/// `diff` ends with its totals, and its exit code says whether NEW adds a
/// violation: 1 when it does, 0 when it only fixes.
#[test]
fn diff_totals_and_exit_code_say_whether_new_adds_a_violation() {
    // idempotent lost the killable wait of idempotent-interruptible: a
    // SIGKILL to the nested modprobe no longer ends the deadlock.
    let o = kmodcheck(
        &[
            "diff",
            "idempotent-interruptible",
            "idempotent",
            "--scenario",
            "recursive-self-load+kill-nested",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.trim_end().ends_with(
            "2 verdicts compared (1 scenario × its properties): 0 fixed, 1 newly violated, 0 changed otherwise"
        ),
        "{out}"
    );
    // The reverse only fixes.
    let o = kmodcheck(
        &[
            "diff",
            "idempotent",
            "idempotent-interruptible",
            "--scenario",
            "recursive-self-load+kill-nested",
            "--scenario",
            "winner-dies",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(
        stdout(&o)
            .contains("compared (2 scenarios × their properties): 1 fixed, 0 newly violated, "),
        "{}",
        stdout(&o)
    );
    // --json: the same exit code.
    let o = kmodcheck(
        &[
            "diff",
            "idempotent-interruptible",
            "idempotent",
            "--scenario",
            "recursive-self-load+kill-nested",
            "--json",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(json_lines(&o)
        .iter()
        .any(|l| l["new"]["verdict"] == "violated"));
}

/// A sampled or bounded run that finds no violation is not a proof, and
/// does not exit like one: 3, as an inconclusive verdict, not 0.
#[test]
fn a_sampled_or_bounded_holds_does_not_exit_like_a_proof() {
    let cell = [
        "check",
        "--variant",
        "recursion-aware",
        "--scenario",
        "recursive-self-load",
    ];
    for extra in [
        &["--engine", "shuttle-random"][..],
        &["--engine", "shuttle-pct", "--seed", "7"],
        &["--engine", "loom", "--preemption-bound", "1"],
    ] {
        let args = [&cell[..], extra].concat();
        let o = kmodcheck(&args, &[]);
        let out = stdout(&o);
        assert!(
            out.contains(
                "no-deadlock              holds (in the executions explored; not a proof)"
            ),
            "{extra:?}: {out}"
        );
        assert_eq!(o.status.code(), Some(3), "{extra:?}: {out}");
    }
    // The same cell, exhaustive: a proof, 0.
    let o = kmodcheck(&[&cell[..], &["--engine", "loom"]].concat(), &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
}

/// Environment variables named in the binary's source: the model, the
/// properties, the CLI, and loom's `Builder::new`, which the loom engine
/// calls. `var("X")`, `var_os("X")` and the engine's `num("X")`.
fn environment_variables_read() -> std::collections::BTreeSet<String> {
    fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                rust_files(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![root.join("vendor/loom/src/model.rs")];
    for d in ["src", "model/src", "properties/src"] {
        rust_files(&root.join(d), &mut files);
    }
    let mut names = std::collections::BTreeSet::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for call in ["var(\"", "var_os(\"", "num(\""] {
            for (i, _) in text.match_indices(call) {
                let rest = &text[i + call.len()..];
                let name = &rest[..rest.find('"').unwrap()];
                if !name.is_empty() && name.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
                    names.insert(name.to_string());
                }
            }
        }
    }
    names
}

/// `--help` ends with the exit codes and every environment variable the
/// binary reads, and no help text shows Rust's internals.
#[test]
fn help_lists_exit_codes_and_environment() {
    let o = kmodcheck(&["--help"], &[]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    let status = out.find("Exit status:").expect("no exit status in --help");
    for code in ["  0  ", "  1  ", "  2  ", "  3  "] {
        assert!(out[status..].contains(code), "exit code {code:?}:\n{out}");
    }
    let env = &out[out.find("Environment:").expect("no environment in --help")..];
    let names = environment_variables_read();
    for must in [
        "KMODCHECK_JOBS",
        "LOOM_MAX_PREEMPTIONS",
        "KMODCHECK_FP_SEED",
        "NO_COLOR",
    ] {
        assert!(
            names.contains(must),
            "the source scan missed {must}: {names:?}"
        );
    }
    for name in &names {
        assert!(
            env.contains(name.as_str()),
            "{name} is read but not in --help:\n{env}"
        );
    }
    // Read by shuttle and its random scheduler, outside this tree.
    for name in ["SHUTTLE_CAPTURE_BACKTRACE", "SHUTTLE_ALWAYS_PERSIST_SEED"] {
        assert!(env.contains(name), "{name} is not in --help");
    }
    // The execution bound of the catalogue, as a number.
    let bound = kmodcheck::report::thousands(kmodcheck::CATALOGUE_BOUND);
    assert!(out.contains(&format!("({bound} of them)")), "{out}");
    let mut subcommands = vec![vec![]];
    for sub in [
        "matrix",
        "diff",
        "report",
        "check",
        "replay",
        "list",
        "explain",
        "fuzz",
        "man",
        "completions",
    ] {
        subcommands.push(vec![sub]);
    }
    for sub in subcommands {
        let args = [&sub[..], &["--help"]].concat();
        let help = stdout(&kmodcheck(&args, &[]));
        for jargon in ["kmodcheck::", "usize", "u64", "u32", "Option<", "Vec<"] {
            assert!(!help.contains(jargon), "{args:?} shows {jargon}:\n{help}");
        }
    }
    // -h points at the long form.
    assert!(stdout(&kmodcheck(&["-h"], &[])).contains("see --help"));
}

/// A malformed environment variable is refused (2), naming it and what it
/// takes, instead of being ignored (KMODCHECK_JOBS) or ending in loom's
/// panic (LOOM_MAX_DURATION, or LOOM_MAX_PREEMPTIONS with a blank).
#[test]
fn a_malformed_environment_variable_is_refused() {
    let matrix = ["matrix", "--scenario", "winner-dies"];
    for (k, v, says) in [
        (
            "KMODCHECK_JOBS",
            "abc",
            "KMODCHECK_JOBS takes the number of cells to check at once, a whole number of 1 or more (e.g. KMODCHECK_JOBS=2)",
        ),
        ("KMODCHECK_JOBS", "0", "a whole number of 1 or more"),
        ("KMODCHECK_FP_SEED", "-1", "KMODCHECK_FP_SEED takes a seed"),
        ("PROPTEST_CASES", "99999999999", "a whole number from 1 to 4294967295"),
    ] {
        let o = kmodcheck(&matrix, &[(k, v)]);
        assert_eq!(o.status.code(), Some(2), "{k}={v}: {}", stderr(&o));
        assert!(
            stderr(&o).starts_with(&format!("kmodcheck: {k}={v:?}: ")) && stderr(&o).contains(says),
            "{k}={v}: {}",
            stderr(&o)
        );
        assert!(stdout(&o).is_empty());
    }
    let loom = [
        "check",
        "--variant",
        "recursion-aware",
        "--scenario",
        "recursive-self-load",
        "--engine",
        "loom",
    ];
    let o = kmodcheck(&loom, &[("LOOM_MAX_PREEMPTIONS", " 1")]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("LOOM_MAX_PREEMPTIONS takes the bound on loom's preemptions"));
    let o = kmodcheck(&loom, &[("LOOM_MAX_DURATION", "abc")]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("unset LOOM_MAX_DURATION; use --time-limit SECONDS"),
        "{}",
        stderr(&o)
    );
    // Well-formed: the run goes ahead.
    let o = kmodcheck(
        &matrix,
        &[("KMODCHECK_JOBS", "1"), ("KMODCHECK_FP_SEED", "7")],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

/// A mistyped name is refused (2) with the name most like it: a variant,
/// a loader or a budget of LOADER+BUDGET, a scenario, a property, an
/// engine, and a key of a scenario file. A name like none gets no guess.
#[test]
fn a_mistyped_name_gets_a_did_you_mean() {
    for (args, says) in [
        (
            &[
                "check",
                "--variant",
                "idempotent-interuptible",
                "--scenario",
                "concurrent-same-file-2",
            ][..],
            "kmodcheck: unknown variant; variant=idempotent-interuptible (see `kmodcheck list`); did you mean idempotent-interruptible?",
        ),
        (
            &["diff", "legacy", "idempotent+kmod-throtle"],
            "; did you mean idempotent+kmod-throttle?",
        ),
        (
            &["diff", "legacy", "idempotnt+kmod-2008"],
            "; did you mean idempotent+kmod-2008?",
        ),
        (
            &["check", "--variant", "legacy", "--scenario", "winer-dies"],
            "; did you mean winner-dies?",
        ),
        (
            &[
                "check",
                "--variant",
                "legacy",
                "--scenario",
                "winner-dies",
                "--property",
                "no-deadlok",
            ],
            "; did you mean no-deadlock?",
        ),
        (
            &[
                "check",
                "--variant",
                "legacy",
                "--scenario",
                "winner-dies",
                "--engine",
                "shuttle-rnd",
            ],
            "; did you mean shuttle-random?",
        ),
        (
            &["explain", "idem-memory-safty"],
            "; did you mean idem-memory-safety?",
        ),
        (
            &[
                "check",
                "--variant",
                "legacy",
                "--scenario",
                "tests/malformed/unknown-actor-key.toml",
            ],
            "unknown name `modprob`; expected one of `modprobe`, `request`, `insmod`, `rmmod_force`, `rmmod`, `signal`; did you mean `modprobe`?",
        ),
        (
            &[
                "check",
                "--variant",
                "legacy",
                "--scenario",
                "tests/malformed/unknown-budget.toml",
            ],
            "unknown name `kmod-semaphor`; expected one of `kmod-2008`, `kmod-throttle`, `kmod-throttle-timeout`, `kmod-semaphore`; did you mean `kmod-semaphore`?",
        ),
    ] {
        let o = kmodcheck(args, &[]);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = stderr(&o);
        assert!(err.trim_end().ends_with(says), "{args:?}: {err}");
    }
    let o = kmodcheck(
        &["check", "--variant", "nope", "--scenario", "winner-dies"],
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(!stderr(&o).contains("did you mean"), "{}", stderr(&o));
}

/// `kmodcheck man` writes the manual page (with the exit status and the
/// environment as sections), `man --dir` one page per subcommand too, and
/// `kmodcheck completions SHELL` a completion script naming the
/// subcommands and their flags.
#[test]
fn man_page_and_completions() {
    let o = kmodcheck(&["man"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let page = stdout(&o);
    assert!(page.contains(".TH kmodcheck 1"), "{page}");
    for section in [
        ".SH SYNOPSIS",
        ".SH SUBCOMMANDS",
        ".SH \"EXIT STATUS\"",
        ".SH \"ENVIRONMENT\"",
    ] {
        assert!(page.contains(section), "{section} missing:\n{page}");
    }
    assert!(page.contains("KMODCHECK_JOBS"));
    // The bench is a tool of the repository (`cargo xtask bench`), not a
    // subcommand of what kmodcheck ships.
    assert!(!page.contains("bench"), "the bench in the manual:\n{page}");
    let dir = std::env::temp_dir().join(format!("kmodcheck-man-{}", std::process::id()));
    let o = kmodcheck(&["man", "--dir", dir.to_str().unwrap()], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(dir.join("kmodcheck.1")).unwrap(),
        page
    );
    let check = std::fs::read_to_string(dir.join("kmodcheck-check.1")).unwrap();
    assert!(
        check.contains(".TH kmodcheck-check 1") && check.contains("max\\-executions"),
        "{check}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
    let o = kmodcheck(&["completions", "bash"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let script = stdout(&o);
    assert!(script.contains("_kmodcheck()"), "{script}");
    for word in [
        "check",
        "diff",
        "replay",
        "--max-executions",
        "--preemption-bound",
    ] {
        assert!(
            script.contains(word),
            "{word} missing from the bash completions"
        );
    }
    for shell in ["zsh", "fish"] {
        let o = kmodcheck(&["completions", shell], &[]);
        assert_eq!(o.status.code(), Some(0));
        assert!(stdout(&o).contains("max-executions"), "{shell}");
    }
    assert_eq!(
        kmodcheck(&["completions", "tcsh"], &[]).status.code(),
        Some(2)
    );
}

/// A mistake in a number, on the command line or in a scenario file, is
/// told in a kernel developer's words: what the flag or key takes, not
/// Rust's ("invalid digit found in string", "expected usize").
#[test]
fn a_bad_number_is_told_without_rust_words() {
    let rust = [
        "invalid digit",
        "usize",
        "u32",
        "u64",
        "i128",
        "a boolean",
        "a sequence",
        "field",
        "struct",
    ];
    let cell = ["check", "--variant", "legacy", "--scenario", "winner-dies"];
    for (flag, value, says) in [
        (
            "--max-executions",
            "abc",
            "--max-executions takes a whole number of executions, e.g. --max-executions 1000",
        ),
        (
            "--max-states",
            "-5",
            "--max-states takes a whole number of states, e.g. --max-states 100000",
        ),
        (
            "--preemption-bound",
            "99999999999999999999",
            "--preemption-bound takes a whole number of preemptions, and 99999999999999999999 is too large for it",
        ),
        ("--time-limit", "1.5", "--time-limit takes a whole number of seconds"),
    ] {
        let o = kmodcheck(&[&cell[..], &[&format!("{flag}={value}")]].concat(), &[]);
        assert_eq!(o.status.code(), Some(2), "{flag}={value}");
        let err = stderr(&o);
        assert!(err.contains(says), "{flag}={value}: {err}");
        for word in rust {
            assert!(!err.contains(word), "{flag}={value}: {err}");
        }
    }
    let dir = std::env::temp_dir().join(format!("kmodcheck-numbers-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (key, value, says) in [
        (
            "helper_bound",
            "\"two\"",
            "5:16: expected a whole number (0 or more), found the string \"two\"",
        ),
        (
            "kmod_limit",
            "-3",
            "5:14: expected a whole number from 0 to 4294967295, found -3",
        ),
        ("timer", "1", "5:9: expected true or false, found 1"),
        (
            "absent",
            "\"y\"",
            "5:10: expected a list in brackets, found the string \"y\"",
        ),
    ] {
        let file = dir.join(format!("{key}.toml"));
        std::fs::write(
            &file,
            format!(
                "name = \"t\"\nsummary = \"s\"\nproperties = [\"no-deadlock\"]\n\n{key} = {value}\n\n[[module]]\nname = \"x\"\nfile = \"x.ko\"\n\n[[actor]]\nmodprobe = \"x\"\n"
            ),
        )
        .unwrap();
        let path = file.to_str().unwrap();
        let o = kmodcheck(&["check", "--variant", "legacy", "--scenario", path], &[]);
        assert_eq!(o.status.code(), Some(2), "{key}");
        let err = stderr(&o);
        assert_eq!(err.trim_end(), format!("kmodcheck: {path}:{says}"), "{key}");
        for word in rust {
            assert!(!err.contains(word), "{key}: {err}");
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A deadlock found by a shuttle engine is kmodcheck's verdict, with its
/// trace: shuttle's own hint about SHUTTLE_CAPTURE_BACKTRACE ("Test
/// deadlocked, and SHUTTLE_CAPTURE_BACKTRACE is not set...") is not on
/// stderr (vendor/shuttle-engine and the engine's Config::silence_warnings).
#[test]
fn a_shuttle_deadlock_prints_no_backtrace_hint() {
    for engine in ["shuttle-random", "shuttle-pct", "shuttle-dfs"] {
        let o = kmodcheck(
            &[
                "check",
                "--variant",
                "idempotent",
                "--scenario",
                "recursive-self-load",
                "--engine",
                engine,
            ],
            // SHUTTLE_CAPTURE_BACKTRACE unset (as `kmodcheck` removes it):
            // the case in which shuttle would print its hint.
            &[("RUST_BACKTRACE", "0")],
        );
        assert_eq!(o.status.code(), Some(1), "{engine}: {}", stderr(&o));
        assert!(
            stdout(&o).contains("no-deadlock              VIOLATED"),
            "{engine}"
        );
        assert!(stdout(&o).contains("wait-for cycle:"), "{engine}");
        let err = stderr(&o);
        for noise in [
            "SHUTTLE_CAPTURE_BACKTRACE",
            "Test deadlocked",
            "panicked",
            "failing seed",
        ] {
            assert!(!err.contains(noise), "{engine}: {noise} on stderr:\n{err}");
        }
    }
}

/// `kmodcheck fuzz --regressions DIR` keeps a failing case's seed, as
/// proptest does in tests, and runs it first next time: the same command
/// that passed one case before failing now fails on its first. Without
/// the flag nothing is written.
#[test]
fn fuzz_keeps_a_failure_and_runs_it_first() {
    let dir = std::env::temp_dir().join(format!("kmodcheck-regressions-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let d = dir.to_str().unwrap();
    let args = [
        "fuzz",
        "--variant",
        "mutant-lost-wakeup",
        "--suite",
        "no-deadlock",
        "--cases",
        "16",
    ];
    let first = kmodcheck(&[&args[..], &["--regressions", d]].concat(), &[]);
    assert_eq!(first.status.code(), Some(1), "{}", stderr(&first));
    assert!(
        stdout(&first).contains(": 1 cases passed"),
        "{}",
        stdout(&first)
    );
    let saved = dir.join("fuzz-no-deadlock-mutant-lost-wakeup.txt");
    let text = std::fs::read_to_string(&saved).expect("the failing case saved");
    assert!(text.lines().any(|l| l.starts_with("cc ")), "{text}");
    let again = kmodcheck(&[&args[..], &["--regressions", d]].concat(), &[]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stdout(&again).contains(": 0 cases passed"),
        "{}",
        stdout(&again)
    );
    let plain = kmodcheck(&args, &[]);
    assert!(
        stdout(&plain).contains(": 1 cases passed"),
        "{}",
        stdout(&plain)
    );
    assert!(stdout(&plain).contains("not saved: with --regressions DIR"));
    std::fs::remove_dir_all(&dir).unwrap();
}
