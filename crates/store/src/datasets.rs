//! An order's datasets: named sets of mock records, replaced as a whole and
//! versioned, so a test report can name the data it ran on.

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

use crate::StoreError;
use crate::entity::{dataset_records, datasets};

/// Creates dataset `name` of order `order_id` at version 1, or replaces its
/// records and bumps its version. Run it inside a transaction: the old
/// records are deleted before the new ones are written.
pub async fn put<C: ConnectionTrait>(
    conn: &C,
    order_id: i64,
    name: &str,
    sample: bool,
    records: Vec<(String, serde_json::Value)>,
    size_bytes: i64,
) -> Result<datasets::Model, StoreError> {
    let now = crate::now();
    let existing = datasets::Entity::find()
        .filter(datasets::Column::OrderId.eq(order_id))
        .filter(datasets::Column::Name.eq(name))
        .one(conn)
        .await?;
    let count = i64::try_from(records.len())
        .map_err(|_| StoreError::InvalidInput("too many records".into()))?;
    let dataset = match existing {
        Some(d) => {
            dataset_records::Entity::delete_many()
                .filter(dataset_records::Column::DatasetId.eq(d.id))
                .exec(conn)
                .await?;
            let version = d.version + 1;
            let mut active: datasets::ActiveModel = d.into();
            active.version = Set(version);
            active.sample = Set(sample);
            active.record_count = Set(count);
            active.size_bytes = Set(size_bytes);
            active.updated_at = Set(now);
            active.update(conn).await?
        }
        None => {
            datasets::ActiveModel {
                order_id: Set(order_id),
                name: Set(name.to_owned()),
                version: Set(1),
                sample: Set(sample),
                record_count: Set(count),
                size_bytes: Set(size_bytes),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(conn)
            .await?
        }
    };
    let rows: Vec<dataset_records::ActiveModel> = records
        .into_iter()
        .map(|(key, record)| dataset_records::ActiveModel {
            dataset_id: Set(dataset.id),
            key: Set(key),
            record: Set(record),
            ..Default::default()
        })
        .collect();
    // SQLite binds at most 32766 parameters per statement; 3 per row.
    for chunk in rows.chunks(1000) {
        dataset_records::Entity::insert_many(chunk.to_vec())
            .exec(conn)
            .await
            .map_err(|e| StoreError::from_insert(e, &[("key", "dataset record key")]))?;
    }
    Ok(dataset)
}

/// The order's datasets by name.
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    order_id: i64,
) -> Result<Vec<datasets::Model>, StoreError> {
    Ok(datasets::Entity::find()
        .filter(datasets::Column::OrderId.eq(order_id))
        .order_by_asc(datasets::Column::Name)
        .all(conn)
        .await?)
}

/// A dataset's records by key.
pub async fn records<C: ConnectionTrait>(
    conn: &C,
    dataset_id: i64,
) -> Result<Vec<(String, serde_json::Value)>, StoreError> {
    Ok(dataset_records::Entity::find()
        .filter(dataset_records::Column::DatasetId.eq(dataset_id))
        .order_by_asc(dataset_records::Column::Key)
        .all(conn)
        .await?
        .into_iter()
        .map(|r| (r.key, r.record))
        .collect())
}

/// What tells whether a cached copy of the order's datasets is current:
/// each dataset's id, version, name and last change, in id order.
pub async fn stamps<C: ConnectionTrait>(
    conn: &C,
    order_id: i64,
) -> Result<Vec<crate::market::DatasetStamp>, StoreError> {
    let rows: Vec<(i64, i32, String, chrono::DateTime<chrono::Utc>)> = datasets::Entity::find()
        .select_only()
        .column(datasets::Column::Id)
        .column(datasets::Column::Version)
        .column(datasets::Column::Name)
        .column(datasets::Column::UpdatedAt)
        .filter(datasets::Column::OrderId.eq(order_id))
        .order_by_asc(datasets::Column::Id)
        .into_tuple()
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(
            |(id, version, name, updated_at)| crate::market::DatasetStamp {
                id,
                version,
                name,
                updated_at,
            },
        )
        .collect())
}

/// Up to `limit` records of a dataset after record id `after`, in id order:
/// `(id, key, record)`. Pages keep a large dataset from being one result set.
pub async fn records_after<C: ConnectionTrait>(
    conn: &C,
    dataset_id: i64,
    after: i64,
    limit: u64,
) -> Result<Vec<(i64, String, serde_json::Value)>, StoreError> {
    Ok(dataset_records::Entity::find()
        .select_only()
        .column(dataset_records::Column::Id)
        .column(dataset_records::Column::Key)
        .column(dataset_records::Column::Record)
        .filter(dataset_records::Column::DatasetId.eq(dataset_id))
        .filter(dataset_records::Column::Id.gt(after))
        .order_by_asc(dataset_records::Column::Id)
        .limit(limit)
        .into_tuple()
        .all(conn)
        .await?)
}
