//! `runsc.toml`, the file `containerd-shim-runsc-v1` reads through `ConfigPath`: shim
//! options at the top, and under `[runsc_config]` the runsc flags this workload needs,
//! each `name = "value"` becoming `--name=value`.

use toml_edit::{value, DocumentMut, Table};

use super::evidence::RunscFlag;
use super::sources;

/// Which CRI will start the shim: CRI-O needs the shim to find runsc itself and to
/// group a pod's containers into one sandbox.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ShimHost {
    /// containerd.
    Containerd,
    /// CRI-O.
    Crio,
}

/// Writes `runsc.toml`.
pub fn runsc_toml(flags: &[RunscFlag], host: ShimHost, evidence: Option<&str>) -> String {
    let mut doc = DocumentMut::new();
    doc.decor_mut().set_prefix(format!(
        "# runsc shim configuration, written by sandprof.\n\
         # Format: {} {}\n",
        sources::GVISOR,
        sources::GVISOR_CONTAINERD
    ));
    if host == ShimHost::Crio {
        doc["binary_name"] = value("/usr/local/bin/runsc");
        // One shim per pod: the app containers join the sandbox of the pause container.
        doc["grouping"] = value(true);
    }
    let mut config = Table::new();
    config
        .decor_mut()
        .set_prefix(match (evidence, flags.is_empty()) {
            (Some(file), true) => format!("\n# {file} asks for no runsc flag.\n"),
            (Some(file), false) => format!("\n# Flags {file} says this workload needs.\n"),
            (None, _) => "\n# No report given: runsc defaults.\n".to_owned(),
        });
    for flag in flags {
        config[&flag.name] = value(flag.value.as_str());
        if let Some(mut key) = config.key_mut(&flag.name) {
            key.leaf_decor_mut()
                .set_prefix(format!("# from {}\n", flag.remediation));
        }
    }
    doc["runsc_config"] = toml_edit::Item::Table(config);
    doc.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::k8s::evidence::parse_flag;

    #[test]
    fn flags_become_runsc_config_keys() {
        let flags = vec![
            parse_flag("--net-raw", "runsc.net-raw").unwrap(),
            parse_flag("--network=host", "runsc.network-host").unwrap(),
        ];
        let text = runsc_toml(&flags, ShimHost::Containerd, Some("r.json"));
        let doc: DocumentMut = text.parse().unwrap();
        assert_eq!(doc["runsc_config"]["net-raw"].as_str(), Some("true"));
        assert_eq!(doc["runsc_config"]["network"].as_str(), Some("host"));
        assert!(doc.get("grouping").is_none());
        let crio: DocumentMut = runsc_toml(&[], ShimHost::Crio, None).parse().unwrap();
        assert_eq!(crio["grouping"].as_bool(), Some(true));
    }
}
