//! Reading and writing profile files (`*.sandprof.json`).
//!
//! Reading is strict: a file that is not JSON, is cut short, belongs to another schema or
//! a newer schema version, names an unknown arch, or refers to executables or captures it
//! does not contain is refused with an error naming the file and what is wrong with it.
//! Writing goes through [`crate::atomic_file`]: a reader never sees half a profile, a
//! planted symlink cannot redirect it, and a new profile is readable by its owner only
//! (it records command lines).

use std::collections::HashSet;
use std::fs;
use std::io::{self, Write};
use std::path::Path;
use std::str::FromStr as _;

use anyhow::{bail, Context as _};
use serde::Deserialize;
use serde_json::error::Category as JsonCategory;
use syscall_db::Arch;

use profiler_common::spec::MAX_SYSCALL_NR;

use super::model::{Abi, SyscallProfile, SCHEMA, SCHEMA_VERSION};
use crate::atomic_file;

/// Reads and checks one profile file.
pub fn read(path: &Path) -> anyhow::Result<SyscallProfile> {
    let bytes = fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    parse(&bytes).with_context(|| format!("{} is not a usable profile", path.display()))
}

/// Reads several profile files, in order. Each is returned with its path as given, which
/// reports use to name their inputs.
pub fn read_many<P: AsRef<Path>>(paths: &[P]) -> anyhow::Result<Vec<(String, SyscallProfile)>> {
    paths
        .iter()
        .map(|path| {
            let path = path.as_ref();
            read(path).map(|profile| (path.display().to_string(), profile))
        })
        .collect()
}

/// Parses and checks a profile from bytes. Errors say what is wrong, with line and column
/// where JSON syntax or the schema is at fault; callers add the file name.
pub fn parse(bytes: &[u8]) -> anyhow::Result<SyscallProfile> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        bail!("the file is empty");
    }
    let profile: SyscallProfile = match serde_json::from_slice(bytes) {
        Ok(profile) => profile,
        Err(err) => return Err(explain_parse_error(bytes, err)),
    };
    check_header(&profile.schema, profile.schema_version)?;
    validate(&profile)?;
    Ok(profile)
}

/// Writes a profile through [`crate::atomic_file`]: whole or not at all, never through
/// a link, `0600` when new.
pub fn write(path: &Path, profile: &SyscallProfile) -> anyhow::Result<()> {
    atomic_file::write_with(path, |out| write_to(out, profile))
        .with_context(|| format!("cannot write profile {}", path.display()))
}

/// Serializes a profile as the file format does (pretty JSON, trailing newline).
pub fn write_to(out: &mut dyn Write, profile: &SyscallProfile) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, profile).map_err(io::Error::from)?;
    out.write_all(b"\n")
}

/// The fields that say what a file is, read on their own when the full parse fails so the
/// error can be about the right thing (a newer schema rather than a field it added).
/// Loosely typed, so that a newer schema that changed a field's type still yields a
/// "newer version" error.
#[derive(Deserialize)]
struct Header {
    schema: Option<serde_json::Value>,
    schema_version: Option<serde_json::Value>,
    arch: Option<serde_json::Value>,
}

fn check_header(schema: &str, version: u32) -> anyhow::Result<()> {
    if schema != SCHEMA {
        bail!("its schema is `{schema}`, not `{SCHEMA}`");
    }
    if version > SCHEMA_VERSION {
        bail!(
            "it uses schema version {version}, newer than the version {SCHEMA_VERSION} this \
             sandprof reads; use a newer sandprof"
        );
    }
    if version == 0 {
        bail!("its schema_version is 0; versions start at 1");
    }
    Ok(())
}

fn explain_parse_error(bytes: &[u8], err: serde_json::Error) -> anyhow::Error {
    match err.classify() {
        JsonCategory::Eof => anyhow::anyhow!(
            "the file is truncated: it ends at line {} column {} in the middle of the JSON",
            err.line(),
            err.column()
        ),
        JsonCategory::Syntax => anyhow::anyhow!("not valid JSON: {err}"),
        JsonCategory::Io => anyhow::anyhow!("cannot read it: {err}"),
        JsonCategory::Data => explain_data_error(bytes, err),
    }
}

/// The JSON is well formed but does not fit the model: say why in terms of the header
/// when the header is at fault, else give serde's account with its line and column.
fn explain_data_error(bytes: &[u8], err: serde_json::Error) -> anyhow::Error {
    let header = match serde_json::from_slice::<Header>(bytes) {
        Ok(header) => header,
        Err(_) => return anyhow::anyhow!("not a sandprof profile: {err}"),
    };
    let Some(schema) = header.schema.as_ref().and_then(|v| v.as_str()) else {
        return anyhow::anyhow!("not a sandprof profile: it has no `schema` string");
    };
    let version = header.schema_version.as_ref().and_then(|v| v.as_u64());
    let Some(version) = version.and_then(|v| u32::try_from(v).ok()) else {
        return anyhow::anyhow!("it has no `schema_version` number");
    };
    if let Err(header_err) = check_header(schema, version) {
        return header_err;
    }
    if let Some(arch) = header.arch.as_ref().and_then(|v| v.as_str()) {
        if Arch::from_str(arch).is_err() {
            return anyhow::anyhow!(
                "unknown arch `{arch}` (known: {})",
                [Arch::X86_64, Arch::Aarch64, Arch::I386]
                    .map(Arch::as_str)
                    .join(", ")
            );
        }
    }
    anyhow::anyhow!("does not match the {SCHEMA} v{SCHEMA_VERSION} schema: {err}")
}

/// x86_64's x32 ABI: native numbers with bit 30 set (`__X32_SYSCALL_BIT`).
const X32_BASE: u32 = 0x4000_0000;

/// Checks what the schema alone cannot: every id a profile refers to exists, every
/// syscall number is one the arch can have, no count of failures exceeds its count of
/// calls, and the calls of all rows add up to a u64. [`parse`] runs it; merging runs it on its
/// result.
pub fn validate(profile: &SyscallProfile) -> anyhow::Result<()> {
    if profile.captures.is_empty() {
        bail!("it records no capture (`captures` is empty)");
    }
    let mut ids = HashSet::with_capacity(profile.executables.len());
    for exe in &profile.executables {
        if !ids.insert(exe.id) {
            bail!("executable id {} appears twice in `executables`", exe.id);
        }
    }
    let known = |id: u32, what: &dyn Fn() -> String| -> anyhow::Result<()> {
        if ids.contains(&id) {
            Ok(())
        } else {
            bail!(
                "{} refers to executable id {id}, which `executables` does not list",
                what()
            )
        }
    };
    for process in &profile.processes {
        for &id in &process.executables {
            known(id, &|| format!("process {}", process.pid))?;
        }
        if process.capture as usize >= profile.captures.len() {
            bail!(
                "process {} refers to capture {}, but `captures` has {}",
                process.pid,
                process.capture,
                profile.captures.len()
            );
        }
    }
    // Sums over one profile (totals in reports, summaries, diffs) are then safe: every
    // count is at most the calls of its row, and the calls of all rows fit in a u64.
    let mut total: u64 = 0;
    for (index, row) in profile.syscalls.iter().enumerate() {
        known(row.executable, &|| {
            format!("the `{}` row of `syscalls`", row.name)
        })?;
        check_number(profile.arch, row.abi, row.number)
            .with_context(|| format!("`syscalls[{index}]` (`{}`)", row.name))?;
        let failed = sum(row.errors.values())
            .with_context(|| format!("`syscalls[{index}]` (`{}`): its failed calls", row.name))?;
        if failed > row.calls {
            bail!(
                "the `{}` row of `syscalls` (executable {}) counts {failed} failed calls \
                 but only {} calls",
                row.name,
                row.executable,
                row.calls
            );
        }
        total = total.checked_add(row.calls).with_context(|| {
            format!(
                "`syscalls[{index}]` (`{}`): the calls of all rows add up to more than \
                 {}",
                row.name,
                u64::MAX
            )
        })?;
    }
    for (index, sig) in profile.signatures.iter().enumerate() {
        if let Some(first) = &sig.first {
            known(first.executable, &|| {
                format!("a `{}` signature's first use", sig.syscall)
            })?;
        }
        // Signatures record arguments of native calls only.
        check_number(profile.arch, Abi::Native, sig.number)
            .with_context(|| format!("`signatures[{index}]` (`{}`)", sig.syscall))?;
        let failed = sum(sig.errors.values()).with_context(|| {
            format!(
                "`signatures[{index}]` (`{}`): its failed calls",
                sig.syscall
            )
        })?;
        if failed > sig.calls {
            bail!(
                "a `{}` signature counts {failed} failed calls but only {} calls",
                sig.syscall,
                sig.calls
            );
        }
    }
    Ok(())
}

/// Refuses a syscall number no kernel of `arch` can report for `abi`. Numbers the
/// database does not name are fine (a newer kernel's syscalls): the bound is the
/// capture table's, which holds every number Linux has assigned with room to grow,
/// plus x86_64's x32 range, whose calls the tracer counts but cannot name.
fn check_number(arch: Arch, abi: Abi, number: u32) -> anyhow::Result<()> {
    let in_range = match abi {
        Abi::Native => {
            number < MAX_SYSCALL_NR
                || (arch == Arch::X86_64 && (X32_BASE..X32_BASE + MAX_SYSCALL_NR).contains(&number))
        }
        Abi::Compat => arch.compat().is_some() && number < MAX_SYSCALL_NR,
    };
    if in_range {
        return Ok(());
    }
    match (abi, arch.compat()) {
        (Abi::Compat, None) => {
            bail!("a compat (32-bit) call in a {arch} profile, which has no compat ABI")
        }
        _ => bail!(
            "syscall number {number} is out of range for {arch} ({} numbers are below \
             {MAX_SYSCALL_NR})",
            match abi {
                Abi::Native => "native",
                Abi::Compat => "compat",
            }
        ),
    }
}

/// The sum of counts, or an error if it does not fit in a u64.
fn sum<'a>(counts: impl IntoIterator<Item = &'a u64>) -> anyhow::Result<u64> {
    counts
        .into_iter()
        .try_fold(0u64, |total, &n| total.checked_add(n))
        .with_context(|| format!("they add up to more than {}", u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::model::*;

    fn sample() -> SyscallProfile {
        SyscallProfile {
            schema: SCHEMA.to_owned(),
            schema_version: SCHEMA_VERSION,
            tool: ToolStamp {
                name: "sandprof".to_owned(),
                version: "0.1.0".to_owned(),
            },
            database: DatabaseStamp {
                version: "2026.1".to_owned(),
                gvisor_revision: "abc".to_owned(),
            },
            arch: Arch::X86_64,
            captures: vec![CaptureStamp {
                hostname: "node-a".to_owned(),
                kernel: "6.18.0".to_owned(),
                target: Target::Pid { pid: 10 },
                started_at: "2026-01-01T00:00:00Z".to_owned(),
                ended_at: "2026-01-01T00:00:01Z".to_owned(),
                duration_ms: 1000,
                method: "ebpf".to_owned(),
            }],
            executables: vec![Executable {
                id: 1,
                path: "/bin/sh".to_owned(),
                format: BinaryFormat::Script {
                    interpreter: "/bin/sh".to_owned(),
                },
            }],
            processes: vec![Process {
                pid: 10,
                parent: None,
                executables: vec![1],
                capture: 0,
            }],
            syscalls: vec![SyscallStat {
                name: "read".to_owned(),
                number: 0,
                abi: Abi::Native,
                executable: 1,
                calls: 3,
                errors: [("EAGAIN".to_owned(), 1)].into(),
            }],
            signatures: Vec::new(),
            lost: LostCounts::default(),
        }
    }

    fn json_with(edit: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
        let mut value = serde_json::to_value(sample()).unwrap();
        edit(&mut value);
        serde_json::to_vec_pretty(&value).unwrap()
    }

    fn error_of(bytes: &[u8]) -> String {
        format!("{:#}", parse(bytes).unwrap_err())
    }

    #[test]
    fn write_then_read_gives_the_same_profile() {
        let dir = std::env::temp_dir().join(format!("sandprof-io-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("p.sandprof.json");
        write(&path, &sample()).unwrap();
        assert_eq!(read(&path).unwrap(), sample());
        // Nothing but the profile is left behind.
        let names: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("p.sandprof.json")]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn read_names_the_file() {
        let err = read(Path::new("/nonexistent/p.json")).unwrap_err();
        assert_eq!(
            format!("{err:#}"),
            "cannot read /nonexistent/p.json: No such file or directory (os error 2)"
        );
    }

    #[test]
    fn empty_and_truncated_and_non_json() {
        assert_eq!(error_of(b" \n"), "the file is empty");
        let whole = json_with(|_| ());
        assert_eq!(
            error_of(&whole[..40]),
            "the file is truncated: it ends at line 4 column 2 in the middle of the JSON"
        );
        assert_eq!(
            error_of(b"schema: sandprof\n"),
            "not valid JSON: expected value at line 1 column 1"
        );
    }

    #[test]
    fn wrong_schema_future_version_unknown_arch() {
        let other = json_with(|v| v["schema"] = "sandprof.report".into());
        assert_eq!(
            error_of(&other),
            "its schema is `sandprof.report`, not `sandprof.profile`"
        );
        let future = json_with(|v| {
            v["schema_version"] = 2.into();
            v["new_field"] = serde_json::json!({"x": 1});
            v["arch"] = serde_json::json!({"renamed": true});
        });
        assert_eq!(
            error_of(&future),
            "it uses schema version 2, newer than the version 1 this sandprof reads; use a \
             newer sandprof"
        );
        let riscv = json_with(|v| v["arch"] = "riscv64".into());
        assert_eq!(
            error_of(&riscv),
            "unknown arch `riscv64` (known: x86_64, aarch64, i386)"
        );
        let not_profile = br#"{"name": "x"}"#;
        assert_eq!(
            error_of(not_profile),
            "not a sandprof profile: it has no `schema` string"
        );
        let missing = json_with(|v| {
            v.as_object_mut().unwrap().remove("executables");
        });
        assert_eq!(
            error_of(&missing),
            "does not match the sandprof.profile v1 schema: missing field `executables` at \
             line 58 column 1"
        );
    }

    #[test]
    fn dangling_references_and_impossible_counts() {
        let dangling = json_with(|v| v["syscalls"][0]["executable"] = 7.into());
        assert_eq!(
            error_of(&dangling),
            "the `read` row of `syscalls` refers to executable id 7, which `executables` does \
             not list"
        );
        let capture = json_with(|v| v["processes"][0]["capture"] = 1.into());
        assert_eq!(
            error_of(&capture),
            "process 10 refers to capture 1, but `captures` has 1"
        );
        let counts = json_with(|v| v["syscalls"][0]["errors"]["EINTR"] = 5.into());
        assert_eq!(
            error_of(&counts),
            "the `read` row of `syscalls` (executable 1) counts 6 failed calls but only 3 calls"
        );
        let twice = json_with(|v| {
            let exe = v["executables"][0].clone();
            v["executables"].as_array_mut().unwrap().push(exe);
        });
        assert_eq!(
            error_of(&twice),
            "executable id 1 appears twice in `executables`"
        );
    }

    #[test]
    fn syscall_numbers_out_of_range_and_counts_past_u64() {
        let far = json_with(|v| v["syscalls"][0]["number"] = 99_999.into());
        assert_eq!(
            error_of(&far),
            "`syscalls[0]` (`read`): syscall number 99999 is out of range for x86_64 (native \
             numbers are below 1024)"
        );
        let x32 = json_with(|v| v["syscalls"][0]["number"] = 0x4000_0001u32.into());
        parse(&x32).unwrap();
        let compat = json_with(|v| {
            v["arch"] = "i386".into();
            v["syscalls"][0]["abi"] = "compat".into();
        });
        assert_eq!(
            error_of(&compat),
            "`syscalls[0]` (`read`): a compat (32-bit) call in a i386 profile, which has no \
             compat ABI"
        );
        let signature = json_with(|v| {
            v["signatures"] = serde_json::json!([{
                "syscall": "socket", "number": 5000, "fields": {}, "calls": 1
            }]);
        });
        assert_eq!(
            error_of(&signature),
            "`signatures[0]` (`socket`): syscall number 5000 is out of range for x86_64 \
             (native numbers are below 1024)"
        );
        let errors = json_with(|v| {
            v["syscalls"][0]["calls"] = u64::MAX.into();
            v["syscalls"][0]["errors"] = serde_json::json!({"EAGAIN": u64::MAX, "EINTR": 1});
        });
        assert_eq!(
            error_of(&errors),
            "`syscalls[0]` (`read`): its failed calls: they add up to more than \
             18446744073709551615"
        );
    }
}
