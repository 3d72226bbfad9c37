//! Whom the container's process runs as: `--user` or the image's `User`
//! (`name|uid[:group|gid]`), resolved against the root file system's own `/etc/passwd`
//! and `/etc/group` as containerd resolves it, with the user's supplementary groups and
//! home directory.

use std::fs;
use std::path::Path;

use anyhow::{bail, Context as _};

use super::spec::ProcessUser;

/// A resolved user and its home directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    /// Ids.
    pub ids: ProcessUser,
    /// Home directory, when the passwd file names one.
    pub home: Option<String>,
}

struct PasswdEntry {
    name: String,
    uid: u32,
    gid: u32,
    home: String,
}

struct GroupEntry {
    name: String,
    gid: u32,
    members: Vec<String>,
}

fn read_lines(rootfs: &Path, file: &str) -> anyhow::Result<Vec<String>> {
    let path = rootfs.join(file);
    match fs::read_to_string(&path) {
        Ok(text) => Ok(text.lines().map(str::to_owned).collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

fn passwd(rootfs: &Path) -> anyhow::Result<Vec<PasswdEntry>> {
    Ok(read_lines(rootfs, "etc/passwd")?
        .iter()
        .filter_map(|line| {
            let f: Vec<&str> = line.split(':').collect();
            Some(PasswdEntry {
                name: (*f.first()?).to_owned(),
                uid: f.get(2)?.parse().ok()?,
                gid: f.get(3)?.parse().ok()?,
                home: (*f.get(5)?).to_owned(),
            })
        })
        .collect())
}

fn groups(rootfs: &Path) -> anyhow::Result<Vec<GroupEntry>> {
    Ok(read_lines(rootfs, "etc/group")?
        .iter()
        .filter_map(|line| {
            let f: Vec<&str> = line.split(':').collect();
            Some(GroupEntry {
                name: (*f.first()?).to_owned(),
                gid: f.get(2)?.parse().ok()?,
                members: f
                    .get(3)
                    .map(|m| {
                        m.split(',')
                            .filter(|s| !s.is_empty())
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default(),
            })
        })
        .collect())
}

/// Resolves `spec` (`name|uid[:group|gid]`, or `None` for root) against `rootfs`.
pub fn resolve(rootfs: &Path, spec: Option<&str>) -> anyhow::Result<Resolved> {
    let spec = spec.unwrap_or("0");
    let (user, group) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    let users = passwd(rootfs)?;
    let entry = match user.parse::<u32>() {
        Ok(uid) => users.iter().find(|e| e.uid == uid),
        Err(_) => Some(users.iter().find(|e| e.name == user).with_context(|| {
            format!(
                "user `{user}` is not in the container's /etc/passwd ({})",
                rootfs.join("etc/passwd").display()
            )
        })?),
    };
    let uid = match (user.parse::<u32>(), entry) {
        (Ok(uid), _) => uid,
        (Err(_), Some(entry)) => entry.uid,
        (Err(_), None) => bail!("user `{user}` cannot be resolved"),
    };
    let all_groups = groups(rootfs)?;
    let gid = match group {
        Some(g) => match g.parse::<u32>() {
            Ok(gid) => gid,
            Err(_) => all_groups
                .iter()
                .find(|e| e.name == g)
                .map(|e| e.gid)
                .with_context(|| format!("group `{g}` is not in the container's /etc/group"))?,
        },
        None => entry.map_or(0, |e| e.gid),
    };
    let additional_gids = match entry {
        Some(entry) if group.is_none() => all_groups
            .iter()
            .filter(|g| g.gid != gid && g.members.contains(&entry.name))
            .map(|g| g.gid)
            .collect(),
        _ => Vec::new(),
    };
    Ok(Resolved {
        ids: ProcessUser {
            uid,
            gid,
            additional_gids,
        },
        home: entry.map(|e| e.home.clone()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rootfs() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("etc")).unwrap();
        fs::write(
            dir.path().join("etc/passwd"),
            "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n",
        )
        .unwrap();
        fs::write(
            dir.path().join("etc/group"),
            "root:x:0:\napp:x:1000:\nvideo:x:44:app\n",
        )
        .unwrap();
        dir
    }

    #[test]
    fn names_numbers_and_groups() {
        let dir = rootfs();
        let app = resolve(dir.path(), Some("app")).unwrap();
        assert_eq!(
            app.ids,
            ProcessUser {
                uid: 1000,
                gid: 1000,
                additional_gids: vec![44]
            }
        );
        assert_eq!(app.home.as_deref(), Some("/home/app"));
        let numeric = resolve(dir.path(), Some("4242:video")).unwrap();
        assert_eq!((numeric.ids.uid, numeric.ids.gid), (4242, 44));
        assert_eq!(numeric.home, None);
        assert_eq!(resolve(dir.path(), None).unwrap().ids.uid, 0);
        assert_eq!(
            resolve(dir.path(), Some("nobody")).unwrap_err().to_string(),
            format!(
                "user `nobody` is not in the container's /etc/passwd ({})",
                dir.path().join("etc/passwd").display()
            )
        );
    }
}
