//! Apps, their versions, and the content-addressed module store.

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

use crate::StoreError;
use crate::entity::{apps, module_blobs, versions};

/// Stores module bytes once per sha256; a second store of the same bytes is
/// a no-op.
pub async fn put_blob<C: ConnectionTrait>(
    conn: &C,
    sha256: &str,
    bytes: Vec<u8>,
) -> Result<(), StoreError> {
    let size = i64::try_from(bytes.len())
        .map_err(|_| StoreError::InvalidInput("module too large".into()))?;
    let blob = module_blobs::ActiveModel {
        sha256: Set(sha256.to_owned()),
        size_bytes: Set(size),
        bytes: Set(bytes),
        created_at: Set(crate::now()),
    };
    module_blobs::Entity::insert(blob)
        .on_conflict_do_nothing()
        .exec(conn)
        .await?;
    Ok(())
}

pub async fn get<C: ConnectionTrait>(conn: &C, id: i64) -> Result<Option<apps::Model>, StoreError> {
    Ok(apps::Entity::find_by_id(id).one(conn).await?)
}

pub async fn find_by_name<C: ConnectionTrait>(
    conn: &C,
    order_id: i64,
    name: &str,
) -> Result<Option<apps::Model>, StoreError> {
    Ok(apps::Entity::find()
        .filter(apps::Column::OrderId.eq(order_id))
        .filter(apps::Column::Name.eq(name))
        .one(conn)
        .await?)
}

pub async fn create<C: ConnectionTrait>(
    conn: &C,
    order_id: i64,
    isv_org_id: i64,
    name: &str,
) -> Result<apps::Model, StoreError> {
    let now = crate::now();
    apps::ActiveModel {
        order_id: Set(order_id),
        isv_org_id: Set(isv_org_id),
        name: Set(name.to_owned()),
        status: Set("active".to_owned()),
        status_reason: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        suspended_at: Set(None),
        ..Default::default()
    }
    .insert(conn)
    .await
    .map_err(|e| StoreError::from_insert(e, &[("name", "app name")]))
}

/// The apps of an ISV organisation, or of an order, newest first.
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    isv_org_id: Option<i64>,
    order_id: Option<i64>,
) -> Result<Vec<apps::Model>, StoreError> {
    let mut q = apps::Entity::find();
    if let Some(org) = isv_org_id {
        q = q.filter(apps::Column::IsvOrgId.eq(org));
    }
    if let Some(order) = order_id {
        q = q.filter(apps::Column::OrderId.eq(order));
    }
    Ok(q.order_by_desc(apps::Column::Id).all(conn).await?)
}

/// A new version, numbered after the app's last one.
#[derive(Debug, Clone)]
pub struct NewVersion {
    pub app_id: i64,
    pub sha256: String,
    pub size_bytes: i64,
    pub release_notes: String,
    pub status: domain::VersionStatus,
    pub status_reason: Option<String>,
    pub uploaded_by: i64,
}

pub async fn add_version<C: ConnectionTrait>(
    conn: &C,
    new: NewVersion,
) -> Result<versions::Model, StoreError> {
    let last: Option<i32> = versions::Entity::find()
        .select_only()
        .column_as(versions::Column::Number.max(), "n")
        .filter(versions::Column::AppId.eq(new.app_id))
        .into_tuple::<Option<i32>>()
        .one(conn)
        .await?
        .flatten();
    versions::ActiveModel {
        app_id: Set(new.app_id),
        number: Set(last.unwrap_or(0) + 1),
        sha256: Set(new.sha256),
        size_bytes: Set(new.size_bytes),
        release_notes: Set(new.release_notes),
        status: Set(new.status.as_str().to_owned()),
        test_score_bp: Set(None),
        uploaded_by: Set(Some(new.uploaded_by)),
        created_at: Set(crate::now()),
        published_at: Set(None),
        superseded_at: Set(None),
        withdrawn_at: Set(None),
        suspended_at: Set(None),
        status_reason: Set(new.status_reason),
        ..Default::default()
    }
    .insert(conn)
    .await
    .map_err(|e| StoreError::from_insert(e, &[("number", "version number")]))
}

pub async fn version<C: ConnectionTrait>(
    conn: &C,
    id: i64,
) -> Result<Option<versions::Model>, StoreError> {
    Ok(versions::Entity::find_by_id(id).one(conn).await?)
}

/// An app's versions, newest first.
pub async fn versions_of<C: ConnectionTrait>(
    conn: &C,
    app_id: i64,
) -> Result<Vec<versions::Model>, StoreError> {
    Ok(versions::Entity::find()
        .filter(versions::Column::AppId.eq(app_id))
        .order_by_desc(versions::Column::Number)
        .all(conn)
        .await?)
}

/// The published versions of an order's apps.
pub async fn published_versions_of_order<C: ConnectionTrait>(
    conn: &C,
    order_id: i64,
) -> Result<Vec<versions::Model>, StoreError> {
    versions_of_order_in(conn, order_id, &[domain::VersionStatus::Published]).await
}

/// The versions of an order's apps in any of `statuses` (a regression
/// re-tests the `passed` and `published` ones).
pub async fn versions_of_order_in<C: ConnectionTrait>(
    conn: &C,
    order_id: i64,
    statuses: &[domain::VersionStatus],
) -> Result<Vec<versions::Model>, StoreError> {
    let app_ids: Vec<i64> = apps::Entity::find()
        .select_only()
        .column(apps::Column::Id)
        .filter(apps::Column::OrderId.eq(order_id))
        .into_tuple()
        .all(conn)
        .await?;
    if app_ids.is_empty() {
        return Ok(vec![]);
    }
    Ok(versions::Entity::find()
        .filter(versions::Column::AppId.is_in(app_ids))
        .filter(versions::Column::Status.is_in(statuses.iter().map(|s| s.as_str())))
        .order_by_asc(versions::Column::Id)
        .all(conn)
        .await?)
}

/// Moves a version from `from` to `to` only if it still is in `from`
/// (a compare-and-set, so two racing changes cannot both apply); stamps
/// the instant that goes with the new status. `Conflict` when it moved meanwhile.
pub async fn set_version_status<C: ConnectionTrait>(
    conn: &C,
    id: i64,
    from: domain::VersionStatus,
    to: domain::VersionStatus,
    reason: Option<String>,
) -> Result<(), StoreError> {
    use domain::VersionStatus as V;
    use sea_orm::sea_query::Expr;
    let now = crate::now();
    let mut update = versions::Entity::update_many()
        .filter(versions::Column::Id.eq(id))
        .filter(versions::Column::Status.eq(from.as_str()))
        .col_expr(versions::Column::Status, Expr::value(to.as_str()));
    if reason.is_some() {
        update = update.col_expr(versions::Column::StatusReason, Expr::value(reason));
    }
    let stamp = match to {
        V::Published => Some(versions::Column::PublishedAt),
        V::Superseded => Some(versions::Column::SupersededAt),
        V::Withdrawn => Some(versions::Column::WithdrawnAt),
        V::Suspended => Some(versions::Column::SuspendedAt),
        _ => None,
    };
    if let Some(col) = stamp {
        update = update.col_expr(col, Expr::value(now));
    }
    let result = update.exec(conn).await.map_err(|e| {
        StoreError::from_insert(e, &[("published", "published version of the app")])
    })?;
    if result.rows_affected == 0 {
        return Err(StoreError::Conflict {
            what: "version status",
        });
    }
    Ok(())
}

pub async fn set_version_score<C: ConnectionTrait>(
    conn: &C,
    id: i64,
    score_bp: i32,
) -> Result<(), StoreError> {
    use sea_orm::sea_query::Expr;
    versions::Entity::update_many()
        .filter(versions::Column::Id.eq(id))
        .col_expr(versions::Column::TestScoreBp, Expr::value(score_bp))
        .exec(conn)
        .await?;
    Ok(())
}

pub async fn set_app_status<C: ConnectionTrait>(
    conn: &C,
    app: apps::Model,
    status: &str,
    reason: Option<String>,
) -> Result<apps::Model, StoreError> {
    let mut active: apps::ActiveModel = app.into();
    active.status = Set(status.to_owned());
    active.status_reason = Set(reason);
    active.updated_at = Set(crate::now());
    Ok(active.update(conn).await?)
}

/// The sha256 of a version's module.
pub async fn module_sha256<C: ConnectionTrait>(
    conn: &C,
    version_id: i64,
) -> Result<Option<String>, StoreError> {
    Ok(versions::Entity::find_by_id(version_id)
        .select_only()
        .column(versions::Column::Sha256)
        .into_tuple()
        .one(conn)
        .await?)
}

/// A stored module by its sha256.
pub async fn blob<C: ConnectionTrait>(
    conn: &C,
    sha256: &str,
) -> Result<Option<module_blobs::Model>, StoreError> {
    Ok(module_blobs::Entity::find_by_id(sha256.to_owned())
        .one(conn)
        .await?)
}

/// Whether anything outside the app's own versions and test runs refers to
/// it: invocations, ratings, complaints or settlement lines. Such an app
/// has been on the market and is kept for the record.
pub async fn has_history<C: ConnectionTrait>(conn: &C, app_id: i64) -> Result<bool, StoreError> {
    use crate::entity::{complaints, invocations, ratings};
    use crate::settlements::line as settlement_lines;
    use sea_orm::PaginatorTrait;
    Ok(invocations::Entity::find()
        .filter(invocations::Column::AppId.eq(app_id))
        .count(conn)
        .await?
        > 0
        || ratings::Entity::find()
            .filter(ratings::Column::AppId.eq(app_id))
            .count(conn)
            .await?
            > 0
        || complaints::Entity::find()
            .filter(complaints::Column::AppId.eq(app_id))
            .count(conn)
            .await?
            > 0
        || settlement_lines::Entity::find()
            .filter(settlement_lines::Column::AppId.eq(app_id))
            .count(conn)
            .await?
            > 0)
}

/// Deletes an app with its versions, their test runs and case results, and
/// the modules no other version uses. The caller checks that the app was
/// never published and has no run in flight.
pub async fn delete_unpublished<C: ConnectionTrait>(
    conn: &C,
    app_id: i64,
) -> Result<(), StoreError> {
    use crate::entity::{case_results, test_runs};
    let versions = versions_of(conn, app_id).await?;
    let version_ids: Vec<i64> = versions.iter().map(|v| v.id).collect();
    if !version_ids.is_empty() {
        let run_ids: Vec<i64> = test_runs::Entity::find()
            .select_only()
            .column(test_runs::Column::Id)
            .filter(test_runs::Column::VersionId.is_in(version_ids.clone()))
            .into_tuple()
            .all(conn)
            .await?;
        if !run_ids.is_empty() {
            case_results::Entity::delete_many()
                .filter(case_results::Column::TestRunId.is_in(run_ids))
                .exec(conn)
                .await?;
        }
        test_runs::Entity::delete_many()
            .filter(test_runs::Column::VersionId.is_in(version_ids.clone()))
            .exec(conn)
            .await?;
        versions::Entity::delete_many()
            .filter(versions::Column::AppId.eq(app_id))
            .exec(conn)
            .await?;
    }
    apps::Entity::delete_by_id(app_id).exec(conn).await?;
    let mut shas: Vec<String> = versions.into_iter().map(|v| v.sha256).collect();
    shas.sort();
    shas.dedup();
    for sha in shas {
        let still_used = versions::Entity::find()
            .filter(versions::Column::Sha256.eq(sha.clone()))
            .one(conn)
            .await?
            .is_some();
        if !still_used {
            module_blobs::Entity::delete_by_id(sha).exec(conn).await?;
        }
    }
    Ok(())
}
