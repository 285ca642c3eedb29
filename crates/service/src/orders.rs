//! Requirement orders: who owns one, and (as the orders area moves here)
//! drafting, publishing, datasets and suites.

use domain::Role;
use store::entity::orders;

use crate::actor::Actor;
use crate::error::{ServiceError, ServiceResult, Thing};

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
