//! A run's checks around the guest: a cached module against this run's limits, the
//! outcome's classification into a verdict, the stdin it is given and the stdout it
//! must write.

use std::time::Duration;

use domain::Verdict;
use serde::Serialize;
use wasmtime::Trap;
use wasmtime_wasi::I32Exit;

use super::{MAX_STDIN_BYTES, ModuleInfo, RunContext, RunRequest};
use crate::limits::ResolvedLimits;
use crate::validate::Rejection;

pub(super) enum LookupError {
    Rejected(Rejection),
    Unknown(String),
}

/// A cached module was validated under some order's limits; check it against this run's.
pub(super) fn check_against(info: &ModuleInfo, limits: &ResolvedLimits) -> Result<(), Rejection> {
    if info.size_bytes > limits.module_bytes {
        return Err(Rejection::TooLarge {
            size: info.size_bytes,
            limit: limits.module_bytes,
        });
    }
    if info.initial_memory_bytes > limits.memory_bytes {
        return Err(Rejection::MemoryTooLarge {
            declared: info.initial_memory_bytes,
            limit: limits.memory_bytes,
        });
    }
    Ok(())
}

/// Turn the end of a run into a verdict, or `None` when the app exited 0.
///
/// Precedence: an output flood is reported as such even if it then tripped a trap; running out
/// of fuel or time beats the memory flag (a loop that also failed to grow is still a loop);
/// memory refused and then a failure is memory_limit_exceeded; anything else the app did is a
/// runtime error; failures outside the app's control are internal errors.
pub(super) fn classify(
    result: wasmtime::Result<()>,
    instantiated: bool,
    memory_hit: bool,
    stdout_over: bool,
    stderr_over: bool,
    limits: &ResolvedLimits,
) -> Option<(Verdict, String)> {
    if stdout_over {
        return Some((
            Verdict::OutputLimitExceeded,
            format!("stdout over {} bytes", limits.stdout_bytes),
        ));
    }
    if stderr_over {
        return Some((
            Verdict::OutputLimitExceeded,
            format!("stderr over {} bytes", limits.stderr_bytes),
        ));
    }
    let error = match result {
        Ok(()) => return None,
        Err(error) => error,
    };
    if let Some(exit) = error.downcast_ref::<I32Exit>() {
        return (exit.0 != 0).then(|| {
            (
                Verdict::RuntimeError,
                format!("exited with code {}", exit.0),
            )
        });
    }
    if let Some(trap) = error.downcast_ref::<Trap>() {
        return Some(match trap {
            Trap::OutOfFuel => (
                Verdict::TimeLimitExceeded,
                format!("instruction limit of {} reached", limits.instructions),
            ),
            Trap::Interrupt => (
                Verdict::TimeLimitExceeded,
                format!("wall time limit of {} ms reached", limits.wall_time_ms),
            ),
            _ if memory_hit => (
                Verdict::MemoryLimitExceeded,
                format!(
                    "memory limit of {} bytes reached, then: {trap}",
                    limits.memory_bytes
                ),
            ),
            _ => (Verdict::RuntimeError, format!("trap: {trap}")),
        });
    }
    if memory_hit {
        return Some((
            Verdict::MemoryLimitExceeded,
            format!("memory limit of {} bytes reached", limits.memory_bytes),
        ));
    }
    if instantiated {
        // Errors raised by WASI host calls on the app's behalf (e.g. a bad pointer).
        return Some((Verdict::RuntimeError, format!("{error:#}")));
    }
    tracing::error!(error = %format!("{error:#}"), "instantiation failed");
    Some((
        Verdict::InternalError,
        format!("instantiation failed: {error:#}"),
    ))
}

#[derive(Serialize)]
pub(super) struct Stdin<'a> {
    pub(super) input: &'a serde_json::Value,
    pub(super) context: &'a RunContext,
}

pub(super) fn stdin_bytes(request: &RunRequest) -> Result<Vec<u8>, String> {
    let bytes = serde_json::to_vec(&Stdin {
        input: &request.input,
        context: &request.context,
    })
    .map_err(|e| format!("cannot serialise the request: {e}"))?;
    if bytes.len() > MAX_STDIN_BYTES {
        return Err(format!("request is over {MAX_STDIN_BYTES} bytes"));
    }
    Ok(bytes)
}

pub(super) fn parse_now(now: &str) -> Result<Duration, String> {
    let parsed = chrono::DateTime::parse_from_rfc3339(now)
        .map_err(|e| format!("context.now `{now}` is not RFC 3339: {e}"))?;
    let micros = u64::try_from(parsed.timestamp_micros())
        .map_err(|_| format!("context.now `{now}` is before 1970"))?;
    Ok(Duration::from_micros(micros))
}

pub(super) fn parse_single_json(stdout: &[u8]) -> Result<serde_json::Value, String> {
    let text = std::str::from_utf8(stdout).map_err(|_| "stdout is not UTF-8".to_owned())?;
    if text.trim().is_empty() {
        return Err("no output on stdout".into());
    }
    serde_json::from_str(text.trim()).map_err(|e| format!("stdout is not one JSON value: {e}"))
}
