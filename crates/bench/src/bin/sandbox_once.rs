//! One invocation per process, as a naive platform would do it: start, open the module cache,
//! load the module by sha256 (wasmtime's on-disk compiled cache makes this a deserialisation,
//! not a compile), load the datasets, run once, print the outcome as JSON, exit.
//!
//! `sandbox-once CACHE_DIR SHA256 DATASETS_DIR SUBJECT`

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use sandbox::{
    Limits, MemoryDatasets, ModuleRef, RunContext, RunRequest, Sandbox, SandboxConfig, Verdict,
};

fn main() -> anyhow::Result<ExitCode> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [cache_dir, sha256, datasets_dir, subject] = args.as_slice() else {
        anyhow::bail!("usage: sandbox-once CACHE_DIR SHA256 DATASETS_DIR SUBJECT");
    };
    let sandbox = Sandbox::new(SandboxConfig {
        cache_dir: Some(PathBuf::from(cache_dir)),
        max_concurrent_runs: 1,
        ..SandboxConfig::default()
    })?;
    let mut data = MemoryDatasets::load_dir(datasets_dir.as_ref()).context("datasets")?;
    data.grant("social_insurance");
    let request = RunRequest {
        input: serde_json::json!({"months": 12}),
        context: RunContext {
            subject: subject.clone(),
            locale: "zh-CN".into(),
            now: "2026-07-01T09:00:00+08:00".into(),
        },
        seed: 1,
    };
    let outcome = sandbox.run(
        ModuleRef::Sha256(sha256),
        &request,
        Arc::new(data),
        &Limits::default(),
    );
    println!("{}", serde_json::to_string(&outcome)?);
    Ok(if outcome.verdict == Verdict::Accepted {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
