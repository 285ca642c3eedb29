//! The signed-in user's notifications: their own and their organisation's
//! (a version delisted by a regression run, a question answered).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use service::notifications::{self, NotificationList};

use super::{ApiPath, ApiQuery, PageQuery};
use crate::auth::CurrentUser;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::RequestId;
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

/// Your notifications, newest first (any signed-in user).
#[utoipa::path(get, path = "/api/v1/notifications", tag = "notifications",
    params(PageQuery), security(("bearer" = [])),
    responses((status = 200, body = NotificationList), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    who: CurrentUser,
    request_id: RequestId,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> ApiResult<Json<NotificationList>> {
    let actor = who.actor(&request_id);
    let limit = page.limit.unwrap_or(50);
    Ok(Json(notifications::list(&state, &actor, limit).await?))
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
