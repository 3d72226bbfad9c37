//! Argument capture at syscall return: build the signature the spec describes in per-CPU
//! scratch space, count it in `INT_SIGS` or `STR_SIGS`, and send it to userspace the
//! first time it is seen. Strings are read at return because the kernel has just read
//! them too, so their pages are resident.
//!
//! This runs as a program of its own, `syscalls_capture`, which `syscalls_sys_exit`
//! enters by tail call with the call's facts in the per-CPU `CALL` slot. The kernel
//! verifies each program apart: inlined into the hot path, the loops below made the
//! verifier walk 321,248 instructions of `syscalls_sys_exit` (over a second of start-up).

use aya_ebpf::{
    bindings::BPF_NOEXIST,
    helpers::{bpf_probe_read_kernel, bpf_probe_read_user, bpf_probe_read_user_str_bytes},
    programs::RawTracePointContext,
};
use profiler_common::{
    event::{EventKind, IntSigEvent, LostCause, StrSigEvent},
    fold::fold_numeric_components,
    key::{
        IntSigKey, PathWords, StrSigKey, SIG_OUTSIDE_BASE, SIG_TRUNCATED_BASE, SIG_UNREADABLE_BASE,
    },
    maps::CAPTURE_PROGRAM,
    spec::{
        FieldKind, FieldSpec, SyscallSpec, MAX_FIELDS, MAX_PATH_PREFIXES, MAX_STRS, MAX_SYSCALL_NR,
        PATH_PREFIX_LEN, STR_LEN,
    },
};

use crate::{
    config::{config, path_prefix},
    maps::{
        bump, lost, lost_signature, CALL, EVENTS, INT_SIGS, PROGRAMS, SCRATCH, STR_SIGS,
        SYSCALL_SPECS, WORK,
    },
};

/// What `syscalls_sys_exit` hands to `syscalls_capture`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Call {
    /// The caller's thread and process.
    pub pid_tgid: u64,
    /// The caller's executable.
    pub exe: u64,
    /// Native syscall number.
    pub nr: u32,
    /// errno returned, 0 for success.
    pub errno: u32,
}

/// Per-CPU working state kept in map memory (`WORK`): the strings a call has to read,
/// noted while its fields are read.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Work {
    /// Bit `s`: string slot `s` is to be read.
    strings: u32,
    /// For each string slot: 1 if it is a path.
    string_is_path: [u32; MAX_STRS],
    /// For each string slot: the field it belongs to.
    string_field: [u32; MAX_STRS],
    /// Explicit padding.
    _pad: u32,
    /// For each string slot: the user pointer.
    string_arg: [u64; MAX_STRS],
}

/// Hands a call to `syscalls_capture` (the tail call does not return when it works).
#[inline(always)]
pub fn enter(ctx: &RawTracePointContext, call: Call) {
    let Some(slot) = CALL.get_ptr_mut(0) else {
        return;
    };
    // SAFETY: the per-CPU slot belongs to this program run on this CPU, and the capture
    // program reads it in the same run, before anything else can run here.
    unsafe {
        *slot = call;
        PROGRAMS.tail_call(ctx, CAPTURE_PROGRAM);
    }
    // Only reached if the slot is empty, which the loader rules out before attaching.
}

/// Whether a call of `spec` can record a signature, decided in the return program from
/// the first path field (`SyscallSpec::path_gate`) and the register fields: most paths
/// a workload uses are outside the prefixes, and for those the tail call and the
/// signature set-up are saved unless another field keeps a value (see `record`). A path
/// that cannot be read here goes on to capture, which decides.
#[inline(always)]
pub fn may_record(regs: *const u8, spec: &SyscallSpec) -> bool {
    let gate = spec.path_gate;
    if gate == 0 {
        return true;
    }
    let Some(arg) = read_arg(regs, gate - 1) else {
        return true;
    };
    // SAFETY: see `read_field`.
    match unsafe { bpf_probe_read_user(arg as *const [u8; PATH_PREFIX_LEN]) } {
        Ok(head) => under_prefix(&head) || keeps_a_value(regs, spec),
        Err(_) => true,
    }
}

/// Whether a field other than a string may hold a value its mask keeps: a register
/// field is read here; one in user memory is assumed to.
#[inline(always)]
fn keeps_a_value(regs: *const u8, spec: &SyscallSpec) -> bool {
    let mut i = 0;
    while i < MAX_FIELDS {
        if i as u32 >= spec.n_fields {
            break;
        }
        let field = &spec.fields[i];
        match FieldKind::from_u32(field.kind) {
            Some(FieldKind::Arg) => {
                if read_arg(regs, field.arg).is_some_and(|v| v & field.mask != 0) {
                    return true;
                }
            }
            Some(FieldKind::UserU16 | FieldKind::UserU32 | FieldKind::UserU64) => return true,
            _ => {}
        }
        i += 1;
    }
    false
}

/// `syscalls_capture`: records the signature of the call `CALL` holds.
pub fn run(ctx: &RawTracePointContext) {
    let Some(call) = CALL.get(0) else {
        return;
    };
    let call = *call;
    if call.nr >= MAX_SYSCALL_NR {
        return;
    }
    let Some(spec) = SYSCALL_SPECS.get(call.nr) else {
        return;
    };
    record(ctx.arg(0), spec, call);
}

/// Records the signature of one call: integer fields first, then the strings, each
/// string slot once. Reading a string (clear, copy, prefix test, fold) is the costly
/// part to verify; inside the loop over fields it was verified once per field.
#[inline(always)]
fn record(regs: *const u8, spec: &SyscallSpec, call: Call) {
    let Call {
        pid_tgid,
        exe,
        nr,
        errno,
    } = call;
    let (Some(key), Some(work)) = (SCRATCH.get_ptr_mut(0), WORK.get_ptr_mut(0)) else {
        return;
    };
    // SAFETY: both per-CPU slots belong to this program run on this CPU.
    let (key, work) = unsafe { (&mut *key, &mut *work) };
    key.base = IntSigKey {
        nr,
        errno,
        flags: 0,
        _pad: 0,
        values: [0; MAX_FIELDS],
    };
    work.strings = 0;
    let mut i = 0;
    while i < MAX_FIELDS {
        if i as u32 >= spec.n_fields {
            break;
        }
        read_field(regs, &spec.fields[i], i, key, work);
        i += 1;
    }
    if work.strings == 0 {
        record_int(&key.base, pid_tgid, exe);
        return;
    }
    let mut outside = 0u32;
    let mut slot = 0;
    while slot < MAX_STRS {
        if work.strings & (1 << slot) != 0 {
            match read_string(slot, key, work) {
                Read::Kept => {}
                Read::Outside => outside |= SIG_OUTSIDE_BASE << slot,
                Read::Dropped => return,
            }
        }
        slot += 1;
    }
    if outside != 0 && !keep_without_paths(key, outside) {
        return;
    }
    record_str(key, pid_tgid, exe);
}

/// For a call whose path lies outside the prefixes: whether another field holds a value
/// (statx with AT_NO_AUTOMOUNT, which older gVisor releases refuse on any path), and if
/// so the path slots emptied and marked. A path elsewhere says nothing a rule can use.
#[inline(always)]
fn keep_without_paths(key: &mut StrSigKey, outside: u32) -> bool {
    let mut any = 0u64;
    let mut v = 0;
    while v < MAX_FIELDS {
        any |= key.base.values[v];
        v += 1;
    }
    if any == 0 {
        return false;
    }
    key.base.flags |= outside;
    let mut s = 0;
    while s < MAX_STRS {
        if outside & (SIG_OUTSIDE_BASE << s) != 0 {
            clear(&mut key.strs[s]);
        }
        s += 1;
    }
    true
}

/// What reading a string slot came to.
enum Read {
    /// The string is in its slot (or marked unreadable, for a non-path).
    Kept,
    /// A path outside the prefixes: the call is kept only for another field's value.
    Outside,
    /// A path that cannot be read: the call records no signature.
    Dropped,
}

#[inline(always)]
fn read_arg(regs: *const u8, arg: u32) -> Option<u64> {
    if arg >= 6 {
        return None;
    }
    let offsets = config!(arg_offsets);
    let offset = offsets[arg as usize] as usize;
    // SAFETY: `regs` is the tracepoint's `struct pt_regs *`; the helper validates the
    // address and fails instead of faulting.
    unsafe { bpf_probe_read_kernel(regs.wrapping_add(offset).cast::<u64>()) }.ok()
}

/// Reads field `i` into its value slot, or notes its string for later.
#[inline(always)]
fn read_field(regs: *const u8, field: &FieldSpec, i: usize, key: &mut StrSigKey, work: &mut Work) {
    let unreadable = SIG_UNREADABLE_BASE << i;
    let Some(arg) = read_arg(regs, field.arg) else {
        key.base.flags |= unreadable;
        return;
    };
    let ptr = arg.wrapping_add(u64::from(field.offset)) as *const u8;
    // SAFETY (all reads below): user addresses come from the syscall's own arguments;
    // the helpers fail instead of faulting on bad or non-resident addresses.
    let value = match FieldKind::from_u32(field.kind) {
        Some(FieldKind::Arg) => Ok(arg),
        Some(FieldKind::UserU16) => {
            unsafe { bpf_probe_read_user(ptr.cast::<u16>()) }.map(u64::from)
        }
        Some(FieldKind::UserU32) => {
            unsafe { bpf_probe_read_user(ptr.cast::<u32>()) }.map(u64::from)
        }
        Some(FieldKind::UserU64) => unsafe { bpf_probe_read_user(ptr.cast::<u64>()) },
        Some(kind @ (FieldKind::UserStr | FieldKind::UserPath)) => {
            let slot = field.offset as usize;
            if slot < MAX_STRS {
                let slot = slot & (MAX_STRS - 1);
                work.strings |= 1 << slot;
                work.string_arg[slot] = arg;
                work.string_field[slot] = i as u32;
                work.string_is_path[slot] = u32::from(kind == FieldKind::UserPath);
            }
            return;
        }
        Some(FieldKind::None) | None => return,
    };
    match value {
        Ok(v) => key.base.values[i & (MAX_FIELDS - 1)] = v & field.mask,
        Err(_) => key.base.flags |= unreadable,
    }
}

/// Reads the string noted for `slot`.
#[inline(always)]
fn read_string(slot: usize, key: &mut StrSigKey, work: &Work) -> Read {
    let slot = slot & (MAX_STRS - 1);
    let arg = work.string_arg[slot];
    let unreadable = SIG_UNREADABLE_BASE << (work.string_field[slot] & 31);
    let is_path = work.string_is_path[slot] != 0;
    let buf = &mut key.strs[slot];
    if is_path {
        // Cheap test first: most paths a workload opens are nowhere near the prefixes,
        // and need neither the buffer cleared nor the whole string copied.
        // SAFETY: see `read_field`.
        let head = unsafe { bpf_probe_read_user(arg as *const [u8; PATH_PREFIX_LEN]) };
        if let Ok(head) = head {
            if !under_prefix(&head) {
                return Read::Outside;
            }
        }
        // A match, or a short string at the very end of a mapping: read it all.
    }
    clear(buf);
    if arg == 0 && !is_path {
        // No string at all (mount's fstype for a propagation change): recorded empty.
        return Read::Kept;
    }
    // SAFETY: see `read_field`.
    let len = match unsafe { bpf_probe_read_user_str_bytes(arg as *const u8, buf) } {
        Ok(bytes) => bytes.len(),
        Err(_) => {
            key.base.flags |= unreadable;
            // An unreadable path cannot be matched against the prefixes.
            return if is_path { Read::Dropped } else { Read::Kept };
        }
    };
    if len >= STR_LEN - 1 {
        key.base.flags |= SIG_TRUNCATED_BASE << slot;
    }
    if is_path {
        let mut head = [0u8; PATH_PREFIX_LEN];
        head.copy_from_slice(&buf[..PATH_PREFIX_LEN]);
        if !under_prefix(&head) {
            return Read::Outside;
        }
        fold_numeric_components(words_mut(buf));
    }
    Read::Kept
}

/// A string buffer of the scratch key as words.
#[inline(always)]
fn words_mut(buf: &mut [u8; STR_LEN]) -> &mut PathWords {
    // SAFETY: same size, and u64 has no invalid bit patterns; the slot is 8-aligned (it
    // follows the 8-aligned `IntSigKey` and is a multiple of 8 bytes long).
    unsafe { &mut *core::ptr::from_mut(buf).cast::<PathWords>() }
}

#[inline(always)]
fn clear(buf: &mut [u8; STR_LEN]) {
    let words = words_mut(buf);
    let mut i = 0;
    while i < STR_LEN / 8 {
        words[i] = 0;
        i += 1;
    }
}

/// Whether a path, given by its first bytes, equals a prefix or continues it with `/`.
/// One masked compare of 8-byte words per prefix.
#[inline(always)]
fn under_prefix(head: &[u8; PATH_PREFIX_LEN]) -> bool {
    let word = u64::from_le_bytes(*head);
    let mut p = 0;
    while p < MAX_PATH_PREFIXES {
        let prefix = path_prefix(p);
        let len = prefix.len as usize;
        if len > 0 && len < PATH_PREFIX_LEN {
            let mask = (1u64 << (len * 8)) - 1;
            let next = head[len & (PATH_PREFIX_LEN - 1)];
            if (word ^ u64::from_le_bytes(prefix.bytes)) & mask == 0 && (next == b'/' || next == 0)
            {
                return true;
            }
        }
        p += 1;
    }
    false
}

#[inline(always)]
fn record_int(key: &IntSigKey, pid_tgid: u64, exe: u64) {
    if let Some(counter) = INT_SIGS.get_ptr_mut(key) {
        bump(counter);
        return;
    }
    if INT_SIGS.insert(key, 1, u64::from(BPF_NOEXIST)).is_err() {
        match INT_SIGS.get_ptr_mut(key) {
            Some(counter) => bump(counter),
            None => lost_signature(LostCause::IntSigsFull, key.nr),
        }
        return;
    }
    let Some(mut entry) = EVENTS.reserve::<IntSigEvent>(0) else {
        lost(LostCause::RingBufFull);
        return;
    };
    entry.write(IntSigEvent {
        kind: EventKind::IntSig as u32,
        tid: pid_tgid as u32,
        tgid: (pid_tgid >> 32) as u32,
        _pad: 0,
        exe,
        key: *key,
    });
    entry.submit(0);
}

#[inline(always)]
fn record_str(key: &StrSigKey, pid_tgid: u64, exe: u64) {
    if let Some(counter) = STR_SIGS.get_ptr_mut(key) {
        bump(counter);
        return;
    }
    if STR_SIGS.insert(key, 1, u64::from(BPF_NOEXIST)).is_err() {
        match STR_SIGS.get_ptr_mut(key) {
            Some(counter) => bump(counter),
            None => lost_signature(LostCause::StrSigsFull, key.base.nr),
        }
        return;
    }
    let Some(mut entry) = EVENTS.reserve::<StrSigEvent>(0) else {
        lost(LostCause::RingBufFull);
        return;
    };
    // SAFETY: the reserved record is uninitialised memory of the right size; every
    // field is written before submit.
    unsafe {
        let event = entry.as_mut_ptr();
        (*event).kind = EventKind::StrSig as u32;
        (*event).tid = pid_tgid as u32;
        (*event).tgid = (pid_tgid >> 32) as u32;
        (*event)._pad = 0;
        (*event).exe = exe;
        core::ptr::copy_nonoverlapping(key, core::ptr::addr_of_mut!((*event).key), 1);
    }
    entry.submit(0);
}
