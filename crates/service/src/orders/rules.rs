//! An order's rules document: what its fields mean, each rule, the edge
//! cases, in Markdown. Written by the order's department at any time
//! before the order is closed (it explains the suite; it changes no
//! verdict), read by everyone who may see the order.

use domain::{OrderStatus, Role};
use serde::Deserialize;
use utoipa::ToSchema;

use super::{OrderView, owned_order, status_of};
use crate::actor::Actor;
use crate::error::{Msg, ServiceError, ServiceResult};
use crate::services::Services;

/// Longest rules document, in characters.
pub const MAX_RULES_CHARS: usize = 20_000;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RulesInput {
    /// The rules document, Markdown (raw HTML in it is not rendered).
    pub markdown: String,
}

/// The order's department writes (or replaces) its rules document.
pub async fn put_rules(
    services: &Services,
    actor: &Actor,
    id: i64,
    input: RulesInput,
) -> ServiceResult<OrderView> {
    let user = actor.require(&[Role::Department])?;
    let markdown = input.markdown.trim();
    let chars = markdown.chars().count();
    if chars > MAX_RULES_CHARS {
        return Err(ServiceError::invalid(
            "markdown",
            Msg::new("err.order.rules_too_long").arg("max", MAX_RULES_CHARS),
        ));
    }
    let txn = services.db.begin_write().await?;
    let order = owned_order(&txn, actor, id).await?;
    if matches!(
        status_of(&order)?,
        OrderStatus::Closed | OrderStatus::Cancelled
    ) {
        return Err(ServiceError::conflict(
            "order_not_editable",
            Msg::new("err.order.not_editable"),
        ));
    }
    store::rules::put(&txn, id, markdown, Some(user.id)).await?;
    store::audit::append(
        &txn,
        actor.audit(
            "order.rules",
            "order",
            id,
            format!("更新订单「{}」的规则说明（{chars} 字）", order.title),
        ),
    )
    .await?;
    txn.commit().await?;
    super::order_view(services, order).await
}
