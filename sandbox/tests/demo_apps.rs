//! The apps the demo market publishes, against the suites of the demo
//! services (`mock-data/suites/`, what the demo department's orders hold):
//! each competing pair passes, the careful one of a pair for fewer
//! instructions, and the buggy social-insurance app fails on the year-long
//! gap only.

use std::path::{Path, PathBuf};

use sandbox::{EvalOptions, Sandbox, SandboxConfig, SuiteDir, TestReport, Verdict, Visibility};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn module(path: &str) -> Vec<u8> {
    let path = root().join("sandbox/guest").join(path);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn evaluate(sandbox: &Sandbox, wasm: &str, slug: &str) -> TestReport {
    let suite =
        SuiteDir::load(&root().join("mock-data/suites").join(slug)).expect("demo suite loads");
    suite
        .evaluate(sandbox, &module(wasm), &EvalOptions::default(), &mut |_| {})
        .expect("contract is valid")
}

fn instructions(report: &TestReport) -> u64 {
    report.cases.iter().filter_map(|c| c.instructions).sum()
}

#[test]
fn each_competing_pair_of_demo_apps_passes_its_suite_the_careful_one_for_fewer_instructions() {
    let sandbox = Sandbox::new(SandboxConfig::default()).expect("sandbox");
    let pairs = [
        (
            "social-insurance-records",
            "wasm/si_lookup.wasm",
            "examples/si_lookup_basic/si_lookup_basic.wasm",
        ),
        (
            "traffic-violations",
            "examples/traffic_lookup/traffic_lookup.wasm",
            "examples/traffic_lookup_basic/traffic_lookup_basic.wasm",
        ),
        (
            "housing-fund-withdrawal",
            "examples/hf_check/hf_check.wasm",
            "examples/hf_check_basic/hf_check_basic.wasm",
        ),
    ];
    for (slug, careful, basic) in pairs {
        let good = evaluate(&sandbox, careful, slug);
        let plain = evaluate(&sandbox, basic, slug);
        for (name, report) in [(careful, &good), (basic, &plain)] {
            let failed: Vec<_> = report
                .cases
                .iter()
                .filter(|c| c.verdict != Verdict::Accepted)
                .map(|c| (&c.id, c.verdict))
                .collect();
            assert!(
                report.passed && failed.is_empty(),
                "{name} on {slug}: {failed:?}"
            );
            assert_eq!(report.score_percent, 100, "{name} on {slug}");
        }
        // The visible difference in quality: the basic app does the same
        // work the long way.
        assert!(
            instructions(&plain) > 2 * instructions(&good),
            "{slug}: basic {} vs careful {} instructions",
            instructions(&plain),
            instructions(&good)
        );
    }
}

#[test]
fn the_property_precheck_app_passes_its_suite_through_the_owner_rule_alone() {
    // It never sees an ID number: another person's certificate is refused
    // by the grant's owner rule, and it answers applicant_not_owner.
    let sandbox = Sandbox::new(SandboxConfig::default()).expect("sandbox");
    let report = evaluate(
        &sandbox,
        "examples/property_precheck/property_precheck.wasm",
        "property-registration-precheck",
    );
    let failed: Vec<_> = report
        .cases
        .iter()
        .filter(|c| c.verdict != Verdict::Accepted)
        .map(|c| (&c.id, c.verdict))
        .collect();
    assert!(report.passed && failed.is_empty(), "{failed:?}");
    assert!(
        report.cases.iter().any(|c| c
            .actual
            .as_ref()
            .is_some_and(|a| a["issues"][0] == "applicant_not_owner")),
        "the suite has another person's certificate"
    );
}

#[test]
fn the_buggy_social_insurance_app_fails_the_demo_suite_on_the_year_long_gap_only() {
    let sandbox = Sandbox::new(SandboxConfig::default()).expect("sandbox");
    let report = evaluate(
        &sandbox,
        "wasm/si_lookup_buggy.wasm",
        "social-insurance-records",
    );
    assert!(!report.passed);
    let failed: Vec<_> = report
        .cases
        .iter()
        .filter(|c| c.verdict != Verdict::Accepted)
        .collect();
    assert!(!failed.is_empty());
    for case in &failed {
        assert_eq!(case.verdict, Verdict::WrongAnswer, "{case:#?}");
        assert_eq!(case.visibility, Visibility::Hidden, "{}", case.id);
        let description = case.description.as_deref().unwrap_or("");
        assert!(
            description.contains("整年断缴"),
            "{}: {description}",
            case.id
        );
    }
}
