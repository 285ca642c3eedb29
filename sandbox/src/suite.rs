//! Test suites: cases, the order's contract, the evaluator and the report the server, the CLI
//! and the web share.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use domain::Verdict;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::datasets::{DatasetError, DatasetProvider, MemoryDatasets};
use crate::host::QueryRecord;
use crate::limits::{Limits, ResolvedLimits};
use crate::runtime::{ModuleInfo, ModuleRef, RunContext, RunOutcome, RunRequest, Sandbox};
use crate::validate::Rejection;

/// Bytes of stdout/stderr kept per case in a report: enough to debug a sample case, small
/// enough that a report of a few hundred cases stays a normal database row.
pub const REPORT_LOG_BYTES: usize = 4096;

/// The share of hidden cases (by weight) a version must pass when the contract names none.
pub const DEFAULT_THRESHOLD_PERCENT: u8 = 100;

/// Whether the ISV sees a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Published to ISVs with its input and expectation.
    Sample,
    /// Known only to the department; ISVs see its id and verdict.
    Hidden,
}

/// What a case expects of the app's output (which must match the output schema in any case).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Expect {
    /// The output equals `value` (numbers compare by value: `1` equals `1.0`).
    Equals {
        /// The expected output.
        value: Value,
    },
    /// The output contains `value`: every key of an expected object is present with a
    /// containing value; arrays have the same length and contain element by element; other
    /// values are equal.
    Contains {
        /// The expected part of the output.
        value: Value,
    },
    /// Only the output schema is checked.
    Schema,
}

/// One test case of an order's suite.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestCase {
    /// Unique within the suite.
    pub id: String,
    /// What the case checks, in words.
    #[serde(default)]
    pub description: String,
    /// The `input` sent to the app.
    #[serde(default = "empty_object")]
    pub input: Value,
    /// The `context.subject` (for the example service, a resident ID number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// The expectation.
    pub expect: Expect,
    /// Sample or hidden; hidden when absent, so an unmarked case never leaks.
    #[serde(default = "hidden")]
    pub visibility: Visibility,
    /// Weight in the hidden-case threshold and the score.
    #[serde(default = "one")]
    pub weight: u32,
}

fn empty_object() -> Value {
    Value::Object(serde_json::Map::new())
}

fn hidden() -> Visibility {
    Visibility::Hidden
}

fn one() -> u32 {
    1
}

fn default_threshold() -> u8 {
    DEFAULT_THRESHOLD_PERCENT
}

/// An order's contract: schemas, data permissions, limits and the pass threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contract {
    /// JSON Schema of `input`.
    pub input_schema: Value,
    /// JSON Schema of the app's output.
    pub output_schema: Value,
    /// Datasets apps may query.
    #[serde(default)]
    pub datasets: Vec<String>,
    /// Resource limits (absent fields take the platform defaults).
    #[serde(default)]
    pub limits: Limits,
    /// Share of hidden cases, by weight, that must be accepted (0-100).
    #[serde(default = "default_threshold", alias = "threshold")]
    pub threshold_percent: u8,
}

/// A contract that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContractError {
    /// A schema is not a valid JSON Schema.
    #[error("the {which} schema is invalid: {reason}")]
    Schema {
        /// `input` or `output`.
        which: &'static str,
        /// The validator's message.
        reason: String,
    },
    /// The threshold is over 100.
    #[error("threshold_percent {0} is over 100")]
    Threshold(u8),
}

/// A contract's schemas, compiled once and reused for every case or invocation.
pub struct ContractSchemas {
    input: jsonschema::Validator,
    output: jsonschema::Validator,
}

impl std::fmt::Debug for ContractSchemas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ContractSchemas")
    }
}

fn schema_errors(validator: &jsonschema::Validator, value: &Value) -> Result<(), Vec<String>> {
    let errors: Vec<String> = validator
        .iter_errors(value)
        .take(10)
        .map(|e| {
            let path = e.instance_path().to_string();
            if path.is_empty() {
                e.to_string()
            } else {
                format!("{path}: {e}")
            }
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

impl ContractSchemas {
    /// Check a citizen's (or a case's) input; the errors name the offending paths.
    pub fn check_input(&self, input: &Value) -> Result<(), Vec<String>> {
        schema_errors(&self.input, input)
    }

    /// Check an app's output; the errors name the offending paths.
    pub fn check_output(&self, output: &Value) -> Result<(), Vec<String>> {
        schema_errors(&self.output, output)
    }

    /// Downgrade an accepted run whose output breaks the output schema to `invalid_output`,
    /// as the platform does for every invocation.
    pub fn judge_output(&self, outcome: &mut RunOutcome) {
        if outcome.verdict != Verdict::Accepted {
            return;
        }
        let Some(output) = &outcome.output else {
            return;
        };
        if let Err(errors) = self.check_output(output) {
            outcome.verdict = Verdict::InvalidOutput;
            outcome.detail = Some(format!(
                "output does not match the output schema: {}",
                errors.join("; ")
            ));
        }
    }
}

impl Contract {
    /// Compile the schemas.
    pub fn schemas(&self) -> Result<ContractSchemas, ContractError> {
        if self.threshold_percent > 100 {
            return Err(ContractError::Threshold(self.threshold_percent));
        }
        let compile = |which, schema: &Value| {
            jsonschema::validator_for(schema).map_err(|e| ContractError::Schema {
                which,
                reason: e.to_string(),
            })
        };
        Ok(ContractSchemas {
            input: compile("input", &self.input_schema)?,
            output: compile("output", &self.output_schema)?,
        })
    }
}

/// Numbers compare by value, containers structurally.
pub fn json_equal(actual: &Value, expected: &Value) -> bool {
    match (actual, expected) {
        (Value::Number(a), Value::Number(e)) => match (a.as_i64(), e.as_i64()) {
            (Some(a), Some(e)) => a == e,
            _ => match (a.as_u64(), e.as_u64()) {
                (Some(a), Some(e)) => a == e,
                _ => a.as_f64() == e.as_f64(),
            },
        },
        (Value::Array(a), Value::Array(e)) => {
            a.len() == e.len() && a.iter().zip(e).all(|(a, e)| json_equal(a, e))
        }
        (Value::Object(a), Value::Object(e)) => {
            a.len() == e.len()
                && e.iter()
                    .all(|(k, ev)| a.get(k).is_some_and(|av| json_equal(av, ev)))
        }
        _ => actual == expected,
    }
}

/// Whether `actual` contains `expected` in the sense of [`Expect::Contains`].
pub fn json_contains(actual: &Value, expected: &Value) -> bool {
    match (actual, expected) {
        (Value::Object(a), Value::Object(e)) => e
            .iter()
            .all(|(k, ev)| a.get(k).is_some_and(|av| json_contains(av, ev))),
        (Value::Array(a), Value::Array(e)) => {
            a.len() == e.len() && a.iter().zip(e).all(|(a, e)| json_contains(a, e))
        }
        _ => json_equal(actual, expected),
    }
}

/// How a test run is set up beyond the suite itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvalOptions {
    /// `context.now` for every case: fixed, so a test run is reproducible.
    pub now: String,
    /// `context.locale` for every case.
    pub locale: String,
    /// `context.subject` for cases that name none.
    pub default_subject: String,
}

impl Default for EvalOptions {
    fn default() -> Self {
        Self {
            now: "2026-07-01T09:00:00+08:00".into(),
            locale: "zh-CN".into(),
            default_subject: String::new(),
        }
    }
}

/// Progress of a test run, reported after each case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseProgress<'a> {
    /// Cases finished so far (1-based).
    pub done: usize,
    /// Cases in the suite.
    pub total: usize,
    /// The case just finished.
    pub id: &'a str,
    /// Its verdict.
    pub verdict: Verdict,
}

/// One case's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseResult {
    /// The case id.
    pub id: String,
    /// Sample or hidden.
    pub visibility: Visibility,
    /// The verdict.
    pub verdict: Verdict,
    /// The case's weight (absent in the ISV's view of a hidden case, as are all fields below).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<u32>,
    /// The case description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Why the verdict is not `accepted`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Instructions executed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<u64>,
    /// Peak linear memory in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_memory_bytes: Option<u64>,
    /// Wall time in microseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wall_time_us: Option<u64>,
    /// `gov.query` calls made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queries: Option<Vec<QueryRecord>>,
    /// The case input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<Value>,
    /// What the case expected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<Expect>,
    /// What the app answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual: Option<Value>,
    /// stdout, truncated to [`REPORT_LOG_BYTES`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdout: Option<String>,
    /// stderr (the app's log), truncated to [`REPORT_LOG_BYTES`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stderr: Option<String>,
}

/// Counts behind the pass rule.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// Cases run.
    pub cases: u32,
    /// Cases accepted.
    pub accepted: u32,
    /// Sample cases.
    pub sample_cases: u32,
    /// Sample cases accepted.
    pub sample_accepted: u32,
    /// Hidden cases.
    pub hidden_cases: u32,
    /// Hidden cases accepted.
    pub hidden_accepted: u32,
    /// Total weight of the hidden cases.
    pub hidden_weight: u64,
    /// Weight of the accepted hidden cases.
    pub hidden_weight_accepted: u64,
}

/// The result of a test run of one version against an order's suite.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestReport {
    /// Whether the version passes: every sample case accepted, and at least the threshold of
    /// hidden cases by weight.
    pub passed: bool,
    /// Accepted weight over total weight of all cases, in percent (rounded down).
    pub score_percent: u32,
    /// The pass threshold for hidden cases, in percent.
    pub threshold_percent: u8,
    /// Why the module was refused, when it was (then every case is `rejected`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejection: Option<Rejection>,
    /// The module, when it was accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module: Option<ModuleInfo>,
    /// The limits the cases ran under.
    pub limits: ResolvedLimits,
    /// The counts.
    pub totals: Totals,
    /// One result per case, in suite order.
    pub cases: Vec<CaseResult>,
}

impl TestReport {
    /// The report as an ISV may see it: hidden cases carry only their id and verdict.
    pub fn isv_view(&self) -> TestReport {
        let mut view = self.clone();
        for case in &mut view.cases {
            if case.visibility == Visibility::Hidden {
                *case = CaseResult {
                    id: case.id.clone(),
                    visibility: Visibility::Hidden,
                    verdict: case.verdict,
                    weight: None,
                    description: None,
                    detail: None,
                    instructions: None,
                    peak_memory_bytes: None,
                    wall_time_us: None,
                    queries: None,
                    input: None,
                    expected: None,
                    actual: None,
                    stdout: None,
                    stderr: None,
                };
            }
        }
        view
    }

    /// Fill `totals`, `score_percent` and `passed` from `cases`.
    fn tally(&mut self) {
        let mut totals = Totals::default();
        let (mut weight, mut weight_accepted) = (0u64, 0u64);
        for case in &self.cases {
            let accepted = case.verdict.is_accepted();
            let w = u64::from(case.weight.unwrap_or(1));
            totals.cases += 1;
            weight += w;
            if accepted {
                totals.accepted += 1;
                weight_accepted += w;
            }
            match case.visibility {
                Visibility::Sample => {
                    totals.sample_cases += 1;
                    totals.sample_accepted += u32::from(accepted);
                }
                Visibility::Hidden => {
                    totals.hidden_cases += 1;
                    totals.hidden_accepted += u32::from(accepted);
                    totals.hidden_weight += w;
                    if accepted {
                        totals.hidden_weight_accepted += w;
                    }
                }
            }
        }
        self.score_percent = (weight_accepted * 100)
            .checked_div(weight)
            .map_or(0, |p| u32::try_from(p).unwrap_or(100));
        let hidden_ok = totals.hidden_weight_accepted * 100
            >= u64::from(self.threshold_percent) * totals.hidden_weight;
        // An empty suite proves nothing, so it passes nothing.
        self.passed = self.rejection.is_none()
            && totals.cases > 0
            && totals.sample_accepted == totals.sample_cases
            && hidden_ok;
        self.totals = totals;
    }
}

fn truncate_log(text: &str) -> String {
    if text.len() <= REPORT_LOG_BYTES {
        return text.to_owned();
    }
    let mut end = REPORT_LOG_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// A stable per-case seed, so a case's random numbers do not depend on its position.
fn case_seed(id: &str) -> u64 {
    // FNV-1a: tiny, stable across platforms and releases (unlike `DefaultHasher`).
    id.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Run every case of a suite against a module and judge it; `progress` is called after each
/// case. This is the platform's test run and the ISV's local `govmarket app test` alike.
pub fn evaluate_suite(
    sandbox: &Sandbox,
    wasm: &[u8],
    contract: &Contract,
    cases: &[TestCase],
    data: Arc<dyn DatasetProvider>,
    options: &EvalOptions,
    progress: &mut dyn FnMut(&CaseProgress<'_>),
) -> Result<TestReport, ContractError> {
    let schemas = contract.schemas()?;
    let limits = sandbox.resolve(&contract.limits);
    let mut report = TestReport {
        passed: false,
        score_percent: 0,
        threshold_percent: contract.threshold_percent,
        rejection: None,
        module: None,
        limits,
        totals: Totals::default(),
        cases: Vec::with_capacity(cases.len()),
    };
    match sandbox.validate(wasm, &contract.limits) {
        Ok(info) => report.module = Some(info),
        Err(rejection) => report.rejection = Some(rejection),
    }
    let total = cases.len();
    for (index, case) in cases.iter().enumerate() {
        let result = match &report.module {
            None => CaseResult {
                detail: report.rejection.as_ref().map(ToString::to_string),
                ..blank_result(case, Verdict::Rejected)
            },
            Some(info) => run_case(
                sandbox,
                &info.sha256,
                wasm,
                contract,
                &schemas,
                case,
                &data,
                options,
            ),
        };
        progress(&CaseProgress {
            done: index + 1,
            total,
            id: &case.id,
            verdict: result.verdict,
        });
        report.cases.push(result);
    }
    report.tally();
    Ok(report)
}

fn blank_result(case: &TestCase, verdict: Verdict) -> CaseResult {
    CaseResult {
        id: case.id.clone(),
        visibility: case.visibility,
        verdict,
        weight: Some(case.weight),
        description: Some(case.description.clone()),
        detail: None,
        instructions: None,
        peak_memory_bytes: None,
        wall_time_us: None,
        queries: None,
        input: Some(case.input.clone()),
        expected: Some(case.expect.clone()),
        actual: None,
        stdout: None,
        stderr: None,
    }
}

#[allow(clippy::too_many_arguments)]
fn run_case(
    sandbox: &Sandbox,
    sha256: &str,
    wasm: &[u8],
    contract: &Contract,
    schemas: &ContractSchemas,
    case: &TestCase,
    data: &Arc<dyn DatasetProvider>,
    options: &EvalOptions,
) -> CaseResult {
    if let Err(errors) = schemas.check_input(&case.input) {
        // The suite's fault, not the app's: say so instead of blaming the version.
        return CaseResult {
            detail: Some(format!(
                "the case input does not match the input schema: {}",
                errors.join("; ")
            )),
            ..blank_result(case, Verdict::InternalError)
        };
    }
    let request = RunRequest {
        input: case.input.clone(),
        context: RunContext {
            subject: case
                .subject
                .clone()
                .unwrap_or_else(|| options.default_subject.clone()),
            locale: options.locale.clone(),
            now: options.now.clone(),
        },
        seed: case_seed(&case.id),
    };
    // By sha256 when the module is cached (it was validated just now), so the bytes are not
    // hashed again per case; by bytes when the cache lost it.
    let module = if sandbox.has_module(sha256) {
        ModuleRef::Sha256(sha256)
    } else {
        ModuleRef::Wasm(wasm)
    };
    let mut outcome = sandbox.run(module, &request, Arc::clone(data), &contract.limits);
    schemas.judge_output(&mut outcome);
    if outcome.verdict == Verdict::Accepted
        && let Some(output) = &outcome.output
    {
        let matches = match &case.expect {
            Expect::Equals { value } => json_equal(output, value),
            Expect::Contains { value } => json_contains(output, value),
            Expect::Schema => true,
        };
        if !matches {
            outcome.verdict = Verdict::WrongAnswer;
            outcome.detail = Some("the output differs from the expected output".into());
        }
    }
    CaseResult {
        detail: outcome.detail,
        instructions: Some(outcome.instructions),
        peak_memory_bytes: Some(outcome.peak_memory_bytes),
        wall_time_us: Some(outcome.wall_time_us),
        queries: Some(outcome.queries),
        actual: outcome.output,
        stdout: Some(truncate_log(&outcome.stdout)),
        stderr: Some(truncate_log(&outcome.stderr)),
        ..blank_result(case, outcome.verdict)
    }
}

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
        for name in &contract.datasets {
            if !datasets.names().contains(&name.as_str()) {
                return Err(SuiteError::MissingDataset(name.clone()));
            }
        }
        datasets.set_grants(contract.datasets.iter().cloned());
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn equality_compares_numbers_by_value_and_contains_ignores_extra_keys() {
        assert!(json_equal(
            &json!({"a": 1.0, "b": [1]}),
            &json!({"b": [1], "a": 1})
        ));
        assert!(!json_equal(&json!({"a": 1, "b": 2}), &json!({"a": 1})));
        assert!(json_contains(
            &json!({"a": 1, "b": {"c": 2, "d": 3}}),
            &json!({"b": {"c": 2}})
        ));
        assert!(!json_contains(&json!({"a": 1}), &json!({"a": 2})));
        assert!(!json_contains(&json!([1, 2]), &json!([1])));
    }

    #[test]
    fn case_json_uses_snake_case_kinds_and_defaults_to_hidden() {
        let case: TestCase = serde_json::from_value(json!({
            "id": "c1",
            "input": {"months": 3},
            "expect": {"kind": "contains", "value": {"found": true}}
        }))
        .expect("parses");
        assert_eq!(case.visibility, Visibility::Hidden);
        assert_eq!(case.weight, 1);
        assert_eq!(
            case.expect,
            Expect::Contains {
                value: json!({"found": true})
            }
        );
        let schema_only: Expect = serde_json::from_value(json!({"kind": "schema"})).expect("ok");
        assert_eq!(schema_only, Expect::Schema);
    }

    fn result(id: &str, visibility: Visibility, weight: u32, verdict: Verdict) -> CaseResult {
        CaseResult {
            id: id.into(),
            visibility,
            verdict,
            weight: Some(weight),
            description: Some("secret description".into()),
            detail: Some("detail".into()),
            instructions: Some(10),
            peak_memory_bytes: Some(10),
            wall_time_us: Some(10),
            queries: Some(Vec::new()),
            input: Some(json!({"secret": true})),
            expected: Some(Expect::Schema),
            actual: Some(json!({})),
            stdout: Some("out".into()),
            stderr: Some("err".into()),
        }
    }

    fn report(threshold: u8, cases: Vec<CaseResult>) -> TestReport {
        let mut report = TestReport {
            passed: false,
            score_percent: 0,
            threshold_percent: threshold,
            rejection: None,
            module: None,
            limits: ResolvedLimits::DEFAULT,
            totals: Totals::default(),
            cases,
        };
        report.tally();
        report
    }

    #[test]
    fn a_version_passes_with_every_sample_and_the_threshold_of_hidden_weight() {
        let cases = vec![
            result("s1", Visibility::Sample, 1, Verdict::Accepted),
            result("h1", Visibility::Hidden, 3, Verdict::Accepted),
            result("h2", Visibility::Hidden, 1, Verdict::WrongAnswer),
        ];
        let at_75 = report(75, cases.clone());
        assert!(at_75.passed);
        assert_eq!(at_75.totals.hidden_weight_accepted, 3);
        assert_eq!(at_75.score_percent, 80);
        assert!(!report(100, cases.clone()).passed);

        let mut failed_sample = cases;
        failed_sample[0].verdict = Verdict::RuntimeError;
        assert!(!report(0, failed_sample).passed);
        assert!(!report(0, Vec::new()).passed);
    }

    fn contract_with_output_schema(output_schema: Value) -> Contract {
        Contract {
            input_schema: json!({"type": "object"}),
            output_schema,
            datasets: Vec::new(),
            limits: Limits::default(),
            threshold_percent: 100,
        }
    }

    fn accepted_with(output: Value) -> RunOutcome {
        let mut outcome = RunOutcome::not_started(Verdict::Accepted, String::new());
        outcome.detail = None;
        outcome.output = Some(output);
        outcome
    }

    #[test]
    fn output_breaking_the_output_schema_is_judged_invalid_output_naming_each_path() {
        let schemas = contract_with_output_schema(json!({
            "type": "object",
            "properties": {
                "found": {"type": "boolean"},
                "months_paid": {"type": "integer", "maximum": 36}
            },
            "required": ["found", "months_paid"]
        }))
        .schemas()
        .expect("valid schemas");

        let mut outcome = accepted_with(json!({"found": "yes", "months_paid": 40}));
        schemas.judge_output(&mut outcome);
        assert_eq!(outcome.verdict, Verdict::InvalidOutput);
        let detail = outcome.detail.as_deref().unwrap_or_default();
        assert!(
            detail.starts_with("output does not match the output schema: "),
            "{detail}"
        );
        assert!(
            detail.contains("/found") && detail.contains("/months_paid"),
            "{detail}"
        );
        // The ISV debugging the case still sees what the app wrote.
        assert_eq!(
            outcome.output,
            Some(json!({"found": "yes", "months_paid": 40}))
        );

        let mut missing = accepted_with(json!({"found": true}));
        schemas.judge_output(&mut missing);
        assert_eq!(missing.verdict, Verdict::InvalidOutput);
        assert!(
            missing
                .detail
                .as_deref()
                .is_some_and(|d| d.contains("months_paid")),
            "{missing:?}"
        );
    }

    #[test]
    fn judging_leaves_a_valid_output_accepted_and_another_verdict_alone() {
        let schemas = contract_with_output_schema(json!({
            "type": "object",
            "required": ["found"]
        }))
        .schemas()
        .expect("valid schemas");

        let mut valid = accepted_with(json!({"found": false}));
        schemas.judge_output(&mut valid);
        assert_eq!(valid.verdict, Verdict::Accepted);
        assert_eq!(valid.detail, None);

        // A run that already failed keeps its own verdict and reason, whatever its output.
        let mut timed_out = accepted_with(json!({"other": 1}));
        timed_out.verdict = Verdict::TimeLimitExceeded;
        timed_out.detail = Some("instruction limit of 10 reached".into());
        schemas.judge_output(&mut timed_out);
        assert_eq!(timed_out.verdict, Verdict::TimeLimitExceeded);
        assert_eq!(
            timed_out.detail.as_deref(),
            Some("instruction limit of 10 reached")
        );
    }

    #[test]
    fn the_isv_view_shows_only_id_and_verdict_of_hidden_cases() {
        let full = report(
            100,
            vec![
                result("s1", Visibility::Sample, 1, Verdict::Accepted),
                result("h1", Visibility::Hidden, 1, Verdict::WrongAnswer),
            ],
        );
        let view = full.isv_view();
        assert_eq!(view.cases[0], full.cases[0]);
        let hidden = serde_json::to_value(&view.cases[1]).expect("serialises");
        assert_eq!(
            hidden,
            json!({"id": "h1", "visibility": "hidden", "verdict": "wrong_answer"})
        );
        assert_eq!(view.totals, full.totals);
    }
}
