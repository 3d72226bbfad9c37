//! Any text as a node's containerd config: parsed, its schema read, every sandbox's
//! handler merged in (twice: a second merge must be a no-op), and the node plan with
//! its diff built from it. A config sandprof cannot merge into is an error naming the
//! file; nothing may panic.

#![no_main]

use std::path::PathBuf;

use libfuzzer_sys::fuzz_target;
use sandprof::k8s::containerd::{merge_handler, parse, schema_of};
use sandprof::k8s::node::{plan, unified_diff, Cri, ExistingConfig};
use sandprof::k8s::sandbox::{KataHypervisor, Sandbox};

const SANDBOXES: [Sandbox; 4] = [
    Sandbox::Gvisor,
    Sandbox::Kata(KataHypervisor::Qemu),
    Sandbox::Kata(KataHypervisor::Clh),
    Sandbox::Kata(KataHypervisor::Fc),
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(mut doc) = parse(text, "config.toml") else {
        return;
    };
    let Ok(schema) = schema_of(&doc, "config.toml") else {
        return;
    };
    for sandbox in SANDBOXES {
        if merge_handler(&mut doc, schema, sandbox, "config.toml").is_err() {
            return;
        }
        let once = doc.to_string();
        merge_handler(&mut doc, schema, sandbox, "config.toml")
            .expect("a handler merged once merges again");
        assert_eq!(doc.to_string(), once, "a second merge changed the config");
    }
    let existing = ExistingConfig {
        path: PathBuf::from("/etc/containerd/config.toml"),
        text: text.to_owned(),
    };
    for sandbox in SANDBOXES {
        if let Ok(plan) = plan(
            sandbox,
            Cri::Containerd(schema),
            Some(&existing),
            None,
            "node",
        ) {
            if let Some(change) = &plan.config_change {
                let _ = unified_diff(change);
            }
        }
    }
});
