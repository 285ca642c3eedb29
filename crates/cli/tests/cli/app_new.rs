//! `govmarket app new`: from an order's kit to a project that builds and runs its sample cases, in C and AssemblyScript.

use std::process::{Command, Output};

use crate::{serve_demo, text};

/// clang with a wasm32-wasi sysroot, or why not.
fn wasm_toolchain(dir: &std::path::Path) -> Result<(), String> {
    let probe = dir.join("probe.c");
    std::fs::write(&probe, "int main(void) { return 0; }\n").unwrap();
    let out = Command::new("clang")
        .args(["--target=wasm32-wasi", "-o"])
        .arg(dir.join("probe.wasm"))
        .arg(&probe)
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

fn app(args: &[&str], cwd: &std::path::Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_govmarket"))
        .current_dir(cwd)
        .args(args)
        .env("GOVMARKET_LOG", "warn")
        .env_remove("GOVMARKET_TOKEN")
        .output()
        .expect("run govmarket")
}

/// The guest kit's example app for the service whose contract this is, in
/// `lang`, rewritten to include the project's own header or library.
fn vendor_solution(contract: &str, lang: &str) -> Option<String> {
    let guest = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sandbox/guest");
    let (path, from, to) = match lang {
        "c" if contract.contains("\"housing_fund:") => (
            "examples/hf_check/hf_check.c",
            "\"../../govmarket.h\"",
            "\"govmarket.h\"",
        ),
        "c" if contract.contains("\"social_insurance:") => {
            ("apps/si_lookup.c", "\"../govmarket.h\"", "\"govmarket.h\"")
        }
        "c" if contract.contains("\"traffic_violations:") => (
            "examples/traffic_lookup/traffic_lookup.c",
            "\"../../govmarket.h\"",
            "\"govmarket.h\"",
        ),
        "c" if contract.contains("\"property_certificates:") => (
            "examples/property_precheck/property_precheck.c",
            "\"../../govmarket.h\"",
            "\"govmarket.h\"",
        ),
        "assemblyscript" if contract.contains("\"housing_fund:") => (
            "assemblyscript/examples/hf_check_as.ts",
            "\"../assembly/govmarket\"",
            "\"./govmarket\"",
        ),
        _ => return None,
    };
    let source = std::fs::read_to_string(guest.join(path)).unwrap();
    assert!(source.contains(from), "{path} includes {from}");
    Some(source.replace(from, to))
}

/// What a C project holds.
const C_PROJECT: [&str; 9] = [
    "app.c",
    "govmarket.h",
    "ABI.md",
    "build.sh",
    "Makefile",
    "README.md",
    "contract.json",
    "cases.json",
    "kit.json",
];

/// What an AssemblyScript project holds.
const AS_PROJECT: [&str; 10] = [
    "assembly/index.ts",
    "assembly/govmarket.ts",
    "asconfig.json",
    "package.json",
    "ABI.md",
    "build.sh",
    "README.md",
    "contract.json",
    "cases.json",
    "kit.json",
];

/// From each demo order's page to a local test run, as a new vendor goes
/// (in C and in AssemblyScript):
/// `app new --server` writes the project, its own `build.sh` builds it with
/// clang, and `app test` runs every sample case on the module, each answer
/// inside the output schema, and says what the platform also runs. The
/// skeleton's answers are the schema's defaults, so the sample cases are
/// judged on their answers (accepted or wrong answer), never refused.
#[tokio::test]
async fn app_new_writes_a_project_per_demo_order_that_builds_and_runs_its_sample_cases() {
    let work = tempfile::tempdir().unwrap();
    let clang = wasm_toolchain(work.path());
    let data = tempfile::tempdir().unwrap();
    let (server, base, _) = serve_demo(data.path()).await;
    let client = reqwest::Client::new();
    let orders: serde_json::Value = client
        .get(format!("{base}/api/v1/orders"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<i64> = orders["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|o| o["id"].as_i64())
        .collect();
    assert!(ids.len() >= 4, "the demo orders: {orders}");

    let npm = Command::new("npm")
        .arg("--version")
        .output()
        .map(|_| ())
        .map_err(|e| e.to_string());
    let langs = [
        ("c", &clang, &C_PROJECT[..]),
        ("assemblyscript", &npm, &AS_PROJECT[..]),
    ];
    let mut solved = 0;
    for (id, (lang, toolchain, files)) in
        ids.iter().flat_map(|id| langs.iter().map(move |l| (id, l)))
    {
        let project = work.path().join(format!("order-{id}-{lang}"));
        let out = app(
            &[
                "app",
                "new",
                "--order",
                &id.to_string(),
                "--server",
                &base,
                "--lang",
                lang,
                "--dir",
                project.to_str().unwrap(),
            ],
            work.path(),
        );
        assert!(out.status.success(), "order {id}: {}", text(&out));
        assert!(
            text(&out).contains("app test app.wasm --suite ."),
            "{}",
            text(&out)
        );
        for file in *files {
            assert!(
                project.join(file).is_file(),
                "order {id} ({lang}): no {file}"
            );
        }
        let other = if *lang == "c" {
            "assemblyscript"
        } else {
            "app.c"
        };
        assert!(
            !project.join(other).exists(),
            "order {id} ({lang}): only one language's files"
        );
        let kit: serde_json::Value =
            serde_json::from_slice(&std::fs::read(project.join("kit.json")).unwrap()).unwrap();
        assert_eq!(kit["order_id"], *id, "{kit}");
        let hidden = kit["hidden_cases"].as_u64().expect("hidden_cases");

        if let Err(why) = toolchain {
            // scripts/test.sh installs both toolchains, so CI always builds.
            eprintln!("SKIPPED building order {id} ({lang}): no toolchain ({why})");
            continue;
        }
        let out = Command::new("sh")
            .arg("build.sh")
            .current_dir(&project)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "order {id} ({lang}): build.sh: {}",
            text(&out)
        );
        let out = app(
            &["app", "test", "app.wasm", "--suite", ".", "--json"],
            &project,
        );
        let report: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("order {id}: {e}: {}", text(&out)));
        assert!(report["rejection"].is_null(), "order {id}: {report}");
        let cases = report["cases"].as_array().expect("cases");
        assert!(!cases.is_empty(), "order {id}: no sample case");
        for case in cases {
            assert_eq!(case["visibility"], "sample", "{case}");
            assert!(
                case["verdict"] == "accepted" || case["verdict"] == "wrong_answer",
                "order {id}: case {} is judged {} (the module or its output's shape is wrong): {case}",
                case["id"],
                case["verdict"]
            );
        }
        // Exit 0 (pass) or 1 (answers to write), never 2 (module refused).
        assert!(matches!(out.status.code(), Some(0 | 1)), "{}", text(&out));
        let note = String::from_utf8_lossy(&out.stderr);
        assert!(
            hidden > 0 && note.contains(&format!("the platform also runs {hidden} hidden case")),
            "order {id}: {note}"
        );

        // A vendor then writes the order's rules into the project, using only its own files
        // (the header or library it ships): the guest kit's example apps stand in for that
        // work. Built by the project's build.sh, they pass every sample case.
        let contract = std::fs::read_to_string(project.join("contract.json")).unwrap();
        let Some(source) = vendor_solution(&contract, lang) else {
            continue;
        };
        let target = if *lang == "c" {
            "app.c"
        } else {
            "assembly/index.ts"
        };
        std::fs::write(project.join(target), source).unwrap();
        let out = Command::new("sh")
            .arg("build.sh")
            .current_dir(&project)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "order {id} ({lang}): the vendor's app does not build: {}",
            text(&out)
        );
        let out = app(
            &["app", "test", "app.wasm", "--suite", ".", "--json"],
            &project,
        );
        let report: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("order {id}: {e}: {}", text(&out)));
        let cases = report["cases"].as_array().expect("cases");
        assert!(
            !cases.is_empty() && cases.iter().all(|c| c["verdict"] == "accepted"),
            "order {id} ({lang}): the vendor's app fails a sample case: {report}"
        );
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        solved += 1;
    }
    assert_eq!(
        solved,
        4 * usize::from(clang.is_ok()) + usize::from(npm.is_ok()),
        "the C examples of the four services and the AssemblyScript one, each built in its project"
    );

    // A kit downloaded earlier, as a zip or unpacked, works the same; a kit
    // of another order or a directory in use is refused, writing nothing.
    let id = ids[0];
    let zip = client
        .get(format!("{base}/api/v1/orders/{id}/starter-kit.zip"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    drop(server);
    let zip_path = work.path().join("kit.zip");
    std::fs::write(&zip_path, &zip).unwrap();
    let from_zip = work.path().join("from-zip");
    let out = app(
        &[
            "app",
            "new",
            "--order",
            &id.to_string(),
            "--kit",
            "kit.zip",
            "--dir",
            "from-zip",
        ],
        work.path(),
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(from_zip.join("app.c").is_file());
    let out = app(
        &[
            "app",
            "new",
            "--order",
            &id.to_string(),
            "--kit",
            "from-zip",
            "--dir",
            "from-dir",
        ],
        work.path(),
    );
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        std::fs::read(work.path().join("from-dir/app.c")).unwrap(),
        std::fs::read(from_zip.join("app.c")).unwrap()
    );
    let other = (id + 1000).to_string();
    let out = app(
        &[
            "app", "new", "--order", &other, "--kit", "kit.zip", "--dir", "wrong",
        ],
        work.path(),
    );
    assert!(!out.status.success());
    assert!(
        text(&out).contains(&format!("of order {id}, not of order {other}")),
        "{}",
        text(&out)
    );
    assert!(!work.path().join("wrong").exists());
    let out = app(
        &[
            "app",
            "new",
            "--order",
            &id.to_string(),
            "--kit",
            "kit.zip",
            "--dir",
            "from-zip",
        ],
        work.path(),
    );
    assert!(!out.status.success());
    assert!(text(&out).contains("not empty"), "{}", text(&out));
    let out = app(&["app", "new", "--order", &id.to_string()], work.path());
    assert!(
        !out.status.success(),
        "a source is required: {}",
        text(&out)
    );
}
