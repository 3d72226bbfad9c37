//! The workloads `cargo xtask cost-accuracy` checks: the programs of `sandprof try`'s
//! calibration corpus that are not services, and longer ones, each dominated by a
//! different kind of call.

use std::path::Path;

use crate::corpus::Program;

/// One program whose cost is checked.
pub struct Workload {
    /// The name `--only` takes: the corpus program's, or the longer workload's.
    pub name: String,
    /// What the tables call it.
    pub label: String,
    pub command: Vec<String>,
    /// `--user` of the corpus program.
    pub user: Option<String>,
    /// From the corpus (else one of the longer workloads).
    pub corpus: bool,
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// The longer workloads: a second or more under runsc, each dominated by a different
/// kind of call. Writes go to /tmp, a fresh tmpfs in the container and in the profile.
pub fn longer_workloads() -> Vec<Workload> {
    let (files, mib) = tree_size(Path::new("/usr/share/doc"));
    let inserts: String = (1..=300)
        .map(|i| format!("insert into t values ({i}, 'row {i}');"))
        .collect();
    let python = "\
import decimal, email.message, http.client, json, sqlite3, unittest
class Check(unittest.TestCase):
    def test_json(self):
        for i in range(100000):
            self.assertEqual(json.loads(json.dumps({'i': i, 'l': [i] * 3}))['i'], i)
    def test_sqlite(self):
        db = sqlite3.connect(':memory:')
        db.execute('create table t(x)')
        db.executemany('insert into t values (?)', [(i,) for i in range(5000)])
        self.assertEqual(db.execute('select sum(x) from t').fetchone()[0], 12497500)
    def test_decimal(self):
        self.assertEqual(sum(decimal.Decimal('0.1') for _ in range(1000)), 100)
    def test_email(self):
        m = email.message.EmailMessage()
        m['Subject'] = 'x'
        self.assertEqual(m['Subject'], 'x')
unittest.main(argv=['check'])
";
    let longer = |name: &str, label: String, command: Vec<String>| Workload {
        name: name.to_owned(),
        label,
        command,
        user: None,
        corpus: false,
    };
    vec![
        longer(
            "tar",
            format!("tar of /usr/share/doc ({files} files, {mib:.0} MiB) to /tmp"),
            strings(&[
                "/usr/bin/tar",
                "-C",
                "/usr/share",
                "-cf",
                "/tmp/doc.tar",
                "doc",
            ]),
        ),
        longer(
            "sqlite3-inserts",
            "sqlite3: 300 single-row transactions on /tmp".to_owned(),
            vec![
                "/usr/bin/sqlite3".to_owned(),
                "/tmp/w.db".to_owned(),
                format!("create table t(x, y);{inserts}select count(*) from t;"),
            ],
        ),
        longer(
            "python3-unittest",
            "python3: unittest run (JSON, sqlite3, decimal, email)".to_owned(),
            vec![
                "/usr/bin/python3".to_owned(),
                "-c".to_owned(),
                python.to_owned(),
            ],
        ),
        longer(
            "find",
            "find /usr/include -name '*.h'".to_owned(),
            strings(&["/usr/bin/find", "/usr/include", "-name", "*.h"]),
        ),
        longer(
            "fork-exec",
            "sh: 200 × fork+exec of busybox true".to_owned(),
            strings(&[
                "/bin/sh",
                "-c",
                "i=0; while [ $i -lt 200 ]; do /bin/busybox true; i=$((i + 1)); done",
            ]),
        ),
    ]
}

/// Regular files under `dir` and their size in MiB (symbolic links not followed).
fn tree_size(dir: &Path) -> (u64, f64) {
    let (mut files, mut bytes) = (0, 0);
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            match entry.metadata() {
                Ok(m) if m.is_dir() => pending.push(entry.path()),
                Ok(m) if m.is_file() => {
                    files += 1;
                    bytes += m.len();
                }
                _ => {}
            }
        }
    }
    (files, bytes as f64 / (1024.0 * 1024.0))
}

/// The corpus programs that exit on their own, and the names of the services.
pub fn corpus_workloads(root: &Path) -> anyhow::Result<(Vec<Workload>, Vec<String>)> {
    let corpus = crate::corpus::load(root)?;
    let (services, programs): (Vec<Program>, Vec<Program>) =
        corpus.program.into_iter().partition(|p| p.service);
    let workloads = programs
        .into_iter()
        .map(|p| Workload {
            label: p.name.clone(),
            name: p.name,
            command: p.command,
            user: p.user,
            corpus: true,
        })
        .collect();
    Ok((workloads, services.into_iter().map(|p| p.name).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_corpus_without_its_services_and_five_longer_workloads() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let (programs, services) = corpus_workloads(&root).unwrap();
        let text = std::fs::read_to_string(root.join("tests/corpus/corpus.toml")).unwrap();
        let entries = text.matches("[[program]]").count();
        let marked = text.matches("\nservice = true").count();
        assert_eq!((programs.len(), services.len()), (entries - marked, marked));
        assert!(services.iter().any(|s| s == "nginx"));
        assert!(programs.iter().any(|w| w.name == "date"));
        assert!(programs.iter().all(|w| w.corpus && w.label == w.name));
        let longer: Vec<String> = longer_workloads().into_iter().map(|w| w.name).collect();
        assert_eq!(
            longer,
            [
                "tar",
                "sqlite3-inserts",
                "python3-unittest",
                "find",
                "fork-exec"
            ]
        );
        let sqlite = &longer_workloads()[1];
        assert_eq!(
            sqlite.command[2].matches("insert into t values").count(),
            300
        );
    }
}
