//! Tracepoint record layouts, read from tracefs. The probe reads `task_newtask`,
//! `sched_process_exec` and `sched_process_exit` fields at offsets found here, because
//! those records change between kernel versions.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};

/// Where tracefs is usually mounted.
const TRACEFS_ROOTS: [&str; 2] = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"];

/// One field of a tracepoint record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    /// Declaration, e.g. `__data_loc char[] filename`.
    pub declaration: String,
    /// Name.
    pub name: String,
    /// Byte offset in the record.
    pub offset: u32,
    /// Size in bytes.
    pub size: u32,
}

/// The fields of one tracepoint's record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Format {
    /// `category/name`.
    pub tracepoint: String,
    /// Fields in record order.
    pub fields: Vec<Field>,
}

impl Format {
    /// Parses the text of an `events/<category>/<name>/format` file.
    pub fn parse(tracepoint: &str, text: &str) -> anyhow::Result<Format> {
        let mut fields = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            let Some(rest) = line.strip_prefix("field:") else {
                continue;
            };
            let field = parse_field(rest).with_context(|| {
                format!(
                    "tracepoint `{tracepoint}` format, line {}: `{line}`",
                    index + 1
                )
            })?;
            fields.push(field);
        }
        if fields.is_empty() {
            bail!("tracepoint `{tracepoint}` format has no fields");
        }
        Ok(Format {
            tracepoint: tracepoint.to_owned(),
            fields,
        })
    }

    /// The field named `name`, which must have one of `sizes`.
    pub fn field(&self, name: &str, sizes: &[u32]) -> anyhow::Result<&Field> {
        let field = self
            .fields
            .iter()
            .find(|f| f.name == name)
            .with_context(|| {
                format!(
                    "tracepoint `{}` has no field `{name}`; this kernel's record layout is not one sandprof knows",
                    self.tracepoint
                )
            })?;
        if !sizes.contains(&field.size) {
            bail!(
                "tracepoint `{}` field `{name}` is {} bytes, expected one of {sizes:?}",
                self.tracepoint,
                field.size
            );
        }
        Ok(field)
    }
}

/// Parses one `field:` line of a format file (after `field:`), whose parts are separated
/// by tabs: `pid_t pid; offset:12; size:4; signed:1;`.
fn parse_field(rest: &str) -> anyhow::Result<Field> {
    let mut parts = rest.split(';').map(str::trim);
    let declaration = parts.next().unwrap_or_default().to_owned();
    let name = declaration
        .rsplit(|c: char| c.is_whitespace() || c == '*')
        .next()
        .map(|n| n.split('[').next().unwrap_or(n))
        .filter(|n| !n.is_empty())
        .context("no field name")?
        .to_owned();
    let mut offset = None;
    let mut size = None;
    for part in parts {
        if let Some(v) = part.strip_prefix("offset:") {
            offset = Some(v.parse::<u32>().context("bad offset")?);
        } else if let Some(v) = part.strip_prefix("size:") {
            size = Some(v.parse::<u32>().context("bad size")?);
        }
    }
    Ok(Field {
        declaration,
        name,
        offset: offset.context("no offset")?,
        size: size.context("no size")?,
    })
}

/// Whether this process may read tracefs where it is mounted. tracefs is mounted
/// root-only (mode 0700) by current kernels: a process that is not uid 0 needs
/// `CAP_DAC_READ_SEARCH` (or `CAP_DAC_OVERRIDE`) to read it. Not mounted counts as
/// readable: mounting is tried, and reported, later.
pub fn readable() -> bool {
    TRACEFS_ROOTS.iter().all(|root| {
        !matches!(
            fs::read_dir(Path::new(root).join("events")),
            Err(err) if err.kind() == io::ErrorKind::PermissionDenied
        )
    })
}

/// The mounted tracefs, mounting it if the usual directory exists but is empty.
pub fn tracefs_root() -> anyhow::Result<PathBuf> {
    for root in TRACEFS_ROOTS {
        let events = Path::new(root).join("events");
        match fs::metadata(&events) {
            Ok(meta) if meta.is_dir() => return Ok(PathBuf::from(root)),
            Err(err) if err.kind() == io::ErrorKind::PermissionDenied => bail!(
                "cannot read tracefs at {root} ({err}): it is readable by root only; run \
                 sandprof as root, or give it CAP_DAC_READ_SEARCH besides CAP_BPF and \
                 CAP_PERFMON"
            ),
            _ => {}
        }
    }
    let root = Path::new(TRACEFS_ROOTS[0]);
    if root.is_dir() {
        mount_tracefs(root)?;
        if root.join("events").is_dir() {
            return Ok(root.to_path_buf());
        }
    }
    bail!(
        "tracefs is not mounted and could not be mounted at {}; mount it with \
         `mount -t tracefs nodev /sys/kernel/tracing`",
        TRACEFS_ROOTS[0]
    )
}

fn mount_tracefs(root: &Path) -> anyhow::Result<()> {
    let target = std::ffi::CString::new(root.as_os_str().as_encoded_bytes())?;
    // SAFETY: all pointers are valid NUL-terminated strings for the duration of the call.
    let rc = unsafe {
        libc::mount(
            c"nodev".as_ptr(),
            target.as_ptr(),
            c"tracefs".as_ptr(),
            0,
            std::ptr::null(),
        )
    };
    if rc != 0 {
        return Err(std::io::Error::last_os_error())
            .with_context(|| format!("failed to mount tracefs at {}", root.display()));
    }
    Ok(())
}

/// Reads the format of `category/name`.
pub fn read_format(root: &Path, category: &str, name: &str) -> anyhow::Result<Format> {
    let path = root.join("events").join(category).join(name).join("format");
    let text = fs::read_to_string(&path).with_context(|| {
        format!(
            "failed to read {}: this kernel lacks the `{category}:{name}` tracepoint",
            path.display()
        )
    })?;
    Format::parse(&format!("{category}:{name}"), &text)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The layout of Linux 6.18's `sched_process_exit`.
    const EXIT_FORMAT: &str = "name: sched_process_exit
ID: 317
format:
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;
\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;

\tfield:char comm[16];\toffset:8;\tsize:16;\tsigned:0;
\tfield:pid_t pid;\toffset:24;\tsize:4;\tsigned:1;
\tfield:int prio;\toffset:28;\tsize:4;\tsigned:1;
\tfield:bool group_dead;\toffset:32;\tsize:1;\tsigned:0;

print fmt: \"comm=%s pid=%d prio=%d group_dead=%s\", REC->comm, REC->pid, REC->prio, REC->group_dead ? \"true\" : \"false\"
";

    #[test]
    fn parses_fields_with_arrays_and_data_loc() {
        let format = Format::parse("sched:sched_process_exit", EXIT_FORMAT).unwrap();
        let names: Vec<_> = format.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "common_type",
                "common_flags",
                "common_preempt_count",
                "common_pid",
                "comm",
                "pid",
                "prio",
                "group_dead"
            ]
        );
        assert_eq!(format.field("group_dead", &[1]).unwrap().offset, 32);
        assert_eq!(format.field("comm", &[16]).unwrap().offset, 8);

        let exec = Format::parse(
            "sched:sched_process_exec",
            "\tfield:__data_loc char[] filename;\toffset:8;\tsize:4;\tsigned:0;\n",
        )
        .unwrap();
        assert_eq!(exec.field("filename", &[4]).unwrap().offset, 8);
    }

    #[test]
    fn missing_or_resized_fields_are_errors() {
        let format = Format::parse("sched:sched_process_exit", EXIT_FORMAT).unwrap();
        assert_eq!(
            format.field("old_pid", &[4]).unwrap_err().to_string(),
            "tracepoint `sched:sched_process_exit` has no field `old_pid`; this kernel's record layout is not one sandprof knows"
        );
        assert_eq!(
            format.field("pid", &[8]).unwrap_err().to_string(),
            "tracepoint `sched:sched_process_exit` field `pid` is 4 bytes, expected one of [8]"
        );
        let err = Format::parse("x:y", "\tfield:int a;\toffset:zz;\tsize:4;\n").unwrap_err();
        assert_eq!(
            format!("{err:#}"),
            "tracepoint `x:y` format, line 1: `field:int a;\toffset:zz;\tsize:4;`: bad offset: invalid digit found in string"
        );
    }
}
