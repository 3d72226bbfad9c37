//! Argument capture at syscall return: build the signature the spec describes in per-CPU
//! scratch space, count it in `INT_SIGS` or `STR_SIGS`, and send it to userspace the
//! first time it is seen. Strings are read at return because the kernel has just read
//! them too, so their pages are resident.

use aya_ebpf::{
    bindings::BPF_NOEXIST,
    helpers::{bpf_probe_read_kernel, bpf_probe_read_user, bpf_probe_read_user_str_bytes},
};
use profiler_common::{
    event::{EventKind, IntSigEvent, LostCause, StrSigEvent},
    key::{IntSigKey, StrSigKey, SIG_OUTSIDE_BASE, SIG_TRUNCATED_BASE, SIG_UNREADABLE_BASE},
    spec::{
        FieldKind, FieldSpec, SyscallSpec, MAX_FIELDS, MAX_PATH_PREFIXES, MAX_STRS,
        PATH_PREFIX_LEN, STR_LEN,
    },
};

use crate::{
    config::{config, path_prefix},
    maps::{bump, lost, lost_signature, EVENTS, INT_SIGS, SCRATCH, STR_SIGS},
};

/// Bytes of a path examined for numeric components to fold (`/proc/1234/…`,
/// `/proc/self/task/1235/…`, `/dev/pts/3`): enough for those, bounded for the verifier.
const FOLD_SPAN: usize = 64;
/// Longest numeric component folded (pid_max is at most 2^22; fds fit in 10 digits).
const FOLD_DIGITS: usize = 12;

/// Records the signature of one call; `exe` is the caller's executable.
#[inline(always)]
pub fn record(regs: *const u8, spec: &SyscallSpec, nr: u32, errno: u32, pid_tgid: u64, exe: u64) {
    let Some(key) = SCRATCH.get_ptr_mut(0) else {
        return;
    };
    // SAFETY: the per-CPU scratch slot belongs to this program run on this CPU.
    let key = unsafe { &mut *key };
    key.base = IntSigKey {
        nr,
        errno,
        flags: 0,
        _pad: 0,
        values: [0; MAX_FIELDS],
    };
    let mut has_strings = false;
    let mut outside = 0u32;
    let mut i = 0;
    while i < MAX_FIELDS {
        if i as u32 >= spec.n_fields {
            break;
        }
        let field = spec.fields[i];
        match read_field(regs, &field, i, key) {
            FieldOutcome::Value => {}
            FieldOutcome::String => has_strings = true,
            FieldOutcome::Outside(slot) => outside |= SIG_OUTSIDE_BASE << slot,
            FieldOutcome::Skip => return,
        }
        i += 1;
    }
    if outside != 0 {
        // A path nowhere near the prefixes says nothing a rule can use, so the call is
        // kept only when another field does (statx with AT_NO_AUTOMOUNT, refused by
        // older gVisor releases on any path): most such calls stop here, as before.
        let mut any = 0u64;
        let mut v = 0;
        while v < MAX_FIELDS {
            any |= key.base.values[v];
            v += 1;
        }
        if any == 0 {
            return;
        }
        key.base.flags |= outside;
        let mut s = 0;
        while s < MAX_STRS {
            if outside & (SIG_OUTSIDE_BASE << s) != 0 {
                clear(&mut key.strs[s]);
            }
            s += 1;
        }
        has_strings = true;
    }
    if has_strings {
        record_str(key, pid_tgid, exe);
    } else {
        record_int(&key.base, pid_tgid, exe);
    }
}

enum FieldOutcome {
    /// A value slot was filled (or marked unreadable).
    Value,
    /// A string slot was filled (or marked unreadable).
    String,
    /// A path outside the prefixes, in this string slot: the call records a signature
    /// only if another field holds a non-zero value.
    Outside(usize),
    /// A path that cannot be read: this call records no signature.
    Skip,
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

#[inline(always)]
fn read_field(regs: *const u8, field: &FieldSpec, i: usize, key: &mut StrSigKey) -> FieldOutcome {
    let unreadable = SIG_UNREADABLE_BASE << i;
    let Some(arg) = read_arg(regs, field.arg) else {
        key.base.flags |= unreadable;
        return FieldOutcome::Value;
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
        Some(FieldKind::UserStr) => return read_string(arg, field, unreadable, key, false),
        Some(FieldKind::UserPath) => return read_string(arg, field, unreadable, key, true),
        Some(FieldKind::None) | None => return FieldOutcome::Value,
    };
    match value {
        Ok(v) => key.base.values[i & (MAX_FIELDS - 1)] = v & field.mask,
        Err(_) => key.base.flags |= unreadable,
    }
    FieldOutcome::Value
}

#[inline(always)]
fn read_string(
    arg: u64,
    field: &FieldSpec,
    unreadable: u32,
    key: &mut StrSigKey,
    is_path: bool,
) -> FieldOutcome {
    let slot = field.offset as usize;
    if slot >= MAX_STRS {
        return FieldOutcome::Value;
    }
    let buf = &mut key.strs[slot & (MAX_STRS - 1)];
    if is_path {
        // Cheap test first: most paths a workload opens are nowhere near the prefixes,
        // and need neither the buffer cleared nor the whole string copied.
        // SAFETY: see `read_field`.
        let head = unsafe { bpf_probe_read_user(arg as *const [u8; PATH_PREFIX_LEN]) };
        if let Ok(head) = head {
            if !under_prefix(&head) {
                return FieldOutcome::Outside(slot);
            }
        }
        // A match, or a short string at the very end of a mapping: read it all.
    }
    clear(buf);
    if arg == 0 && !is_path {
        // No string at all (mount's fstype for a propagation change): recorded empty.
        return FieldOutcome::String;
    }
    // SAFETY: see `read_field`.
    let len = match unsafe { bpf_probe_read_user_str_bytes(arg as *const u8, buf) } {
        Ok(bytes) => bytes.len(),
        Err(_) => {
            key.base.flags |= unreadable;
            return if is_path {
                // An unreadable path cannot be matched against the prefixes.
                FieldOutcome::Skip
            } else {
                FieldOutcome::String
            };
        }
    };
    if len >= STR_LEN - 1 {
        key.base.flags |= SIG_TRUNCATED_BASE << slot;
    }
    if is_path {
        let mut head = [0u8; PATH_PREFIX_LEN];
        head.copy_from_slice(&buf[..PATH_PREFIX_LEN]);
        if !under_prefix(&head) {
            return FieldOutcome::Outside(slot);
        }
        fold_numeric_components(buf);
    }
    FieldOutcome::String
}

#[inline(always)]
fn clear(buf: &mut [u8; STR_LEN]) {
    let words: &mut [u64; STR_LEN / 8] =
        // SAFETY: same size, and u64 has no invalid bit patterns; the slot is 8-aligned
        // (it follows the 8-aligned `IntSigKey` and is a multiple of 8 bytes long).
        unsafe { &mut *core::ptr::from_mut(buf).cast::<[u64; STR_LEN / 8]>() };
    let mut i = 0;
    while i < STR_LEN / 8 {
        words[i] = 0;
        i += 1;
    }
}

/// Whether a path, given by its first bytes, equals a prefix or continues it with `/`.
#[inline(always)]
fn under_prefix(head: &[u8; PATH_PREFIX_LEN]) -> bool {
    let mut p = 0;
    while p < MAX_PATH_PREFIXES {
        let prefix = path_prefix(p);
        let len = prefix.len as usize;
        if len > 0 && len < PATH_PREFIX_LEN {
            let mut same = true;
            let mut i = 0;
            while i < PATH_PREFIX_LEN {
                if i < len && head[i] != prefix.bytes[i] {
                    same = false;
                }
                i += 1;
            }
            let next = head[len & (PATH_PREFIX_LEN - 1)];
            if same && (next == b'/' || next == 0) {
                return true;
            }
        }
        p += 1;
    }
    false
}

/// Replaces each all-digit path component within the first [`FOLD_SPAN`] bytes with as
/// many `#`: `/proc/4242/status` becomes `/proc/####/status`, so per-pid paths do not
/// make one signature per process.
#[inline(always)]
fn fold_numeric_components(path: &mut [u8; STR_LEN]) {
    let mut start = 1; // component start; index 0 holds the leading '/'
    while start < FOLD_SPAN {
        if path[start - 1] == b'/' && path[start].is_ascii_digit() {
            let mut end = start;
            let mut digits = 0;
            while digits < FOLD_DIGITS {
                if !path[end & (STR_LEN - 1)].is_ascii_digit() {
                    break;
                }
                end += 1;
                digits += 1;
            }
            let after = path[end & (STR_LEN - 1)];
            if after == b'/' || after == 0 {
                let mut i = 0;
                while i < FOLD_DIGITS {
                    if i < digits {
                        path[(start + i) & (STR_LEN - 1)] = b'#';
                    }
                    i += 1;
                }
            }
        }
        if path[start] == 0 {
            break;
        }
        start += 1;
    }
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
