//! The signed-in user's notifications: their own and their organisation's
//! (a version delisted by a regression run, a question answered).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use service::notifications::{self, NotificationView};
use utoipa::{IntoParams, ToSchema};

use super::{ApiPath, ApiQuery};
use crate::auth::CurrentUser;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::RequestId;
use crate::state::AppState;

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(list, mark_read),
    components(schemas(NotificationPage)),
    tags((name = "notifications", description = "What the platform tells you about your own things"))
)]
pub struct NotificationsApi;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/notifications", get(list))
        .route("/notifications/{id}/read", post(mark_read))
}

/// The newest notifications: a single page (`next` is null; older ones
/// beyond `limit` are not paged).
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationPage {
    pub items: Vec<NotificationView>,
    /// How many of yours are unread, on this page or not.
    pub unread: u64,
    pub next: Option<i64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NotificationsQuery {
    /// At most 200; default 50.
    pub limit: Option<u64>,
}

/// Your notifications, newest first (any signed-in user).
#[utoipa::path(get, path = "/api/v1/notifications", tag = "notifications",
    params(NotificationsQuery), security(("bearer" = [])),
    responses((status = 200, body = NotificationPage), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    who: CurrentUser,
    request_id: RequestId,
    ApiQuery(query): ApiQuery<NotificationsQuery>,
) -> ApiResult<Json<NotificationPage>> {
    let actor = who.actor(&request_id);
    let limit = query.limit.unwrap_or(50);
    let list = notifications::list(&state, &actor, limit).await?;
    Ok(Json(NotificationPage {
        items: list.items,
        unread: list.unread,
        next: None,
    }))
}

/// Marks one of your notifications read.
#[utoipa::path(post, path = "/api/v1/notifications/{id}/read", tag = "notifications",
    security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn mark_read(
    State(state): State<AppState>,
    who: CurrentUser,
    request_id: RequestId,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    notifications::mark_read(&state, &who.actor(&request_id), id).await?;
    Ok(StatusCode::NO_CONTENT)
}
