//! The committed syscall tables are byte-for-byte what `import-syscalls` renders for
//! their content, and complete: no number skipped inside a table's known ranges.

use syscall_db::files::SyscallTableFile;
use syscall_db::Arch;
use xtask::import_syscalls::render;

#[test]
fn committed_syscall_files_are_exactly_what_the_renderer_writes() {
    for arch in [Arch::X86_64, Arch::Aarch64, Arch::I386] {
        let path = format!(
            "{}/../syscall-db/data/syscalls/{arch}.toml",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(&path).unwrap();
        let file: SyscallTableFile = toml::from_str(&text).unwrap();
        let rows: Vec<(u32, String)> = file
            .syscalls
            .into_iter()
            .map(|s| (s.number, s.name))
            .collect();
        assert_eq!(
            render(&rows, &file.kernel, &file.provenance),
            text,
            "{path} was edited by hand"
        );
    }
}
