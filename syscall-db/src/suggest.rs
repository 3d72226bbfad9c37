//! Nearest-name suggestions for unknown syscall queries.

use crate::model::Syscall;

/// How many suggestions an error lists.
const MAX_SUGGESTIONS: usize = 3;

/// Up to three known names closest to `query`: names that contain it or that it
/// contains first, then the smallest edit distances within a third of its length.
pub(crate) fn nearest_names<'a>(known: impl Iterator<Item = &'a str>, query: &str) -> Vec<String> {
    let query = query.to_ascii_lowercase();
    let budget = (query.len() / 3).max(2);
    let mut scored: Vec<(usize, usize, &str)> = known
        .filter_map(|name| {
            let distance = edit_distance(&query, name);
            let related = name.contains(query.as_str()) || query.contains(name);
            let rank = if related && name.len() > 2 { 0 } else { 1 };
            (related || distance <= budget).then_some((rank, distance, name))
        })
        .collect();
    scored.sort();
    scored
        .into_iter()
        .take(MAX_SUGGESTIONS)
        .map(|(_, _, name)| name.to_owned())
        .collect()
}

/// Names of the syscalls numbered nearest to `number` (the rows are sorted by number).
pub(crate) fn nearest_numbers(rows: &[Syscall], number: u32) -> Vec<String> {
    let mut by_distance: Vec<&Syscall> = rows.iter().collect();
    by_distance.sort_by_key(|s| (s.number.abs_diff(number), s.number));
    by_distance
        .into_iter()
        .take(MAX_SUGGESTIONS)
        .map(|s| format!("{} = {}", s.number, s.name))
        .collect()
}

/// Levenshtein distance over bytes (syscall names are ASCII).
fn edit_distance(a: &str, b: &str) -> usize {
    let b = b.as_bytes();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, &ca) in a.as_bytes().iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distances() {
        assert_eq!(edit_distance("openat", "openat"), 0);
        assert_eq!(edit_distance("opnat", "openat"), 1);
        assert_eq!(edit_distance("", "bpf"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn related_names_rank_before_close_spellings() {
        let known = ["open", "openat", "openat2", "creat", "close"];
        assert_eq!(
            nearest_names(known.into_iter(), "opena"),
            vec!["open", "openat", "openat2"]
        );
        assert_eq!(nearest_names(known.into_iter(), "clos"), vec!["close"]);
        assert_eq!(
            nearest_names(known.into_iter(), "zzzzzzzz"),
            Vec::<String>::new()
        );
    }
}
