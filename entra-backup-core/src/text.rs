//! Words for messages: user-supplied values quoted so that they cannot forge or break a line, and
//! the close matches of a name that was not found.

/// Longest value echoed whole; longer ones are cut (a message is not a place for a megabyte).
const ECHO_MAX: usize = 120;

/// `value` as a message shows it: in single quotes, with quotes, backslashes and every control
/// character escaped (a newline is `\n`, never a line break), and cut after 120 characters.
pub fn quote(value: &str) -> String {
    match value.char_indices().nth(ECHO_MAX) {
        Some((cut, _)) => format!("'{}'…", value[..cut].escape_debug()),
        None => format!("'{}'", value.escape_debug()),
    }
}

/// The candidates that look like `wanted`: the same but for case first, then those within a few
/// edits (about one in four characters), nearest first; at most three.
pub fn close_matches<'a>(wanted: &str, candidates: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let wanted_lower = wanted.to_lowercase();
    let limit = (wanted.chars().count() / 4).max(1);
    let mut scored: Vec<(usize, &'a str)> = candidates
        .into_iter()
        .filter(|c| *c != wanted)
        .filter_map(|c| {
            let lower = c.to_lowercase();
            if lower == wanted_lower {
                return Some((0, c));
            }
            let d = distance(&wanted_lower, &lower, limit);
            (d <= limit).then_some((d, c))
        })
        .collect();
    scored.sort();
    scored.dedup_by(|a, b| a.1 == b.1);
    scored.into_iter().take(3).map(|(_, c)| c).collect()
}

/// `" (did you mean 'a' or 'b'?)"` for the close matches, or nothing when there are none.
pub fn did_you_mean(matches: &[&str]) -> String {
    if matches.is_empty() {
        return String::new();
    }
    let names: Vec<String> = matches.iter().map(|m| quote(m)).collect();
    format!(" (did you mean {}?)", names.join(" or "))
}

/// Levenshtein distance between `a` and `b`, or anything above `limit` once it is known to exceed it.
fn distance(a: &str, b: &str, limit: usize) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > limit {
        return limit + 1;
    }
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let here = row[j + 1];
            row[j + 1] = if ca == cb { prev } else { 1 + prev.min(here).min(row[j]) };
            prev = here;
        }
        if row.iter().min().is_some_and(|m| *m > limit) {
            return limit + 1;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_keeps_a_value_on_one_line() {
        assert_eq!(quote("a\nb'c"), r"'a\nb\'c'");
        assert_eq!(quote("\u{1b}[31m"), r"'\u{1b}[31m'");
        let long = "x".repeat(500);
        assert_eq!(quote(&long).chars().count(), 120 + 3);
    }

    #[test]
    fn close_matches_put_case_first_and_skip_the_unrelated() {
        let names = ["jobTitle", "displayName", "department", "city"];
        assert_eq!(close_matches("jobtitle", names), ["jobTitle"]);
        assert_eq!(close_matches("deparment", names), ["department"]);
        assert!(close_matches("zzzzzz", names).is_empty());
        assert_eq!(did_you_mean(&["jobTitle"]), " (did you mean 'jobTitle'?)");
        assert_eq!(did_you_mean(&[]), "");
    }
}
