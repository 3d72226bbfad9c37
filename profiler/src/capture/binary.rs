//! What kind of file a traced process executed: ELF class and machine, static or
//! dynamic, or a `#!` script. Read while the process is alive, through
//! `/proc/PID/exe`, which works across mount namespaces and for deleted files.

use std::fs::File;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use object::elf;
use object::read::elf::{FileHeader, ProgramHeader};
use object::{Endianness, ReadCache};

use crate::profile::BinaryFormat;

/// Where to look for the file of an exec by process `pid` of `filename`, best first.
pub fn candidates(proc_root: &Path, pid: u32, filename: &str) -> Vec<PathBuf> {
    let mut out = vec![proc_root.join(pid.to_string()).join("exe")];
    if let Some(relative) = filename.strip_prefix('/') {
        out.push(proc_root.join(pid.to_string()).join("root").join(relative));
        out.push(PathBuf::from(filename));
    }
    out
}

/// Inspects the first candidate that can be opened; the reason of the last failure
/// when none can.
pub fn inspect_any(paths: &[PathBuf]) -> BinaryFormat {
    let mut reason = String::from("no path to read it from");
    for path in paths {
        match inspect(path) {
            Ok(format) => return format,
            Err(err) => reason = format!("{}: {err}", path.display()),
        }
    }
    BinaryFormat::Unknown { reason }
}

/// Reads the format of one file.
pub fn inspect(path: &Path) -> Result<BinaryFormat, String> {
    let mut file = File::open(path).map_err(|e| e.to_string())?;
    let mut magic = [0u8; 4];
    let n = file.read(&mut magic).map_err(|e| e.to_string())?;
    if n >= 2 && magic[..2] == *b"#!" {
        let mut line = Vec::from(&magic[2..n]);
        let mut rest = [0u8; 254];
        let m = file.read(&mut rest).map_err(|e| e.to_string())?;
        line.extend_from_slice(&rest[..m]);
        let end = line.iter().position(|&b| b == b'\n').unwrap_or(line.len());
        return Ok(BinaryFormat::Script {
            interpreter: String::from_utf8_lossy(&line[..end]).trim().to_owned(),
        });
    }
    if n < 4 || magic != elf::ELFMAG {
        return Err("neither ELF nor a #! script".to_owned());
    }
    let file = File::open(path).map_err(|e| e.to_string())?;
    let cache = ReadCache::new(file);
    match object::FileKind::parse(&cache).map_err(|e| e.to_string())? {
        object::FileKind::Elf32 => elf_format::<elf::FileHeader32<Endianness>>(&cache, 32),
        object::FileKind::Elf64 => elf_format::<elf::FileHeader64<Endianness>>(&cache, 64),
        other => Err(format!("unexpected file kind {other:?}")),
    }
}

fn elf_format<H: FileHeader<Endian = Endianness>>(
    data: &ReadCache<File>,
    bits: u8,
) -> Result<BinaryFormat, String> {
    let header = H::parse(data).map_err(|e| e.to_string())?;
    let endian = header.endian().map_err(|e| e.to_string())?;
    let is_static = !header
        .program_headers(endian, data)
        .map_err(|e| e.to_string())?
        .iter()
        .any(|ph| ph.p_type(endian) == elf::PT_INTERP);
    Ok(BinaryFormat::Elf {
        bits,
        machine: machine_name(header.e_machine(endian)),
        is_static,
    })
}

fn machine_name(machine: elf::Machine) -> String {
    match machine {
        elf::EM_X86_64 => "x86_64".to_owned(),
        elf::EM_386 => "i386".to_owned(),
        elf::EM_AARCH64 => "aarch64".to_owned(),
        elf::EM_ARM => "arm".to_owned(),
        elf::EM_RISCV => "riscv".to_owned(),
        other => format!("e_machine={}", other.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_test_binary_and_a_script() {
        let me = std::env::current_exe().unwrap();
        let BinaryFormat::Elf { bits, machine, .. } = inspect(&me).unwrap() else {
            panic!("the test binary is not ELF");
        };
        assert_eq!(bits, 64);
        assert_eq!(machine, std::env::consts::ARCH);

        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("s");
        std::fs::write(&script, "#!/bin/sh -e\necho hi\n").unwrap();
        assert_eq!(
            inspect(&script),
            Ok(BinaryFormat::Script {
                interpreter: "/bin/sh -e".to_owned()
            })
        );
        let text = dir.path().join("t");
        std::fs::write(&text, "hello").unwrap();
        assert_eq!(
            inspect(&text),
            Err("neither ELF nor a #! script".to_owned())
        );
    }

    #[test]
    fn unreadable_files_say_why() {
        let format = inspect_any(&[PathBuf::from("/nonexistent/sandprof")]);
        assert_eq!(
            format,
            BinaryFormat::Unknown {
                reason: "/nonexistent/sandprof: No such file or directory (os error 2)".to_owned()
            }
        );
    }
}
