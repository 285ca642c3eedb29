//! Where `gov.query` finds records: the datasets an order grants its apps.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::access::{Access, DatasetGrant};

/// The datasets one run may read. The server implements it over the order's datasets in the
/// database; [`MemoryDatasets`] holds them in memory for tests, suite directories and the CLI.
///
/// Both methods are called on the run's thread while the guest waits, so they should be cheap
/// (a map lookup, not a network round trip per key).
pub trait DatasetProvider: Send + Sync {
    /// How the order's contract lets apps reach the records of `dataset`; `None` when it is not
    /// granted (or granted without a rule). A query on a dataset that is not granted answers
    /// "not permitted" even when the provider holds it.
    fn access(&self, dataset: &str) -> Option<&Access>;

    /// The record stored under `key`, as compact JSON bytes, or `None` when there is none.
    /// The full record: the host reads owner fields in it, and hands the app [`Self::shown`].
    fn get(&self, dataset: &str, key: &str) -> Option<Arc<[u8]>>;

    /// The record under `key` as the app may see it: projected to the fields its grant names,
    /// without identity fields ([`crate::access::project`]). The default projects [`Self::get`]
    /// on each call; [`MemoryDatasets`] projects once when it loads.
    fn shown(&self, dataset: &str, key: &str) -> Option<Arc<[u8]>> {
        let raw = self.get(dataset, key)?;
        Some(match serde_json::from_slice::<serde_json::Value>(&raw) {
            Ok(v) => serde_json::to_vec(&crate::access::project(&v, None))
                .unwrap_or_default()
                .into(),
            // Not JSON: nothing to project, and no field to strip.
            Err(_) => raw,
        })
    }
}

/// Errors loading datasets from JSON files.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    /// A file or directory could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path that failed.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A dataset file is not a JSON object of key -> record.
    #[error("{path} is not a JSON object of key -> record: {reason}")]
    Format {
        /// The offending file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}

/// Datasets held in memory: name -> key -> record (compact JSON bytes), plus the grant list.
#[derive(Debug, Clone, Default)]
pub struct MemoryDatasets {
    datasets: HashMap<String, HashMap<String, Arc<[u8]>>>,
    /// Each record as apps see it (projected), sharing the full one when nothing is dropped.
    shown: HashMap<String, HashMap<String, Arc<[u8]>>>,
    granted: BTreeMap<String, Access>,
    fields: BTreeMap<String, Vec<String>>,
}

impl MemoryDatasets {
    /// An empty set with no grants.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add (or replace) a dataset from a map of key -> record.
    pub fn insert_dataset(
        &mut self,
        name: impl Into<String>,
        records: impl IntoIterator<Item = (String, serde_json::Value)>,
    ) {
        let records = records
            .into_iter()
            .map(|(key, record)| {
                // Serialising a `Value` cannot fail: its map keys are strings.
                let bytes = serde_json::to_vec(&record).unwrap_or_default();
                (key, Arc::<[u8]>::from(bytes))
            })
            .collect();
        let name = name.into();
        self.datasets.insert(name.clone(), records);
        self.project_dataset(&name);
    }

    /// Recomputes what apps see of `name`'s records under its grant's fields.
    fn project_dataset(&mut self, name: &str) {
        let Some(records) = self.datasets.get(name) else {
            return;
        };
        let fields = self.fields.get(name).map(Vec::as_slice);
        let shown = records
            .iter()
            .map(|(key, raw)| {
                let shown = match serde_json::from_slice::<serde_json::Value>(raw) {
                    Ok(v) => {
                        let bytes = serde_json::to_vec(&crate::access::project(&v, fields))
                            .unwrap_or_default();
                        if bytes[..] == raw[..] {
                            Arc::clone(raw)
                        } else {
                            bytes.into()
                        }
                    }
                    Err(_) => Arc::clone(raw),
                };
                (key.clone(), shown)
            })
            .collect();
        self.shown.insert(name.to_owned(), shown);
    }

    /// Grant apps access to `dataset` under `access`.
    pub fn grant(&mut self, dataset: impl Into<String>, access: Access) -> &mut Self {
        let dataset = dataset.into();
        self.granted.insert(dataset.clone(), access);
        if self.fields.remove(&dataset).is_some() {
            self.project_dataset(&dataset);
        }
        self
    }

    /// Replace the grant list with the contract's `datasets`. A grant without a rule (a contract
    /// stored before rules existed) grants nothing.
    pub fn set_grants<'a, I>(&mut self, grants: I) -> &mut Self
    where
        I: IntoIterator<Item = &'a DatasetGrant>,
    {
        let grants: Vec<&DatasetGrant> = grants.into_iter().collect();
        self.granted = grants
            .iter()
            .filter_map(|g| Some((g.name.clone(), g.access.clone()?)))
            .collect();
        let fields: BTreeMap<String, Vec<String>> = grants
            .iter()
            .filter_map(|g| Some((g.name.clone(), g.fields.clone()?)))
            .collect();
        if fields != self.fields {
            self.fields = fields;
            let names: Vec<String> = self.datasets.keys().cloned().collect();
            for name in names {
                self.project_dataset(&name);
            }
        }
        self
    }

    /// Names of the datasets held, sorted.
    pub fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.datasets.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }

    /// Number of records in `dataset` (0 when absent).
    pub fn len_of(&self, dataset: &str) -> usize {
        self.datasets.get(dataset).map_or(0, HashMap::len)
    }

    /// Load one dataset from a JSON file holding an object of key -> record.
    pub fn load_file(&mut self, name: &str, path: &Path) -> Result<(), DatasetError> {
        let text = std::fs::read(path).map_err(|source| DatasetError::Io {
            path: path.to_owned(),
            source,
        })?;
        let records: BTreeMap<String, serde_json::Value> =
            serde_json::from_slice(&text).map_err(|e| DatasetError::Format {
                path: path.to_owned(),
                reason: e.to_string(),
            })?;
        self.insert_dataset(name, records);
        Ok(())
    }

    /// Load every `NAME.json` in `dir` as dataset `NAME`. Grants nothing: the contract decides.
    pub fn load_dir(dir: &Path) -> Result<Self, DatasetError> {
        let mut sets = Self::new();
        let entries = std::fs::read_dir(dir).map_err(|source| DatasetError::Io {
            path: dir.to_owned(),
            source,
        })?;
        let mut files = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|source| DatasetError::Io {
                path: dir.to_owned(),
                source,
            })?;
            let path = entry.path();
            if path.extension().and_then(|e| e.to_str()) == Some("json") {
                files.push(path);
            }
        }
        files.sort();
        for path in files {
            if let Some(name) = path.file_stem().and_then(|s| s.to_str()) {
                let name = name.to_owned();
                sets.load_file(&name, &path)?;
            }
        }
        Ok(sets)
    }
}

impl DatasetProvider for MemoryDatasets {
    fn access(&self, dataset: &str) -> Option<&Access> {
        self.granted.get(dataset)
    }

    fn get(&self, dataset: &str, key: &str) -> Option<Arc<[u8]>> {
        self.datasets.get(dataset)?.get(key).cloned()
    }

    fn shown(&self, dataset: &str, key: &str) -> Option<Arc<[u8]>> {
        self.shown.get(dataset)?.get(key).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_dataset_directory_loads_each_file_as_a_dataset_without_granting_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("people.json"),
            r#"{"330106199001011234": {"name": "张三"}}"#,
        )
        .expect("write");
        std::fs::write(dir.path().join("notes.txt"), "ignored").expect("write");
        let mut sets = MemoryDatasets::load_dir(dir.path()).expect("loads");
        assert_eq!(sets.names(), vec!["people"]);
        assert!(sets.access("people").is_none());
        sets.grant("people", Access::Subject);
        assert_eq!(sets.access("people"), Some(&Access::Subject));
        let record = sets.get("people", "330106199001011234").expect("present");
        let value: serde_json::Value = serde_json::from_slice(&record).expect("json");
        assert_eq!(value, json!({"name": "张三"}));
        assert!(sets.get("people", "nobody").is_none());
    }

    #[test]
    fn a_dataset_file_that_is_not_an_object_is_a_format_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("bad.json"), "[1, 2]").expect("write");
        let err = MemoryDatasets::load_dir(dir.path()).expect_err("rejects");
        assert!(matches!(err, DatasetError::Format { .. }), "{err}");
    }
}
