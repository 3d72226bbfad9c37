use syscall_db::messages::{Captures, MessageCatalogue};

use super::*;

fn own(text: &[u8]) -> Option<Message<'_>> {
    classify(text, false, MessageCatalogue::get())
}

fn catalogued(text: &[u8], task: bool) -> Option<(String, Vec<(String, String)>)> {
    let catalogue = MessageCatalogue::get();
    match classify(text, task, catalogue)? {
        Message::Catalogued { message, captures } => Some((
            catalogue.messages()[message].id.clone(),
            captures
                .iter()
                .map(|(n, v)| (n.to_owned(), v.to_owned()))
                .collect(),
        )),
        other => panic!("not catalogued: {other:?}"),
    }
}

fn args(values: [u64; 6], count: u8) -> ShownArgs {
    ShownArgs { values, count }
}

#[test]
fn unsupported_syscall_current_wording() {
    assert_eq!(
        own(b"Unsupported syscall ioctl(0x3,0x5413,0x7ffc0,0x0,0x0,0x0). It is likely that you can safely ignore this message and that this is not the cause of any error. Please, refer to https://gvisor.dev/c/linux/amd64/ioctl for more information."),
        Some(Message::UnsupportedSyscall {
            name: SyscallName::Named(b"ioctl"),
            args: args([3, 0x5413, 0x7ffc0, 0, 0, 0], 6),
        })
    );
    assert_eq!(
        own(b"Container Sandbox: Unsupported syscall sys_451(0x0,0x0,0x0,0x0,0x0,0x0). It is likely ..."),
        Some(Message::UnsupportedSyscall {
            name: SyscallName::Number(451),
            args: args([0; 6], 6),
        })
    );
}

#[test]
fn unsupported_syscall_cut_short_or_unnamed_as_cloud_run_shows_it() {
    assert_eq!(
        own("Container Sandbox: Unsupported syscall setsockopt(0x12e,0x1,0xd,…".as_bytes()),
        Some(Message::UnsupportedSyscall {
            name: SyscallName::Named(b"setsockopt"),
            args: args([0x12e, 1, 0xd, 0, 0, 0], 3),
        })
    );
    assert_eq!(
        own("Container Sandbox: Unsupported syscall UNKNOWN[435/0x1b3](0x7ffd1c,0x58,…".as_bytes()),
        Some(Message::UnsupportedSyscall {
            name: SyscallName::Number(435),
            args: args([0x7ffd1c, 0x58, 0, 0, 0, 0], 2),
        })
    );
    assert_eq!(own(b"Unsupported syscall UNKNOWN[435/0x1b4](0x0)"), None);
}

#[test]
fn unsupported_syscall_legacy_wording() {
    assert_eq!(
        own(b"Unsupported syscall: prctl, regs: arch:<amd64:<rax:18446744073709551578 rdi:38 rsi:1 orig_rax:157 rip:4198400 > > "),
        Some(Message::UnsupportedSyscall {
            name: SyscallName::Named(b"prctl"),
            args: args([38, 1, 0, 0, 0, 0], 6),
        })
    );
    assert_eq!(
        own(b"Unsupported syscall: keyctl, regs: arch:<arm64:<regs:1 regs:0 regs:7 regs:0 regs:0 regs:0 regs:9 pc:1 > > "),
        Some(Message::UnsupportedSyscall {
            name: SyscallName::Named(b"keyctl"),
            args: args([1, 0, 7, 0, 0, 0], 6),
        })
    );
    assert_eq!(
        own(b"Unsupported syscall: bpf, regs: <nil>"),
        Some(Message::UnsupportedSyscall {
            name: SyscallName::Named(b"bpf"),
            args: ShownArgs::default(),
        })
    );
}

#[test]
fn catalogued_families_in_every_wording() {
    let pairs = |p: &[(&str, &str)]| -> Vec<(String, String)> {
        p.iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    };
    assert_eq!(
        catalogued(b"A process tried to create a raw socket, but --net-raw was not specified. Should runsc be run with --net-raw?", false),
        Some(("socket.raw-needs-net-raw".to_owned(), pairs(&[])))
    );
    assert_eq!(
        catalogued(b"A process tried to create a raw socket without CAP_NET_RAW. Should the container config enable CAP_NET_RAW?", true),
        Some(("socket.raw-needs-cap-net-raw".to_owned(), pairs(&[])))
    );
    assert_eq!(
        catalogued(b"SOL_IP options not supported on endpoints other than tcpip.Endpoint: option = 19, endpoint = *unix.connectionedEndpoint", false),
        Some(("sockopt.unsupported-endpoint".to_owned(), pairs(&[("level", "IP"), ("option", "19"), ("endpoint", "*unix.connectionedEndpoint")])))
    );
    assert_eq!(
        catalogued(b"ignoring unknown filesystem type \"mqueue\"", false),
        Some((
            "mount.unknown-filesystem-type".to_owned(),
            pairs(&[("fstype", "mqueue")])
        ))
    );
    assert_eq!(
        catalogued(
            b"nvproxy: unknown control command 0x20800a2a (paramsSize=8)",
            true
        ),
        Some((
            "nvproxy.control-command".to_owned(),
            pairs(&[("cmd", "0x20800a2a"), ("size", "8")])
        ))
    );
    assert_eq!(
        catalogued(b"nvproxy: handler is undefined for frontend ioctl 42 == 0x2a (argSize=16, cmd=0xc010462a)", true),
        Some(("nvproxy.frontend-ioctl".to_owned(), pairs(&[("nr", "42"), ("hex", "0x2a"), ("size", "16"), ("cmd", "0xc010462a")])))
    );
    assert_eq!(
        catalogued(b"Error opening /etc/os-release: permission denied", false),
        Some((
            "exec.entrypoint-not-loadable".to_owned(),
            pairs(&[("path", "/etc/os-release"), ("reason", "permission denied")])
        ))
    );
    assert_eq!(catalogued(b"Some other message", false), None);
}

#[test]
fn signals_in_every_wording() {
    assert_eq!(
        own(b"Signal 11, PID: 7, TID: 8, fault addr: 0x0: terminating thread group"),
        Some(Message::Signal {
            signal: 11,
            pid: Some(7),
            tid: Some(8)
        })
    );
    assert_eq!(
        own(b"Signal 9: terminating thread group"),
        Some(Message::Signal {
            signal: 9,
            pid: None,
            tid: None
        })
    );
    assert_eq!(
        own(b"Uncaught signal: \"segmentation fault\" (11), PID: 7, TID: 8, fault addr: 0x10"),
        Some(Message::Signal {
            signal: 11,
            pid: Some(7),
            tid: Some(8)
        })
    );
    assert_eq!(own(b"Signal 9: ignored"), None);
}

#[test]
fn exits_in_every_wording() {
    let app = |status| {
        Some(Message::Exit {
            status,
            scope: ExitScope::Application,
        })
    };
    assert_eq!(
        own(b"application exiting with exit status 3"),
        app(ExitStatus::Code(3))
    );
    assert_eq!(
        own(b"application exiting with killed by signal 11 (core dumped)"),
        app(ExitStatus::Signal {
            signal: 11,
            core: true
        })
    );
    assert_eq!(
        own(b"application exiting with {Code:1 Signo:0}"),
        app(ExitStatus::Code(1))
    );
    assert_eq!(
        own(b"application exiting with {Code:0 Signo:9}"),
        app(ExitStatus::Signal {
            signal: 9,
            core: false
        })
    );
    assert_eq!(
        own(b"Exiting with status: 256"),
        Some(Message::Exit {
            status: ExitStatus::Code(1),
            scope: ExitScope::Command
        })
    );
    assert_eq!(
        own(b"Exiting with status: 139"),
        Some(Message::Exit {
            status: ExitStatus::Signal {
                signal: 11,
                core: true
            },
            scope: ExitScope::Command
        })
    );
}

#[test]
fn headers_in_both_layouts_and_fatal_errors() {
    assert_eq!(
        own(b"Args: [/usr/bin/runsc --root /run/runsc --debug=true --strace boot --bundle=/b --pidns=true 0123abcd]"),
        Some(Message::Args {
            command: Some(b"boot")
        })
    );
    assert_eq!(
        own(b"Version release-20240101.0, go1.22.0, amd64, 8 CPUs, linux, PID 42, PPID 1, UID 0, GID 0"),
        Some(Message::Version {
            version: b"release-20240101.0",
            goarch: Some(b"amd64")
        })
    );
    assert_eq!(
        own(b"Version 0.0~20221219.0"),
        Some(Message::Version {
            version: b"0.0~20221219.0",
            goarch: None
        })
    );
    assert_eq!(own(b"GOARCH: arm64"), Some(Message::Goarch(b"arm64")));
    assert_eq!(
        own(b"\t\tPlatform: ptrace"),
        Some(Message::Platform(b"ptrace"))
    );
    assert_eq!(
        own(b"\t\tNetwork: none, logging: false"),
        Some(Message::Network(b"none"))
    );
    assert_eq!(
        own(b"FATAL ERROR: running sandbox: boom"),
        Some(Message::FatalError)
    );
    assert_eq!(
        classify(b"x", false, MessageCatalogue::get()).map(|_| Captures::default()),
        None
    );
}

#[test]
fn runtime_lines_start_dumps_and_nothing_else_does() {
    assert_eq!(
        runtime_line(b"panic: runtime error: index out of range [3] with length 3"),
        Some(RuntimeLine::Panic)
    );
    assert_eq!(
        runtime_line(b"fatal error: concurrent map writes"),
        Some(RuntimeLine::Fatal)
    );
    assert_eq!(
        runtime_line(b"SIGSYS: bad system call"),
        Some(RuntimeLine::Fatal)
    );
    assert_eq!(
        runtime_line(b"goroutine 1 [running]:"),
        Some(RuntimeLine::Goroutine)
    );
    for not_a_start in [
        &b"gvisor.dev/gvisor/pkg/sentry/kernel.(*Task).run(0xc000, 0x1)"[..],
        b"\tpkg/sentry/kernel/task_run.go:97 +0x1c",
        b"\tx:y",
        b"[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x0]",
        b"goroutine x [running]:",
        b"SIG: x",
        b"SIGSEGV:x",
        b"hello world",
    ] {
        assert_eq!(runtime_line(not_a_start), None);
    }
}
