//! What the probe needs from the kernel's own type information (BTF,
//! `/sys/kernel/btf/vmlinux`): the offsets of the few kernel struct fields the task
//! programs read (`task_struct.pid`, `linux_binprm.filename`), and the arguments of the
//! raw tracepoints they attach to. Struct layouts differ between kernel builds; BTF
//! describes the running one, and it is readable by every user.
//!
//! Only what is needed is read: the type section is walked once, and structs and
//! typedefs are looked up by name. Format: <https://docs.kernel.org/bpf/btf.html>.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{bail, Context as _};

/// `BTF_MAGIC`.
const MAGIC: u16 = 0xeb9f;

// BTF kinds (`BTF_KIND_*`).
const KIND_PTR: u32 = 2;
const KIND_ARRAY: u32 = 3;
const KIND_STRUCT: u32 = 4;
const KIND_UNION: u32 = 5;
const KIND_ENUM: u32 = 6;
const KIND_TYPEDEF: u32 = 8;
const KIND_FUNC_PROTO: u32 = 13;
const KIND_VAR: u32 = 14;
const KIND_DATASEC: u32 = 15;
const KIND_DECL_TAG: u32 = 17;
const KIND_ENUM64: u32 = 19;
const KIND_INT: u32 = 1;

/// One type record: where it is, and its header fields.
#[derive(Clone, Copy, Debug)]
struct TypeRecord {
    /// Offset of its `btf_type` header in the data.
    at: usize,
    kind: u32,
    vlen: usize,
    kind_flag: bool,
    /// `size` or `type`, by kind.
    size_or_type: u32,
}

/// The kernel's BTF, indexed enough to answer by name.
pub struct KernelBtf {
    data: Vec<u8>,
    strings: usize,
    strings_end: usize,
    /// Index `id - 1`.
    types: Vec<TypeRecord>,
    /// Structs and typedefs by name.
    by_name: HashMap<String, Vec<u32>>,
}

fn u32_at(data: &[u8], at: usize) -> anyhow::Result<u32> {
    let bytes = data
        .get(at..at + 4)
        .with_context(|| format!("BTF is cut short at byte {at}"))?;
    Ok(u32::from_le_bytes(bytes.try_into()?))
}

impl KernelBtf {
    /// Reads the running kernel's BTF.
    pub fn running() -> anyhow::Result<KernelBtf> {
        Self::read(Path::new("/sys/kernel/btf/vmlinux"))
    }

    /// Reads BTF from `path`.
    pub fn read(path: &Path) -> anyhow::Result<KernelBtf> {
        let data =
            std::fs::read(path).with_context(|| format!("failed to read {}", path.display()))?;
        Self::parse(data).with_context(|| format!("{} is not usable BTF", path.display()))
    }

    /// Parses little-endian BTF (the machines sandprof traces are little-endian).
    pub fn parse(data: Vec<u8>) -> anyhow::Result<KernelBtf> {
        let magic = data
            .get(..2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
            .context("BTF is empty")?;
        if magic != MAGIC {
            bail!("bad magic {magic:#x}, expected {MAGIC:#x}");
        }
        let hdr_len = u32_at(&data, 4)? as usize;
        let type_off = u32_at(&data, 8)? as usize;
        let type_len = u32_at(&data, 12)? as usize;
        let str_off = u32_at(&data, 16)? as usize;
        let str_len = u32_at(&data, 20)? as usize;
        let types_start = hdr_len + type_off;
        let types_end = types_start + type_len;
        let strings = hdr_len + str_off;
        let strings_end = strings + str_len;
        if types_end > data.len() || strings_end > data.len() {
            bail!("its sections run past its {} bytes", data.len());
        }
        let mut btf = KernelBtf {
            data,
            strings,
            strings_end,
            types: Vec::new(),
            by_name: HashMap::new(),
        };
        let mut at = types_start;
        while at < types_end {
            let name_off = u32_at(&btf.data, at)?;
            let info = u32_at(&btf.data, at + 4)?;
            let record = TypeRecord {
                at,
                kind: (info >> 24) & 0x1f,
                vlen: (info & 0xffff) as usize,
                kind_flag: info >> 31 != 0,
                size_or_type: u32_at(&btf.data, at + 8)?,
            };
            at += 12 + extra_len(record.kind, record.vlen)?;
            btf.types.push(record);
            if matches!(record.kind, KIND_STRUCT | KIND_UNION | KIND_TYPEDEF) && name_off != 0 {
                let id = btf.types.len() as u32;
                let name = btf.name(name_off)?.to_owned();
                btf.by_name.entry(name).or_default().push(id);
            }
        }
        Ok(btf)
    }

    fn name(&self, off: u32) -> anyhow::Result<&str> {
        let start = self.strings + off as usize;
        let rest = self
            .data
            .get(start..self.strings_end)
            .with_context(|| format!("string offset {off} is outside the string section"))?;
        let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
        std::str::from_utf8(&rest[..end]).with_context(|| format!("string {off} is not UTF-8"))
    }

    fn record(&self, id: u32) -> anyhow::Result<TypeRecord> {
        id.checked_sub(1)
            .and_then(|i| self.types.get(i as usize))
            .copied()
            .with_context(|| format!("type id {id} does not exist"))
    }

    /// Byte offset of `member` in `struct name`, looking into anonymous struct and union
    /// members.
    pub fn member_offset(&self, name: &str, member: &str) -> anyhow::Result<u32> {
        let ids = self
            .by_name
            .get(name)
            .with_context(|| format!("this kernel's BTF has no `struct {name}`"))?;
        for &id in ids {
            let record = self.record(id)?;
            if record.kind == KIND_STRUCT && record.vlen > 0 {
                if let Some(bits) = self.find_member(record, member)? {
                    if bits % 8 != 0 {
                        bail!("`struct {name}` member `{member}` is a bit field");
                    }
                    return Ok(bits / 8);
                }
                bail!("this kernel's `struct {name}` has no member `{member}`");
            }
        }
        bail!("this kernel's BTF has `{name}`, but not as a struct with members")
    }

    /// The bit offset of `member` in a struct or union record, searching anonymous
    /// members too.
    fn find_member(&self, record: TypeRecord, member: &str) -> anyhow::Result<Option<u32>> {
        for i in 0..record.vlen {
            let at = record.at + 12 + i * 12;
            let name_off = u32_at(&self.data, at)?;
            let type_id = u32_at(&self.data, at + 4)?;
            let offset = u32_at(&self.data, at + 8)?;
            let bits = if record.kind_flag {
                offset & 0x00ff_ffff
            } else {
                offset
            };
            if name_off == 0 {
                let inner = self.resolve(type_id)?;
                if matches!(inner.kind, KIND_STRUCT | KIND_UNION) {
                    if let Some(found) = self.find_member(inner, member)? {
                        return Ok(Some(bits + found));
                    }
                }
            } else if self.name(name_off)? == member {
                return Ok(Some(bits));
            }
        }
        Ok(None)
    }

    /// Follows typedefs and qualifiers to the type they name.
    fn resolve(&self, mut id: u32) -> anyhow::Result<TypeRecord> {
        for _ in 0..32 {
            let record = self.record(id)?;
            // TYPEDEF, VOLATILE, CONST, RESTRICT, TYPE_TAG point at another type.
            if matches!(record.kind, 8..=11 | 18) {
                id = record.size_or_type;
                continue;
            }
            return Ok(record);
        }
        bail!("type {id} is a chain of more than 32 typedefs")
    }

    /// The number of arguments raw tracepoint `name` passes to a program: the
    /// parameters of its `btf_trace_<name>` prototype, less the leading `void *__data`.
    pub fn tracepoint_args(&self, name: &str) -> anyhow::Result<usize> {
        let typedef = format!("btf_trace_{name}");
        let id = self
            .by_name
            .get(&typedef)
            .and_then(|ids| ids.first())
            .with_context(|| format!("this kernel has no tracepoint `{name}` in its BTF"))?;
        let pointer = self.record(*id)?;
        let proto = self.record(self.resolve(pointer.size_or_type)?.size_or_type)?;
        if self.record(pointer.size_or_type)?.kind != KIND_PTR || proto.kind != KIND_FUNC_PROTO {
            bail!("`{typedef}` is not a pointer to a function prototype");
        }
        Ok(proto.vlen.saturating_sub(1))
    }
}

/// Bytes that follow a type's 12-byte header, by kind.
fn extra_len(kind: u32, vlen: usize) -> anyhow::Result<usize> {
    Ok(match kind {
        KIND_INT | KIND_VAR | KIND_DECL_TAG => 4,
        KIND_ARRAY => 12,
        KIND_STRUCT | KIND_UNION | KIND_DATASEC | KIND_ENUM64 => 12 * vlen,
        KIND_ENUM | KIND_FUNC_PROTO => 8 * vlen,
        // PTR, FWD, TYPEDEF, VOLATILE, CONST, RESTRICT, FUNC, FLOAT, TYPE_TAG.
        2 | 7..=12 | 16 | 18 => 0,
        other => bail!("unknown BTF kind {other}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny BTF blob: `int`, `struct inner { int b; }`, `struct outer { int a; union
    /// { struct inner; }; }` is approximated with an anonymous member, and a tracepoint
    /// typedef `btf_trace_t` of a prototype with two parameters.
    fn blob() -> Vec<u8> {
        let strings = b"\0int\0outer\0a\0b\0inner\0btf_trace_t\0".to_vec();
        let name = |s: &str| {
            let needle = format!("\0{s}\0");
            strings
                .windows(needle.len())
                .position(|w| w == needle.as_bytes())
                .unwrap() as u32
                + 1
        };
        let mut types = Vec::new();
        let mut push = |words: &[u32]| {
            for w in words {
                types.extend_from_slice(&w.to_le_bytes());
            }
        };
        // 1: int
        push(&[name("int"), KIND_INT << 24, 4, 32]);
        // 2: struct inner { int b @ 0 }
        push(&[name("inner"), (KIND_STRUCT << 24) | 1, 4, name("b"), 1, 0]);
        // 3: struct outer { int a @ 0; <anon> struct inner @ 64 bits }
        push(&[
            name("outer"),
            (KIND_STRUCT << 24) | 2,
            12,
            name("a"),
            1,
            0,
            0,
            2,
            64,
        ]);
        // 4: func proto (void *, int) -> int; 5: pointer to it; 6: typedef
        push(&[0, (KIND_FUNC_PROTO << 24) | 2, 1, 0, 0, 0, 1]);
        push(&[0, KIND_PTR << 24, 4]);
        push(&[name("btf_trace_t"), KIND_TYPEDEF << 24, 5]);
        let mut data = Vec::new();
        data.extend_from_slice(&MAGIC.to_le_bytes());
        data.extend_from_slice(&[1, 0]);
        for w in [
            24u32,
            0,
            types.len() as u32,
            types.len() as u32,
            strings.len() as u32,
        ] {
            data.extend_from_slice(&w.to_le_bytes());
        }
        data.extend_from_slice(&types);
        data.extend_from_slice(&strings);
        data
    }

    #[test]
    fn members_and_tracepoint_arguments() {
        let btf = KernelBtf::parse(blob()).unwrap();
        assert_eq!(btf.member_offset("outer", "a").unwrap(), 0);
        assert_eq!(btf.member_offset("outer", "b").unwrap(), 8);
        assert_eq!(btf.tracepoint_args("t").unwrap(), 1);
        assert_eq!(
            btf.member_offset("outer", "zz").unwrap_err().to_string(),
            "this kernel's `struct outer` has no member `zz`"
        );
        assert_eq!(
            btf.member_offset("nope", "a").unwrap_err().to_string(),
            "this kernel's BTF has no `struct nope`"
        );
        assert_eq!(
            btf.tracepoint_args("u").unwrap_err().to_string(),
            "this kernel has no tracepoint `u` in its BTF"
        );
    }

    #[test]
    fn bad_blobs_are_errors() {
        assert_eq!(
            KernelBtf::parse(vec![1, 2, 3]).err().unwrap().to_string(),
            "bad magic 0x201, expected 0xeb9f"
        );
        let mut cut = blob();
        cut.truncate(40);
        assert!(KernelBtf::parse(cut)
            .err()
            .unwrap()
            .to_string()
            .starts_with("its sections run past its 40 bytes"));
    }

    #[test]
    fn the_running_kernel_has_what_the_probe_reads() {
        let Ok(btf) = KernelBtf::running() else {
            // Without BTF sandprof refuses to trace; nothing to check here.
            return;
        };
        assert!(btf.member_offset("task_struct", "pid").unwrap() > 0);
        assert!(btf.member_offset("linux_binprm", "filename").is_ok());
        assert_eq!(btf.tracepoint_args("task_newtask").unwrap(), 2);
        assert_eq!(btf.tracepoint_args("sched_process_exec").unwrap(), 3);
    }
}
