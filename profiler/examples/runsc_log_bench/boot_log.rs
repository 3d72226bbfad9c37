//! A generated full-boot debug log of a current (2026) runsc: what `runsc --debug
//! --debug-log=DIR/ --strace` writes to `boot.txt` for a sandbox start, over and over
//! (one sandbox after another, as a node's log directory fills up). Each start has the
//! header and configuration block, the OCI spec printed one key per line, the seccomp
//! filter listing and its BPF program dump, the gofer (lisafs) request trace, mounts
//! with their ignored options, the startup timing table (`pkg/timing`: a multi-line
//! message of bare rows with box-drawing bars) and its machine-readable `Timer for`
//! lines, then the workload's strace lines and its exit. The shapes are those of the
//! real logs in `tests/fixtures/runsc/real/`, with the 2026 header and timing table
//! runsc writes since.

use std::fmt::Write as _;
use std::io::Write;

use super::Rng;

/// Writes boots until `size` bytes; returns the bytes written.
pub fn write(out: &mut impl Write, size: u64, rng: &mut Rng) -> std::io::Result<u64> {
    let mut written = 0u64;
    let mut boot = 0u32;
    let mut text = String::with_capacity(1 << 20);
    while written < size {
        text.clear();
        one_boot(&mut text, boot, rng);
        out.write_all(text.as_bytes())?;
        written += text.len() as u64;
        boot += 1;
    }
    Ok(written)
}

struct Clock {
    micros: u64,
    pid: u32,
}

impl Clock {
    /// A glog header at the next instant.
    fn header(&mut self, out: &mut String, level: char, source: &str, rng: &mut Rng) {
        self.micros += 1 + rng.below(300);
        let (s, us) = (self.micros / 1_000_000, self.micros % 1_000_000);
        let _ = write!(
            out,
            "{level}0815 {:02}:{:02}:{:02}.{us:06} {:>7} {source}] ",
            (s / 3600) % 24,
            (s / 60) % 60,
            s % 60,
            self.pid
        );
    }

    fn line(&mut self, out: &mut String, level: char, source: &str, text: &str, rng: &mut Rng) {
        self.header(out, level, source, rng);
        out.push_str(text);
        out.push('\n');
    }
}

const SECCOMP_SYSCALLS: [&str; 12] = [
    "read",
    "write",
    "close",
    "fstat",
    "mmap",
    "munmap",
    "futex",
    "epoll_pwait",
    "ppoll",
    "sched_yield",
    "getpid",
    "tgkill",
];

fn one_boot(out: &mut String, boot: u32, rng: &mut Rng) {
    let mut clock = Clock {
        micros: 3_600_000_000 + u64::from(boot) * 2_000_000,
        pid: 20_000 + boot,
    };
    let id = format!("sandbox-{boot:06}");
    header(out, &mut clock, &id, rng);
    spec(out, &mut clock, &id, rng);
    for name in SECCOMP_SYSCALLS.iter().cycle().take(70) {
        let text = format!("syscall filter {name}: [] => 0x616c6c6f77");
        clock.line(out, 'D', "seccomp.go:174", &text, rng);
    }
    clock.line(out, 'D', "seccomp.go:77", "Seccomp program dump:", rng);
    for pc in 0..600u32 {
        let _ = match pc % 4 {
            0 => writeln!(out, "{pc}: A <- P[{}:4]", 4 * (pc % 12)),
            1 => writeln!(
                out,
                "{pc}: pc += (A == {}) ? 1 [{}] : 0 [{}]",
                pc % 400,
                pc + 2,
                pc + 1
            ),
            2 => writeln!(out, "{pc}: ret 2147418112"),
            _ => writeln!(out, "{pc}: pc += {} [{}]", pc % 50, pc + pc % 50),
        };
    }
    out.push('\n');
    clock.line(out, 'I', "seccomp.go:88", "Seccomp filters installed.", rng);
    mounts(out, &mut clock, rng);
    for i in 0..120u32 {
        let text = format!(
            "send [channel 0xc000{:06x}] WalkReq{{DirFD: {}, Path: [usr, lib, x86_64-linux-gnu, lib{i}.so.6, ]}}",
            rng.below(1 << 24),
            1 + i % 40
        );
        clock.line(out, 'D', "client.go:400", &text, rng);
        let text = format!(
            "recv [channel 0xc000{:06x}] WalkResp{{Status: 0, Inodes: [{{ControlFD:{} Stat:{{Mask:2047 Blksize:4096 Attributes:0 Nlink:1 UID:0 GID:0 Mode:33261 _:0 Ino:{} Size:{} Blocks:8 AttributesMask:0 Atime:{{Sec:1786162688 Nsec:281679435 _:0}} Btime:{{Sec:0 Nsec:0 _:0}} Ctime:{{Sec:1786162688 Nsec:281679435 _:0}} Mtime:{{Sec:1786162688 Nsec:281679435 _:0}} RdevMajor:0 RdevMinor:0 DevMajor:254 DevMinor:0}}}}]}}",
            rng.below(1 << 24),
            100 + i,
            rng.below(1 << 20),
            rng.below(1 << 22)
        );
        clock.line(out, 'D', "client.go:400", &text, rng);
    }
    timing(out, &mut clock, rng);
    clock.line(
        out,
        'I',
        "kernel.go:803",
        "EXEC: [/usr/local/bin/server --config /etc/server.yaml]",
        rng,
    );
    workload(out, &mut clock, rng);
    for text in [
        "[   1:   1] Transitioning from exit state TaskExitNone to TaskExitInitiated",
        "[   1:   1] Init process terminating, killing namespace",
        "[   1:   1] Transitioning from exit state TaskExitZombie to TaskExitDead",
    ] {
        clock.line(out, 'D', "task_exit.go:204", text, rng);
    }
    clock.line(
        out,
        'I',
        "boot.go:466",
        "application exiting with exit status 0",
        rng,
    );
    clock.line(out, 'I', "main.go:266", "Exiting with status: 0", rng);
}

fn header(out: &mut String, clock: &mut Clock, id: &str, rng: &mut Rng) {
    let pid = clock.pid;
    let lines = [
        "***************************".to_owned(),
        format!("Args: [runsc-sandbox --root=/run/containerd/runsc/k8s.io --debug=true --debug-log=/var/log/runsc/ --strace=true --debug-log-fd=3 boot --bundle=/run/containerd/io.containerd.runtime.v2.task/k8s.io/{id} --cpu-num 8 --total-memory 33554432000 --attached --io-fds=4 --mounts-fd=5 --start-sync-fd=6 --controller-fd=7 --spec-fd=8 --stdio-fds=9 --stdio-fds=10 --stdio-fds=11 {id}]"),
        format!("Version release-20260815.0, go1.25.1, amd64, 8 CPUs, linux, PID {pid}, PPID 1, UID 0, GID 0"),
        "Page size: 0x1000 (4096 bytes)".to_owned(),
        "Configuration:".to_owned(),
        "\t\tRootDir: /run/containerd/runsc/k8s.io".to_owned(),
        "\t\tPlatform: systrap".to_owned(),
        "\t\tFileAccess: exclusive, overlay: root:self".to_owned(),
        "\t\tNetwork: sandbox, logging: false".to_owned(),
        "\t\tStrace: true, max size: 1024, syscalls: ".to_owned(),
        "\t\tIOURING: false".to_owned(),
        "\t\tDebug: true".to_owned(),
        "\t\tSystemd: false".to_owned(),
        "***************************".to_owned(),
    ];
    for text in lines {
        clock.line(out, 'I', "main.go:217", &text, rng);
    }
}

fn spec(out: &mut String, clock: &mut Clock, id: &str, rng: &mut Rng) {
    clock.line(out, 'D', "specutils.go:75", "Spec:", rng);
    out.push_str("{\n  \"ociVersion\": \"1.1.0\",\n  \"process\": {\n    \"user\": {\n      \"uid\": 65534,\n      \"gid\": 65534\n    },\n    \"args\": [\n      \"/usr/local/bin/server\",\n      \"--config\",\n      \"/etc/server.yaml\"\n    ],\n    \"env\": [\n");
    for i in 0..30 {
        let _ = writeln!(
            out,
            "      \"SERVICE_{i}_PORT=tcp://10.96.{}.{}:8080\",",
            i % 7,
            i
        );
    }
    out.push_str("      \"HOME=/\"\n    ],\n    \"cwd\": \"/\"\n  },\n  \"root\": {\n");
    let _ = writeln!(
        out,
        "    \"path\": \"/run/containerd/io.containerd.runtime.v2.task/k8s.io/{id}/rootfs\""
    );
    out.push_str("  },\n  \"mounts\": [\n");
    for (dest, kind) in [
        ("/proc", "proc"),
        ("/dev", "tmpfs"),
        ("/dev/pts", "devpts"),
        ("/dev/mqueue", "mqueue"),
        ("/sys", "sysfs"),
        ("/sys/fs/cgroup", "cgroup"),
        ("/etc/hosts", "bind"),
        ("/dev/termination-log", "bind"),
        ("/var/run/secrets/kubernetes.io/serviceaccount", "bind"),
    ] {
        let _ = writeln!(
            out,
            "    {{\n      \"destination\": \"{dest}\",\n      \"type\": \"{kind}\",\n      \"source\": \"{kind}\",\n      \"options\": [\n        \"nosuid\",\n        \"noexec\",\n        \"nodev\"\n      ]\n    }},"
        );
    }
    out.push_str("  ]\n}\n");
    let _ = rng;
}

fn mounts(out: &mut String, clock: &mut Clock, rng: &mut Rng) {
    for (dest, kind, options) in [
        (
            "/dev",
            "tmpfs",
            ["nosuid", "strictatime", "mode=755", "size=65536k"],
        ),
        (
            "/dev/pts",
            "devpts",
            ["nosuid", "noexec", "newinstance", "ptmxmode=0666"],
        ),
        ("/sys", "sysfs", ["nosuid", "noexec", "nodev", "ro"]),
        (
            "/dev/shm",
            "tmpfs",
            ["nosuid", "noexec", "nodev", "size=65536k"],
        ),
    ] {
        let text = format!("Mounting \"{kind}\" to \"{dest}\", type: {kind}, options: {options:?}");
        clock.line(out, 'D', "vfs.go:861", &text, rng);
        for option in options.iter().filter(|o| **o != "ro") {
            let text = format!("ignoring unknown mount option \"{option}\"");
            clock.line(out, 'W', "vfs.go:1248", &text, rng);
        }
        let text = format!("Mounted \"{kind}\" to \"{dest}\" type: {kind}, internal-options: \"\"");
        clock.line(out, 'I', "vfs.go:1062", &text, rng);
    }
    clock.line(
        out,
        'W',
        "vfs.go:1167",
        "ignoring unknown filesystem type \"mqueue\"",
        rng,
    );
}

/// `Timer.Log`'s table (`pkg/timing/timing.go`): one info message whose rows follow as
/// bare lines, then the debug `Timer for …: time …` lines.
fn timing(out: &mut String, clock: &mut Clock, rng: &mut Rng) {
    const PHASES: [&str; 12] = [
        "create platform",
        "create kernel",
        "network setup",
        "seccomp",
        "start gofers",
        "mount root",
        "mount submounts",
        "setup /dev",
        "setup /proc",
        "create process",
        "load executable",
        "start process",
    ];
    clock.line(
        out,
        'I',
        "timing.go:866",
        "---- runsc boot timing information ----",
        rng,
    );
    for (i, phase) in PHASES.iter().enumerate() {
        let micros = clock.micros + i as u64 * 1_734;
        let _ = writeln!(
            out,
            "[{:02}:{:02}:{:02}.{:06}]\t +{} {:03}µs {:<12}\t├─ {phase}: {} {:03}µs",
            (micros / 3_600_000_000) % 24,
            (micros / 60_000_000) % 60,
            (micros / 1_000_000) % 60,
            micros % 1_000_000,
            1 + i % 9,
            rng.below(1000),
            "█".repeat(1 + i % 12),
            i % 7,
            rng.below(1000)
        );
    }
    out.push_str("---- End of runsc boot timing information ----\n\n");
    for phase in PHASES {
        let text = format!(
            "Timer for runsc boot: time 1786000000{:09} 2026-08-15T01:00:00.{:09}Z mid runsc boot = {phase}",
            rng.below(1_000_000_000),
            rng.below(1_000_000_000)
        );
        clock.line(out, 'D', "timing.go:877", &text, rng);
    }
}

fn workload(out: &mut String, clock: &mut Clock, rng: &mut Rng) {
    for _ in 0..300 {
        let tid = 1 + rng.below(6) as u32;
        let (call, result) = super::pick(rng);
        for phase in ["E", "X"] {
            let mut text = format!("[   1:{tid:4}] server {phase} {call}");
            if phase == "X" {
                text.push_str(" = ");
                text.push_str(&result);
            }
            let source = if phase == "E" {
                "strace.go:570"
            } else {
                "strace.go:608"
            };
            clock.line(out, 'I', source, &text, rng);
        }
    }
}
