//! Enabling a sandbox on a node: the CRI handler (a containerd config merge, or a CRI-O
//! drop-in), runsc's own configuration, the label and taint that reserve the node, and a
//! smoke pod whose success proves the handler really starts the sandbox.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use k8s_openapi::api::core::v1::{Container, Pod, PodSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use syscall_db::{RemediationKind, Runtime};

use crate::analysis::finding::VerdictStatus;
use crate::atomic_file::{self, AtomicFile};

use super::containerd::{self, ConfigSchema};
use super::evidence::WorkloadEvidence;
use super::pods;
use super::runsc_toml::{runsc_toml, ShimHost};
use super::sandbox::{KataHypervisor, Sandbox, NODE_KEY};
use super::{crio, sources};

/// The container runtime interface on the node.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Cri {
    /// containerd, with the config schema to write.
    Containerd(ConfigSchema),
    /// CRI-O.
    Crio,
}

/// An existing containerd config to merge into.
#[derive(Clone, Debug)]
pub struct ExistingConfig {
    /// Its path.
    pub path: PathBuf,
    /// Its content.
    pub text: String,
}

/// A file the node needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeFile {
    /// Absolute path on the node.
    pub path: String,
    /// Full content.
    pub content: String,
}

/// A change to an existing file: the merge of the handler into it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigChange {
    /// The file.
    pub path: PathBuf,
    /// Content now.
    pub before: String,
    /// Content after the merge.
    pub after: String,
}

/// Everything the node needs, in the order to apply it.
#[derive(Clone, Debug)]
pub struct NodePlan {
    /// The sandbox.
    pub sandbox: Sandbox,
    /// New files (the full containerd config when no existing one was given).
    pub files: Vec<NodeFile>,
    /// The merge into the existing containerd config, when one was given.
    pub config_change: Option<ConfigChange>,
    /// Shell commands: restart the CRI, label and taint the node, run the smoke pod.
    pub commands: Vec<String>,
    /// The smoke pod.
    pub smoke_pod: Pod,
    /// What the operator must know or do by hand.
    pub notes: Vec<String>,
}

/// Builds the plan.
pub fn plan(
    sandbox: Sandbox,
    cri: Cri,
    existing: Option<&ExistingConfig>,
    evidence: Option<&WorkloadEvidence>,
    node: &str,
) -> anyhow::Result<NodePlan> {
    let mut files = Vec::new();
    let mut notes = Vec::new();
    let mut config_change = None;
    let restart;
    match cri {
        Cri::Containerd(requested) => {
            restart = "sudo systemctl restart containerd";
            match existing {
                Some(existing) => {
                    let file = existing.path.display().to_string();
                    let mut doc = containerd::parse(&existing.text, &file)?;
                    // The file's own version wins over --containerd-version: a handler in
                    // the other layout would sit where this containerd never looks.
                    let schema = containerd::schema_of(&doc, &file)?;
                    if schema != requested {
                        notes.push(format!(
                            "{file} uses config version {}; the handler follows that layout",
                            schema.number()
                        ));
                    }
                    containerd::merge_handler(&mut doc, schema, sandbox, &file)?;
                    config_change = Some(ConfigChange {
                        path: existing.path.clone(),
                        before: existing.text.clone(),
                        after: doc.to_string(),
                    });
                }
                None => {
                    let mut doc = containerd::empty(requested);
                    containerd::merge_handler(&mut doc, requested, sandbox, "-")?;
                    files.push(NodeFile {
                        path: "/etc/containerd/config.toml".to_owned(),
                        content: doc.to_string(),
                    });
                    notes.push(
                        "without --config this is a config with only the handler: pass \
                         --config /etc/containerd/config.toml to merge into the node's own"
                            .to_owned(),
                    );
                }
            }
        }
        Cri::Crio => {
            if existing.is_some() {
                bail!("--config merges a containerd config; CRI-O takes a drop-in file instead");
            }
            restart = "sudo systemctl restart crio";
            files.push(NodeFile {
                path: crio::drop_in_path(sandbox),
                content: crio::drop_in(sandbox),
            });
        }
    }
    if sandbox == Sandbox::Gvisor {
        let flags = match evidence {
            Some(e) => e.runsc_flags()?,
            None => Vec::new(),
        };
        let host = match cri {
            Cri::Containerd(_) => ShimHost::Containerd,
            Cri::Crio => ShimHost::Crio,
        };
        files.push(NodeFile {
            path: sandbox.config_path(),
            content: runsc_toml(&flags, host, evidence.map(|e| e.file.as_str())),
        });
    }
    notes.extend(runtime_notes(sandbox, cri, evidence));

    let class = sandbox.runtime_class();
    let commands = vec![
        restart.to_owned(),
        // Label and taint first: the RuntimeClass's scheduling gives the smoke pod a
        // node selector for the label, so without it the pod would never schedule.
        format!("kubectl label node {node} {NODE_KEY}={class} --overwrite"),
        format!("kubectl taint node {node} {NODE_KEY}={class}:NoSchedule --overwrite"),
        format!("kubectl apply -f runtimeclass-{class}.yaml   # sandprof k8s runtimeclass"),
        format!("kubectl apply -f smoke-{class}.yaml"),
        format!(
            "kubectl wait --for=jsonpath='{{.status.phase}}'=Succeeded pod/sandprof-smoke-{class} \
             --timeout=120s && kubectl logs pod/sandprof-smoke-{class}"
        ),
    ];
    Ok(NodePlan {
        sandbox,
        files,
        config_change,
        commands,
        smoke_pod: smoke_pod(sandbox),
        notes,
    })
}

/// Node-side caveats of the runtime, and the configuration the report asks for that is
/// not a runsc flag (annotations, node settings, pod-spec changes).
fn runtime_notes(sandbox: Sandbox, cri: Cri, evidence: Option<&WorkloadEvidence>) -> Vec<String> {
    let mut notes = Vec::new();
    if sandbox == Sandbox::Kata(KataHypervisor::Fc) && cri != Cri::Crio {
        notes.push(format!(
            "Firecracker needs containerd's devmapper snapshotter configured and healthy \
             (`ctr plugins ls | grep devmapper` shows `ok`); see {} {}",
            sources::KATA,
            sources::KATA_FIRECRACKER
        ));
    }
    if let Sandbox::Kata(_) = sandbox {
        notes.push(
            "Kata needs hardware virtualization on the node: /dev/kvm present (bare metal, \
             or a VM with nested virtualization)"
                .to_owned(),
        );
    }
    let runtime = sandbox.runtime();
    if let Some(e) = evidence {
        for kind in [
            RemediationKind::NodeConfig,
            RemediationKind::Annotation,
            RemediationKind::PodSpec,
        ] {
            for r in e.configuration(runtime, kind) {
                let what = r.annotation.as_deref().unwrap_or(&r.summary);
                notes.push(format!("{} asks for `{}`: {what}", e.file, r.id));
            }
        }
        if let Some(v) = e.verdict(runtime) {
            if v.status == VerdictStatus::LikelyToBreak {
                notes.push(format!(
                    "{} says the workload is likely to break under {}: fix {} first ({})",
                    e.file,
                    sandbox,
                    if v.blockers.len() == 1 {
                        "this blocker".to_owned()
                    } else {
                        format!("these {} blockers", v.blockers.len())
                    },
                    v.blockers.join("; ")
                ));
            }
        }
        if runtime == Runtime::Gvisor && e.status(runtime).is_none() {
            notes.push(format!(
                "{} has no gVisor verdict: runsc flags left at defaults",
                e.file
            ));
        }
    }
    notes
}

/// A pod that succeeds only inside the sandbox: it checks the evidence `sandprof verify`
/// uses (gVisor's kernel build string, Kata's shared-files mount) and prints it.
pub fn smoke_pod(sandbox: Sandbox) -> Pod {
    let check = match sandbox {
        Sandbox::Gvisor => {
            "cat /proc/version; grep -q 'Sun Jan 10 15:06:54 PST 2016' /proc/version \
             && echo 'sandbox: gVisor Sentry' || { echo 'sandbox: NOT gVisor'; exit 1; }"
        }
        Sandbox::Kata(_) => {
            "uname -r; grep -q kataShared /proc/self/mountinfo \
             && echo 'sandbox: Kata guest VM' || { echo 'sandbox: NOT Kata'; exit 1; }"
        }
    };
    let class = sandbox.runtime_class();
    let mut spec = PodSpec {
        restart_policy: Some("Never".to_owned()),
        automount_service_account_token: Some(false),
        containers: vec![Container {
            name: "smoke".to_owned(),
            image: Some("busybox:1.37".to_owned()),
            command: Some(vec!["sh".to_owned(), "-c".to_owned(), check.to_owned()]),
            ..Container::default()
        }],
        ..PodSpec::default()
    };
    let mut changes = Vec::new();
    pods::place_in_sandbox(&mut spec, sandbox, &mut changes);
    pods::harden(&mut spec, Some(sandbox), &mut changes);
    if let Some(sc) = spec.security_context.as_mut() {
        // busybox runs as root unless told otherwise; runAsNonRoot needs a uid.
        sc.run_as_user = Some(65534);
    }
    Pod {
        metadata: ObjectMeta {
            name: Some(format!("sandprof-smoke-{class}")),
            labels: Some(BTreeMap::from([(
                "app.kubernetes.io/managed-by".to_owned(),
                "sandprof".to_owned(),
            )])),
            ..ObjectMeta::default()
        },
        spec: Some(spec),
        status: None,
    }
}

/// The change as a unified diff.
pub fn unified_diff(change: &ConfigChange) -> String {
    let path = change.path.display().to_string();
    similar::TextDiff::from_lines(&change.before, &change.after)
        .unified_diff()
        .context_radius(3)
        .header(&path, &format!("{path} (with sandprof handler)"))
        .to_string()
}

/// Writes the change: first a backup next to the file (never overwriting an earlier
/// one), then the new content through a temporary file renamed over the original, with
/// the original's permissions. Returns the backup's path.
pub fn write_change(change: &ConfigChange) -> anyhow::Result<PathBuf> {
    let path = &change.path;
    // Created first, so a config that cannot be replaced (a symlink, a directory that
    // is not writable) fails before a backup is left behind.
    let mut file = AtomicFile::create(path)?;
    let current = fs::read_to_string(path)
        .with_context(|| format!("failed to re-read {}", path.display()))?;
    if current != change.before {
        bail!(
            "{} changed while sandprof was reading it; run again",
            path.display()
        );
    }
    let backup = write_backup(path, &current)?;
    file.write_all(change.after.as_bytes())
        .with_context(|| format!("failed to write {}", path.display()))?;
    file.commit()?;
    Ok(backup)
}

/// Writes `content` to the first free `NAME.sandprof-backup[.N]` beside `path`, with
/// the config's mode and owner. The names are predictable on purpose (an operator must
/// find them), so each is created exclusively: a name that exists, a planted symlink
/// included, is skipped, never written through.
fn write_backup(path: &Path, content: &str) -> anyhow::Result<PathBuf> {
    let name = path
        .file_name()
        .with_context(|| format!("{} has no file name", path.display()))?
        .to_string_lossy()
        .into_owned();
    let original =
        fs::metadata(path).with_context(|| format!("failed to stat {}", path.display()))?;
    for n in 0..1000 {
        let suffix = if n == 0 {
            String::new()
        } else {
            format!(".{n}")
        };
        let candidate = path.with_file_name(format!("{name}.sandprof-backup{suffix}"));
        let mut backup = match atomic_file::create_new(&candidate) {
            Ok(file) => file,
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(err) => {
                return Err(err)
                    .with_context(|| format!("failed to create {}", candidate.display()))
            }
        };
        atomic_file::keep_owner_and_mode(&backup, &original)
            .and_then(|()| backup.write_all(content.as_bytes()))
            .and_then(|()| backup.sync_all())
            .with_context(|| {
                format!(
                    "failed to back up {} to {}",
                    path.display(),
                    candidate.display()
                )
            })?;
        return Ok(candidate);
    }
    bail!(
        "{}: 1000 sandprof backups already exist; remove old ones",
        path.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crio_refuses_a_containerd_config() {
        let existing = ExistingConfig {
            path: "/etc/containerd/config.toml".into(),
            text: "version = 2\n".into(),
        };
        let err = plan(Sandbox::Gvisor, Cri::Crio, Some(&existing), None, "n1")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "--config merges a containerd config; CRI-O takes a drop-in file instead"
        );
    }

    #[test]
    fn write_backs_up_then_replaces() {
        let dir = std::env::temp_dir().join(format!("sandprof-node-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("config.toml");
        fs::write(&path, "version = 2\n").unwrap();
        let change = ConfigChange {
            path: path.clone(),
            before: "version = 2\n".into(),
            after: "version = 2\n# merged\n".into(),
        };
        let backup = write_change(&change).unwrap();
        assert_eq!(backup, dir.join("config.toml.sandprof-backup"));
        assert_eq!(fs::read_to_string(&backup).unwrap(), "version = 2\n");
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "version = 2\n# merged\n"
        );
        // A second write keeps the first backup.
        let again = ConfigChange {
            before: change.after.clone(),
            after: "version = 2\n".into(),
            ..change
        };
        assert_eq!(
            write_change(&again).unwrap(),
            dir.join("config.toml.sandprof-backup.1")
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}
