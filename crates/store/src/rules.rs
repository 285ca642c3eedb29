//! An order's rules document (Markdown), one per order.

use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::StoreError;
use crate::entity::order_rules;

/// The order's rules document, if its department wrote one.
pub async fn get<C: ConnectionTrait>(
    conn: &C,
    order_id: i64,
) -> Result<Option<order_rules::Model>, StoreError> {
    Ok(order_rules::Entity::find()
        .filter(order_rules::Column::OrderId.eq(order_id))
        .one(conn)
        .await?)
}

/// Writes (or replaces) the order's rules document.
pub async fn put<C: ConnectionTrait>(
    conn: &C,
    order_id: i64,
    markdown: &str,
    updated_by: Option<i64>,
) -> Result<(), StoreError> {
    let row = order_rules::ActiveModel {
        order_id: Set(order_id),
        markdown: Set(markdown.to_owned()),
        updated_by: Set(updated_by),
        updated_at: Set(crate::now()),
        ..Default::default()
    };
    order_rules::Entity::insert(row)
        .on_conflict(
            sea_orm::sea_query::OnConflict::column(order_rules::Column::OrderId)
                .update_columns([
                    order_rules::Column::Markdown,
                    order_rules::Column::UpdatedBy,
                    order_rules::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec(conn)
        .await?;
    Ok(())
}
