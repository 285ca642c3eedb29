//! The signed-in user's notifications: their own and their organisation's
//! (a version delisted by a regression run, a question answered).

use chrono::{DateTime, Utc};
use domain::Role;
use serde::Serialize;
use utoipa::ToSchema;

use crate::actor::Actor;
use crate::error::{ServiceError, ServiceResult, Thing};
use crate::services::Services;

const MAX_LIMIT: u64 = 200;

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationView {
    pub id: i64,
    /// e.g. `version.delisted`, `question.answered`.
    pub kind: String,
    pub body: String,
    /// A page of this site about it, e.g. `/isv/versions/7`.
    pub link: Option<String>,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationList {
    pub items: Vec<NotificationView>,
    pub unread: u64,
}

impl From<store::entity::notifications::Model> for NotificationView {
    fn from(n: store::entity::notifications::Model) -> Self {
        NotificationView {
            id: n.id,
            kind: n.kind,
            body: n.body,
            link: n.link,
            created_at: n.created_at,
            read_at: n.read_at,
        }
    }
}

/// The actor's newest notifications (at most `limit`, itself at most 200),
/// and how many are unread.
pub async fn list(
    services: &Services,
    actor: &Actor,
    limit: u64,
) -> ServiceResult<NotificationList> {
    let u = actor.require(&Role::ALL)?;
    let conn = services.db.conn();
    let limit = limit.clamp(1, MAX_LIMIT);
    let items = store::notifications::list_for(conn, u.id, u.org_id, limit).await?;
    let unread = store::notifications::unread_count(conn, u.id, u.org_id).await?;
    Ok(NotificationList {
        items: items.into_iter().map(Into::into).collect(),
        unread,
    })
}

/// Marks one of the actor's notifications read; another's is not found.
pub async fn mark_read(services: &Services, actor: &Actor, id: i64) -> ServiceResult<()> {
    let u = actor.require(&Role::ALL)?;
    if store::notifications::mark_read(services.db.conn(), id, u.id, u.org_id).await? {
        Ok(())
    } else {
        Err(ServiceError::NotFound(Thing::Notification))
    }
}
