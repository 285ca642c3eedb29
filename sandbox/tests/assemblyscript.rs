//! The AssemblyScript kit (`guest/assemblyscript/`): its library's unit tests and its example
//! app, as committed, run in the platform's sandbox; and the committed modules are the ones its
//! sources build to (rebuilt with the pinned compiler when npm is on the machine).

use std::path::{Path, PathBuf};
use std::process::Command;

use sandbox::{EvalOptions, Sandbox, SandboxConfig, SuiteDir, TestReport, Verdict};

fn kit() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("guest/assemblyscript")
}

fn evaluate(sandbox: &Sandbox, module: &Path, suite: &Path) -> TestReport {
    let wasm = std::fs::read(module).unwrap_or_else(|e| panic!("{}: {e}", module.display()));
    SuiteDir::load(suite)
        .expect("suite loads")
        .evaluate(sandbox, &wasm, &EvalOptions::default(), &mut |_| {})
        .expect("contract is valid")
}

fn assert_passes(report: &TestReport, what: &str) {
    let failed: Vec<_> = report
        .cases
        .iter()
        .filter(|c| c.verdict != Verdict::Accepted)
        .map(|c| (&c.id, c.verdict, c.stderr.clone()))
        .collect();
    assert!(report.passed && failed.is_empty(), "{what}: {failed:?}");
    assert_eq!(report.score_percent, 100, "{what}");
}

#[test]
fn the_json_library_passes_its_unit_tests_in_the_sandbox() {
    let sandbox = Sandbox::new(SandboxConfig::default()).expect("sandbox");
    let report = evaluate(
        &sandbox,
        &kit().join("wasm/json_test.wasm"),
        &kit().join("tests/suite"),
    );
    assert_passes(&report, "json_test.wasm");
}

#[test]
fn the_assemblyscript_housing_fund_app_passes_the_demo_suite_like_its_c_twin() {
    let sandbox = Sandbox::new(SandboxConfig::default()).expect("sandbox");
    let suite =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../mock-data/suites/housing-fund-withdrawal");
    let report = evaluate(&sandbox, &kit().join("wasm/hf_check_as.wasm"), &suite);
    assert_passes(&report, "hf_check_as.wasm");
    let c_twin = evaluate(
        &sandbox,
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("guest/examples/hf_check/hf_check.wasm"),
        &suite,
    );
    for (a, c) in report.cases.iter().zip(&c_twin.cases) {
        assert_eq!(a.id, c.id);
        assert_eq!(a.actual, c.actual, "{}: the same answer as the C app", a.id);
    }
}

/// `sha256sum` lines of the kit's SHA256SUMS: (hash, path).
fn manifest(dir: &Path) -> Vec<(String, String)> {
    std::fs::read_to_string(dir.join("SHA256SUMS"))
        .expect("SHA256SUMS")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let (hash, path) = l.split_once(' ').expect("a sha256sum line");
            let path = path.strip_prefix([' ', '*']).unwrap_or(path);
            (hash.to_owned(), path.to_owned())
        })
        .collect()
}

#[test]
fn the_committed_modules_are_what_the_sources_build_to() {
    let listed = manifest(&kit());
    let mut built: Vec<String> = std::fs::read_dir(kit().join("wasm"))
        .expect("wasm/")
        .flatten()
        .map(|e| format!("wasm/{}", e.file_name().to_string_lossy()))
        .collect();
    built.sort();
    let mut names: Vec<String> = listed.iter().map(|(_, p)| p.clone()).collect();
    names.sort();
    assert_eq!(
        built, names,
        "every committed module is listed in SHA256SUMS"
    );
    for (hash, path) in &listed {
        let bytes = std::fs::read(kit().join(path)).expect("listed module");
        assert_eq!(
            &Sandbox::sha256_hex(&bytes),
            hash,
            "{path} changed since build.sh wrote SHA256SUMS"
        );
    }

    if Command::new("npm").arg("--version").output().is_err() {
        println!(
            "npm is not installed: the committed modules were checked against SHA256SUMS, \
             not rebuilt (install Node.js and npm to rebuild them here)"
        );
        return;
    }
    // A copy without node_modules, so the pinned compiler of package-lock.json is what builds.
    let work = tempfile::tempdir().unwrap();
    for entry in [
        "assembly",
        "examples",
        "tests",
        "asconfig.json",
        "package.json",
    ]
    .into_iter()
    .chain(["package-lock.json", "build.sh"])
    {
        copy(&kit().join(entry), &work.path().join(entry));
    }
    let out = Command::new("sh")
        .arg("build.sh")
        .current_dir(work.path())
        .output()
        .expect("sh runs");
    assert!(
        out.status.success(),
        "build.sh failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        manifest(work.path()),
        listed,
        "the sources build to other modules than the committed ones: run guest/assemblyscript/build.sh"
    );
}

fn copy(from: &Path, to: &Path) {
    if from.is_dir() {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap().flatten() {
            copy(&entry.path(), &to.join(entry.file_name()));
        }
    } else {
        std::fs::copy(from, to).unwrap_or_else(|e| panic!("{}: {e}", from.display()));
    }
}
