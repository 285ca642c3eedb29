//! The committed example apps against their committed suites: the same path as the platform's
//! test run and `govmarket app test`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sandbox::{
    EvalOptions, Limits, MemoryDatasets, ModuleRef, QueryStatus, RunContext, RunRequest, Sandbox,
    SandboxConfig, SuiteDir, Verdict, Visibility,
};
use serde_json::json;

fn guest() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("guest")
}

fn wasm(name: &str) -> Vec<u8> {
    let path = guest().join("wasm").join(format!("{name}.wasm"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn suite(name: &str) -> SuiteDir {
    SuiteDir::load(&guest().join("suites").join(name)).expect("suite loads")
}

fn sandbox() -> Sandbox {
    Sandbox::new(SandboxConfig::default()).expect("sandbox")
}

#[test]
fn the_correct_service_app_passes_every_case_of_its_suite() {
    let suite = suite("social-insurance");
    let mut seen = Vec::new();
    let report = suite
        .evaluate(
            &sandbox(),
            &wasm("si_lookup"),
            &EvalOptions::default(),
            &mut |p| seen.push((p.done, p.id.to_owned())),
        )
        .expect("contract is valid");
    for case in &report.cases {
        assert_eq!(case.verdict, Verdict::Accepted, "{case:#?}");
    }
    assert!(report.passed);
    assert_eq!(report.score_percent, 100);
    assert_eq!(seen.len(), suite.cases.len());
    assert_eq!(seen.last().map(|s| s.0), Some(suite.cases.len()));
    // Every case queried the dataset for its subject exactly once.
    let first = &report.cases[0];
    let queries = first.queries.as_ref().expect("metrics present");
    assert_eq!(queries.len(), 1);
    assert_eq!(queries[0].dataset, "social_insurance");
    assert_eq!(queries[0].status, QueryStatus::Found);
    assert!(first.instructions.expect("metrics") > 0);
    assert!(first.peak_memory_bytes.expect("metrics") >= 64 * 1024);
}

#[test]
fn the_buggy_app_passes_the_samples_but_fails_the_hidden_year_gap_case() {
    let suite = suite("social-insurance");
    let report = suite
        .evaluate(
            &sandbox(),
            &wasm("si_lookup_buggy"),
            &EvalOptions::default(),
            &mut |_| {},
        )
        .expect("contract is valid");
    assert!(!report.passed);
    for case in report
        .cases
        .iter()
        .filter(|c| c.visibility == Visibility::Sample)
    {
        assert_eq!(case.verdict, Verdict::Accepted, "{case:#?}");
    }
    let failed: Vec<&str> = report
        .cases
        .iter()
        .filter(|c| c.verdict != Verdict::Accepted)
        .map(|c| c.id.as_str())
        .collect();
    assert_eq!(failed, vec!["hidden-year-gap"]);
    let view = report.isv_view();
    let hidden = view
        .cases
        .iter()
        .find(|c| c.id == "hidden-year-gap")
        .expect("present");
    assert_eq!(hidden.verdict, Verdict::WrongAnswer);
    assert!(hidden.actual.is_none() && hidden.expected.is_none() && hidden.input.is_none());
}

#[test]
fn the_probe_app_finds_the_clock_virtual_random_seeded_and_files_and_sockets_closed() {
    let suite = suite("probe");
    let report = suite
        .evaluate(
            &sandbox(),
            &wasm("probe"),
            &EvalOptions::default(),
            &mut |_| {},
        )
        .expect("contract is valid");
    assert!(report.passed, "{report:#?}");
    let output = report.cases[0].actual.as_ref().expect("output");
    // context.now of the default options is 2026-07-01T09:00:00+08:00 = 1782867600.
    assert_eq!(output["wall_clock_s"], json!(1_782_867_600));
    assert_eq!(output["env_count"], json!(0));
    assert_ne!(output["open_etc_passwd"], json!("opened"));
    assert_ne!(output["opendir_root"], json!("opened"));
    assert_ne!(output["socket_accept"], json!("accepted"));
    assert_ne!(output["socket_send"], json!("sent"));
}

#[test]
fn two_runs_of_the_same_request_give_identical_output_and_instruction_counts() {
    let sandbox = sandbox();
    let suite = suite("social-insurance");
    let data: Arc<MemoryDatasets> = Arc::new(suite.datasets.clone());
    let module = wasm("si_lookup");
    let probe = wasm("probe");
    let request = RunRequest {
        input: json!({"months": 24}),
        context: RunContext {
            subject: "33010619900101123X".into(),
            locale: "zh-CN".into(),
            now: "2026-07-01T09:00:00+08:00".into(),
        },
        seed: 42,
        identity: Some("33010619900101123X".into()),
    };
    for module in [&module, &probe] {
        let a = sandbox.run(
            ModuleRef::Wasm(module),
            &request,
            data.clone(),
            &Limits::default(),
        );
        let b = sandbox.run(
            ModuleRef::Wasm(module),
            &request,
            data.clone(),
            &Limits::default(),
        );
        assert_eq!(a.verdict, Verdict::Accepted, "{a:#?}");
        assert_eq!(a.output, b.output);
        assert_eq!(a.stdout, b.stdout);
        assert_eq!(a.stderr, b.stderr);
        assert_eq!(a.instructions, b.instructions);
        assert_eq!(a.peak_memory_bytes, b.peak_memory_bytes);
    }
    let reseeded = RunRequest {
        seed: 43,
        ..request.clone()
    };
    let a = sandbox.run(
        ModuleRef::Wasm(&probe),
        &request,
        data.clone(),
        &Limits::default(),
    );
    let c = sandbox.run(ModuleRef::Wasm(&probe), &reseeded, data, &Limits::default());
    let random = |o: &sandbox::RunOutcome| o.output.as_ref().map(|v| v["random_hex"].clone());
    assert_ne!(random(&a), random(&c), "the seed drives the random numbers");
}

#[test]
fn a_query_on_a_dataset_the_contract_does_not_grant_is_refused_and_recorded() {
    let sandbox = sandbox();
    let suite = suite("social-insurance");
    let mut data = suite.datasets.clone();
    data.set_grants(&[]);
    let request = RunRequest {
        input: json!({}),
        context: RunContext {
            subject: "33010619900101123X".into(),
            locale: "zh-CN".into(),
            now: "2026-07-01T09:00:00+08:00".into(),
        },
        seed: 1,
        identity: Some("33010619900101123X".into()),
    };
    let outcome = sandbox.run(
        ModuleRef::Wasm(&wasm("si_lookup")),
        &request,
        Arc::new(data),
        &Limits::default(),
    );
    // The app treats "not permitted" as fatal and exits 1.
    assert_eq!(outcome.verdict, Verdict::RuntimeError, "{outcome:#?}");
    assert_eq!(outcome.queries.len(), 1);
    assert_eq!(outcome.queries[0].status, QueryStatus::NotPermitted);
    assert_eq!(outcome.queries[0].code, sandbox::host::QUERY_NOT_PERMITTED);
    assert!(outcome.stderr.contains("code -1"), "{}", outcome.stderr);
}

#[test]
fn a_run_whose_output_breaks_a_stricter_output_schema_is_judged_invalid_output() {
    let sandbox = sandbox();
    let mut suite = suite("social-insurance");
    // The reference app answers `months_paid` up to the window asked for; an order that
    // promised citizens at most six months makes every longer answer invalid output.
    suite.contract.output_schema["properties"]["months_paid"]["maximum"] = json!(6);
    let schemas = suite.contract.schemas().expect("valid schemas");
    let data: Arc<MemoryDatasets> = Arc::new(suite.datasets.clone());
    let module = wasm("si_lookup");
    let request = |months: u32| RunRequest {
        input: json!({ "months": months }),
        context: RunContext {
            subject: "33010619900101123X".into(),
            locale: "zh-CN".into(),
            now: "2026-07-01T09:00:00+08:00".into(),
        },
        seed: 1,
        identity: Some("33010619900101123X".into()),
    };

    let mut long = sandbox.run(
        ModuleRef::Wasm(&module),
        &request(12),
        data.clone(),
        &suite.contract.limits,
    );
    assert_eq!(
        long.verdict,
        Verdict::Accepted,
        "the run itself is fine: {long:#?}"
    );
    schemas.judge_output(&mut long);
    assert_eq!(long.verdict, Verdict::InvalidOutput, "{long:#?}");
    let detail = long.detail.as_deref().unwrap_or_default();
    assert!(detail.contains("/months_paid"), "{detail}");
    assert_eq!(
        long.output.as_ref().map(|o| o["months_paid"].clone()),
        Some(json!(12))
    );

    let mut short = sandbox.run(
        ModuleRef::Wasm(&module),
        &request(3),
        data.clone(),
        &suite.contract.limits,
    );
    schemas.judge_output(&mut short);
    assert_eq!(short.verdict, Verdict::Accepted, "{short:#?}");

    // The evaluator judges every case the same way: a case whose output breaks the schema is
    // invalid_output even when it equals the expected value, and the version fails.
    let report = suite
        .evaluate(&sandbox, &module, &EvalOptions::default(), &mut |_| {})
        .expect("contract is valid");
    assert!(!report.passed);
    let invalid: Vec<&str> = report
        .cases
        .iter()
        .filter(|c| c.verdict == Verdict::InvalidOutput)
        .map(|c| c.id.as_str())
        .collect();
    assert!(
        invalid.contains(&"sample-continuous-default"),
        "{invalid:?}"
    );
    assert!(
        invalid.len() < report.cases.len(),
        "short answers still pass"
    );
    for case in &report.cases {
        let months_paid = case.actual.as_ref().and_then(|o| o["months_paid"].as_u64());
        match months_paid {
            Some(n) if n > 6 => {
                assert_eq!(case.verdict, Verdict::InvalidOutput, "{case:#?}");
                assert!(
                    case.detail
                        .as_deref()
                        .is_some_and(|d| d.contains("/months_paid")),
                    "{case:#?}"
                );
            }
            _ => assert_eq!(case.verdict, Verdict::Accepted, "{case:#?}"),
        }
    }
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("readable").flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[test]
fn a_relative_cache_directory_works_as_the_default_data_directory_needs() {
    // `./data/module-cache` is what `govmarket serve` uses out of the box;
    // wasmtime itself accepts only absolute cache directories.
    let base = tempfile::tempdir_in(".").expect("tempdir under the working directory");
    let name = base.path().file_name().expect("a name").to_owned();
    let relative = std::path::Path::new(".").join(name).join("module-cache");
    assert!(relative.is_relative());
    let sandbox = Sandbox::new(SandboxConfig {
        cache_dir: Some(relative.clone()),
        ..SandboxConfig::default()
    })
    .expect("a relative cache directory is accepted");
    let info = sandbox
        .validate(&wasm("si_lookup"), &Limits::default())
        .expect("valid");
    assert!(sandbox.has_module(&info.sha256));
    assert!(
        !files_under(&relative.join("compiled")).is_empty(),
        "the compiled artefact went under the relative directory"
    );
}

#[test]
fn a_restarted_worker_runs_a_version_by_sha256_from_the_disk_cache_even_if_artefacts_are_stale() {
    let cache = tempfile::tempdir().expect("tempdir");
    let config = SandboxConfig {
        cache_dir: Some(cache.path().to_owned()),
        ..SandboxConfig::default()
    };
    let data = Arc::new(suite("social-insurance").datasets);
    let request = RunRequest {
        input: json!({"months": 12}),
        context: RunContext {
            subject: "33010619900101123X".into(),
            locale: "zh-CN".into(),
            now: "2026-07-01T09:00:00+08:00".into(),
        },
        seed: 3,
        identity: Some("33010619900101123X".into()),
    };
    let sha256 = {
        let first = Sandbox::new(config.clone()).expect("sandbox");
        let info = first
            .validate(&wasm("si_lookup"), &Limits::default())
            .expect("valid");
        info.sha256
    };
    let compiled = files_under(&cache.path().join("compiled"));
    assert!(!compiled.is_empty(), "wasmtime wrote a compiled artefact");

    let restarted = Sandbox::new(config.clone()).expect("sandbox");
    assert!(restarted.has_module(&sha256));
    let fresh = restarted.run(
        ModuleRef::Sha256(&sha256),
        &request,
        data.clone(),
        &Limits::default(),
    );
    assert_eq!(fresh.verdict, Verdict::Accepted, "{fresh:#?}");

    // Artefacts that cannot even be read (a torn write, a damaged disk) must be ignored and the
    // module recompiled, not trusted and not fatal. A real artefact of another engine is the
    // next test.
    for file in files_under(&cache.path().join("compiled")) {
        std::fs::write(&file, b"stale artefact from another engine").expect("overwrite");
    }
    let upgraded = Sandbox::new(config).expect("sandbox");
    let again = upgraded.run(
        ModuleRef::Sha256(&sha256),
        &request,
        data,
        &Limits::default(),
    );
    assert_eq!(again.verdict, Verdict::Accepted, "{again:#?}");
    assert_eq!(again.output, fresh.output);
    assert_eq!(again.instructions, fresh.instructions);

    let unknown = upgraded.run(
        ModuleRef::Sha256(&"0".repeat(64)),
        &request,
        Arc::new(MemoryDatasets::new()),
        &Limits::default(),
    );
    assert_eq!(unknown.verdict, Verdict::InternalError);
}

/// The compiled artefacts in a wasmtime cache directory (not its `.stats` and temporary files).
fn artefacts_under(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = files_under(dir)
        .into_iter()
        .filter(|p| p.extension().is_none())
        .collect();
    files.sort();
    files
}

/// A plain wasmtime engine configured unlike the sandbox's (no fuel, no epochs, no NaN
/// canonicalisation, unoptimised), caching its artefacts in `dir`.
fn other_engine(dir: &Path) -> (wasmtime::Engine, wasmtime::Cache) {
    let mut cache_config = wasmtime::CacheConfig::new();
    cache_config.with_directory(dir);
    let cache = wasmtime::Cache::new(cache_config).expect("cache");
    let mut config = wasmtime::Config::new();
    config.cranelift_opt_level(wasmtime::OptLevel::None);
    config.cache(Some(cache.clone()));
    (wasmtime::Engine::new(&config).expect("engine"), cache)
}

#[test]
fn an_artefact_from_a_differently_configured_engine_is_never_loaded_and_the_module_recompiles() {
    let cache = tempfile::tempdir().expect("tempdir");
    let compiled = cache.path().join("compiled");
    let config = SandboxConfig {
        cache_dir: Some(cache.path().to_owned()),
        ..SandboxConfig::default()
    };
    let module = wasm("si_lookup");
    let data = Arc::new(suite("social-insurance").datasets);
    let request = RunRequest {
        input: json!({"months": 12}),
        context: RunContext {
            subject: "33010619900101123X".into(),
            locale: "zh-CN".into(),
            now: "2026-07-01T09:00:00+08:00".into(),
        },
        seed: 3,
        identity: Some("33010619900101123X".into()),
    };
    let (sha256, reference) = {
        let first = Sandbox::new(config.clone()).expect("sandbox");
        let sha256 = first
            .validate(&module, &Limits::default())
            .expect("valid")
            .sha256;
        let reference = first.run(
            ModuleRef::Sha256(&sha256),
            &request,
            data.clone(),
            &Limits::default(),
        );
        (sha256, reference)
    };
    assert_eq!(reference.verdict, Verdict::Accepted, "{reference:#?}");
    let ours = artefacts_under(&compiled);
    assert_eq!(ours.len(), 1, "{ours:?}");

    // Another engine opening the same cache: the engine settings are part of the key, so it
    // misses, compiles its own artefact beside ours and never loads the sandbox's.
    let (engine, shared) = other_engine(&compiled);
    wasmtime::Module::from_binary(&engine, &module).expect("compiles");
    assert_eq!((shared.cache_hits(), shared.cache_misses()), (0, 1));
    assert_eq!(artefacts_under(&compiled).len(), 2);

    // Defence in depth: a real artefact of that engine (compiled without fuel, so it would
    // run a guest unmetered) put where the sandbox's own artefact lives. Loading checks the
    // artefact's engine settings, so it is refused and the module recompiled, not trusted.
    let elsewhere = tempfile::tempdir().expect("tempdir");
    let (engine, _) = other_engine(elsewhere.path());
    wasmtime::Module::from_binary(&engine, &module).expect("compiles");
    let foreign = artefacts_under(elsewhere.path());
    assert_eq!(foreign.len(), 1, "{foreign:?}");
    let foreign = std::fs::read(&foreign[0]).expect("readable");
    let original = std::fs::read(&ours[0]).expect("readable");
    assert_ne!(foreign, original, "the two engines compile differently");
    std::fs::write(&ours[0], &foreign).expect("replace our artefact");

    let upgraded = Sandbox::new(config).expect("sandbox");
    let again = upgraded.run(
        ModuleRef::Sha256(&sha256),
        &request,
        data,
        &Limits::default(),
    );
    assert_eq!(again.verdict, Verdict::Accepted, "{again:#?}");
    assert_eq!(again.output, reference.output);
    assert_eq!(again.instructions, reference.instructions);
    assert_eq!(again.peak_memory_bytes, reference.peak_memory_bytes);
    // The recompiled artefact replaced the foreign one.
    let rewritten = std::fs::read(&ours[0]).expect("readable");
    assert_ne!(rewritten, foreign);
}

#[test]
fn run_async_runs_on_a_blocking_thread_under_the_concurrency_bound() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let sandbox = Sandbox::new(SandboxConfig {
        max_concurrent_runs: 1,
        ..SandboxConfig::default()
    })
    .expect("sandbox");
    let info = sandbox
        .validate(&wasm("si_lookup"), &Limits::default())
        .expect("valid");
    let data: Arc<MemoryDatasets> = Arc::new(suite("social-insurance").datasets);
    let request = RunRequest {
        input: json!({"months": 6}),
        context: RunContext {
            subject: "33020319881215456X".into(),
            locale: "zh-CN".into(),
            now: "2026-07-01T09:00:00+08:00".into(),
        },
        seed: 9,
        identity: Some("33020319881215456X".into()),
    };
    let outcomes = runtime.block_on(async {
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                let sandbox = sandbox.clone();
                let (sha256, request, data) = (info.sha256.clone(), request.clone(), data.clone());
                tokio::spawn(async move {
                    sandbox
                        .run_async(sha256, request, data, Limits::default())
                        .await
                })
            })
            .collect();
        let mut outcomes = Vec::new();
        for task in tasks {
            outcomes.push(task.await.expect("task completes"));
        }
        outcomes
    });
    for outcome in &outcomes {
        assert_eq!(outcome.verdict, Verdict::Accepted, "{outcome:#?}");
        assert_eq!(outcome.output, outcomes[0].output);
    }
    assert_eq!(
        outcomes[0].output.as_ref().map(|o| o["name"].clone()),
        Some(json!("李娜"))
    );
}
