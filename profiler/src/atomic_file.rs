//! Every file sandprof writes goes through here: profiles, reports, merged profiles,
//! node configuration. The rules, and why:
//!
//! - The content goes to a temporary file created in the target's own directory (a
//!   rename is atomic only within one filesystem) with `O_CREAT|O_EXCL|O_NOFOLLOW` and
//!   an unpredictable name ([`tempfile`]): sandprof often runs as root in directories
//!   other users can write, and a predictable name lets them plant a symlink that
//!   turns the write into an overwrite of any file on the node.
//! - It is flushed to disk, then renamed over the target, then the directory is
//!   flushed: a reader sees the old file or the whole new one, even after a crash.
//! - A file being replaced keeps its mode, and its owner when sandprof runs as root (a
//!   containerd config stays `root:root 0600`, a user's report stays theirs). A new
//!   file is `0600`: profiles and reports carry command lines, which may hold secrets.
//! - The target itself is never followed: a symlink is refused with an error naming it,
//!   and a hard link is replaced, not written through, so no other name of the old file
//!   changes.
//! - An output that is one of the command's inputs (the same file, or a link to it) is
//!   refused before anything is written: the input would be lost.

use std::fs::{self, File, Metadata, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::{MetadataExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use tempfile::NamedTempFile;

/// Mode of a file sandprof creates (rather than replaces).
pub const NEW_FILE_MODE: u32 = 0o600;

/// A file being written: [`Write`] into it, then [`AtomicFile::commit`]. Dropped
/// without a commit, it removes its temporary file and leaves the target untouched.
pub struct AtomicFile {
    target: PathBuf,
    out: BufWriter<NamedTempFile<File>>,
    /// Mode and owner to give the new file: the replaced file's, or ours with
    /// [`NEW_FILE_MODE`].
    keep: Option<Kept>,
}

#[derive(Clone, Copy, Debug)]
struct Kept {
    mode: u32,
    uid: u32,
    gid: u32,
}

impl AtomicFile {
    /// Starts writing `target`. Fails, naming the path, when its directory does not
    /// exist or is not writable, or when `target` is a symlink or not a regular file.
    pub fn create(target: &Path) -> anyhow::Result<AtomicFile> {
        let Some(name) = target.file_name() else {
            bail!("{} does not name a file", target.display());
        };
        let keep = match fs::symlink_metadata(target) {
            Ok(meta) => Some(replaceable(target, &meta)?),
            Err(err) if err.kind() == io::ErrorKind::NotFound => None,
            Err(err) => {
                return Err(err).with_context(|| format!("cannot stat {}", target.display()))
            }
        };
        let dir = match target.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        match fs::metadata(dir) {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => bail!(
                "cannot write {}: {} is not a directory",
                target.display(),
                dir.display()
            ),
            Err(err) => bail!(
                "cannot write {}: directory {}: {err}",
                target.display(),
                dir.display()
            ),
        }
        let tmp = tempfile::Builder::new()
            .prefix(&format!(".{}.", name.to_string_lossy()))
            .suffix(".tmp")
            .make_in(dir, create_new)
            .with_context(|| {
                format!(
                    "cannot create a file in {} to write {}",
                    dir.display(),
                    target.display()
                )
            })?;
        Ok(AtomicFile {
            target: target.to_path_buf(),
            out: BufWriter::new(tmp),
            keep,
        })
    }

    /// The file this writes.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Flushes the content to disk and renames it over the target.
    pub fn commit(self) -> anyhow::Result<()> {
        let target = self.target;
        let context = || format!("cannot write {}", target.display());
        let tmp = self
            .out
            .into_inner()
            .map_err(|err| err.into_error())
            .with_context(context)?;
        if let Some(kept) = self.keep {
            restore_owner_and_mode(tmp.as_file(), kept).with_context(context)?;
        }
        tmp.as_file().sync_all().with_context(context)?;
        tmp.persist(&target)
            .map_err(|err| err.error)
            .with_context(context)?;
        sync_parent(&target).with_context(context)
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.out.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.out.write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// Writes `target` atomically with what `fill` writes.
pub fn write_with(
    target: &Path,
    fill: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> anyhow::Result<()> {
    let mut file = AtomicFile::create(target)?;
    fill(&mut file).with_context(|| format!("cannot write {}", target.display()))?;
    file.commit()
}

/// Creates a new file at `path`, readable and writable by its owner only. An existing
/// name fails with [`io::ErrorKind::AlreadyExists`], whatever it is: O_EXCL refuses a
/// planted symlink (POSIX: "even if it is a symbolic link"), and O_NOFOLLOW states the
/// intent where O_EXCL alone would be weaker (NFSv2).
pub fn create_new(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(NEW_FILE_MODE)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
}

/// Gives `file` the mode of the file `like` describes, and its owner when sandprof runs
/// as root (only root may give a file away).
pub fn keep_owner_and_mode(file: &File, like: &Metadata) -> io::Result<()> {
    restore_owner_and_mode(
        file,
        Kept {
            mode: like.permissions().mode() & 0o7777,
            uid: like.uid(),
            gid: like.gid(),
        },
    )
}

/// Refuses an `output` that is one of `inputs`: the same path, the same file under
/// another name (a hard link), or a symlink to one. Inputs that do not exist as files
/// (`-` for standard input) cannot be overwritten and are skipped.
pub fn refuse_inputs<P: AsRef<Path>>(output: &Path, inputs: &[P]) -> anyhow::Result<()> {
    // Followed on purpose: a symlink output pointing at an input must be caught here,
    // even though `create` would refuse it anyway, so the error says what is at stake.
    let Ok(out) = fs::metadata(output) else {
        return Ok(());
    };
    for input in inputs {
        let input = input.as_ref();
        let Ok(meta) = fs::metadata(input) else {
            continue;
        };
        if meta.is_file() && (meta.dev(), meta.ino()) == (out.dev(), out.ino()) {
            bail!(
                "{} is the input {}: writing it would destroy the input; choose another \
                 output file",
                output.display(),
                input.display()
            );
        }
    }
    Ok(())
}

/// What a file about to be replaced must keep; an error for what must not be replaced.
fn replaceable(target: &Path, meta: &Metadata) -> anyhow::Result<Kept> {
    let kind = meta.file_type();
    if kind.is_symlink() {
        bail!(
            "{} is a symbolic link; sandprof does not write through links: name the file \
             it points to",
            target.display()
        );
    }
    if !kind.is_file() {
        bail!("{} exists and is not a regular file", target.display());
    }
    Ok(Kept {
        mode: meta.permissions().mode() & 0o7777,
        uid: meta.uid(),
        gid: meta.gid(),
    })
}

fn restore_owner_and_mode(file: &File, kept: Kept) -> io::Result<()> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } == 0 {
        // Before the mode: chown clears set-user-ID and set-group-ID bits.
        std::os::unix::fs::fchown(file, Some(kept.uid), Some(kept.gid))?;
    }
    file.set_permissions(fs::Permissions::from_mode(kept.mode))
}

/// Makes the rename itself durable.
fn sync_parent(target: &Path) -> io::Result<()> {
    let dir = match target.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::symlink;

    use super::*;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o7777
    }

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn new_files_are_private_and_nothing_else_is_left() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.json");
        write_with(&path, |w: &mut dyn Write| w.write_all(b"one\n")).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"one\n");
        assert_eq!(mode(&path), 0o600);
        assert_eq!(entries(dir.path()), vec!["out.json"]);
    }

    #[test]
    fn a_replaced_file_keeps_its_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        fs::write(&path, "old").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        write_with(&path, |w: &mut dyn Write| w.write_all(b"new")).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "new");
        assert_eq!(mode(&path), 0o640);
    }

    #[test]
    fn an_uncommitted_file_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.json");
        fs::write(&path, "old").unwrap();
        let mut file = AtomicFile::create(&path).unwrap();
        file.write_all(b"half").unwrap();
        drop(file);
        assert_eq!(fs::read_to_string(&path).unwrap(), "old");
        assert_eq!(entries(dir.path()), vec!["out.json"]);
    }

    #[test]
    fn a_symlink_target_is_refused_and_its_file_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        fs::write(&victim, "precious").unwrap();
        let link = dir.path().join("out.json");
        symlink(&victim, &link).unwrap();
        let err = AtomicFile::create(&link).err().unwrap();
        assert_eq!(
            format!("{err:#}"),
            format!(
                "{} is a symbolic link; sandprof does not write through links: name the \
                 file it points to",
                link.display()
            )
        );
        assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");
    }

    #[test]
    fn a_hard_link_is_replaced_not_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let other = dir.path().join("other-name");
        fs::write(&other, "precious").unwrap();
        let path = dir.path().join("out.json");
        fs::hard_link(&other, &path).unwrap();
        write_with(&path, |w: &mut dyn Write| w.write_all(b"new")).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "new");
        assert_eq!(fs::read_to_string(&other).unwrap(), "precious");
    }

    #[test]
    fn an_output_that_is_an_input_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.json");
        fs::write(&input, "{}").unwrap();
        let hard = dir.path().join("hard.json");
        fs::hard_link(&input, &hard).unwrap();
        let soft = dir.path().join("soft.json");
        symlink(&input, &soft).unwrap();
        for output in [&input, &hard, &soft] {
            let err = refuse_inputs(output, &[Path::new("-"), &input]).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!(
                    "{} is the input {}: writing it would destroy the input; choose \
                     another output file",
                    output.display(),
                    input.display()
                )
            );
        }
        refuse_inputs(&dir.path().join("new.json"), &[&input]).unwrap();
    }

    #[test]
    fn a_missing_directory_is_named() {
        let err = AtomicFile::create(Path::new("/nonexistent-sandprof-dir/out.json"))
            .err()
            .unwrap();
        assert_eq!(
            format!("{err:#}"),
            "cannot write /nonexistent-sandprof-dir/out.json: directory \
             /nonexistent-sandprof-dir: No such file or directory (os error 2)"
        );
    }
}
