//! The concurrency bound (`SandboxConfig::max_concurrent_runs`): however many runs are
//! launched at once, no more than the bound execute together, and every one completes.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use sandbox::Access;
use sandbox::{
    DatasetProvider, Limits, ModuleRef, QueryStatus, RunContext, RunRequest, Sandbox,
    SandboxConfig, Verdict,
};
use serde_json::json;

/// How long each run stays inside `gov.query`: long enough that runs admitted together
/// certainly overlap, even on a loaded machine, so the peak shows the bound itself.
const QUERY_DELAY: Duration = Duration::from_millis(50);

/// A dataset provider that counts the runs inside `gov.query` at the same moment.
#[derive(Default)]
struct Counting {
    inside: AtomicUsize,
    peak: AtomicUsize,
    calls: AtomicUsize,
}

impl DatasetProvider for Counting {
    fn access(&self, _dataset: &str) -> Option<&Access> {
        Some(&Access::Reference)
    }

    fn get(&self, _dataset: &str, _key: &str) -> Option<Arc<[u8]>> {
        let now = self.inside.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        self.calls.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(QUERY_DELAY);
        self.inside.fetch_sub(1, Ordering::SeqCst);
        Some(Arc::from(&b"{\"ok\":true}"[..]))
    }
}

/// Queries `records` for key `k` once, then prints `{}`.
fn one_query_app() -> Vec<u8> {
    wat::parse_str(
        r#"(module
          (import "wasi_snapshot_preview1" "fd_write"
            (func $fd_write (param i32 i32 i32 i32) (result i32)))
          (import "gov" "query" (func $query (param i32 i32 i32 i32 i32 i32) (result i32)))
          (memory (export "memory") 1)
          (data (i32.const 1024) "{}")
          (data (i32.const 2048) "records")
          (data (i32.const 3072) "k")
          (func (export "_start")
            (drop (call $query (i32.const 2048) (i32.const 7) (i32.const 3072) (i32.const 1)
                               (i32.const 4096) (i32.const 256)))
            (i32.store (i32.const 0) (i32.const 1024))
            (i32.store (i32.const 4) (i32.const 2))
            (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))"#,
    )
    .expect("test WAT parses")
}

fn request() -> RunRequest {
    RunRequest {
        input: json!({}),
        context: RunContext {
            subject: "k".into(),
            locale: "zh-CN".into(),
            now: "2026-07-01T09:00:00+08:00".into(),
        },
        seed: 1,
        identity: None,
    }
}

fn bounded(max_concurrent_runs: usize) -> (Sandbox, String) {
    let sandbox = Sandbox::new(SandboxConfig {
        max_concurrent_runs,
        ..SandboxConfig::default()
    })
    .expect("sandbox");
    let sha256 = sandbox
        .validate(&one_query_app(), &Limits::default())
        .expect("valid")
        .sha256;
    (sandbox, sha256)
}

fn assert_found_once(outcome: &sandbox::RunOutcome) {
    assert_eq!(outcome.verdict, Verdict::Accepted, "{outcome:#?}");
    assert_eq!(outcome.queries.len(), 1, "{outcome:#?}");
    assert_eq!(outcome.queries[0].status, QueryStatus::Found);
}

#[test]
fn blocking_runs_from_many_threads_never_exceed_the_bound_of_two() {
    const BOUND: usize = 2;
    const THREADS: usize = 8;
    const RUNS_PER_THREAD: usize = 2;
    let (sandbox, sha256) = bounded(BOUND);
    let data = Arc::new(Counting::default());
    let threads: Vec<_> = (0..THREADS)
        .map(|_| {
            let (sandbox, sha256, data) = (sandbox.clone(), sha256.clone(), Arc::clone(&data));
            std::thread::spawn(move || {
                (0..RUNS_PER_THREAD)
                    .map(|_| {
                        let data: Arc<dyn DatasetProvider> = data.clone();
                        sandbox.run(
                            ModuleRef::Sha256(&sha256),
                            &request(),
                            data,
                            &Limits::default(),
                        )
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut completed = 0;
    for thread in threads {
        for outcome in thread.join().expect("no panic") {
            assert_found_once(&outcome);
            completed += 1;
        }
    }
    assert_eq!(completed, THREADS * RUNS_PER_THREAD);
    assert_eq!(data.calls.load(Ordering::SeqCst), THREADS * RUNS_PER_THREAD);
    // Eight threads asked at once: without the bound the peak would be up to eight; with it,
    // exactly two (runs admitted together overlap inside their 50 ms query).
    assert_eq!(data.peak.load(Ordering::SeqCst), BOUND);
}

#[test]
fn async_runs_queue_for_the_single_slot_and_all_complete() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("runtime");
    let (sandbox, sha256) = bounded(1);
    let data = Arc::new(Counting::default());
    const RUNS: usize = 10;
    let outcomes = runtime.block_on(async {
        let tasks: Vec<_> = (0..RUNS)
            .map(|_| {
                let (sandbox, sha256) = (sandbox.clone(), sha256.clone());
                let data: Arc<dyn DatasetProvider> = data.clone();
                tokio::spawn(async move {
                    sandbox
                        .run_async(sha256, request(), data, Limits::default())
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
    assert_eq!(outcomes.len(), RUNS);
    for outcome in &outcomes {
        assert_found_once(outcome);
    }
    assert_eq!(data.calls.load(Ordering::SeqCst), RUNS);
    assert_eq!(data.peak.load(Ordering::SeqCst), 1);
}
