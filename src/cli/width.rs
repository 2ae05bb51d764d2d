//! How wide the text outputs may be: `COLUMNS`, else the width of the
//! terminal stdout is on, else no limit.

use kmodcheck::explain::{text_width_of, MAX_TEXT};

/// The columns the output fits: `COLUMNS` when it is a whole number of 1 or
/// more, else the width of the terminal stdout is on, else `None`: stdout
/// is a pipe or a file, and the output is as wide as it is, the same for
/// whoever runs it (scripts, the snapshots, the README's blocks).
///
/// A `COLUMNS` that is not a width (`abc`, `0`, empty) is ignored, not
/// refused: shells set and export it themselves, so a bad value is rarely
/// the user's own, and a width is only ever a layout (nothing is cut).
pub fn columns() -> Option<usize> {
    if let Some(n) = std::env::var_os("COLUMNS").and_then(|v| parse_columns(&v.to_string_lossy())) {
        return Some(n);
    }
    terminal_size::terminal_size_of(std::io::stdout()).map(|(w, _)| usize::from(w.0))
}

/// `COLUMNS`'s value as a width: a whole number of 1 or more (blanks
/// around it allowed).
pub fn parse_columns(value: &str) -> Option<usize> {
    value.trim().parse::<usize>().ok().filter(|&n| n > 0)
}

/// The width prose is wrapped to: [`columns`] between 60 and 100
/// ([`text_width_of`]); 100 when there is no width (the output of before).
pub fn text_width() -> usize {
    columns().map_or(MAX_TEXT, text_width_of)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_takes_a_whole_number_and_ignores_the_rest() {
        assert_eq!(parse_columns("80"), Some(80));
        assert_eq!(parse_columns(" 120\n"), Some(120));
        for bad in ["", "0", "-5", "abc", "80x", "8.5"] {
            assert_eq!(parse_columns(bad), None, "{bad:?}");
        }
        assert_eq!(text_width_of(40), kmodcheck::explain::MIN_TEXT);
        assert_eq!(text_width_of(80), 80);
        assert_eq!(text_width_of(250), MAX_TEXT);
    }
}
