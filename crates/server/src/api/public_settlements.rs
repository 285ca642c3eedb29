//! Approved settlements, public without sign-in: apps, amounts, ranks and
//! the parameters they were computed with (`service::settlement::public`).
//! Drafts are never shown.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use service::settlement::public::{self, PublicRunDetail, PublicRunList};

use super::{ApiPath, ApiQuery, PageQuery};
use crate::error::{ApiResult, ErrorBody};
use crate::state::AppState;

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(public_runs, public_run),
    tags((name = "public", description = "Public transparency pages' data"))
)]
pub struct PublicSettlementsApi;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/public/settlements", get(public_runs))
        .route("/public/settlements/{id}", get(public_run))
}

/// Approved settlement runs, newest first (public).
#[utoipa::path(get, path = "/api/v1/public/settlements", tag = "public",
    params(PageQuery),
    responses((status = 200, body = PublicRunList)))]
pub async fn public_runs(
    State(state): State<AppState>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> ApiResult<Json<PublicRunList>> {
    let limit = page.limit.unwrap_or(50);
    Ok(Json(public::runs(&state, page.cursor, limit).await?))
}

/// One approved run with every app's amount, rank and explanation (public).
#[utoipa::path(get, path = "/api/v1/public/settlements/{id}", tag = "public",
    params(("id" = i64, Path)),
    responses((status = 200, body = PublicRunDetail), (status = 404, body = ErrorBody)))]
pub async fn public_run(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<PublicRunDetail>> {
    Ok(Json(public::run(&state, id).await?))
}
