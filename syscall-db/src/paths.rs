//! The paths the tracer keeps, in one place: which prefixes a `user_path` field is
//! recorded under, and how numbers in a path are folded so that `/proc/4242/status`
//! and `/proc/17/status` are one signature. The tracer, the runsc log reader and the
//! database's own validation all ask here.

/// The path prefixes under which the tracer keeps `user_path` fields; a path condition
/// outside them can never match.
pub const USER_PATH_PREFIXES: [&str; 3] = ["/proc", "/sys", "/dev"];

/// Whether `path` is one of [`USER_PATH_PREFIXES`] or lies below one (`/proc` and
/// `/proc/self` are; `/process` is not).
pub fn is_kept_path(path: &str) -> bool {
    USER_PATH_PREFIXES.iter().any(|prefix| {
        path.strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    })
}

/// Folds every all-numeric path component to a single `#`: `/proc/4242/task/17/stat` →
/// `/proc/#/task/#/stat`. The probe has already replaced each digit of such a
/// component with `#` (it cannot allocate), so a component made only of digits and `#`s
/// counts as numeric. Components that merely contain digits (`cpu1`, `nvidia0`) stay.
pub fn fold_numbers(path: &str) -> String {
    let mut folded = String::with_capacity(path.len());
    write_folded(path, |piece| folded.push_str(piece));
    folded
}

/// Hands `write` the folded path of [`fold_numbers`] piece by piece, for callers that
/// write it somewhere without allocating a string.
pub fn write_folded(path: &str, mut write: impl FnMut(&str)) {
    for (i, component) in path.split('/').enumerate() {
        if i > 0 {
            write("/");
        }
        let numeric =
            !component.is_empty() && component.bytes().all(|b| b.is_ascii_digit() || b == b'#');
        write(if numeric { "#" } else { component });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_prefixes_are_whole_components() {
        assert!(is_kept_path("/proc"));
        assert!(is_kept_path("/proc/self/status"));
        assert!(is_kept_path("/dev/nvidia0"));
        assert!(!is_kept_path("/process"));
        assert!(!is_kept_path("/etc/passwd"));
        assert!(!is_kept_path("proc/self"));
    }

    #[test]
    fn numbers_fold_per_component() {
        assert_eq!(fold_numbers("/proc/####/status"), "/proc/#/status");
        assert_eq!(
            fold_numbers("/proc/4242/task/17/stat"),
            "/proc/#/task/#/stat"
        );
        assert_eq!(
            fold_numbers("/proc/self/task/##/stat"),
            "/proc/self/task/#/stat"
        );
        assert_eq!(fold_numbers("/dev/pts/#"), "/dev/pts/#");
        assert_eq!(fold_numbers("/sys/devices/cpu#1"), "/sys/devices/cpu#1");
        assert_eq!(fold_numbers("/dev/nvidia0"), "/dev/nvidia0");
        assert_eq!(fold_numbers("/proc/self/fd/12"), "/proc/self/fd/#");
        assert!(!is_kept_path("/tmp/12"));
    }
}
