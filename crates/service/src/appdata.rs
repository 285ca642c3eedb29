//! What a run of an app needs from the database: the order's contract, the
//! datasets it grants, and the version's module. Shared by test runs (the
//! pipeline) and citizens' invocations (the market).
//!
//! Datasets are cached per order in this process. Every lookup re-reads a
//! small fingerprint (each dataset's id and version, and the contract's
//! grants), so a replaced dataset or another node's change is seen on the
//! next run without any cross-node signalling; only the records themselves
//! are cached.

use std::sync::Arc;

use sandbox::{Contract, MemoryDatasets, TestCase, Visibility};
use store::entity::{orders, test_cases};

use crate::caches::{Cached, DatasetCache, Fingerprint, MAX_PREPARED_VERSIONS, PreparedVersion};
use crate::error::{ServiceError, Thing};
use crate::services::Services;

/// Orders whose datasets stay cached; beyond this the cache is cleared
/// wholesale (a demo has four orders, a province a few hundred).
const MAX_CACHED_ORDERS: usize = 512;

/// Records read per query when loading a dataset, to bound memory per row set.
const RECORD_BATCH: u64 = 5_000;

/// The contract stored with an order (`orders.contract`, the format of a
/// suite directory's `contract.json`), with its threshold taken from the
/// order's `pass_threshold_bp`.
pub fn contract_of(order: &orders::Model) -> Result<Contract, ServiceError> {
    let mut contract: Contract = serde_json::from_value(order.contract.clone()).map_err(|e| {
        ServiceError::internal(anyhow::anyhow!(
            "order {} has an unreadable contract: {e}",
            order.id
        ))
    })?;
    // Whole percent is what the evaluator takes; basis points round up so a
    // version never passes below the bar the department set.
    let percent = (order.pass_threshold_bp.clamp(0, 10_000) + 99) / 100;
    contract.threshold_percent = u8::try_from(percent).expect("clamped to 0..=100");
    Ok(contract)
}

/// The contract of order `order_id` (404 when there is no such order).
pub async fn contract_for_order(db: &store::Db, order_id: i64) -> Result<Contract, ServiceError> {
    let order = store::orders::get(db.conn(), order_id)
        .await?
        .ok_or_else(|| ServiceError::NotFound(Thing::Order))?;
    contract_of(&order)
}

/// The datasets an app of order `order_id` may query: the current version
/// of each of the order's datasets, granted as its contract says.
pub async fn datasets_for_order(
    db: &store::Db,
    cache: &DatasetCache,
    order_id: i64,
) -> Result<Arc<MemoryDatasets>, ServiceError> {
    let contract = contract_for_order(db, order_id).await?;
    let stamps = store::datasets::stamps(db.conn(), order_id).await?;
    datasets_from_stamps(db, cache, order_id, &contract, stamps).await
}

/// [`datasets_for_order`] for a caller that has just read the order's
/// dataset stamps (an invocation reads them with the app's availability).
pub async fn datasets_from_stamps(
    db: &store::Db,
    cache: &DatasetCache,
    order_id: i64,
    contract: &Contract,
    rows: Vec<store::market::DatasetStamp>,
) -> Result<Arc<MemoryDatasets>, ServiceError> {
    let mut grants: Vec<String> = contract.datasets.iter().map(ToString::to_string).collect();
    grants.sort();
    let fingerprint = Fingerprint {
        datasets: rows
            .iter()
            .map(|d| (d.id, d.version, d.updated_at.timestamp_micros()))
            .collect(),
        grants,
    };
    if let Some(hit) = cache.lock().get(&order_id)
        && hit.fingerprint == fingerprint
    {
        return Ok(Arc::clone(&hit.data));
    }

    let mut data = MemoryDatasets::new();
    for store::market::DatasetStamp {
        id: dataset_id,
        name,
        ..
    } in &rows
    {
        let mut records = Vec::new();
        let mut after = 0i64;
        loop {
            let batch =
                store::datasets::records_after(db.conn(), *dataset_id, after, RECORD_BATCH).await?;
            let Some(last) = batch.last() else { break };
            after = last.0;
            let full = batch.len() as u64 == RECORD_BATCH;
            records.extend(batch.into_iter().map(|(_, k, r)| (k, r)));
            if !full {
                break;
            }
        }
        data.insert_dataset(name.clone(), records);
    }
    data.set_grants(&contract.datasets);
    let data = Arc::new(data);
    let mut cache = cache.lock();
    if cache.len() >= MAX_CACHED_ORDERS {
        cache.clear();
    }
    cache.insert(
        order_id,
        Cached {
            fingerprint,
            data: Arc::clone(&data),
        },
    );
    Ok(data)
}

/// A stored test case, as the suite evaluator takes it.
pub fn case_of(m: &test_cases::Model) -> Result<TestCase, ServiceError> {
    Ok(TestCase {
        id: m.case_id.clone(),
        description: m.description.clone(),
        input: m.input.clone(),
        subject: m.subject.clone(),
        expect: serde_json::from_value(m.expect.clone()).map_err(|e| {
            ServiceError::internal(anyhow::anyhow!(
                "case {} has an unreadable expectation: {e}",
                m.id
            ))
        })?,
        visibility: if m.visibility == "sample" {
            Visibility::Sample
        } else {
            Visibility::Hidden
        },
        weight: u32::try_from(m.weight).unwrap_or(1),
        rule: m.rule.clone(),
    })
}

/// A version's module: its content address and bytes.
#[derive(Debug, Clone)]
pub struct VersionModule {
    pub sha256: String,
    pub bytes: Arc<[u8]>,
}

/// The module of version `version_id`, read from the database.
pub async fn module_for_version(
    db: &store::Db,
    version_id: i64,
) -> Result<VersionModule, ServiceError> {
    let version = store::apps::version(db.conn(), version_id)
        .await?
        .ok_or_else(|| ServiceError::NotFound(Thing::Version))?;
    let blob = store::apps::blob(db.conn(), &version.sha256)
        .await?
        .ok_or_else(|| {
            ServiceError::internal(anyhow::anyhow!(
                "version {version_id} names module {} which is not stored",
                version.sha256
            ))
        })?;
    Ok(VersionModule {
        sha256: blob.sha256,
        bytes: blob.bytes.into(),
    })
}

/// The sha256 of version `version_id`'s module, made ready in this process's
/// sandbox so that `state.sandbox.run_async(sha256, …)` finds it: the bytes
/// are read from the database only when neither the memory nor the disk
/// cache holds the module (a fresh node, a cleared cache).
pub async fn prepared_module(
    state: &Services,
    version_id: i64,
    limits: &sandbox::Limits,
) -> Result<String, ServiceError> {
    let sha256 = store::apps::module_sha256(state.db.conn(), version_id)
        .await?
        .ok_or_else(|| ServiceError::NotFound(Thing::Version))?;
    if state.sandbox.has_module(&sha256) {
        return Ok(sha256);
    }
    let module = module_for_version(&state.db, version_id).await?;
    let sandbox = state.sandbox.clone();
    let limits = limits.clone();
    let bytes = Arc::clone(&module.bytes);
    tokio::task::spawn_blocking(move || sandbox.validate(&bytes, &limits))
        .await
        .map_err(ServiceError::internal)?
        .map_err(|r| {
            ServiceError::internal(anyhow::anyhow!(
                "stored module of version {version_id} no longer validates: {r}"
            ))
        })?;
    Ok(module.sha256)
}

/// The prepared form of published version `version_id` of order `order_id`,
/// from the cache when this process has it (and its sandbox still holds the
/// module), else read, compiled and remembered.
pub async fn prepared_version(
    state: &Services,
    version_id: i64,
    order_id: i64,
) -> Result<Arc<PreparedVersion>, ServiceError> {
    let hit = state.versions.lock().get(&version_id).cloned();
    if let Some(p) = hit
        && state.sandbox.has_module(&p.sha256)
    {
        return Ok(p);
    }
    let contract = contract_for_order(&state.db, order_id).await?;
    let schemas = contract.schemas().map_err(ServiceError::internal)?;
    let sha256 = prepared_module(state, version_id, &contract.limits).await?;
    let prepared = Arc::new(PreparedVersion {
        contract,
        schemas,
        sha256,
    });
    let mut cache = state.versions.lock();
    if cache.len() >= MAX_PREPARED_VERSIONS {
        cache.clear();
    }
    cache.insert(version_id, Arc::clone(&prepared));
    Ok(prepared)
}
