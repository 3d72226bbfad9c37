//! What the probe needs to know about the architecture's `struct pt_regs`: where the
//! syscall number, the mode word and the six arguments are when a syscall returns.
//! These are kernel layout facts; they are handed to the probe at load, never compiled
//! into it.

use profiler_common::spec::ProbeConfig;
use syscall_db::Arch;

/// `struct pt_regs` facts for one architecture.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RegsLayout {
    /// Start of the 32-byte window the probe reads at every return.
    pub window: u32,
    /// Syscall number offset, relative to `window`.
    pub nr_in_window: u32,
    /// Width of the syscall number: 4 or 8 bytes.
    pub nr_width: u32,
    /// Mode word offset, relative to `window`.
    pub mode_in_window: u32,
    /// `mode & compat_mask == compat_value` marks a compat (32-bit) caller.
    pub compat_mask: u64,
    /// See `compat_mask`.
    pub compat_value: u64,
    /// Offsets of arguments 0 to 5 at return.
    pub args: [u32; 6],
}

/// x86-64: `orig_ax` at 120 holds the number; the return value overwrites `ax`, never the
/// argument registers `di, si, dx, r10, r8, r9`. A 32-bit caller runs with
/// `cs == __USER32_CS` (0x23), a 64-bit one with `__USER_CS` (0x33).
/// https://github.com/torvalds/linux/blob/v6.18/arch/x86/include/asm/ptrace.h
/// https://github.com/torvalds/linux/blob/v6.18/arch/x86/include/asm/segment.h
pub const X86_64: RegsLayout = RegsLayout {
    window: 120,     // orig_ax, ip, cs, flags
    nr_in_window: 0, // orig_ax
    nr_width: 8,
    mode_in_window: 16, // cs (a union with the FRED fields; the low 16 bits are the selector)
    compat_mask: 0xffff,
    compat_value: 0x23,
    args: [112, 104, 96, 56, 72, 64], // di, si, dx, r10, r8, r9
};

/// AArch64: `regs[31], sp, pc, pstate` (0..272), then `orig_x0` (272) and the s32
/// `syscallno` (280). The return value overwrites x0, so argument 0 is `orig_x0`. An
/// AArch32 caller has `PSR_MODE32_BIT` (0x10) set in `pstate`.
/// https://github.com/torvalds/linux/blob/v6.18/arch/arm64/include/asm/ptrace.h
pub const AARCH64: RegsLayout = RegsLayout {
    window: 264,      // pstate, orig_x0, syscallno
    nr_in_window: 16, // syscallno
    nr_width: 4,
    mode_in_window: 0, // pstate
    compat_mask: 0x10,
    compat_value: 0x10,
    args: [272, 8, 16, 24, 32, 40], // orig_x0, x1..x5
};

/// The layout for a native arch.
pub fn regs_layout(arch: Arch) -> Option<RegsLayout> {
    match arch {
        Arch::X86_64 => Some(X86_64),
        Arch::Aarch64 => Some(AARCH64),
        Arch::I386 => None,
    }
}

/// `CLONE_THREAD`, the same on every architecture.
/// https://github.com/torvalds/linux/blob/v6.18/include/uapi/linux/sched.h
pub const CLONE_THREAD: u64 = 0x0001_0000;

impl RegsLayout {
    /// Writes the layout into a probe config.
    pub fn apply(&self, config: &mut ProbeConfig) {
        config.regs_window = self.window;
        config.nr_in_window = self.nr_in_window;
        config.nr_width = self.nr_width;
        config.mode_in_window = self.mode_in_window;
        config.compat_mask = self.compat_mask;
        config.compat_value = self.compat_value;
        config.arg_offsets = self.args;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The probe reads 32 bytes from `window`; every offset must fall inside.
    #[test]
    fn windows_hold_their_fields() {
        for layout in [X86_64, AARCH64] {
            assert!(layout.nr_in_window + layout.nr_width <= 32, "{layout:?}");
            assert!(layout.mode_in_window + 8 <= 32, "{layout:?}");
        }
        assert_eq!(X86_64.window + X86_64.nr_in_window, 120);
        assert_eq!(X86_64.window + X86_64.mode_in_window, 136);
        assert_eq!(AARCH64.window + AARCH64.nr_in_window, 280);
        assert_eq!(AARCH64.window + AARCH64.mode_in_window, 264);
    }
}
