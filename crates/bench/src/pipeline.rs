//! `bench pipeline`: a 1,000-case suite for the example social-insurance app,
//! uploaded through the HTTP API and run through the database queue to its
//! report, against the sandbox evaluating the same suite directly in the
//! same process (the ceiling: no HTTP, no queue, no storage).
//!
//! Options: `--cases N` (default 1000).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};

use crate::harness::{Harness, check, guest, read_json};

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
    let h = Harness::start(|_| {}).await?;
    let dept = h
        .token("dept@bench.local", domain::Role::Department, None)
        .await?;
    let isv = h.token("isv@bench.local", domain::Role::Isv, None).await?;
    let cases = suite(n)?;
    let order = h.open_si_order(&dept, &cases).await?;
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
    let workers = service::pipeline::spawn_workers(h.state.clone(), 1);
    let t = Instant::now();
    let (_, vid) = h.upload(&isv, order, wasm).await?;
    let upload_done = t.elapsed();
    let status = loop {
        let p = check(
            h.http
                .get(h.url(&format!("/api/v1/versions/{vid}/progress")))
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
