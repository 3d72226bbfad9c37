//! Data integrity: complete tables, and bad data rejected with the file, item and
//! problem named.

use syscall_db::{Arch, Database, Error, Problem, Sources};

#[test]
fn tables_are_complete() {
    let db = Database::get();
    // Numbers with no syscall in Linux 6.18: x86_64 337..=423 (reserved to align with
    // the generic table); arm64 244..=259 (arch-private range arm64 does not use) and
    // 295..=423; i386 222, 223, 251, 285, 387..=392 and 415.
    let gaps = |arch: Arch| -> Vec<u32> {
        let numbers: Vec<u32> = db.syscalls(arch).iter().map(|s| s.number).collect();
        (0..=*numbers.last().unwrap())
            .filter(|n| !numbers.contains(n))
            .collect()
    };
    assert_eq!(gaps(Arch::X86_64), (337..=423).collect::<Vec<_>>());
    assert_eq!(
        gaps(Arch::Aarch64),
        (244..=259).chain(295..=423).collect::<Vec<_>>()
    );
    assert_eq!(
        gaps(Arch::I386),
        [222, 223, 251, 285, 387, 388, 389, 390, 391, 392, 415]
    );
    assert_eq!(
        db.syscalls(Arch::X86_64).last().unwrap().name,
        "file_setattr"
    );
    for arch in Arch::NATIVE {
        assert_eq!(db.gvisor_table(arch).len(), db.syscalls(arch).len());
        for s in db.syscalls(arch) {
            assert_eq!(db.gvisor(arch, &s.name).unwrap().number, s.number);
        }
    }
    assert_eq!(db.gvisor_table(Arch::I386).len(), 0);
}

fn problems(sources: Sources) -> Vec<Problem> {
    match Database::from_sources(&sources) {
        Err(Error::Invalid { problems }) => problems,
        Err(other) => panic!("expected invalid data, got: {other}"),
        Ok(_) => panic!("bad data was accepted"),
    }
}

fn rule_file(rule: &str) -> String {
    format!(
        "[provenance]\ntable = \"rules-test\"\nproject = \"google/gvisor\"\nrevision = \"x\"\npaths = [\"a.go\"]\ndate = \"2026-01-01\"\nmaintained = \"curated\"\n\n[[rule]]\n{rule}\nsources = [{{ path = \"a.go\" }}]\n"
    )
}

#[test]
fn dangling_references_are_reported() {
    let rule = rule_file(
        "id = \"t.bad\"\nruntime = \"gvisor\"\ncategory = \"socket\"\nsyscalls = [\"sockett\"]\noutcome = { kind = \"fails\", errno = \"ENOPE\" }\nremediations = [\"runsc.nope\"]\nnote = \"n\"",
    );
    let found = problems(Sources::embedded().with_file("rules/test.toml", rule));
    let messages: Vec<String> = found.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        [
            "`rules/test.toml`: rule `t.bad`: unknown errno `ENOPE`",
            "`rules/test.toml`: rule `t.bad`: unknown remediation `runsc.nope`",
            "`rules/test.toml`: rule `t.bad`: unknown syscall `sockett` (nearest: socket)",
        ]
    );
}

#[test]
fn conditions_must_name_captured_fields_and_known_constants() {
    let rule = rule_file(
        "id = \"t.cond\"\nruntime = \"gvisor\"\ncategory = \"socket\"\nsyscalls = [\"socket\"]\nwhen = { domain = { eq = \"AF_NOPE\" }, flavour = { eq = 1 } }\noutcome = { kind = \"works\" }\nnote = \"n\"",
    );
    let messages: Vec<String> = problems(Sources::embedded().with_file("rules/test.toml", rule))
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        messages,
        [
            "`rules/test.toml`: rule `t.cond`: `AF_NOPE` is not a x86_64 constant (field `socket.domain`)",
            "`rules/test.toml`: rule `t.cond`: `AF_NOPE` is not a aarch64 constant (field `socket.domain`)",
            "`rules/test.toml`: rule `t.cond`: `socket` has no captured field `flavour` (see captures.toml)",
        ]
    );
}

#[test]
fn captures_respect_the_probe_limits() {
    let captures = Sources::embedded()
        .text("captures.toml")
        .unwrap()
        .to_owned()
        + "\n[[capture]]\nsyscall = \"quotactl\"\nfields = [\n  { name = \"a\", arg = 0, kind = \"user_path\" },\n  { name = \"b\", arg = 1, kind = \"user_path\" },\n  { name = \"c\", arg = 2, kind = \"user_str\" },\n  { name = \"d\", arg = 6, kind = \"arg\" },\n  { name = \"e\", arg = 4, kind = \"arg\" },\n]\n";
    let messages: Vec<String> = problems(Sources::embedded().with_file("captures.toml", captures))
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        messages,
        [
            "`captures.toml`: capture `quotactl`: 5 fields: between 1 and 4 allowed",
            "`captures.toml`: capture `quotactl`: 3 string fields: at most 2 allowed",
            "`captures.toml`: capture `quotactl`, field `d`: arg 6 is not 0 to 5",
        ]
    );
}

#[test]
fn parse_errors_name_the_file_and_line() {
    let err = Database::from_sources(
        &Sources::embedded().with_file("kata.toml", "[provenance]\ntable = 1\n"),
    )
    .unwrap_err();
    assert_eq!(err.to_string(), "failed to parse `kata.toml`");
    let source = std::error::Error::source(&err).unwrap().to_string();
    assert!(
        source.starts_with("TOML parse error at line 2, column 9"),
        "{source}"
    );
    let missing = Database::from_sources(&Sources::embedded().without_file("gvisor/aarch64.toml"))
        .unwrap_err();
    assert_eq!(
        missing.to_string(),
        "data file `gvisor/aarch64.toml` is missing"
    );
    let stray =
        Database::from_sources(&Sources::embedded().with_file("notes.txt", "")).unwrap_err();
    assert!(stray
        .to_string()
        .starts_with("unexpected data file `notes.txt`"));
}

#[test]
fn unknown_syscalls_suggest_the_nearest_names() {
    let db = Database::get();
    let err = db.resolve_syscall(Arch::X86_64, "opena").unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown syscall `opena` on x86_64 (nearest: `open`, `openat`, `openat2`)"
    );
    let err = db.resolve_syscall(Arch::X86_64, "400").unwrap_err();
    assert_eq!(err.to_string(), "no syscall has number 400 on x86_64 (nearest: `424 = pidfd_send_signal`, `425 = io_uring_setup`, `426 = io_uring_enter`)");
    assert_eq!(
        db.resolve_syscall(Arch::Aarch64, "sys_openat")
            .unwrap()
            .number,
        56
    );
}

#[test]
fn rules_must_fit_their_runtime_provenance_and_the_tracer() {
    let rule = rule_file(
        "id = \"t.paths\"\nruntime = \"gvisor\"\ncategory = \"proc-path\"\nsyscalls = [\"openat\"]\nwhen = { path = { glob = \"/proc/1/{status,/etc/passwd}\" } }\noutcome = { kind = \"fails\", errno = \"ENOENT\" }\nremediations = [\"other.runc\"]\nnote = \"n\"",
    )
    .replace("sources = [{ path = \"a.go\" }]", "sources = [{ path = \"b.go\" }]");
    let messages: Vec<String> = problems(Sources::embedded().with_file("rules/test.toml", rule))
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        messages,
        [
            "`rules/test.toml`: rule `t.paths`: unknown category `proc-path` (known: syscall, socket, ioctl, sockopt, mount, ptrace, prctl, arch_prctl, namespaces, device, bpf, perf, io_uring, keyctl, seccomp, madvise, fcntl, personality, proc_path, sys_path, dev_path)",
            "`rules/test.toml`: rule `t.paths`: remediation `other.runc` is for kata, not gvisor",
            "`rules/test.toml`: rule `t.paths`: path `/proc/1/{status,/etc/passwd}` has a numeric component: the tracer folds numbers to `#`",
            "`rules/test.toml`: rule `t.paths`: source `b.go` is not among the paths of its table's provenance",
        ]
    );
    let outside = rule_file(
        "id = \"t.outside\"\nruntime = \"gvisor\"\ncategory = \"proc_path\"\nsyscalls = [\"openat\"]\nwhen = { path = { prefix = \"/etc/\" } }\noutcome = { kind = \"works\" }\nnote = \"n\"",
    );
    let messages: Vec<String> = problems(Sources::embedded().with_file("rules/test.toml", outside))
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        messages,
        ["`rules/test.toml`: rule `t.outside`: path `/etc/` is outside /proc, /sys, /dev: the tracer keeps no such path"]
    );
}

#[test]
fn capture_masks_name_known_constants() {
    let captures = Sources::embedded()
        .text("captures.toml")
        .unwrap()
        .replace("CLONE_NEWNS|CLONE_NEWCGROUP|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWUSER|CLONE_NEWPID|CLONE_NEWNET|CLONE_THREAD|CLONE_VM|CLONE_VFORK\"", "CLONE_NEWNS|CLONE_NEWSPACE\"");
    let messages: Vec<String> = problems(Sources::embedded().with_file("captures.toml", captures))
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        messages,
        ["`captures.toml`: capture `clone`, field `flags`: mask names `CLONE_NEWSPACE`, which is not a constant"]
    );
}

#[test]
fn field_namings_select_groups_by_the_other_field() {
    use syscall_db::{FieldValue, FieldValues};
    let db = Database::get();
    let fields = |pairs: &[(&str, u64)]| -> FieldValues {
        pairs
            .iter()
            .map(|&(k, v)| (k.to_owned(), FieldValue::Int(v)))
            .collect()
    };
    let group =
        |syscall, field, values: &FieldValues| db.value_group(Arch::X86_64, syscall, field, values);
    // Option 1 is SO_DEBUG at SOL_SOCKET (1) and TCP_NODELAY at SOL_TCP (6).
    let socket_level = fields(&[("level", 1), ("optname", 1)]);
    let tcp_level = fields(&[("level", 6), ("optname", 1)]);
    assert_eq!(
        group("setsockopt", "optname", &socket_level),
        Some("sol_socket")
    );
    assert_eq!(group("getsockopt", "optname", &tcp_level), Some("sol_tcp"));
    // A level no naming lists, and a field named by no other: their own groups.
    assert_eq!(
        group(
            "setsockopt",
            "optname",
            &fields(&[("level", 263), ("optname", 1)])
        ),
        None
    );
    assert_eq!(
        group("setsockopt", "level", &tcp_level),
        Some("sockopt_level")
    );
    // Protocol 0 is IPPROTO_IP for AF_INET and NETLINK_ROUTE for AF_NETLINK.
    assert_eq!(
        group(
            "socket",
            "protocol",
            &fields(&[("domain", 2), ("protocol", 0)])
        ),
        Some("ipproto")
    );
    assert_eq!(
        group(
            "socket",
            "protocol",
            &fields(&[("domain", 16), ("protocol", 0)])
        ),
        Some("netlink_protocol")
    );
}

#[test]
fn field_namings_name_captured_fields_and_known_groups() {
    let captures = Sources::embedded().text("captures.toml").unwrap().to_owned()
        + "\n[[naming]]\nsyscalls = [\"setsockopt\", \"sysinfo\"]\nfield = \"optval\"\nby = \"level\"\ngroups = { SOL_NOPE = \"sol_tcp\", SOL_TCP = \"sol_nope\" }\n";
    let messages: Vec<String> = problems(Sources::embedded().with_file("captures.toml", captures))
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        messages,
        [
            "`captures.toml`: naming of `optval` by `level`: `setsockopt` has no captured field `optval`",
            "`captures.toml`: naming of `optval` by `level`: `SOL_NOPE` is not a constant of group `sockopt_level`",
            "`captures.toml`: naming of `optval` by `level`: `sysinfo` is not captured",
            "`captures.toml`: naming of `optval` by `level`: unknown constant group `sol_nope`",
        ]
    );
}

#[test]
fn kata_facts_fixed_by_configuration_name_the_configuration() {
    let kata = Sources::embedded().text("kata.toml").unwrap().replacen(
        "severity = \"breaks\"\nremediations = [\"other.runc\"]",
        "severity = \"needs-config\"\nremediations = [\"other.runc\"]",
        1,
    );
    let messages: Vec<String> = problems(Sources::embedded().with_file("kata.toml", kata))
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        messages,
        ["`kata.toml`: fact `kata.join-netns`: needs-config without an annotation, node-config or pod-spec remediation"]
    );
    let kernel_modules = Database::get().kata_fact("kata.kernel-modules").unwrap();
    assert_eq!(
        kernel_modules.severity,
        syscall_db::FactSeverity::NeedsConfig
    );
}

#[test]
fn abi_facts_are_checked_like_the_rest() {
    let abi = Sources::embedded()
        .text("gvisor/abi.toml")
        .unwrap()
        .replace("bits = 32", "bits = 16")
        .replace("errno = \"ENOEXEC\"", "errno = \"ENOEXECUTE\"")
        .replace("\"other.kata\", ", "\"kata.nested-kvm\", ");
    let messages: Vec<String> = problems(Sources::embedded().with_file("gvisor/abi.toml", abi))
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        messages,
        [
            "`gvisor/abi.toml`: abi `gvisor.abi.32-bit`: 16 bits: ELF classes are 32 or 64 bits",
            "`gvisor/abi.toml`: abi `gvisor.abi.32-bit`: unknown errno `ENOEXECUTE`",
            "`gvisor/abi.toml`: abi `gvisor.abi.32-bit`: remediation `kata.nested-kvm` is for kata, not gvisor",
        ]
    );
    let fact = Database::get()
        .abi_fact(syscall_db::Runtime::Gvisor, 32)
        .unwrap();
    assert_eq!(fact.errno, "ENOEXEC");
}
