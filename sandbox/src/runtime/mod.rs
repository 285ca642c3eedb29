//! The [`Sandbox`]: one wasmtime engine, a compiled-module cache and the run loop. What it
//! runs on (cache, permits, ticker, run threads) is in `machinery`; the checks around a
//! guest run (limits of a cached module, verdicts, stdin and stdout) in `checks`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use domain::Verdict;
use parking_lot::RwLock;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use wasmtime::{
    Cache, CacheConfig, Config, Engine, InstanceAllocationStrategy, Linker, Module,
    PoolingAllocationConfig, Store,
};
use wasmtime_wasi::WasiCtxBuilder;
use wasmtime_wasi::p2::pipe::{MemoryInputPipe, MemoryOutputPipe};

use crate::datasets::DatasetProvider;
use crate::host::{self, GovState, HostState, MemoryLimiter, QueryRecord, Subject, VirtualClock};
use crate::limits::{Limits, ResolvedLimits};
use crate::random::SeededRandom;
use crate::validate::{self, Rejection};

mod checks;
mod machinery;

use checks::*;
use machinery::*;

/// How often the epoch ticker advances the engine's epoch.
///
/// 10 ms bounds how late a wall-time limit fires (at most one tick) while costing the host one
/// wake-up per tick; the check itself is a load and compare at loop heads and function entries.
const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Wasm stack per run. 512 KiB is wasmtime's default and ample for C apps (wasi-libc puts the
/// C stack in linear memory, not here); deep recursion hits it and traps as a stack overflow
/// instead of touching the host's stack.
const MAX_WASM_STACK: usize = 512 << 10;

/// How much of a pooled linear memory is reset in place (`memset`) rather
/// than given back to the kernel when its run ends: a typical app's heap
/// and stack, a few pages of a few MiB. The pool holds twice the run
/// concurrency of slots, so this bounds the memory kept resident between
/// runs to `2 × max_concurrent_runs × 4 MiB`.
const KEEP_RESIDENT_BYTES: usize = 4 << 20;

/// The same for tables (function tables: a few KiB).
const KEEP_RESIDENT_TABLE_BYTES: usize = 64 << 10;

/// Compiled modules kept in memory. A compiled C app is a few hundred KiB; 256 of them stay
/// well under a gigabyte even for larger apps, and a worker rarely serves more live versions.
const DEFAULT_CACHED_MODULES: usize = 256;

/// Bytes of `stdin` the request may take once serialised. The input is a form filled in by a
/// citizen, validated against the input schema before it gets here; 1 MiB stops a runaway.
const MAX_STDIN_BYTES: usize = 1 << 20;

/// Platform configuration of a [`Sandbox`].
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Where modules and compiled artefacts are cached on disk (the server passes
    /// `<data-dir>/module-cache`). `None` keeps the cache in memory only.
    pub cache_dir: Option<PathBuf>,
    /// Limits for fields an order's contract leaves out.
    pub defaults: ResolvedLimits,
    /// Limits no order may exceed.
    pub caps: ResolvedLimits,
    /// Runs executing at once. Each run holds up to `caps.memory_bytes` of guest memory and one
    /// core, so the default is one per core: the host never commits more than
    /// cores x memory cap to guests, and a burst queues instead of thrashing.
    pub max_concurrent_runs: usize,
    /// Compiled modules kept in memory (least recently compiled evicted first).
    pub max_cached_modules: usize,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            cache_dir: None,
            defaults: ResolvedLimits::DEFAULT,
            caps: ResolvedLimits::CAP,
            max_concurrent_runs: std::thread::available_parallelism().map_or(2, |n| n.get()),
            max_cached_modules: DEFAULT_CACHED_MODULES,
        }
    }
}

/// Errors creating a [`Sandbox`].
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// wasmtime refused the engine configuration.
    #[error("cannot create the wasm engine: {0}")]
    Engine(String),
    /// The cache directory cannot be created.
    #[error("cannot use module cache directory {path}: {source}")]
    CacheDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// What validation learnt about an accepted module.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModuleInfo {
    /// sha256 of the module bytes, lower-case hex: the version's content address.
    pub sha256: String,
    /// Size of the module in bytes.
    pub size_bytes: u64,
    /// Functions the module defines.
    pub functions: u32,
    /// Every import as `module.name`.
    pub imports: Vec<String>,
    /// Initial linear memory in bytes.
    pub initial_memory_bytes: u64,
}

/// Which module to run.
#[derive(Debug, Clone, Copy)]
pub enum ModuleRef<'a> {
    /// The module bytes (validated and compiled on first sight, then cached by sha256).
    Wasm(&'a [u8]),
    /// A module validated earlier, by its sha256 hex (memory cache, then the disk cache).
    Sha256(&'a str),
}

/// The `context` an app receives on stdin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunContext {
    /// Opaque subject token: a per-app pseudonym of the citizen (or organisation), never an ID
    /// number. The app queries `subject` datasets with it.
    pub subject: String,
    /// The citizen's locale, e.g. `zh-CN`.
    pub locale: String,
    /// The moment of the request, RFC 3339; the app's clock starts here.
    pub now: String,
}

/// One request to an app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRequest {
    /// The input value, matching the order's input schema.
    pub input: serde_json::Value,
    /// Who is asking, in which locale, when.
    pub context: RunContext,
    /// Seed of the app's random numbers: same seed, same numbers.
    pub seed: u64,
    /// The subject's real key in the datasets (a resident ID number), which the host uses to
    /// answer queries on `subject` datasets and to check owner fields. Never sent to the app
    /// and never serialised.
    #[serde(skip)]
    pub identity: Option<String>,
}

/// What one run produced, whatever happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunOutcome {
    /// The verdict of the run itself. `accepted` here means "exited 0 with one JSON value on
    /// stdout"; schema and expectation checks belong to the caller (see [`crate::Contract`]).
    pub verdict: Verdict,
    /// The JSON value on stdout, when there is exactly one.
    pub output: Option<serde_json::Value>,
    /// Why the verdict is not `accepted` (a trap message, exit code, rejection), for the ISV.
    pub detail: Option<String>,
    /// Instructions executed (fuel consumed).
    pub instructions: u64,
    /// Peak linear memory in bytes.
    pub peak_memory_bytes: u64,
    /// Wall time of instantiation and `_start`, in microseconds.
    pub wall_time_us: u64,
    /// Every `gov.query` call, in order (calls past the quota: the first few, then only
    /// counted in `queries_refused`, so a guest cannot grow the record without bound).
    pub queries: Vec<QueryRecord>,
    /// Calls refused because the quota was used up.
    #[serde(default)]
    pub queries_refused: u32,
    /// stdout, lossy UTF-8, at most the stdout limit.
    pub stdout: String,
    /// Whether stdout went over its limit (and was cut).
    pub stdout_truncated: bool,
    /// stderr, lossy UTF-8, at most the stderr limit.
    pub stderr: String,
    /// Whether stderr went over its limit (and was cut).
    pub stderr_truncated: bool,
}

impl RunOutcome {
    /// An outcome for a run that never started.
    pub(crate) fn not_started(verdict: Verdict, detail: String) -> Self {
        Self {
            verdict,
            output: None,
            detail: Some(detail),
            instructions: 0,
            peak_memory_bytes: 0,
            wall_time_us: 0,
            queries: Vec::new(),
            queries_refused: 0,
            stdout: String::new(),
            stdout_truncated: false,
            stderr: String::new(),
            stderr_truncated: false,
        }
    }
}

struct Inner {
    engine: Engine,
    linker: Linker<HostState>,
    config: SandboxConfig,
    modules: RwLock<ModuleCache>,
    permits: Permits,
    /// Started on the first [`Sandbox::run_async`].
    run_threads: std::sync::OnceLock<RunThreads>,
    _ticker: EpochTicker,
}

/// The sandbox: validates modules and runs them under the app ABI v2 with hard limits.
///
/// Cheap to clone (an `Arc` inside); keep one per process.
#[derive(Clone)]
pub struct Sandbox {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl Sandbox {
    /// Build the engine (pooling allocator, fuel, epochs), the linker and the caches.
    pub fn new(config: SandboxConfig) -> Result<Self, SandboxError> {
        let concurrency = config.max_concurrent_runs.max(1);
        let engine_error = |e: wasmtime::Error| SandboxError::Engine(format!("{e:#}"));

        let mut wasm = Config::new();
        wasm.consume_fuel(true);
        wasm.epoch_interruption(true);
        wasm.max_wasm_stack(MAX_WASM_STACK);
        // Same bits on every host: NaN payloads are otherwise platform-dependent, and a run
        // must be reproducible from its inputs.
        wasm.cranelift_nan_canonicalization(true);

        let mut pool = PoolingAllocationConfig::default();
        // Slots for twice the concurrency bound: a run's slot is returned when its store
        // drops, which is after its permit is released only by a hair; the slack means a new
        // run never waits on the pool, and the pool never holds more than it needs.
        let slots = u32::try_from(concurrency.saturating_mul(2)).unwrap_or(u32::MAX);
        pool.total_core_instances(slots);
        pool.total_memories(slots);
        pool.total_tables(slots);
        pool.max_memories_per_module(1);
        pool.max_tables_per_module(4);
        pool.table_elements(host::MAX_TABLE_ELEMENTS);
        pool.max_memory_size(usize::try_from(config.caps.memory_bytes).unwrap_or(usize::MAX));
        // A returned slot is reset for the next run. By default with
        // `madvise(DONTNEED)`, which on a multi-threaded host means a TLB
        // shootdown across every core, and the next run then faults each
        // page back in: together a third of the run threads' time in
        // `bench invoke`. Instead the pages the run touched (found with
        // PAGEMAP_SCAN where the kernel has it, Linux 6.7+) are reset with
        // `memset`, up to this much of each memory; only beyond it is
        // anything given back to the kernel.
        pool.linear_memory_keep_resident(KEEP_RESIDENT_BYTES);
        pool.table_keep_resident(KEEP_RESIDENT_TABLE_BYTES);
        pool.pagemap_scan(wasmtime::Enabled::Auto);
        wasm.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));

        if let Some(dir) = &config.cache_dir {
            // wasmtime refuses a relative cache directory, and the default
            // data directory (`./data`) is one.
            let dir = std::path::absolute(dir).map_err(|source| SandboxError::CacheDir {
                path: dir.clone(),
                source,
            })?;
            let compiled_dir = dir.join("compiled");
            for path in [dir.join("modules"), compiled_dir.clone()] {
                std::fs::create_dir_all(&path)
                    .map_err(|source| SandboxError::CacheDir { path, source })?;
            }
            // wasmtime keys its cache by module bytes, engine configuration and wasmtime
            // version, so an artefact from another engine is never loaded: it is a cache miss
            // and the module is recompiled (and the stale file ages out).
            let mut cache_config = CacheConfig::new();
            cache_config.with_directory(compiled_dir);
            wasm.cache(Some(Cache::new(cache_config).map_err(engine_error)?));
        }

        let engine = Engine::new(&wasm).map_err(engine_error)?;
        let mut linker: Linker<HostState> = Linker::new(&engine);
        wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |state: &mut HostState| &mut state.wasi)
            .map_err(engine_error)?;
        linker
            .func_wrap(
                validate::GOV_MODULE,
                "query",
                |mut caller: wasmtime::Caller<'_, HostState>,
                 dataset_ptr: i32,
                 dataset_len: i32,
                 key_ptr: i32,
                 key_len: i32,
                 buf_ptr: i32,
                 buf_cap: i32|
                 -> i32 {
                    host::gov_query(
                        &mut caller,
                        [dataset_ptr, dataset_len, key_ptr, key_len, buf_ptr, buf_cap],
                    )
                },
            )
            .map_err(engine_error)?;

        let ticker = EpochTicker::start(engine.clone())?;
        Ok(Self {
            inner: Arc::new(Inner {
                engine,
                linker,
                permits: Permits::new(concurrency),
                run_threads: std::sync::OnceLock::new(),
                config,
                modules: RwLock::new(ModuleCache::default()),
                _ticker: ticker,
            }),
        })
    }

    /// The platform configuration.
    pub fn config(&self) -> &SandboxConfig {
        &self.inner.config
    }

    /// The order's limits with the platform defaults and caps applied.
    pub fn resolve(&self, limits: &Limits) -> ResolvedLimits {
        limits.resolve_with(&self.inner.config.defaults, &self.inner.config.caps)
    }

    /// Validate an upload: size, structure, imports, `_start`, memory, then compile and link.
    /// The compiled module is cached by sha256 in memory and, with a cache directory, on disk.
    pub fn validate(&self, wasm: &[u8], limits: &Limits) -> Result<ModuleInfo, Rejection> {
        let limits = self.resolve(limits);
        self.prepare(wasm, &limits).map(|c| c.info.clone())
    }

    /// sha256 hex of module bytes, as [`ModuleInfo::sha256`] names it.
    pub fn sha256_hex(wasm: &[u8]) -> String {
        hex::encode(Sha256::digest(wasm))
    }

    fn prepare(&self, wasm: &[u8], limits: &ResolvedLimits) -> Result<Arc<Compiled>, Rejection> {
        let size = wasm.len() as u64;
        if size > limits.module_bytes {
            return Err(Rejection::TooLarge {
                size,
                limit: limits.module_bytes,
            });
        }
        let sha256 = Self::sha256_hex(wasm);
        if let Some(hit) = self.cached(&sha256) {
            check_against(&hit.info, limits)?;
            return Ok(hit);
        }
        let shape = validate::inspect(wasm, limits.memory_bytes)?;
        // Compiling takes the cores a run would, so it waits for a slot like a run: a burst of
        // uploads queues instead of starving citizens' requests.
        let permit = self.inner.permits.acquire();
        let module =
            Module::from_binary(&self.inner.engine, wasm).map_err(|e| Rejection::Malformed {
                reason: validate::one_line(&format!("{e:#}")),
            })?;
        let pre = self
            .inner
            .linker
            .instantiate_pre(&module)
            .map_err(|e| Rejection::Link {
                reason: validate::one_line(&format!("{e:#}")),
            })?;
        drop(permit);
        let compiled = Arc::new(Compiled {
            info: ModuleInfo {
                sha256,
                size_bytes: size,
                functions: shape.functions,
                imports: shape.imports,
                initial_memory_bytes: shape.initial_memory_bytes,
            },
            pre,
        });
        self.persist(&compiled.info.sha256, wasm);
        self.remember(Arc::clone(&compiled));
        Ok(compiled)
    }

    fn cached(&self, sha256: &str) -> Option<Arc<Compiled>> {
        self.inner.modules.read().by_sha.get(sha256).cloned()
    }

    fn remember(&self, compiled: Arc<Compiled>) {
        let mut cache = self.inner.modules.write();
        let sha = compiled.info.sha256.clone();
        if cache.by_sha.insert(sha.clone(), compiled).is_none() {
            cache.order.push_back(sha);
        }
        while cache.by_sha.len() > self.inner.config.max_cached_modules.max(1) {
            let Some(oldest) = cache.order.pop_front() else {
                break;
            };
            cache.by_sha.remove(&oldest);
        }
    }

    fn module_path(&self, sha256: &str) -> Option<PathBuf> {
        // Only hex names reach the filesystem: a sha from a request cannot walk the tree.
        let is_hex = sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit());
        let dir = self.inner.config.cache_dir.as_ref()?;
        is_hex.then(|| cached_module_path(dir, &sha256.to_ascii_lowercase()))
    }

    /// Keep the module bytes on disk so a restarted worker can run a version by sha256.
    /// Failure only costs a later recompile from the database copy, so it is logged, not fatal.
    fn persist(&self, sha256: &str, wasm: &[u8]) {
        let Some(path) = self.module_path(sha256) else {
            return;
        };
        if path.exists() {
            return;
        }
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        let written = std::fs::write(&tmp, wasm).and_then(|()| std::fs::rename(&tmp, &path));
        if let Err(e) = written {
            tracing::warn!(path = %path.display(), error = %e, "cannot write module to the cache");
            let _ = std::fs::remove_file(&tmp);
        }
    }

    /// Find a module by sha256: memory cache first, then the disk cache (recompiled, which
    /// hits wasmtime's compiled-artefact cache when the engine is the same).
    fn by_sha(&self, sha256: &str, limits: &ResolvedLimits) -> Result<Arc<Compiled>, LookupError> {
        if let Some(hit) = self.cached(&sha256.to_ascii_lowercase()) {
            check_against(&hit.info, limits).map_err(LookupError::Rejected)?;
            return Ok(hit);
        }
        let path = self
            .module_path(sha256)
            .ok_or_else(|| LookupError::Unknown(sha256.to_owned()))?;
        let wasm = std::fs::read(&path).map_err(|_| LookupError::Unknown(sha256.to_owned()))?;
        if Self::sha256_hex(&wasm) != sha256.to_ascii_lowercase() {
            // A corrupted cache file is not the ISV's fault: drop it and report it missing.
            let _ = std::fs::remove_file(&path);
            return Err(LookupError::Unknown(sha256.to_owned()));
        }
        self.prepare(&wasm, limits).map_err(LookupError::Rejected)
    }

    /// Whether a module with this sha256 is ready to run without its bytes.
    pub fn has_module(&self, sha256: &str) -> bool {
        self.cached(&sha256.to_ascii_lowercase()).is_some()
            || self.module_path(sha256).is_some_and(|p| p.exists())
    }

    /// Run one request. Blocks the calling thread (never call it on an async executor thread;
    /// use [`Sandbox::run_async`] there) and waits for a slot under the concurrency bound.
    pub fn run(
        &self,
        module: ModuleRef<'_>,
        request: &RunRequest,
        data: Arc<dyn DatasetProvider>,
        limits: &Limits,
    ) -> RunOutcome {
        let limits = self.resolve(limits);
        let compiled = match module {
            ModuleRef::Wasm(wasm) => self.prepare(wasm, &limits).map_err(LookupError::Rejected),
            ModuleRef::Sha256(sha) => self.by_sha(sha, &limits),
        };
        let compiled = match compiled {
            Ok(compiled) => compiled,
            Err(LookupError::Rejected(rejection)) => {
                return RunOutcome::not_started(Verdict::Rejected, rejection.to_string());
            }
            Err(LookupError::Unknown(sha)) => {
                return RunOutcome::not_started(
                    Verdict::InternalError,
                    format!("module {sha} is not in the module cache"),
                );
            }
        };
        let _permit = self.inner.permits.acquire();
        self.execute(&compiled, request, data, &limits)
    }

    /// [`Sandbox::run`] on one of the sandbox's run threads (as many as
    /// `max_concurrent_runs`), queued without blocking the caller when all
    /// are busy.
    pub async fn run_async(
        &self,
        sha256: String,
        request: RunRequest,
        data: Arc<dyn DatasetProvider>,
        limits: Limits,
    ) -> RunOutcome {
        let threads = match self.run_threads() {
            Ok(t) => t,
            Err(e) => {
                tracing::error!(error = %e, "sandbox run threads did not start");
                return RunOutcome::not_started(Verdict::InternalError, e.to_string());
            }
        };
        let (reply, answer) = tokio::sync::oneshot::channel();
        let sandbox = self.clone();
        let job: Job = Box::new(move || {
            let outcome = sandbox.run(ModuleRef::Sha256(&sha256), &request, data, &limits);
            let _ = reply.send(outcome);
        });
        if threads.queue.send(job).await.is_err() {
            return RunOutcome::not_started(
                Verdict::InternalError,
                "the sandbox is shutting down".into(),
            );
        }
        answer.await.unwrap_or_else(|_| {
            RunOutcome::not_started(Verdict::InternalError, "the run was aborted".into())
        })
    }

    fn run_threads(&self) -> Result<&RunThreads, SandboxError> {
        if let Some(t) = self.inner.run_threads.get() {
            return Ok(t);
        }
        let started = RunThreads::start(self.inner.config.max_concurrent_runs.max(1))?;
        // Two first callers may race: the loser's threads find their queue
        // closed as soon as it is dropped here, and end.
        Ok(self.inner.run_threads.get_or_init(|| started))
    }

    fn execute(
        &self,
        compiled: &Compiled,
        request: &RunRequest,
        data: Arc<dyn DatasetProvider>,
        limits: &ResolvedLimits,
    ) -> RunOutcome {
        let stdin = match stdin_bytes(request) {
            Ok(bytes) => bytes,
            Err(detail) => return RunOutcome::not_started(Verdict::InternalError, detail),
        };
        let start_time = match parse_now(&request.context.now) {
            Ok(t) => t,
            Err(detail) => return RunOutcome::not_started(Verdict::InternalError, detail),
        };
        let stdout_cap = usize::try_from(limits.stdout_bytes).unwrap_or(usize::MAX);
        let stderr_cap = usize::try_from(limits.stderr_bytes).unwrap_or(usize::MAX);
        // One byte over the cap is how an overflow is detected after the run.
        let stdout = MemoryOutputPipe::new(stdout_cap.saturating_add(1));
        let stderr = MemoryOutputPipe::new(stderr_cap.saturating_add(1));
        let clock = VirtualClock::new(start_time);

        let wasi = WasiCtxBuilder::new()
            .stdin(MemoryInputPipe::new(stdin))
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .arg("app")
            .wall_clock(clock.clone())
            .monotonic_clock(clock)
            .secure_random(SeededRandom::new(request.seed, 0))
            .insecure_random(SeededRandom::new(request.seed, 1))
            .insecure_random_seed(u128::from(request.seed))
            .build_p1();
        let state = HostState {
            wasi,
            limiter: MemoryLimiter::new(limits.memory_bytes),
            gov: GovState {
                data,
                subject: Subject {
                    token: request.context.subject.clone(),
                    identity: request.identity.clone(),
                    input: request.input.clone(),
                },
                quota: limits.queries,
                used: 0,
                refused: 0,
                log: Vec::new(),
            },
        };
        let mut store = Store::new(&self.inner.engine, state);
        store.limiter(|state| &mut state.limiter);
        if let Err(e) = store.set_fuel(limits.instructions) {
            return RunOutcome::not_started(Verdict::InternalError, format!("fuel: {e:#}"));
        }
        let ticks = limits
            .wall_time_ms
            .div_ceil(EPOCH_TICK.as_millis() as u64)
            // The current tick may be nearly over when the run starts.
            .saturating_add(1);
        store.set_epoch_deadline(ticks);
        store.epoch_deadline_trap();

        let started = Instant::now();
        let mut instantiated = false;
        let result = compiled.pre.instantiate(&mut store).and_then(|instance| {
            instantiated = true;
            let start = instance.get_typed_func::<(), ()>(&mut store, "_start")?;
            start.call(&mut store, ())
        });
        let wall_time_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        let instructions = limits
            .instructions
            .saturating_sub(store.get_fuel().unwrap_or(0));
        let state = store.into_data();

        let out = stdout.contents();
        let err = stderr.contents();
        let stdout_truncated = out.len() > stdout_cap;
        let stderr_truncated = err.len() > stderr_cap;
        let mut outcome = RunOutcome {
            verdict: Verdict::Accepted,
            output: None,
            detail: None,
            instructions,
            peak_memory_bytes: state.limiter.peak as u64,
            wall_time_us,
            queries: state.gov.log,
            queries_refused: state.gov.refused,
            stdout: String::from_utf8_lossy(&out[..out.len().min(stdout_cap)]).into_owned(),
            stdout_truncated,
            stderr: String::from_utf8_lossy(&err[..err.len().min(stderr_cap)]).into_owned(),
            stderr_truncated,
        };
        let failure = classify(
            result,
            instantiated,
            state.limiter.hit,
            stdout_truncated,
            stderr_truncated,
            limits,
        );
        if let Some((verdict, detail)) = failure {
            outcome.verdict = verdict;
            outcome.detail = Some(detail);
            return outcome;
        }
        match parse_single_json(&out) {
            Ok(value) => outcome.output = Some(value),
            Err(detail) => {
                outcome.verdict = Verdict::InvalidOutput;
                outcome.detail = Some(detail);
            }
        }
        outcome
    }
}

/// Where a module's bytes live in a cache directory (`<cache_dir>/modules/<sha256>.wasm`), for
/// tools that inspect the cache.
pub fn cached_module_path(cache_dir: &Path, sha256: &str) -> PathBuf {
    cache_dir.join("modules").join(format!("{sha256}.wasm"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stdout_must_hold_exactly_one_json_value() {
        assert_eq!(
            parse_single_json(b" {\"a\":1}\n"),
            Ok(serde_json::json!({"a": 1}))
        );
        assert!(parse_single_json(b"").is_err());
        assert!(parse_single_json(b"{} {}").is_err());
        assert!(parse_single_json(b"\xff").is_err());
    }

    #[test]
    fn now_must_be_rfc3339_after_1970() {
        assert!(parse_now("2026-07-01T08:00:00+08:00").is_ok());
        assert!(parse_now("yesterday").is_err());
        assert!(parse_now("1960-01-01T00:00:00Z").is_err());
    }
}
