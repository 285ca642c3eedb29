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
pub mod drafts;
pub mod kit;
pub mod lifecycle;
pub mod queries;
pub mod rules;
pub mod skeleton;

pub use cases::{CaseInput, SuiteInput, SuitePut, SuiteView, put_suite, suite_for};
pub use datasets::{MAX_DATASET_BYTES, parse_dataset, put_dataset};
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
