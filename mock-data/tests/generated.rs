//! The generated demo services, checked as a department and the sandbox
//! would use them.

use std::collections::BTreeSet;

use domain::{CreditCode, ResidentId};
use mock_data::{DemoService, Expect, Visibility, demo_services, write_all};
use serde_json::Value;

fn services() -> Vec<DemoService> {
    demo_services()
}

#[test]
fn two_runs_write_byte_identical_directories() {
    let a = tempfile::tempdir().expect("temp dir");
    let b = tempfile::tempdir().expect("temp dir");
    write_all(a.path()).expect("write a");
    write_all(b.path()).expect("write b");
    let files = |root: &std::path::Path| {
        let mut out = Vec::new();
        let mut stack = vec![root.to_owned()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).expect("read dir") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    let rel = path.strip_prefix(root).expect("under root").to_owned();
                    out.push((rel, std::fs::read(&path).expect("read file")));
                }
            }
        }
        out.sort();
        out
    };
    let (fa, fb) = (files(a.path()), files(b.path()));
    assert!(
        fa.len() > 4 * 3,
        "contract, cases and a dataset per service, plus the index"
    );
    assert_eq!(fa, fb);
}

#[test]
fn there_are_four_services_with_at_least_twenty_cases_some_hidden() {
    let services = services();
    let slugs: Vec<&str> = services.iter().map(|s| s.slug.as_str()).collect();
    assert_eq!(
        slugs,
        [
            "social-insurance-records",
            "housing-fund-withdrawal",
            "traffic-violations",
            "property-registration-precheck"
        ]
    );
    for s in &services {
        assert!(
            s.cases.len() >= 20,
            "{} has {} cases",
            s.slug,
            s.cases.len()
        );
        let samples = s
            .cases
            .iter()
            .filter(|c| c.visibility == Visibility::Sample)
            .count();
        let hidden = s.cases.len() - samples;
        assert!(
            samples >= 3 && hidden >= 10,
            "{}: {samples} sample, {hidden} hidden",
            s.slug
        );
        let ids: BTreeSet<&str> = s.cases.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(
            ids.len(),
            s.cases.len(),
            "case ids are unique in {}",
            s.slug
        );
        for grant in &s.contract.datasets {
            let name = grant.split(':').next().unwrap_or(grant).trim();
            assert!(
                !s.datasets[name].is_empty(),
                "{}: dataset {name} is empty",
                s.slug
            );
        }
    }
}

#[test]
fn every_case_input_and_expected_output_match_the_contract_schemas() {
    for s in services() {
        let input =
            jsonschema::validator_for(&s.contract.input_schema).expect("input schema compiles");
        let output =
            jsonschema::validator_for(&s.contract.output_schema).expect("output schema compiles");
        for c in &s.cases {
            let errors: Vec<String> = input.iter_errors(&c.input).map(|e| e.to_string()).collect();
            assert!(errors.is_empty(), "{} {}: input {errors:?}", s.slug, c.id);
            let Expect::Equals { value } = &c.expect else {
                panic!("{} {}: expected an equals expectation", s.slug, c.id);
            };
            let errors: Vec<String> = output.iter_errors(value).map(|e| e.to_string()).collect();
            assert!(
                errors.is_empty(),
                "{} {}: expected output {errors:?}",
                s.slug,
                c.id
            );
        }
    }
}

#[test]
fn every_case_subject_and_every_id_in_the_data_is_checksum_valid() {
    let mut ids = 0;
    let mut codes = 0;
    for s in services() {
        for c in &s.cases {
            let subject = c
                .subject
                .as_deref()
                .expect("every demo case runs for a citizen");
            assert!(
                ResidentId::parse(subject).is_ok(),
                "{} {}: subject {subject}",
                s.slug,
                c.id
            );
        }
        for records in s.datasets.values() {
            for record in records.values() {
                visit(record, &mut |key, v| {
                    if let Some(text) = v.as_str() {
                        if key.ends_with("id_number") {
                            ids += 1;
                            assert!(
                                ResidentId::parse(text).is_ok(),
                                "{}: {key} = {text}",
                                s.slug
                            );
                        }
                        if key.ends_with("credit_code") {
                            codes += 1;
                            assert!(
                                CreditCode::parse(text).is_ok(),
                                "{}: {key} = {text}",
                                s.slug
                            );
                        }
                    }
                });
            }
        }
    }
    assert!(
        ids > 500 && codes > 100,
        "{ids} ids, {codes} credit codes checked"
    );
}

fn visit(v: &Value, f: &mut dyn FnMut(&str, &Value)) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                f(k, child);
                visit(child, f);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| visit(i, f)),
        _ => {}
    }
}

#[test]
fn the_social_insurance_service_keeps_the_agreed_record_format() {
    let services = services();
    let si = &services[0];
    assert_eq!(si.contract.datasets, ["social_insurance:subject"]);
    assert_eq!(
        si.contract.input_schema,
        serde_json::json!({"type":"object","title":"社保缴费记录查询","properties":{"months":{"type":"integer","minimum":1,"maximum":36,"title":"查询月数"}},"additionalProperties":false})
    );
    let (key, record) = si.datasets["social_insurance"]
        .iter()
        .next()
        .expect("records");
    assert_eq!(record["id_number"], key.as_str());
    let keys: BTreeSet<&str> = record
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from(["name", "id_number", "city", "records"])
    );
    let month = &record["records"][0];
    let keys: BTreeSet<&str> = month
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from([
            "month",
            "employer",
            "base_fen",
            "personal_fen",
            "employer_fen"
        ])
    );
    // Both found and not-found citizens, and some broken runs, are tested.
    let outputs: Vec<&Value> = si
        .cases
        .iter()
        .filter_map(|c| match &c.expect {
            Expect::Equals { value } => Some(value),
            _ => None,
        })
        .collect();
    assert!(outputs.iter().any(|o| o["found"] == false));
    assert!(
        outputs
            .iter()
            .any(|o| o["found"] == true && o["continuous_months"] != o["months_paid"])
    );
}

#[test]
fn the_suite_directory_has_the_files_the_sandbox_reads() {
    let dir = tempfile::tempdir().expect("temp dir");
    let services = write_all(dir.path()).expect("write");
    for s in &services {
        let root = dir.path().join(&s.slug);
        let contract: Value =
            serde_json::from_slice(&std::fs::read(root.join("contract.json")).expect("contract"))
                .expect("json");
        for field in [
            "input_schema",
            "output_schema",
            "datasets",
            "limits",
            "threshold_percent",
        ] {
            assert!(
                contract.get(field).is_some(),
                "{}: contract.json lacks {field}",
                s.slug
            );
        }
        let cases: Value =
            serde_json::from_slice(&std::fs::read(root.join("cases.json")).expect("cases"))
                .expect("json");
        assert_eq!(cases.as_array().map(Vec::len), Some(s.cases.len()));
        assert!(cases[0]["expect"]["kind"] == "equals" && cases[0]["visibility"] == "sample");
        for grant in &s.contract.datasets {
            let name = grant.split(':').next().unwrap_or(grant).trim();
            let data: Value = serde_json::from_slice(
                &std::fs::read(root.join("datasets").join(format!("{name}.json")))
                    .expect("dataset"),
            )
            .expect("json");
            assert_eq!(
                data.as_object().map(|o| o.len()),
                Some(s.datasets[name].len())
            );
        }
    }
    let index: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("services.json")).expect("index"))
            .expect("json");
    assert_eq!(index[0]["budget_fen"], 30_000_000);
}

#[test]
fn the_committed_suites_are_what_the_generator_writes() {
    // `mock-data/suites/` is checked in so that `govmarket app test --suite`
    // and the demo seed work without running the generator; this keeps it
    // honest. Regenerate with `cargo run -p mock-data -- mock-data/suites`.
    let committed = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("suites");
    let fresh = tempfile::tempdir().expect("temp dir");
    write_all(fresh.path()).expect("write");
    let mut stack = vec![fresh.path().to_owned()];
    let mut compared = 0;
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let rel = path.strip_prefix(fresh.path()).expect("under root");
            let theirs = std::fs::read(committed.join(rel)).unwrap_or_default();
            assert!(
                theirs == std::fs::read(&path).expect("read"),
                "mock-data/suites/{} is stale: run `cargo run -p mock-data -- mock-data/suites`",
                rel.display()
            );
            compared += 1;
        }
    }
    assert!(compared > 12);
}

#[test]
fn the_reference_answer_agrees_with_every_case_and_finds_the_demo_citizens_records() {
    for s in services() {
        for c in &s.cases {
            let Expect::Equals { value } = &c.expect else {
                continue;
            };
            let subject = c.subject.as_deref().unwrap_or("");
            assert_eq!(
                s.reference_answer(subject, &c.input).as_ref(),
                Some(value),
                "{} {}",
                s.slug,
                c.id
            );
        }
    }
    let services = services();
    let by_slug = |slug: &str| {
        services
            .iter()
            .find(|s| s.slug == slug)
            .expect("service exists")
    };
    let me = mock_data::demo_citizen::ID_NUMBER;
    let si = by_slug("social-insurance-records")
        .reference_answer(me, &serde_json::json!({"months": 24}))
        .expect("known service");
    assert_eq!(si["name"], mock_data::demo_citizen::NAME);
    // 2024-11, 2024-12 and 2026-01..=2026-10; the run starts after the gap.
    assert_eq!(
        (si["months_paid"].as_i64(), si["continuous_months"].as_i64()),
        (Some(12), Some(10))
    );
    let tv = by_slug("traffic-violations")
        .reference_answer(
            me,
            &serde_json::json!({"plate": mock_data::demo_citizen::PLATE, "only_unpaid": true}),
        )
        .expect("known service");
    assert_eq!(
        (tv["found"].as_bool(), tv["count"].as_i64()),
        (Some(true), Some(2))
    );
    let hf = by_slug("housing-fund-withdrawal")
        .reference_answer(
            me,
            &serde_json::json!({"purpose": "rent", "amount_fen": 300_000}),
        )
        .expect("known service");
    assert_eq!(hf["eligible"], true);
    assert_eq!(hf["max_amount_fen"], 450_000);
}

#[test]
fn every_service_states_its_rules_and_every_case_names_the_rule_it_checks() {
    for s in services() {
        assert!(
            s.rules_zh.starts_with("# ") && s.rules_zh.contains("## 规则"),
            "{}: no rules document",
            s.slug
        );
        let mut labels = std::collections::BTreeSet::new();
        for c in &s.cases {
            let rule = c.rule.as_deref().unwrap_or_default();
            assert!(
                !rule.is_empty() && rule.chars().count() <= 80,
                "{} {}: rule label {rule:?}",
                s.slug,
                c.id
            );
            // A label names a rule, never the case's data.
            if let Some(subject) = &c.subject {
                assert!(!rule.contains(subject.as_str()), "{} {}", s.slug, c.id);
            }
            labels.insert(rule.to_owned());
        }
        assert!(labels.len() >= 3, "{}: labels {labels:?}", s.slug);
    }
}
