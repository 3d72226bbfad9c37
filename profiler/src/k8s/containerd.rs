//! The containerd side of a sandbox node: the runtime handler table for the config
//! schema in use (`version = 2`: containerd 1.x, `version = 3`: containerd 2.x), merged
//! into an existing `config.toml` so that its comments, order and other settings stay
//! as they were.

use anyhow::{bail, Context as _};
use toml_edit::{value, Array, DocumentMut, Item, Table};

use super::sandbox::{KataHypervisor, Sandbox};

/// The containerd configuration schema, which decides where CRI runtimes live.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ConfigSchema {
    /// `version = 2`, read by containerd 1.x (and migrated in memory by 2.x).
    V2,
    /// `version = 3`, containerd 2.x.
    V3,
}

impl ConfigSchema {
    /// The schema a containerd major version writes by default.
    pub fn for_containerd_major(major: u8) -> anyhow::Result<ConfigSchema> {
        match major {
            1 => Ok(ConfigSchema::V2),
            2 => Ok(ConfigSchema::V3),
            other => bail!("containerd {other}.x is not supported (supported: 1, 2)"),
        }
    }

    /// The CRI plugin that holds `containerd.runtimes` in this schema.
    pub const fn cri_plugin(self) -> &'static str {
        match self {
            ConfigSchema::V2 => "io.containerd.grpc.v1.cri",
            ConfigSchema::V3 => "io.containerd.cri.v1.runtime",
        }
    }

    /// The `version` value.
    pub const fn number(self) -> i64 {
        match self {
            ConfigSchema::V2 => 2,
            ConfigSchema::V3 => 3,
        }
    }

    /// The header of the handler table, as it appears in the file.
    pub fn handler_header(self, sandbox: Sandbox) -> String {
        format!(
            "[plugins.\"{}\".containerd.runtimes.{}]",
            self.cri_plugin(),
            sandbox.handler()
        )
    }
}

/// Reads the schema an existing config declares.
pub fn schema_of(doc: &DocumentMut, file: &str) -> anyhow::Result<ConfigSchema> {
    match doc.get("version") {
        None => bail!(
            "{file}: no top-level `version`: this is a version 1 containerd config, which \
             containerd 2.x no longer reads; run `containerd config migrate` first"
        ),
        Some(item) => match item.as_integer() {
            Some(2) => Ok(ConfigSchema::V2),
            Some(3) => Ok(ConfigSchema::V3),
            Some(n) => bail!("{file}: containerd config `version = {n}` is not supported (2 or 3)"),
            None => bail!("{file}: top-level `version` is not an integer"),
        },
    }
}

/// Parses containerd's config.
pub fn parse(text: &str, file: &str) -> anyhow::Result<DocumentMut> {
    text.parse::<DocumentMut>()
        .with_context(|| format!("{file}: not valid TOML"))
}

/// A config holding only the schema version, to merge a handler into.
pub fn empty(schema: ConfigSchema) -> DocumentMut {
    let mut doc = DocumentMut::new();
    doc["version"] = value(schema.number());
    doc
}

/// Adds (or updates) the sandbox's runtime handler in `doc`. Keys sandprof does not
/// set are left alone; every key it sets gets the value the upstream guide gives.
pub fn merge_handler(
    doc: &mut DocumentMut,
    schema: ConfigSchema,
    sandbox: Sandbox,
    file: &str,
) -> anyhow::Result<()> {
    let path = [
        "plugins",
        schema.cri_plugin(),
        "containerd",
        "runtimes",
        sandbox.handler(),
    ];
    let handler = table_at(doc.as_table_mut(), &path, file)?;
    if handler.is_empty() {
        handler.decor_mut().set_prefix(format!(
            "\n# {sandbox} handler, added by sandprof; layout from {}\n",
            sandbox.containerd_source()
        ));
    }
    handler.set_implicit(false);
    handler["runtime_type"] = value(sandbox.containerd_runtime_type());
    match sandbox {
        Sandbox::Gvisor => {}
        Sandbox::Kata(hv) => {
            // A privileged Kata pod must not receive every host device.
            handler["privileged_without_host_devices"] = value(true);
            let mut annotations = Array::new();
            annotations.push(sandbox.pod_annotations());
            handler["pod_annotations"] = value(annotations);
            if hv == KataHypervisor::Fc {
                // Firecracker has no virtio-fs: images must come as block devices.
                handler["snapshotter"] = value("devmapper");
            }
        }
    }
    let options = table_at(handler, &["options"], file)?;
    options.set_implicit(false);
    if sandbox == Sandbox::Gvisor {
        options["TypeUrl"] = value("io.containerd.runsc.v1.options");
    }
    options["ConfigPath"] = value(sandbox.config_path());
    Ok(())
}

/// The table at `path` below `table`, created (implicit, so no empty headers are
/// printed) where missing.
fn table_at<'a>(table: &'a mut Table, path: &[&str], file: &str) -> anyhow::Result<&'a mut Table> {
    let mut current = table;
    for (depth, key) in path.iter().enumerate() {
        let entry = current.entry(key).or_insert_with(|| {
            let mut t = Table::new();
            t.set_implicit(true);
            Item::Table(t)
        });
        if let Item::Value(toml_edit::Value::InlineTable(inline)) = entry {
            // `runtimes = { … }`: turn it into a regular table so a handler can be added.
            let t = std::mem::take(inline).into_table();
            *entry = Item::Table(t);
        }
        current = match entry {
            Item::Table(t) => t,
            _ => bail!("{file}: `{}` is not a table", path[..=depth].join(".")),
        };
    }
    Ok(current)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_v3_config_for_gvisor() {
        let mut doc = empty(ConfigSchema::V3);
        merge_handler(&mut doc, ConfigSchema::V3, Sandbox::Gvisor, "-").unwrap();
        let text = doc.to_string();
        let reparsed: DocumentMut = text.parse().unwrap();
        let handler =
            &reparsed["plugins"]["io.containerd.cri.v1.runtime"]["containerd"]["runtimes"]["runsc"];
        assert_eq!(
            handler["runtime_type"].as_str(),
            Some("io.containerd.runsc.v1")
        );
        assert_eq!(
            handler["options"]["ConfigPath"].as_str(),
            Some("/etc/containerd/runsc.toml")
        );
        assert!(
            !text.contains("[plugins]\n"),
            "empty parent header printed:\n{text}"
        );
    }

    #[test]
    fn merge_keeps_comments_and_other_settings() {
        let before = "# node config\nversion = 2\n\n[plugins.\"io.containerd.grpc.v1.cri\"]\n  \
                      sandbox_image = \"pause:3.10\" # pinned\n";
        let mut doc = parse(before, "c.toml").unwrap();
        let schema = schema_of(&doc, "c.toml").unwrap();
        merge_handler(
            &mut doc,
            schema,
            Sandbox::Kata(KataHypervisor::Fc),
            "c.toml",
        )
        .unwrap();
        let after = doc.to_string();
        assert!(after.starts_with(before), "prefix changed:\n{after}");
        let handler =
            &doc["plugins"]["io.containerd.grpc.v1.cri"]["containerd"]["runtimes"]["kata-fc"];
        assert_eq!(handler["snapshotter"].as_str(), Some("devmapper"));
        assert_eq!(
            handler["runtime_type"].as_str(),
            Some("io.containerd.kata-fc.v2")
        );
    }

    #[test]
    fn version_1_config_is_refused_with_the_fix() {
        let doc = parse("[plugins.cri]\n", "old.toml").unwrap();
        let err = schema_of(&doc, "old.toml").unwrap_err().to_string();
        assert!(err.starts_with("old.toml: no top-level `version`"), "{err}");
        assert!(
            err.ends_with("run `containerd config migrate` first"),
            "{err}"
        );
    }

    #[test]
    fn non_table_on_the_path_is_an_error() {
        let mut doc = parse("version = 2\nplugins = 3\n", "c.toml").unwrap();
        let err = merge_handler(&mut doc, ConfigSchema::V2, Sandbox::Gvisor, "c.toml")
            .unwrap_err()
            .to_string();
        assert_eq!(err, "c.toml: `plugins` is not a table");
    }
}
