//! `sandprof-workload`: a program that does known things a known number of times, so the
//! end-to-end tests can check a profile against exact expectations. Each mode is one
//! behaviour; `all` runs every compatibility-relevant one in a fixed order.
//!
//! Steps that need privileges the machine may lack report the errno they got instead of
//! failing: the profile must show the same errno, which is what the tests check.

use std::ffi::CString;
use std::io::Write as _;
use std::os::unix::fs::PermissionsExt as _;
use std::os::unix::process::ExitStatusExt as _;
use std::process::exit;

/// Calls of getppid in `all`.
pub const ALL_GETPPID: u64 = 1000;

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

fn getppid_loop(n: u64) {
    for _ in 0..n {
        // SAFETY: a plain syscall without arguments.
        unsafe { libc::syscall(libc::SYS_getppid) };
    }
}

fn open_close(path: &str, flags: i32) -> i32 {
    let c = CString::new(path).expect("static path");
    // SAFETY: `c` is a valid C string.
    let fd = unsafe { libc::openat(libc::AT_FDCWD, c.as_ptr(), flags) };
    if fd >= 0 {
        // SAFETY: `fd` was just opened.
        unsafe { libc::close(fd) };
        0
    } else {
        errno()
    }
}

/// Forks; the child runs `f` and exits with its return value.
fn in_child(f: impl FnOnce() -> i32) -> i32 {
    // SAFETY: the child only makes syscalls and exits.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        let code = f();
        // SAFETY: leaving the child without running the parent's destructors.
        unsafe { libc::_exit(code) };
    }
    let mut status = 0;
    // SAFETY: waiting for our own child.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    libc::WEXITSTATUS(status)
}

fn paths() {
    open_close("/proc/self/status", libc::O_RDONLY | libc::O_CLOEXEC);
    open_close("/proc/self/smaps_rollup", libc::O_RDONLY | libc::O_CLOEXEC);
    open_close(
        "/sys/dev/block",
        libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
    );
}

fn mount_tmpfs() -> i32 {
    in_child(|| {
        // SAFETY: plain syscalls with valid C strings.
        unsafe {
            if libc::unshare(libc::CLONE_NEWNS) != 0 {
                return errno();
            }
            if libc::mount(
                std::ptr::null(),
                c"/".as_ptr(),
                std::ptr::null(),
                libc::MS_REC | libc::MS_PRIVATE,
                std::ptr::null(),
            ) != 0
            {
                return errno();
            }
            if libc::mount(
                c"sandprof".as_ptr(),
                c"/mnt".as_ptr(),
                c"tmpfs".as_ptr(),
                0,
                std::ptr::null(),
            ) != 0
            {
                return errno();
            }
            libc::umount2(c"/mnt".as_ptr(), 0);
        }
        0
    })
}

fn sockets() {
    for (domain, ty, protocol) in [
        (
            libc::AF_PACKET,
            libc::SOCK_RAW,
            i32::from((libc::ETH_P_ALL as u16).to_be()),
        ),
        (libc::AF_INET, libc::SOCK_RAW, libc::IPPROTO_ICMP),
        (
            libc::AF_NETLINK,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            libc::NETLINK_SOCK_DIAG,
        ),
    ] {
        // SAFETY: a plain syscall.
        let fd = unsafe { libc::socket(domain, ty, protocol) };
        if fd >= 0 {
            // SAFETY: `fd` was just opened.
            unsafe { libc::close(fd) };
        }
    }
}

fn ptrace_traceme() -> i32 {
    in_child(|| {
        // SAFETY: PTRACE_TRACEME takes no pointers.
        unsafe { libc::ptrace(libc::PTRACE_TRACEME, 0, 0, 0) };
        0
    })
}

fn tty_ioctl() -> i32 {
    // SAFETY: plain syscalls on descriptors we open; `termios` is plain data.
    unsafe {
        let master = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY);
        if master < 0 {
            return errno();
        }
        libc::grantpt(master);
        libc::unlockpt(master);
        let mut termios: libc::termios = std::mem::zeroed();
        let rc = libc::ioctl(master, libc::TCGETS, &mut termios);
        libc::close(master);
        if rc == 0 {
            0
        } else {
            errno()
        }
    }
}

fn io_uring() -> i32 {
    let mut params = [0u8; 120];
    // SAFETY: `params` is a zeroed io_uring_params of the right size.
    let fd = unsafe { libc::syscall(libc::SYS_io_uring_setup, 4u32, params.as_mut_ptr()) };
    if fd >= 0 {
        // SAFETY: `fd` was just opened.
        unsafe { libc::close(fd as i32) };
        0
    } else {
        errno()
    }
}

fn bpf_invalid() -> i32 {
    // BPF_PROG_LOAD with an all-zero attribute: no instructions, rejected with EINVAL.
    let attr = [0u8; 128];
    // SAFETY: `attr` is valid for its size.
    unsafe { libc::syscall(libc::SYS_bpf, 5, attr.as_ptr(), attr.len()) };
    errno()
}

fn perf_event() -> i32 {
    // perf_event_attr: type PERF_TYPE_SOFTWARE (1), size, config PERF_COUNT_SW_CPU_CLOCK (0).
    let mut attr = [0u8; 128];
    attr[0..4].copy_from_slice(&1u32.to_ne_bytes());
    attr[4..8].copy_from_slice(&128u32.to_ne_bytes());
    // SAFETY: `attr` is a valid perf_event_attr buffer.
    let fd = unsafe { libc::syscall(libc::SYS_perf_event_open, attr.as_ptr(), 0, -1, -1, 0) };
    if fd >= 0 {
        // SAFETY: `fd` was just opened.
        unsafe { libc::close(fd as i32) };
        0
    } else {
        errno()
    }
}

fn copy_file_range() -> i32 {
    let dir = std::env::temp_dir().join(format!("sandprof-workload-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let (src, dst) = (dir.join("src"), dir.join("dst"));
    let result = (|| -> std::io::Result<i32> {
        std::fs::write(&src, b"sandprof copy_file_range")?;
        let input = std::fs::File::open(&src)?;
        let output = std::fs::File::create(&dst)?;
        use std::os::fd::AsRawFd as _;
        // SAFETY: both descriptors are open; null offsets use the file positions.
        let n = unsafe {
            libc::copy_file_range(
                input.as_raw_fd(),
                std::ptr::null_mut(),
                output.as_raw_fd(),
                std::ptr::null_mut(),
                24,
                0,
            )
        };
        Ok(if n < 0 { errno() } else { 0 })
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result.unwrap_or(-1)
}

/// `chain DEPTH`: spawn a thread that calls getppid 10 times, then (if DEPTH > 0)
/// fork and exec `chain DEPTH-1`, and wait for it.
fn chain(depth: u32) -> i32 {
    let thread = std::thread::spawn(|| getppid_loop(10));
    let _ = thread.join();
    if depth == 0 {
        return 0;
    }
    let me = std::env::current_exe().map(|p| p.into_os_string());
    let Ok(me) = me else { return 1 };
    let status = std::process::Command::new(me)
        .arg("chain")
        .arg((depth - 1).to_string())
        .status();
    match status {
        Ok(s) if s.success() => 0,
        _ => 1,
    }
}

/// A minimal i386 ELF executable: `getpid` then `exit(42)` through `int 0x80`.
fn i386_elf() -> Vec<u8> {
    const BASE: u32 = 0x0804_8000;
    let code: [u8; 19] = [
        0xb8, 0x14, 0x00, 0x00, 0x00, // mov eax, 20 (getpid)
        0xcd, 0x80, // int 0x80
        0xb8, 0x01, 0x00, 0x00, 0x00, // mov eax, 1 (exit)
        0xbb, 0x2a, 0x00, 0x00, 0x00, // mov ebx, 42
        0xcd, 0x80, // int 0x80
    ];
    let total = 52 + 32 + code.len() as u32;
    let mut elf = Vec::new();
    elf.extend_from_slice(&[0x7f, b'E', b'L', b'F', 1, 1, 1, 0]);
    elf.extend_from_slice(&[0; 8]);
    elf.extend_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    elf.extend_from_slice(&3u16.to_le_bytes()); // EM_386
    elf.extend_from_slice(&1u32.to_le_bytes()); // EV_CURRENT
    elf.extend_from_slice(&(BASE + 84).to_le_bytes()); // entry
    elf.extend_from_slice(&52u32.to_le_bytes()); // phoff
    elf.extend_from_slice(&0u32.to_le_bytes()); // shoff
    elf.extend_from_slice(&0u32.to_le_bytes()); // flags
    elf.extend_from_slice(&52u16.to_le_bytes()); // ehsize
    elf.extend_from_slice(&32u16.to_le_bytes()); // phentsize
    elf.extend_from_slice(&1u16.to_le_bytes()); // phnum
    elf.extend_from_slice(&[0; 6]); // shentsize, shnum, shstrndx
    elf.extend_from_slice(&1u32.to_le_bytes()); // PT_LOAD
    elf.extend_from_slice(&0u32.to_le_bytes()); // offset
    elf.extend_from_slice(&BASE.to_le_bytes()); // vaddr
    elf.extend_from_slice(&BASE.to_le_bytes()); // paddr
    elf.extend_from_slice(&total.to_le_bytes()); // filesz
    elf.extend_from_slice(&total.to_le_bytes()); // memsz
    elf.extend_from_slice(&5u32.to_le_bytes()); // R+X
    elf.extend_from_slice(&0x1000u32.to_le_bytes()); // align
    elf.extend_from_slice(&code);
    elf
}

/// Writes the i386 program to `path` and runs it; returns its exit status (42).
fn run_i386(path: &std::path::Path) -> i32 {
    let written = std::fs::File::create(path)
        .and_then(|mut f| f.write_all(&i386_elf()))
        .and_then(|()| std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)));
    if written.is_err() {
        return -1;
    }
    let status = std::process::Command::new(path).status();
    let _ = std::fs::remove_file(path);
    status.ok().and_then(|s| s.code()).unwrap_or(-1)
}

/// `stat-paths N`: `newfstatat` on N distinct paths under /dev that do not exist
/// (`/dev/sandprof-stat-00000`…, never all digits, so never folded), then lists
/// /sys/class/net: a workload that fills a signature map before it does the one
/// thing that matters. Prints the number of network interfaces.
fn stat_paths(n: u64) -> i32 {
    for i in 0..n {
        let path = CString::new(format!("/dev/sandprof-stat-{i:05}")).expect("no NUL");
        // SAFETY: `stat` is plain data and the path a valid C string.
        unsafe {
            let mut stat: libc::stat = std::mem::zeroed();
            libc::syscall(
                libc::SYS_newfstatat,
                libc::AT_FDCWD,
                path.as_ptr(),
                &mut stat,
                0,
            );
        }
    }
    match std::fs::read_dir("/sys/class/net") {
        Ok(entries) => {
            println!("{} interfaces", entries.count());
            0
        }
        Err(err) => {
            eprintln!("sandprof-workload: cannot list /sys/class/net: {err}");
            1
        }
    }
}

/// `time CMD [ARGS]...`: runs CMD, waits for it, prints its wall time as `X ns` and
/// exits with its status. Under a tracer that starts this program, the time covers the
/// traced command alone, not the tracer's start-up or shutdown.
fn time_command(argv: &[String]) -> i32 {
    let Some((program, args)) = argv.split_first() else {
        eprintln!("usage: sandprof-workload time CMD [ARGS]...");
        return 2;
    };
    let start = std::time::Instant::now();
    let status = std::process::Command::new(program).args(args).status();
    let elapsed = start.elapsed();
    match status {
        Ok(status) => {
            println!("{} ns", elapsed.as_nanos());
            status
                .code()
                .or_else(|| status.signal().map(|s| 128 + s))
                .unwrap_or(1)
        }
        Err(err) => {
            eprintln!("sandprof-workload: cannot run {program}: {err}");
            127
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |i: usize| args.get(i).map(String::as_str);
    let number = |i: usize| arg(i).and_then(|s| s.parse::<u64>().ok());
    match arg(1) {
        Some("getppid") => {
            let n = number(2).unwrap_or(ALL_GETPPID);
            let start = std::time::Instant::now();
            getppid_loop(n);
            // Timed inside the process so that tracer start-up does not count.
            println!(
                "{:.1} ns/call",
                start.elapsed().as_nanos() as f64 / n.max(1) as f64
            );
        }
        Some("open-read-close") => {
            let n = number(2).unwrap_or(1000);
            let mut buf = [0u8; 256];
            for _ in 0..n {
                // SAFETY: a static C string and a buffer valid for its length.
                unsafe {
                    let fd = libc::open(c"/etc/hostname".as_ptr(), libc::O_RDONLY);
                    if fd >= 0 {
                        libc::read(fd, buf.as_mut_ptr().cast(), buf.len());
                        libc::close(fd);
                    }
                }
            }
        }
        Some("alternate") => {
            // getppid and access("/") in turn: two keys the probe's count cache puts in
            // one slot on x86-64, so every call evicts the other's pending count.
            for _ in 0..number(2).unwrap_or(1000) {
                // SAFETY: plain syscalls; a static C string.
                unsafe {
                    libc::syscall(libc::SYS_getppid);
                    libc::access(c"/".as_ptr(), libc::F_OK);
                }
            }
        }
        Some("chain") => exit(chain(number(2).unwrap_or(3) as u32)),
        Some("i386") => {
            let path = std::env::temp_dir().join(format!("sandprof-i386-{}", std::process::id()));
            exit(if run_i386(&path) == 42 { 0 } else { 1 });
        }
        Some("time") => exit(time_command(args.get(2..).unwrap_or_default())),
        Some("stat-paths") => exit(stat_paths(number(2).unwrap_or(40_000))),
        Some("all") => {
            getppid_loop(ALL_GETPPID);
            paths();
            let results = [
                ("mount", mount_tmpfs()),
                ("ptrace", ptrace_traceme()),
                ("tcgets", tty_ioctl()),
                ("io_uring", io_uring()),
                ("bpf", bpf_invalid()),
                ("perf", perf_event()),
                ("copy_file_range", copy_file_range()),
            ];
            sockets();
            let chain = chain(3);
            let i386 = run_i386(
                &std::env::temp_dir().join(format!("sandprof-i386-{}", std::process::id())),
            );
            for (step, code) in results {
                eprintln!("{step}: {code}");
            }
            eprintln!("chain: {chain}");
            eprintln!("i386: {i386}");
        }
        _ => {
            eprintln!(
                "usage: sandprof-workload all | getppid N | open-read-close N | alternate N \
                 | chain DEPTH | i386 | stat-paths N | time CMD [ARGS]..."
            );
            exit(2);
        }
    }
}
