//! The embedded data set loads, and spot checks of its tables with exact values.

use syscall_db::{Arch, Database, GvisorStatus, Runtime, Sources};

#[test]
fn embedded_database_loads() {
    if let Err(err) = Database::from_sources(&Sources::embedded()) {
        panic!("{err}");
    }
}

#[test]
fn copy_file_range_is_unimplemented_with_an_event_on_both_arches() {
    let db = Database::get();
    for (arch, number) in [(Arch::X86_64, 326), (Arch::Aarch64, 285)] {
        let entry = db.gvisor(arch, "copy_file_range").unwrap();
        assert_eq!(entry.number, number);
        assert_eq!(entry.status, GvisorStatus::Unimplemented);
        assert_eq!(entry.errno.as_deref(), Some("ENOSYS"));
        assert!(entry.event);
        assert!(entry.in_upstream_table);
    }
}

#[test]
fn number_321_on_x86_64_is_bpf_and_partial() {
    let db = Database::get();
    let bpf = db.resolve_syscall(Arch::X86_64, "321").unwrap();
    assert_eq!(bpf.name, "bpf");
    let entry = db.gvisor(Arch::X86_64, "bpf").unwrap();
    assert_eq!(entry.status, GvisorStatus::Partial);
    assert_eq!(
        db.resolve_syscall(Arch::Aarch64, "bpf").unwrap().number,
        280
    );
}

#[test]
fn missing_numbers_fall_back_to_enosys_with_an_event() {
    let db = Database::get();
    let entry = db.gvisor(Arch::X86_64, "openat2").unwrap();
    assert_eq!(entry.number, 437);
    assert!(!entry.in_upstream_table);
    assert_eq!(entry.status, GvisorStatus::Unimplemented);
    assert_eq!(entry.errno.as_deref(), Some("ENOSYS"));
    assert!(entry.event);
    assert_eq!(db.rules_for(Runtime::Gvisor, "socket").count(), 18);
}

#[test]
fn every_data_file_is_embedded() {
    fn walk(dir: &std::path::Path, root: &std::path::Path, out: &mut Vec<String>) {
        let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, root, out);
            } else if path.extension().is_some_and(|e| e == "toml") {
                let relative = path.strip_prefix(root).unwrap().to_string_lossy();
                out.push(relative.replace('\\', "/"));
            }
        }
    }
    let root = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/data"));
    let mut on_disk = Vec::new();
    walk(root, root, &mut on_disk);
    on_disk.sort();
    let mut embedded: Vec<String> = Sources::embedded()
        .files()
        .iter()
        .map(|f| f.path.clone())
        .collect();
    embedded.sort();
    assert_eq!(on_disk, embedded);
}

#[test]
fn bpf_is_partial_with_its_rules() {
    let db = Database::get();
    let bpf = db.resolve_syscall(Arch::X86_64, "321").unwrap();
    let ids: Vec<&str> = db
        .rules_for(Runtime::Gvisor, &bpf.name)
        .map(|r| r.id.as_str())
        .collect();
    assert_eq!(
        ids,
        [
            "gvisor.bpf.cgroup-device",
            "gvisor.bpf.prog-load",
            "gvisor.bpf.attach-query",
            "gvisor.bpf.unsupported"
        ]
    );
    let kata: Vec<&str> = db
        .rules_for(Runtime::Kata, "bpf")
        .map(|r| r.id.as_str())
        .collect();
    assert_eq!(kata, ["kata.bpf-tracing"]);
}
