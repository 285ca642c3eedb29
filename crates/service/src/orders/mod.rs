//! Requirement orders: who owns one, drafting (`drafts`), publishing,
//! closing and cancelling (`lifecycle`), datasets (`datasets`), test suites
//! (`cases`), the ISVs' starter kit (`kit`) and what anyone may read of
//! orders (`queries`).

use domain::{OrderStatus, Role};
use store::entity::orders;

use crate::actor::Actor;
use crate::error::{Msg, ServiceError, ServiceResult, Thing};
use crate::services::Services;

pub mod cases;
pub mod datasets;
pub mod desk;
pub mod drafts;
pub mod kit;
pub mod lifecycle;
pub mod queries;
pub mod rules;
pub mod skeleton;

pub use cases::{CaseInput, SuiteInput, SuitePut, SuiteView, put_suite, suite_for};
pub use datasets::{MAX_DATASET_BYTES, parse_dataset, put_dataset};
pub use desk::{DeskApp, DeskApps, DeskVersion, PeriodUsers, desk_apps};
pub use drafts::{ContractInput, CreateOrder, UpdateOrder, check_contract, create, update};
pub use kit::starter_kit_zip;
pub use lifecycle::move_order;
pub use queries::{DatasetView, OrderList, OrderQuery, OrderSummary, OrderView, list, order_view};
pub use rules::{MAX_RULES_CHARS, RulesInput, put_rules};

/// Whether `actor` is a user of the department that posted `order`.
pub fn owns(actor: &Actor, order: &orders::Model) -> bool {
    actor.role() == Some(Role::Department) && actor.org_id() == Some(order.department_org_id)
}

/// The order, locked for update, which must belong to this department
/// user's organisation.
pub async fn owned_order<C: sea_orm::ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    id: i64,
) -> ServiceResult<orders::Model> {
    let order = store::orders::get_for_update(conn, id)
        .await?
        .ok_or(ServiceError::NotFound(Thing::Order))?;
    if !owns(actor, &order) {
        return Err(ServiceError::forbidden("err.order.not_owner"));
    }
    Ok(order)
}

/// The order, if this actor may see it: drafts are their department's alone.
pub async fn visible_order(
    services: &Services,
    actor: &Actor,
    id: i64,
) -> ServiceResult<orders::Model> {
    let order = store::orders::get(services.db.conn(), id)
        .await?
        .ok_or(ServiceError::NotFound(Thing::Order))?;
    if order.is(OrderStatus::Draft) && !owns(actor, &order) {
        return Err(ServiceError::NotFound(Thing::Order));
    }
    Ok(order)
}

/// The order for this department's desk: its own, whatever the status.
/// Another department's draft does not exist as far as the actor can tell
/// (`NotFound`); a published one is public, so saying it is someone else's
/// reveals nothing (`Forbidden`).
pub async fn desk_order(
    services: &Services,
    actor: &Actor,
    id: i64,
) -> ServiceResult<orders::Model> {
    actor.require(&[Role::Department])?;
    match store::orders::get(services.db.conn(), id).await? {
        Some(o) if owns(actor, &o) => Ok(o),
        Some(o) if !o.is(OrderStatus::Draft) => Err(ServiceError::forbidden("err.order.not_owner")),
        _ => Err(ServiceError::NotFound(Thing::Order)),
    }
}

/// The suite of open order `order_id` changed (a case added, a dataset
/// replaced): its revision is bumped and every `passed` and `published`
/// version is queued for a regression run, in the caller's transaction. A
/// version whose run is in flight is not queued again: that run sees the
/// new revision when it finishes and runs again. Returns the runs queued.
pub(crate) async fn retest_after_suite_change<C: sea_orm::ConnectionTrait>(
    conn: &C,
    order_id: i64,
) -> ServiceResult<usize> {
    store::orders::bump_suite_revision(conn, order_id).await?;
    let total = i32::try_from(store::orders::cases(conn, order_id).await?.len())
        .map_err(ServiceError::internal)?;
    let mut queued = 0;
    for v in store::apps::versions_of_order_in(
        conn,
        order_id,
        &[
            domain::VersionStatus::Passed,
            domain::VersionStatus::Published,
        ],
    )
    .await?
    {
        if store::pipeline::any_in_flight(conn, &[v.id]).await? {
            continue;
        }
        store::pipeline::enqueue_run(conn, v.id, "regression", total).await?;
        queued += 1;
    }
    Ok(queued)
}

/// A published order that takes vendors' work. A draft is not found; any
/// status but open is the conflict `order_not_open`, said with `not_open`
/// (uploading and asking explain it differently).
pub async fn open_order<C: sea_orm::ConnectionTrait>(
    conn: &C,
    id: i64,
    not_open: &'static str,
) -> ServiceResult<orders::Model> {
    let order = store::orders::published(conn, id)
        .await?
        .ok_or(ServiceError::NotFound(Thing::Order))?;
    if !order.is(OrderStatus::Open) {
        return Err(ServiceError::conflict("order_not_open", Msg::new(not_open)));
    }
    Ok(order)
}

/// The order's status as the domain knows it.
pub fn status_of(order: &orders::Model) -> ServiceResult<OrderStatus> {
    order
        .status
        .parse()
        .map_err(|e: domain::lifecycle::UnknownStatus| {
            ServiceError::internal(anyhow::anyhow!("order {}: {e}", order.id))
        })
}
