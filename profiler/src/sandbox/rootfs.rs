//! The root file system a trial runs in, and each run's own view of it.
//!
//! - the host's `/`: bound read-only, not recursively (the container mounts its own
//!   /proc, /sys, /dev, /tmp and /run), the same tree for both runs;
//! - a directory (`--rootfs`), an unpacked image (`--image-archive`) or a writable
//!   bundle root: each run gets an overlay with an empty writable layer over it, as a
//!   container gets over its image, so the runc run cannot change what the runsc run
//!   starts from, and the directory given is never written to;
//! - a read-only bundle root: bound read-only.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use super::host;
use super::image::{self, ImageDefaults};
use super::workspace::Workspace;

/// Where the root file system comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RootfsSource {
    /// The host's `/`.
    Host,
    /// A directory holding a root file system.
    Dir(PathBuf),
    /// An OCI image layout or `docker save` archive.
    Image(PathBuf),
}

/// The shared, never-written tree both runs start from.
#[derive(Clone, Debug)]
pub struct BaseRootfs {
    /// Its path on the host.
    pub path: PathBuf,
    /// Whether runs see it read-only (else through a writable overlay).
    pub read_only: bool,
    /// The image's run defaults, for image archives.
    pub image: Option<ImageDefaults>,
    /// How reports name it.
    pub description: String,
}

/// Resolves `source` to the base tree, unpacking an image into `workspace`.
pub fn prepare(source: &RootfsSource, workspace: &Workspace) -> anyhow::Result<BaseRootfs> {
    Ok(match source {
        RootfsSource::Host => BaseRootfs {
            path: PathBuf::from("/"),
            read_only: true,
            image: None,
            description: "the host's / (read-only)".to_owned(),
        },
        RootfsSource::Dir(dir) => {
            let path = dir
                .canonicalize()
                .with_context(|| format!("--rootfs {}: no such directory", dir.display()))?;
            anyhow::ensure!(path.is_dir(), "--rootfs {}: not a directory", dir.display());
            BaseRootfs {
                description: format!("{} (a writable layer over it)", path.display()),
                path,
                read_only: false,
                image: None,
            }
        }
        RootfsSource::Image(archive) => {
            let scratch = workspace.subdir("image/archive")?;
            let rootfs = workspace.subdir("image/rootfs")?;
            let defaults = image::unpack(archive, &scratch, &rootfs)?;
            // The archive's files are not needed once its layers are unpacked.
            std::fs::remove_dir_all(&scratch)
                .with_context(|| format!("cannot remove {}", scratch.display()))?;
            BaseRootfs {
                description: format!("image {} from {}", defaults.name, archive.display()),
                path: rootfs,
                read_only: false,
                image: Some(defaults),
            }
        }
    })
}

/// Gives run `run` (a directory name in the workspace) its own view of `base`:
/// returns the root path for its bundle.
pub fn for_run(
    base: &Path,
    read_only: bool,
    run: &str,
    workspace: &mut Workspace,
) -> anyhow::Result<PathBuf> {
    let target = workspace.subdir(&format!("{run}/rootfs"))?;
    if read_only {
        host::bind_read_only(base, &target)?;
    } else {
        let upper = workspace.subdir(&format!("{run}/upper"))?;
        let work = workspace.subdir(&format!("{run}/work"))?;
        host::overlay(base, &upper, &work, &target)?;
    }
    workspace.mounted(target.clone());
    Ok(target)
}
