//! The environment variables the binary reads, checked before anything
//! runs, and the value parser of the numeric flags: a mistake in either is
//! told in words (what the variable or flag takes), with exit status 2.

/// The value parser of a numeric flag: what it takes, in words
/// ("--max-executions takes a whole number of executions, e.g. 1000"),
/// instead of Rust's ("invalid digit found in string").
pub fn whole<T: std::str::FromStr>(
    flag: &'static str,
    what: &'static str,
    example: &'static str,
) -> impl Fn(&str) -> Result<T, String> + Clone + Send + Sync + 'static {
    move |value: &str| {
        value.parse::<T>().map_err(|_| {
            let of = if what.is_empty() {
                String::new()
            } else {
                format!(" of {what}")
            };
            if !value.is_empty() && value.chars().all(|c| c.is_ascii_digit()) {
                format!("{flag} takes a whole number{of}, and {value} is too large for it")
            } else {
                format!("{flag} takes a whole number{of}, e.g. {flag} {example}")
            }
        })
    }
}

/// What an environment variable the binary reads takes.
pub enum Takes {
    /// A whole number from `min` to `max`; `what` says of what, `example`
    /// is a good value.
    Number {
        min: u64,
        max: u64,
        what: &'static str,
        example: &'static str,
    },
    /// Nothing: a loom setting kmodcheck makes itself; `instead` says what
    /// to use.
    Refused { instead: &'static str },
}

/// The environment variables whose value the binary (or loom, which it
/// runs) parses. NO_COLOR, LOOM_LOG, LOOM_LOCATION and
/// SHUTTLE_CAPTURE_BACKTRACE take anything; a COLUMNS that is not a width
/// is ignored, not refused, as shells set it themselves (`width::columns`).
pub const ENVIRONMENT: &[(&str, Takes)] = &[
    (
        "KMODCHECK_JOBS",
        Takes::Number {
            min: 1,
            max: u64::MAX,
            what: "the number of cells to check at once",
            example: "2",
        },
    ),
    (
        "KMODCHECK_SHARE",
        Takes::Number {
            min: 0,
            max: 1,
            what: "whether a matrix column may take the search of an earlier column that read only policies both share (1, the default) or not (0)",
            example: "0",
        },
    ),
    (
        "LOOM_MAX_PREEMPTIONS",
        Takes::Number {
            min: 0,
            max: u64::MAX,
            what: "the bound on loom's preemptions per execution",
            example: "2",
        },
    ),
    (
        "LOOM_MAX_BRANCHES",
        Takes::Number {
            min: 1,
            max: u64::MAX,
            what: "the bound on loom's branches per execution",
            example: "10000",
        },
    ),
    (
        "SHUTTLE_RANDOM_SEED",
        Takes::Number {
            min: 0,
            max: u64::MAX,
            what: "a seed for shuttle-pct and shuttle-random",
            example: "42",
        },
    ),
    (
        "KMODCHECK_FP_SEED",
        Takes::Number {
            min: 0,
            max: u64::MAX,
            what: "a seed for the stateful engine's fingerprints",
            example: "42",
        },
    ),
    (
        "PROPTEST_CASES",
        Takes::Number {
            min: 1,
            max: u32::MAX as u64,
            what: "the number of cases per fuzz suite",
            example: "16",
        },
    ),
    (
        "LOOM_MAX_PERMUTATIONS",
        Takes::Refused {
            instead: "use --max-executions N",
        },
    ),
    (
        "LOOM_MAX_DURATION",
        Takes::Refused {
            instead: "use --time-limit SECONDS",
        },
    ),
    (
        "LOOM_CHECKPOINT_INTERVAL",
        Takes::Refused {
            instead: "kmodcheck checks loom's bounds after every execution",
        },
    ),
    (
        "LOOM_CHECKPOINT_FILE",
        Takes::Refused {
            instead:
                "kmodcheck does not checkpoint loom; `kmodcheck replay HANDLE` reruns one execution",
        },
    ),
];

/// Check every environment variable of [`ENVIRONMENT`] that is set: a
/// value loom would panic on, or kmodcheck would silently ignore, is an
/// error naming the variable and what it takes.
pub fn check_environment() -> Result<(), String> {
    for (name, takes) in ENVIRONMENT {
        let Some(raw) = std::env::var_os(name) else {
            continue;
        };
        let value = raw.to_string_lossy();
        match takes {
            // No surrounding blanks: loom parses its variables as they are.
            Takes::Number {
                min,
                max,
                what,
                example,
            } => match value.parse::<u64>() {
                Ok(n) if (*min..=*max).contains(&n) => {}
                _ => {
                    let least = match (*min, *max) {
                        (0, u64::MAX) => String::new(),
                        (min, u64::MAX) => format!(" of {min} or more"),
                        (min, max) => format!(" from {min} to {max}"),
                    };
                    return Err(format!(
                        "{name}={value:?}: {name} takes {what}, a whole number{least} (e.g. {name}={example}), or unset it"
                    ));
                }
            },
            Takes::Refused { instead } => {
                return Err(format!(
                    "{name} is set ({value:?}), but kmodcheck makes this loom setting itself and would ignore it: unset {name}; {instead}"
                ));
            }
        }
    }
    Ok(())
}
