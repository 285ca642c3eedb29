//! Deterministic generator of the demo services: their contracts, mock
//! datasets and test suites, plus simulated usage for settlement demos.
//!
//! Everything is derived from fixed seeds through a hand-written PRNG
//! ([`rng::Rng`]), so the output is byte-identical across runs, machines
//! and dependency upgrades. Expected outputs of test cases are computed by
//! Rust reference implementations of each service's rule, over the very
//! records written to the datasets, so they are right by construction.
//!
//! ```no_run
//! for service in mock_data::demo_services() {
//!     mock_data::write_to_dir(&service, std::path::Path::new("out").join(&service.slug).as_path())?;
//! }
//! # Ok::<(), mock_data::WriteError>(())
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use domain::Fen;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub mod demo_citizen;
pub mod people;
pub mod rng;
mod services;
pub mod usage;

pub use people::Citizen;
pub use usage::{SimulatedQuarter, SimulatedRating, SimulatedUse, simulate_quarter};

/// The seed of the demo population; changing it changes every dataset.
pub const DEMO_SEED: u64 = 20_261_123;
/// How many citizens the demo population has.
pub const DEMO_POPULATION: usize = 240;
/// The demo datasets' "today": records run up to the month before.
pub fn reference_date() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2026, 11, 1).expect("valid date")
}

/// An order's contract as a suite directory's `contract.json` holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contract {
    pub input_schema: Value,
    pub output_schema: Value,
    /// The datasets apps may query, each with its access rule (`NAME: RULE`,
    /// see `sandbox::access`).
    pub datasets: Vec<String>,
    /// Resource limits; empty means the platform defaults.
    pub limits: Value,
    /// Share of hidden cases (by weight) a version must pass, in percent.
    pub threshold_percent: u8,
}

/// What a case expects of the app's output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Expect {
    /// The output equals `value` exactly.
    Equals { value: Value },
    /// The output contains `value` (a JSON subset).
    Contains { value: Value },
    /// The output only has to match the output schema.
    Schema,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    Sample,
    Hidden,
}

/// One test case, in the format of `cases.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestCase {
    pub id: String,
    pub description: String,
    pub input: Value,
    /// The citizen the app runs for (`context.subject`): a resident ID number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    pub expect: Expect,
    pub visibility: Visibility,
    pub weight: u32,
    /// The rule of the service's rules document this case checks, which
    /// vendors see beside its verdict (hidden cases too): never its data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
}

/// A dataset: key -> record, ordered so that output is deterministic.
pub type Dataset = BTreeMap<String, Value>;

/// One demo service: what a department publishes as a requirement order.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoService {
    /// Stable identifier, also the suite directory's name.
    pub slug: String,
    pub title_zh: String,
    pub title_en: String,
    pub description_zh: String,
    pub description_en: String,
    /// The department's rules document (Markdown, Chinese): field meanings,
    /// each rule, edge cases; the order's rules and the suite's `RULES.md`.
    pub rules_zh: String,
    /// Category shown in the market, in Chinese (e.g. 社会保障).
    pub category: String,
    /// The publishing department's name.
    pub department: String,
    /// The quarterly budget.
    pub budget: Fen,
    pub contract: Contract,
    /// Dataset name -> records.
    pub datasets: BTreeMap<String, Dataset>,
    pub cases: Vec<TestCase>,
}

impl DemoService {
    /// What the service's reference rule answers when citizen `subject`
    /// asks `input`, over this service's datasets: the right output of a
    /// use of any of its apps. `None` for a service this crate does not know.
    pub fn reference_answer(&self, subject: &str, input: &Value) -> Option<Value> {
        let lookup =
            |dataset: &str, key: Option<&str>| key.and_then(|k| self.datasets.get(dataset)?.get(k));
        let field = |name: &str| input.get(name).and_then(Value::as_str);
        Some(match self.slug.as_str() {
            "social-insurance-records" => services::social_insurance::answer(
                lookup(services::social_insurance::DATASET, Some(subject)),
                input,
            ),
            "housing-fund-withdrawal" => services::housing_fund::answer(
                lookup(services::housing_fund::DATASET, Some(subject)),
                input,
            ),
            "traffic-violations" => services::traffic::answer(
                lookup(services::traffic::DATASET, field("plate")),
                subject,
                input,
            ),
            "property-registration-precheck" => services::property::answer(
                lookup(services::property::DATASET, field("certificate_no")),
                subject,
                input,
            ),
            _ => return None,
        })
    }
}

/// Summary of a service for `services.json` (the demo seed reads it).
#[derive(Debug, Clone, Serialize)]
struct ServiceIndexEntry<'a> {
    slug: &'a str,
    title_zh: &'a str,
    title_en: &'a str,
    description_zh: &'a str,
    description_en: &'a str,
    category: &'a str,
    department: &'a str,
    budget_fen: Fen,
    cases: usize,
}

/// The demo services, modelled on real one-stop services:
/// 社保缴费记录查询, 公积金提取资格核验, 交通违法查询, 不动产登记预审.
pub fn demo_services() -> Vec<DemoService> {
    let population = demo_citizens();
    vec![
        services::social_insurance::service(&population),
        services::housing_fund::service(&population),
        services::traffic::service(&population),
        services::property::service(&population),
    ]
}

/// The demo population the datasets are about. Demo citizen accounts
/// should use these resident ID numbers, so that using an app as one of
/// them finds records.
pub fn demo_citizens() -> Vec<Citizen> {
    people::population(DEMO_SEED, DEMO_POPULATION)
}

/// A file of the suite directory could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot serialise {path}: {source}")]
    Json {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("dataset name `{0}` is not a safe file name")]
    BadDatasetName(String),
}

fn write_json<T: Serialize + ?Sized>(path: &Path, value: &T) -> Result<(), WriteError> {
    let mut text = serde_json::to_string_pretty(value).map_err(|source| WriteError::Json {
        path: path.to_owned(),
        source,
    })?;
    text.push('\n');
    std::fs::write(path, text).map_err(|source| WriteError::Io {
        path: path.to_owned(),
        source,
    })
}

/// Writes a dataset as a JSON object with one record per line: a tenth of
/// the pretty-printed size, and a changed record is a one-line diff.
fn write_dataset(path: &Path, records: &Dataset) -> Result<(), WriteError> {
    let json_err = |source| WriteError::Json {
        path: path.to_owned(),
        source,
    };
    let mut text = String::from("{\n");
    for (i, (key, record)) in records.iter().enumerate() {
        if i > 0 {
            text.push_str(",\n");
        }
        text.push_str(&serde_json::to_string(key).map_err(json_err)?);
        text.push_str(": ");
        text.push_str(&serde_json::to_string(record).map_err(json_err)?);
    }
    text.push_str("\n}\n");
    std::fs::write(path, text).map_err(|source| WriteError::Io {
        path: path.to_owned(),
        source,
    })
}

fn create_dir(path: &Path) -> Result<(), WriteError> {
    std::fs::create_dir_all(path).map_err(|source| WriteError::Io {
        path: path.to_owned(),
        source,
    })
}

/// Writes `service` as a suite directory that `govmarket app test --suite
/// DIR` reads: `contract.json`, `cases.json` and `datasets/NAME.json`
/// (a JSON object key -> record), with the rules document as `RULES.md`.
/// Creates `dir` if needed.
pub fn write_to_dir(service: &DemoService, dir: &Path) -> Result<(), WriteError> {
    create_dir(dir)?;
    write_json(&dir.join("contract.json"), &service.contract)?;
    write_json(&dir.join("cases.json"), &service.cases)?;
    let rules = dir.join("RULES.md");
    std::fs::write(&rules, &service.rules_zh).map_err(|source| WriteError::Io {
        path: rules.clone(),
        source,
    })?;
    let datasets = dir.join("datasets");
    create_dir(&datasets)?;
    for (name, records) in &service.datasets {
        let safe = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !safe {
            return Err(WriteError::BadDatasetName(name.clone()));
        }
        write_dataset(&datasets.join(format!("{name}.json")), records)?;
    }
    Ok(())
}

/// Writes every demo service to `dir/SLUG/`, and `dir/services.json`
/// listing their titles, departments and budgets.
pub fn write_all(dir: &Path) -> Result<Vec<DemoService>, WriteError> {
    let services = demo_services();
    create_dir(dir)?;
    for service in &services {
        write_to_dir(service, &dir.join(&service.slug))?;
    }
    let index: Vec<ServiceIndexEntry<'_>> = services
        .iter()
        .map(|s| ServiceIndexEntry {
            slug: &s.slug,
            title_zh: &s.title_zh,
            title_en: &s.title_en,
            description_zh: &s.description_zh,
            description_en: &s.description_en,
            category: &s.category,
            department: &s.department,
            budget_fen: s.budget,
            cases: s.cases.len(),
        })
        .collect();
    write_json(&dir.join("services.json"), &index)?;
    Ok(services)
}
