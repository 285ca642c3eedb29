//! The random numbers an app reads through WASI `random_get`: a stream seeded by the request,
//! the same for the same seed, never cycling, whatever sizes the app reads in.

use std::sync::Arc;

use sandbox::{
    Limits, MemoryDatasets, ModuleRef, RunContext, RunOutcome, RunRequest, Sandbox, SandboxConfig,
    Verdict,
};
use serde_json::json;

const BYTES: usize = 4096;

/// Reads 4 KiB of random in reads of the given sizes (summing to 4 KiB) and prints them as
/// one JSON string of hex.
fn random_app(reads: &[usize]) -> Vec<u8> {
    assert_eq!(reads.iter().sum::<usize>(), BYTES);
    let mut calls = String::new();
    let mut offset = 0;
    for size in reads {
        calls.push_str(&format!(
            "(drop (call $random_get (i32.const {}) (i32.const {size})))\n",
            4096 + offset
        ));
        offset += size;
    }
    let text = format!(
        r#"(module
          (import "wasi_snapshot_preview1" "fd_write"
            (func $fd_write (param i32 i32 i32 i32) (result i32)))
          (import "wasi_snapshot_preview1" "random_get"
            (func $random_get (param i32 i32) (result i32)))
          (memory (export "memory") 1)
          (data (i32.const 1024) "0123456789abcdef")
          (func (export "_start") (local $i i32) (local $b i32)
            {calls}
            ;; hex of the bytes at 4096 into 16385.., between quotes at 16384 and 16385 + 2n
            (i32.store8 (i32.const 16384) (i32.const 34))
            (loop
              (local.set $b (i32.load8_u (i32.add (i32.const 4096) (local.get $i))))
              (i32.store8 (i32.add (i32.const 16385) (i32.shl (local.get $i) (i32.const 1)))
                (i32.load8_u (i32.add (i32.const 1024) (i32.shr_u (local.get $b) (i32.const 4)))))
              (i32.store8 (i32.add (i32.const 16386) (i32.shl (local.get $i) (i32.const 1)))
                (i32.load8_u (i32.add (i32.const 1024) (i32.and (local.get $b) (i32.const 15)))))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br_if 0 (i32.lt_u (local.get $i) (i32.const {BYTES}))))
            (i32.store8 (i32.const {closing}) (i32.const 34))
            (i32.store (i32.const 0) (i32.const 16384))
            (i32.store (i32.const 4) (i32.const {len}))
            (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))"#,
        closing = 16385 + 2 * BYTES,
        len = 2 * BYTES + 2,
    );
    wat::parse_str(text).expect("test WAT parses")
}

fn run(sandbox: &Sandbox, wasm: &[u8], seed: u64) -> RunOutcome {
    let request = RunRequest {
        input: json!({}),
        context: RunContext {
            subject: String::new(),
            locale: "zh-CN".into(),
            now: "2026-07-01T09:00:00+08:00".into(),
        },
        seed,
        identity: None,
    };
    sandbox.run(
        ModuleRef::Wasm(wasm),
        &request,
        Arc::new(MemoryDatasets::new()),
        &Limits::default(),
    )
}

/// The bytes the app read, decoded from its output.
fn random_bytes(outcome: &RunOutcome) -> Vec<u8> {
    assert_eq!(outcome.verdict, Verdict::Accepted, "{outcome:#?}");
    let hex = outcome
        .output
        .as_ref()
        .and_then(|o| o.as_str())
        .expect("a JSON string");
    let bytes = hex::decode(hex).expect("hex");
    assert_eq!(bytes.len(), BYTES);
    bytes
}

#[test]
fn four_kib_of_random_never_repeats_and_the_same_seed_gives_the_same_bytes() {
    let sandbox = Sandbox::new(SandboxConfig::default()).expect("sandbox");
    let app = random_app(&[BYTES]);
    let first = run(&sandbox, &app, 7);
    let bytes = random_bytes(&first);
    // The old 256-byte cycle, or any period up to half the sample, would show here.
    for period in 1..=BYTES / 2 {
        assert_ne!(
            bytes[..BYTES - period],
            bytes[period..],
            "repeats every {period} bytes"
        );
    }

    let again = run(&sandbox, &app, 7);
    assert_eq!(random_bytes(&again), bytes);
    assert_eq!(again.instructions, first.instructions);
    assert_ne!(random_bytes(&run(&sandbox, &app, 8)), bytes);

    // The same stream however the app splits its reads.
    let split = random_app(&[1, 7, 100, 256, 3732]);
    assert_eq!(random_bytes(&run(&sandbox, &split, 7)), bytes);
}
