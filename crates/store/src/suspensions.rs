//! Suspensions of apps by a supervisor. The app's `status` says whether it
//! is suspended now; `app_suspensions` keeps every interval, which is what
//! settlement reads (usage inside an interval earns nothing).

use chrono::{DateTime, Utc};
use domain::AppStatus;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder,
};

use crate::StoreError;
use crate::entity::{app_suspensions, apps};

/// Moves the app from `from` to `to` only if it still is in `from` (a
/// compare-and-set: of two racing suspensions one wins, the other gets
/// `Conflict`), stamping `apps.suspended_at` and the reason.
async fn move_app<C: ConnectionTrait>(
    conn: &C,
    app_id: i64,
    from: AppStatus,
    to: AppStatus,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let suspended_at: Option<DateTime<Utc>> = (to == AppStatus::Suspended).then_some(now);
    let result = apps::Entity::update_many()
        .filter(apps::Column::Id.eq(app_id))
        .filter(apps::Column::Status.eq(from.as_str()))
        .col_expr(apps::Column::Status, Expr::value(to.as_str()))
        .col_expr(apps::Column::StatusReason, Expr::value(reason.to_owned()))
        .col_expr(apps::Column::SuspendedAt, Expr::value(suspended_at))
        .col_expr(apps::Column::UpdatedAt, Expr::value(now))
        .exec(conn)
        .await?;
    if result.rows_affected == 0 {
        return Err(StoreError::Conflict { what: "app status" });
    }
    Ok(())
}

/// Suspends an active app: its status becomes `suspended` and a suspension
/// interval opens. `Conflict` if it is not active (already suspended,
/// withdrawn).
pub async fn suspend<C: ConnectionTrait>(
    conn: &C,
    app_id: i64,
    reason: &str,
    by: Option<i64>,
) -> Result<app_suspensions::Model, StoreError> {
    let now = crate::now();
    move_app(
        conn,
        app_id,
        AppStatus::Active,
        AppStatus::Suspended,
        reason,
        now,
    )
    .await?;
    Ok(app_suspensions::ActiveModel {
        app_id: Set(app_id),
        reason: Set(reason.to_owned()),
        suspended_by: Set(by),
        suspended_at: Set(now),
        reinstated_at: Set(None),
        reinstated_by: Set(None),
        reinstate_reason: Set(None),
        ..Default::default()
    }
    .insert(conn)
    .await?)
}

/// Reinstates a suspended app: active again, its open interval closed.
/// `Conflict` if it is not suspended.
pub async fn reinstate<C: ConnectionTrait>(
    conn: &C,
    app_id: i64,
    reason: &str,
    by: Option<i64>,
) -> Result<Option<app_suspensions::Model>, StoreError> {
    let now = crate::now();
    move_app(
        conn,
        app_id,
        AppStatus::Suspended,
        AppStatus::Active,
        reason,
        now,
    )
    .await?;
    let Some(open) = open_suspension(conn, app_id).await? else {
        return Ok(None);
    };
    let mut active: app_suspensions::ActiveModel = open.into();
    active.reinstated_at = Set(Some(now));
    active.reinstated_by = Set(by);
    active.reinstate_reason = Set(Some(reason.to_owned()));
    Ok(Some(active.update(conn).await?))
}

/// The app's suspension that has not ended, if any.
pub async fn open_suspension<C: ConnectionTrait>(
    conn: &C,
    app_id: i64,
) -> Result<Option<app_suspensions::Model>, StoreError> {
    Ok(app_suspensions::Entity::find()
        .filter(app_suspensions::Column::AppId.eq(app_id))
        .filter(app_suspensions::Column::ReinstatedAt.is_null())
        .order_by_desc(app_suspensions::Column::SuspendedAt)
        .one(conn)
        .await?)
}

/// An app's suspensions, newest first.
pub async fn of_app<C: ConnectionTrait>(
    conn: &C,
    app_id: i64,
) -> Result<Vec<app_suspensions::Model>, StoreError> {
    Ok(app_suspensions::Entity::find()
        .filter(app_suspensions::Column::AppId.eq(app_id))
        .order_by_desc(app_suspensions::Column::SuspendedAt)
        .order_by_desc(app_suspensions::Column::Id)
        .all(conn)
        .await?)
}

/// Apps suspended now, most recently suspended first.
pub async fn suspended_apps<C: ConnectionTrait>(conn: &C) -> Result<Vec<apps::Model>, StoreError> {
    Ok(apps::Entity::find()
        .filter(apps::Column::Status.eq(AppStatus::Suspended.as_str()))
        .order_by_desc(apps::Column::SuspendedAt)
        .order_by_desc(apps::Column::Id)
        .all(conn)
        .await?)
}

/// How many apps are suspended now.
pub async fn count_suspended<C: ConnectionTrait>(conn: &C) -> Result<u64, StoreError> {
    Ok(apps::Entity::find()
        .filter(apps::Column::Status.eq(AppStatus::Suspended.as_str()))
        .count(conn)
        .await?)
}

/// Suspension intervals that overlap `[start, end)`: `(app_id, from,
/// until)`, `until` being `None` while the suspension lasts.
pub async fn overlapping<C: ConnectionTrait>(
    conn: &C,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<Vec<(i64, DateTime<Utc>, Option<DateTime<Utc>>)>, StoreError> {
    use sea_orm::Condition;
    let rows = app_suspensions::Entity::find()
        .filter(app_suspensions::Column::SuspendedAt.lt(end))
        .filter(
            Condition::any()
                .add(app_suspensions::Column::ReinstatedAt.is_null())
                .add(app_suspensions::Column::ReinstatedAt.gt(start)),
        )
        .order_by_asc(app_suspensions::Column::AppId)
        .order_by_asc(app_suspensions::Column::SuspendedAt)
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|s| (s.app_id, s.suspended_at, s.reinstated_at))
        .collect())
}
