//! Cross-checks the generated syscall tables against an independent source: the `libc`
//! crate's `SYS_*` constants. On the host arch the constants are compiled in; for both
//! native arches the crate's glibc source files are read (found through `Cargo.lock`)
//! so aarch64 is checked on any host. Numbers must agree for every name both sides know;
//! the names only one side knows are asserted exactly, so a new kernel or libc release
//! shows up here as a reviewed change.

use std::collections::BTreeMap;
use std::path::PathBuf;

use syscall_db::{Arch, Database};

/// The source directory of the `libc` package this workspace builds: the highest libc
/// version in `Cargo.lock`, unpacked in cargo's registry (`$CARGO_HOME`, else
/// `~/.cargo`). Reading the lock file keeps the test offline.
fn libc_dir() -> PathBuf {
    let lock_path = concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.lock");
    let lock = std::fs::read_to_string(lock_path).unwrap_or_else(|e| panic!("{lock_path}: {e}"));
    let version = lock
        .split("[[package]]")
        .filter(|block| block.contains("name = \"libc\"\n"))
        .filter_map(|block| block.split("version = \"").nth(1)?.split('"').next())
        .max_by_key(|v| {
            v.split('.')
                .map(|p| p.parse::<u32>().unwrap_or(0))
                .collect::<Vec<_>>()
        })
        .unwrap_or_else(|| panic!("no libc package in {lock_path}"))
        .to_owned();
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .expect("neither CARGO_HOME nor HOME is set");
    let registry = cargo_home.join("registry").join("src");
    std::fs::read_dir(&registry)
        .unwrap_or_else(|e| panic!("{}: {e}", registry.display()))
        .filter_map(|entry| Some(entry.ok()?.path().join(format!("libc-{version}"))))
        .find(|dir| dir.is_dir())
        .unwrap_or_else(|| {
            panic!(
                "libc-{version} is not unpacked under {}",
                registry.display()
            )
        })
}

/// `pub const SYS_name: c_long = N;` lines of one libc source file.
fn libc_syscalls(relative: &str) -> BTreeMap<String, u32> {
    let path = libc_dir().join(relative);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .filter_map(|line| {
            let rest = line.trim().strip_prefix("pub const SYS_")?;
            let (name, value) = rest.split_once(':')?;
            let number = value.split('=').nth(1)?.trim().trim_end_matches(';').trim();
            Some((name.to_owned(), number.parse().ok()?))
        })
        .collect()
}

fn compare(arch: Arch, libc: &BTreeMap<String, u32>) -> (Vec<String>, Vec<String>) {
    let db = Database::get();
    let ours: BTreeMap<&str, u32> = db
        .syscalls(arch)
        .iter()
        .map(|s| (s.name.as_str(), s.number))
        .collect();
    for (name, &number) in libc {
        if let Some(&our) = ours.get(name.as_str()) {
            assert_eq!(our, number, "{arch} `{name}`: ours {our}, libc {number}");
        }
    }
    let only_ours = ours
        .keys()
        .filter(|n| !libc.contains_key(**n))
        .map(|n| n.to_string())
        .collect();
    let only_libc = libc
        .keys()
        .filter(|n| !ours.contains_key(n.as_str()))
        .cloned()
        .collect();
    (only_ours, only_libc)
}

#[test]
fn x86_64_agrees_with_libc() {
    let libc = libc_syscalls("src/unix/linux_like/linux/gnu/b64/x86_64/not_x32.rs");
    let (only_ours, only_libc) = compare(Arch::X86_64, &libc);
    // Calls newer than the libc release, and three pre-2.6 reserved numbers libc omits.
    assert_eq!(
        only_ours,
        [
            "cachestat",
            "create_module",
            "file_getattr",
            "file_setattr",
            "futex_requeue",
            "futex_wait",
            "futex_wake",
            "get_kernel_syms",
            "getxattrat",
            "io_pgetevents",
            "listmount",
            "listxattrat",
            "lsm_get_self_attr",
            "lsm_list_modules",
            "lsm_set_self_attr",
            "map_shadow_stack",
            "open_tree_attr",
            "query_module",
            "removexattrat",
            "setxattrat",
            "statmount",
            "uprobe",
            "uretprobe"
        ]
    );
    assert_eq!(only_libc, Vec::<String>::new());
}

#[test]
fn aarch64_agrees_with_libc() {
    let libc = libc_syscalls("src/unix/linux_like/linux/gnu/b64/aarch64/mod.rs");
    let (only_ours, only_libc) = compare(Arch::Aarch64, &libc);
    // Calls newer than the libc release, plus renameat, getrlimit, setrlimit and
    // sync_file_range, which libc's aarch64 module leaves out though arm64 has them.
    assert_eq!(
        only_ours,
        [
            "cachestat",
            "fchmodat2",
            "file_getattr",
            "file_setattr",
            "futex_requeue",
            "futex_wait",
            "futex_wake",
            "getrlimit",
            "getxattrat",
            "io_pgetevents",
            "listmount",
            "listxattrat",
            "lsm_get_self_attr",
            "lsm_list_modules",
            "lsm_set_self_attr",
            "map_shadow_stack",
            "open_tree_attr",
            "removexattrat",
            "renameat",
            "setrlimit",
            "setxattrat",
            "statmount",
            "sync_file_range"
        ]
    );
    assert_eq!(only_libc, Vec::<String>::new());
}

#[cfg(target_arch = "x86_64")]
#[test]
fn host_constants_agree() {
    let db = Database::get();
    let number = |name: &str| i64::from(db.syscall_by_name(Arch::X86_64, name).unwrap().number);
    assert_eq!(number("read"), libc::SYS_read);
    assert_eq!(number("bpf"), libc::SYS_bpf);
    assert_eq!(number("copy_file_range"), libc::SYS_copy_file_range);
    assert_eq!(number("clone3"), libc::SYS_clone3);
    assert_eq!(number("mseal"), libc::SYS_mseal);
}
