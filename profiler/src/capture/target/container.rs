//! A container found by id: the cgroup directory that container managers name after
//! it, under any of their layouts.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};

/// Prefixes and suffixes that container managers put around an id in cgroup names:
/// `docker-<id>.scope`, `cri-containerd-<id>.scope`, `crio-<id>.scope`,
/// `libpod-<id>.scope`, `runc-<id>.scope` (systemd driver), or the bare id (cgroupfs
/// driver: `/docker/<id>`, `/kubepods/besteffort/pod<uid>/<id>`, runc's own paths).
const ID_PREFIXES: [&str; 6] = [
    "docker-",
    "cri-containerd-",
    "crio-",
    "libpod-",
    "runc-",
    "containerd-",
];

/// The container id a cgroup directory name stands for, if any.
pub fn container_id_of(name: &str) -> Option<&str> {
    let name = name.strip_suffix(".scope").unwrap_or(name);
    // conmon's own scope is not the container.
    if name.starts_with("crio-conmon-") || name.starts_with("libpod-conmon-") {
        return None;
    }
    let id = ID_PREFIXES
        .iter()
        .find_map(|p| name.strip_prefix(p))
        .unwrap_or(name);
    (id.len() >= 2
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
    .then_some(id)
}

/// Finds the cgroup of the container whose id is `query` or starts with it. The id may be
/// any name runc was given; a prefix must be unique.
pub fn find_container(root: &Path, query: &str) -> anyhow::Result<(String, PathBuf)> {
    if query.is_empty() {
        bail!("the container id is empty");
    }
    let mut found: BTreeMap<String, BTreeSet<PathBuf>> = BTreeMap::new();
    let mut dirs = vec![(root.to_path_buf(), 0)];
    while let Some((dir, depth)) = dirs.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if !path.is_dir() {
                continue;
            }
            if let Some(id) = entry.file_name().to_str().and_then(container_id_of) {
                if id.starts_with(query) {
                    found.entry(id.to_owned()).or_default().insert(path.clone());
                    // A container's own sub-cgroups are not other containers.
                    continue;
                }
            }
            if depth < 8 {
                dirs.push((path, depth + 1));
            }
        }
    }
    let (id, paths) = if let Some(paths) = found.remove(query) {
        (query.to_owned(), paths)
    } else if found.len() > 1 {
        bail!(
            "container id `{query}` is ambiguous: it starts {}; give more of it",
            found
                .keys()
                .map(|id| format!("`{id}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    } else if let Some(only) = found.pop_first() {
        only
    } else {
        bail!(
            "no container with id `{query}` under {} (looked for cgroup directories named \
             <id>, docker-<id>.scope, cri-containerd-<id>.scope, crio-<id>.scope, \
             libpod-<id>.scope, runc-<id>.scope)",
            root.display()
        );
    };
    let mut paths = paths.into_iter();
    let path = paths
        .next()
        .with_context(|| format!("no cgroup for container `{id}`"))?;
    if let Some(other) = paths.next() {
        bail!(
            "container `{id}` has several cgroups ({} and {}); pass one with --cgroup",
            path.display(),
            other.display()
        );
    }
    Ok((id, path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::target::fake_cgroup_tree;

    #[test]
    fn container_ids_from_cgroup_names() {
        assert_eq!(
            container_id_of("cri-containerd-0123abcd.scope"),
            Some("0123abcd")
        );
        assert_eq!(container_id_of("docker-feed.scope"), Some("feed"));
        assert_eq!(container_id_of("crio-conmon-feed.scope"), None);
        assert_eq!(container_id_of("feedbeef"), Some("feedbeef"));
        assert_eq!(container_id_of("kubepods.slice"), None);
    }

    #[test]
    fn finds_containers_across_layouts() {
        let root = fake_cgroup_tree(&[
            "kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice/cri-containerd-abc123.scope",
            "system.slice/docker-def456.scope",
            "kubepods/burstable/pod2/0fedcba9",
            "sandprof/ab9999",
        ]);
        let find = |q| {
            find_container(root.path(), q)
                .map(|(id, p)| (id, p.strip_prefix(root.path()).unwrap().to_path_buf()))
        };
        assert_eq!(
            find("abc").unwrap(),
            (
                "abc123".to_owned(),
                PathBuf::from("kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice/cri-containerd-abc123.scope")
            )
        );
        assert_eq!(
            find("def456").unwrap().1,
            PathBuf::from("system.slice/docker-def456.scope")
        );
        assert_eq!(
            find("0fed").unwrap().1,
            PathBuf::from("kubepods/burstable/pod2/0fedcba9")
        );
        assert_eq!(
            find("ab").unwrap_err().to_string(),
            "container id `ab` is ambiguous: it starts `ab9999`, `abc123`; give more of it"
        );
        assert!(find("zz")
            .unwrap_err()
            .to_string()
            .starts_with("no container with id `zz` under "));
    }
}
