//! Argument rules judged through the public API, one or more cases per category: the
//! most specific matching rule and its exact outcome for captured field values, as the
//! analysis sees them.

use syscall_db::{Arch, Database, FieldValue, FieldValues, Outcome, Runtime};

/// Field values from `(name, value)` pairs; symbolic values resolve through the
/// database's constants for `arch`, so cases read like the calls they stand for.
fn fields(arch: Arch, syscall: &str, pairs: &[(&str, Val)]) -> FieldValues {
    let db = Database::get();
    pairs
        .iter()
        .map(|(name, value)| {
            let value = match value {
                Val::Int(n) => FieldValue::Int(*n),
                Val::Str(s) => FieldValue::Str((*s).to_owned()),
                Val::Sym(names) => FieldValue::Int(names.split('|').fold(0, |acc, symbol| {
                    let group = db.field_group(syscall, name);
                    acc | db
                        .resolve_constant(group, symbol, arch)
                        .unwrap_or_else(|| panic!("no constant `{symbol}` on {arch}"))
                })),
            };
            ((*name).to_owned(), value)
        })
        .collect()
}

enum Val {
    Int(u64),
    Str(&'static str),
    Sym(&'static str),
}

/// The id and outcome of the rule that decides the call, if any.
fn decide(
    runtime: Runtime,
    arch: Arch,
    syscall: &str,
    pairs: &[(&str, Val)],
) -> Option<(String, Outcome)> {
    let db = Database::get();
    let fields = fields(arch, syscall, pairs);
    db.matching_rules(runtime, arch, syscall, &fields)
        .first()
        .map(|rule| (rule.id.clone(), rule.outcome.clone()))
}

fn gvisor(syscall: &str, pairs: &[(&str, Val)]) -> Option<(String, Outcome)> {
    decide(Runtime::Gvisor, Arch::X86_64, syscall, pairs)
}

fn works(id: &str) -> Option<(String, Outcome)> {
    Some((id.to_owned(), Outcome::Works))
}

fn fails(id: &str, errno: &str) -> Option<(String, Outcome)> {
    Some((
        id.to_owned(),
        Outcome::Fails {
            errno: errno.to_owned(),
        },
    ))
}

fn needs(id: &str, errno: &str) -> Option<(String, Outcome)> {
    Some((
        id.to_owned(),
        Outcome::NeedsConfig {
            errno: errno.to_owned(),
        },
    ))
}

fn outcome(id: &str, outcome: Outcome) -> Option<(String, Outcome)> {
    Some((id.to_owned(), outcome))
}

use Val::{Int, Str, Sym};

#[test]
fn socket_domains_types_and_protocols() {
    let call = |domain, kind, protocol| {
        gvisor(
            "socket",
            &[
                ("domain", Sym(domain)),
                ("type", Sym(kind)),
                ("protocol", Sym(protocol)),
            ],
        )
    };
    assert_eq!(
        call("AF_NETLINK", "SOCK_RAW", "NETLINK_SOCK_DIAG"),
        fails("gvisor.socket.netlink-sock-diag", "EPROTONOSUPPORT")
    );
    assert_eq!(
        call("AF_NETLINK", "SOCK_RAW", "NETLINK_AUDIT"),
        fails("gvisor.socket.netlink-unsupported", "EPROTONOSUPPORT")
    );
    assert_eq!(
        call("AF_NETLINK", "SOCK_RAW", "NETLINK_ROUTE"),
        works("gvisor.socket.netlink-route")
    );
    assert_eq!(
        call("AF_NETLINK", "SOCK_DGRAM", "NETLINK_NETFILTER"),
        fails("gvisor.socket.netlink-netfilter", "EPROTONOSUPPORT")
    );
    assert_eq!(
        call("AF_NETLINK", "SOCK_DGRAM", "NETLINK_KOBJECT_UEVENT"),
        outcome("gvisor.socket.netlink-uevent", Outcome::Degraded)
    );
    assert_eq!(
        call("AF_INET6", "SOCK_STREAM", "IPPROTO_IP"),
        works("gvisor.socket.inet-tcp")
    );
    assert_eq!(
        call("AF_INET", "SOCK_STREAM", "IPPROTO_MPTCP"),
        fails("gvisor.socket.inet-stream-other", "EINVAL")
    );
    assert_eq!(
        call("AF_INET", "SOCK_DGRAM", "IPPROTO_ICMP"),
        works("gvisor.socket.inet-ping")
    );
    assert_eq!(
        call("AF_INET", "SOCK_RAW", "IPPROTO_ICMP"),
        needs("gvisor.socket.inet-raw", "EPERM")
    );
    assert_eq!(
        call("AF_INET", "SOCK_RAW", "IPPROTO_GRE"),
        fails("gvisor.socket.inet-raw-other-protocol", "EPROTONOSUPPORT")
    );
    assert_eq!(
        call("AF_PACKET", "SOCK_RAW", "IPPROTO_IP"),
        needs("gvisor.socket.packet", "EPERM")
    );
    assert_eq!(
        call("AF_VSOCK", "SOCK_STREAM", "IPPROTO_IP"),
        fails("gvisor.socket.domain-unsupported", "EAFNOSUPPORT")
    );
    assert_eq!(
        call("AF_UNIX", "SOCK_SEQPACKET", "IPPROTO_IP"),
        works("gvisor.socket.unix")
    );
    assert_eq!(
        gvisor(
            "socketpair",
            &[
                ("domain", Sym("AF_INET")),
                ("type", Sym("SOCK_STREAM")),
                ("protocol", Int(0))
            ]
        ),
        fails("gvisor.socket.inet-pair", "ESOCKTNOSUPPORT")
    );
}

#[test]
fn ioctl_requests_by_file_kind() {
    let ioctl = |request| gvisor("ioctl", &[("request", Sym(request))]);
    assert_eq!(ioctl("TCGETS"), works("gvisor.ioctl.tty"));
    assert_eq!(ioctl("TIOCGWINSZ"), works("gvisor.ioctl.tty"));
    assert_eq!(
        ioctl("TIOCSTI"),
        fails("gvisor.ioctl.tty-unsupported", "ENOTTY")
    );
    assert_eq!(ioctl("FIOCLEX"), works("gvisor.ioctl.generic"));
    assert_eq!(ioctl("SIOCGIFCONF"), works("gvisor.ioctl.socket-query"));
    assert_eq!(
        ioctl("SIOCSIFFLAGS"),
        fails("gvisor.ioctl.socket-config", "ENOTTY")
    );
    assert_eq!(
        ioctl("SIOCETHTOOL"),
        fails("gvisor.ioctl.ethtool", "EOPNOTSUPP")
    );
    assert_eq!(
        ioctl("FICLONE"),
        fails("gvisor.ioctl.reflink", "EOPNOTSUPP")
    );
    // Only the low 32 bits are captured; an unknown request is left to the syscall's
    // overall support.
    assert_eq!(gvisor("ioctl", &[("request", Int(0xdead_beef))]), None);
}

#[test]
fn sockopts_by_level_and_option() {
    let set = |level, option| {
        gvisor(
            "setsockopt",
            &[("level", Sym(level)), ("optname", Sym(option))],
        )
    };
    let get = |level, option| {
        gvisor(
            "getsockopt",
            &[("level", Sym(level)), ("optname", Sym(option))],
        )
    };
    assert_eq!(set("SOL_TCP", "TCP_NODELAY"), works("gvisor.sockopt.tcp"));
    assert_eq!(
        set("SOL_SOCKET", "SO_ATTACH_FILTER"),
        outcome("gvisor.sockopt.socket-filter", Outcome::Ignored)
    );
    assert_eq!(
        set("SOL_TCP", "TCP_ULP"),
        outcome("gvisor.sockopt.tcp-ulp", Outcome::Ignored)
    );
    assert_eq!(
        set("SOL_IP", "IP_TRANSPARENT"),
        outcome("gvisor.sockopt.ip-set-ignored", Outcome::Ignored)
    );
    assert_eq!(
        set("SOL_TLS", "TLS_TX"),
        outcome("gvisor.sockopt.tls", Outcome::Ignored)
    );
    assert_eq!(
        get("SOL_SOCKET", "SO_TYPE"),
        works("gvisor.sockopt.socket-get")
    );
    assert_eq!(
        get("SOL_SOCKET", "SO_PEERSEC"),
        fails("gvisor.sockopt.socket-get-unsupported", "ENOPROTOOPT")
    );
    // Option numbers repeat across levels: 1 is TCP_NODELAY at SOL_TCP and IP_TOS at
    // SOL_IP, and each level's rule decides.
    assert_eq!(
        gvisor(
            "getsockopt",
            &[("level", Sym("SOL_IP")), ("optname", Int(1))]
        ),
        works("gvisor.sockopt.ip")
    );
}

#[test]
fn prctl_and_arch_prctl_options() {
    let prctl = |option| gvisor("prctl", &[("option", Sym(option))]);
    assert_eq!(prctl("PR_SET_NAME"), works("gvisor.prctl.supported"));
    assert_eq!(
        prctl("PR_SET_NO_NEW_PRIVS"),
        works("gvisor.prctl.supported")
    );
    assert_eq!(
        prctl("PR_SET_TIMERSLACK"),
        fails("gvisor.prctl.unimplemented-event", "EINVAL")
    );
    assert_eq!(
        prctl("PR_SET_MM"),
        outcome("gvisor.prctl.set-mm", Outcome::Degraded)
    );
    let arch = |code| gvisor("arch_prctl", &[("code", Sym(code))]);
    assert_eq!(arch("ARCH_SET_FS"), works("gvisor.arch_prctl.fs"));
    assert_eq!(arch("ARCH_SET_GS"), fails("gvisor.arch_prctl.gs", "EINVAL"));
    assert_eq!(
        arch("ARCH_REQ_XCOMP_PERM"),
        fails("gvisor.arch_prctl.other", "EINVAL")
    );
    // The tagged-address ABI is an arm64 rule only.
    let tagged = fields(
        Arch::Aarch64,
        "prctl",
        &[("option", Sym("PR_SET_TAGGED_ADDR_CTRL"))],
    );
    let db = Database::get();
    let ids = |arch| -> Vec<&str> {
        db.matching_rules(Runtime::Gvisor, arch, "prctl", &tagged)
            .iter()
            .map(|r| r.id.as_str())
            .collect()
    };
    assert_eq!(ids(Arch::Aarch64), ["gvisor.prctl.tagged-addr"]);
    assert_eq!(ids(Arch::X86_64), Vec::<&str>::new());
}

#[test]
fn ptrace_requests() {
    let ptrace = |request| gvisor("ptrace", &[("request", Sym(request))]);
    assert_eq!(ptrace("PTRACE_TRACEME"), works("gvisor.ptrace.supported"));
    assert_eq!(ptrace("PTRACE_SEIZE"), works("gvisor.ptrace.supported"));
    assert_eq!(
        ptrace("PTRACE_GETREGS"),
        works("gvisor.ptrace.supported-x86")
    );
    assert_eq!(
        ptrace("PTRACE_GET_SYSCALL_INFO"),
        fails("gvisor.ptrace.syscall-info", "EIO")
    );
    assert_eq!(
        ptrace("PTRACE_PEEKSIGINFO"),
        fails("gvisor.ptrace.unsupported", "EIO")
    );
    assert_eq!(
        ptrace("PTRACE_ARCH_PRCTL"),
        fails("gvisor.ptrace.unsupported-x86", "EIO")
    );
}

#[test]
fn namespace_flags() {
    assert_eq!(
        gvisor("clone", &[("flags", Sym("CLONE_VM|CLONE_THREAD"))]),
        works("gvisor.namespaces.plain")
    );
    assert_eq!(
        gvisor("clone", &[("flags", Sym("CLONE_NEWNET"))]),
        works("gvisor.namespaces.new")
    );
    assert_eq!(
        gvisor("unshare", &[("flags", Sym("CLONE_NEWUSER|CLONE_NEWNS"))]),
        works("gvisor.namespaces.new")
    );
    // Refusing rules come before the generic one, so a mix of flags is refused.
    assert_eq!(
        gvisor("clone3", &[("flags", Sym("CLONE_NEWNS|CLONE_NEWCGROUP"))]),
        needs("gvisor.namespaces.cgroup", "EINVAL")
    );
    assert_eq!(
        gvisor("clone3", &[("flags", Sym("CLONE_NEWTIME"))]),
        fails("gvisor.namespaces.time-clone3", "EINVAL")
    );
    assert_eq!(
        gvisor("unshare", &[("flags", Sym("CLONE_NEWTIME"))]),
        outcome("gvisor.namespaces.time-unshare", Outcome::Ignored)
    );
    assert_eq!(
        gvisor("setns", &[("nstype", Sym("CLONE_NEWTIME"))]),
        fails("gvisor.namespaces.setns-time", "EINVAL")
    );
}

#[test]
fn mount_types_and_flags() {
    let mount = |fstype, flags| {
        gvisor(
            "mount",
            &[
                ("target", Str("/mnt")),
                ("fstype", Str(fstype)),
                ("flags", flags),
            ],
        )
    };
    assert_eq!(
        mount("tmpfs", Int(0)),
        works("gvisor.mount.fstype-supported")
    );
    assert_eq!(
        mount("ext4", Int(0)),
        fails("gvisor.mount.fstype-unsupported", "ENODEV")
    );
    assert_eq!(
        mount("cgroup2", Int(0)),
        needs("gvisor.mount.cgroup2", "ENODEV")
    );
    assert_eq!(
        mount("none", Sym("MS_BIND|MS_REC")),
        works("gvisor.mount.bind-remount-move")
    );
    assert_eq!(
        mount("tmpfs", Sym("MS_NODIRATIME")),
        fails("gvisor.mount.flags-refused", "EINVAL")
    );
    assert_eq!(
        gvisor(
            "umount2",
            &[("target", Str("/mnt")), ("flags", Sym("MNT_FORCE"))]
        ),
        fails("gvisor.mount.umount-refused", "EINVAL")
    );
}

#[test]
fn madvise_advice() {
    let advise = |advice| gvisor("madvise", &[("advice", Sym(advice))]);
    assert_eq!(advise("MADV_DONTNEED"), works("gvisor.madvise.supported"));
    assert_eq!(
        advise("MADV_HUGEPAGE"),
        outcome("gvisor.madvise.ignored", Outcome::Ignored)
    );
    assert_eq!(
        advise("MADV_FREE"),
        fails("gvisor.madvise.unsupported-hint", "EINVAL")
    );
    assert_eq!(
        advise("MADV_GUARD_INSTALL"),
        fails("gvisor.madvise.unsupported", "EINVAL")
    );
    assert_eq!(
        advise("MADV_REMOVE"),
        fails("gvisor.madvise.remove", "ENOSYS")
    );
}

#[test]
fn proc_paths() {
    let open = |path| gvisor("openat", &[("path", Str(path))]);
    assert_eq!(
        open("/proc/#/smaps_rollup"),
        fails("gvisor.proc.pid-memory-introspection", "ENOENT")
    );
    assert_eq!(open("/proc/self/status"), works("gvisor.proc.pid-files"));
    assert_eq!(open("/proc/#/task/#/stat"), works("gvisor.proc.pid-files"));
    assert_eq!(
        open("/proc/thread-self/comm"),
        works("gvisor.proc.pid-files")
    );
    assert_eq!(open("/proc/self/fd/#"), works("gvisor.proc.pid-links"));
    assert_eq!(
        open("/proc/self/loginuid"),
        fails("gvisor.proc.pid-audit", "ENOENT")
    );
    assert_eq!(
        open("/proc/self/wchan"),
        fails("gvisor.proc.pid-scheduling", "ENOENT")
    );
    assert_eq!(
        open("/proc/#/no-such-file"),
        fails("gvisor.proc.pid-other", "ENOENT")
    );
    assert_eq!(open("/proc/cpuinfo"), works("gvisor.proc.global"));
    assert_eq!(open("/proc/net/tcp6"), works("gvisor.proc.net-files"));
    assert_eq!(
        open("/proc/self/net/udp6"),
        outcome("gvisor.proc.net-static", Outcome::Degraded)
    );
    assert_eq!(
        open("/proc/kallsyms"),
        fails("gvisor.proc.kernel-introspection", "ENOENT")
    );
    assert_eq!(
        open("/proc/pressure/memory"),
        fails("gvisor.proc.statistics", "ENOENT")
    );
    assert_eq!(
        open("/proc/sys/kernel/hostname"),
        works("gvisor.proc.sys-implemented")
    );
    assert_eq!(
        open("/proc/sys/net/core/somaxconn"),
        outcome("gvisor.proc.sys-static", Outcome::Degraded)
    );
    assert_eq!(
        open("/proc/sys/fs/inotify/max_user_watches"),
        fails("gvisor.proc.sys-inotify", "ENOENT")
    );
    assert_eq!(
        open("/proc/sys/kernel/no-such-setting"),
        fails("gvisor.proc.sys-other", "ENOENT")
    );
    assert_eq!(
        open("/proc/driver/nvidia/version"),
        needs("gvisor.proc.driver", "ENOENT")
    );
    // The same path rules apply to every lookup syscall.
    assert_eq!(
        gvisor("faccessat2", &[("path", Str("/proc/kcore"))]),
        fails("gvisor.proc.kernel-introspection", "ENOENT")
    );
}

#[test]
fn sys_paths() {
    let open = |path| gvisor("openat", &[("path", Str(path))]);
    assert_eq!(
        open("/sys/devices/system/cpu/online"),
        works("gvisor.sys.cpu")
    );
    assert_eq!(
        open("/sys/devices/system/cpu/cpu3/topology/core_cpus"),
        works("gvisor.sys.cpu")
    );
    assert_eq!(
        open("/sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq"),
        outcome("gvisor.sys.cpu-frequency", Outcome::Degraded)
    );
    assert_eq!(
        open("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size"),
        outcome("gvisor.sys.transparent-hugepage", Outcome::Degraded)
    );
    assert_eq!(
        open("/sys/fs/cgroup/memory.max"),
        works("gvisor.sys.cgroup")
    );
    assert_eq!(
        open("/sys/class/net/eth#/address"),
        fails("gvisor.sys.net", "ENOENT")
    );
    assert_eq!(
        open("/sys/kernel/debug/tracing/trace_pipe"),
        fails("gvisor.sys.kernel-debug", "ENOENT")
    );
    assert_eq!(
        open("/sys/module/nf_conntrack/parameters/hashsize"),
        fails("gvisor.sys.other", "ENOENT")
    );
}

#[test]
fn dev_paths() {
    let open = |path| gvisor("openat", &[("path", Str(path))]);
    assert_eq!(open("/dev/null"), works("gvisor.dev.standard"));
    assert_eq!(open("/dev/pts/#"), works("gvisor.dev.standard"));
    assert_eq!(open("/dev/shm/sem.lock"), works("gvisor.dev.standard"));
    assert_eq!(open("/dev/net/tun"), works("gvisor.dev.tun"));
    assert_eq!(open("/dev/kvm"), fails("gvisor.dev.kvm", "ENOENT"));
    assert_eq!(open("/dev/nvidiactl"), needs("gvisor.dev.nvidia", "ENOENT"));
    assert_eq!(
        open("/dev/nvidia-uvm"),
        needs("gvisor.dev.nvidia", "ENOENT")
    );
    assert_eq!(
        open("/dev/kmsg"),
        fails("gvisor.dev.kernel-memory", "ENOENT")
    );
    assert_eq!(open("/dev/loop#"), fails("gvisor.dev.block", "ENOENT"));
    // /dev has no catch-all: a path no rule names is left unjudged.
    assert_eq!(open("/dev/termination-log.d/x"), None);
}

#[test]
fn kernel_facilities() {
    assert_eq!(
        gvisor(
            "bpf",
            &[
                ("cmd", Sym("BPF_PROG_LOAD")),
                ("prog_type", Sym("BPF_PROG_TYPE_CGROUP_DEVICE"))
            ]
        ),
        outcome("gvisor.bpf.cgroup-device", Outcome::Degraded)
    );
    assert_eq!(
        gvisor(
            "bpf",
            &[
                ("cmd", Sym("BPF_PROG_LOAD")),
                ("prog_type", Sym("BPF_PROG_TYPE_XDP"))
            ]
        ),
        fails("gvisor.bpf.prog-load", "EINVAL")
    );
    assert_eq!(
        gvisor(
            "bpf",
            &[("cmd", Sym("BPF_MAP_CREATE")), ("prog_type", Int(1))]
        ),
        fails("gvisor.bpf.unsupported", "EINVAL")
    );
    assert_eq!(
        gvisor("io_uring_setup", &[("flags", Int(0))]),
        needs("gvisor.io_uring.setup", "ENOSYS")
    );
    assert_eq!(
        gvisor("io_uring_setup", &[("flags", Sym("IORING_SETUP_SQPOLL"))]),
        fails("gvisor.io_uring.setup-flags", "ENOSYS")
    );
    assert_eq!(
        gvisor("keyctl", &[("operation", Sym("KEYCTL_READ"))]),
        fails("gvisor.keyctl.unsupported", "ENOSYS")
    );
    assert_eq!(
        gvisor(
            "seccomp",
            &[
                ("operation", Sym("SECCOMP_SET_MODE_FILTER")),
                ("flags", Sym("SECCOMP_FILTER_FLAG_NEW_LISTENER"))
            ]
        ),
        fails("gvisor.seccomp.filter-flags", "EINVAL")
    );
    assert_eq!(
        gvisor(
            "seccomp",
            &[
                ("operation", Sym("SECCOMP_SET_MODE_FILTER")),
                ("flags", Sym("SECCOMP_FILTER_FLAG_TSYNC"))
            ]
        ),
        works("gvisor.seccomp.filter")
    );
    assert_eq!(
        gvisor("personality", &[("persona", Int(0xffff_ffff))]),
        works("gvisor.personality.query")
    );
    assert_eq!(
        gvisor("personality", &[("persona", Sym("ADDR_NO_RANDOMIZE"))]),
        fails("gvisor.personality.no-randomize", "EINVAL")
    );
    assert_eq!(
        gvisor("personality", &[("persona", Sym("READ_IMPLIES_EXEC"))]),
        fails("gvisor.personality.flags", "EINVAL")
    );
    assert_eq!(
        gvisor("fcntl", &[("cmd", Sym("F_SETLEASE"))]),
        fails("gvisor.fcntl.unsupported", "EINVAL")
    );
    assert_eq!(
        gvisor(
            "memfd_create",
            &[("flags", Sym("MFD_CLOEXEC|MFD_NOEXEC_SEAL"))]
        ),
        fails("gvisor.syscall.memfd-flags", "EINVAL")
    );
    // A rule without conditions decides calls whose arguments were not captured.
    assert_eq!(
        gvisor("inotify_add_watch", &[]),
        outcome("gvisor.syscall.inotify-external-changes", Outcome::Degraded)
    );
}

#[test]
fn kata_rules() {
    let kata = |syscall, pairs: &[(&str, Val)]| decide(Runtime::Kata, Arch::X86_64, syscall, pairs);
    assert_eq!(
        kata("openat", &[("path", Str("/dev/kvm"))]),
        needs("kata.dev-kvm", "ENOENT")
    );
    assert_eq!(kata("finit_module", &[]), needs("kata.modules", "ENOSYS"));
    assert_eq!(
        kata("perf_event_open", &[("type", Sym("PERF_TYPE_HARDWARE"))]),
        needs("kata.perf-hardware", "ENOENT")
    );
    assert_eq!(
        kata("perf_event_open", &[("type", Sym("PERF_TYPE_SOFTWARE"))]),
        None
    );
    assert_eq!(
        kata(
            "bpf",
            &[
                ("cmd", Sym("BPF_PROG_LOAD")),
                ("prog_type", Sym("BPF_PROG_TYPE_KPROBE"))
            ]
        ),
        needs("kata.bpf-tracing", "EINVAL")
    );
    // gVisor's rules never decide for Kata.
    assert_eq!(
        kata("openat", &[("path", Str("/proc/self/loginuid"))]),
        None
    );
}

#[test]
fn kata_facts_name_their_remediations() {
    let db = Database::get();
    let remediations = |id: &str| -> Vec<String> {
        db.kata_fact(id)
            .unwrap_or_else(|| panic!("no fact `{id}`"))
            .remediations
            .clone()
    };
    // The pod-spec audit looks these ids up.
    for id in [
        "kata.host-network",
        "kata.host-pid",
        "kata.host-ipc",
        "kata.host-path",
        "kata.sub-path",
        "kata.privileged",
        "kata.devices",
    ] {
        assert!(db.kata_fact(id).is_some(), "{id}");
    }
    assert_eq!(
        remediations("kata.inotify"),
        ["kata.watchable-config", "other.runc"]
    );
    assert_eq!(
        remediations("kata.perf"),
        ["kata.guest-pmu", "kata.annotation-cpu-features"]
    );
    assert_eq!(
        db.kata_fact("kata.kernel-modules").unwrap().syscalls,
        ["init_module", "finit_module", "delete_module"]
    );
}

#[test]
fn rule_ids_and_notes_are_distinct() {
    // Each rule says something of its own, and its id names the runtime it describes.
    let db = Database::get();
    let mut notes = std::collections::HashSet::new();
    for rule in db.rules() {
        assert!(
            notes.insert(rule.note.as_str()),
            "note repeated by `{}`",
            rule.id
        );
        assert!(
            rule.id.starts_with(&format!("{}.", rule.runtime)),
            "`{}` does not start with its runtime",
            rule.id
        );
    }
}
