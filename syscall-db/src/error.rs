//! Errors of the database: bad queries and invalid data.

/// An error from the database.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An architecture name the database does not know.
    #[error("unknown architecture `{0}` (known: x86_64, aarch64, i386)")]
    UnknownArch(String),
}
