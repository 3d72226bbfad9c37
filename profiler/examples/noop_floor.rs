//! The overhead floor of syscall tracing, for `cargo xtask bench`: attaches the probe
//! object's no-op programs to raw_syscalls sys_enter and sys_exit (the attachment
//! sandprof uses) and holds them until stdin closes or a line is read.
//!
//! Run as root: `noop_floor` prints `attached` once the programs are live.

use std::io::{BufRead as _, Write as _};

use anyhow::Context as _;
use aya::programs::RawTracePoint;
use aya::EbpfLoader;
use sandprof::capture::loader::PROBE_OBJECT;

fn main() -> anyhow::Result<()> {
    let mut ebpf = EbpfLoader::new()
        .load(PROBE_OBJECT)
        .context("failed to load the eBPF object")?;
    for (name, tracepoint) in [
        ("bench_noop_sys_exit", "sys_exit"),
        ("bench_noop_sys_enter", "sys_enter"),
    ] {
        let program: &mut RawTracePoint = ebpf
            .program_mut(name)
            .with_context(|| format!("the object has no program `{name}`"))?
            .try_into()?;
        program.load()?;
        program.attach(tracepoint)?;
    }
    println!("attached");
    std::io::stdout().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(())
}
