//! Naming what logs number: errnos (by the database's table, and as glibc's strerror
//! words them, which is what a program prints) and syscalls by name or number for an
//! arch. Shared by the profile made from the logs and the analysis of them.

use syscall_db::{Arch, Database};

use super::facts::SyscallId;

/// The errno name of `errno`, or `errno_N` if the database has none.
pub fn errno_name(db: &Database, errno: u16) -> String {
    db.errno_name(u32::from(errno))
        .map_or_else(|| format!("errno_{errno}"), str::to_owned)
}

/// The syscall's name and number in `arch`, if the database knows it.
pub fn resolve(db: &Database, arch: Arch, syscall: &SyscallId) -> Option<(String, u32)> {
    let row = match syscall {
        SyscallId::Named(name) => db.syscall_by_name(arch, name)?,
        SyscallId::Number(n) => db.syscall_by_number(arch, *n)?,
    };
    Some((row.name.clone(), row.number))
}

/// glibc's `strerror` text for the errnos a refused or failing call usually gets: what a
/// program prints on its standard error (`Operation not permitted`), where runsc's strace
/// uses Go's or gVisor's wording (`operation not permitted`, but `not a typewriter` for
/// ENOTTY and `invalid system call number` for ENOSYS). Linux's numbering, shared by
/// x86_64 and aarch64.
pub fn strerror(errno: u16) -> Option<&'static str> {
    Some(match errno {
        1 => "Operation not permitted",
        2 => "No such file or directory",
        5 => "Input/output error",
        6 => "No such device or address",
        9 => "Bad file descriptor",
        12 => "Cannot allocate memory",
        13 => "Permission denied",
        16 => "Device or resource busy",
        17 => "File exists",
        19 => "No such device",
        20 => "Not a directory",
        21 => "Is a directory",
        22 => "Invalid argument",
        24 => "Too many open files",
        25 => "Inappropriate ioctl for device",
        28 => "No space left on device",
        30 => "Read-only file system",
        38 => "Function not implemented",
        61 => "No data available",
        92 => "Protocol not available",
        93 => "Protocol not supported",
        94 => "Socket type not supported",
        95 => "Operation not supported",
        97 => "Address family not supported by protocol",
        98 => "Address already in use",
        99 => "Cannot assign requested address",
        101 => "Network is unreachable",
        110 => "Connection timed out",
        111 => "Connection refused",
        _ => return None,
    })
}
