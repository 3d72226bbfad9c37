//! Builds the eBPF object from `profiler-ebpf` (nightly, `bpfel-unknown-none`,
//! bpf-linker) into `OUT_DIR`; `src/capture/loader.rs` embeds it. `cargo xtask setup`
//! installs what this needs.
//!
//! With `AYA_BUILD_SKIP=1` (lint-only or analysis-only builds) an empty object is
//! written instead, and `sandprof profile` says so at run time.

use std::path::PathBuf;

use anyhow::{anyhow, Context as _};
use aya_build::{Package, Toolchain};

fn main() -> anyhow::Result<()> {
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let root = manifest_dir
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
    )?;
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").context("OUT_DIR not set")?);
    let object = out_dir.join("profiler");
    if !object.exists() {
        // aya-build skipped the build (AYA_BUILD_SKIP): embed an empty object.
        std::fs::write(&object, b"")
            .with_context(|| format!("failed to write {}", object.display()))?;
    }
    Ok(())
}
