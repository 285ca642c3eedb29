//! The `sandbox` benchmark: one invocation of the example service app (社保缴费记录查询),
//! measured three ways in the same run:
//!
//! - **in-process**: `Sandbox::run` by sha256 on a warm sandbox (what the server does);
//! - **process-per-run**: spawn `bench sandbox-once` per invocation, which loads the module from
//!   the on-disk cache (what a naive platform does);
//! - **raw floor**: wasmtime with `InstancePre` and the pooling allocator configured exactly
//!   as the sandbox configures it (slots, memory cap, tables, memory and tables kept resident
//!   between runs, PAGEMAP_SCAN resets), WASI on in-memory pipes and a trivial `gov.query`;
//!   but no fuel, no epoch interruption, no limits, no verdict, no records, no ABI checks
//!   (the least a wasmtime host tuned like ours can do per invocation).
//!
//! Options: `--iterations N` (default 3000), `--process-iterations N` (default 100).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail, ensure};
use sandbox::{
    DatasetProvider, Limits, MemoryDatasets, ModuleRef, RunContext, RunRequest, Sandbox,
    SandboxConfig, Verdict,
};
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, Linker, Module, PoolingAllocationConfig, Store,
};
use wasmtime_wasi::WasiCtxBuilder;
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::p2::pipe::{MemoryInputPipe, MemoryOutputPipe};

/// What the raw floor does, printed with its numbers.
const RAW_FLOOR: &str = "wasmtime InstancePre + the sandbox's pooling allocator settings \
     (same slots, memory cap, keep-resident memory/tables, PAGEMAP_SCAN), WASI on memory pipes, \
     a trivial gov.query; no fuel, no epochs, no limits, no verdict, no ABI work";

/// A subject with two years of contributions in the example suite's dataset.
const SUBJECT: &str = "33010619900101123X";

struct Stats {
    per_second: f64,
    p50_us: f64,
    p99_us: f64,
    mean_us: f64,
}

fn stats(mut samples: Vec<Duration>, total: Duration) -> Stats {
    samples.sort_unstable();
    let at = |q: f64| {
        let i = ((samples.len() as f64 - 1.0) * q).round() as usize;
        samples[i].as_secs_f64() * 1e6
    };
    Stats {
        per_second: samples.len() as f64 / total.as_secs_f64(),
        p50_us: at(0.50),
        p99_us: at(0.99),
        mean_us: total.as_secs_f64() * 1e6 / samples.len() as f64,
    }
}

fn measure(iterations: usize, mut f: impl FnMut() -> anyhow::Result<()>) -> anyhow::Result<Stats> {
    let mut samples = Vec::with_capacity(iterations);
    let started = Instant::now();
    for _ in 0..iterations {
        let t = Instant::now();
        f()?;
        samples.push(t.elapsed());
    }
    Ok(stats(samples, started.elapsed()))
}

fn arg(args: &[String], name: &str, default: usize) -> anyhow::Result<usize> {
    match args.iter().position(|a| a == name) {
        None => Ok(default),
        Some(i) => args
            .get(i + 1)
            .context("missing value")?
            .parse()
            .with_context(|| format!("{name} takes a number")),
    }
}

fn repo_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(relative)
}

fn request() -> RunRequest {
    RunRequest {
        input: serde_json::json!({"months": 12}),
        context: RunContext {
            subject: SUBJECT.into(),
            locale: "zh-CN".into(),
            now: "2026-07-01T09:00:00+08:00".into(),
        },
        seed: 1,
        identity: Some(SUBJECT.into()),
    }
}

/// The raw wasmtime floor: per invocation, a store with a WASI context on pipes, instantiate
/// from `InstancePre`, call `_start`, read stdout.
struct Floor {
    engine: Engine,
    pre: wasmtime::InstancePre<FloorState>,
    stdin: Vec<u8>,
}

struct FloorState {
    wasi: WasiP1Ctx,
    record: Arc<[u8]>,
}

impl Floor {
    /// The pooling allocator of `Sandbox::new` (sandbox/src/runtime/mod.rs), setting for
    /// setting, for a sandbox of `concurrency` runs; only fuel and epochs are left off the
    /// engine (and NaN canonicalisation, a determinism rule of ours, not wasmtime's cost).
    fn pooling(concurrency: usize) -> PoolingAllocationConfig {
        // The sandbox's constants (private there): kept-resident sizes and the table cap.
        const KEEP_RESIDENT_BYTES: usize = 4 << 20;
        const KEEP_RESIDENT_TABLE_BYTES: usize = 64 << 10;
        const MAX_TABLE_ELEMENTS: usize = 65_536;
        let slots = u32::try_from(concurrency.max(1).saturating_mul(2)).unwrap_or(u32::MAX);
        let mut pool = PoolingAllocationConfig::default();
        pool.total_core_instances(slots);
        pool.total_memories(slots);
        pool.total_tables(slots);
        pool.max_memories_per_module(1);
        pool.max_tables_per_module(4);
        pool.table_elements(MAX_TABLE_ELEMENTS);
        pool.max_memory_size(
            usize::try_from(sandbox::ResolvedLimits::CAP.memory_bytes).unwrap_or(usize::MAX),
        );
        pool.linear_memory_keep_resident(KEEP_RESIDENT_BYTES);
        pool.table_keep_resident(KEEP_RESIDENT_TABLE_BYTES);
        pool.pagemap_scan(wasmtime::Enabled::Auto);
        pool
    }

    fn new(
        wasm: &[u8],
        record: Arc<[u8]>,
        concurrency: usize,
    ) -> anyhow::Result<(Self, Arc<[u8]>)> {
        let mut config = Config::new();
        config.max_wasm_stack(512 << 10);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(Self::pooling(
            concurrency,
        )));
        let engine = Engine::new(&config)?;
        let mut linker: Linker<FloorState> = Linker::new(&engine);
        wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |s: &mut FloorState| &mut s.wasi)?;
        linker.func_wrap(
            "gov",
            "query",
            |mut caller: wasmtime::Caller<'_, FloorState>,
             _: i32,
             _: i32,
             _: i32,
             _: i32,
             buf: i32,
             cap: i32|
             -> i32 {
                let Some(wasmtime::Extern::Memory(memory)) = caller.get_export("memory") else {
                    return -3;
                };
                let (memory, state) = memory.data_and_store_mut(&mut caller);
                let (buf, cap) = (buf as u32 as usize, cap as u32 as usize);
                let len = state.record.len();
                if len <= cap && buf + len <= memory.len() {
                    memory[buf..buf + len].copy_from_slice(&state.record);
                }
                len as i32
            },
        )?;
        let module = Module::from_binary(&engine, wasm)?;
        let pre = linker.instantiate_pre(&module)?;
        let stdin = serde_json::to_vec(&serde_json::json!({
            "input": request().input,
            "context": request().context,
        }))?;
        Ok((Self { engine, pre, stdin }, record))
    }

    fn invoke(&self, record: &Arc<[u8]>) -> anyhow::Result<usize> {
        let stdout = MemoryOutputPipe::new(1 << 20);
        let wasi = WasiCtxBuilder::new()
            .stdin(MemoryInputPipe::new(self.stdin.clone()))
            .stdout(stdout.clone())
            .build_p1();
        let mut store = Store::new(
            &self.engine,
            FloorState {
                wasi,
                record: Arc::clone(record),
            },
        );
        let instance = self.pre.instantiate(&mut store)?;
        let start = instance.get_typed_func::<(), ()>(&mut store, "_start")?;
        match start.call(&mut store, ()) {
            Ok(()) => {}
            Err(e)
                if e.downcast_ref::<wasmtime_wasi::I32Exit>()
                    .is_some_and(|x| x.0 == 0) => {}
            Err(e) => return Err(anyhow::anyhow!("{e:#}")),
        }
        Ok(stdout.contents().len())
    }
}

pub fn run(args: &[String]) -> anyhow::Result<()> {
    let iterations = arg(args, "--iterations", 3000)?;
    let process_iterations = arg(args, "--process-iterations", 100)?;
    let wasm = std::fs::read(repo_path("sandbox/guest/wasm/si_lookup.wasm"))
        .context("the committed example app")?;
    let datasets_dir = repo_path("sandbox/guest/suites/social-insurance/datasets");
    let mut data = MemoryDatasets::load_dir(&datasets_dir)?;
    data.grant("social_insurance", sandbox::Access::Subject);
    let record = data
        .get("social_insurance", SUBJECT)
        .context("the benchmark subject is in the example dataset")?;
    let data: Arc<MemoryDatasets> = Arc::new(data);
    let cache = tempfile::tempdir()?;

    // In-process: one sandbox for the whole run, the module validated once (as at upload).
    let sandbox_config = SandboxConfig {
        cache_dir: Some(cache.path().to_owned()),
        ..SandboxConfig::default()
    };
    let concurrency = sandbox_config.max_concurrent_runs;
    let sandbox = Sandbox::new(sandbox_config)?;
    let info = sandbox
        .validate(&wasm, &Limits::default())
        .map_err(|r| anyhow::anyhow!("{r}"))?;
    let request = request();
    let limits = Limits::default();
    let once = sandbox.run(
        ModuleRef::Sha256(&info.sha256),
        &request,
        data.clone(),
        &limits,
    );
    ensure!(
        once.verdict == Verdict::Accepted,
        "example app failed: {once:?}"
    );
    println!(
        "example app: {} bytes, sha256 {}, {} instructions, {} KiB peak memory per invocation",
        info.size_bytes,
        &info.sha256[..12],
        once.instructions,
        once.peak_memory_bytes / 1024
    );
    for _ in 0..200 {
        sandbox.run(
            ModuleRef::Sha256(&info.sha256),
            &request,
            data.clone(),
            &limits,
        );
    }
    let in_process = measure(iterations, || {
        let outcome = sandbox.run(
            ModuleRef::Sha256(&info.sha256),
            &request,
            data.clone(),
            &limits,
        );
        if outcome.verdict != Verdict::Accepted {
            bail!("in-process run failed: {outcome:?}");
        }
        Ok(())
    })?;

    // Raw floor.
    let (floor, record) = Floor::new(&wasm, record, concurrency)?;
    for _ in 0..200 {
        floor.invoke(&record)?;
    }
    let raw = measure(iterations, || {
        let written = floor.invoke(&record)?;
        ensure!(written > 0, "floor produced no output");
        Ok(())
    })?;

    // Process per run: this very binary, `bench sandbox-once ...`, once per invocation.
    let helper = std::env::current_exe()?;
    let spawn = || -> anyhow::Result<()> {
        let out = Command::new(&helper)
            .arg("sandbox-once")
            .arg(cache.path())
            .arg(&info.sha256)
            .arg(&datasets_dir)
            .arg(SUBJECT)
            .output()?;
        ensure!(
            out.status.success(),
            "sandbox-once failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(())
    };
    spawn()?; // warms the OS page cache and checks the helper works
    let per_process = measure(process_iterations, spawn)?;

    let vs_process = per_process.mean_us / in_process.mean_us;
    let vs_floor = in_process.mean_us / raw.mean_us;
    let line = |name: &str, s: &Stats| {
        println!(
            "{name:16} {:>10.0} invocations/s   p50 {:>9.1} us   p99 {:>9.1} us",
            s.per_second, s.p50_us, s.p99_us
        );
    };
    line("in-process", &in_process);
    line("process-per-run", &per_process);
    line("raw floor", &raw);
    println!(
        "in-process is {vs_process:.0}x faster than process-per-run (goal >= 100x) and takes \
         {vs_floor:.2}x the raw wasmtime floor (goal <= 1.25x)"
    );
    println!("raw floor: {RAW_FLOOR}");
    let json = serde_json::json!({
        "benchmark": "sandbox",
        "iterations": iterations,
        "process_iterations": process_iterations,
        "instructions_per_invocation": once.instructions,
        "in_process": {"per_second": in_process.per_second, "p50_us": in_process.p50_us, "p99_us": in_process.p99_us},
        "process_per_run": {"per_second": per_process.per_second, "p50_us": per_process.p50_us, "p99_us": per_process.p99_us},
        "raw_floor": {"per_second": raw.per_second, "p50_us": raw.p50_us, "p99_us": raw.p99_us},
        "vs_process_per_run": vs_process,
        "vs_raw_floor": vs_floor,
        "raw_floor_baseline": RAW_FLOOR,
    });
    println!("{json}");
    Ok(())
}

/// `bench sandbox-once CACHE_DIR SHA256 DATASETS_DIR SUBJECT`: one invocation per process, as a
/// naive platform would do it: start, open the module cache, load the module by sha256
/// (wasmtime's on-disk compiled cache makes this a deserialisation, not a compile), load the
/// datasets, run once, print the outcome as JSON, exit.
pub fn once(args: &[String]) -> anyhow::Result<()> {
    let [cache_dir, sha256, datasets_dir, subject] = args else {
        bail!("usage: bench sandbox-once CACHE_DIR SHA256 DATASETS_DIR SUBJECT");
    };
    let sandbox = Sandbox::new(SandboxConfig {
        cache_dir: Some(PathBuf::from(cache_dir)),
        max_concurrent_runs: 1,
        ..SandboxConfig::default()
    })?;
    let mut data = MemoryDatasets::load_dir(datasets_dir.as_ref()).context("datasets")?;
    data.grant("social_insurance", sandbox::Access::Subject);
    let request = RunRequest {
        context: RunContext {
            subject: subject.clone(),
            ..request().context
        },
        identity: Some(subject.clone()),
        ..request()
    };
    let outcome = sandbox.run(
        ModuleRef::Sha256(sha256),
        &request,
        Arc::new(data),
        &Limits::default(),
    );
    println!("{}", serde_json::to_string(&outcome)?);
    ensure!(
        outcome.verdict == Verdict::Accepted,
        "run failed: {:?}",
        outcome.detail
    );
    Ok(())
}
