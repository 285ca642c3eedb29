//! An order's life: a draft is published (its contract freezes), an open
//! order is closed, a draft or open order is cancelled.

use std::collections::HashSet;

use domain::{OrderStatus, Role};
use store::entity::orders;

use super::{owned_order, status_of};
use crate::actor::Actor;
use crate::error::{Msg, ServiceError, ServiceResult};
use crate::services::Services;

/// Publish (`to` = open), close or cancel an order of the actor's
/// department. Publishing needs test cases and every granted dataset.
pub async fn move_order(
    services: &Services,
    actor: &Actor,
    id: i64,
    to: OrderStatus,
) -> ServiceResult<orders::Model> {
    actor.require(&[Role::Department])?;
    let txn = services.db.begin_write().await?;
    let order = owned_order(&txn, actor, id).await?;
    let from = status_of(&order)?;
    from.move_to(to)?;
    if to == OrderStatus::Open {
        let cases = store::orders::cases(&txn, id).await?;
        if cases.is_empty() {
            return Err(ServiceError::unprocessable(
                "order_incomplete",
                Msg::new("err.order.no_cases"),
            ));
        }
        let contract = crate::appdata::contract_of(&order)?;
        let present: HashSet<String> = store::datasets::list(&txn, id)
            .await?
            .into_iter()
            .map(|d| d.name)
            .collect();
        let missing: Vec<&str> = contract
            .dataset_names()
            .filter(|d| !present.contains(*d))
            .collect();
        if !missing.is_empty() {
            return Err(ServiceError::unprocessable(
                "order_incomplete",
                Msg::new("err.order.datasets_missing").arg("names", missing.join(", ")),
            ));
        }
    }
    let now = store::now();
    let mut active: orders::ActiveModel = order.into();
    use sea_orm::ActiveValue::Set;
    active.status = Set(to.as_str().to_owned());
    active.updated_at = Set(now);
    match to {
        OrderStatus::Open => active.published_at = Set(Some(now)),
        OrderStatus::Closed | OrderStatus::Cancelled => active.closed_at = Set(Some(now)),
        OrderStatus::Draft => {}
    }
    let order = sea_orm::ActiveModelTrait::update(active, &txn).await?;
    let (action, verb) = match to {
        OrderStatus::Open => ("order.publish", "发布"),
        OrderStatus::Closed => ("order.close", "关闭"),
        _ => ("order.cancel", "取消"),
    };
    store::audit::append(
        &txn,
        actor.audit(
            action,
            "order",
            order.id,
            format!("{verb}需求订单《{}》", order.title),
        ),
    )
    .await?;
    txn.commit().await?;
    // Opening puts the order in search; closing or cancelling takes it and
    // (for cancel) its listings out.
    crate::search_index::index_order(services, order.id).await;
    for app in store::apps::list(services.db.conn(), None, Some(order.id)).await? {
        crate::search_index::index_app(services, app.id).await;
    }
    Ok(order)
}
