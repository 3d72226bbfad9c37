//! Builds the eBPF object from `profiler-ebpf` (nightly, `bpfel-unknown-none`,
//! bpf-linker) into `OUT_DIR`; `src/capture/loader.rs` embeds it. `cargo xtask setup`
//! installs what this needs; set `AYA_BUILD_SKIP=1` to lint without it.

use anyhow::{anyhow, Context as _};
use aya_build::{Package, Toolchain};

fn main() -> anyhow::Result<()> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or_else(|| anyhow!("profiler has no parent directory"))?
        .join("profiler-ebpf");
    let root_dir = root
        .to_str()
        .with_context(|| format!("{} is not UTF-8", root.display()))?;
    let ebpf = Package {
        name: "profiler-ebpf",
        root_dir,
        ..Default::default()
    };
    aya_build::build_ebpf([ebpf], Toolchain::default()).context(
        "building the eBPF object failed; run `cargo xtask setup` to install the nightly \
         rust-src component and bpf-linker 0.10.0",
    )
}
