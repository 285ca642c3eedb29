//! `govmarket app test`: a module against a suite directory.

use std::process::Command;

use crate::text;

fn guest(path: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../sandbox/guest")
        .join(path)
}

#[test]
fn app_test_passes_the_correct_app_and_fails_the_buggy_one_on_a_hidden_case() {
    let run = |wasm: &str, extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_govmarket"))
            .arg("app")
            .arg("test")
            .arg(guest(wasm))
            .arg("--suite")
            .arg(guest("suites/social-insurance"))
            .args(extra)
            .output()
            .unwrap()
    };
    let good = run("wasm/si_lookup.wasm", &[]);
    assert_eq!(good.status.code(), Some(0), "{}", text(&good));
    assert!(text(&good).contains("PASSED"), "{}", text(&good));

    let bad = run("wasm/si_lookup_buggy.wasm", &["--json", "--isv-view"]);
    assert_eq!(bad.status.code(), Some(1), "{}", text(&bad));
    let report: serde_json::Value = serde_json::from_slice(&bad.stdout).unwrap();
    assert_eq!(report["passed"], false);
    let cases = report["cases"].as_array().unwrap();
    let failed: Vec<_> = cases
        .iter()
        .filter(|c| c["verdict"] != "accepted")
        .collect();
    assert_eq!(failed.len(), 1, "{report}");
    assert_eq!(failed[0]["visibility"], "hidden");
    assert!(
        failed[0].get("expected").is_none_or(|e| e.is_null()),
        "hidden cases reveal only the verdict"
    );
}

#[test]
fn app_test_rejects_a_module_that_is_not_wasm() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.wasm");
    std::fs::write(&junk, b"this is not a module").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_govmarket"))
        .args(["app", "test"])
        .arg(&junk)
        .arg("--suite")
        .arg(guest("suites/social-insurance"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}
