//! Per-run resource limits: what an order's contract may ask for, the platform defaults when
//! it asks for nothing, and the platform caps it can never exceed.

use serde::{Deserialize, Serialize};

/// Instructions (wasmtime fuel units, roughly one per wasm operator).
///
/// Default 200 million: the example service app answers in well under 1 million, and a
/// cranelift-compiled loop retires 200 million operators in roughly 0.1-0.3 s on this class of
/// host, so the default keeps a citizen's request interactive. Cap 2 billion (a few seconds of
/// CPU): anything heavier does not belong in a request/response service.
pub const DEFAULT_INSTRUCTIONS: u64 = 200_000_000;
/// See [`DEFAULT_INSTRUCTIONS`].
pub const MAX_INSTRUCTIONS: u64 = 2_000_000_000;

/// Linear memory in bytes (peak over the run, including the initial allocation).
///
/// Default 64 MiB: a C app with wasi-libc starts at 128 KiB, a Go or .NET app at a few MiB.
/// Cap 256 MiB: with the default concurrency bound (one run per core) the host never commits
/// more than cores x 256 MiB to guests, which fits a modest VM.
pub const DEFAULT_MEMORY_BYTES: u64 = 64 << 20;
/// See [`DEFAULT_MEMORY_BYTES`].
pub const MAX_MEMORY_BYTES: u64 = 256 << 20;

/// Wall time in milliseconds, enforced by the epoch deadline.
///
/// Fuel is the deterministic limit; wall time is the backstop for time spent in host calls and
/// for a host under load. Default 2 s (a citizen waiting on a page), cap 10 s (the HTTP
/// timeout budget of the server).
pub const DEFAULT_WALL_TIME_MS: u64 = 2_000;
/// See [`DEFAULT_WALL_TIME_MS`].
pub const MAX_WALL_TIME_MS: u64 = 10_000;

/// Bytes an app may write to stdout (its one JSON answer).
///
/// Default 256 KiB: answers are rendered on a page for a citizen. Cap 4 MiB: the response is
/// held in memory and stored with test reports.
pub const DEFAULT_STDOUT_BYTES: u64 = 256 << 10;
/// See [`DEFAULT_STDOUT_BYTES`].
pub const MAX_STDOUT_BYTES: u64 = 4 << 20;

/// Bytes an app may write to stderr (its log, kept for the ISV).
///
/// Default 64 KiB, cap 1 MiB: a log larger than that per request is a flood, not a log. Going
/// over is `output_limit_exceeded`, like stdout, so a flood cannot hide behind truncation.
pub const DEFAULT_STDERR_BYTES: u64 = 64 << 10;
/// See [`DEFAULT_STDERR_BYTES`].
pub const MAX_STDERR_BYTES: u64 = 1 << 20;

/// Size of the uploaded module in bytes.
///
/// Default 8 MiB: a C service app is tens of KiB, a Go app a few MiB. Cap 32 MiB: compile time
/// and the compiled artefact grow with size, and compilation happens on the platform's cores.
pub const DEFAULT_MODULE_BYTES: u64 = 8 << 20;
/// See [`DEFAULT_MODULE_BYTES`].
pub const MAX_MODULE_BYTES: u64 = 32 << 20;

/// `gov.query` calls per run.
///
/// Default 16: a service answers about one citizen and needs a handful of records. Cap 256:
/// every query is recorded with the invocation, and the record must stay small.
pub const DEFAULT_QUERIES: u32 = 16;
/// See [`DEFAULT_QUERIES`].
pub const MAX_QUERIES: u32 = 256;

/// The limits an order's contract asks for. Every field is optional: an absent field takes the
/// platform default, and every value is clamped to the platform cap by [`Limits::resolve`].
///
/// Stored as JSON in the order's contract, e.g. `{"instructions": 50000000, "memory_bytes": 16777216}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Instructions (fuel) per run.
    #[serde(default, skip_serializing_if = "Option::is_none", alias = "fuel")]
    pub instructions: Option<u64>,
    /// Peak linear memory per run, in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_bytes: Option<u64>,
    /// Wall time per run, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wall_time_ms: Option<u64>,
    /// Bytes of stdout per run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdout_bytes: Option<u64>,
    /// Bytes of stderr per run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stderr_bytes: Option<u64>,
    /// Size of the module, in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module_bytes: Option<u64>,
    /// `gov.query` calls per run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queries: Option<u32>,
}

/// Limits with every value decided: defaults filled in and caps applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolvedLimits {
    /// Instructions (fuel) per run.
    pub instructions: u64,
    /// Peak linear memory per run, in bytes.
    pub memory_bytes: u64,
    /// Wall time per run, in milliseconds.
    pub wall_time_ms: u64,
    /// Bytes of stdout per run.
    pub stdout_bytes: u64,
    /// Bytes of stderr per run.
    pub stderr_bytes: u64,
    /// Size of the module, in bytes.
    pub module_bytes: u64,
    /// `gov.query` calls per run.
    pub queries: u32,
}

impl ResolvedLimits {
    /// The platform defaults.
    pub const DEFAULT: ResolvedLimits = ResolvedLimits {
        instructions: DEFAULT_INSTRUCTIONS,
        memory_bytes: DEFAULT_MEMORY_BYTES,
        wall_time_ms: DEFAULT_WALL_TIME_MS,
        stdout_bytes: DEFAULT_STDOUT_BYTES,
        stderr_bytes: DEFAULT_STDERR_BYTES,
        module_bytes: DEFAULT_MODULE_BYTES,
        queries: DEFAULT_QUERIES,
    };

    /// The platform caps.
    pub const CAP: ResolvedLimits = ResolvedLimits {
        instructions: MAX_INSTRUCTIONS,
        memory_bytes: MAX_MEMORY_BYTES,
        wall_time_ms: MAX_WALL_TIME_MS,
        stdout_bytes: MAX_STDOUT_BYTES,
        stderr_bytes: MAX_STDERR_BYTES,
        module_bytes: MAX_MODULE_BYTES,
        queries: MAX_QUERIES,
    };
}

impl Default for ResolvedLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl Limits {
    /// Fill in `defaults` for absent fields and clamp everything to `caps`.
    ///
    /// A zero is kept as asked (it is a legal, if useless, limit: the run fails at once), so an
    /// order cannot be surprised by a silently raised limit.
    pub fn resolve_with(&self, defaults: &ResolvedLimits, caps: &ResolvedLimits) -> ResolvedLimits {
        ResolvedLimits {
            instructions: self
                .instructions
                .unwrap_or(defaults.instructions)
                .min(caps.instructions),
            memory_bytes: self
                .memory_bytes
                .unwrap_or(defaults.memory_bytes)
                .min(caps.memory_bytes),
            wall_time_ms: self
                .wall_time_ms
                .unwrap_or(defaults.wall_time_ms)
                .min(caps.wall_time_ms),
            stdout_bytes: self
                .stdout_bytes
                .unwrap_or(defaults.stdout_bytes)
                .min(caps.stdout_bytes),
            stderr_bytes: self
                .stderr_bytes
                .unwrap_or(defaults.stderr_bytes)
                .min(caps.stderr_bytes),
            module_bytes: self
                .module_bytes
                .unwrap_or(defaults.module_bytes)
                .min(caps.module_bytes),
            queries: self.queries.unwrap_or(defaults.queries).min(caps.queries),
        }
    }

    /// [`Limits::resolve_with`] the platform defaults and caps.
    pub fn resolve(&self) -> ResolvedLimits {
        self.resolve_with(&ResolvedLimits::DEFAULT, &ResolvedLimits::CAP)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_limits_take_the_platform_defaults() {
        assert_eq!(Limits::default().resolve(), ResolvedLimits::DEFAULT);
    }

    #[test]
    fn limits_above_the_cap_are_clamped_to_the_cap() {
        let asked = Limits {
            instructions: Some(u64::MAX),
            memory_bytes: Some(1 << 40),
            queries: Some(100_000),
            ..Limits::default()
        };
        let resolved = asked.resolve();
        assert_eq!(resolved.instructions, MAX_INSTRUCTIONS);
        assert_eq!(resolved.memory_bytes, MAX_MEMORY_BYTES);
        assert_eq!(resolved.queries, MAX_QUERIES);
        assert_eq!(resolved.wall_time_ms, DEFAULT_WALL_TIME_MS);
    }

    #[test]
    fn limits_round_trip_through_contract_json_and_reject_unknown_fields() {
        let limits: Limits =
            serde_json::from_str(r#"{"fuel": 1000, "memory_bytes": 65536}"#).expect("parses");
        assert_eq!(limits.instructions, Some(1000));
        let json = serde_json::to_string(&limits).expect("serialises");
        assert_eq!(json, r#"{"instructions":1000,"memory_bytes":65536}"#);
        assert!(serde_json::from_str::<Limits>(r#"{"cpu": 1}"#).is_err());
    }
}
