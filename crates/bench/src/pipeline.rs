//! `bench pipeline`: a 1,000-case suite for the example social-insurance app,
//! uploaded through the HTTP API and run through the database queue to its
//! report, against the sandbox evaluating the same suite directly in the
//! same process (the ceiling: no HTTP, no queue, no storage).
//!
//! Options: `--cases N` (default 1000).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};
use server::config::{Config, FileConfig, Overrides};

pub fn run(args: &[String]) -> anyhow::Result<()> {
    let mut cases = 1000usize;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--cases" => {
                cases = it
                    .next()
                    .context("--cases needs a number")?
                    .parse()
                    .context("--cases needs a number")?;
            }
            other => bail!("unknown option {other}"),
        }
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(bench(cases))
}

fn guest(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../sandbox/guest")
        .join(path)
}

fn read_json(path: &str) -> anyhow::Result<Value> {
    let p = guest(path);
    let bytes = std::fs::read(&p).with_context(|| format!("cannot read {}", p.display()))?;
    Ok(serde_json::from_slice(&bytes)?)
}

/// `n` cases cycling through the example suite's ten, with fresh ids.
fn suite(n: usize) -> anyhow::Result<Vec<Value>> {
    let base = read_json("suites/social-insurance/cases.json")?;
    let base = base.as_array().context("cases.json is a list")?;
    Ok((0..n)
        .map(|i| {
            let mut c = base[i % base.len()].clone();
            c["id"] = json!(format!("case-{i:05}"));
            c
        })
        .collect())
}

async fn bench(n: usize) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("bench.db").display()
    );
    let db = store::connect(&url).await?;
    store::migrate(&db).await?;
    let env = |k: &str| match k {
        "GOVMARKET_JWT_SECRET" => Some("bench-secret-bench-secret-bench-secret-0123".to_owned()),
        _ => None,
    };
    let mut config = Config::resolve(
        FileConfig::default(),
        env,
        Overrides {
            addr: Some("127.0.0.1:0".parse()?),
            data_dir: Some(dir.path().to_path_buf()),
        },
    )?;
    config.database_url = url;
    let state = server::AppState::with_db(config, db)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let app = server::app(state.clone());
    tokio::spawn(async move {
        let _ = server::axum::serve(listener, app).await;
    });

    let token = |email: &str, role: domain::Role| {
        let state = state.clone();
        let email = email.to_owned();
        async move {
            let reg = server::accounts::Registration {
                email: email.clone(),
                password: "correct horse battery".into(),
                display_name: "bench".into(),
                role: role.as_str().into(),
                org_name: Some(format!("bench {email}")),
                ..Default::default()
            };
            let user = server::accounts::create_by_admin(
                &state.db,
                reg,
                &server::accounts::Actor::system(),
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
            Ok::<_, anyhow::Error>(
                state
                    .keys
                    .issue(user.id, user.role)
                    .map_err(|e| e.into_anyhow())?
                    .0,
            )
        }
    };
    let dept = token("dept@bench.local", domain::Role::Department).await?;
    let isv = token("isv@bench.local", domain::Role::Isv).await?;
    let http = reqwest::Client::new();

    let mut contract = read_json("suites/social-insurance/contract.json")?;
    if let Some(c) = contract.as_object_mut() {
        c.remove("threshold_percent");
    }
    let cases = suite(n)?;
    let check = |r: reqwest::Response, what: &'static str| async move {
        let status = r.status();
        let body = r.text().await.unwrap_or_default();
        if !status.is_success() {
            bail!("{what}: {status} {body}");
        }
        Ok(serde_json::from_str::<Value>(&body).unwrap_or(Value::Null))
    };
    let order = check(
        http.post(format!("{base}/api/v1/orders"))
            .bearer_auth(&dept)
            .json(
                &json!({"title": "社保缴费记录查询（压测）", "description": "bench",
                          "category": "社会保障", "budget_fen": 100_000, "contract": contract}),
            )
            .send()
            .await?,
        "create order",
    )
    .await?;
    let order = order["id"].as_i64().context("order id")?;
    let data = std::fs::read(guest(
        "suites/social-insurance/datasets/social_insurance.json",
    ))?;
    check(
        http.put(format!(
            "{base}/api/v1/orders/{order}/datasets/social_insurance?sample=true"
        ))
        .bearer_auth(&dept)
        .header("content-type", "application/json")
        .body(data)
        .send()
        .await?,
        "dataset",
    )
    .await?;
    check(
        http.put(format!("{base}/api/v1/orders/{order}/test-suite"))
            .bearer_auth(&dept)
            .json(&json!({"cases": cases}))
            .send()
            .await?,
        "suite",
    )
    .await?;
    check(
        http.post(format!("{base}/api/v1/orders/{order}/publish"))
            .bearer_auth(&dept)
            .send()
            .await?,
        "publish",
    )
    .await?;
    let wasm = std::fs::read(guest("wasm/si_lookup.wasm"))?;

    // Baseline: the sandbox's own evaluator over the same suite, in a fresh
    // sandbox (so it compiles the module once, as the pipeline does).
    let baseline_cases: Vec<sandbox::TestCase> = serde_json::from_value(json!(cases))?;
    let suite_dir = sandbox::SuiteDir::load(&guest("suites/social-insurance"))?;
    let baseline = {
        let wasm = wasm.clone();
        tokio::task::spawn_blocking(move || -> anyhow::Result<(Duration, bool)> {
            let sb = sandbox::Sandbox::new(sandbox::SandboxConfig::default())?;
            let t = Instant::now();
            let report = sandbox::evaluate_suite(
                &sb,
                &wasm,
                &suite_dir.contract,
                &baseline_cases,
                Arc::new(suite_dir.datasets.clone()),
                &sandbox::EvalOptions::default(),
                &mut |_| {},
            )?;
            Ok((t.elapsed(), report.passed))
        })
        .await??
    };

    // The pipeline: upload, queue, worker, stored report.
    let workers = server::pipeline::spawn_workers(state.clone(), 1);
    let t = Instant::now();
    let form = reqwest::multipart::Form::new()
        .text("name", "社保查询")
        .text("release_notes", "bench")
        .part(
            "wasm",
            reqwest::multipart::Part::bytes(wasm).file_name("app.wasm"),
        );
    let up = check(
        http.post(format!("{base}/api/v1/orders/{order}/apps"))
            .bearer_auth(&isv)
            .multipart(form)
            .send()
            .await?,
        "upload",
    )
    .await?;
    let vid = up["version"]["id"].as_i64().context("version id")?;
    let upload_done = t.elapsed();
    let status = loop {
        let p = check(
            http.get(format!("{base}/api/v1/versions/{vid}/progress"))
                .bearer_auth(&isv)
                .send()
                .await?,
            "progress",
        )
        .await?;
        if matches!(p["run"]["status"].as_str(), Some("finished" | "error")) {
            break p;
        }
        if t.elapsed() > Duration::from_secs(600) {
            bail!("the run did not finish in 10 minutes: {p}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let pipeline = t.elapsed();
    for w in workers {
        w.abort();
    }
    if status["version_status"] != "passed" || !baseline.1 {
        bail!("the example app should pass: {status}");
    }

    let secs = |d: Duration| d.as_secs_f64();
    let sandbox_cps = n as f64 / secs(baseline.0);
    let pipeline_cps = n as f64 / secs(pipeline);
    let ratio = pipeline_cps / sandbox_cps;
    println!("bench pipeline: {n} cases of the example social-insurance app");
    println!(
        "  sandbox evaluate_suite (baseline): {:>8.3} s  {:>9.0} cases/s",
        secs(baseline.0),
        sandbox_cps
    );
    println!(
        "  API upload -> queue -> report:     {:>8.3} s  {:>9.0} cases/s  (upload answered in {:.3} s)",
        secs(pipeline),
        pipeline_cps,
        secs(upload_done)
    );
    println!("  pipeline / sandbox: {ratio:.2} (goal >= 0.5)");
    println!(
        "{}",
        json!({
            "bench": "pipeline",
            "cases": n,
            "sandbox_seconds": secs(baseline.0),
            "pipeline_seconds": secs(pipeline),
            "upload_seconds": secs(upload_done),
            "sandbox_cases_per_sec": sandbox_cps,
            "pipeline_cases_per_sec": pipeline_cps,
            "pipeline_vs_sandbox": ratio,
        })
    );
    Ok(())
}
