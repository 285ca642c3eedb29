//! A suite directory on disk (the starter kit, `govmarket app test`): contract and cases.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;

use super::case::*;
use super::contract::*;
use super::evaluate::*;
use crate::datasets::{DatasetError, MemoryDatasets};
use crate::runtime::Sandbox;

/// Errors loading a suite directory.
#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file is not what the format says.
    #[error("{path}: {reason}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A dataset could not be loaded.
    #[error(transparent)]
    Dataset(#[from] DatasetError),
    /// The contract's schemas or threshold are unusable.
    #[error("contract.json: {0}")]
    Contract(#[from] ContractError),
    /// Two cases share an id.
    #[error("case id `{0}` appears more than once")]
    DuplicateCase(String),
    /// The contract grants a dataset the directory does not hold.
    #[error("contract.json grants dataset `{0}` but datasets/{0}.json is missing")]
    MissingDataset(String),
}

/// A suite directory: `contract.json`, `cases.json` or `cases/*.json`, `datasets/NAME.json`.
/// This is what `govmarket app test --suite DIR` reads and what an ISV's starter kit unpacks to.
#[derive(Debug, Clone)]
pub struct SuiteDir {
    /// The order's contract.
    pub contract: Contract,
    /// The cases, in file order.
    pub cases: Vec<TestCase>,
    /// The datasets, granted as the contract says.
    pub datasets: MemoryDatasets,
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, SuiteError> {
    let bytes = std::fs::read(path).map_err(|source| SuiteError::Io {
        path: path.to_owned(),
        source,
    })?;
    serde_json::from_slice(&bytes).map_err(|e| SuiteError::Format {
        path: path.to_owned(),
        reason: e.to_string(),
    })
}

#[derive(Deserialize)]
#[serde(untagged)]
enum CasesFile {
    List(Vec<TestCase>),
    Wrapped { cases: Vec<TestCase> },
    One(Box<TestCase>),
}

impl CasesFile {
    fn into_cases(self) -> Vec<TestCase> {
        match self {
            CasesFile::List(cases) | CasesFile::Wrapped { cases } => cases,
            CasesFile::One(case) => vec![*case],
        }
    }
}

impl SuiteDir {
    /// Load and check a suite directory.
    pub fn load(dir: &Path) -> Result<Self, SuiteError> {
        let contract: Contract = read_json(&dir.join("contract.json"))?;
        contract.schemas()?;

        let mut cases = Vec::new();
        let single = dir.join("cases.json");
        if single.exists() {
            cases.extend(read_json::<CasesFile>(&single)?.into_cases());
        }
        let case_dir = dir.join("cases");
        if case_dir.is_dir() {
            let mut files = Vec::new();
            let entries = std::fs::read_dir(&case_dir).map_err(|source| SuiteError::Io {
                path: case_dir.clone(),
                source,
            })?;
            for entry in entries {
                let path = entry
                    .map_err(|source| SuiteError::Io {
                        path: case_dir.clone(),
                        source,
                    })?
                    .path();
                if path.extension().and_then(|e| e.to_str()) == Some("json") {
                    files.push(path);
                }
            }
            files.sort();
            for path in files {
                cases.extend(read_json::<CasesFile>(&path)?.into_cases());
            }
        }
        let mut seen = HashSet::new();
        for case in &cases {
            if !seen.insert(case.id.as_str()) {
                return Err(SuiteError::DuplicateCase(case.id.clone()));
            }
        }

        let dataset_dir = dir.join("datasets");
        let mut datasets = if dataset_dir.is_dir() {
            MemoryDatasets::load_dir(&dataset_dir)?
        } else {
            MemoryDatasets::new()
        };
        for name in contract.dataset_names() {
            if !datasets.names().contains(&name) {
                return Err(SuiteError::MissingDataset(name.to_owned()));
            }
        }
        datasets.set_grants(&contract.datasets);
        Ok(Self {
            contract,
            cases,
            datasets,
        })
    }

    /// Evaluate `wasm` against this suite.
    pub fn evaluate(
        &self,
        sandbox: &Sandbox,
        wasm: &[u8],
        options: &EvalOptions,
        progress: &mut dyn FnMut(&CaseProgress<'_>),
    ) -> Result<TestReport, ContractError> {
        evaluate_suite(
            sandbox,
            wasm,
            &self.contract,
            &self.cases,
            Arc::new(self.datasets.clone()),
            options,
            progress,
        )
    }
}
