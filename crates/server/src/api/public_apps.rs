//! An app's public statistics and reviews: open to everyone, no login.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};

use super::{ApiPath, ApiQuery, PageQuery};
use crate::error::{ApiResult, ErrorBody};
use crate::state::AppState;
use service::market::{PublicApp, public_app as load};

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(public_app),
    tags((name = "market", description = "Published apps, compared; search; public statistics"))
)]
pub struct PublicAppsApi;

pub fn router() -> Router<AppState> {
    Router::new().route("/public/apps/{id}", get(public_app))
}

/// An app's public statistics and reviews (public).
#[utoipa::path(get, path = "/api/v1/public/apps/{id}", tag = "market",
    params(("id" = i64, Path, description = "app id"), PageQuery),
    responses((status = 200, body = PublicApp), (status = 404, body = ErrorBody)))]
pub async fn public_app(
    State(state): State<AppState>,
    ApiPath(app_id): ApiPath<i64>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> ApiResult<Json<PublicApp>> {
    Ok(Json(load(&state, app_id, page.cursor, page.limit).await?))
}
