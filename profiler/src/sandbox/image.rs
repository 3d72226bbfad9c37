//! Image archives → a root file system and the image's run defaults.
//!
//! Two archive layouts are read, plain or gzipped: an OCI image layout (`oci-layout`,
//! `index.json`, `blobs/<alg>/<hex>`) and `docker save`'s (`manifest.json` naming a
//! config file and layer tarballs; newer Docker writes both, and the OCI index is
//! preferred). Layers are unpacked in order, plain or gzipped (recognised by their
//! bytes, not their media type), honouring OCI whiteouts: `.wh.NAME` deletes NAME from
//! the layers below, `.wh..wh..opq` hides everything the layers below put in its
//! directory. The image config gives Env, WorkingDir, User, Entrypoint and Cmd.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{self, BufReader, Read, Seek as _};
use std::path::{Component, Path, PathBuf};

use anyhow::{bail, Context as _};
use oci_spec::image::{ImageConfiguration, ImageIndex, ImageManifest, MediaType};
use serde::Deserialize;

/// What an image says about how to run it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImageDefaults {
    /// `KEY=VALUE`.
    pub env: Vec<String>,
    /// Working directory.
    pub working_dir: Option<String>,
    /// `user[:group]`, names or numbers.
    pub user: Option<String>,
    /// Entrypoint.
    pub entrypoint: Vec<String>,
    /// Cmd.
    pub cmd: Vec<String>,
    /// The image, as the archive names it (a tag, or the manifest digest).
    pub name: String,
}

impl ImageDefaults {
    /// The command to run: `given` (replacing Cmd, after the Entrypoint), else
    /// Entrypoint and Cmd.
    pub fn command(&self, given: &[String]) -> Vec<String> {
        let mut args = self.entrypoint.clone();
        if given.is_empty() {
            args.extend(self.cmd.iter().cloned());
        } else {
            args.extend(given.iter().cloned());
        }
        args
    }
}

/// One image in the archive: its config and layers, as files of the extracted
/// archive.
struct ImageFiles {
    name: String,
    config: PathBuf,
    layers: Vec<PathBuf>,
}

/// `docker save`'s `manifest.json` entry.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DockerManifest {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

/// Unpacks `archive` into `rootfs` (which must exist and be empty), using `scratch`
/// (an empty private directory) to hold the archive's files meanwhile. Returns the
/// image's run defaults.
pub fn unpack(archive: &Path, scratch: &Path, rootfs: &Path) -> anyhow::Result<ImageDefaults> {
    let opened = File::open(archive)
        .with_context(|| format!("cannot open the image archive {}", archive.display()))?;
    let mut outer = tar::Archive::new(decompressed(opened, archive)?);
    outer
        .unpack(scratch)
        .with_context(|| format!("{} is not a readable tar archive", archive.display()))?;
    let image = find_image(scratch)
        .with_context(|| format!("{} is not an image archive", archive.display()))?;
    for (i, layer) in image.layers.iter().enumerate() {
        apply_layer(layer, rootfs).with_context(|| {
            format!(
                "{}: cannot unpack layer {} ({})",
                archive.display(),
                i + 1,
                layer.strip_prefix(scratch).unwrap_or(layer).display()
            )
        })?;
    }
    let config = ImageConfiguration::from_file(&image.config).with_context(|| {
        format!(
            "{}: the image config {} cannot be read",
            archive.display(),
            image
                .config
                .strip_prefix(scratch)
                .unwrap_or(&image.config)
                .display()
        )
    })?;
    let mut defaults = ImageDefaults {
        name: image.name,
        ..ImageDefaults::default()
    };
    if let Some(run) = config.config() {
        defaults.env = run.env().clone().unwrap_or_default();
        defaults.working_dir = run.working_dir().clone().filter(|d| !d.is_empty());
        defaults.user = run.user().clone().filter(|u| !u.is_empty());
        defaults.entrypoint = run.entrypoint().clone().unwrap_or_default();
        defaults.cmd = run.cmd().clone().unwrap_or_default();
    }
    Ok(defaults)
}

/// `file`, gunzipped when it starts with gzip's magic bytes; zstd is refused by name.
fn decompressed(mut file: File, name: &Path) -> anyhow::Result<Box<dyn Read>> {
    let mut magic = [0u8; 4];
    let n = read_up_to(&mut file, &mut magic)
        .with_context(|| format!("cannot read {}", name.display()))?;
    file.rewind()
        .with_context(|| format!("cannot read {}", name.display()))?;
    match &magic[..n] {
        [0x1f, 0x8b, ..] => Ok(Box::new(flate2::read::MultiGzDecoder::new(BufReader::new(
            file,
        )))),
        [0x28, 0xb5, 0x2f, 0xfd] => bail!(
            "{} is zstd-compressed, which sandprof does not read; export the image with \
             gzip or uncompressed layers",
            name.display()
        ),
        _ => Ok(Box::new(BufReader::new(file))),
    }
}

fn read_up_to(file: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

/// The one image of an extracted archive: through the OCI index when there is one,
/// else through `docker save`'s manifest.
fn find_image(dir: &Path) -> anyhow::Result<ImageFiles> {
    if dir.join("index.json").is_file() {
        return oci_image(dir);
    }
    if dir.join("manifest.json").is_file() {
        return docker_image(dir);
    }
    bail!("it has neither an OCI `index.json` nor a `docker save` `manifest.json`")
}

fn blob(dir: &Path, digest: &oci_spec::image::Digest) -> anyhow::Result<PathBuf> {
    let path = dir
        .join("blobs")
        .join(digest.algorithm().to_string())
        .join(digest.digest());
    anyhow::ensure!(path.is_file(), "blob {digest} is missing");
    Ok(path)
}

fn oci_image(dir: &Path) -> anyhow::Result<ImageFiles> {
    let mut index = ImageIndex::from_file(dir.join("index.json"))
        .context("index.json is not an OCI image index")?;
    // An index may point at further indexes (multi-platform images).
    for _ in 0..8 {
        let host_arch = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            other => other,
        };
        let manifests: Vec<_> = index
            .manifests()
            .iter()
            .filter(|d| {
                d.platform().as_ref().is_none_or(|p| {
                    p.architecture().to_string() == host_arch && p.os().to_string() == "linux"
                })
            })
            .collect();
        let chosen = match manifests.as_slice() {
            [one] => (*one).clone(),
            [] => bail!("index.json names no image for linux/{host_arch}"),
            many => bail!(
                "the archive holds {} images ({}); give an archive of one",
                many.len(),
                many.iter()
                    .map(|d| d.digest().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        let path = blob(dir, chosen.digest())?;
        if *chosen.media_type() == MediaType::ImageIndex {
            index = ImageIndex::from_file(&path)
                .with_context(|| format!("{} is not an OCI image index", chosen.digest()))?;
            continue;
        }
        let manifest = ImageManifest::from_file(&path)
            .with_context(|| format!("{} is not an OCI image manifest", chosen.digest()))?;
        let name = chosen
            .annotations()
            .as_ref()
            .and_then(|a| a.get("org.opencontainers.image.ref.name").cloned())
            .unwrap_or_else(|| chosen.digest().to_string());
        return Ok(ImageFiles {
            name,
            config: blob(dir, manifest.config().digest())?,
            layers: manifest
                .layers()
                .iter()
                .map(|layer| blob(dir, layer.digest()))
                .collect::<anyhow::Result<_>>()?,
        });
    }
    bail!("index.json nests image indexes more than 8 deep")
}

fn docker_image(dir: &Path) -> anyhow::Result<ImageFiles> {
    let text = fs::read(dir.join("manifest.json")).context("cannot read manifest.json")?;
    let manifests: Vec<DockerManifest> =
        serde_json::from_slice(&text).context("manifest.json is not a `docker save` manifest")?;
    let manifest = match manifests.as_slice() {
        [one] => one,
        [] => bail!("manifest.json lists no image"),
        many => bail!(
            "the archive holds {} images; give an archive of one",
            many.len()
        ),
    };
    let inside = |name: &str| -> anyhow::Result<PathBuf> {
        let relative = Path::new(name);
        anyhow::ensure!(
            relative
                .components()
                .all(|c| matches!(c, Component::Normal(_))),
            "manifest.json names {name:?}, which is not a path inside the archive"
        );
        let path = dir.join(relative);
        anyhow::ensure!(
            path.is_file(),
            "manifest.json names {name}, which is missing"
        );
        Ok(path)
    };
    Ok(ImageFiles {
        name: manifest
            .repo_tags
            .as_ref()
            .and_then(|tags| tags.first().cloned())
            .unwrap_or_else(|| manifest.config.clone()),
        config: inside(&manifest.config)?,
        layers: manifest
            .layers
            .iter()
            .map(|l| inside(l))
            .collect::<anyhow::Result<_>>()?,
    })
}

/// The whiteout prefix of OCI layers.
const WHITEOUT: &str = ".wh.";
/// The opaque-directory marker.
const OPAQUE: &str = ".wh..wh..opq";

/// Unpacks one layer over `rootfs`, applying its whiteouts to what lower layers left.
fn apply_layer(layer: &Path, rootfs: &Path) -> anyhow::Result<()> {
    let file = File::open(layer).with_context(|| format!("cannot open {}", layer.display()))?;
    let mut archive = tar::Archive::new(decompressed(file, layer)?);
    archive.set_preserve_permissions(true);
    archive.set_preserve_ownerships(true);
    archive.set_unpack_xattrs(false);
    archive.set_overwrite(true);
    // Paths this layer created: an opaque marker hides lower layers' entries only.
    let mut created: HashSet<PathBuf> = HashSet::new();
    for entry in archive.entries().context("cannot read the layer")? {
        let mut entry = entry.context("a layer entry is unreadable")?;
        let path = entry
            .path()
            .context("a layer entry has an unreadable path")?;
        let relative = clean_relative(&path)
            .with_context(|| format!("layer entry {} escapes the root", path.display()))?;
        let name = relative
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let parent = relative.parent().unwrap_or(Path::new("")).to_path_buf();
        if name == OPAQUE {
            clear_lower(&rootfs.join(&parent), &parent, &created)?;
            continue;
        }
        if let Some(hidden) = name.strip_prefix(WHITEOUT) {
            remove_any(&rootfs.join(&parent).join(hidden))?;
            continue;
        }
        // A lower layer's directory replaced by a file (or the reverse) goes first.
        let target = rootfs.join(&relative);
        if let Ok(meta) = fs::symlink_metadata(&target) {
            let is_dir = entry.header().entry_type().is_dir();
            if meta.is_dir() != is_dir || !is_dir {
                remove_any(&target)?;
            }
        }
        entry
            .unpack_in(rootfs)
            .with_context(|| format!("cannot unpack {}", relative.display()))?;
        created.insert(relative);
    }
    Ok(())
}

/// `path` without a leading `/` or `./`; `None` when it climbs out with `..`.
fn clean_relative(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => out.push(part),
            Component::RootDir | Component::CurDir => {}
            Component::ParentDir | Component::Prefix(_) => return None,
        }
    }
    Some(out)
}

/// Removes what lower layers put in `dir` (whose path in the image is `relative`),
/// keeping what this layer created.
fn clear_lower(dir: &Path, relative: &Path, created: &HashSet<PathBuf>) -> anyhow::Result<()> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot list {}", dir.display()))?;
        if !created.contains(&relative.join(entry.file_name())) {
            remove_any(&entry.path())?;
        }
    }
    Ok(())
}

/// Removes a file, link or directory tree; absence is fine.
fn remove_any(path: &Path) -> anyhow::Result<()> {
    let result = match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    };
    result.with_context(|| format!("cannot remove {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_from_entrypoint_and_cmd() {
        let image = ImageDefaults {
            entrypoint: vec!["/entry".to_owned()],
            cmd: vec!["serve".to_owned()],
            ..ImageDefaults::default()
        };
        assert_eq!(image.command(&[]), ["/entry", "serve"]);
        assert_eq!(image.command(&["check".to_owned()]), ["/entry", "check"]);
    }

    #[test]
    fn relative_paths_never_climb() {
        assert_eq!(
            clean_relative(Path::new("./a/b")),
            Some(PathBuf::from("a/b"))
        );
        assert_eq!(clean_relative(Path::new("/a")), Some(PathBuf::from("a")));
        assert_eq!(clean_relative(Path::new("a/../../b")), None);
    }
}
