//! The gVisor release a runsc log was written by, from its `Version` header: upstream
//! builds print their tag (`release-20240101.0`, a development build
//! `release-20240101.0-42-gabcdef`), Debian's package prints its own version
//! (`0.0~20221219.0`, with the release date and number after the tilde).

/// The release a version names, as `release-YYYYMMDD.N`; `None` when it names none (a
/// build from an untagged commit).
pub fn of_version(version: &str) -> Option<String> {
    let version = version.trim();
    let date_and_number = version
        .strip_prefix("release-")
        .or_else(|| version.split_once('~').map(|(_, rest)| rest))
        .unwrap_or(version);
    let (date, rest) = date_and_number.split_once('.')?;
    let number: String = rest.chars().take_while(char::is_ascii_digit).collect();
    if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) || number.is_empty() {
        return None;
    }
    Some(format!("release-{date}.{number}"))
}

/// The date of a release (`release-20221219.0` → `2022-12-19`).
pub fn date(release: &str) -> Option<String> {
    let date = release.strip_prefix("release-")?.get(..8)?;
    date.bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| format!("{}-{}-{}", &date[..4], &date[4..6], &date[6..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_from_every_kind_of_version() {
        assert_eq!(
            of_version("release-20240101.0").as_deref(),
            Some("release-20240101.0")
        );
        assert_eq!(
            of_version("release-20240101.3-42-gabcdef").as_deref(),
            Some("release-20240101.3")
        );
        assert_eq!(
            of_version("0.0~20221219.0").as_deref(),
            Some("release-20221219.0")
        );
        assert_eq!(of_version("go1.22"), None);
        assert_eq!(of_version("0.0~git20230101"), None);
        assert_eq!(date("release-20221219.0").as_deref(), Some("2022-12-19"));
        assert_eq!(date("head"), None);
    }
}
