//! Capture: load the eBPF programs, follow the target, drain the kernel's maps.
