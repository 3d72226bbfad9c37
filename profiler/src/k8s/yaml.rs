//! Kubernetes manifests as text: reading multi-document YAML with errors that name the
//! file, the document and the line, writing documents back, and checking that a
//! document means the same thing once read into the real Kubernetes API types.

use std::fmt;

use anyhow::{anyhow, bail, Context as _};
use serde::de::DeserializeOwned;
use serde::{Deserialize as _, Serialize};
use serde_json::Value;

/// One document of a manifest file.
#[derive(Clone, Debug, PartialEq)]
pub struct Document {
    /// Where it came from.
    pub origin: Origin,
    /// Its content.
    pub value: Value,
}

/// A document's place: the file and its 1-based position among the file's documents.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Origin {
    /// File as given on the command line.
    pub file: String,
    /// 1-based document index in that file (empty documents count).
    pub document: usize,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}, document {}", self.file, self.document)
    }
}

impl Document {
    /// `kind`, or an error naming the document.
    pub fn kind(&self) -> anyhow::Result<&str> {
        self.str_field("kind")
    }

    /// `apiVersion`, or an error naming the document.
    pub fn api_version(&self) -> anyhow::Result<&str> {
        self.str_field("apiVersion")
    }

    /// `metadata.name`, or `<unnamed>`.
    pub fn name(&self) -> &str {
        self.value
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("<unnamed>")
    }

    fn str_field(&self, key: &str) -> anyhow::Result<&str> {
        match self.value.get(key) {
            Some(Value::String(s)) => Ok(s),
            Some(other) => bail!("{}: `{key}` is {other}, not a string", self.origin),
            None => bail!("{}: no `{key}` field", self.origin),
        }
    }

    /// Reads the document into a Kubernetes API type, refusing any field the type would
    /// silently drop (a typo, or a field newer than the API version sandprof knows).
    pub fn typed<T: DeserializeOwned + Serialize>(&self) -> anyhow::Result<T> {
        parse_exact(&self.value).with_context(|| {
            format!(
                "{}: not a valid {} {}",
                self.origin,
                self.value
                    .get("apiVersion")
                    .and_then(Value::as_str)
                    .unwrap_or("?"),
                self.value
                    .get("kind")
                    .and_then(Value::as_str)
                    .unwrap_or("?"),
            )
        })
    }
}

/// Reads manifest files and splits each into its documents; returns the file names (as
/// given) and every document, in order. Errors name the file (and the document).
pub fn read_manifests(
    paths: &[std::path::PathBuf],
) -> anyhow::Result<(Vec<String>, Vec<Document>)> {
    let mut files = Vec::with_capacity(paths.len());
    let mut documents = Vec::new();
    for path in paths {
        let file = path.display().to_string();
        let text =
            std::fs::read_to_string(path).with_context(|| format!("failed to read {file}"))?;
        documents.extend(parse_documents(&file, &text)?);
        files.push(file);
    }
    Ok((files, documents))
}

/// Splits `text` (the content of `file`) into its YAML documents. Empty documents (a
/// trailing `---`, comments only) are skipped but keep their index; every other document
/// must be a mapping.
pub fn parse_documents(file: &str, text: &str) -> anyhow::Result<Vec<Document>> {
    let mut documents = Vec::new();
    for (index, de) in serde_norway::Deserializer::from_str(text).enumerate() {
        let origin = Origin {
            file: file.to_owned(),
            document: index + 1,
        };
        let value = match Value::deserialize(de) {
            Ok(value) => value,
            // serde_norway's message carries the line and column in the file.
            Err(err) => return Err(anyhow!("{origin}: invalid YAML: {err}")),
        };
        match value {
            Value::Null => {}
            Value::Object(_) => documents.push(Document { origin, value }),
            other => bail!(
                "{origin}: a manifest document must be a mapping, found {}",
                json_type(&other)
            ),
        }
    }
    Ok(documents)
}

/// Writes documents as one YAML stream, `---` between them.
pub fn to_yaml_stream<T: Serialize>(documents: &[T]) -> anyhow::Result<String> {
    let mut out = String::new();
    for (i, doc) in documents.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        out.push_str(&serde_norway::to_string(doc).context("failed to write YAML")?);
    }
    Ok(out)
}

/// Deserializes `value` into `T` and fails if serializing `T` back loses or changes
/// anything. Numbers written where the API wants a string (a quantity `cpu: 1`) compare
/// equal to that string.
pub fn parse_exact<T: DeserializeOwned + Serialize>(value: &Value) -> anyhow::Result<T> {
    let typed = T::deserialize(value).map_err(|e| anyhow!("{e}"))?;
    let back = serde_json::to_value(&typed).context("failed to serialize")?;
    if let Some(path) = first_difference(value, &back, String::new()) {
        bail!("field `{path}` is not part of the Kubernetes 1.37 API type or has an invalid value");
    }
    Ok(typed)
}

/// JSON pointer-like path of the first place `a` and `b` differ.
fn first_difference(a: &Value, b: &Value, path: String) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, va) in x {
                let sub = format!("{path}.{k}");
                match y.get(k) {
                    Some(vb) => {
                        if let Some(p) = first_difference(va, vb, sub) {
                            return Some(p);
                        }
                    }
                    // An explicit null the type does not keep means the same as absent.
                    None if va.is_null() => {}
                    None => return Some(sub.trim_start_matches('.').to_owned()),
                }
            }
            y.keys()
                .find(|k| !x.contains_key(*k))
                .map(|k| format!("{path}.{k}").trim_start_matches('.').to_owned())
        }
        (Value::Array(x), Value::Array(y)) => {
            if x.len() != y.len() {
                return Some(path.trim_start_matches('.').to_owned());
            }
            x.iter()
                .zip(y)
                .enumerate()
                .find_map(|(i, (va, vb))| first_difference(va, vb, format!("{path}[{i}]")))
        }
        (Value::Number(n), Value::String(s)) if n.to_string() == *s => None,
        _ if a == b => None,
        _ => Some(path.trim_start_matches('.').to_owned()),
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a sequence",
        Value::Object(_) => "a mapping",
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::node::v1::RuntimeClass;

    use super::*;

    #[test]
    fn documents_keep_their_index_across_empty_ones() {
        let text = "---\n# only a comment\n---\nkind: Pod\napiVersion: v1\n---\nkind: Job\n";
        let docs = parse_documents("m.yaml", text).unwrap();
        let at: Vec<_> = docs
            .iter()
            .map(|d| (d.origin.document, d.kind().unwrap()))
            .collect();
        assert_eq!(at, vec![(2, "Pod"), (3, "Job")]);
    }

    #[test]
    fn invalid_yaml_names_file_document_and_line() {
        let text = "kind: Pod\n---\nkind: [Job\nname: x\n";
        let err = parse_documents("bad.yaml", text).unwrap_err().to_string();
        assert_eq!(
            err,
            "bad.yaml, document 2: invalid YAML: did not find expected ',' or ']' at line 4 \
             column 5, while parsing a flow sequence at line 3 column 7"
        );
    }

    #[test]
    fn scalar_document_is_refused() {
        let err = parse_documents("s.yaml", "just text\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "s.yaml, document 1: a manifest document must be a mapping, found a string"
        );
    }

    #[test]
    fn unknown_field_is_refused_not_dropped() {
        let text = "apiVersion: node.k8s.io/v1\nkind: RuntimeClass\nmetadata: {name: x}\n\
                    handler: runsc\nhandlr: typo\n";
        let doc = &parse_documents("rc.yaml", text).unwrap()[0];
        let err = format!("{:#}", doc.typed::<RuntimeClass>().unwrap_err());
        assert_eq!(
            err,
            "rc.yaml, document 1: not a valid node.k8s.io/v1 RuntimeClass: field `handlr` is \
             not part of the Kubernetes 1.37 API type or has an invalid value"
        );
    }

    #[test]
    fn numeric_quantity_equals_its_string() {
        let text = "apiVersion: node.k8s.io/v1\nkind: RuntimeClass\nmetadata: {name: x}\n\
                    handler: runsc\noverhead: {podFixed: {cpu: 1}}\n";
        let doc = &parse_documents("rc.yaml", text).unwrap()[0];
        let rc: RuntimeClass = doc.typed().unwrap();
        assert_eq!(rc.handler, "runsc");
    }
}
