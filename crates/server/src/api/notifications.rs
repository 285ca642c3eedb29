//! The signed-in user's notifications: their own and their organisation's
//! (a version delisted by a regression run, a question answered).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::{ApiPath, ApiQuery, PageQuery};
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(list, mark_read),
    tags((name = "notifications", description = "What the platform tells you about your own things"))
)]
pub struct NotificationsApi;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/notifications", get(list))
        .route("/notifications/{id}/read", post(mark_read))
}

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

/// The newest notifications of `who`, and how many are unread.
pub async fn notifications_of(
    state: &AppState,
    who: &CurrentUser,
    limit: u64,
) -> ApiResult<NotificationList> {
    let u = &who.user;
    let items = store::notifications::list_for(state.db.conn(), u.id, u.org_id, limit).await?;
    let unread = store::notifications::unread_count(state.db.conn(), u.id, u.org_id).await?;
    Ok(NotificationList {
        items: items.into_iter().map(Into::into).collect(),
        unread,
    })
}

/// Your notifications, newest first (any signed-in user).
#[utoipa::path(get, path = "/api/v1/notifications", tag = "notifications",
    params(PageQuery), security(("bearer" = [])),
    responses((status = 200, body = NotificationList), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    who: CurrentUser,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> ApiResult<Json<NotificationList>> {
    let limit = page.limit.unwrap_or(50).clamp(1, 200);
    Ok(Json(notifications_of(&state, &who, limit).await?))
}

/// Marks one of your notifications read.
#[utoipa::path(post, path = "/api/v1/notifications/{id}/read", tag = "notifications",
    security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn mark_read(
    State(state): State<AppState>,
    who: CurrentUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    let u = &who.user;
    if store::notifications::mark_read(state.db.conn(), id, u.id, u.org_id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("通知 / notification"))
    }
}
