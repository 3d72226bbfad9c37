//! The machine a measurement was taken on: kernel release, CPU model, online cores,
//! and the file system a host directory is on.

use std::path::Path;

use super::result::Machine;

/// Reads the machine's description from /proc.
pub fn this_machine() -> Machine {
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|_| "unknown".to_owned());
    let cpu_model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| cpu_model(&text))
        .unwrap_or_else(|| "unknown".to_owned());
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    Machine {
        kernel,
        cpu_model,
        cores,
    }
}

/// The first `model name` of /proc/cpuinfo (x86), or its `CPU part` line (arm64).
pub fn cpu_model(cpuinfo: &str) -> Option<String> {
    let field = |name: &str| {
        cpuinfo.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            (key.trim() == name).then(|| value.trim().to_owned())
        })
    };
    field("model name").or_else(|| field("CPU part").map(|p| format!("CPU part {p}")))
}

/// The type of the file system `path` is on (`ext4`, `tmpfs`…), or its magic number.
pub fn filesystem_type(path: &Path) -> String {
    use std::os::unix::ffi::OsStrExt as _;
    let Ok(c) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
        return "unknown".to_owned();
    };
    // SAFETY: statfs is plain old data; zeroed is a valid value to be overwritten.
    let mut buf: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: c is a valid C string and buf a valid out-pointer.
    if unsafe { libc::statfs(c.as_ptr(), &mut buf) } != 0 {
        return "unknown".to_owned();
    }
    match buf.f_type as u64 {
        0xEF53 => "ext4".to_owned(),
        0x0102_1994 => "tmpfs".to_owned(),
        0x5846_5342 => "xfs".to_owned(),
        0x9123_683E => "btrfs".to_owned(),
        0x794c_7630 => "overlay".to_owned(),
        other => format!("magic {other:#x}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_models() {
        assert_eq!(
            cpu_model("processor\t: 0\nmodel name\t: AMD EPYC\nflags\t: fpu\n").as_deref(),
            Some("AMD EPYC")
        );
        assert_eq!(
            cpu_model("processor\t: 0\nCPU part\t: 0xd0c\n").as_deref(),
            Some("CPU part 0xd0c")
        );
        assert_eq!(cpu_model("nothing"), None);
    }
}
