//! Cross-checks the curated constants against an independent source: the `libc` crate's
//! values for the host arch. Every name listed here must exist in the database with
//! libc's value; a typo in constants.toml or a value copied for the wrong arch fails.
//! Left out: names libc lacks (PER_*, PERF_TYPE_*, AF_MCTP) and the 64-bit clone3 flags,
//! which libc 0.2 declares in a type too narrow for them.

use syscall_db::{Arch, Database};

/// `(group, name, libc value)` for the host arch.
macro_rules! libc_constants {
    ($($group:literal: [$($name:ident),* $(,)?]),* $(,)?) => {
        vec![$($(($group, stringify!($name), libc::$name as i128)),*),*]
    };
}

#[test]
fn constants_agree_with_libc() {
    let Some(arch) = Arch::host() else {
        eprintln!("skipping: the host arch is not one the database knows");
        return;
    };
    let db = Database::get();
    let expected = libc_constants! {
        "signal": [SIGHUP, SIGINT, SIGQUIT, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE, SIGKILL,
                   SIGUSR1, SIGSEGV, SIGUSR2, SIGPIPE, SIGALRM, SIGTERM, SIGSTKFLT, SIGCHLD,
                   SIGCONT, SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU, SIGURG, SIGXCPU, SIGXFSZ,
                   SIGVTALRM, SIGPROF, SIGWINCH, SIGIO, SIGPWR, SIGSYS],
        "errno": [EPERM, ENOENT, EINVAL, ENOTTY, ENOSYS, ENODEV, EIO, EOPNOTSUPP, ENOPROTOOPT,
                  EPROTONOSUPPORT, ESOCKTNOSUPPORT, EAFNOSUPPORT, EACCES, ENXIO, E2BIG],
        "socket_domain": [AF_UNIX, AF_INET, AF_INET6, AF_NETLINK, AF_PACKET, AF_VSOCK, AF_ALG,
                          AF_BLUETOOTH, AF_XDP, AF_CAN, AF_TIPC, AF_KEY],
        "socket_type": [SOCK_STREAM, SOCK_DGRAM, SOCK_RAW, SOCK_SEQPACKET, SOCK_DCCP],
        "ipproto": [IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMPV6, IPPROTO_RAW,
                    IPPROTO_SCTP, IPPROTO_MPTCP, IPPROTO_UDPLITE, IPPROTO_GRE],
        "netlink_protocol": [NETLINK_ROUTE, NETLINK_SOCK_DIAG, NETLINK_AUDIT, NETLINK_NETFILTER,
                             NETLINK_KOBJECT_UEVENT, NETLINK_GENERIC, NETLINK_RDMA],
        "sockopt_level": [SOL_SOCKET, SOL_IP, SOL_TCP, SOL_UDP, SOL_IPV6, SOL_ICMPV6, SOL_PACKET,
                          SOL_NETLINK, SOL_ALG, SOL_TLS, SOL_XDP],
        "sol_socket": [SO_REUSEADDR, SO_TYPE, SO_KEEPALIVE, SO_RCVTIMEO, SO_SNDTIMEO, SO_PEERCRED,
                       SO_BINDTODEVICE, SO_ATTACH_FILTER, SO_TIMESTAMP, SO_TIMESTAMPNS, SO_PEERSEC,
                       SO_MARK, SO_ZEROCOPY, SO_INCOMING_CPU, SO_ATTACH_REUSEPORT_CBPF,
                       SO_BINDTOIFINDEX, SO_PEERGROUPS, SO_BUSY_POLL, SO_TXTIME],
        "sol_tcp": [TCP_NODELAY, TCP_MAXSEG, TCP_CORK, TCP_KEEPIDLE, TCP_INFO, TCP_CONGESTION,
                    TCP_MD5SIG, TCP_USER_TIMEOUT, TCP_FASTOPEN, TCP_NOTSENT_LOWAT, TCP_ULP,
                    TCP_FASTOPEN_CONNECT, TCP_INQ],
        "sol_ip": [IP_TOS, IP_TTL, IP_HDRINCL, IP_PKTINFO, IP_MTU_DISCOVER, IP_RECVERR, IP_MTU,
                   IP_FREEBIND, IP_TRANSPARENT, IP_MULTICAST_IF, IP_ADD_MEMBERSHIP,
                   IP_BIND_ADDRESS_NO_PORT, MCAST_JOIN_GROUP, IP_UNICAST_IF],
        "sol_ipv6": [IPV6_UNICAST_HOPS, IPV6_MULTICAST_IF, IPV6_MULTICAST_HOPS, IPV6_MULTICAST_LOOP,
                     IPV6_V6ONLY, IPV6_RECVPKTINFO, IPV6_PKTINFO, IPV6_TCLASS, IPV6_DONTFRAG,
                     IPV6_TRANSPARENT, IPV6_FREEBIND, IPV6_MTU, IPV6_ADD_MEMBERSHIP],
        "ioctl": [TCGETS, TCSETS, TIOCGWINSZ, TIOCSWINSZ, TIOCSCTTY, TIOCGPGRP, TIOCSTI, TIOCGPTN,
                  TIOCSPTLCK, FIONREAD, FIONBIO, FIOCLEX, FIONCLEX, FIOASYNC, TIOCGSID,
                  SIOCGIFCONF, SIOCGIFFLAGS, SIOCSIFFLAGS, SIOCGIFINDEX, SIOCGIFHWADDR,
                  SIOCETHTOOL, SIOCADDRT, FICLONE, FS_IOC_GETFLAGS, TUNSETIFF],
        "mount_flags": [MS_RDONLY, MS_REMOUNT, MS_BIND, MS_MOVE, MS_REC, MS_NODIRATIME,
                        MS_UNBINDABLE, MS_PRIVATE, MS_SLAVE, MS_SHARED],
        "umount_flags": [MNT_FORCE, MNT_DETACH, MNT_EXPIRE, UMOUNT_NOFOLLOW],
        "clone_flags": [CLONE_VM, CLONE_VFORK, CLONE_THREAD, CLONE_NEWNS, CLONE_NEWCGROUP,
                        CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET,
                        CLONE_NEWTIME, CLONE_SIGHAND],
        "prctl": [PR_SET_PDEATHSIG, PR_SET_NAME, PR_SET_SECCOMP, PR_SET_MM, PR_SET_NO_NEW_PRIVS,
                  PR_SET_TIMERSLACK, PR_SET_THP_DISABLE, PR_CAP_AMBIENT, PR_SET_PTRACER,
                  PR_SET_VMA, PR_SET_CHILD_SUBREAPER, PR_SCHED_CORE],
        "madvise": [MADV_DONTNEED, MADV_FREE, MADV_REMOVE, MADV_HUGEPAGE, MADV_WIPEONFORK,
                    MADV_POPULATE_WRITE, MADV_COLLAPSE, MADV_HWPOISON],
        "personality": [ADDR_NO_RANDOMIZE, READ_IMPLIES_EXEC, ADDR_LIMIT_3GB, UNAME26],
        "seccomp_op": [SECCOMP_SET_MODE_STRICT, SECCOMP_SET_MODE_FILTER, SECCOMP_GET_ACTION_AVAIL,
                       SECCOMP_GET_NOTIF_SIZES],
        "seccomp_flags": [SECCOMP_FILTER_FLAG_TSYNC, SECCOMP_FILTER_FLAG_LOG,
                          SECCOMP_FILTER_FLAG_NEW_LISTENER, SECCOMP_FILTER_FLAG_TSYNC_ESRCH],
        "memfd_flags": [MFD_CLOEXEC, MFD_ALLOW_SEALING, MFD_HUGETLB, MFD_NOEXEC_SEAL, MFD_EXEC],
        "fcntl": [F_GETLK, F_SETLK, F_SETLKW, F_SETOWN, F_GETOWN, F_OFD_SETLK, F_SETLEASE,
                  F_NOTIFY, F_DUPFD_CLOEXEC, F_SETPIPE_SZ, F_ADD_SEALS, F_GET_SEALS],
    };
    let mut wrong = Vec::new();
    for (group, name, value) in expected {
        let ours = db.constant(group, name, arch).map(i128::from);
        if ours != Some(value) {
            wrong.push(format!("{group}.{name}: database {ours:?}, libc {value}"));
        }
    }
    assert_eq!(wrong, Vec::<String>::new());
}
