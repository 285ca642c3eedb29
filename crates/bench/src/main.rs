//! `cargo run --release -p bench -- <benchmark>`: each benchmark measures itself against a
//! baseline in the same run, prints human lines with ratios, and ends with one JSON line.

mod harness;
mod invoke;
mod pipeline;
mod sandbox;
mod search;
mod settle;

use std::process::ExitCode;

const BENCHMARKS: &[(&str, &str)] = &[
    (
        "sandbox",
        "invocations of the example service app: in-process vs process-per-run vs raw wasmtime",
    ),
    (
        "pipeline",
        "a 1,000-case suite uploaded through the API and run through the queue vs the sandbox alone",
    ),
    (
        "invoke",
        "citizens' HTTP invocations through the full path vs a bare authenticated JSON endpoint",
    ),
    (
        "settle",
        "a full quarterly settlement vs a bare COUNT(DISTINCT) GROUP BY, on PostgreSQL and SQLite",
    ),
    (
        "search",
        "p50/p95 query latency over 100k orders and apps vs a SQL LIKE scan",
    ),
];

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_default();
    let rest: Vec<String> = args.collect();
    let result = match name.as_str() {
        "sandbox" => sandbox::run(&rest),
        "pipeline" => pipeline::run(&rest),
        "invoke" => invoke::run(&rest),
        "settle" => settle::run(&rest),
        "search" => search::run(&rest),
        // Internal: the process-per-run baseline of `sandbox` spawns this binary once per
        // invocation.
        "sandbox-once" => sandbox::once(&rest),
        _ => {
            eprintln!("usage: bench <benchmark> [options]\n\nbenchmarks:");
            for (name, what) in BENCHMARKS {
                eprintln!("  {name:10} {what}");
            }
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench {name} failed: {e:#}");
            ExitCode::FAILURE
        }
    }
}
