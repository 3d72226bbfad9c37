//! The ABI between the sandprof eBPF programs (`profiler-ebpf`) and the loader
//! (`profiler::capture`): map names, the capture spec userspace writes at start, the
//! keys of the in-kernel aggregation maps and the ring-buffer records.
//!
//! Everything here is `#[repr(C)]` with explicit padding fields, so both sides agree on
//! the layout byte for byte and every type is a valid `aya::Pod` (no implicit padding,
//! every bit pattern valid). Nothing here knows about a particular architecture or
//! kernel version: syscall numbers, `pt_regs` offsets and tracepoint field offsets are
//! data that userspace derives at start and hands to the probe.
#![no_std]

pub mod event;
pub mod fold;
pub mod key;
pub mod maps;
pub mod spec;
