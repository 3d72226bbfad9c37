//! The probe object as it is loaded into the running kernel. The probe's hash maps are
//! declared `BPF_F_NO_PREALLOC` (allocated as used, nothing to fill at start); tracing
//! programs may use such maps safely only since Linux 6.1 (before, the verifier accepts
//! them with a warning and the kernel taints itself), so on older kernels the flag is
//! cleared in a copy of the object before it is loaded.

use std::borrow::Cow;

use anyhow::{bail, Context as _};
use object::{Object as _, ObjectSection as _, ObjectSymbol as _};
use profiler_common::maps::NO_PREALLOC_MAPS;

/// `BPF_F_NO_PREALLOC` of `include/uapi/linux/bpf.h`.
const BPF_F_NO_PREALLOC: u32 = 1;
/// Offset of `map_flags` in a legacy `struct bpf_map_def` (type, key_size, value_size,
/// max_entries, map_flags, …: `u32`s), the layout aya-ebpf writes to the `maps` section.
const MAP_FLAGS_OFFSET: usize = 16;
/// First kernel whose tracing programs may use non-preallocated hash maps (commit
/// "bpf: Relax the requirement to use preallocated hash maps in tracing progs").
pub const NO_PREALLOC_SINCE: (u32, u32) = (6, 1);

/// `major.minor` of a kernel release string (`6.18.44-fc-v657` is `(6, 18)`).
pub fn kernel_version(release: &str) -> Option<(u32, u32)> {
    let mut parts = release.split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// The object to load on a kernel of `version`.
pub fn for_kernel(object: &[u8], version: (u32, u32)) -> anyhow::Result<Cow<'_, [u8]>> {
    if version >= NO_PREALLOC_SINCE {
        return Ok(Cow::Borrowed(object));
    }
    let mut patched = object.to_vec();
    for (_, offset) in map_flags_offsets(object)? {
        let flags = u32::from_le_bytes(
            patched[offset..offset + 4]
                .try_into()
                .context("map_flags is 4 bytes")?,
        );
        patched[offset..offset + 4].copy_from_slice(&(flags & !BPF_F_NO_PREALLOC).to_le_bytes());
    }
    Ok(Cow::Owned(patched))
}

/// Where the `map_flags` word of each of [`NO_PREALLOC_MAPS`] is in the object file.
fn map_flags_offsets(object: &[u8]) -> anyhow::Result<Vec<(String, usize)>> {
    let file = object::File::parse(object).context("the probe object is not an ELF file")?;
    let mut found = Vec::new();
    for symbol in file.symbols() {
        let Ok(name) = symbol.name() else { continue };
        if !NO_PREALLOC_MAPS.contains(&name) {
            continue;
        }
        let section = symbol
            .section_index()
            .and_then(|index| file.section_by_index(index).ok())
            .with_context(|| format!("map `{name}` has no section"))?;
        if section.name().ok() != Some("maps") {
            bail!("map `{name}` is not in the `maps` section");
        }
        let (start, size) = section
            .file_range()
            .with_context(|| format!("the section of map `{name}` has no data"))?;
        let at = usize::try_from(symbol.address())?;
        if at + MAP_FLAGS_OFFSET + 4 > usize::try_from(size)? {
            bail!("map `{name}` lies outside its section");
        }
        found.push((
            name.to_owned(),
            usize::try_from(start)? + at + MAP_FLAGS_OFFSET,
        ));
    }
    if found.len() != NO_PREALLOC_MAPS.len() {
        bail!(
            "the probe object declares {} of the maps {NO_PREALLOC_MAPS:?}",
            found.len()
        );
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::loader::PROBE_OBJECT;

    #[test]
    fn kernel_versions() {
        assert_eq!(kernel_version("6.18.44-fc-v657"), Some((6, 18)));
        assert_eq!(kernel_version("5.15.0-91-generic"), Some((5, 15)));
        assert_eq!(kernel_version("4.18.0-513.el8.x86_64"), Some((4, 18)));
        assert_eq!(kernel_version("6"), None);
        assert_eq!(kernel_version("garbage"), None);
    }

    #[test]
    fn older_kernels_get_preallocated_maps() {
        if PROBE_OBJECT.is_empty() {
            // Built with AYA_BUILD_SKIP: there is no object to look at.
            return;
        }
        let flags = |object: &[u8]| -> Vec<u32> {
            map_flags_offsets(object)
                .unwrap()
                .into_iter()
                .map(|(_, at)| u32::from_le_bytes(object[at..at + 4].try_into().unwrap()))
                .collect()
        };
        assert_eq!(flags(PROBE_OBJECT), [BPF_F_NO_PREALLOC; 4]);
        assert!(matches!(
            for_kernel(PROBE_OBJECT, (6, 1)).unwrap(),
            Cow::Borrowed(_)
        ));
        let old = for_kernel(PROBE_OBJECT, (5, 15)).unwrap();
        assert_eq!(flags(&old), [0; 4]);
        assert_eq!(old.len(), PROBE_OBJECT.len());
    }
}
