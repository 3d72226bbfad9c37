//! Any text as a Kubernetes manifest: read as multi-document YAML, each document into
//! its API type, then audited for both runtimes and patched into each sandbox. A bad
//! manifest is an error naming the file and document; nothing may panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sandprof::audit::audit;
use sandprof::k8s::sandbox::{KataHypervisor, Sandbox};
use sandprof::k8s::sandboxed_workload::patch;
use sandprof::k8s::yaml::{parse_documents, to_yaml_stream};
use syscall_db::{Database, Runtime};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(documents) = parse_documents("fuzz.yaml", text) else {
        return;
    };
    let _ = audit(
        Database::get(),
        &["fuzz.yaml".to_owned()],
        &documents,
        &Runtime::ALL,
    );
    for sandbox in [Sandbox::Gvisor, Sandbox::Kata(KataHypervisor::Qemu)] {
        for harden in [false, true] {
            if let Ok(patched) = patch(&documents, Some(sandbox), harden) {
                let values: Vec<_> = patched.into_iter().map(|p| p.value).collect();
                let _ = to_yaml_stream(&values);
            }
        }
    }
});
