//! Notifications for an organisation (all its members see them) or for one
//! user. Written in the same transaction as the change they report, so a
//! delisting is never silent.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect,
};

use crate::StoreError;
use crate::entity::notifications;

/// Who receives a notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recipient {
    Org(i64),
    User(i64),
}

pub async fn notify<C: ConnectionTrait>(
    conn: &C,
    to: Recipient,
    kind: &str,
    body: String,
    link: Option<String>,
) -> Result<notifications::Model, StoreError> {
    let (org_id, user_id) = match to {
        Recipient::Org(id) => (Some(id), None),
        Recipient::User(id) => (None, Some(id)),
    };
    Ok(notifications::ActiveModel {
        org_id: Set(org_id),
        user_id: Set(user_id),
        kind: Set(kind.to_owned()),
        body: Set(body),
        link: Set(link),
        created_at: Set(crate::now()),
        read_at: Set(None),
        ..Default::default()
    }
    .insert(conn)
    .await?)
}

/// What a user sees: their own and their organisation's, newest first.
fn for_user(user_id: i64, org_id: Option<i64>) -> Condition {
    let mut c = Condition::any().add(notifications::Column::UserId.eq(user_id));
    if let Some(org) = org_id {
        c = c.add(notifications::Column::OrgId.eq(org));
    }
    c
}

pub async fn list_for<C: ConnectionTrait>(
    conn: &C,
    user_id: i64,
    org_id: Option<i64>,
    limit: u64,
) -> Result<Vec<notifications::Model>, StoreError> {
    Ok(notifications::Entity::find()
        .filter(for_user(user_id, org_id))
        .order_by_desc(notifications::Column::Id)
        .limit(limit)
        .all(conn)
        .await?)
}

pub async fn unread_count<C: ConnectionTrait>(
    conn: &C,
    user_id: i64,
    org_id: Option<i64>,
) -> Result<u64, StoreError> {
    use sea_orm::PaginatorTrait;
    Ok(notifications::Entity::find()
        .filter(for_user(user_id, org_id))
        .filter(notifications::Column::ReadAt.is_null())
        .count(conn)
        .await?)
}

/// Marks one notification read, if the user may see it; `false` when it
/// is not theirs (or does not exist), so callers answer 404 either way.
pub async fn mark_read<C: ConnectionTrait>(
    conn: &C,
    id: i64,
    user_id: i64,
    org_id: Option<i64>,
) -> Result<bool, StoreError> {
    let found = notifications::Entity::find_by_id(id)
        .filter(for_user(user_id, org_id))
        .one(conn)
        .await?;
    let Some(n) = found else {
        return Ok(false);
    };
    if n.read_at.is_none() {
        notifications::Entity::update_many()
            .col_expr(notifications::Column::ReadAt, Expr::value(crate::now()))
            .filter(notifications::Column::Id.eq(id))
            .exec(conn)
            .await?;
    }
    Ok(true)
}
