//! Hostile modules, written in WAT at test time: each gets the right verdict or a clean
//! rejection, runs are reproducible, and the host runs the next good module normally.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sandbox::host::{QUERY_BAD_ARGUMENTS, QUERY_NOT_PERMITTED, QUERY_QUOTA_EXCEEDED};
use sandbox::{
    Limits, MemoryDatasets, ModuleRef, QueryStatus, Rejection, RunContext, RunOutcome, RunRequest,
    Sandbox, SandboxConfig, Verdict,
};
use serde_json::json;

fn sandbox() -> Sandbox {
    Sandbox::new(SandboxConfig::default()).expect("sandbox")
}

fn request() -> RunRequest {
    RunRequest {
        input: json!({}),
        context: RunContext {
            subject: "330106199001011237".into(),
            locale: "zh-CN".into(),
            now: "2026-07-01T09:00:00+08:00".into(),
        },
        seed: 7,
        identity: Some("330106199001011237".into()),
    }
}

fn data() -> Arc<MemoryDatasets> {
    let mut sets = MemoryDatasets::new();
    sets.insert_dataset(
        "social_insurance",
        [("330106199001011237".to_owned(), json!({"name": "张三"}))],
    );
    sets.insert_dataset(
        "tax_records",
        [("330106199001011237".to_owned(), json!({"income_fen": 1}))],
    );
    sets.grant("social_insurance", sandbox::Access::Subject);
    Arc::new(sets)
}

/// Tight limits so a hostile case costs the test suite little time.
fn tight() -> Limits {
    Limits {
        instructions: Some(20_000_000),
        memory_bytes: Some(8 << 20),
        wall_time_ms: Some(2_000),
        stdout_bytes: Some(4096),
        stderr_bytes: Some(4096),
        ..Limits::default()
    }
}

/// A WASI command whose `_start` runs `body`; `$print` writes `{}` to stdout.
fn command(extra_imports: &str, body: &str) -> Vec<u8> {
    let text = format!(
        r#"(module
          (import "wasi_snapshot_preview1" "fd_write"
            (func $fd_write (param i32 i32 i32 i32) (result i32)))
          {extra_imports}
          (memory (export "memory") 2)
          (data (i32.const 1024) "{{}}")
          (func $print
            (i32.store (i32.const 0) (i32.const 1024))
            (i32.store (i32.const 4) (i32.const 2))
            (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))
          (func (export "_start") {body}))"#
    );
    wat::parse_str(text).expect("test WAT parses")
}

fn run(sandbox: &Sandbox, wasm: &[u8], limits: &Limits) -> RunOutcome {
    sandbox.run(ModuleRef::Wasm(wasm), &request(), data(), limits)
}

fn example_app() -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("guest/wasm/si_lookup.wasm");
    std::fs::read(path).expect("committed example app")
}

#[test]
fn an_infinite_loop_exceeds_the_instruction_limit_at_the_same_count_every_time() {
    let sandbox = sandbox();
    let wasm = command("", "(loop (br 0))");
    let first = run(&sandbox, &wasm, &tight());
    let second = run(&sandbox, &wasm, &tight());
    assert_eq!(first.verdict, Verdict::TimeLimitExceeded, "{first:#?}");
    assert_eq!(first.instructions, 20_000_000);
    assert_eq!(first.instructions, second.instructions);
}

#[test]
fn an_infinite_loop_with_fuel_to_spare_is_stopped_by_the_wall_clock() {
    let sandbox = sandbox();
    let wasm = command("", "(loop (br 0))");
    let limits = Limits {
        instructions: Some(u64::MAX),
        wall_time_ms: Some(100),
        ..tight()
    };
    // Compile first: the clock below is for the run, and compiling in a
    // debug build on a loaded machine can take seconds.
    sandbox.validate(&wasm, &limits).expect("valid module");
    let started = Instant::now();
    let outcome = run(&sandbox, &wasm, &limits);
    assert_eq!(outcome.verdict, Verdict::TimeLimitExceeded, "{outcome:#?}");
    assert!(
        outcome
            .detail
            .as_deref()
            .unwrap_or("")
            .contains("wall time")
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert!(outcome.wall_time_us >= 100_000);
}

#[test]
fn a_memory_bomb_hits_the_memory_limit_and_never_exceeds_it() {
    let sandbox = sandbox();
    let wasm = command(
        "",
        "(loop (br_if 0 (i32.ne (memory.grow (i32.const 16)) (i32.const -1)))) unreachable",
    );
    let first = run(&sandbox, &wasm, &tight());
    let second = run(&sandbox, &wasm, &tight());
    assert_eq!(first.verdict, Verdict::MemoryLimitExceeded, "{first:#?}");
    assert!(first.peak_memory_bytes <= 8 << 20);
    assert!(first.peak_memory_bytes >= 7 << 20);
    assert_eq!(first.instructions, second.instructions);
    assert_eq!(first.peak_memory_bytes, second.peak_memory_bytes);
}

/// A pooled memory slot is reset between runs, in place (`memset`) up to a
/// few MiB and by the kernel beyond: no run reads what an earlier one left,
/// in its data segment, the rest of its initial memory, or memory it grew
/// below or past the part reset in place.
#[test]
fn a_run_never_sees_what_an_earlier_run_left_in_memory() {
    // One run at a time, so every run after the first takes a used slot.
    let sandbox = Sandbox::new(SandboxConfig {
        max_concurrent_runs: 1,
        ..SandboxConfig::default()
    })
    .expect("sandbox");
    // 82 pages (5.1 MiB): the last address checked lies past the 4 MiB
    // reset in place. Each check traps if the byte is not as new.
    let wasm = command(
        "",
        r#"
        (if (i32.eq (memory.grow (i32.const 80)) (i32.const -1)) (then unreachable))
        (if (i32.ne (i32.load8_u (i32.const 1024)) (i32.const 123)) (then unreachable))
        (if (i32.ne (i32.load (i32.const 70000)) (i32.const 0)) (then unreachable))
        (if (i32.ne (i32.load (i32.const 1000000)) (i32.const 0)) (then unreachable))
        (if (i32.ne (i32.load (i32.const 5000000)) (i32.const 0)) (then unreachable))
        (call $print)
        (i32.store8 (i32.const 1024) (i32.const 65))
        (i32.store (i32.const 70000) (i32.const -1))
        (i32.store (i32.const 1000000) (i32.const -1))
        (i32.store (i32.const 5000000) (i32.const -1))"#,
    );
    for n in 0..6 {
        let outcome = run(&sandbox, &wasm, &tight());
        assert_eq!(outcome.verdict, Verdict::Accepted, "run {n}: {outcome:#?}");
        assert_eq!(outcome.stdout, "{}", "run {n}");
    }
}

#[test]
fn a_module_declaring_more_memory_than_allowed_is_rejected() {
    let sandbox = sandbox();
    let wasm =
        wat::parse_str(r#"(module (memory (export "memory") 256) (func (export "_start")))"#)
            .expect("WAT");
    let err = sandbox.validate(&wasm, &tight()).expect_err("rejected");
    assert!(matches!(err, Rejection::MemoryTooLarge { .. }), "{err}");
    assert_eq!(run(&sandbox, &wasm, &tight()).verdict, Verdict::Rejected);
}

fn stack_overflow() -> Vec<u8> {
    wat::parse_str(
        r#"(module
          (memory (export "memory") 1)
          (func $down (param i64) (result i64)
            (i64.add (call $down (i64.add (local.get 0) (i64.const 1))) (i64.const 1)))
          (func (export "_start") (drop (call $down (i64.const 0)))))"#,
    )
    .expect("WAT")
}

#[test]
fn unbounded_recursion_overflows_the_wasm_stack_as_a_runtime_error() {
    let sandbox = sandbox();
    let outcome = run(&sandbox, &stack_overflow(), &tight());
    assert_eq!(outcome.verdict, Verdict::RuntimeError, "{outcome:#?}");
    assert!(
        outcome.detail.as_deref().unwrap_or("").contains("stack"),
        "{outcome:#?}"
    );
}

#[test]
fn an_output_flood_is_cut_at_the_limit_and_judged_output_limit_exceeded() {
    let sandbox = sandbox();
    let wasm = command("", "(loop (call $print) (br 0))");
    let outcome = run(&sandbox, &wasm, &tight());
    assert_eq!(
        outcome.verdict,
        Verdict::OutputLimitExceeded,
        "{outcome:#?}"
    );
    assert!(outcome.stdout_truncated);
    assert_eq!(outcome.stdout.len(), 4096);
}

#[test]
fn a_stderr_flood_is_cut_at_the_limit_and_judged_output_limit_exceeded() {
    let sandbox = sandbox();
    let wasm = command(
        "",
        r#"(i32.store (i32.const 0) (i32.const 1024))
           (i32.store (i32.const 4) (i32.const 2))
           (loop (drop (call $fd_write (i32.const 2) (i32.const 0) (i32.const 1) (i32.const 8)))
                 (br 0))"#,
    );
    let outcome = run(&sandbox, &wasm, &tight());
    assert_eq!(
        outcome.verdict,
        Verdict::OutputLimitExceeded,
        "{outcome:#?}"
    );
    assert!(outcome.stderr_truncated && !outcome.stdout_truncated);
    assert_eq!(outcome.stderr.len(), 4096);
}

#[test]
fn forbidden_imports_are_rejected_naming_each_one() {
    let sandbox = sandbox();
    let wasm = command(
        r#"(import "env" "open_socket" (func (param i32) (result i32)))
           (import "wasi_unstable" "fd_read" (func (param i32 i32 i32 i32) (result i32)))"#,
        "(call $print)",
    );
    let err = sandbox
        .validate(&wasm, &Limits::default())
        .expect_err("rejected");
    let message = err.to_string();
    assert!(message.contains("env.open_socket"), "{message}");
    assert!(message.contains("wasi_unstable.fd_read"), "{message}");
    let outcome = run(&sandbox, &wasm, &Limits::default());
    assert_eq!(outcome.verdict, Verdict::Rejected);
    assert_eq!(outcome.instructions, 0);
}

#[test]
fn a_wasi_import_with_a_wrong_signature_is_rejected_at_link_time() {
    let sandbox = sandbox();
    let wasm = wat::parse_str(
        r#"(module
          (import "wasi_snapshot_preview1" "fd_write" (func (param i32)))
          (memory (export "memory") 1)
          (func (export "_start")))"#,
    )
    .expect("WAT");
    let err = sandbox
        .validate(&wasm, &Limits::default())
        .expect_err("rejected");
    assert!(matches!(err, Rejection::Link { .. }), "{err}");
    assert!(err.to_string().contains("fd_write"), "{err}");
}

/// Calls `gov.query(dataset, "1" * key_len)` `calls` times; prints `{}` iff the last call
/// returned `expect`.
fn query_module(dataset: &str, key_len: u32, expect: i32, calls: u32) -> Vec<u8> {
    let text = format!(
        r#"(module
          (import "wasi_snapshot_preview1" "fd_write"
            (func $fd_write (param i32 i32 i32 i32) (result i32)))
          (import "gov" "query" (func $query (param i32 i32 i32 i32 i32 i32) (result i32)))
          (memory (export "memory") 2)
          (data (i32.const 1024) "{{}}")
          (data (i32.const 2048) "{dataset}")
          (func $print
            (i32.store (i32.const 0) (i32.const 1024))
            (i32.store (i32.const 4) (i32.const 2))
            (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))
          (func (export "_start") (local $i i32) (local $r i32)
            (memory.fill (i32.const 4096) (i32.const 0x31) (i32.const {key_len}))
            (loop
              (local.set $r (call $query (i32.const 2048) (i32.const {len})
                (i32.const 4096) (i32.const {key_len}) (i32.const 65536) (i32.const 4096)))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br_if 0 (i32.lt_u (local.get $i) (i32.const {calls}))))
            (if (i32.eq (local.get $r) (i32.const {expect})) (then (call $print)))))"#,
        len = dataset.len(),
    );
    wat::parse_str(text).expect("test WAT parses")
}

#[test]
fn a_query_on_a_dataset_not_granted_is_not_permitted_even_when_the_data_exists() {
    let sandbox = sandbox();
    let wasm = query_module("tax_records", 18, QUERY_NOT_PERMITTED, 1);
    let outcome = run(&sandbox, &wasm, &tight());
    assert_eq!(outcome.verdict, Verdict::Accepted, "{outcome:#?}");
    assert_eq!(outcome.queries.len(), 1);
    assert_eq!(outcome.queries[0].dataset, "tax_records");
    assert_eq!(outcome.queries[0].status, QueryStatus::NotPermitted);
}

#[test]
fn an_oversized_key_is_refused_as_bad_arguments_and_recorded_truncated() {
    let sandbox = sandbox();
    let wasm = query_module("social_insurance", 60_000, QUERY_BAD_ARGUMENTS, 1);
    let outcome = run(&sandbox, &wasm, &tight());
    assert_eq!(outcome.verdict, Verdict::Accepted, "{outcome:#?}");
    assert_eq!(outcome.queries[0].status, QueryStatus::BadArguments);
    assert_eq!(outcome.queries[0].key.len(), sandbox::host::MAX_KEY_BYTES);
}

#[test]
fn queries_beyond_the_quota_are_refused_and_the_record_stays_bounded() {
    let sandbox = sandbox();
    let wasm = query_module("social_insurance", 18, QUERY_QUOTA_EXCEEDED, 10_000);
    let limits = Limits {
        queries: Some(3),
        ..tight()
    };
    let outcome = run(&sandbox, &wasm, &limits);
    assert_eq!(outcome.verdict, Verdict::Accepted, "{outcome:#?}");
    let found = outcome
        .queries
        .iter()
        .filter(|q| q.status != QueryStatus::QuotaExceeded)
        .count();
    assert_eq!(found, 3);
    assert_eq!(outcome.queries_refused, 10_000 - 3);
    assert!(outcome.queries.len() < 20, "{}", outcome.queries.len());
}

#[test]
fn a_query_with_a_buffer_outside_memory_is_bad_arguments_not_a_host_fault() {
    let sandbox = sandbox();
    let wasm = command(
        r#"(import "gov" "query" (func $query (param i32 i32 i32 i32 i32 i32) (result i32)))"#,
        r#"(if (i32.eq (call $query (i32.const -16) (i32.const 64) (i32.const 0)
                                  (i32.const 18) (i32.const 131000) (i32.const 100000))
                       (i32.const -3))
             (then (call $print)))"#,
    );
    let outcome = run(&sandbox, &wasm, &tight());
    assert_eq!(outcome.verdict, Verdict::Accepted, "{outcome:#?}");
}

#[test]
fn opening_files_finds_nothing_preopened() {
    let sandbox = sandbox();
    // fd 3 is where a WASI runtime puts the first preopened directory; there is none.
    let wasm = command(
        r#"(import "wasi_snapshot_preview1" "fd_prestat_get"
             (func $prestat (param i32 i32) (result i32)))
           (import "wasi_snapshot_preview1" "path_open"
             (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))"#,
        r#"(if (i32.and
                 (i32.ne (call $prestat (i32.const 3) (i32.const 512)) (i32.const 0))
                 (i32.ne (call $open (i32.const 3) (i32.const 0) (i32.const 1024) (i32.const 2)
                                     (i32.const 0) (i64.const 2) (i64.const 2) (i32.const 0)
                                     (i32.const 512))
                         (i32.const 0)))
             (then (call $print)))"#,
    );
    let outcome = run(&sandbox, &wasm, &tight());
    assert_eq!(outcome.verdict, Verdict::Accepted, "{outcome:#?}");
}

#[test]
fn socket_calls_fail_because_no_socket_is_inherited() {
    let sandbox = sandbox();
    let wasm = command(
        r#"(import "wasi_snapshot_preview1" "sock_accept"
             (func $accept (param i32 i32 i32) (result i32)))
           (import "wasi_snapshot_preview1" "sock_send"
             (func $send (param i32 i32 i32 i32 i32) (result i32)))"#,
        r#"(i32.store (i32.const 0) (i32.const 1024))
           (i32.store (i32.const 4) (i32.const 2))
           (if (i32.and
                 (i32.ne (call $accept (i32.const 3) (i32.const 0) (i32.const 512)) (i32.const 0))
                 (i32.ne (call $send (i32.const 3) (i32.const 0) (i32.const 1) (i32.const 0)
                                     (i32.const 512))
                         (i32.const 0)))
             (then (call $print)))"#,
    );
    let outcome = run(&sandbox, &wasm, &tight());
    assert_eq!(outcome.verdict, Verdict::Accepted, "{outcome:#?}");
}

#[test]
fn a_module_over_the_size_limit_is_rejected_before_parsing() {
    let sandbox = sandbox();
    let wasm = command("", "(call $print)");
    let limits = Limits {
        module_bytes: Some(64),
        ..Limits::default()
    };
    let err = sandbox.validate(&wasm, &limits).expect_err("rejected");
    assert_eq!(
        err,
        Rejection::TooLarge {
            size: wasm.len() as u64,
            limit: 64
        }
    );
}

#[test]
fn malformed_bytes_are_rejected_cleanly() {
    let sandbox = sandbox();
    for bytes in [
        &b""[..],
        b"\0asm",
        b"\0asm\x01\0\0\0\x01\xff\xff\xff\xff\x0f",
        b"#!/bin/sh\nrm -rf /\n",
    ] {
        let err = sandbox
            .validate(bytes, &Limits::default())
            .expect_err("rejected");
        assert!(matches!(err, Rejection::Malformed { .. }), "{err}");
    }
    // Valid structure, invalid code: caught by wasmtime's validator, still a clean rejection.
    let ill_typed =
        wat::parse_str(r#"(module (func (export "_start") (drop (i32.const 1)) (drop)))"#);
    if let Ok(bytes) = ill_typed {
        let err = sandbox
            .validate(&bytes, &Limits::default())
            .expect_err("rejected");
        assert!(matches!(err, Rejection::Malformed { .. }), "{err}");
    }
}

/// A module of `n` functions plus `_start`: `$fI` returns `I`, and `_start` prints `{}` only
/// if the first and the last function answer, so a run proves the whole range was compiled.
fn many_functions(n: u32) -> Vec<u8> {
    let mut text = String::from(
        r#"(module
          (import "wasi_snapshot_preview1" "fd_write"
            (func $fd_write (param i32 i32 i32 i32) (result i32)))
          (memory (export "memory") 1)
          (data (i32.const 1024) "{}")"#,
    );
    for i in 0..n {
        text.push_str(&format!("(func $f{i} (result i32) (i32.const {i}))"));
    }
    let last = n - 1;
    text.push_str(&format!(
        r#"(func (export "_start")
            (if (i32.eq (i32.add (call $f0) (call $f{last})) (i32.const {last}))
              (then
                (i32.store (i32.const 0) (i32.const 1024))
                (i32.store (i32.const 4) (i32.const 2))
                (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))))
          )"#
    ));
    wat::parse_str(text).expect("WAT")
}

#[test]
fn a_module_near_the_function_cap_compiles_in_bounded_time_and_runs_and_one_beyond_is_rejected() {
    let sandbox = sandbox();
    // `_start` is one more function: MAX_FUNCTIONS of `$fI` is one over the cap.
    let too_many = many_functions(sandbox::validate::MAX_FUNCTIONS);
    let started = Instant::now();
    let err = sandbox
        .validate(&too_many, &Limits::default())
        .expect_err("rejected");
    assert_eq!(
        err,
        Rejection::TooManyFunctions {
            count: sandbox::validate::MAX_FUNCTIONS + 1,
            limit: sandbox::validate::MAX_FUNCTIONS
        }
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "rejected before compiling, not after: {:?}",
        started.elapsed()
    );

    // Four fifths of the cap: allowed, so it must compile in time linear in its size and run
    // like any other module. The release build compiles it in about 3.5 s on two cores (see
    // MAX_FUNCTIONS). An unoptimised cranelift takes about 1 ms per function on an idle
    // machine and several times that on a loaded one, so in a debug build the bound is relative:
    // eight times the functions of a module compiled just before may take at most three times
    // eight times as long, room for the load to change between the two (compile time growing
    // with the square of the size would take 64 times).
    const NEAR_CAP: u32 = 40_000;
    const SMALL: u32 = NEAR_CAP / 8;
    let small = many_functions(SMALL);
    let started = Instant::now();
    sandbox
        .validate(&small, &Limits::default())
        .expect("allowed below the cap");
    let small_compile = started.elapsed();

    let wasm = many_functions(NEAR_CAP);
    let started = Instant::now();
    let info = sandbox
        .validate(&wasm, &Limits::default())
        .expect("allowed below the cap");
    let compile = started.elapsed();
    assert_eq!(info.functions, NEAR_CAP + 1);
    let bound = if cfg!(debug_assertions) {
        small_compile * 24
    } else {
        Duration::from_secs(20)
    };
    assert!(
        compile < bound,
        "{NEAR_CAP} functions took {compile:?} to compile, {SMALL} took {small_compile:?}"
    );
    let outcome = sandbox.run(
        ModuleRef::Sha256(&info.sha256),
        &request(),
        data(),
        &tight(),
    );
    assert_eq!(outcome.verdict, Verdict::Accepted, "{outcome:#?}");
    assert_eq!(outcome.output, Some(json!({})));
}

/// Median wall time of `n` runs of the good module, checking each is the same run as `expected`.
fn median_wall_time_us(sandbox: &Sandbox, sha256: &str, expected: &RunOutcome, n: usize) -> u64 {
    let mut times: Vec<u64> = (0..n)
        .map(|_| {
            let outcome = good_run(sandbox, sha256);
            assert_same_run(&outcome, expected);
            outcome.wall_time_us
        })
        .collect();
    times.sort_unstable();
    times[n / 2]
}

fn good_run(sandbox: &Sandbox, sha256: &str) -> RunOutcome {
    sandbox.run(
        ModuleRef::Sha256(sha256),
        &request(),
        data(),
        &Limits::default(),
    )
}

/// What must not drift by a single bit whatever ran before: these cannot be flaky.
fn assert_same_run(outcome: &RunOutcome, expected: &RunOutcome) {
    assert_eq!(outcome.verdict, Verdict::Accepted, "{outcome:#?}");
    assert_eq!(outcome.output, expected.output);
    assert_eq!(outcome.stdout, expected.stdout);
    assert_eq!(outcome.stderr, expected.stderr);
    assert_eq!(outcome.instructions, expected.instructions);
    assert_eq!(outcome.peak_memory_bytes, expected.peak_memory_bytes);
    assert_eq!(outcome.queries, expected.queries);
}

#[test]
fn the_host_runs_a_good_module_normally_after_every_hostile_one() {
    let sandbox = sandbox();
    let good = sandbox
        .validate(&example_app(), &Limits::default())
        .expect("the example app is valid")
        .sha256;
    let reference = good_run(&sandbox, &good);
    assert_eq!(reference.verdict, Verdict::Accepted, "{reference:#?}");
    assert_eq!(reference.queries.len(), 1, "{reference:#?}");
    // Warm first (page faults, the pool's first slots, lazy host init), then the baseline.
    median_wall_time_us(&sandbox, &good, &reference, 5);
    let baseline_us = median_wall_time_us(&sandbox, &good, &reference, 9);

    let wall_clock = Limits {
        instructions: Some(u64::MAX),
        wall_time_ms: Some(100),
        ..tight()
    };
    // Each hostile module with its limits, the verdict it must get and a word of its detail.
    let hostile: Vec<(&str, Vec<u8>, Limits, Verdict, &str)> = vec![
        (
            "infinite loop",
            command("", "(loop (br 0))"),
            tight(),
            Verdict::TimeLimitExceeded,
            "instruction limit",
        ),
        (
            "loop stopped by the wall clock",
            command("", "(loop (br 0))"),
            wall_clock,
            Verdict::TimeLimitExceeded,
            "wall time",
        ),
        (
            "memory bomb",
            command(
                "",
                "(loop (br_if 0 (i32.ne (memory.grow (i32.const 16)) (i32.const -1)))) unreachable",
            ),
            tight(),
            Verdict::MemoryLimitExceeded,
            "memory limit",
        ),
        (
            "stack overflow",
            stack_overflow(),
            tight(),
            Verdict::RuntimeError,
            "stack",
        ),
        (
            "stdout flood",
            command("", "(loop (call $print) (br 0))"),
            tight(),
            Verdict::OutputLimitExceeded,
            "stdout over",
        ),
        (
            "stderr flood",
            command(
                "",
                r#"(i32.store (i32.const 0) (i32.const 1024))
                   (i32.store (i32.const 4) (i32.const 2))
                   (loop (drop (call $fd_write (i32.const 2) (i32.const 0) (i32.const 1)
                                               (i32.const 8)))
                         (br 0))"#,
            ),
            tight(),
            Verdict::OutputLimitExceeded,
            "stderr over",
        ),
        (
            "trap",
            command("", "unreachable"),
            tight(),
            Verdict::RuntimeError,
            "unreachable",
        ),
        (
            "forbidden import",
            command(
                r#"(import "env" "open_socket" (func (param i32) (result i32)))"#,
                "(call $print)",
            ),
            tight(),
            Verdict::Rejected,
            "env.open_socket",
        ),
        (
            "malformed bytes",
            b"\0asm\x01\0\0\0\x01\xff\xff\xff\xff\x0f".to_vec(),
            tight(),
            Verdict::Rejected,
            "not a valid WebAssembly module",
        ),
        (
            "ten thousand functions",
            many_functions(10_000),
            tight(),
            Verdict::Accepted,
            "",
        ),
    ];
    for (name, wasm, limits, verdict, detail) in &hostile {
        let outcome = run(&sandbox, wasm, limits);
        assert_eq!(outcome.verdict, *verdict, "{name}: {outcome:#?}");
        assert!(
            outcome
                .detail
                .as_deref()
                .unwrap_or_default()
                .contains(detail),
            "{name}: {outcome:#?}"
        );
        // The good module right after each one: the very same run, to the instruction.
        assert_same_run(&good_run(&sandbox, &good), &reference);
    }

    let after_us = median_wall_time_us(&sandbox, &good, &reference, 9);
    // Medians of nine warm runs each: the same work, so a loaded two-core machine may slow it,
    // but not to three times the baseline (plus a millisecond for scheduler noise on a run of
    // well under one).
    assert!(
        after_us <= baseline_us * 3 + 1_000,
        "baseline median {baseline_us} us, after the hostile modules {after_us} us"
    );
}

#[test]
fn many_concurrent_runs_share_the_pool_without_internal_errors() {
    let sandbox = sandbox();
    let good = Arc::new(example_app());
    let threads: Vec<_> = (0..6)
        .map(|_| {
            let sandbox = sandbox.clone();
            let good = Arc::clone(&good);
            std::thread::spawn(move || {
                (0..3)
                    .map(|_| run(&sandbox, &good, &Limits::default()).verdict)
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    for thread in threads {
        for verdict in thread.join().expect("no panic") {
            assert_eq!(verdict, Verdict::Accepted);
        }
    }
}
