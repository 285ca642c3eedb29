//! The evaluator: runs every case of a suite in the sandbox and writes the report
//! (verdicts, totals, the pass decision) that the server, the CLI and the web share.

use std::sync::Arc;

use domain::Verdict;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::case::*;
use super::contract::*;
use crate::datasets::DatasetProvider;
use crate::host::QueryRecord;
use crate::limits::ResolvedLimits;
use crate::runtime::{ModuleInfo, ModuleRef, RunContext, RunRequest, Sandbox};
use crate::validate::Rejection;

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
    /// The rule the case checks (kept in the ISV's view of a hidden case: it names the
    /// rule, not the data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
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
                    rule: case.rule.clone(),
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
    pub(super) fn tally(&mut self) {
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
        rule: case.rule.clone(),
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
    // The case names a mock person; the app sees their suite pseudonym, as it would see a
    // citizen's per-app pseudonym on the platform.
    let identity = case
        .subject
        .clone()
        .unwrap_or_else(|| options.default_subject.clone());
    let request = RunRequest {
        input: case.input.clone(),
        context: RunContext {
            subject: crate::access::suite_pseudonym(&identity),
            locale: options.locale.clone(),
            now: options.now.clone(),
        },
        seed: case_seed(&case.id),
        identity: (!identity.is_empty()).then_some(identity),
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
