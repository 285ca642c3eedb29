//! Test suites: cases, the order's contract, the evaluator and the report the server, the CLI
//! and the web share. The contract's checks (`contract`) are apart from the evaluator that
//! runs a suite (`evaluate`); `dir` reads a suite from disk.

mod case;
mod contract;
mod dir;
mod evaluate;

pub use case::*;
pub use contract::*;
pub use dir::*;
pub use evaluate::*;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::{Limits, ResolvedLimits};
    use crate::runtime::RunOutcome;
    use domain::Verdict;
    use serde_json::Value;
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
            rule: Some("拒绝他人申请".into()),
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
    fn the_isv_view_shows_only_id_verdict_and_rule_of_hidden_cases() {
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
            json!({"id": "h1", "visibility": "hidden", "verdict": "wrong_answer",
                   "rule": "拒绝他人申请"})
        );
        assert_eq!(view.totals, full.totals);
    }
}
