//! The CRI-O side of a sandbox node: a drop-in under `/etc/crio/crio.conf.d/` declaring
//! the runtime handler. Both runtimes use CRI-O's `vm` runtime type, which runs a
//! containerd shim v2 and creates the pod sandbox before the app containers.

use toml_edit::{value, DocumentMut, Item, Table};

use super::sandbox::Sandbox;
use super::sources;

/// Where the drop-in goes.
pub fn drop_in_path(sandbox: Sandbox) -> String {
    format!(
        "/etc/crio/crio.conf.d/99-sandprof-{}.conf",
        sandbox.handler()
    )
}

/// Writes the drop-in.
pub fn drop_in(sandbox: Sandbox) -> String {
    let mut doc = DocumentMut::new();
    let source = match sandbox {
        Sandbox::Gvisor => format!("{} {}", sources::GVISOR, sources::GVISOR_CRIO),
        Sandbox::Kata(_) => format!("{} {}", sources::KATA, sources::KATA_CRIO),
    };
    doc.decor_mut().set_prefix(format!(
        "# {sandbox} handler for CRI-O, written by sandprof.\n# Layout from {source}\n"
    ));
    let mut crio = Table::new();
    crio.set_implicit(true);
    let mut runtime = Table::new();
    runtime.set_implicit(true);
    if sandbox == Sandbox::Gvisor {
        // runsc refuses SELinux labels on its containers; this is node-wide in CRI-O.
        runtime["selinux"] = value(false);
        runtime.set_implicit(false);
        runtime
            .decor_mut()
            .set_prefix("# gVisor does not take SELinux labels; CRI-O's switch is node-wide.\n");
    }
    let mut runtimes = Table::new();
    runtimes.set_implicit(true);
    let mut handler = Table::new();
    handler["runtime_path"] = value(sandbox.shim_path());
    handler["runtime_type"] = value("vm");
    handler["runtime_config_path"] = value(sandbox.config_path());
    match sandbox {
        Sandbox::Gvisor => {
            handler["runtime_root"] = value("/run/runsc");
        }
        Sandbox::Kata(_) => {
            handler["runtime_root"] = value("/run/vc");
            handler["privileged_without_host_devices"] = value(true);
        }
    }
    runtimes[sandbox.handler()] = Item::Table(handler);
    runtime["runtimes"] = Item::Table(runtimes);
    crio["runtime"] = Item::Table(runtime);
    doc["crio"] = Item::Table(crio);
    doc.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::k8s::sandbox::KataHypervisor;

    #[test]
    fn kata_drop_in_declares_a_vm_runtime() {
        let doc: DocumentMut = drop_in(Sandbox::Kata(KataHypervisor::Qemu))
            .parse()
            .unwrap();
        let h = &doc["crio"]["runtime"]["runtimes"]["kata-qemu"];
        assert_eq!(h["runtime_type"].as_str(), Some("vm"));
        assert_eq!(
            h["runtime_path"].as_str(),
            Some("/opt/kata/bin/containerd-shim-kata-v2")
        );
        assert_eq!(h["privileged_without_host_devices"].as_bool(), Some(true));
        assert!(doc["crio"]["runtime"].get("selinux").is_none());
    }

    #[test]
    fn gvisor_drop_in_turns_selinux_off() {
        let doc: DocumentMut = drop_in(Sandbox::Gvisor).parse().unwrap();
        assert_eq!(doc["crio"]["runtime"]["selinux"].as_bool(), Some(false));
        assert_eq!(
            doc["crio"]["runtime"]["runtimes"]["runsc"]["runtime_config_path"].as_str(),
            Some("/etc/containerd/runsc.toml")
        );
    }
}
