//! Per-run host state: the WASI context, the memory limiter, the virtual clock and `gov.query`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use wasmtime::{Caller, Extern, ResourceLimiter};
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::{HostMonotonicClock, HostWallClock};

use crate::access::{Access, contains_identity};
use crate::datasets::DatasetProvider;

/// `gov.query` result: the dataset is not granted by the order's contract.
pub const QUERY_NOT_PERMITTED: i32 = -1;
/// `gov.query` result: no record under that key.
pub const QUERY_NOT_FOUND: i32 = -2;
/// `gov.query` result: a pointer/length is out of bounds, a name is not UTF-8, or a name or
/// key is longer than allowed.
pub const QUERY_BAD_ARGUMENTS: i32 = -3;
/// `gov.query` result: the run has used its query quota.
pub const QUERY_QUOTA_EXCEEDED: i32 = -4;
/// `gov.query` result (ABI v2): the dataset is granted, but its access rule does not reach this
/// record: not the subject's own, not the key of the input, or a record that does not name the
/// subject as its owner.
pub const QUERY_REFUSED: i32 = -5;

/// The key recorded for a refused query whose key the app chose itself: it may be another
/// person's identity, which no log may hold.
pub const REDACTED_KEY: &str = "[redacted]";

/// Longest dataset name accepted: names are identifiers chosen by a department.
pub const MAX_DATASET_NAME_BYTES: usize = 64;
/// Longest key accepted. Keys are identifiers (an 18-character resident ID number, a unified
/// social credit code, a certificate number); 256 bytes is generous for all of them and keeps
/// the query record of an invocation small.
pub const MAX_KEY_BYTES: usize = 256;

/// Query records kept beyond the quota, so a guest hammering `gov.query` after its quota is
/// visible in the report without the record growing without bound.
const EXTRA_RECORDS_AFTER_QUOTA: usize = 8;

/// Table elements a guest may grow its tables to (function pointer tables; a large C app has
/// a few thousand entries).
pub(crate) const MAX_TABLE_ELEMENTS: usize = 65_536;

/// How one `gov.query` call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueryStatus {
    /// The record was written into the guest's buffer.
    Found,
    /// The record exists but the buffer was too small; its length was returned.
    BufferTooSmall,
    /// The dataset is not granted.
    NotPermitted,
    /// No record under the key.
    NotFound,
    /// Bad pointers, non-UTF-8 or oversized names.
    BadArguments,
    /// Over the run's query quota.
    QuotaExceeded,
    /// Refused by the dataset's access rule.
    Refused,
}

impl QueryStatus {
    /// The status of a record length or negative code as the guest saw it.
    pub fn of_code(code: i32) -> Self {
        match code {
            QUERY_NOT_PERMITTED => Self::NotPermitted,
            QUERY_NOT_FOUND => Self::NotFound,
            QUERY_BAD_ARGUMENTS => Self::BadArguments,
            QUERY_QUOTA_EXCEEDED => Self::QuotaExceeded,
            QUERY_REFUSED => Self::Refused,
            _ => Self::Found,
        }
    }
}

/// One `gov.query` call, recorded with the invocation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueryRecord {
    /// Dataset asked for (lossy UTF-8, truncated to [`MAX_DATASET_NAME_BYTES`]).
    pub dataset: String,
    /// Key asked for (lossy UTF-8, truncated to [`MAX_KEY_BYTES`]).
    pub key: String,
    /// What the guest got back: the record length, or a negative code.
    pub code: i32,
    /// The outcome in words.
    pub status: QueryStatus,
}

/// Records memory growth, refuses growth past the run's limit and remembers that it did.
pub(crate) struct MemoryLimiter {
    limit: usize,
    pub(crate) peak: usize,
    pub(crate) hit: bool,
}

impl MemoryLimiter {
    pub(crate) fn new(limit: u64) -> Self {
        Self {
            limit: usize::try_from(limit).unwrap_or(usize::MAX),
            peak: 0,
            hit: false,
        }
    }
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        // Refusing (rather than trapping) lets `memory.grow` return -1 as the spec says, so a
        // careful app can degrade; `hit` turns a resulting failure into memory_limit_exceeded.
        if desired > self.limit {
            self.hit = true;
            return Ok(false);
        }
        self.peak = self.peak.max(desired);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }

    // One module instance with at most one memory per run: the ABI is a single core module.
    fn instances(&self) -> usize {
        1
    }

    fn memories(&self) -> usize {
        1
    }

    fn tables(&self) -> usize {
        // wasi-libc has one function table; other toolchains may add a few.
        4
    }
}

/// A clock that starts at the request's `context.now` and advances one microsecond each time
/// it is read, so a run sees time move (loops waiting on it end) yet two runs see the same
/// times.
#[derive(Clone)]
pub(crate) struct VirtualClock {
    start_since_epoch: Duration,
    reads: Arc<AtomicU64>,
}

impl VirtualClock {
    pub(crate) fn new(start_since_epoch: Duration) -> Self {
        Self {
            start_since_epoch,
            reads: Arc::new(AtomicU64::new(0)),
        }
    }

    fn tick(&self) -> u64 {
        self.reads.fetch_add(1, Ordering::Relaxed) + 1
    }
}

impl HostWallClock for VirtualClock {
    fn resolution(&self) -> Duration {
        Duration::from_micros(1)
    }

    fn now(&self) -> Duration {
        self.start_since_epoch + Duration::from_micros(self.tick())
    }
}

impl HostMonotonicClock for VirtualClock {
    fn resolution(&self) -> u64 {
        1_000
    }

    fn now(&self) -> u64 {
        // Nanoseconds since the start of the run.
        self.tick().saturating_mul(1_000)
    }
}

/// The `gov` side of a run.
pub(crate) struct GovState {
    pub(crate) data: Arc<dyn DatasetProvider>,
    /// Who the run is about: the token the app sees, the real key, and the input.
    pub(crate) subject: Subject,
    pub(crate) quota: u32,
    pub(crate) used: u32,
    pub(crate) refused: u32,
    pub(crate) log: Vec<QueryRecord>,
}

/// The run's subject as the access rules need it.
pub(crate) struct Subject {
    /// `context.subject`: the opaque token the app was given.
    pub(crate) token: String,
    /// The subject's real key in the datasets (a resident ID number); never shown to the app.
    pub(crate) identity: Option<String>,
    /// The invocation's input, where `input` rules find their key.
    pub(crate) input: serde_json::Value,
}

/// Everything a [`wasmtime::Store`] holds for one run.
pub(crate) struct HostState {
    pub(crate) wasi: WasiP1Ctx,
    pub(crate) limiter: MemoryLimiter,
    pub(crate) gov: GovState,
}

fn lossy_prefix(bytes: &[u8], max: usize) -> String {
    String::from_utf8_lossy(&bytes[..bytes.len().min(max)]).into_owned()
}

/// The guest memory range `[ptr, ptr + len)`, if it lies inside `memory`.
fn range(memory: &[u8], ptr: i32, len: i32) -> Option<std::ops::Range<usize>> {
    // Guest pointers are u32 in wasm32; i32 is just how they cross the ABI.
    let start = usize::try_from(ptr as u32).ok()?;
    let len = usize::try_from(len as u32).ok()?;
    let end = start.checked_add(len)?;
    (end <= memory.len()).then_some(start..end)
}

/// `gov.query(dataset_ptr, dataset_len, key_ptr, key_len, buf_ptr, buf_cap) -> i32`.
pub(crate) fn gov_query(caller: &mut Caller<'_, HostState>, args: [i32; 6]) -> i32 {
    let [dataset_ptr, dataset_len, key_ptr, key_len, buf_ptr, buf_cap] = args;
    let Some(Extern::Memory(memory)) = caller.get_export("memory") else {
        return QUERY_BAD_ARGUMENTS;
    };
    let (memory, state) = memory.data_and_store_mut(caller);
    let gov = &mut state.gov;

    // Copy at most one byte more than allowed: enough to tell "too long" without letting a
    // guest make the host copy a huge buffer.
    let copy = |ptr, len, max: usize| {
        range(memory, ptr, len).map(|r| memory[r.start..r.start + r.len().min(max + 1)].to_vec())
    };
    let dataset_bytes = copy(dataset_ptr, dataset_len, MAX_DATASET_NAME_BYTES);
    let key_bytes = copy(key_ptr, key_len, MAX_KEY_BYTES);
    let mut record = QueryRecord {
        dataset: dataset_bytes
            .as_deref()
            .map_or_else(String::new, |b| lossy_prefix(b, MAX_DATASET_NAME_BYTES)),
        key: key_bytes
            .as_deref()
            .map_or_else(String::new, |b| lossy_prefix(b, MAX_KEY_BYTES)),
        code: 0,
        status: QueryStatus::BadArguments,
    };

    let (code, status) = if gov.used >= gov.quota {
        gov.refused = gov.refused.saturating_add(1);
        (QUERY_QUOTA_EXCEEDED, QueryStatus::QuotaExceeded)
    } else {
        gov.used += 1;
        lookup(
            gov.data.as_ref(),
            &gov.subject,
            memory,
            dataset_bytes.as_deref(),
            key_bytes.as_deref(),
            buf_ptr,
            buf_cap,
            &mut record.key,
        )
    };
    record.code = code;
    record.status = status;
    if gov.log.len() < gov.quota as usize + EXTRA_RECORDS_AFTER_QUOTA {
        gov.log.push(record);
    }
    code
}

#[allow(clippy::too_many_arguments)]
fn lookup(
    data: &dyn DatasetProvider,
    subject: &Subject,
    memory: &mut [u8],
    dataset: Option<&[u8]>,
    key: Option<&[u8]>,
    buf_ptr: i32,
    buf_cap: i32,
    recorded_key: &mut String,
) -> (i32, QueryStatus) {
    let bad = (QUERY_BAD_ARGUMENTS, QueryStatus::BadArguments);
    let (Some(dataset), Some(key)) = (dataset, key) else {
        return bad;
    };
    if dataset.len() > MAX_DATASET_NAME_BYTES || key.len() > MAX_KEY_BYTES {
        return bad;
    }
    let (Ok(dataset), Ok(key)) = (std::str::from_utf8(dataset), std::str::from_utf8(key)) else {
        return bad;
    };
    let Some(access) = data.access(dataset) else {
        return (QUERY_NOT_PERMITTED, QueryStatus::NotPermitted);
    };
    let refused = (QUERY_REFUSED, QueryStatus::Refused);
    let not_found = (QUERY_NOT_FOUND, QueryStatus::NotFound);
    let record = match access {
        Access::Reference => data.shown(dataset, key),
        Access::Subject => {
            if key != subject.token {
                *recorded_key = REDACTED_KEY.to_owned();
                return refused;
            }
            let Some(identity) = &subject.identity else {
                return not_found;
            };
            data.shown(dataset, identity)
        }
        Access::Input {
            key: pointer,
            owner,
        } => {
            let expected = subject.input.pointer(pointer).and_then(key_text);
            if expected.as_deref() != Some(key) {
                *recorded_key = REDACTED_KEY.to_owned();
                return refused;
            }
            if !owner.is_empty()
                && let Some(r) = data.get(dataset, key)
                && !owned_by(&r, owner, subject.identity.as_deref())
            {
                return refused;
            }
            // The owner check read the full record; the app gets its projection.
            data.shown(dataset, key)
        }
    };
    let Some(record) = record else {
        return not_found;
    };
    let Ok(len) = i32::try_from(record.len()) else {
        // A record over 2 GiB cannot be expressed in the ABI; no real dataset has one.
        return bad;
    };
    let Some(buf) = range(memory, buf_ptr, buf_cap) else {
        return bad;
    };
    if record.len() > buf.len() {
        return (len, QueryStatus::BufferTooSmall);
    }
    memory[buf.start..buf.start + record.len()].copy_from_slice(&record);
    (len, QueryStatus::Found)
}

/// A key as an input holds it: a string, or a number written as JSON writes it.
fn key_text(v: &serde_json::Value) -> Option<std::borrow::Cow<'_, str>> {
    match v {
        serde_json::Value::String(s) => Some(std::borrow::Cow::Borrowed(s)),
        serde_json::Value::Number(n) => Some(std::borrow::Cow::Owned(n.to_string())),
        _ => None,
    }
}

/// Whether the record names `identity` at one of the `owner` pointers.
fn owned_by(record: &[u8], owner: &[String], identity: Option<&str>) -> bool {
    let Some(identity) = identity else {
        return false;
    };
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(record) else {
        return false;
    };
    owner
        .iter()
        .filter_map(|p| value.pointer(p))
        .any(|v| contains_identity(v, identity))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_limiter_refuses_growth_past_the_limit_and_records_the_peak() {
        let mut limiter = MemoryLimiter::new(1 << 20);
        assert!(limiter.memory_growing(0, 64 << 10, None).expect("ok"));
        assert!(limiter.memory_growing(64 << 10, 1 << 20, None).expect("ok"));
        assert!(!limiter.hit);
        assert!(
            !limiter
                .memory_growing(1 << 20, (1 << 20) + 65536, None)
                .expect("ok")
        );
        assert!(limiter.hit);
        assert_eq!(limiter.peak, 1 << 20);
    }

    #[test]
    fn the_virtual_clock_starts_at_now_and_moves_deterministically() {
        let start = Duration::from_secs(1_780_000_000);
        let a = VirtualClock::new(start);
        let b = VirtualClock::new(start);
        let first = HostWallClock::now(&a);
        assert_eq!(first, start + Duration::from_micros(1));
        assert!(HostWallClock::now(&a) > first);
        assert_eq!(HostWallClock::now(&b), first);
    }

    #[test]
    fn out_of_bounds_guest_ranges_are_refused() {
        let memory = [0u8; 16];
        assert_eq!(range(&memory, 0, 16), Some(0..16));
        assert_eq!(range(&memory, 8, 9), None);
        assert_eq!(range(&memory, -1, 1), None);
        assert_eq!(range(&memory, 4, -1), None);
    }
}
