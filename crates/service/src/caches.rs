//! This process's caches and signals, held in `Services` and filled by
//! the modules that use them (`appdata`, `pipeline`). They
//! are plain types here so that building the services needs none of those
//! modules.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sandbox::{Contract, MemoryDatasets};

/// Identifies the data an order's cache entry was built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fingerprint {
    /// (dataset id, version, last change in µs) of every dataset of the
    /// order, by id. The timestamp also tells apart two databases served by
    /// one process (tests, benchmarks) whose ids and versions coincide.
    pub(crate) datasets: Vec<(i64, i32, i64)>,
    pub(crate) grants: Vec<String>,
}

pub(crate) struct Cached {
    pub(crate) fingerprint: Fingerprint,
    pub(crate) data: Arc<MemoryDatasets>,
}

/// Orders' datasets as this process last loaded them (in `Services`,
/// beside the version and availability caches).
#[derive(Clone, Default)]
pub struct DatasetCache(Arc<Mutex<HashMap<i64, Cached>>>);

impl DatasetCache {
    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Cached>> {
        // A panic while holding the lock leaves a map that is still valid.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Drops the cached datasets of an order at once (the fingerprint would
    /// catch the change on the next lookup anyway; this frees the memory).
    pub fn invalidate(&self, order_id: i64) {
        self.lock().remove(&order_id);
    }
}

/// What running a published version takes besides its datasets: its
/// order's contract with the schemas compiled, and its module made ready in
/// the sandbox.
pub struct PreparedVersion {
    pub contract: Contract,
    pub schemas: sandbox::ContractSchemas,
    pub sha256: String,
}

/// Prepared versions of this server's database. A version's module never
/// changes and its order's contract is frozen before any version can be
/// published, so entries need no invalidation; they live in the state, not
/// in a global, because one process may serve several databases (tests).
#[derive(Clone, Default)]
pub struct VersionCache {
    inner: Arc<Mutex<HashMap<i64, Arc<PreparedVersion>>>>,
}

/// Versions kept prepared; beyond this the cache starts afresh.
pub(crate) const MAX_PREPARED_VERSIONS: usize = 4_096;

impl VersionCache {
    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Arc<PreparedVersion>>> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// How long a listed app's availability is reused without asking the
/// database. Changes made through this node invalidate it at once (see
/// [`AvailabilityCache::invalidate`]); this bounds how long another node's
/// withdrawal, delisting or dataset replacement can go unseen here.
pub const AVAILABILITY_TTL: std::time::Duration = std::time::Duration::from_secs(1);

/// Apps kept; beyond this the cache starts afresh.
const MAX_AVAILABLE_APPS: usize = 4_096;

/// Recently read availability of listed apps, so an invocation under load
/// costs no query for it: the app's status, its published version and the
/// order's dataset stamps (which in turn key the dataset cache). Only
/// `Listed` answers are kept, so an app becomes usable the moment it is
/// published, and refusals always read the database.
///
/// Invalidation is by generation: a reader notes the generation before its
/// query and stores its answer under it; [`AvailabilityCache::invalidate`],
/// called after a change commits, moves the generation on. An answer read
/// before the commit therefore never outlives it, whatever the interleaving.
#[derive(Clone, Default)]
pub struct AvailabilityCache {
    inner: Arc<AvailabilityInner>,
}

#[derive(Default)]
struct AvailabilityInner {
    generation: std::sync::atomic::AtomicU64,
    entries: Mutex<HashMap<i64, AvailabilityEntry>>,
}

struct AvailabilityEntry {
    listed: store::market::Availability,
    generation: u64,
    read_at: std::time::Instant,
}

impl AvailabilityCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, AvailabilityEntry>> {
        self.inner.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn generation(&self) -> u64 {
        self.inner
            .generation
            .load(std::sync::atomic::Ordering::Acquire)
    }

    /// Forgets every cached answer. Call after committing anything that can
    /// change whether an app is listed (publish, withdraw, suspend, delist,
    /// order moves) or which datasets its order has.
    pub fn invalidate(&self) {
        self.inner
            .generation
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        self.lock().clear();
    }

    /// Whether app `app_id` can be used now: from the cache when a listed
    /// answer of the current generation is younger than
    /// [`AVAILABILITY_TTL`], else from the database.
    pub async fn get(
        &self,
        db: &store::Db,
        app_id: i64,
    ) -> Result<store::market::Availability, store::StoreError> {
        let generation = self.generation();
        if let Some(e) = self.lock().get(&app_id)
            && e.generation == generation
            && e.read_at.elapsed() < AVAILABILITY_TTL
        {
            return Ok(e.listed.clone());
        }
        let read_at = std::time::Instant::now();
        let found = store::market::availability(db.conn(), app_id).await?;
        if matches!(found, store::market::Availability::Listed { .. }) {
            let mut entries = self.lock();
            if entries.len() >= MAX_AVAILABLE_APPS {
                entries.clear();
            }
            entries.insert(
                app_id,
                AvailabilityEntry {
                    listed: found.clone(),
                    generation,
                    read_at,
                },
            );
        }
        Ok(found)
    }
}

/// Wakes this process's idle workers when a request has just queued a test
/// run, so an upload is tested at once rather than at the next poll. The
/// poll stays for what this cannot see: jobs queued by another process
/// (`govmarket worker` beside `serve`), delayed retries, expired leases.
#[derive(Clone, Debug, Default)]
pub struct JobSignal(Arc<tokio::sync::Notify>);

impl JobSignal {
    /// Call after the transaction that queued a job has committed.
    pub fn queued(&self) {
        // Every waiting worker looks (one claims the job, the others find
        // the queue empty again), and a worker that is between an empty
        // poll and its wait finds the stored permit and looks at once.
        self.0.notify_waiters();
        self.0.notify_one();
    }

    /// Waits until a job is queued here or `idle` has passed.
    pub(crate) async fn idle(&self, idle: Duration) {
        tokio::select! {
            () = tokio::time::sleep(idle) => {}
            () = self.0.notified() => {}
        }
    }
}
