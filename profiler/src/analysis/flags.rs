//! The runsc flags a report assumes are set (`--runsc-flags "--net-raw,--host-uds=open"`),
//! and whether they satisfy a remediation's flag.
//!
//! runsc parses flags with Go's `flag` package: `-x` and `--x` are the same flag, and a
//! boolean flag given bare means `=true`. A remediation's flag is satisfied by the same
//! flag with the same value; nothing else is inferred.

use std::fmt;
use std::str::FromStr;

/// A set of runsc flags, in a canonical order (by name), each name at most once.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunscFlags {
    flags: Vec<RunscFlag>,
}

/// One flag: its name without dashes, and its value (`None` for a bare boolean).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct RunscFlag {
    /// Name, e.g. `net-raw`.
    pub name: String,
    /// Value, e.g. `open` in `--host-uds=open`; `None` when given bare.
    pub value: Option<String>,
}

/// A `--runsc-flags` entry that is not a flag.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum FlagError {
    /// Nothing between the separators.
    #[error("no runsc flags given")]
    Empty,
    /// Not of the form `--name` or `--name=value`.
    #[error("`{0}` is not a runsc flag: expected `--name` or `--name=value`")]
    Malformed(String),
    /// The same flag twice with different values.
    #[error("runsc flag `--{name}` is given twice, as `{first}` and `{second}`")]
    Conflict {
        /// Flag name.
        name: String,
        /// First value as given.
        first: String,
        /// Second value as given.
        second: String,
    },
}

impl RunscFlag {
    /// Parses `--name`, `-name`, `--name=value`.
    pub fn parse(text: &str) -> Result<RunscFlag, FlagError> {
        let malformed = || FlagError::Malformed(text.to_owned());
        let body = text
            .strip_prefix("--")
            .or_else(|| text.strip_prefix('-'))
            .ok_or_else(malformed)?;
        let (name, value) = match body.split_once('=') {
            Some((name, value)) => (name, Some(value.to_owned())),
            None => (body, None),
        };
        let name_ok = name.starts_with(|c: char| c.is_ascii_alphabetic())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !name_ok {
            return Err(malformed());
        }
        Ok(RunscFlag {
            name: name.to_owned(),
            value,
        })
    }

    /// The value a boolean flag given bare stands for.
    fn effective_value(&self) -> &str {
        self.value.as_deref().unwrap_or("true")
    }
}

impl fmt::Display for RunscFlag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            Some(value) => write!(f, "--{}={value}", self.name),
            None => write!(f, "--{}", self.name),
        }
    }
}

impl RunscFlags {
    /// No flags: runsc's defaults.
    pub fn none() -> RunscFlags {
        RunscFlags::default()
    }

    /// Adds every flag of `other`, refusing a flag set twice to different values.
    pub fn extend(&mut self, other: RunscFlags) -> Result<(), FlagError> {
        for flag in other.flags {
            self.insert(flag)?;
        }
        Ok(())
    }

    fn insert(&mut self, flag: RunscFlag) -> Result<(), FlagError> {
        match self.flags.binary_search_by(|f| f.name.cmp(&flag.name)) {
            Ok(i) if self.flags[i].effective_value() == flag.effective_value() => Ok(()),
            Ok(i) => Err(FlagError::Conflict {
                name: flag.name.clone(),
                first: self.flags[i].to_string(),
                second: flag.to_string(),
            }),
            Err(i) => {
                self.flags.insert(i, flag);
                Ok(())
            }
        }
    }

    /// True when `required` (a remediation's flag, e.g. `--net-raw`) is set with the
    /// same value. A `required` that is not a flag is never satisfied.
    pub fn satisfies(&self, required: &str) -> bool {
        let Ok(required) = RunscFlag::parse(required) else {
            return false;
        };
        self.flags
            .iter()
            .any(|f| f.name == required.name && f.effective_value() == required.effective_value())
    }

    /// The flags, in canonical order.
    pub fn iter(&self) -> impl Iterator<Item = &RunscFlag> {
        self.flags.iter()
    }

    /// True when no flag is set.
    pub fn is_empty(&self) -> bool {
        self.flags.is_empty()
    }

    /// Each flag as runsc takes it, e.g. `--host-uds=open`.
    pub fn to_strings(&self) -> Vec<String> {
        self.flags.iter().map(RunscFlag::to_string).collect()
    }
}

impl FromStr for RunscFlags {
    type Err = FlagError;

    /// Parses a comma- or space-separated list: `--net-raw,--host-uds=open`.
    fn from_str(text: &str) -> Result<RunscFlags, FlagError> {
        let mut flags = RunscFlags::default();
        for token in text.split([',', ' ', '\t']).filter(|t| !t.is_empty()) {
            flags.insert(RunscFlag::parse(token)?)?;
        }
        if flags.is_empty() {
            return Err(FlagError::Empty);
        }
        Ok(flags)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lists_in_canonical_order() {
        let flags: RunscFlags = "--net-raw, -host-uds=open,--net-raw=true".parse().unwrap();
        assert_eq!(flags.to_strings(), vec!["--host-uds=open", "--net-raw"]);
    }

    #[test]
    fn satisfies_same_flag_same_value() {
        let flags: RunscFlags = "--net-raw,--host-uds=open".parse().unwrap();
        assert!(flags.satisfies("--net-raw"));
        assert!(flags.satisfies("--net-raw=true"));
        assert!(flags.satisfies("--host-uds=open"));
        assert!(!flags.satisfies("--host-uds=create"));
        assert!(!flags.satisfies("--network=host"));
        assert!(!flags.satisfies("net-raw"));
        let off: RunscFlags = "--net-raw=false".parse().unwrap();
        assert!(!off.satisfies("--net-raw"));
    }

    #[test]
    fn rejects_what_is_not_a_flag() {
        assert_eq!("".parse::<RunscFlags>(), Err(FlagError::Empty));
        assert_eq!(" , ".parse::<RunscFlags>(), Err(FlagError::Empty));
        assert_eq!(
            "net-raw".parse::<RunscFlags>(),
            Err(FlagError::Malformed("net-raw".to_owned()))
        );
        assert_eq!(
            "--=x".parse::<RunscFlags>(),
            Err(FlagError::Malformed("--=x".to_owned()))
        );
        assert_eq!(
            "--network=host,--network=sandbox".parse::<RunscFlags>(),
            Err(FlagError::Conflict {
                name: "network".to_owned(),
                first: "--network=host".to_owned(),
                second: "--network=sandbox".to_owned(),
            })
        );
    }
}
